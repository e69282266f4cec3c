#!/usr/bin/env bash
# Restores a backup made by scripts/redis-backup.sh into Money Bank's Redis
# on minikube (context minikube, namespace devops-2025). It replaces the
# data, so deposits made since the backup are gone: it asks first (type
# devops-2025, or set CONFIRM=devops-2025).
#
#   scripts/redis-restore.sh FILE
#
# Each step says what it did:
#   1. checks the archive: the AOF manifest and every file it lists, the
#      total it records, and, where redis-server is installed here, that a
#      throwaway local redis-server loads that total from it;
#   2. stops writes: scales the backends to 0, keeping their count in the
#      annotation money-bank/replicas-before-restore of the Deployment;
#   3. stops Redis (StatefulSet redis to 0), then, from a helper pod
#      (redis-restore) that mounts the volume data-redis-0, saves the data it
#      replaces to backups/redis-before-restore-<UTC time>.tar.gz and puts
#      the backup's appendonlydir in its place;
#   4. starts Redis and checks that it holds the backup's total;
#   5. scales the backends back to their count, and removes the annotation.
# The API answers 503 meanwhile. Do not run skaffold (make k8s-up, k8s-dev)
# during a restore: it would scale the backends back early.
# If a step fails, the backends stay at 0 (no wrong totals are served) and
# it says where it stopped; running it again with the same FILE finishes.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_DIR
readonly PROGRAM=redis-restore
# shellcheck source=scripts/lib/cli.bash
source "$REPO_DIR/scripts/lib/cli.bash"
# shellcheck source=scripts/lib/k8s.bash
source "$REPO_DIR/scripts/lib/k8s.bash"
# shellcheck source=scripts/lib/redis-backup.bash
source "$REPO_DIR/scripts/lib/redis-backup.bash"
readonly BACKENDS=backend
readonly BACKEND_SELECTOR=app.kubernetes.io/name=backend
readonly REPLICAS_ANNOTATION=money-bank/replicas-before-restore
readonly HELPER_POD=redis-restore
# How long pods may take to go or to come (Redis loads its AOF at start:
# its startup probe allows 5 minutes).
readonly POD_WAIT_SECONDS=300
WORK=""
STEP=""

usage() {
	usage_exit "$1" "${BASH_SOURCE[0]}"
}

# Waits until no pod matches the kubectl get arguments $@.
wait_until_gone() {
	local tries="$POD_WAIT_SECONDS"
	while [[ -n "$(kube get "$@" -o name --ignore-not-found 2>/dev/null)" ]]; do
		((--tries > 0)) || die "still there after $POD_WAIT_SECONDS s: $*"
		sleep 1
	done
}

# Prints the backends' count from before the restore: the annotation a
# first run left, or else the count now, which it then records.
backend_replicas_before() {
	local replicas
	replicas="$(kube get deployment "$BACKENDS" \
		-o "jsonpath={.metadata.annotations['$REPLICAS_ANNOTATION']}")"
	if [[ -z "$replicas" ]]; then
		replicas="$(kube get deployment "$BACKENDS" -o 'jsonpath={.spec.replicas}')"
		kube annotate deployment "$BACKENDS" "$REPLICAS_ANNOTATION=$replicas" >/dev/null
	fi
	echo "$replicas"
}

# Scales the backends to 0 and waits until their pods are gone.
stop_writes() {
	kube scale "deployment/$BACKENDS" --replicas=0 >/dev/null
	wait_until_gone pods --selector "$BACKEND_SELECTOR"
	say "stopped writes: the backends are scaled to 0"
}

# Prints Redis's total now, or "unknown" when it does not answer.
current_total() {
	local reply
	if [[ "$(redis_call PING 2>/dev/null || true)" == PONG ]] &&
		reply="$(redis_call GET "$TOTAL_KEY" 2>/dev/null)"; then
		echo "${reply:-0}"
	else
		echo unknown
	fi
}

# Scales Redis to 0 and waits until its pod is gone.
stop_redis() {
	kube scale "statefulset/$REDIS_STATEFULSET" --replicas=0 >/dev/null
	wait_until_gone pod "$REDIS_POD"
	say "stopped Redis"
}

