#!/usr/bin/env bash
# Builds the backend image (default dev.local/d22/backend) from the Dockerfile, offline:
# makes the base image when it is missing, then builds without pulling. Layers are cached,
# so a second build of an unchanged tree takes seconds.
#
#   scripts/build-image.sh [IMAGE]    IMAGE defaults to $IMAGE or dev.local/d22/backend
#
# With a Docker daemon that answers, docker builds and nothing is installed (debootstrap
# only if the base image must be made locally). Otherwise podman builds, and the
# "container" deps group (podman, buildah, runc, debootstrap...) is installed first.
# CONTAINER_ENGINE=docker|podman forces the engine (scripts/lib/container-engine.sh).
# The build stage is kept too, as IMAGE-build-stage: the image itself has no shell or dpkg,
# so the tests ask that stage which Debian package each of the image's files came from.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_DIR
readonly ENGINE="${REPO_DIR}/scripts/lib/container-engine.sh"

# Prints the build flag that forbids pulling: podman takes --pull=never; docker's classic
# builder only pulls when asked (--pull) or when the base is missing, which we rule out.
no_pull_flag() {
	if [[ "$("${ENGINE}" --name)" == podman ]]; then echo --pull=never; fi
}

# Succeeds when the engine that will build is docker; then no podman package is needed.
docker_builds() {
	[[ "$("${ENGINE}" --name 2>/dev/null || true)" == docker ]]
}

# Builds the image, printing how long the build took.
main() {
	case "${1:-}" in
	-h | --help)
		sed -n '2,/^set -euo pipefail/{/^set -euo pipefail/d; s/^# \{0,1\}//; p}' "$0"
		return 0
		;;
	esac
	local image="${1:-${IMAGE:-dev.local/d22/backend}}" started flags=()
	docker_builds || "${REPO_DIR}/scripts/deps.sh" container
	"${REPO_DIR}/scripts/lib/make-base-image.sh"
	read -r -a flags <<<"$(no_pull_flag)"
	started="${SECONDS}"
	"${ENGINE}" build "${flags[@]}" --target build --tag "${image}-build-stage" \
		--file "${REPO_DIR}/Dockerfile" "${REPO_DIR}"
	"${ENGINE}" build "${flags[@]}" --tag "${image}" --file "${REPO_DIR}/Dockerfile" "${REPO_DIR}"
	echo "build-image: built ${image} (and ${image}-build-stage) in $((SECONDS - started)) s" \
		"with $("${ENGINE}" --name)"
}

main "$@"
