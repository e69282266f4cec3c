#!/usr/bin/env bash
# The whole minikube flow, from nothing to HTTPS curl. Safe to run again: each
# step checks what is already there (and keeps the Redis password, the TLS key
# and the data).
#
#   1. checks the tools;
#   2. starts minikube (with calico, so the NetworkPolicy is enforced) and
#      enables the ingress addon;
#   3. creates the namespace, the Redis password Secret and the certificate;
#   4. runs `skaffold run` for the Ingress host bitcoin.<minikube ip>.nip.io;
#   5. waits for the rollout;
#   6. prints curl commands that deposit 5 bitcoins and read the total.
#
# MINIKUBE_START_ARGS adds arguments to `minikube start` (e.g. "--driver=kvm2").
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_DIR
readonly NAMESPACE=devops-2025
readonly KUBE_CONTEXT=minikube
readonly CACERT="$REPO_DIR/k8s/secrets/tls.crt"
# A fixed run id keeps a second `skaffold run` from rolling pods needlessly.
readonly RUN_ID=money-bank-minikube

# Fails with the list of missing commands.
check_tools() {
	local tool missing=()
	for tool in minikube kubectl skaffold openssl curl; do
		command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
	done
	if [[ ${#missing[@]} -gt 0 ]]; then
		echo "minikube-up: missing tools: ${missing[*]} (see README, Kubernetes (minikube))" >&2
		exit 1
	fi
}

# Starts minikube unless it runs. A new cluster gets calico; an old one keeps
# its CNI, with a warning when the NetworkPolicy cannot take effect.
start_minikube() {
	if minikube status --format '{{.Host}} {{.APIServer}}' 2>/dev/null | grep -q '^Running Running$'; then
		echo "minikube-up: minikube already runs" >&2
	else
		local extra=()
		read -r -a extra <<<"${MINIKUBE_START_ARGS:-}"
		minikube start --cni=calico "${extra[@]}"
	fi
	if ! kubectl --context "$KUBE_CONTEXT" -n kube-system get pods \
		-l k8s-app=calico-node -o name 2>/dev/null | grep -q .; then
		echo "minikube-up: WARNING: this cluster has no calico; the NetworkPolicy" \
			"is not enforced. Recreate it with: minikube delete && scripts/minikube-up.sh" >&2
	fi
}

# Enables the NGINX Ingress addon and waits until its controller is ready, so
# its admission webhook accepts our Ingress.
enable_ingress() {
	minikube addons enable ingress
	kubectl --context "$KUBE_CONTEXT" -n ingress-nginx rollout status \
		deployment/ingress-nginx-controller --timeout=300s
}

# Creates the namespace, the Redis password Secret and the TLS Secret.
create_namespace_and_secrets() {
	local host="$1"
	kubectl --context "$KUBE_CONTEXT" apply -k "$REPO_DIR/k8s/namespace"
	KUBE_CONTEXT="$KUBE_CONTEXT" NAMESPACE="$NAMESPACE" "$REPO_DIR/scripts/gen-redis-secret.sh"
	KUBE_CONTEXT="$KUBE_CONTEXT" NAMESPACE="$NAMESPACE" "$REPO_DIR/scripts/gen-cert.sh" "$host"
}

# Builds the image and deploys k8s/ for the host, then waits for the rollout.
deploy() {
	local host="$1"
	"$REPO_DIR/scripts/ingress-host-overlay.sh" "$host"
	(cd "$REPO_DIR" && skaffold run --profile minikube-ip --kube-context "$KUBE_CONTEXT" \
		--label "skaffold.dev/run-id=$RUN_ID")
	kubectl --context "$KUBE_CONTEXT" -n "$NAMESPACE" rollout status statefulset/redis --timeout=300s
	kubectl --context "$KUBE_CONTEXT" -n "$NAMESPACE" rollout status deployment/backend --timeout=300s
}

# Waits until the API answers over HTTPS through the Ingress (the controller
# needs a few seconds to load a new Ingress). Reads only; deposits nothing.
wait_for_https() {
	local host="$1" ip="$2" attempt
	for attempt in $(seq 60); do
		if curl -sf --max-time 5 --cacert "$CACERT" --resolve "$host:443:$ip" \
			"https://$host/v1/bitcoins" >/dev/null; then
			return 0
		fi
		sleep 2
	done
	echo "minikube-up: https://$host/v1/bitcoins did not answer after $attempt tries" >&2
	return 1
}

# Prints the commands a newcomer runs next.
print_curl_commands() {
	local host="$1" ip="$2" cacert
	cacert="$(realpath --relative-to="$PWD" "$CACERT")"
	cat <<EOF

Money Bank runs at https://$host (TLS by the NGINX Ingress).

Deposit 5 bitcoins (lighttpd needs a Content-Length, hence -d ''), then read the total:
  curl --cacert $cacert -X POST -d '' "https://$host/v1/bitcoins?bitcoins=5" -w '%{http_code}\\n'
  curl --cacert $cacert "https://$host/v1/bitcoins"; echo

Plain HTTP is redirected to HTTPS (308):
  curl -sI "http://$host/v1/bitcoins"

If your DNS does not resolve nip.io, add to each curl: --resolve $host:443:$ip
Proof that the total survives pod deletion: scripts/persistence-proof.sh
EOF
}

main() {
	check_tools
	start_minikube
	enable_ingress
	local ip host
	ip="$(minikube ip)"
	host="bitcoin.$ip.nip.io"
	create_namespace_and_secrets "$host"
	deploy "$host"
	wait_for_https "$host" "$ip"
	print_curl_commands "$host" "$ip"
}

main "$@"
