#!/usr/bin/env bash
# The whole minikube flow, from nothing to HTTPS curl. Safe to run again: each
# step checks what is already there (and keeps the Redis passwords, the TLS key
# and the data).
#
#   1. checks the tools; refuses an existing cluster whose container runtime
#      is not docker; checks that docker works for this user (docker driver)
#      and that the kustomize skaffold will use is recent enough;
#   2. starts minikube with the docker runtime (skaffold builds through
#      `minikube docker-env`) and calico (so the NetworkPolicies are
#      enforced), enables the ingress addon and sets the controller-wide
#      settings of k8s/ingress-controller/config-patch.yaml;
#   3. creates the namespace, the Redis users' Secrets and the certificate;
#   4. runs `skaffold run` for the Ingress host bitcoin.<minikube ip>.nip.io
#      (once more if ingress-nginx's admission webhook was not ready yet);
#   5. waits for the rollout;
#   6. prints curl commands that deposit 5 bitcoins and read the total.
#
# Written for minikube v1.39 (which defaults to containerd), skaffold v2.24
# and kubectl 1.36.
#
# MINIKUBE_START_ARGS adds arguments to `minikube start` (e.g. "--driver=kvm2").
#
# Usage: scripts/minikube-up.sh   (make k8s-up)
set -euo pipefail
# shellcheck source=scripts/lib/cli.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib/cli.bash"
[[ "${1:-}" != --help ]] || usage_exit 0 "${BASH_SOURCE[0]}"

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_DIR
readonly NAMESPACE=devops-2025
readonly KUBE_CONTEXT=minikube
# The minikube profile behind that context (minikube names them alike).
readonly PROFILE=minikube
# Where scripts/lib/gen-cert.sh writes the certificate (SECRETS_DIR, same default).
readonly CACERT="${SECRETS_DIR:-$REPO_DIR/k8s/secrets}/tls.crt"
# A fixed run id keeps a second `skaffold run` from rolling pods needlessly.
readonly RUN_ID=money-bank-minikube
# Where minikube's ingress addon runs the controller, and the ConfigMap it
# reads (--configmap=$(POD_NAMESPACE)/ingress-nginx-controller in minikube's
# deploy/addons/ingress/ingress-deploy.yaml.tmpl).
readonly INGRESS_NAMESPACE=ingress-nginx
readonly INGRESS_CONFIGMAP=ingress-nginx-controller
readonly INGRESS_CONFIG_PATCH="$REPO_DIR/k8s/ingress-controller/config-patch.yaml"
# The admission webhook that checks every Ingress, and its Service.
readonly ADMISSION_WEBHOOK=validate.nginx.ingress.kubernetes.io
readonly ADMISSION_SERVICE=ingress-nginx-controller-admission
# k8s/kustomization.yaml's `labels` with includeTemplates needs kustomize
# v4.5.5 or later; 5 is what the offline suite renders with.
readonly MIN_KUSTOMIZE_MAJOR=5

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

# Prints the profile's cluster settings as minikube stores them (one JSON
# line, from `minikube profile list -o json`), or nothing when there is no
# such cluster.
profile_json() {
	local json
	if ! json="$(minikube profile list -o json 2>/dev/null)"; then
		echo "minikube-up: \`minikube profile list -o json\` failed; is minikube working?" >&2
		exit 1
	fi
	if [[ "$json" == *"\"Config\":{\"Name\":\"$PROFILE\""* ]]; then
		printf '%s\n' "$json"
	fi
}

# Prints the container runtime in the cluster settings $1 ("" for a cluster
# made before 2022, which means docker). It is read from KubernetesConfig,
# where ClusterName comes first, with no nested object before ContainerRuntime.
runtime_of() {
	{ grep -oE "\"ClusterName\":\"$PROFILE\"[^{}]*\"ContainerRuntime\":\"[^\"]*\"" <<<"$1" || true; } |
		head -n 1 | sed -E 's/.*"ContainerRuntime":"([^"]*)"/\1/'
}

# Prints the driver in the cluster settings $1, read from the top of them.
driver_of() {
	{ grep -oE "\"Config\":\{\"Name\":\"$PROFILE\"[^{}]*\"Driver\":\"[^\"]*\"" <<<"$1" || true; } |
		head -n 1 | sed -E 's/.*"Driver":"([^"]*)"/\1/'
}

# Refuses an existing cluster whose container runtime cannot take the build:
# skaffold builds only through `minikube docker-env`, which needs the docker
# runtime (with containerd, minikube v1.39's default, it hands out an ssh://
# DOCKER_HOST that skaffold's Docker client cannot use). minikube would not
# convert the cluster either: it rewrites the runtime in the profile and
# restarts the old node. Nothing is started, deleted or deployed here.
refuse_wrong_runtime() {
	local json runtime
	json="$(profile_json)"
	[[ -n "$json" ]] || return 0
	runtime="$(runtime_of "$json")"
	if [[ -n "$runtime" && "$runtime" != docker ]]; then
		echo "minikube-up: the existing minikube cluster (profile $PROFILE) runs the" \
			"$runtime container runtime; skaffold builds the image through" \
			"\`minikube docker-env\`, which needs the docker runtime. Nothing was changed." \
			"Recreate the cluster (this deletes it and its data):" \
			"minikube delete -p $PROFILE && scripts/minikube-up.sh" >&2
		exit 1
	fi
}

