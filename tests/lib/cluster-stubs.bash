# cluster-stubs.bash: a stand-in for the minikube deployment, for the day-2
# scripts (scripts/k8s-*.sh, redis-backup.sh, redis-restore.sh,
# renew-cert.sh) where no cluster can run. Needs lib/common.bash and
# lib/netns.bash.
#
# Stand-ins for kubectl, skaffold and minikube log each call to
# $STUB_DIR/calls. kubectl refuses (exit 99, "REFUSED" in the log) any call
# that does not name --context minikube, any call on a namespaced object
# outside --namespace devops-2025, and anything it does not know. It answers
# from a cluster kept as files in $CLUSTER ($STUB_DIR/cluster):
#   namespace                the namespace devops-2025 exists
#   unreachable              the API server cannot be reached
#   objects/KIND.NAME.yaml   Secrets, the PVC and its PV, the Deployment and
#                            StatefulSet as k8s/ renders them (the Redis data
#                            volume mounted at $CLUSTER/pvc), Pods that were
#                            applied; read and changed with the real kubectl
#                            (patch --local), offline
#   logs                     what `kubectl logs` prints
#   helper-not-ready         an applied Pod never gets Ready
# Each applied object is also kept in $STUB_DIR/applied/KIND.NAME.yaml.
#   minikube-ip              what `minikube ip` prints
# Redis is real: the pod redis-0 is a redis-server in a network and mount
# namespace of its own (lib/netns.bash), on 127.0.0.1:6379 as in the pod,
# with production's ACL users (the default user off) from users.acl as the
# Secret redis-acl mounts it, and its data in $CLUSTER/pvc, the "volume".
# It runs while the StatefulSet has a replica: scaling it to 0 stops the
# server (SIGTERM, as the kubelet does), to 1 starts a new one on the same
# data. `kubectl exec redis-0` enters the namespace with no password, as in
# the container; `kubectl exec` into an applied Pod runs there too.
# The backend pods are names only: backend-0..N-1 for the Deployment's N
# replicas.
# The Redis Secrets (redis-acl, redis-app, redis-probe) come from
# scripts/lib/gen-redis-secret.sh with their files in $CLUSTER_SECRETS
# ($REPO/k8s/secrets, the scripts' own). Their mounts are directories in
# $CLUSTER/mounts/VOLUME (acl and probe-password of redis-0, the StatefulSet
# patched to mount them there; redis-password of the backends), which the
# "kubelet" brings up to date with the Secrets at each kubectl exec and
# rollout: for pods that run, only once the Secret is $CLUSTER/kubelet-delay
# seconds old (0 when absent: the real kubelet takes up to a minute or
# two); pods a rollout restart makes mount the Secret as it is.
#   rollout-stuck            kubectl rollout status fails (a rollout that
#                            does not finish)
# shellcheck disable=SC2034 # CLUSTER and STUB_DIR are read by the stand-ins

# The setup of every suite that runs the day-2 scripts: skips the test when
# this kubectl cannot render k8s/, copies scripts/ to $REPO (so that
# k8s/secrets/ is the test's own), and makes the stand-in cluster.
cluster_setup_repo() {
	local problem
	problem="$(kubectl_problem)"
	[[ -z "$problem" ]] || skip "$problem (the stand-in cluster renders k8s/ with it)"
	REPO="$BATS_TEST_TMPDIR/repo"
	mkdir -p "$REPO"
	cp -R "$REPO_DIR/scripts" "$REPO/"
	cluster_create
}

