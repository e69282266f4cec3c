#!/usr/bin/env bash
# Deletes this clone's local state, after a confirmation (type purge-local,
# or set CONFIRM=purge-local).
#
#   scripts/purge-local.sh    (make purge-local runs it, then make clean)
#
# It deletes
#   data/         make run's and make image-run's Redis data: their balance
#   .cache/       make stack's Redis data and TLS files, the fuzz corpus and
#                 crash inputs, podman's settings, image build logs
#   results/      the figures of make bench and of the fault suites
#   k8s/secrets/  the minikube deployment's Redis password, TLS key and
#                 certificate (a running cluster keeps its Secrets; the next
#                 make k8s-up makes new ones, and clients need the new
#                 certificate)
#   k8s-local/    the Ingress overlay for minikube's IP
# make clean then deletes build/ and the cgi-bin/*.cgi links. It keeps backups/ (Redis backups), tests/node_modules/, and all that is not
# in this clone: installed packages, container images, the cluster. It
# refuses while a process (make run, make stack...) uses one of them.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_DIR
readonly PROGRAM=purge-local
# shellcheck source=scripts/lib/cli.bash
source "$REPO_DIR/scripts/lib/cli.bash"
readonly STATE=(data .cache results k8s/secrets k8s-local)

usage() {
	usage_exit "$1" "${BASH_SOURCE[0]}"
}

# Prints "PID COMMAND" for each process that has a file, or its working
# directory, under one of the directories $@.
processes_using() {
	local link target pid dir
	for link in /proc/[0-9]*/cwd /proc/[0-9]*/fd/*; do
		target="$(readlink "$link" 2>/dev/null)" || continue
		for dir in "$@"; do
			if [[ "$target" == "$dir" || "$target" == "$dir/"* ]]; then
				pid="${link#/proc/}"
				pid="${pid%%/*}"
				echo "$pid $(cat "/proc/$pid/comm" 2>/dev/null)"
			fi
		done
	done | sort -u
}

main() {
	case "${1:-}" in
	"") ;;
	-h | --help) usage 0 ;;
	*) unknown_argument "$1" ;;
	esac
	local name present=() users
	for name in "${STATE[@]}"; do
		[[ ! -e "$REPO_DIR/$name" ]] || present+=("$REPO_DIR/$name")
	done
	if [[ ${#present[@]} -eq 0 ]]; then
		say "no local state to delete (${STATE[*]} are absent)"
		return 0
	fi
	users="$(processes_using "${present[@]}")"
	[[ -z "$users" ]] ||
		die "in use, stop these first (Ctrl-C in make run or make stack):" \
			"$(tr '\n' ';' <<<"$users") Nothing was deleted."
	confirm purge-local "deletes ${present[*]#"$REPO_DIR/"}: the local balances, secrets and results"
	rm -rf "${present[@]}"
	say "deleted ${present[*]#"$REPO_DIR/"}"
}

main "$@"
