#!/usr/bin/env bats
# scripts/redis-backup.sh and scripts/redis-restore.sh (make k8s-backup,
# make k8s-restore) against the stand-in cluster of lib/cluster-stubs.bash,
# whose redis-0 is a real redis-server (AOF, fsync always) in a pod-shaped
# namespace, with its data on a "volume" directory. The file-level work is
# real: BGREWRITEAOF, the write pause, tar of the multi-part AOF while
# deposits flow, loading the copy into a fresh redis-server, putting it back
# and restarting Redis on it. Only the kubectl plumbing is a stand-in, and it
# refuses any call without --context minikube and --namespace devops-2025.
# The scripts run from a copy of scripts/, so backups/ is the test's own.

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
load lib/common
load lib/netns
load lib/kubectl
load lib/cluster-stubs

setup() {
	cluster_setup_repo
	cluster_pod_start
}

teardown() {
	stop_pidfile "$BATS_TEST_TMPDIR/depositor.pid"
	cluster_stop
	stop_all_below "$BATS_TEST_TMPDIR"
}

# Fails when a stand-in refused a call.
refute_refusals() {
	run stub_calls
	refute_output --partial REFUSED
}

# Fails when the stand-ins were asked to change anything in the cluster.
refute_changes() {
	run stub_calls
	refute_output --regexp '^kubectl .* (delete|scale|apply|annotate) '
}

# Prints Redis's total.
live_total() {
	cluster_redis_cli GET bitcoins
}

# Succeeds when Redis's total is above $1.
total_above() {
	(($(live_total) > $1))
}

# Deposits 1 bitcoin $1 times, at once.
deposit_times() {
	cluster_redis_cli -r "$1" INCRBY bitcoins 1 >/dev/null
}

# Keeps depositing 1 bitcoin in a loop, from inside the pod's namespaces,
# until stopped (teardown stops it).
start_depositing() {
	REDISCLI_AUTH="$(cat "$CLUSTER_SECRETS/redis-app-password")" netns_exec "$CLUSTER/pod" \
		redis-cli --user app -h 127.0.0.1 -p 6379 -r -1 -i 0.001 INCRBY bitcoins 1 \
		>/dev/null 2>&1 3>&- &
	echo "$!" >"$BATS_TEST_TMPDIR/depositor.pid"
}

# Loads the AOF directory of archive $1 into a fresh redis-server of the
# test's own (as shipped: AOF, and a truncated AOF refused), and prints its
# total.
load_archive_total() {
	local dir="$BATS_TEST_TMPDIR/loaded"
	rm -rf "$dir"
	mkdir -p "$dir"
	tar -C "$dir" -xzf "$1" appendonlydir
	redis_start "$dir" --aof-load-truncated no >/dev/null
	redis_cmd "$dir" GET bitcoins
	stop_pidfile "$dir/pid"
}

# Prints field $2 of backup-info.txt in archive $1.
archive_info() {
	tar -xzOf "$1" backup-info.txt | sed -n "s/^$2=//p"
}

# Runs the backup into $BATS_TEST_TMPDIR/backup.tar.gz.
backup() {
	run "$REPO/scripts/redis-backup.sh" "$BATS_TEST_TMPDIR/backup.tar.gz"
}

# Runs the restore of archive $1, confirmed.
restore() {
	CONFIRM=devops-2025 run "$REPO/scripts/redis-restore.sh" "$1"
}

@test "a backup taken while deposits flow loads, in a fresh redis-server, exactly the total it recorded, and deposits go on" {
	deposit_times 2000
	start_depositing
	wait_until 10 total_above 2100
	backup
	assert_success
	assert_line "redis-backup: Redis rewrote its AOF"
	assert_line --regexp "^redis-backup: copied .*/appendonlydir with writes paused \(under [0-9]+ ms\); total [0-9]+$"
	assert_line --regexp "^redis-backup: test-loaded into a local redis-server: total [0-9]+, as recorded$"
	local archive="$BATS_TEST_TMPDIR/backup.tar.gz" recorded after
	recorded="$(archive_info "$archive" total)"
	((recorded > 2100)) || fail "the backup recorded $recorded, fewer than the deposits made before it"
	assert_equal "$(load_archive_total "$archive")" "$recorded"
	# Writes resumed: the depositor's total keeps growing past the backup's.
	after="$(live_total)"
	wait_until 10 total_above "$after"
	((after > recorded)) || fail "no deposit since the backup: $after"
	run tar -tzf "$archive"
	assert_line "backup-info.txt"
	assert_line "appendonlydir/appendonly.aof.manifest"
	assert_line --regexp '^appendonlydir/appendonly\.aof\.[0-9]+\.base\.(rdb|aof)$'
	refute_refusals
}