# Writes the stand-ins into $STUB_DIR/bin, puts them first on the PATH, and
# makes the cluster: the namespace, the Redis Secrets, the Deployment
# backend (3 replicas), the StatefulSet redis (1 replica, not started: see
# cluster_redis_up) and the PVC data-redis-0 on a PV that is deleted with it.
cluster_create() {
	STUB_DIR="$BATS_TEST_TMPDIR/stubs"
	CLUSTER="$STUB_DIR/cluster"
	CLUSTER_SECRETS="${REPO:-$BATS_TEST_TMPDIR/repo}/k8s/secrets"
	REAL_KUBECTL="$(command -v kubectl)"
	export STUB_DIR CLUSTER CLUSTER_SECRETS REAL_KUBECTL
	mkdir -p "$STUB_DIR/bin" "$CLUSTER/objects" "$CLUSTER/pvc" \
		"$CLUSTER/mounts/acl" "$CLUSTER/mounts/probe-password" "$CLUSTER/mounts/redis-password"
	local tool
	for tool in kubectl skaffold minikube; do
		printf '#!/usr/bin/env bash\nsource %q/common.bash\nsource %q/netns.bash\nsource %q/cluster-stubs.bash\ncluster_%s "$@"\n' \
			"$REPO_DIR/tests/lib" "$REPO_DIR/tests/lib" "$REPO_DIR/tests/lib" "$tool" >"$STUB_DIR/bin/$tool"
		chmod +x "$STUB_DIR/bin/$tool"
	done
	PATH="$STUB_DIR/bin:$PATH"
	touch "$CLUSTER/namespace"
	echo 192.0.2.10 >"$CLUSTER/minikube-ip"
	SECRETS_DIR="$CLUSTER_SECRETS" "$REPO_DIR/scripts/lib/gen-redis-secret.sh" --print 2>/dev/null |
		NAMESPACE_FLAG=devops-2025 stub_apply -f - >/dev/null
	cluster_kubelet_sync
	cluster_render_workloads
	cat >"$CLUSTER/objects/persistentvolumeclaim.data-redis-0.yaml" <<'EOF'
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data-redis-0
  namespace: devops-2025
spec:
  accessModes: ["ReadWriteOnce"]
  resources:
    requests:
      storage: 1Gi
  volumeName: pvc-5d0c1f6e
EOF
	cat >"$CLUSTER/objects/persistentvolume.pvc-5d0c1f6e.yaml" <<'EOF'
apiVersion: v1
kind: PersistentVolume
metadata:
  name: pvc-5d0c1f6e
spec:
  capacity:
    storage: 1Gi
  accessModes: ["ReadWriteOnce"]
  persistentVolumeReclaimPolicy: Delete
  hostPath:
    path: /tmp/hostpath-provisioner/devops-2025/data-redis-0
EOF
	# What making the cluster called is no call of a script under test.
	rm -rf "$STUB_DIR/calls" "$STUB_DIR/applied"
}

