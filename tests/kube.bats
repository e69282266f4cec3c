#!/usr/bin/env bats
# The rendered pod specs of k8s/ at work under `podman kube play` (see
# tests/lib/target-kube.bash): they run as their security contexts say, Redis
# keeps its data in the claimed volume and knows only its ACL users (their
# password hashes, from the Secrets), each pod holds only the password it
# needs, in a file, and the total survives replacing both pods. http.bats runs
# the API contract against the same target (suites http-kube*). The backend
# image has no shell or tools, so its pod is read from the host: /proc of its
# processes, podman inspect.

bats_load_library bats-support
bats_load_library bats-assert
load lib/common
load lib/api
load lib/target-kube

setup_file() {
	target_start
}

teardown_file() {
	target_stop
}

# Runs a command in the container of pod $1 (the Redis stand-in: it has a shell).
in_pod() {
	local pod="$1"
	shift
	kube_podman exec "$KUBE_PREFIX-$pod-$pod" "$@"
}

# Prints the host pid of the backend container's first process.
backend_pid() {
	kube_podman inspect --format '{{.State.Pid}}' "$KUBE_PREFIX-backend-backend"
}

@test "the backend pod runs as uid 10001 with no capabilities, a read-only root and a writable /tmp" {
	local pid member
	pid="$(backend_pid)"
	run pid_namespace_members "$pid"
	[[ -n "$output" ]] || fail "no process found in the backend's pid namespace"
	for member in $output; do
		assert_equal "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$member/status")" \
			"10001 10001 10001 10001"
		run grep '^CapEff' "/proc/$member/status"
		assert_output --regexp '^CapEff:[[:space:]]+0+$'
	done
	# Writes through the container's own root, from the host: as root to the image's
	# files, and as the pod's user to /tmp.
	run touch "/proc/$pid/root/app/x"
	assert_failure
	assert_output --partial "Read-only file system"
	run setpriv --reuid 10001 --regid 10001 --clear-groups touch "/proc/$pid/root/tmp/x"
	assert_success
}

@test "the backend pod's hooks and probes exec nothing: preStop is Kubernetes' sleep action" {
	run node "$REPO_DIR/tests/k8s/pod-execs.js" "$TARGET_DIR/render/app.yaml" Deployment backend
	assert_success
	refute_line --regexp '^exec '
	assert_line --regexp '^preStop \{"sleep":\{"seconds":[1-9][0-9]*\}\}$'
}

@test "the backend resolved REDIS_HOST redis once at start, through the pod network's DNS" {
	local address
	address="$(kube_podman inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' \
		"$KUBE_PREFIX-redis-redis")"
	[[ -n "$address" ]] || fail "the Redis pod has no address on $KUBE_PREFIX-net"
	run grep -F "Redis redis:6379 at $address)" "$TARGET_LOG"
	assert_success
}

# Runs redis-cli in the Redis pod as user $1, its password (from this test
# run's secrets) on stdin.
redis_as() {
	local user="$1"
	shift
	kube_podman exec -i "$KUBE_PREFIX-redis-redis" \
		redis-cli --user "$user" --askpass -h 127.0.0.1 -p 6379 "$@" \
		<"$TARGET_DIR/secrets/redis-$user-password"
}

# Prints the host pids of the processes of the container of pod $1.
pod_pids() {
	local lighttpd
	lighttpd="$(kube_podman inspect --format '{{.State.Pid}}' "$KUBE_PREFIX-$1-$1")"
	echo "$lighttpd"
	pgrep -P "$lighttpd" || true
}

@test "the Redis pod runs as uid 999 with a read-only root and no password on its command line" {
	run in_pod redis id -u
	assert_output 999
	run in_pod redis touch /x
	assert_failure
	assert_output --partial "Read-only file system"
	local user password
	run in_pod redis cat /proc/1/cmdline
	assert_success
	for user in app probe admin; do
		password="$(cat "$TARGET_DIR/secrets/redis-$user-password")"
		refute_output --partial "$password"
	done
}

@test "Redis refuses a client without a user and answers the probe command, which authenticates as probe" {
	run in_pod redis redis-cli -h 127.0.0.1 ping
	assert_output --partial NOAUTH
	run kube_redis_ready
	assert_success
	run redis_as probe ping
	assert_output PONG
	run redis_as probe get bitcoins
	assert_output --partial NOPERM
}

