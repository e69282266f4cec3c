# minikube-stubs.bash: stand-ins for minikube, docker, skaffold, kubectl and
# kustomize, so tests/k8s.bats can run scripts/minikube-up.sh, or single
# steps of it, where no cluster can run. Each stand-in logs its arguments to
# $STUB_DIR/calls and answers from files in $STUB_DIR that a test writes:
#   profiles.json     what `minikube profile list -o json` prints
#   driver            minikube's configured default driver, if any
#   start-ok          present: `minikube start` succeeds (else it fails, so
#                     that a script that should have stopped goes no further)
#   docker-denied     present: docker answers like a daemon this user may not use
#   kubectl-kustomize the kustomize version `kubectl version` reports
#   skaffold-results  one outcome per `skaffold run`: ok, fail-webhook, fail-other
#   configmap.yaml    the ingress-nginx ConfigMap that `kubectl patch` changes,
#                     with the real kubectl (patch --local), offline
# The stand-ins mimic the outputs that minikube-up.sh reads, as the real
# tools print them (see the comments at each).

# Writes the stand-ins into $STUB_DIR/bin and puts that first on the PATH.
stub_tools() {
	STUB_DIR="$BATS_TEST_TMPDIR/stubs"
	REAL_KUBECTL="$(command -v kubectl || true)"
	export STUB_DIR REAL_KUBECTL
	mkdir -p "$STUB_DIR/bin"
	echo '{"invalid":[],"valid":[]}' >"$STUB_DIR/profiles.json"
	echo v5.5.0 >"$STUB_DIR/kubectl-kustomize"
	stub_minikube
	stub_docker
	stub_skaffold
	stub_kubectl
	PATH="$STUB_DIR/bin:$PATH"
}

# minikube: `[-p PROFILE] COMMAND...`.
stub_minikube() {
	cat >"$STUB_DIR/bin/minikube" <<'EOF'
#!/usr/bin/env bash
echo "minikube $*" >>"$STUB_DIR/calls"
[[ "${1:-}" != -p ]] || shift 2
case "$*" in
"profile list -o json") cat "$STUB_DIR/profiles.json" ;;
"config get driver")
	# minikube's answer for an unset key, exit status 14.
	[[ -f "$STUB_DIR/driver" ]] || { echo "Error: specified key could not be found in config" >&2; exit 14; }
	cat "$STUB_DIR/driver" ;;
status*) echo "Stopped Stopped"; exit 7 ;;
start*) [[ -f "$STUB_DIR/start-ok" ]] || { echo "stub: minikube start refused" >&2; exit 1; } ;;
ip) echo 192.0.2.10 ;;
esac
EOF
	chmod +x "$STUB_DIR/bin/minikube"
}

# docker: `docker version --format ...`, as a daemon that works or that
# refuses this user (docker's own wording).
stub_docker() {
	cat >"$STUB_DIR/bin/docker" <<'EOF'
#!/usr/bin/env bash
echo "docker $*" >>"$STUB_DIR/calls"
if [[ -f "$STUB_DIR/docker-denied" ]]; then
	echo "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get \"http://%2Fvar%2Frun%2Fdocker.sock/v1.51/version\": dial unix /var/run/docker.sock: connect: permission denied" >&2
	exit 1
fi
echo 28.4.0
EOF
	chmod +x "$STUB_DIR/bin/docker"
}

# skaffold: each run takes the next outcome of skaffold-results. The webhook
# failure is the API server's message when ingress-nginx's admission webhook
# cannot be reached (as in minikube issue #13799).
stub_skaffold() {
	cat >"$STUB_DIR/bin/skaffold" <<'EOF'
#!/usr/bin/env bash
echo "skaffold $*" >>"$STUB_DIR/calls"
outcome="$(head -n 1 "$STUB_DIR/skaffold-results" 2>/dev/null || echo ok)"
sed -i 1d "$STUB_DIR/skaffold-results" 2>/dev/null || true
case "$outcome" in
fail-webhook)
	echo 'Error from server (InternalError): error when creating "STDIN": Internal error occurred: failed calling webhook "validate.nginx.ingress.kubernetes.io": failed to call webhook: Post "https://ingress-nginx-controller-admission.ingress-nginx.svc:443/networking/v1/ingresses?timeout=10s": dial tcp 10.96.12.34:443: connect: connection refused' >&2
	exit 1 ;;
fail-other) echo 'build [dev.local/d22/backend] failed: docker build failed' >&2; exit 1 ;;
esac
EOF
	chmod +x "$STUB_DIR/bin/skaffold"
}