@test "the backup changes nothing in the cluster, and refuses to overwrite a file or to copy from a Redis that does not answer" {
	deposit_times 10
	backup
	assert_success
	refute_changes
	backup
	assert_failure 1
	assert_output "redis-backup: $BATS_TEST_TMPDIR/backup.tar.gz exists; a backup is never overwritten"
	cluster_redis_down
	run "$REPO/scripts/redis-backup.sh" "$BATS_TEST_TMPDIR/other.tar.gz"
	assert_failure 1
	assert_output --partial "redis-backup: Redis (redis-0 in devops-2025) does not answer PING"
	[[ ! -e "$BATS_TEST_TMPDIR/other.tar.gz" ]]
	refute_refusals
}

@test "without a file name the backup goes to backups/redis-<UTC time>.tar.gz, and two runs make two archives" {
	deposit_times 3
	run "$REPO/scripts/redis-backup.sh"
	assert_success
	sleep 1
	run "$REPO/scripts/redis-backup.sh"
	assert_success
	run bash -c "ls '$REPO/backups'"
	assert_equal "${#lines[@]}" 2
	assert_line --regexp '^redis-[0-9]{8}T[0-9]{6}Z\.tar\.gz$'
}

@test "restore puts the backup's total back into a new Redis, saves what it replaced, and scales the backends back" {
	deposit_times 500
	backup
	assert_success
	local archive="$BATS_TEST_TMPDIR/backup.tar.gz" old_pid saved
	deposit_times 77
	assert_equal "$(live_total)" 577
	old_pid="$(cat "$CLUSTER/pod/redis/pid")"
	: >"$STUB_DIR/calls"
	restore "$archive"
	assert_success
	assert_line "redis-restore: Redis holds the backup's total: 500"
	assert_line "redis-restore: restored $archive: the total is 500 (it was 577)"
	assert_equal "$(live_total)" 500
	[[ "$(cat "$CLUSTER/pod/redis/pid")" != "$old_pid" ]] || fail "Redis was not restarted"
	assert_equal "$(cluster_jsonpath deployment.backend '{.spec.replicas}')" 3
	assert_equal "$(cluster_jsonpath deployment.backend "{.metadata.annotations['money-bank/replicas-before-restore']}")" ""
	run ! stub_pod_exists redis-restore
	# What it replaced is a backup in its own right.
	saved="$(ls "$REPO"/backups/redis-before-restore-*.tar.gz)"
	assert_equal "$(archive_info "$saved" total)" 577
	assert_equal "$(load_archive_total "$saved")" 577
	# Writes stop before Redis stops, and start again only after it holds the total.
	run bash -c "grep -nE ' scale | GET bitcoins' '$STUB_DIR/calls' | sed -E 's/^([0-9]+):.* (scale [^ ]+ --replicas=[0-9]+|GET bitcoins).*/\\2/'"
	assert_output - <<'EOF'
scale deployment/backend --replicas=0
GET bitcoins
scale statefulset/redis --replicas=0
scale statefulset/redis --replicas=1
GET bitcoins
scale deployment/backend --replicas=3
EOF
	refute_refusals
}

@test "the restore's helper pod passes the Kubernetes schema and the restricted Pod Security Standard's fields" {
	[[ -d "$REPO_DIR/tests/node_modules" ]] || skip "tests/node_modules is missing: run scripts/lib/deps-k8s.sh"
	deposit_times 5
	backup
	assert_success
	restore "$BATS_TEST_TMPDIR/backup.tar.gz"
	assert_success
	local pod="$STUB_DIR/applied/pod.redis-restore.yaml"
	run node "$REPO_DIR/tests/k8s/validate-schema.js" "$pod"
	assert_success
	refute_output --partial INVALID
	run "$REAL_KUBECTL" patch --local -f "$pod" --type merge -p '{}' -o jsonpath='{.metadata.namespace} {.spec.securityContext.runAsNonRoot} {.spec.securityContext.seccompProfile.type} {.spec.containers[0].securityContext.allowPrivilegeEscalation} {.spec.containers[0].securityContext.capabilities.drop} {.spec.containers[0].image} {.spec.volumes[0].persistentVolumeClaim.claimName}'
	assert_output 'devops-2025 true RuntimeDefault false ["ALL"] redis:7.4.11-bookworm data-redis-0'
}