@test "the pods hold only the passwords they need, in files: Redis the hashes and the probe's, the backend the app's" {
	local user password pid
	run in_pod redis sh -c 'cat /etc/redis-acl/* /etc/redis-probe/*'
	assert_success
	refute_output --partial "$(cat "$TARGET_DIR/secrets/redis-app-password")"
	refute_output --partial "$(cat "$TARGET_DIR/secrets/redis-admin-password")"
	assert_output --partial "$(cat "$TARGET_DIR/secrets/redis-probe-password")"
	assert_output --partial "user app on #"
	# The backend's processes, as the host sees them: no password in any
	# environment or command line, not even the app's.
	for pid in $(pod_pids backend); do
		for user in app probe admin; do
			password="$(cat "$TARGET_DIR/secrets/redis-$user-password")"
			! grep -qaF "$password" "/proc/$pid/environ" "/proc/$pid/cmdline" ||
				fail "process $pid ($(cat "/proc/$pid/comm")) holds the $user password"
		done
		grep -qa 'REDIS_PASSWORD_FILE=/etc/redis-app/password' "/proc/$pid/environ" ||
			fail "process $pid ($(cat "/proc/$pid/comm")) was not given the password file"
	done
}

@test "in the pods, the app's credentials run the API and are refused CONFIG, FLUSHALL and other keys" {
	post "/v1/bitcoins?bitcoins=3" -H "Idempotency-Key: kube-acl-$RANDOM"
	assert_equal "$HTTP_STATUS" 204
	http GET /healthz
	assert_equal "$HTTP_STATUS" 200
	run redis_as app get bitcoins
	assert_output "$(total)"
	run redis_as app config get requirepass
	assert_output --partial NOPERM
	run redis_as app flushall
	assert_output --partial NOPERM
	run redis_as app keys '*'
	assert_output --partial NOPERM
	run redis_as app get other-key
	assert_output --partial NOPERM
	run redis_as app set bitcoins 0
	assert_output --partial NOPERM
}

@test "Redis's readiness probe loads the function library as probe when Redis lacks it; until then deposits get 503 and change nothing; the app runs no Lua of its own" {
	local before
	before="$(total)"
	run redis_as app eval 'return 1' 0
	assert_output --partial NOPERM
	run redis_as app function load "$(printf '#!lua name=other\nredis.register_function("f", function() return 1 end)')"
	assert_output --partial NOPERM
	run redis_as admin function flush
	assert_output OK
	post "/v1/bitcoins?bitcoins=4"
	assert_json_error 503
	assert_equal "$(total)" "$before"
	run kube_redis_ready
	assert_success
	run redis_as admin function list libraryname moneybank
	assert_line moneybank
	post "/v1/bitcoins?bitcoins=4"
	assert_equal "$HTTP_STATUS" 204
	assert_equal "$(total)" "$((before + 4))"
}

@test "a deposit is in the AOF on the claimed volume" {
	post "/v1/bitcoins?bitcoins=7"
	assert_equal "$HTTP_STATUS" 204
	run in_pod redis sh -c 'cat /data/appendonlydir/*.incr.aof'
	assert_output --partial INCRBY
	run kube_podman volume inspect --format '{{.Name}}' "$KUBE_PREFIX-data-redis-0"
	assert_output "$KUBE_PREFIX-data-redis-0"
}

@test "the total and the Idempotency-Keys survive replacing the Redis pod and then the backend pod" {
	local key="kube-restart-$RANDOM" before
	post "/v1/bitcoins?bitcoins=5"
	assert_equal "$HTTP_STATUS" 204
	# A keyed deposit is a MULTI/EXEC in the AOF, which the replay must keep
	# whatever the default user's ACL (gen-redis-secret.sh).
	post "/v1/bitcoins?bitcoins=6" -H "Idempotency-Key: $key"
	assert_equal "$HTTP_STATUS" 204
	before="$(total)"
	kube_podman pod rm --force --time 10 "$KUBE_PREFIX-redis" >/dev/null
	kube_podman kube play --network "$KUBE_PREFIX-net:alias=redis" \
		"$TARGET_DIR/play/redis.yaml" >/dev/null
	wait_until 20 kube_redis_ready
	wait_until 10 curl -sf "$BASE_URL/healthz"
	assert_equal "$(total)" "$before"
	post "/v1/bitcoins?bitcoins=6" -H "Idempotency-Key: $key"
	assert_equal "$(header Idempotent-Replayed)" true
	kube_podman pod rm --force --time 10 "$KUBE_PREFIX-backend" >/dev/null
	kube_podman kube play --network "$KUBE_PREFIX-net" \
		"$TARGET_DIR/play/backend.yaml" >/dev/null
	wait_until 20 curl -sf "$BASE_URL/livez"
	assert_equal "$(total)" "$before"
}