# kubectl: `--context C [-n NS] COMMAND...`. `patch configmap` runs the real
# kubectl on configmap.yaml; `version --client -o json` reports
# kubectl-kustomize; the admission webhook's EndpointSlice has a ready
# address; `apply` fails, so that nothing reaches the secret scripts.
stub_kubectl() {
	cat >"$STUB_DIR/bin/kubectl" <<'EOF'
#!/usr/bin/env bash
echo "kubectl $*" >>"$STUB_DIR/calls"
args=("$@")
while [[ "${args[0]:-}" == --context || "${args[0]:-}" == -n ]]; do args=("${args[@]:2}"); done
case "${args[*]}" in
"version --client -o json")
	printf '{\n  "clientVersion": {"gitVersion": "v1.32.4"},\n  "kustomizeVersion": "%s"\n}\n' "$(cat "$STUB_DIR/kubectl-kustomize")" ;;
"patch configmap "*)
	command="${args[*]}"
	patch_file="${command##*--patch-file }"
	"$REAL_KUBECTL" patch --local -f "$STUB_DIR/configmap.yaml" --type merge \
		--patch-file "$patch_file" -o yaml >"$STUB_DIR/configmap.next" &&
		mv "$STUB_DIR/configmap.next" "$STUB_DIR/configmap.yaml" ;;
"get endpointslices "*) printf '10.244.0.40' ;;
apply*) echo "stub: kubectl apply refused" >&2; exit 1 ;;
esac
EOF
	chmod +x "$STUB_DIR/bin/kubectl"
}

# Puts a standalone kustomize on the PATH whose `kustomize version` prints $1.
stub_kustomize() {
	printf '%s\n' "$1" >"$STUB_DIR/kustomize-version"
	cat >"$STUB_DIR/bin/kustomize" <<'EOF'
#!/usr/bin/env bash
echo "kustomize $*" >>"$STUB_DIR/calls"
cat "$STUB_DIR/kustomize-version"
EOF
	chmod +x "$STUB_DIR/bin/kustomize"
}

# Prints one profile as `minikube profile list -o json` lists it: name $1,
# driver $2, container runtime $3 (a cluster's config has these fields in
# this order; see ClusterConfig and KubernetesConfig in minikube's
# pkg/minikube/config/types.go).
profile_entry() {
	local name="$1" driver="$2" runtime="$3"
	printf '{"Name":"%s","Status":"Stopped","Config":{"Name":"%s","KeepContext":false,"EmbedCerts":false,"MinikubeISO":"","KicBaseImage":"gcr.io/k8s-minikube/kicbase:v0.0.50","Memory":3900,"CPUs":2,"DiskSize":20000,"Driver":"%s","HyperkitVpnKitSock":"","HyperkitVSockPorts":[],"DockerEnv":null,"ContainerVolumeMounts":null,"InsecureRegistry":null,"RegistryMirror":[],"HostOnlyCIDR":"192.168.59.1/24","APIServerPort":8443,"DockerOpt":null,"NFSShare":[],"SSHPort":22,"KubernetesConfig":{"KubernetesVersion":"v1.36.2","ClusterName":"%s","Namespace":"default","APIServerHAVIP":"","APIServerName":"minikubeCA","APIServerNames":null,"APIServerIPs":null,"DNSDomain":"cluster.local","ContainerRuntime":"%s","CRISocket":"","NetworkPlugin":"cni","FeatureGates":"","ServiceCIDR":"10.96.0.0/12","ImageRepository":"","LoadBalancerStartIP":"","LoadBalancerEndIP":"","CustomIngressCert":"","RegistryAliases":"","ExtraOptions":[{"Component":"kubelet","Key":"cgroup-driver","Value":"systemd"}],"ShouldLoadCachedImages":true,"EnableDefaultCNI":false,"CNI":"calico"},"Nodes":[{"Name":"","IP":"192.168.49.2","Port":8443,"KubernetesVersion":"v1.36.2","ContainerRuntime":"%s","ControlPlane":true,"Worker":true}],"Addons":{"ingress":true},"StartHostTimeout":360000000000,"ScheduledStop":null},"Active":false,"ActiveKubeContext":false}' \
		"$name" "$name" "$driver" "$name" "$runtime" "$runtime"
}

# Writes profiles.json with the profiles "NAME DRIVER RUNTIME" given.
stub_profiles() {
	local entries=() spec name driver runtime
	for spec in "$@"; do
		read -r name driver runtime <<<"$spec"
		entries+=("$(profile_entry "$name" "$driver" "$runtime")")
	done
	local IFS=,
	echo "{\"invalid\":[],\"valid\":[${entries[*]}]}" >"$STUB_DIR/profiles.json"
}

# Prints the calls the stand-ins received.
stub_calls() {
	cat "$STUB_DIR/calls" 2>/dev/null || true
}