# Writes the Deployment and the StatefulSet as kubectl kustomize renders
# k8s/, with the StatefulSet's data volume mounted at $CLUSTER/pvc (where
# the stand-in Redis keeps its data).
cluster_render_workloads() {
	local render="$STUB_DIR/render" doc mounts index
	mkdir -p "$render"
	"$REAL_KUBECTL" kustomize "$REPO_DIR/k8s" | awk -v dir="$render" 'BEGIN { n = 0 }
		/^---$/ { n++; next } { print > (dir "/" n ".yaml") }'
	for doc in "$render"/*.yaml; do
		case "$(sed -n 's/^kind: //p' "$doc")" in
		Deployment) cp "$doc" "$CLUSTER/objects/deployment.backend.yaml" ;;
		StatefulSet) cp "$doc" "$CLUSTER/objects/statefulset.redis.yaml" ;;
		esac
	done
	cluster_mount_at statefulset.redis data "$CLUSTER/pvc"
	cluster_mount_at statefulset.redis acl "$CLUSTER/mounts/acl"
	cluster_mount_at statefulset.redis probe-password "$CLUSTER/mounts/probe-password"
	cluster_mount_at deployment.backend redis-password "$CLUSTER/mounts/redis-password"
}

# Patches the workload in objects/$1.yaml so that its first container
# mounts volume $2 at directory $3.
cluster_mount_at() {
	local mounts name index=0
	mounts="$(cluster_jsonpath "$1" '{.spec.template.spec.containers[0].volumeMounts[*].name}')"
	for name in $mounts; do
		[[ "$name" == "$2" ]] && break
		index=$((index + 1))
	done
	cluster_patch "$1" json \
		"[{\"op\":\"replace\",\"path\":\"/spec/template/spec/containers/0/volumeMounts/$index/mountPath\",\"value\":\"$3\"}]"
}

# Writes key $2 of the Secret $1 into file $3 when they differ, as the
# kubelet updates a mounted Secret: only once the Secret is $4 seconds old.
cluster_mount_secret() {
	local object="$CLUSTER/objects/secret.$1.yaml" value age
	[[ -f "$object" ]] || return 0
	age=$(($(date +%s) - $(stat -c %Y "$object")))
	((age >= $4)) || return 0
	value="$(cluster_jsonpath "secret.$1" "{.data.${2//./\\.}}" | base64 -d)"
	[[ -f "$3" && "$(cat "$3")" == "$value" ]] && return 0
	printf '%s' "$value" >"$3.new"
	mv "$3.new" "$3"
}

# The kubelet's sync of the mounted Secrets of the running pods (see above).
cluster_kubelet_sync() {
	local delay
	delay="$(cat "$CLUSTER/kubelet-delay" 2>/dev/null || echo 0)"
	cluster_mount_secret redis-acl users.acl "$CLUSTER/mounts/acl/users.acl" "$delay"
	cluster_mount_secret redis-probe password "$CLUSTER/mounts/probe-password/password" "$delay"
	cluster_mount_secret redis-app password "$CLUSTER/mounts/redis-password/password" "$delay"
}

# Prints jsonpath $2 of the object in file objects/$1.yaml.
cluster_jsonpath() {
	"$REAL_KUBECTL" patch --local -f "$CLUSTER/objects/$1.yaml" --type merge -p '{}' \
		-o "jsonpath=$2"
}

# Applies patch $3 of type $2 (merge, json) to the object in objects/$1.yaml.
cluster_patch() {
	local file="$CLUSTER/objects/$1.yaml"
	"$REAL_KUBECTL" patch --local -f "$file" --type "$2" -p "$3" -o yaml >"$file.next" &&
		mv "$file.next" "$file"
}

# Starts the stand-in Redis pod; the test makes its namespaces first (a
# stand-in must not: they would outlive it holding its caller's output).
# No descriptor but the log stays open in it, for the same reason.
cluster_redis_up() {
	local pod="$CLUSTER/pod"
	[[ -f "$pod/pid" ]] || stub_refuse "the test made no namespaces for redis-0 (cluster_pod_start)"
	mkdir -p "$pod/redis"
	cluster_kubelet_sync
	netns_exec "$pod" redis-server --bind 127.0.0.1 --port 6379 --dir "$CLUSTER/pvc" \
		--appendonly yes --appendfsync always --appenddirname appendonlydir --save '' \
		--aclfile "$CLUSTER/mounts/acl/users.acl" \
		</dev/null >>"$pod/redis/redis.log" 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
	echo "$!" >"$pod/redis/pid"
	wait_until 20 cluster_redis_answers
}

# Makes the namespaces of the stand-in Redis pod and starts Redis in them.
cluster_pod_start() {
	netns_start "$CLUSTER/pod" >/dev/null
	cluster_redis_up
}

# Stops the stand-in Redis pod, as the kubelet does: SIGTERM, then waits.
cluster_redis_down() {
	stop_pidfile "$CLUSTER/pod/redis/pid"
}

# Succeeds while the stand-in Redis pod runs.
cluster_redis_running() {
	[[ -f "$CLUSTER/pod/redis/pid" ]] && ! process_gone "$(cat "$CLUSTER/pod/redis/pid")"
}

# Succeeds when the stand-in Redis answers PONG.
cluster_redis_answers() {
	[[ "$(cluster_redis_cli PING 2>/dev/null)" == PONG ]]
}

# Runs redis-cli against the stand-in Redis, inside its namespaces, as the
# user admin.
cluster_redis_cli() {
	REDISCLI_AUTH="$(cat "$CLUSTER_SECRETS/redis-admin-password")" netns_run "$CLUSTER/pod" \
		redis-cli --user admin -h 127.0.0.1 -p 6379 "$@"
}

# Runs redis-cli against the stand-in Redis as user $1 with the password in
# file $2 (its stdin), as a probe or a CGI does.
cluster_redis_as() {
	local user="$1" file="$2"
	shift 2
	netns_run "$CLUSTER/pod" redis-cli --user "$user" --askpass -h 127.0.0.1 -p 6379 "$@" <"$file"
}

# Stops the stand-in Redis pod and its namespaces.
cluster_stop() {
	[[ -n "${CLUSTER:-}" && -d "$CLUSTER/pod" ]] || return 0
	netns_stop "$CLUSTER/pod"
}

# Prints the calls the stand-ins received.
stub_calls() {
	cat "$STUB_DIR/calls" 2>/dev/null || true
}

# Logs a refused call and exits 99: the script under test did what it must not.
stub_refuse() {
	echo "REFUSED $*" >>"$STUB_DIR/calls"
	echo "stub: refused: $*" >&2
	exit 99
}

# Prints the object kind that the kubectl resource word $1 names.
stub_kind() {
	case "$1" in
	secret | secrets) echo secret ;;
	pvc | persistentvolumeclaim | persistentvolumeclaims) echo persistentvolumeclaim ;;
	pv | persistentvolume | persistentvolumes) echo persistentvolume ;;
	deployment | deployments | deploy | deployment.apps) echo deployment ;;
	statefulset | statefulsets | sts | statefulset.apps) echo statefulset ;;
	pod | pods | po) echo pod ;;
	namespace | namespaces | ns) echo namespace ;;
	*) stub_refuse "kubectl: unknown resource $1" ;;
	esac
}

# Prints the resource name kubectl's "-o name" gives kind $1.
stub_resource() {
	case "$1" in
	deployment | statefulset) echo "$1.apps" ;;
	*) echo "$1" ;;
	esac
}

# Prints the names of the pods that exist: redis-0 while Redis runs, the
# backends the Deployment's replicas make, and the Pods that were applied.
stub_pods() {
	local replicas index file
	cluster_redis_running && echo redis-0
	if [[ -f "$CLUSTER/objects/deployment.backend.yaml" ]]; then
		replicas="$(cluster_jsonpath deployment.backend '{.spec.replicas}')"
		for ((index = 0; index < replicas; index++)); do echo "backend-$index"; done
	fi
	for file in "$CLUSTER"/objects/pod.*.yaml; do
		[[ -f "$file" ]] || continue
		file="${file##*/pod.}"
		echo "${file%.yaml}"
	done
}

