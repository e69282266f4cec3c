#!/usr/bin/env bash
# Builds the backend image (default dev.local/d22/backend) from the Dockerfile, offline:
# installs the "container" deps group, makes the base image when it is missing, then builds
# without pulling. Layers are cached, so a second build of an unchanged tree takes seconds.
# The build stage is kept too, as IMAGE-build-stage: the image itself has no shell or dpkg,
# so the tests ask that stage which Debian package each of the image's files came from.
# Usage: scripts/build-image.sh [IMAGE]   (IMAGE defaults to $IMAGE or dev.local/d22/backend)
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_DIR
readonly ENGINE="${REPO_DIR}/scripts/container-engine.sh"

# Prints the build flag that forbids pulling: podman takes --pull=never; docker's classic
# builder only pulls when asked (--pull) or when the base is missing, which we rule out.
no_pull_flag() {
	if [[ "$("${ENGINE}" --name)" == podman ]]; then echo --pull=never; fi
}

# Builds the image, printing how long the build took.
main() {
	local image="${1:-${IMAGE:-dev.local/d22/backend}}" started flags=()
	"${REPO_DIR}/scripts/deps.sh" container
	"${REPO_DIR}/scripts/make-base-image.sh"
	read -r -a flags <<<"$(no_pull_flag)"
	started="${SECONDS}"
	"${ENGINE}" build "${flags[@]}" --target build --tag "${image}-build-stage" \
		--file "${REPO_DIR}/Dockerfile" "${REPO_DIR}"
	"${ENGINE}" build "${flags[@]}" --tag "${image}" --file "${REPO_DIR}/Dockerfile" "${REPO_DIR}"
	echo "build-image: built ${image} (and ${image}-build-stage) in $((SECONDS - started)) s" \
		"with $("${ENGINE}" --name)"
}

main "$@"
