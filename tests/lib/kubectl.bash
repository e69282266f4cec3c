# kubectl.bash: tells whether this machine's kubectl can render k8s/.

# Prints why kubectl cannot render k8s/, or nothing when it can: kustomize 5
# (kubectl 1.27 or later) is needed for `labels` with includeTemplates.
# Debian's kubernetes-client (1.20) has kustomize 2.
kubectl_problem() {
	if ! command -v kubectl >/dev/null 2>&1; then
		echo "no kubectl installed"
		return 0
	fi
	local version
	version="$(kubectl version --client --output=json 2>/dev/null |
		sed -n 's/.*"kustomizeVersion": *"\([^"]*\)".*/\1/p')"
	if [[ ! "$version" =~ ^v?([0-9]+)\. || "${BASH_REMATCH[1]}" -lt 5 ]]; then
		echo "kubectl's kustomize is '${version:-unknown}'; k8s/ needs kustomize 5 (kubectl 1.27+)"
	fi
}
