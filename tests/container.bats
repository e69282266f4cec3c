#!/usr/bin/env bats
# What only the container adds to the contract: the image's user, read-only filesystem,
# logs, graceful stop, start-up time and statelessness. Each test starts its own
# redis-server on loopback and its own containers (host network, loopback ports), and
# removes them in teardown, also when it fails. The HTTP contract itself runs against the
# container through TARGET=container bats tests/http.bats.

bats_load_library bats-support
bats_load_library bats-assert
load lib/common
load lib/api
load lib/container

readonly APP_UID=10001
readonly READY_BOUND_MS=5000
readonly SIZE_BOUND_BYTES=100000000

setup_file() {
	image_build_once
}

setup() {
	REDIS_DIR="$BATS_TEST_TMPDIR/redis"
	redis_start "$REDIS_DIR"
	REDIS_PORT_USED="$(cat "$REDIS_DIR/port")"
}

# Removes this test's containers, lets a paused Redis go on, then stops it.
teardown() {
	container_remove_all_below "$BATS_TEST_TMPDIR"
	if [[ -f "$REDIS_DIR/pid" ]]; then kill -CONT "$(cat "$REDIS_DIR/pid")" 2>/dev/null || true; fi
	stop_all_below "$BATS_TEST_TMPDIR"
}

# Prints a field of the image's configuration, as a Go template of `image inspect`.
image_field() {
	engine image inspect --format "$1" "$BACKEND_IMAGE"
}

# Prints the status (running, stopping, exited, ...) of the container in directory $1.
container_status() {
	engine inspect --format '{{.State.Status}}' "$(container_name "$1")"
}

# Prints the current time in milliseconds.
now_ms() {
	echo "$(($(date +%s%N) / 1000000))"
}

@test "the image declares a numeric non-root user, port 8080 and SIGINT as its stop signal" {
	local user
	user="$(image_field '{{.Config.User}}')"
	[[ "$user" =~ ^[0-9]+(:[0-9]+)?$ ]] || fail "user '$user' is not numeric"
	[[ "${user%%:*}" -ne 0 ]] || fail "the image runs as root"
	assert_equal "$(image_field '{{.Config.StopSignal}}')" SIGINT
	# shellcheck disable=SC2016 # $port is a Go template variable, not a shell one
	assert_equal "$(image_field '{{range $port, $_ := .Config.ExposedPorts}}{{$port}} {{end}}')" "8080/tcp "
	run image_field '{{range .Config.Env}}{{println .}}{{end}}'
	assert_line PORT=8080
	assert_line BIND_ADDR=0.0.0.0
	refute_line --partial PASSWORD
}

@test "no file in the image is setuid or setgid" {
	run engine run --rm --user 0 --network=none --entrypoint find "$BACKEND_IMAGE" \
		/ -xdev -type f -perm /6000
	assert_success
	assert_output ""
}

@test "the runtime image is smaller than 100 MB" {
	local size
	size="$(image_field '{{.Size}}')"
	echo "# image size: $((size / 1000000)) MB ($size bytes)" >&3
	((size < SIZE_BOUND_BYTES)) || fail "image is $size bytes"
}

@test "lighttpd runs as PID 1 under the non-root user, and no process runs as root" {
	container_start "$BATS_TEST_TMPDIR/backend" "$REDIS_PORT_USED"
	local name
	name="$(container_name "$BATS_TEST_TMPDIR/backend")"
	assert_equal "$(engine exec "$name" cat /proc/1/comm)" lighttpd
	run engine exec "$name" sh -c 'grep -h "^Uid:" /proc/[0-9]*/status | sort -u'
	assert_success
	assert_output "$(printf 'Uid:\t%s\t%s\t%s\t%s' "$APP_UID" "$APP_UID" "$APP_UID" "$APP_UID")"
}

@test "the container serves deposits with a read-only root and a tmpfs at /tmp, in cgi and fastcgi mode" {
	local mode dir name total=0
	for mode in cgi fastcgi; do
		dir="$BATS_TEST_TMPDIR/$mode"
		container_start "$dir" "$REDIS_PORT_USED" -e BACKEND_MODE="$mode"
		name="$(container_name "$dir")"
		assert_equal "$(engine inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$name")" true
		run engine exec "$name" touch /app/probe
		assert_failure
		assert_output --partial "Read-only file system"
		BASE_URL="$(container_url "$dir")"
		post "/v1/bitcoins?bitcoins=5"
		assert_equal "$HTTP_STATUS" 204
		total=$((total + 5))
		assert_equal "$(total)" "$total"
		http GET /healthz
		assert_equal "$HTTP_STATUS" 200
		container_remove "$dir"
	done
}