# Prints the helper pod's manifest: the Redis image, user and group, with
# the data volume where Redis mounts it ($1), and the restricted Pod
# Security Standard the namespace enforces.
helper_manifest() {
	local data_dir="$1" image user group fs_group
	image="$(kube get statefulset "$REDIS_STATEFULSET" -o \
		"jsonpath={.spec.template.spec.containers[?(@.name==\"$REDIS_CONTAINER\")].image}")"
	user="$(kube get statefulset "$REDIS_STATEFULSET" -o 'jsonpath={.spec.template.spec.securityContext.runAsUser}')"
	group="$(kube get statefulset "$REDIS_STATEFULSET" -o 'jsonpath={.spec.template.spec.securityContext.runAsGroup}')"
	fs_group="$(kube get statefulset "$REDIS_STATEFULSET" -o 'jsonpath={.spec.template.spec.securityContext.fsGroup}')"
	cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $HELPER_POD
  namespace: $NAMESPACE
  labels:
    app.kubernetes.io/name: $HELPER_POD
    app.kubernetes.io/part-of: money-bank
spec:
  automountServiceAccountToken: false
  enableServiceLinks: false
  restartPolicy: Never
  # A helper left behind by a dead script goes away by itself.
  activeDeadlineSeconds: 3600
  securityContext:
    runAsNonRoot: true
    runAsUser: ${user:-999}
    runAsGroup: ${group:-999}
    fsGroup: ${fs_group:-999}
    seccompProfile:
      type: RuntimeDefault
  containers:
    - name: restore
      image: $image
      imagePullPolicy: IfNotPresent
      command: ["sleep", "3600"]
      securityContext:
        runAsNonRoot: true
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities:
          drop: ["ALL"]
      volumeMounts:
        - name: $REDIS_VOLUME
          mountPath: $data_dir
  volumes:
    - name: $REDIS_VOLUME
      persistentVolumeClaim:
        claimName: $REDIS_CLAIM
EOF
}

# Runs a command in the helper pod, passing this script's stdin on.
in_helper() {
	kube exec -i "$HELPER_POD" -c restore -- "$@"
}

# Starts the helper pod on the data volume at $1 and waits until it runs.
start_helper() {
	helper_manifest "$1" | kube apply -f - >/dev/null
	kube wait --for=condition=Ready "pod/$HELPER_POD" --timeout="${POD_WAIT_SECONDS}s" >/dev/null
}

# Deletes the helper pod, if there is one, and waits until it is gone.
delete_helper() {
	kube delete pod "$HELPER_POD" --ignore-not-found --wait=true >/dev/null
}

# Saves the AOF directory in data directory $1 (Redis stopped, so the files
# are final) as a backup archive with total $2 ("unknown" when Redis did not
# answer before it stopped), unless there is none.
save_replaced_data() {
	local data_dir="$1" total="$2" saved="$WORK/replaced" file
	if ! in_helper test -d "$data_dir/$AOF_DIRNAME" </dev/null; then
		say "the volume held no $AOF_DIRNAME: nothing to save before replacing it"
		return 0
	fi
	mkdir -p "$saved"
	in_helper tar -C "$data_dir" -cf - "$AOF_DIRNAME" </dev/null | tar -C "$saved" -xf -
	cat >"$saved/$INFO_FILE" <<EOF
# The data scripts/redis-restore.sh replaced; scripts/redis-restore.sh restores it.
taken=$(utc_now)
source=context $KUBE_CONTEXT, namespace $NAMESPACE, volume $REDIS_CLAIM, $data_dir/$AOF_DIRNAME
total=$total
keys=unknown
EOF
	file="$(new_archive_name redis-before-restore)"
	write_archive "$file" "$saved"
	say "saved the data it replaces (total $total) to $file"
}

# Puts the backup's AOF directory (in $WORK/backup) in place of the one in
# data directory $1: it is unpacked next to it, then swapped in.
replace_data() {
	local data_dir="$1"
	# shellcheck disable=SC2016 # expanded by the helper's sh
	tar -C "$WORK/backup" -cf - "$AOF_DIRNAME" | in_helper sh -c '
		set -e
		cd "$1"
		rm -rf "$2.restoring"
		mkdir "$2.restoring"
		tar -C "$2.restoring" -xf - --strip-components=1
		rm -rf "$2"
		mv "$2.restoring" "$2"' sh "$data_dir" "$AOF_DIRNAME"
	say "replaced $data_dir/$AOF_DIRNAME on the volume $REDIS_CLAIM with the backup's"
}

# Starts Redis and waits until it answers (its AOF loaded).
start_redis() {
	local tries="$POD_WAIT_SECONDS"
	kube scale "statefulset/$REDIS_STATEFULSET" --replicas=1 >/dev/null
	kube rollout status "statefulset/$REDIS_STATEFULSET" --timeout="${POD_WAIT_SECONDS}s" >/dev/null
	until [[ "$(redis_call PING 2>/dev/null || true)" == PONG ]]; do
		((--tries > 0)) || die "Redis does not answer PONG after $POD_WAIT_SECONDS s; make k8s-logs shows why"
		sleep 1
	done
	say "started Redis"
}

# Fails unless Redis holds total $1 ("unknown": says what it holds).
check_total() {
	local expected="$1" total
	total="$(redis_call GET "$TOTAL_KEY")"
	total="${total:-0}"
	if [[ "$expected" == unknown ]]; then
		say "Redis holds the total $total (the backup recorded none)"
		return 0
	fi
	[[ "$total" == "$expected" ]] ||
		die "Redis holds the total $total after the restore, not the backup's $expected"
	say "Redis holds the backup's total: $total"
}

# Scales the backends back to $1, waits for them, and drops the annotation.
resume_writes() {
	local replicas="$1"
	kube scale "deployment/$BACKENDS" --replicas="$replicas" >/dev/null
	kube rollout status "deployment/$BACKENDS" --timeout="${POD_WAIT_SECONDS}s" >/dev/null
	kube annotate deployment "$BACKENDS" "$REPLICAS_ANNOTATION-" >/dev/null
	say "scaled the backends back to $replicas"
}

# On a failure after writes stopped: says where it stopped and how to go on.
report_failure() {
	local status=$?
	if [[ -n "$WORK" ]]; then rm -rf "$WORK"; fi
	[[ "$status" -ne 0 && -n "$STEP" ]] || return 0
	delete_helper 2>/dev/null || true
	echo "$PROGRAM: stopped while $STEP. The backends stay scaled to 0 (their" \
		"count is in the annotation $REPLICAS_ANNOTATION of deployment/$BACKENDS)." \
		"Run the same command again to finish the restore." >&2
}

main() {
	case "${1:-}" in
	-h | --help) usage 0 ;;
	"" | -*)
		echo "$PROGRAM: name the backup to restore" >&2
		usage 2
		;;
	esac
	[[ $# -eq 1 ]] || usage 2
	local file="$1" total current replicas data_dir
	require_tools kubectl tar gzip
	WORK="$(mktemp -d)"
	trap report_failure EXIT
	mkdir "$WORK/backup"
	read_archive "$file" "$WORK/backup"
	total="$(archive_field "$WORK/backup" total)"
	say "$file holds the total $total, taken $(archive_field "$WORK/backup" taken)"
	verify_locally "$WORK/backup" "$total"
	require_namespace
	kube get pvc "$REDIS_CLAIM" -o name >/dev/null 2>&1 ||
		die "there is no PVC $REDIS_CLAIM in $NAMESPACE to restore into; make k8s-up makes it"
	data_dir="$(redis_data_dir)"
	confirm "$CONFIRM_NAMESPACE" "replaces the Redis data in $NAMESPACE with $file (total $total); deposits made since it was taken are lost"
	STEP="stopping writes"
	replicas="$(backend_replicas_before)"
	stop_writes
	current="$(current_total)"
	STEP="stopping Redis"
	stop_redis
	STEP="replacing the data"
	delete_helper
	start_helper "$data_dir"
	save_replaced_data "$data_dir" "$current"
	replace_data "$data_dir"
	delete_helper
	STEP="starting Redis"
	start_redis
	check_total "$total"
	STEP="scaling the backends back"
	resume_writes "$replicas"
	STEP=""
	say "restored $file: the total is $total (it was $current)"
}

main "$@"
