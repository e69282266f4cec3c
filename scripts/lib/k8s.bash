# scripts/lib/k8s.bash: what the day-2 Kubernetes scripts share: where the
# deployment lives (context minikube, namespace devops-2025), kubectl bound
# to both, and checks that say what is missing. Sourced after
# scripts/lib/cli.bash.
# shellcheck disable=SC2034 # the constants are read by the scripts that source this

readonly KUBE_CONTEXT=minikube
# The minikube profile behind that context (minikube names them alike).
readonly MINIKUBE_PROFILE=minikube
readonly NAMESPACE=devops-2025
# The skaffold profile that deploys k8s-local/, the overlay that
# scripts/minikube-up.sh writes for the running minikube's IP.
readonly SKAFFOLD_PROFILE=minikube-ip
# What confirms losing data in the namespace: its name.
readonly CONFIRM_NAMESPACE="$NAMESPACE"

# Runs kubectl against the deployment's context and namespace.
kube() {
	kubectl --context "$KUBE_CONTEXT" --namespace "$NAMESPACE" "$@"
}

# Fails with the list of the commands $@ that are not installed.
require_tools() {
	local tool missing=()
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
	done
	[[ ${#missing[@]} -eq 0 ]] ||
		die "missing tools: ${missing[*]} (the minikube deployment needs minikube, kubectl and skaffold)"
}

# Succeeds when the namespace exists, fails when the cluster says it does
# not, and stops with kubectl's message when the cluster cannot be asked.
namespace_exists() {
	local output
	if output="$(kubectl --context "$KUBE_CONTEXT" get namespace "$NAMESPACE" -o name 2>&1)"; then
		return 0
	fi
	[[ "$output" == *"(NotFound)"* ]] && return 1
	die "cannot ask the cluster of context $KUBE_CONTEXT: $output" \
		"(is minikube running? minikube status; make k8s-up starts it)"
}

# Fails unless the namespace exists: everything else lives in it.
require_namespace() {
	namespace_exists ||
		die "the namespace $NAMESPACE does not exist on context $KUBE_CONTEXT; run make k8s-up first"
}
