#!/usr/bin/env bash
# Writes a kustomize overlay of k8s/ whose Ingress answers for another host,
# e.g. bitcoin.<minikube ip>.nip.io when minikube's IP is not the committed
# default (192.168.49.2, minikube's docker driver).
#
#   scripts/lib/ingress-host-overlay.sh HOST [DIR]
#
# DIR defaults to the git-ignored k8s-local/, which skaffold renders with
# `skaffold run -p minikube-ip`. The overlay sets the host in the Ingress rule
# and in its TLS section; everything else is k8s/ unchanged.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly REPO_DIR

# Succeeds when $1 is a plausible DNS name (letters, digits, dots, hyphens).
valid_host() {
	[[ "$1" =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]]
}

# Prints the overlay's kustomization.yaml for host $1, with k8s/ at path $2.
overlay_kustomization() {
	local host="$1" base="$2"
	cat <<EOF
# Written by scripts/lib/ingress-host-overlay.sh; do not edit. Rewrite with:
#   scripts/lib/ingress-host-overlay.sh $host
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $base
patches:
  - target:
      group: networking.k8s.io
      kind: Ingress
      name: bitcoin
    patch: |-
      - op: replace
        path: /spec/rules/0/host
        value: $host
      - op: replace
        path: /spec/tls/0/hosts/0
        value: $host
EOF
}

main() {
	if [[ $# -lt 1 || $# -gt 2 ]] || ! valid_host "$1"; then
		echo "usage: scripts/lib/ingress-host-overlay.sh HOST [DIR]" >&2
		exit 2
	fi
	local host="$1" dir="${2:-$REPO_DIR/k8s-local}" base
	mkdir -p "$dir"
	base="$(realpath --relative-to="$dir" "$REPO_DIR/k8s")"
	overlay_kustomization "$host" "$base" >"$dir/kustomization.yaml"
	echo "ingress-host-overlay: $dir renders k8s/ for host $host" >&2
}

main "$@"