# Prints the driver minikube runs the cluster with: the existing cluster's,
# else --driver (or --vm-driver) in MINIKUBE_START_ARGS, else minikube's
# configured default, else docker (minikube's first choice on Linux).
cluster_driver() {
	local json driver arg args=()
	json="$(profile_json)"
	driver="$(driver_of "$json")"
	read -r -a args <<<"${MINIKUBE_START_ARGS:-}"
	for arg in "${args[@]}"; do
		if [[ -z "$driver" && "$arg" =~ ^--(vm-)?driver=(.+)$ ]]; then
			driver="${BASH_REMATCH[2]}"
		fi
	done
	if [[ -z "$driver" ]]; then
		driver="$(minikube config get driver 2>/dev/null || true)"
	fi
	echo "${driver:-docker}"
}

# With the docker driver the cluster is a container of the host's Docker:
# fails with the fix when this user cannot use it. The check is minikube's
# own (`docker version`, pkg/minikube/registry/drvs/docker/docker.go), whose
# usual failure is a user outside the docker group: "permission denied".
check_docker() {
	local driver output
	driver="$(cluster_driver)"
	[[ "$driver" == docker ]] || return 0
	if ! command -v docker >/dev/null 2>&1; then
		echo "minikube-up: minikube's docker driver needs Docker, and there is no docker" \
			"command (see README, Kubernetes (minikube)); or choose another driver," \
			"e.g. MINIKUBE_START_ARGS=--driver=kvm2" >&2
		exit 1
	fi
	if ! output="$(docker version --format '{{.Server.Version}}' 2>&1)"; then
		echo "minikube-up: docker does not work for user $(id -un): $output" >&2
		if [[ "$output" == *"permission denied"* ]]; then
			echo "minikube-up: add the user to the docker group" \
				"(sudo usermod -aG docker $(id -un)), then log in again; see" \
				"https://docs.docker.com/engine/install/linux-postinstall/" >&2
		fi
		exit 1
	fi
}

# Prints which kustomize skaffold will render k8s/ with, then ": VERSION".
# skaffold takes a standalone `kustomize` whenever one is on the PATH, and
# kubectl's built-in one only otherwise (exec.LookPath("kustomize") in
# skaffold's pkg/skaffold/render/generate/util.go).
kustomize_in_use() {
	local path version
	if path="$(command -v kustomize)"; then
		version="$(kustomize version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1 || true)"
		echo "the kustomize at $path: ${version:-unknown}"
	else
		version="$({ kubectl version --client -o json 2>/dev/null || true; } |
			sed -n 's/.*"kustomizeVersion": *"v\{0,1\}\([^"]*\)".*/\1/p')"
		echo "kubectl's built-in kustomize: ${version:-unknown}"
	fi
}

# Fails when that kustomize is too old for k8s/ (before v4.5.5 it rejects
# `labels` with includeTemplates).
check_kustomize() {
	local found version
	found="$(kustomize_in_use)"
	version="${found##*: }"
	if [[ ! "$version" =~ ^([0-9]+)\. ]] || ((BASH_REMATCH[1] < MIN_KUSTOMIZE_MAJOR)); then
		echo "minikube-up: skaffold would render k8s/ with $found; k8s/ needs" \
			"kustomize $MIN_KUSTOMIZE_MAJOR or later. skaffold prefers a kustomize on the" \
			"PATH to kubectl's: upgrade it, or take it off the PATH" >&2
		exit 1
	fi
}

# Starts minikube unless it runs. A new cluster gets the docker runtime and
# calico; an old one keeps its CNI, with a warning when the NetworkPolicies
# cannot take effect.
start_minikube() {
	if minikube -p "$PROFILE" status --format '{{.Host}} {{.APIServer}}' 2>/dev/null | grep -q '^Running Running$'; then
		echo "minikube-up: minikube already runs" >&2
	else
		local extra=()
		read -r -a extra <<<"${MINIKUBE_START_ARGS:-}"
		minikube -p "$PROFILE" start --container-runtime=docker --cni=calico "${extra[@]}"
	fi
	if ! kubectl --context "$KUBE_CONTEXT" -n kube-system get pods \
		-l k8s-app=calico-node -o name 2>/dev/null | grep -q .; then
		echo "minikube-up: WARNING: this cluster has no calico; the NetworkPolicies" \
			"are not enforced. Recreate it with: minikube delete && scripts/minikube-up.sh" >&2
	fi
}

# Enables the NGINX Ingress addon, sets what its controller takes only from
# its ConfigMap (429 over the limits, TLS 1.2 and 1.3 only, HSTS), and waits
# until the controller and its admission webhook are ready, so the webhook
# accepts our Ingress. minikube re-applies the addon, with its hsts: "false",
# on every start; the merge patch is idempotent and runs every time.
enable_ingress() {
	minikube -p "$PROFILE" addons enable ingress
	configure_ingress_controller
	kubectl --context "$KUBE_CONTEXT" -n "$INGRESS_NAMESPACE" rollout status \
		deployment/ingress-nginx-controller --timeout=300s
	wait_for_admission_webhook
}

