#!/usr/bin/env bash
# Proves on the running minikube deployment that deposits survive pods:
# deposits 5 bitcoins, notes the total, deletes a backend pod, then the Redis
# pod, and checks after each that the total is unchanged. Exits 0 on success.
#
#   scripts/persistence-proof.sh [HOST]     HOST defaults to bitcoin.<minikube ip>.nip.io
#
# Run scripts/minikube-up.sh first. The requests go through the Ingress over
# HTTPS, checked against the certificate gen-cert.sh wrote: SECRETS_DIR/tls.crt
# (default k8s/secrets/tls.crt).
set -euo pipefail
# shellcheck source=scripts/lib/cli.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib/cli.bash"
[[ "${1:-}" != --help ]] || usage_exit 0 "${BASH_SOURCE[0]}"

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_DIR
readonly NAMESPACE=devops-2025
readonly KUBE_CONTEXT=minikube
readonly CACERT="${SECRETS_DIR:-$REPO_DIR/k8s/secrets}/tls.crt"

HOST=""
IP=""

# Runs kubectl against the deployment's context and namespace.
kube() {
	kubectl --context "$KUBE_CONTEXT" -n "$NAMESPACE" "$@"
}

# Runs curl against the API over HTTPS through the Ingress; more args follow.
api() {
	curl -sS --fail --max-time 5 --cacert "$CACERT" --resolve "$HOST:443:$IP" "$@"
}

# Prints the total, retrying for up to two minutes while pods come back:
# while Redis restarts the backends stay ready (their probes ask /livez, which
# does not reach Redis) and answer their own JSON 503, which curl --fail
# turns into a retry.
read_total() {
	local attempt
	for attempt in $(seq 60); do
		if api "https://$HOST/v1/bitcoins" 2>/dev/null; then
			return 0
		fi
		sleep 2
	done
	echo "persistence-proof: no total after $attempt tries" >&2
	return 1
}

# Fails unless the total now equals $1; $2 says what just happened.
expect_total() {
	local expected="$1" event="$2" actual
	actual="$(read_total)"
	if [[ "$actual" != "$expected" ]]; then
		echo "FAIL: after $event the total is $actual, expected $expected" >&2
		exit 1
	fi
	echo "ok: after $event the total is still $actual"
}

# Waits until every pod with label app.kubernetes.io/name=$1 is Ready. Retries,
# because a replacement pod may not exist yet right after a deletion.
wait_ready() {
	local name="$1" attempt
	for attempt in $(seq 60); do
		if kube wait --for=condition=Ready pod -l "app.kubernetes.io/name=$name" \
			--timeout=5s >/dev/null 2>&1; then
			return 0
		fi
		sleep 1
	done
	echo "persistence-proof: $name pods not ready after $attempt tries" >&2
	return 1
}

# Deletes one pod with label app.kubernetes.io/name=$1 and waits until the
# pods with that label are ready again.
delete_pod_and_wait() {
	local name="$1" pod
	pod="$(kube get pods -l "app.kubernetes.io/name=$name" -o name | head -n 1)"
	if [[ -z "$pod" ]]; then
		echo "persistence-proof: no $name pod found" >&2
		exit 1
	fi
	echo "deleting $pod"
	kube delete "$pod" --wait=true
	wait_ready "$name"
}

main() {
	IP="$(minikube ip)"
	HOST="${1:-bitcoin.$IP.nip.io}"
	local total
	api -X POST -d '' "https://$HOST/v1/bitcoins?bitcoins=5" >/dev/null
	total="$(read_total)"
	echo "deposited 5 bitcoins; the total is $total"
	delete_pod_and_wait backend
	expect_total "$total" "deleting a backend pod"
	delete_pod_and_wait redis
	wait_ready backend
	expect_total "$total" "deleting the Redis pod"
	echo "PASS: the total $total survived both"
}

main "$@"