@test "restore refuses without confirmation, or an archive missing a file its AOF manifest lists, and changes nothing" {
	deposit_times 40
	backup
	assert_success
	deposit_times 2
	local archive="$BATS_TEST_TMPDIR/backup.tar.gz" broken="$BATS_TEST_TMPDIR/broken"
	: >"$STUB_DIR/calls"
	run "$REPO/scripts/redis-restore.sh" "$archive" </dev/null
	assert_failure 1
	assert_output --partial "replaces the Redis data in devops-2025 with $archive (total 40); deposits made since it was taken are lost"
	assert_output --partial "Confirm with CONFIRM=devops-2025"
	mkdir -p "$broken"
	tar -C "$broken" -xzf "$archive"
	rm "$broken"/appendonlydir/*.incr.aof
	tar -C "$broken" -czf "$BATS_TEST_TMPDIR/broken.tar.gz" appendonlydir backup-info.txt
	restore "$BATS_TEST_TMPDIR/broken.tar.gz"
	assert_failure 1
	assert_output --regexp "appendonlydir lacks files its manifest lists: appendonly\.aof\.[0-9]+\.incr\.aof"
	restore "$BATS_TEST_TMPDIR/nothing.tar.gz"
	assert_failure 1
	assert_output "redis-restore: no readable backup at $BATS_TEST_TMPDIR/nothing.tar.gz"
	refute_changes
	assert_equal "$(live_total)" 42
}

@test "restore refuses an archive whose last AOF increment was cut short, as a copy taken mid-append would be" {
	deposit_times 30
	backup
	assert_success
	local archive="$BATS_TEST_TMPDIR/backup.tar.gz" cut="$BATS_TEST_TMPDIR/cut" incr
	mkdir -p "$cut"
	tar -C "$cut" -xzf "$archive"
	# Deposits after the rewrite land in the increment; cut the last in half.
	for incr in "$cut"/appendonlydir/*.incr.aof; do :; done
	[[ -f "$incr" ]] || fail "the backup has no AOF increment"
	# shellcheck disable=SC2016 # RESP, not shell: $6 is a length
	printf '*3\r\n$6\r\nINCRBY\r\n$8\r\nbitco' >>"$incr"
	tar -C "$cut" -czf "$BATS_TEST_TMPDIR/cut.tar.gz" appendonlydir backup-info.txt
	: >"$STUB_DIR/calls"
	restore "$BATS_TEST_TMPDIR/cut.tar.gz"
	assert_failure 1
	assert_output --partial "a local redis-server could not load the AOF"
	assert_output --partial "redis-restore: the AOF does not load"
	refute_changes
	assert_equal "$(live_total)" 30
}

@test "a restore that stopped half-way keeps the backends at 0, says how to go on, and finishes when run again" {
	deposit_times 9
	backup
	assert_success
	deposit_times 1
	touch "$CLUSTER/helper-not-ready"
	restore "$BATS_TEST_TMPDIR/backup.tar.gz"
	assert_failure
	assert_output --partial "redis-restore: stopped while replacing the data. The backends stay scaled to 0"
	assert_output --partial "Run the same command again to finish the restore."
	assert_equal "$(cluster_jsonpath deployment.backend '{.spec.replicas}')" 0
	rm "$CLUSTER/helper-not-ready"
	restore "$BATS_TEST_TMPDIR/backup.tar.gz"
	assert_success
	assert_equal "$(live_total)" 9
	# The count from before the first run, kept in the annotation.
	assert_equal "$(cluster_jsonpath deployment.backend '{.spec.replicas}')" 3
	refute_refusals
}

@test "restore works while Redis is down, as with a broken AOF, and the data it saved then can be restored in turn" {
	deposit_times 20
	backup
	assert_success
	deposit_times 5
	cluster_redis_down
	restore "$BATS_TEST_TMPDIR/backup.tar.gz"
	assert_success
	assert_line "redis-restore: restored $BATS_TEST_TMPDIR/backup.tar.gz: the total is 20 (it was unknown)"
	assert_equal "$(live_total)" 20
	local saved
	saved="$(ls "$REPO"/backups/redis-before-restore-*.tar.gz)"
	assert_equal "$(archive_info "$saved" total)" unknown
	restore "$saved"
	assert_success
	assert_line "redis-restore: test-loaded into a local redis-server: total 25 (none was recorded)"
	assert_line "redis-restore: Redis holds the total 25 (the backup recorded none)"
	assert_equal "$(live_total)" 25
	refute_refusals
}