# Merges k8s/ingress-controller/config-patch.yaml into the controller's
# ConfigMap; the controller reloads nginx when it changes.
configure_ingress_controller() {
	kubectl --context "$KUBE_CONTEXT" -n "$INGRESS_NAMESPACE" patch configmap \
		"$INGRESS_CONFIGMAP" --type merge --patch-file "$INGRESS_CONFIG_PATCH"
}

# Waits until the Service of ingress-nginx's admission webhook has a ready
# endpoint. Right after a cluster restart the API server can call the
# webhook before the controller serves it, and then refuses every Ingress.
wait_for_admission_webhook() {
	local attempt ready
	for attempt in $(seq 60); do
		ready="$(kubectl --context "$KUBE_CONTEXT" -n "$INGRESS_NAMESPACE" get endpointslices \
			-l "kubernetes.io/service-name=$ADMISSION_SERVICE" \
			-o jsonpath='{.items[*].endpoints[?(@.conditions.ready==true)].addresses[*]}' \
			2>/dev/null || true)"
		[[ -z "$ready" ]] || return 0
		sleep 2
	done
	echo "minikube-up: ingress-nginx's admission webhook ($ADMISSION_SERVICE) has no" \
		"ready endpoint after $attempt tries" >&2
	return 1
}

# Creates the namespace, the Redis users' Secrets and the TLS Secret.
create_namespace_and_secrets() {
	local host="$1"
	kubectl --context "$KUBE_CONTEXT" apply -k "$REPO_DIR/k8s/namespace"
	KUBE_CONTEXT="$KUBE_CONTEXT" NAMESPACE="$NAMESPACE" "$REPO_DIR/scripts/lib/gen-redis-secret.sh"
	KUBE_CONTEXT="$KUBE_CONTEXT" NAMESPACE="$NAMESPACE" "$REPO_DIR/scripts/lib/gen-cert.sh" "$host"
}

# Builds the image into minikube's Docker and deploys the host's overlay.
run_skaffold() {
	(cd "$REPO_DIR" && skaffold run --profile minikube-ip --kube-context "$KUBE_CONTEXT" \
		--label "skaffold.dev/run-id=$RUN_ID")
}

# Runs skaffold. When ingress-nginx's admission webhook refused the Ingress
# (it can lag behind a cluster restart), waits for the webhook and runs
# skaffold once more; any other failure stops here.
skaffold_run_retrying_webhook() {
	local log status=0
	log="$(mktemp)"
	run_skaffold 2>&1 | tee "$log" || status=$?
	if ((status != 0)) && grep -qF "$ADMISSION_WEBHOOK" "$log"; then
		echo "minikube-up: ingress-nginx's admission webhook was not ready;" \
			"waiting for it, then running skaffold once more" >&2
		status=0
		{ wait_for_admission_webhook && run_skaffold; } || status=$?
	fi
	rm -f "$log"
	return "$status"
}

# Builds the image and deploys k8s/ for the host, then waits for the rollout.
deploy() {
	local host="$1"
	"$REPO_DIR/scripts/lib/ingress-host-overlay.sh" "$host"
	skaffold_run_retrying_webhook
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

# Prints the commands a newcomer runs next. Each curl carries --resolve, so
# nothing depends on public DNS answering for nip.io (routers with DNS-rebind
# protection drop such answers).
print_curl_commands() {
	local host="$1" ip="$2" cacert
	cacert="$(realpath -m --relative-to="$PWD" "$CACERT")"
	cat <<EOF

Money Bank runs at https://$host (TLS by the NGINX Ingress).

Deposit 5 bitcoins (lighttpd needs a Content-Length, hence -d ''), then read the total:
  curl --cacert $cacert --resolve $host:443:$ip -X POST -d '' "https://$host/v1/bitcoins?bitcoins=5" -w '%{http_code}\\n'
  curl --cacert $cacert --resolve $host:443:$ip "https://$host/v1/bitcoins"; echo

Plain HTTP is redirected to HTTPS (308):
  curl -sI --resolve $host:80:$ip "http://$host/v1/bitcoins"

--resolve sends curl straight to $ip: no DNS lookup of nip.io is needed.
Each client IP gets 10 requests/s (bursts of 20) and 20 connections at once; beyond, 429.
Proof that the total survives pod deletion: scripts/persistence-proof.sh
EOF
}

main() {
	check_tools
	refuse_wrong_runtime
	check_docker
	check_kustomize
	start_minikube
	enable_ingress
	local ip host
	ip="$(minikube -p "$PROFILE" ip)"
	host="bitcoin.$ip.nip.io"
	create_namespace_and_secrets "$host"
	deploy "$host"
	wait_for_https "$host" "$ip"
	print_curl_commands "$host" "$ip"
}

# Sourced (tests/k8s.bats runs single steps), it only defines the functions.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
	main "$@"
fi