# Succeeds when pod $1 exists.
stub_pod_exists() {
	stub_pods | grep -qx "$1"
}

# Prints kubectl's NotFound error for kind $1, name $2, and fails.
stub_not_found() {
	echo "Error from server (NotFound): ${1}s \"$2\" not found" >&2
	return 1
}

# kubectl get: KIND NAME, KIND/NAME, or pods with --selector/-l; -o name or
# -o jsonpath=...; --ignore-not-found.
stub_get() {
	local kind="" name="" output="" selector="" ignore=no arg
	while (($#)); do
		arg="$1"
		case "$arg" in
		-o | --output) output="$2" && shift ;;
		-o* | --output=*) output="${arg#-o}" && output="${output#--output=}" ;;
		-l | --selector) selector="$2" && shift ;;
		--selector=*) selector="${arg#*=}" ;;
		--ignore-not-found | --ignore-not-found=true) ignore=yes ;;
		*/*) kind="$(stub_kind "${arg%%/*}")" && name="${arg#*/}" ;;
		*) if [[ -z "$kind" ]]; then kind="$(stub_kind "$arg")"; else name="$arg"; fi ;;
		esac
		shift
	done
	if [[ "$kind" == pod ]]; then
		local pods
		pods="$(stub_pods)"
		[[ -z "$selector" ]] || pods="$(grep -E "^${selector##*=}(-|$)" <<<"$pods" || true)"
		[[ -z "$name" ]] || pods="$(grep -x "$name" <<<"$pods" || true)"
		if [[ -n "$name" && -z "$pods" ]]; then
			[[ "$ignore" == yes ]] && return 0
			stub_not_found pod "$name"
			return 1
		fi
		[[ -z "$pods" ]] || while read -r name; do echo "pod/$name"; done <<<"$pods"
		return 0
	fi
	[[ -n "$name" ]] || stub_refuse "kubectl get $kind without a name"
	if [[ "$kind" == namespace ]]; then
		[[ "$name" == devops-2025 && -f "$CLUSTER/namespace" ]] || {
			stub_not_found namespace "$name"
			return 1
		}
		echo "namespace/$name"
		return 0
	fi
	if [[ ! -f "$CLUSTER/objects/$kind.$name.yaml" ]]; then
		[[ "$ignore" == yes ]] && return 0
		stub_not_found "$kind" "$name"
		return 1
	fi
	case "$output" in
	name) echo "$(stub_resource "$kind")/$name" ;;
	jsonpath=*) cluster_jsonpath "$kind.$name" "${output#jsonpath=}" ;;
	*) stub_refuse "kubectl get with output '$output'" ;;
	esac
}

