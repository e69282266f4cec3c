#!/usr/bin/env bats
# The rendered pod specs of k8s/ at work under `podman kube play` (see
# tests/lib/target-kube.bash): they run as their security contexts say, Redis
# keeps its data in the claimed volume and demands its password, and the
# total survives replacing both pods. http.bats runs the API contract against
# the same target (suites http-kube*). The backend image has no shell or tools,
# so its pod is read from the host: /proc of its processes, podman inspect.

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

@test "the Redis pod runs as uid 999 with a read-only root and no password on its command line" {
	run in_pod redis id -u
	assert_output 999
	run in_pod redis touch /x
	assert_failure
	assert_output --partial "Read-only file system"
	local password
	password="$(cat "$TARGET_DIR/secrets/redis-password")"
	run in_pod redis cat /proc/1/cmdline
	assert_success
	refute_output --partial "$password"
}

@test "Redis refuses a client without the password and answers the probe command with it" {
	run in_pod redis env -u REDISCLI_AUTH redis-cli -h 127.0.0.1 ping
	assert_output --partial NOAUTH
	run in_pod redis sh -c 'redis-cli -h 127.0.0.1 -p 6379 ping | grep -qx PONG'
	assert_success
}

@test "a deposit is in the AOF on the claimed volume" {
	post "/v1/bitcoins?bitcoins=7"
	assert_equal "$HTTP_STATUS" 204
	run in_pod redis sh -c 'cat /data/appendonlydir/*.incr.aof'
	assert_output --partial INCRBY
	run kube_podman volume inspect --format '{{.Name}}' "$KUBE_PREFIX-data-redis-0"
	assert_output "$KUBE_PREFIX-data-redis-0"
}

@test "the total survives replacing the Redis pod and then the backend pod" {
	post "/v1/bitcoins?bitcoins=5"
	assert_equal "$HTTP_STATUS" 204
	local before
	before="$(total)"
	kube_podman pod rm --force --time 10 "$KUBE_PREFIX-redis" >/dev/null
	kube_podman kube play --network "$KUBE_PREFIX-net:alias=redis" \
		"$TARGET_DIR/play/redis.yaml" >/dev/null
	wait_until 20 kube_redis_ready
	wait_until 10 curl -sf "$BASE_URL/healthz"
	assert_equal "$(total)" "$before"
	kube_podman pod rm --force --time 10 "$KUBE_PREFIX-backend" >/dev/null
	kube_podman kube play --network "$KUBE_PREFIX-net" \
		"$TARGET_DIR/play/backend.yaml" >/dev/null
	wait_until 20 curl -sf "$BASE_URL/livez"
	assert_equal "$(total)" "$before"
}
