#!/usr/bin/env bats
# scripts/rotate-redis-password.sh (make k8s-rotate-password) against the
# stand-in cluster of lib/cluster-stubs.bash: redis-0 is a real redis-server
# with production's users.acl (the default user off), as the Secret
# redis-acl mounts it; the "kubelet" updates the mounted Secrets (after a
# delay the test sets), and a rollout restart gives the backends the app's
# Secret as it is. A depositor stands in for the backends' CGIs: each
# deposit authenticates as app with the password file the backends mount,
# read anew each time, as a CGI does. The scripts run from a copy of
# scripts/, so k8s/secrets/ is the test's own.

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
	DEPOSITS="$BATS_TEST_TMPDIR/deposits"
	mkdir -p "$DEPOSITS"
}

teardown() {
	stop_pidfile "$BATS_TEST_TMPDIR/depositor.pid"
	cluster_stop
	stop_all_below "$BATS_TEST_TMPDIR"
}

# Runs the rotation script (bats' run) with its arguments.
rotate() {
	run "$REPO/scripts/rotate-redis-password.sh" "$@"
}

# Fails when a stand-in refused a call.
refute_refusals() {
	run stub_calls
	refute_output --partial REFUSED
}

# Prints what Redis answers to a deposit of 1 as user app with the password
# in file $1.
deposit_with() {
	cluster_redis_as app "$1" INCRBY bitcoins 1 2>&1
}

# Succeeds when Redis refuses the app password in file $1 (WRONGPASS).
refused() {
	[[ "$(deposit_with "$1")" == *WRONGPASS* ]]
}

# Succeeds when a deposit with the app password in file $1 is counted.
accepted() {
	[[ "$(deposit_with "$1")" =~ ^[0-9]+$ ]]
}

# Keeps depositing 1 bitcoin every 50 ms, as the backends do, with the
# password file they mount. Counted deposits go to $DEPOSITS/ok, refusals
# (NOAUTH, WRONGPASS) to $DEPOSITS/refused. Redis 7.0's ACL LOAD closes the
# connections of its users; a deposit on one then fails with no answer
# (not a refusal), as any dropped connection does, and goes to
# $DEPOSITS/dropped.
start_depositing() {
	local file="$CLUSTER/mounts/redis-password/password"
	(
		while :; do
			reply="$(deposit_with "$file")"
			if [[ "$reply" =~ ^[0-9]+$ ]]; then
				echo ok >>"$DEPOSITS/ok"
			elif [[ "$reply" == *NOAUTH* || "$reply" == *WRONGPASS* ]]; then
				echo "$reply" >>"$DEPOSITS/refused"
			else
				echo "$reply" >>"$DEPOSITS/dropped"
			fi
			sleep 0.05
		done
	) 3>&- &
	echo "$!" >"$BATS_TEST_TMPDIR/depositor.pid"
}

# Stops the depositor and fails if Redis refused any of its deposits, or
# counted none.
assert_no_refusals() {
	stop_pidfile "$BATS_TEST_TMPDIR/depositor.pid"
	assert_equal "$(cat "$DEPOSITS/refused" 2>/dev/null)" ""
	(($(wc -l <"$DEPOSITS/ok") > 5)) || fail "only $(wc -l <"$DEPOSITS/ok") deposits were counted"
	echo "# $(wc -l <"$DEPOSITS/ok") deposits counted, none refused," \
		"$(wc -l <"$DEPOSITS/dropped" 2>/dev/null || echo 0) dropped by ACL LOAD" >&3
}

# Prints a checksum of every file in the test's k8s/secrets/.
secrets_state() {
	(cd "$CLUSTER_SECRETS" && find . -type f -exec sha256sum {} + | sort)
}

# Keeps a copy of the app's password file as it is now, and prints its path.
keep_password() {
	cp "$CLUSTER_SECRETS/redis-app-password" "$BATS_TEST_TMPDIR/$1"
	echo "$BATS_TEST_TMPDIR/$1"
}

@test "rotate-redis-password --help prints its usage and changes nothing" {
	local before
	before="$(secrets_state)"
	rotate --help
	assert_success
	assert_output --partial "scripts/rotate-redis-password.sh [--user app|probe|admin] [--force]"
	assert_equal "$(secrets_state)" "$before"
	assert_equal "$(stub_calls)" ""
}

@test "rotating the app's password refuses no deposit; afterwards the old password gets WRONGPASS and the new one deposits" {
	local old new
	old="$(keep_password old)"
	start_depositing
	wait_until 10 test -s "$DEPOSITS/ok"
	rotate
	assert_success
	assert_no_refusals
	assert_line "rotate-redis-password: made a new password for the Redis user app in $CLUSTER_SECRETS/redis-app-password.next"
	assert_line --partial "rotate-redis-password: Redis read users.acl again (ACL LOAD): it accepts the old and the new password of app"
	assert_line --partial "rotate-redis-password: restarting the backends (kubectl rollout restart deployment/backend"
	assert_line --partial "rotate-redis-password: rotated the password of the Redis user app: the old one is refused (WRONGPASS)"
	new="$CLUSTER_SECRETS/redis-app-password"
	[[ "$(cat "$new")" != "$(cat "$old")" ]] || fail "the password did not change"
	run deposit_with "$old"
	assert_output --partial WRONGPASS
	accepted "$new"
	# The backends mount the new one; users.acl holds one hash for app again.
	assert_equal "$(cat "$CLUSTER/mounts/redis-password/password")" "$(cat "$new")"
	[[ "$(grep '^user app ' "$CLUSTER_SECRETS/users.acl" | grep -o '#' | wc -l)" == 1 ]]
	run ls "$CLUSTER_SECRETS"
	refute_output --regexp '\.(next|old|retired)$'
	refute_refusals
}

