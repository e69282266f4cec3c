#!/usr/bin/env bash
# Runs a command as on a Debian 13 (trixie) host: inside a container of
# tests/debian13/Containerfile (the trixie base and what scripts/deps.sh installs there,
# cached as an image layer). tests/run.sh runs the debian13-* suites' bats this way.
#
# The repository is mounted read-only at its own path, so paths mean the same inside.
# The programs are built first, inside, with Debian 13's compiler and libraries, into a
# tmpfs over build/: the suite's APP_DIR=<repo>/build is that build, and the host's tree
# is never written. The container has no network: the suites' servers listen on its own
# loopback, so no port can clash with the host's.
# Usage: tests/in-debian13.sh COMMAND...
# Exit status: the command's; 3 with no container engine; 1 when the image or the build
# failed (the last lines of their output are printed as TAP comments).
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_DIR
readonly ENGINE="${REPO_DIR}/scripts/lib/container-engine.sh"
readonly IMAGE="${DEBIAN13_IMAGE:-localhost/moneybank-test/debian13}"
readonly LOG="${REPO_DIR}/.cache/debian13-image.log"
readonly NO_ENGINE=3

# Prints the last lines of file $1 as TAP comments, after the message $2.
print_tail() {
	echo "# $2; last lines of $1:"
	tail -n 20 "$1" | sed 's/^/#   /'
}

# Builds the test image on the trixie base (made locally when missing); cached layers
# make a rebuild take a second or two.
build_image() {
	local flags=()
	if [[ "$("${ENGINE}" --name)" == podman ]]; then flags=(--pull=never); fi
	mkdir -p "$(dirname "${LOG}")"
	if ! { "${REPO_DIR}/scripts/lib/make-base-image.sh" trixie &&
		"${ENGINE}" build "${flags[@]}" --tag "${IMAGE}" \
			--file "${REPO_DIR}/tests/debian13/Containerfile" "${REPO_DIR}"; } >"${LOG}" 2>&1; then
		print_tail "${LOG}" "the Debian 13 test image did not build"
		return 1
	fi
}

# Runs the command inside, after tests/debian13/build-and-run.sh has built the programs
# there.
run_inside() {
	local -a collection=()
	# The tmpfs needs its mount point in the read-only tree; build/ is git-ignored.
	mkdir -p "${REPO_DIR}/build"
	# The error answers the suite receives are recorded into ERROR_BODIES_DIR
	# (tests/lib/error-bodies.bash), writable at the same path inside.
	if [[ -n "${ERROR_BODIES_DIR:-}" ]]; then
		mkdir -p "${ERROR_BODIES_DIR}"
		collection=(--volume "${ERROR_BODIES_DIR}:${ERROR_BODIES_DIR}:rw")
	fi
	"${ENGINE}" run --rm --network=none \
		--volume "${REPO_DIR}:${REPO_DIR}:ro" "${collection[@]}" \
		--tmpfs "${REPO_DIR}/build:rw,exec,nosuid,nodev,size=256m" \
		--workdir "${REPO_DIR}" "${IMAGE}" \
		"${REPO_DIR}/tests/debian13/build-and-run.sh" "$@"
}

main() {
	if [[ $# -eq 0 ]]; then
		echo "usage: tests/in-debian13.sh COMMAND..." >&2
		exit 2
	fi
	if ! "${ENGINE}" --name >/dev/null 2>&1; then
		echo "# no container engine: the Debian 13 suites need one (scripts/deps.sh container)"
		exit "${NO_ENGINE}"
	fi
	build_image
	run_inside "$@"
}

main "$@"