# kubectl apply -f -: stores each object of the manifest on stdin, which must
# be in devops-2025 unless cluster-scoped.
stub_apply() {
	[[ "$*" == "-f -" ]] || stub_refuse "kubectl apply $*"
	local docs="$STUB_DIR/apply" doc kind name namespace
	rm -rf "$docs"
	mkdir -p "$docs"
	awk -v dir="$docs" 'BEGIN { n = 0 } /^---$/ { n++; next } { print > (dir "/" n ".yaml") }'
	for doc in "$docs"/*.yaml; do
		[[ -s "$doc" ]] || continue
		read -r kind name namespace < <("$REAL_KUBECTL" patch --local -f "$doc" --type merge -p '{}' \
			-o 'jsonpath={.kind} {.metadata.name} {.metadata.namespace}') || true # no final newline
		kind="$(stub_kind "${kind,,}")"
		namespace="${namespace:-$NAMESPACE_FLAG}"
		[[ "$namespace" == devops-2025 ]] || stub_refuse "kubectl apply of $kind/$name outside devops-2025"
		cp "$doc" "$CLUSTER/objects/$kind.$name.yaml"
		mkdir -p "$STUB_DIR/applied"
		cp "$doc" "$STUB_DIR/applied/$kind.$name.yaml"
		echo "$kind/$name configured"
	done
}

# kubectl delete KIND NAME: a PVC only once no pod uses it.
stub_delete() {
	local kind name="" ignore=no arg
	kind="$(stub_kind "$1")"
	shift
	for arg in "$@"; do
		case "$arg" in
		--ignore-not-found | --ignore-not-found=true) ignore=yes ;;
		--*) ;;
		*) name="$arg" ;;
		esac
	done
	if [[ ! -f "$CLUSTER/objects/$kind.$name.yaml" ]]; then
		[[ "$ignore" == yes ]] && return 0
		stub_not_found "$kind" "$name"
		return 1
	fi
	if [[ "$kind" == persistentvolumeclaim ]] && cluster_redis_running; then
		stub_refuse "kubectl delete pvc $name while redis-0 uses it (kubectl would wait forever)"
	fi
	rm "$CLUSTER/objects/$kind.$name.yaml"
	echo "$kind \"$name\" deleted"
}

# kubectl scale KIND/NAME --replicas=N; the StatefulSet starts or stops Redis.
stub_scale() {
	local kind="${1%%/*}" name="${1#*/}" replicas="${2#--replicas=}"
	kind="$(stub_kind "$kind")"
	[[ -f "$CLUSTER/objects/$kind.$name.yaml" ]] || {
		stub_not_found "$kind" "$name"
		return 1
	}
	cluster_patch "$kind.$name" merge "{\"spec\":{\"replicas\":$replicas}}"
	if [[ "$kind.$name" == statefulset.redis ]]; then
		if ((replicas == 0)); then
			cluster_redis_down
		elif ! cluster_redis_running; then
			cluster_redis_up
		fi
	fi
	echo "$kind.apps/$name scaled"
}

# kubectl annotate KIND NAME KEY=VALUE or KEY-.
stub_annotate() {
	local kind name="$2" change="$3" patch
	kind="$(stub_kind "$1")"
	if [[ "$change" == *- ]]; then
		patch="{\"metadata\":{\"annotations\":{\"${change%-}\":null}}}"
	else
		patch="{\"metadata\":{\"annotations\":{\"${change%%=*}\":\"${change#*=}\"}}}"
	fi
	cluster_patch "$kind.$name" merge "$patch"
}

# kubectl exec [-i] POD [-c CONTAINER] -- COMMAND...
stub_exec() {
	local pod=""
	while [[ "$1" != -- ]]; do
		case "$1" in
		-i | --stdin) ;;
		-c | --container) shift ;;
		*) pod="$1" ;;
		esac
		shift
	done
	shift
	stub_pod_exists "$pod" || {
		stub_not_found pod "$pod"
		return 1
	}
	cluster_kubelet_sync
	netns_run "$CLUSTER/pod" "$@"
}