@test "access-log lines and deposit lines appear in the container log" {
	local dir="$BATS_TEST_TMPDIR/backend" name
	container_start "$dir" "$REDIS_PORT_USED"
	name="$(container_name "$dir")"
	BASE_URL="$(container_url "$dir")"
	post "/v1/bitcoins?bitcoins=3"
	assert_equal "$HTTP_STATUS" 204
	# lighttpd flushes its access log every few seconds; read what the engine recorded.
	wait_until 10 bash -c "'$REPO_DIR/scripts/container-engine.sh' logs '$name' 2>&1 |
		grep -qF '\"POST /v1/bitcoins?bitcoins=3 HTTP/1.1\" 204'" ||
		fail "no access-log line: $(engine logs "$name" 2>&1 | tail -5)"
	run bash -c "'$REPO_DIR/scripts/container-engine.sh' logs '$name' 2>&1"
	assert_line "deposit amount=3 total=3"
}

@test "stopping the container with its stop signal lets an in-flight deposit finish first" {
	local dir="$BATS_TEST_TMPDIR/backend" name redis_pid lighttpd cgi
	container_start "$dir" "$REDIS_PORT_USED"
	name="$(container_name "$dir")"
	lighttpd="$(engine inspect --format '{{.State.Pid}}' "$name")"
	redis_pid="$(cat "$REDIS_DIR/pid")"
	kill -STOP "$redis_pid"
	curl -s -o /dev/null --max-time 20 -w '%{http_code}' -d '' -X POST \
		"$(container_url "$dir")/v1/bitcoins?bitcoins=7" >"$BATS_TEST_TMPDIR/status" 3>&- &
	local curl_pid=$!
	wait_until 5 pgrep -P "$lighttpd" -x bitcoins.cgi || fail "the deposit never reached bitcoins.cgi"
	cgi="$(pgrep -P "$lighttpd" -x bitcoins.cgi | head -1)"
	# The deposit is sent and its CGI waits for the reply. The CGI is then
	# stopped, as a CPU too busy to run it would hold it, while Redis goes on
	# and replies: the deposit stays in flight as long as the test needs,
	# within any REDIS_TIMEOUT_MS.
	wait_until 5 waits_on_socket "$cgi"
	kill -STOP "$cgi"
	kill -CONT "$redis_pid"
	# engine stop sends the image's stop signal and waits for the container to exit.
	engine stop --time 20 "$name" >/dev/null 3>&- &
	local stop_pid=$!
	sleep 1
	# Still there a second after the signal: waiting for the deposit (docker says
	# "running", podman "stopping").
	[[ "$(container_status "$dir")" =~ ^(running|stopping)$ ]] ||
		fail "the container did not wait: $(container_status "$dir")"
	kill -CONT "$cgi"
	wait "$curl_pid" || true
	wait "$stop_pid"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/status")" 204
	assert_equal "$(container_status "$dir")" exited
	assert_equal "$(engine inspect --format '{{.State.ExitCode}}' "$name")" 0
	run bash -c "'$REPO_DIR/scripts/container-engine.sh' logs '$name' 2>&1"
	assert_line --partial "graceful shutdown started"
	assert_line "deposit amount=7 total=7"
}

@test "the container answers /healthz with 200 within 5 s of engine run (time printed)" {
	local dir="$BATS_TEST_TMPDIR/backend" started elapsed
	started="$(now_ms)"
	container_run "$dir" "$REDIS_PORT_USED"
	wait_until 10 curl -sf "$(container_url "$dir")/healthz" || fail "never ready"
	elapsed=$(($(now_ms) - started))
	echo "# ready ${elapsed} ms after engine run ($(engine --name))" >&3
	((elapsed < READY_BOUND_MS)) || fail "ready only after ${elapsed} ms"
}

@test "a new container started after the old one is removed reports the same total" {
	local first="$BATS_TEST_TMPDIR/first" second="$BATS_TEST_TMPDIR/second" name
	container_start "$first" "$REDIS_PORT_USED"
	name="$(container_name "$first")"
	BASE_URL="$(container_url "$first")"
	post "/v1/bitcoins?bitcoins=11"
	post "/v1/bitcoins?bitcoins=31"
	assert_equal "$(total)" 42
	container_remove "$first"
	run engine container inspect "$name"
	assert_failure
	container_start "$second" "$REDIS_PORT_USED"
	BASE_URL="$(container_url "$second")"
	export BASE_URL
	assert_equal "$(total)" 42
}
