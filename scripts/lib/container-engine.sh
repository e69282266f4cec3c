#!/usr/bin/env bash
# The one place that picks and configures the container engine.
#
#   scripts/lib/container-engine.sh ARGS...   runs "<engine> ARGS..."
#   scripts/lib/container-engine.sh --name    prints "docker" or "podman"
#
# docker is used when its daemon answers; otherwise podman, with the settings that rootful
# podman needs on these machines (runc instead of crun, ulimits within the hard limits; see
# ../shared/NOTES.md). CONTAINER_ENGINE=docker|podman overrides the choice.
# Exits 127 with one message when neither engine can be used at all.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly REPO_DIR
readonly CONF_FILE="${REPO_DIR}/.cache/containers/containers.conf"
readonly NO_ENGINE_STATUS=127

# True when a docker CLI is installed and its daemon answers within a few seconds.
docker_daemon_answers() {
	command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1
}

# Prints the engine to use, or fails with a message when there is none.
pick_engine() {
	if [[ -n "${CONTAINER_ENGINE:-}" ]]; then
		echo "${CONTAINER_ENGINE}"
	elif docker_daemon_answers; then
		echo docker
	elif command -v podman >/dev/null 2>&1; then
		echo podman
	else
		echo "no container engine: no docker daemon answers and podman is not installed" \
			"(scripts/deps.sh container installs podman)" >&2
		return "${NO_ENGINE_STATUS}"
	fi
}

# Prints a hard limit as a number; "unlimited" becomes the given fallback.
hard_limit_or() {
	local limit="$1" fallback="$2"
	if [[ "${limit}" == unlimited ]]; then echo "${fallback}"; else echo "${limit}"; fi
}

# Prints the containers.conf podman needs here: containers start with runc, and with
# ulimits that do not exceed this shell's hard limits (podman's defaults do, and setrlimit
# then fails).
podman_conf() {
	local pid_max nofile nproc
	pid_max="$(cat /proc/sys/kernel/pid_max)"
	nofile="$(hard_limit_or "$(ulimit -Hn)" 1048576)"
	nproc="$(hard_limit_or "$(ulimit -Hu)" "${pid_max}")"
	if ((nproc > pid_max)); then nproc="${pid_max}"; fi
	cat <<EOF
# Written by scripts/lib/container-engine.sh; do not edit.
[containers]
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]

[engine]
runtime = "runc"
EOF
}

# Writes the podman settings file when it is missing or out of date (limits can differ
# between shells). Many engine calls run at once, so it is replaced atomically.
write_podman_conf() {
	local wanted temp
	wanted="$(podman_conf)"
	[[ -f "${CONF_FILE}" && "$(cat "${CONF_FILE}")" == "${wanted}" ]] && return 0
	mkdir -p "$(dirname "${CONF_FILE}")"
	temp="$(mktemp "${CONF_FILE}.XXXXXX")"
	printf '%s\n' "${wanted}" >"${temp}"
	chmod 644 "${temp}"
	mv -f "${temp}" "${CONF_FILE}"
}

# Runs the picked engine with the given arguments (or prints its name for --name).
main() {
	local engine
	engine="$(pick_engine)" || exit "${NO_ENGINE_STATUS}"
	if [[ "${1:-}" == --name ]]; then
		echo "${engine}"
		return 0
	fi
	if [[ "${engine}" == podman ]]; then
		write_podman_conf
		export CONTAINERS_CONF="${CONF_FILE}"
	fi
	exec "${engine}" "$@"
}

main "$@"