# kubectl wait --for=condition=Ready pod/NAME or --for=delete: at once.
stub_wait() {
	local target="" arg
	for arg in "$@"; do
		case "$arg" in
		pod/*) target="${arg#pod/}" ;;
		esac
	done
	if [[ "$*" == *--for=condition=Ready* ]] &&
		{ [[ -f "$CLUSTER/helper-not-ready" ]] || ! stub_pod_exists "$target"; }; then
		echo "error: timed out waiting for the condition on pods/$target" >&2
		return 1
	fi
}

# kubectl rollout status: the StatefulSet is ready once Redis answers, the
# Deployment unless rollout-stuck. rollout restart of the Deployment: its
# new pods mount the Secrets as they are now.
stub_rollout() {
	case "$1 $2" in
	"status statefulset/redis")
		if ! wait_until 20 cluster_redis_answers; then
			echo "error: timed out waiting for the rollout of statefulset/redis" >&2
			return 1
		fi
		;;
	"status deployment/backend")
		if [[ -f "$CLUSTER/rollout-stuck" ]]; then
			echo "error: deployment \"backend\" exceeded its progress deadline" >&2
			return 1
		fi
		echo "deployment \"backend\" successfully rolled out"
		;;
	"restart deployment/backend")
		cluster_mount_secret redis-app password "$CLUSTER/mounts/redis-password/password" 0
		echo "deployment.apps/backend restarted"
		;;
	*) stub_refuse "kubectl rollout $*" ;;
	esac
}

# The kubectl stand-in.
cluster_kubectl() {
	local all="$*"
	echo "kubectl ${all//$'\n'/ }" >>"$STUB_DIR/calls"
	local context="" args=()
	NAMESPACE_FLAG=""
	while (($#)); do
		case "$1" in
		--context) context="$2" && shift ;;
		--context=*) context="${1#*=}" ;;
		-n | --namespace) NAMESPACE_FLAG="$2" && shift ;;
		--namespace=*) NAMESPACE_FLAG="${1#*=}" ;;
		--) args+=("$@") && break ;;
		*) args+=("$1") ;;
		esac
		shift
	done
	# Offline work needs no cluster: rendering a manifest, the client version.
	if [[ " ${args[*]} " == *" --dry-run=client "* || "${args[0]}" == version ]]; then
		[[ -z "$NAMESPACE_FLAG" ]] || args+=(--namespace "$NAMESPACE_FLAG")
		exec "$REAL_KUBECTL" "${args[@]}"
	fi
	[[ "$context" == minikube ]] || stub_refuse "kubectl without --context minikube: ${args[*]}"
	if [[ -f "$CLUSTER/unreachable" ]]; then
		echo "The connection to the server 192.168.49.2:8443 was refused - did you specify the right host or port?" >&2
		exit 1
	fi
	local verb="${args[0]}"
	args=("${args[@]:1}")
	local scoped=yes
	case "$verb ${args[0]:-}" in
	"get namespace" | "get ns" | "get pv" | "get persistentvolume") scoped=no ;;
	"apply -f") scoped=manifest ;;
	esac
	if [[ "$scoped" == yes && "$NAMESPACE_FLAG" != devops-2025 ]]; then
		stub_refuse "kubectl $verb without --namespace devops-2025: ${args[*]}"
	fi
	if [[ "$scoped" != no && ! -f "$CLUSTER/namespace" ]]; then
		echo "Error from server (NotFound): namespaces \"devops-2025\" not found" >&2
		exit 1
	fi
	case "$verb" in
	get) stub_get "${args[@]}" ;;
	apply) stub_apply "${args[@]}" ;;
	delete) stub_delete "${args[@]}" ;;
	scale) stub_scale "${args[@]}" ;;
	annotate) stub_annotate "${args[@]}" ;;
	exec) stub_exec "${args[@]}" ;;
	wait) stub_wait "${args[@]}" ;;
	rollout) stub_rollout "${args[@]}" ;;
	logs) cat "$CLUSTER/logs" 2>/dev/null || true ;;
	*) stub_refuse "kubectl $verb ${args[*]}" ;;
	esac
}

# The skaffold stand-in: delete removes the workloads (and so stops Redis),
# dev only logs. Both must name the context and the namespace.
cluster_skaffold() {
	echo "skaffold $*" >>"$STUB_DIR/calls"
	[[ " $* " == *" --kube-context minikube "* ]] || stub_refuse "skaffold without --kube-context minikube"
	[[ " $* " == *" --namespace devops-2025 "* ]] || stub_refuse "skaffold without --namespace devops-2025"
	case "$1" in
	delete)
		cluster_redis_down
		rm -f "$CLUSTER/objects/deployment.backend.yaml" "$CLUSTER/objects/statefulset.redis.yaml"
		echo "Cleaning up..."
		;;
	dev) echo "stub: skaffold dev" ;;
	*) stub_refuse "skaffold $*" ;;
	esac
}

# The minikube stand-in: only `minikube [-p minikube] ip`.
cluster_minikube() {
	echo "minikube $*" >>"$STUB_DIR/calls"
	case "$*" in
	ip | "-p minikube ip") cat "$CLUSTER/minikube-ip" ;;
	*) stub_refuse "minikube $*" ;;
	esac
}
