#!/usr/bin/env bash
# `make sbom`: copies the SBOM the backend image ships (CycloneDX 1.5 JSON, written in its
# build stage by scripts/lib/sbom.sh) out of the image, without running anything in it: a
# container is created, never started, the file copied out, the container removed.
# Usage: scripts/sbom-from-image.sh [OUTPUT]   (default build/sbom.cdx.json; the image is
# $IMAGE or dev.local/d22/backend)
set -euo pipefail
# shellcheck source=scripts/lib/cli.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib/cli.bash"
[[ "${1:-}" != --help ]] || usage_exit 0 "${BASH_SOURCE[0]}"

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_DIR
readonly ENGINE="${REPO_DIR}/scripts/lib/container-engine.sh"
readonly IMAGE="${IMAGE:-dev.local/d22/backend}"
readonly SBOM_IN_IMAGE=/usr/share/sbom/backend.cdx.json

main() {
	local output="${1:-${REPO_DIR}/build/sbom.cdx.json}" id status=0
	mkdir -p "$(dirname "${output}")"
	id="$("${ENGINE}" create "${IMAGE}")"
	"${ENGINE}" cp "${id}:${SBOM_IN_IMAGE}" "${output}" || status=$?
	"${ENGINE}" rm "${id}" >/dev/null
	if ((status != 0)); then
		echo "sbom-from-image: ${IMAGE} has no ${SBOM_IN_IMAGE}; rebuild it with make image" >&2
		return "${status}"
	fi
	echo "sbom-from-image: ${IMAGE}'s SBOM is in ${output}"
}

main "$@"
