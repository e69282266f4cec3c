#!/usr/bin/env bash
# Prints the logs of Money Bank's pods on minikube (context minikube,
# namespace devops-2025): the backends and Redis, each line prefixed with
# its pod and container, e.g. "[pod/backend-7d9f-x2x/backend] ...".
#
#   scripts/k8s-logs.sh [--follow] [--since DURATION]
#
#   --follow          keep printing new lines until Ctrl-C
#   --since DURATION  only lines newer than DURATION (10m, 1h, ...); default all
#
# A backend logs lighttpd's errors and access lines, and one line per
# accepted deposit: "deposit amount=N total=T" (the amount, then the total it
# made). A deposit whose outcome the backend could not learn (Redis did not
# answer in time) logs "deposit amount=N outcome unknown idempotency-key=K".
# Redis logs its start, the AOF it loaded and its rewrites.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_DIR
readonly PROGRAM=k8s-logs
# shellcheck source=scripts/lib/cli.bash
source "$REPO_DIR/scripts/lib/cli.bash"
# shellcheck source=scripts/lib/k8s.bash
source "$REPO_DIR/scripts/lib/k8s.bash"
# Both workloads' pods, by the label each pod template sets.
readonly SELECTOR='app.kubernetes.io/name in (backend,redis)'
# kubectl opens one stream per container and refuses more than this many:
# room for the 3 backends, Redis, and scaling out.
readonly MAX_STREAMS=20

usage() {
	usage_exit "$1" "${BASH_SOURCE[0]}"
}

main() {
	local options=()
	while [[ $# -gt 0 ]]; do
		case "$1" in
		--follow | -f) options+=(--follow) ;;
		--since)
			[[ $# -ge 2 ]] || usage 2
			options+=("--since=$2")
			shift
			;;
		--since=*) options+=("$1") ;;
		-h | --help) usage 0 ;;
		*) unknown_argument "$1" ;;
		esac
		shift
	done
	require_tools kubectl
	require_namespace
	echo "$PROGRAM: logs of the backend and Redis pods in $NAMESPACE on $KUBE_CONTEXT" >&2
	kube logs --selector "$SELECTOR" --all-containers --prefix --tail=-1 \
		--max-log-requests "$MAX_STREAMS" "${options[@]}"
}

main "$@"
