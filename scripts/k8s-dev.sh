#!/usr/bin/env bash
# Runs `skaffold dev -p minikube-ip` on minikube once what it silently
# depends on is there. skaffold dev deploys the k8s-local/ overlay (the
# Ingress for the running minikube's IP) into the namespace devops-2025 and
# needs the Secrets redis-acl, redis-app, redis-probe and bitcoin-tls; it makes
# none of these.
# scripts/minikube-up.sh (make k8s-up) makes them all. This script checks
# them, names each one that is missing or stale, and starts nothing until
# they are all there.
#
#   scripts/k8s-dev.sh [SKAFFOLD_DEV_ARGUMENTS...]    e.g. --cleanup=false
#
# skaffold dev rebuilds and redeploys on every change. Ctrl-C deletes what it
# deployed, never the data, the Secrets or the namespace; --cleanup=false
# keeps the app running after Ctrl-C too.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_DIR
readonly PROGRAM=k8s-dev
# shellcheck source=scripts/lib/cli.bash
source "$REPO_DIR/scripts/lib/cli.bash"
# shellcheck source=scripts/lib/k8s.bash
source "$REPO_DIR/scripts/lib/k8s.bash"
readonly OVERLAY="$REPO_DIR/k8s-local/kustomization.yaml"
readonly SECRETS=(redis-acl redis-app redis-probe bitcoin-tls)

usage() {
	usage_exit "$1" "${BASH_SOURCE[0]}"
}

# Prints the Ingress host the overlay sets (scripts/lib/ingress-host-overlay.sh
# writes it as the value of the patch of /spec/rules/0/host).
overlay_host() {
	awk '/path: \/spec\/rules\/0\/host/ { getline; sub(/^[[:space:]]*value:[[:space:]]*/, ""); print; exit }' \
		"$OVERLAY"
}

# Prints one line for each thing skaffold dev needs that is missing or stale.
missing_prerequisites() {
	local secret host ip
	if namespace_exists; then
		for secret in "${SECRETS[@]}"; do
			kube get secret "$secret" -o name >/dev/null 2>&1 ||
				echo "the Secret $secret in the namespace $NAMESPACE"
		done
	else
		echo "the namespace $NAMESPACE, with the Secrets ${SECRETS[*]}"
	fi
	if [[ ! -f "$OVERLAY" ]]; then
		echo "k8s-local/, the Ingress overlay for minikube's IP"
		return 0
	fi
	host="$(overlay_host)"
	ip="$(minikube -p "$MINIKUBE_PROFILE" ip)"
	if [[ "$host" != "bitcoin.$ip.nip.io" ]]; then
		echo "k8s-local/ is for $host, but minikube's IP is now $ip (the certificate follows the host)"
	fi
}

main() {
	case "${1:-}" in
	-h | --help) usage 0 ;;
	esac
	require_tools minikube kubectl skaffold
	local missing line
	missing="$(missing_prerequisites)"
	if [[ -n "$missing" ]]; then
		echo "$PROGRAM: skaffold dev -p $SKAFFOLD_PROFILE needs what make k8s-up makes, and this is missing:" >&2
		while IFS= read -r line; do echo "  - $line"; done <<<"$missing" >&2
		die "run make k8s-up first (it keeps the data and the Secrets that exist). Nothing was started."
	fi
	say "the namespace, the Secrets and the overlay are in place; starting skaffold dev" \
		"(Ctrl-C deletes the app, never the data)"
	cd "$REPO_DIR"
	exec skaffold dev --profile "$SKAFFOLD_PROFILE" --kube-context "$KUBE_CONTEXT" \
		--namespace "$NAMESPACE" "$@"
}

main "$@"
