#!/usr/bin/env bash
# Prepares the container suites of one test run (tests/run.sh calls it once): checks that a
# container engine exists and builds the backend image, so that every suite after it reuses
# that image. Prints what it did as TAP comment lines.
# Exit status: 0 ready; 3 no container engine at all; 1 the image did not build.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_DIR
readonly LOG="${REPO_DIR}/.cache/image-build.log"
readonly NO_ENGINE=3

# Succeeds when docker (with a daemon) or podman is there.
engine_exists() {
	"${REPO_DIR}/scripts/lib/container-engine.sh" --name >/dev/null 2>&1
}

# Builds the image, keeping the build's output in the log; prints its last lines on failure.
build_image() {
	mkdir -p "$(dirname "${LOG}")"
	if "${REPO_DIR}/scripts/build-image.sh" >"${LOG}" 2>&1; then
		echo "# $(tail -n 1 "${LOG}")"
	else
		echo "# the backend image did not build; last lines of .cache/image-build.log:"
		tail -n 20 "${LOG}" | sed 's/^/#   /'
		return 1
	fi
}

main() {
	if ! engine_exists; then
		echo "# container suites not run: no container engine here (no docker daemon answers," \
			"podman is not installed; as root, scripts/deps.sh container installs podman)"
		exit "${NO_ENGINE}"
	fi
	build_image
}

main "$@"
