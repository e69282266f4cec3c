#!/usr/bin/env bash
# Takes Money Bank off minikube (context minikube, namespace devops-2025).
#
#   scripts/k8s-down.sh            remove the app; keep the data and the Secrets
#   scripts/k8s-down.sh --purge    remove the app and the Redis data (asks first)
#
# Without --purge, `skaffold delete` removes what skaffold deployed: the
# backends, Redis's StatefulSet, the Services, the Ingress, the budget and
# the NetworkPolicies. It keeps the namespace, the Secrets redis-acl,
# redis-app, redis-probe and bitcoin-tls, and the Redis volume (PVC
# data-redis-0): make k8s-up brings the app back with the same total.
#
# --purge also deletes the PVC data-redis-0, and the balance with it
# (minikube's default StorageClass deletes the volume with its claim). It
# asks first: type devops-2025, or set CONFIRM=devops-2025. It keeps the
# namespace and the Secrets, which hold no deposits (the files in
# k8s/secrets/ make them again). To remove everything: minikube delete (the
# whole cluster, every namespace's data), then make purge-local (this
# clone's files).
#
# Safe to run again: what is already gone (the app, the namespace, the PVC)
# is reported, not an error.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_DIR
readonly PROGRAM=k8s-down
# shellcheck source=scripts/lib/cli.bash
source "$REPO_DIR/scripts/lib/cli.bash"
# shellcheck source=scripts/lib/k8s.bash
source "$REPO_DIR/scripts/lib/k8s.bash"
# The Redis StatefulSet's claim (volumeClaimTemplates "data", pod redis-0).
readonly REDIS_CLAIM=data-redis-0
readonly OVERLAY="$REPO_DIR/k8s-local/kustomization.yaml"

usage() {
	usage_exit "$1" "${BASH_SOURCE[0]}"
}

# Succeeds when the object $1 (KIND/NAME) exists in the namespace.
object_exists() {
	kube get "$1" -o name >/dev/null 2>&1
}

# Deletes what skaffold deployed. The objects are named alike in k8s/ and in
# the k8s-local/ overlay (only the Ingress host differs), so without the
# overlay the default profile deletes the same objects. skaffold delete runs
# even when the workloads are gone already: it also clears what a stopped
# run left (Services, Ingress, policies), and changes nothing otherwise.
remove_app() {
	local profile=() present=no
	if object_exists deployment/backend || object_exists statefulset/redis; then
		present=yes
	fi
	if [[ -f "$OVERLAY" ]]; then
		profile=(--profile "$SKAFFOLD_PROFILE")
	else
		say "no k8s-local/ overlay here; deleting the objects k8s/ names (the same ones)"
	fi
	(cd "$REPO_DIR" && skaffold delete "${profile[@]}" --kube-context "$KUBE_CONTEXT" \
		--namespace "$NAMESPACE")
	if [[ "$present" == yes ]]; then
		say "removed the app from $NAMESPACE on $KUBE_CONTEXT (skaffold delete)"
	else
		say "the app was already gone from $NAMESPACE on $KUBE_CONTEXT (no Deployment backend," \
			"no StatefulSet redis)"
	fi
}

# Deletes the Redis volume's claim once no pod uses it (kubectl waits for
# that), and says what happens to the volume behind it.
remove_data() {
	local volume policy
	if ! kube get pvc "$REDIS_CLAIM" -o name >/dev/null 2>&1; then
		say "no PVC $REDIS_CLAIM in $NAMESPACE: the Redis data was already gone"
		return 0
	fi
	volume="$(kube get pvc "$REDIS_CLAIM" -o jsonpath='{.spec.volumeName}')"
	policy="$(kubectl --context "$KUBE_CONTEXT" get pv "$volume" \
		-o jsonpath='{.spec.persistentVolumeReclaimPolicy}' 2>/dev/null || true)"
	kube delete pvc "$REDIS_CLAIM" --wait=true --timeout=180s
	say "deleted the PVC $REDIS_CLAIM: the Redis data, the balance included"
	if [[ "$policy" == Retain ]]; then
		say "its volume $volume stays (reclaim policy Retain); to delete it too:" \
			"kubectl --context $KUBE_CONTEXT delete pv $volume"
	fi
}

main() {
	local purge=no
	case "${1:-}" in
	"") ;;
	--purge) purge=yes ;;
	-h | --help) usage 0 ;;
	*) unknown_argument "$1" ;;
	esac
	[[ $# -le 1 ]] || usage 2
	require_tools kubectl skaffold
	if ! namespace_exists; then
		say "nothing to remove: the namespace $NAMESPACE does not exist on $KUBE_CONTEXT"
		return 0
	fi
	if [[ "$purge" == yes ]]; then
		confirm "$CONFIRM_NAMESPACE" "deletes the Redis data in $NAMESPACE (PVC $REDIS_CLAIM), the balance included"
	fi
	remove_app
	if [[ "$purge" == yes ]]; then
		remove_data
		say "kept: the namespace $NAMESPACE and the Secrets redis-acl, redis-app, redis-probe and bitcoin-tls;" \
			"make k8s-up deploys Money Bank again, with a total of 0"
	elif object_exists "pvc/$REDIS_CLAIM"; then
		say "kept: the namespace $NAMESPACE, the Secrets redis-acl, redis-app, redis-probe and bitcoin-tls, and" \
			"the Redis data (PVC $REDIS_CLAIM); make k8s-up brings the app back with the same" \
			"total, make k8s-purge deletes the data too"
	else
		say "kept: the namespace $NAMESPACE and the Secrets redis-acl, redis-app, redis-probe and bitcoin-tls;" \
			"there is no Redis data to keep (no PVC $REDIS_CLAIM, as after make k8s-purge):" \
			"make k8s-up deploys Money Bank again, with a total of 0"
	fi
}

main "$@"