@test "rotate-redis-password run again within 24 hours changes nothing; --force rotates again" {
	local before
	rotate
	assert_success
	before="$(secrets_state)"
	: >"$STUB_DIR/calls"
	rotate
	assert_success
	assert_output --partial "less than 24 hours ago, and Redis accepts it: nothing changed (--force rotates it again)"
	assert_equal "$(secrets_state)" "$before"
	run grep -E ' (apply|rollout|delete) ' "$STUB_DIR/calls"
	assert_output ""
	rotate --force
	assert_success
	[[ "$(secrets_state)" != "$before" ]] || fail "--force did not rotate"
	refute_refusals
}

@test "a rotation that stopped half-way (slow kubelet, stuck rollout) goes on when run again, and deposits with the old and the new password work at every stop" {
	local old new
	old="$(keep_password old)"
	start_depositing
	# Stop 1: the kubelet does not bring redis-0 the new users.acl in time.
	echo 100000 >"$CLUSTER/kubelet-delay"
	ROTATE_SYNC_SECONDS=3 rotate
	assert_failure 1
	assert_output --partial "redis-0 still does not see the new users.acl after 3 s"
	assert_output --partial "Run this again to go on"
	accepted "$old"
	new="$CLUSTER_SECRETS/redis-app-password.next"
	[[ -s "$new" ]]
	cp "$new" "$BATS_TEST_TMPDIR/new"
	new="$BATS_TEST_TMPDIR/new"
	# Stop 2: the kubelet catches up, but the backends' rollout sticks.
	rm "$CLUSTER/kubelet-delay"
	touch "$CLUSTER/rollout-stuck"
	rotate
	assert_failure 1
	assert_output --partial "going on with a rotation that stopped before Redis accepted the new password"
	assert_output --partial "the backends' rollout did not finish"
	assert_output --partial "Both passwords stay valid"
	accepted "$old"
	accepted "$new"
	# Then it finishes.
	rm "$CLUSTER/rollout-stuck"
	rotate
	assert_success
	assert_output --partial "going on with a rotation that stopped before the clients had the new password"
	assert_no_refusals
	run deposit_with "$old"
	assert_output --partial WRONGPASS
	accepted "$new"
	assert_equal "$(cat "$CLUSTER_SECRETS/redis-app-password")" "$(cat "$new")"
	refute_refusals
}

@test "rotating the probe's password waits for redis-0's mounted copy; the admin's rotates too, and each old one is refused" {
	local old_probe old_admin
	cp "$CLUSTER_SECRETS/redis-probe-password" "$BATS_TEST_TMPDIR/old-probe"
	old_probe="$BATS_TEST_TMPDIR/old-probe"
	echo 2 >"$CLUSTER/kubelet-delay"
	rotate --user probe
	assert_success
	assert_line --regexp "^rotate-redis-password: redis-0 sees the new probe password \(after [0-9]+ s\)$"
	assert_equal "$(cat "$CLUSTER/mounts/probe-password/password")" "$(cat "$CLUSTER_SECRETS/redis-probe-password")"
	run cluster_redis_as probe "$old_probe" PING
	refute_output PONG
	run cluster_redis_as probe "$CLUSTER_SECRETS/redis-probe-password" PING
	assert_output PONG
	cp "$CLUSTER_SECRETS/redis-admin-password" "$BATS_TEST_TMPDIR/old-admin"
	old_admin="$BATS_TEST_TMPDIR/old-admin"
	rm "$CLUSTER/kubelet-delay"
	rotate --user admin
	assert_success
	assert_output --partial "the admin password is in no Secret"
	run cluster_redis_as admin "$old_admin" PING
	refute_output PONG
	run cluster_redis_as admin "$CLUSTER_SECRETS/redis-admin-password" PING
	assert_output PONG
	refute_refusals
}

# Fails unless nothing changed: the files, the Secrets, Redis's users.
assert_unchanged() {
	assert_equal "$(secrets_state)" "$1"
	run grep -E ' (apply|rollout|delete) ' "$STUB_DIR/calls"
	assert_output ""
	run ls "$CLUSTER_SECRETS"
	refute_output --regexp '\.(next|old|retired)$'
}

@test "without the namespace, with Redis down, or with a wrong admin password the rotation says so and changes nothing" {
	local before acl
	before="$(secrets_state)"
	acl="$(cluster_redis_cli ACL LIST)"
	rm "$CLUSTER/namespace"
	rotate
	assert_failure 1
	assert_output "rotate-redis-password: the namespace devops-2025 does not exist on context minikube; run make k8s-up first"
	assert_unchanged "$before"
	touch "$CLUSTER/namespace"
	# A wrong admin password.
	cp "$CLUSTER_SECRETS/redis-admin-password" "$BATS_TEST_TMPDIR/admin"
	printf 'not-the-password' >"$CLUSTER_SECRETS/redis-admin-password"
	before="$(secrets_state)"
	rotate
	assert_failure 1
	assert_output --partial "Redis refuses the admin password in $CLUSTER_SECRETS/redis-admin-password (WRONGPASS)"
	assert_output --partial "Nothing was changed."
	assert_unchanged "$before"
	cp "$BATS_TEST_TMPDIR/admin" "$CLUSTER_SECRETS/redis-admin-password"
	assert_equal "$(cluster_redis_cli ACL LIST)" "$acl"
	# Redis down: the StatefulSet scaled to 0, no pod redis-0.
	before="$(secrets_state)"
	cluster_redis_down
	rotate
	assert_failure 1
	assert_output --partial "there is no pod redis-0 in devops-2025"
	assert_output --partial "Nothing was changed."
	assert_unchanged "$before"
	refute_refusals
}
