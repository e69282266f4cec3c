#!/usr/bin/env bats
# What only the container adds to the contract: the image's user, read-only filesystem,
# logs, graceful stop, start-up time, name resolution and statelessness. Each test starts
# its own redis-server on loopback and its own containers (host network, loopback ports),
# and removes them in teardown, also when it fails. The image has no shell or tools, so
# what happens inside is read from the host: /proc of the container's processes, the
# engine's inspect and export. The HTTP contract itself runs against the container
# through TARGET=container bats tests/http.bats; tests/image.bats checks what the image
# holds.

bats_load_library bats-support
bats_load_library bats-assert
load lib/common
load lib/api
load lib/container
load lib/netns

readonly APP_UID=10001
readonly READY_BOUND_MS=5000
# Issue 13: under 20 MB (the Debian-based image was about 86 MB).
readonly SIZE_BOUND_BYTES=20000000

setup_file() {
	image_build_once
}

setup() {
	REDIS_DIR="$BATS_TEST_TMPDIR/redis"
	redis_start "$REDIS_DIR"
	REDIS_PORT_USED="$(cat "$REDIS_DIR/port")"
}

# Removes this test's containers, lets a paused Redis go on, then stops it and the
# network namespace of a name-resolution test.
teardown() {
	container_remove_all_below "$BATS_TEST_TMPDIR"
	if [[ -f "$REDIS_DIR/pid" ]]; then kill -CONT "$(cat "$REDIS_DIR/pid")" 2>/dev/null || true; fi
	if [[ -f "$BATS_TEST_TMPDIR/ns/pid" ]]; then netns_stop "$BATS_TEST_TMPDIR/ns"; fi
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

# Succeeds when a process named $2 runs in the container in directory $1 (the host's /proc
# tells: the image has no shell to ask).
container_runs_process() {
	pid_namespace_commands "$(container_host_pid "$(container_name "$1")")" | grep -qx "$2"
}

# Starts the image in the network namespace $1 (lib/netns.bash: its loopback, its
# pod-style resolv.conf), state in directory $2, with REDIS_HOST $3 and more engine-run
# flags after. Waits until it answers /livez on the namespace's loopback.
container_start_in_netns() {
	local ns="$1" dir="$2" redis_host="$3" name flags
	shift 3
	mkdir -p "$dir"
	name="moneybank-test-$$-$RANDOM$RANDOM"
	echo "$name" >"$dir/name"
	read -r -a flags <<<"$(read_only_flags | tr '\n' ' ')"
	engine run --detach --name "$name" --label moneybank-test=1 \
		--network "ns:/proc/$(cat "$ns/pid")/ns/net" "${flags[@]}" \
		--volume "$ns/resolv.conf:/etc/resolv.conf:ro" \
		-e PORT="$NETNS_BACKEND_PORT" -e BIND_ADDR=127.0.0.1 \
		-e REDIS_HOST="$redis_host" -e REDIS_PORT="$NETNS_REDIS_PORT" "$@" \
		"$BACKEND_IMAGE" >/dev/null
	engine logs --follow "$name" >>"$dir/container.log" 2>&1 3>&- &
	echo "$!" >"$dir/logs.pid"
	if ! wait_until 10 netns_run "$ns" curl -sf "http://127.0.0.1:$NETNS_BACKEND_PORT/livez"; then
		tail -5 "$dir/container.log" >&2
		return 1
	fi
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

@test "no file in the image is setuid or setgid, and only root owns and may write any" {
	local root="$BATS_TEST_TMPDIR/image"
	image_extract "$root"
	run find "$root" -xdev -type f -perm /6000
	assert_success
	assert_output ""
	# /tmp is the mount point of the runtime's tmpfs, sticky like any /tmp.
	run find "$root" -mindepth 1 \( ! -user 0 -o ! -group 0 -o \( ! -type l -perm /022 \) \) \
		! -path "$root/tmp"
	assert_success
	assert_output ""
}

@test "the runtime image is smaller than 20 MB (size and files printed)" {
	local size root="$BATS_TEST_TMPDIR/image"
	size="$(image_field '{{.Size}}')"
	image_extract "$root"
	echo "# image size: $size bytes; its files and links (path, bytes):" >&3
	(cd "$root" && find . -mindepth 1 ! -type d -printf '#   /%P %s\n' | sort) >&3
	((size < SIZE_BOUND_BYTES)) || fail "image is $size bytes"
}

@test "lighttpd runs as PID 1 under the non-root user, and no process runs as root" {
	container_start "$BATS_TEST_TMPDIR/backend" "$REDIS_PORT_USED"
	local name pid member
	name="$(container_name "$BATS_TEST_TMPDIR/backend")"
	pid="$(container_host_pid "$name")"
	# The container's PID 1, as the host sees it, is lighttpd itself (the launcher
	# exec'd it): it gets the stop signal directly.
	assert_equal "$(cat "/proc/$pid/comm")" lighttpd
	assert_equal "$(sed -n 's/^NSpid:.*[[:space:]]\([0-9]*\)$/\1/p' "/proc/$pid/status")" 1
	run pid_namespace_members "$pid"
	assert_success
	[[ -n "$output" ]] || fail "no process found in the container's pid namespace"
	for member in $output; do
		assert_equal "$(grep '^Uid:' "/proc/$member/status")" \
			"$(printf 'Uid:\t%s\t%s\t%s\t%s' "$APP_UID" "$APP_UID" "$APP_UID" "$APP_UID")"
		assert_equal "$(grep '^Gid:' "/proc/$member/status")" \
			"$(printf 'Gid:\t%s\t%s\t%s\t%s' "$APP_UID" "$APP_UID" "$APP_UID" "$APP_UID")"
	done
}

@test "the container serves deposits with a read-only root and a tmpfs at /tmp, in cgi and fastcgi mode" {
	local mode dir name total=0
	for mode in cgi fastcgi; do
		dir="$BATS_TEST_TMPDIR/$mode"
		container_start "$dir" "$REDIS_PORT_USED" -e BACKEND_MODE="$mode"
		name="$(container_name "$dir")"
		assert_equal "$(engine inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$name")" true
		# Writes through the container's own root (/proc/PID/root), from the host.
		run touch "/proc/$(container_host_pid "$name")/root/app/probe"
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
	wait_until 10 bash -c "'$REPO_DIR/scripts/lib/container-engine.sh' logs '$name' 2>&1 |
		grep -qF '\"POST /v1/bitcoins?bitcoins=3 HTTP/1.1\" 204'" ||
		fail "no access-log line: $(engine logs "$name" 2>&1 | tail -5)"
	run bash -c "'$REPO_DIR/scripts/lib/container-engine.sh' logs '$name' 2>&1"
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
	run bash -c "'$REPO_DIR/scripts/lib/container-engine.sh' logs '$name' 2>&1"
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

@test "REDIS_HOST resolves in the image through the pod's DNS (search list, ndots:5) and through /etc/hosts before DNS" {
	local ns="$BATS_TEST_TMPDIR/ns" dns_name_dir="$BATS_TEST_TMPDIR/by-dns"
	local hosts_dir="$BATS_TEST_TMPDIR/by-hosts" queries
	netns_start "$ns"
	netns_dns_start "$ns" answer "$NETNS_REDIS_FQDN=127.0.0.1"
	netns_redis_start "$ns"
	# "redis", as in the Deployment: only the DNS server knows it, under the search list.
	container_start_in_netns "$ns" "$dns_name_dir" redis
	wait_until 5 grep -q "Redis redis:$NETNS_REDIS_PORT at 127.0.0.1)" "$dns_name_dir/container.log" ||
		fail "start-lighttpd did not resolve redis through DNS: $(cat "$dns_name_dir/container.log")"
	netns_http "$ns" POST "/v1/bitcoins?bitcoins=4"
	assert_equal "$HTTP_STATUS" 204
	container_remove "$dns_name_dir"
	# A name only /etc/hosts knows (the DNS server answers it NXDOMAIN): files come first.
	queries="$(netns_dns_queries "$ns")"
	container_start_in_netns "$ns" "$hosts_dir" redis-in-hosts --add-host redis-in-hosts:127.0.0.1
	wait_until 5 grep -q "Redis redis-in-hosts:$NETNS_REDIS_PORT at 127.0.0.1)" "$hosts_dir/container.log" ||
		fail "start-lighttpd did not resolve redis-in-hosts from /etc/hosts: $(cat "$hosts_dir/container.log")"
	assert_equal "$(netns_dns_queries "$ns")" "$queries"
	netns_http "$ns" POST "/v1/bitcoins?bitcoins=5"
	assert_equal "$HTTP_STATUS" 204
	netns_http "$ns" GET /v1/bitcoins
	assert_equal "$HTTP_BODY" 9
}
