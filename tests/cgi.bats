#!/usr/bin/env bats
# The programs run by hand, as a developer debugging them would: CGI variables
# in the environment, a real Redis, the response on stdout. CGI_RUNNER (for
# example valgrind) wraps every run; APP_DIR picks the build.

# Each test runs in a subshell of its own; REDIS is set per test on purpose.
# shellcheck disable=SC2030,SC2031
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
load lib/common

APP_DIR="${APP_DIR:-$REPO_DIR/build}"

setup_file() {
	redis_start "$BATS_FILE_TMPDIR/redis"
}

teardown_file() {
	stop_all_below "$BATS_FILE_TMPDIR"
}

setup() {
	REDIS="$BATS_FILE_TMPDIR/redis"
	redis_cmd "$REDIS" del bitcoins >/dev/null
}

# Runs program $1 with the CGI variables that follow, against the test Redis,
# under CGI_RUNNER. Under valgrind, any error makes the run fail with 99.
run_cgi() {
	local program="$1"
	shift
	local -a runner=()
	if [[ "${CGI_RUNNER:-}" == valgrind ]]; then
		runner=(valgrind -q --error-exitcode=99 --leak-check=full
			'--errors-for-leak-kinds=definite,indirect,possible'
			'--show-leak-kinds=definite,indirect,possible')
	fi
	run --separate-stderr env -i REDIS_HOST=127.0.0.1 \
		REDIS_PORT="$(cat "$REDIS/port")" "$@" \
		"${runner[@]}" "$APP_DIR/$program"
	error_bodies_record_cgi "$output"
	if [[ "$status" -ne 0 ]]; then
		# shellcheck disable=SC2154 # run --separate-stderr sets stderr
		fail "$program exited with $status; stderr: $stderr"
	fi
}

@test "GET by hand prints a CGI response: Status, headers, a blank line, the body" {
	redis_cmd "$REDIS" set bitcoins 12 >/dev/null
	run_cgi bitcoins.cgi REQUEST_METHOD=GET
	assert_equal "$output" "$(printf 'Status: 200 OK\r\nCache-Control: no-store\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n\r\n12')"
}

@test "the README's ./cgi-bin/bitcoins.cgi runs the shipped build by hand, GET and POST" {
	local program="$REPO_DIR/cgi-bin/bitcoins.cgi"
	assert_equal "$(readlink -f "$program")" "$(readlink -f "$REPO_DIR/build/bitcoins.cgi")"
	run --separate-stderr env -i REDIS_HOST=127.0.0.1 REDIS_PORT="$(cat "$REDIS/port")" \
		REQUEST_METHOD=POST QUERY_STRING=bitcoins=3 "$program"
	assert_success
	assert_line --index 0 $'Status: 204 No Content\r'
	run --separate-stderr env -i REDIS_HOST=127.0.0.1 REDIS_PORT="$(cat "$REDIS/port")" \
		REQUEST_METHOD=GET "$program"
	assert_success
	assert_equal "${output##*$'\r\n\r\n'}" 3
}

@test "GET by hand with no total stored prints 0" {
	run_cgi bitcoins.cgi REQUEST_METHOD=GET
	assert_equal "${output##*$'\r\n\r\n'}" 0
}

@test "POST by hand adds the amount from QUERY_STRING and prints Status 204" {
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=5
	assert_equal "$output" "$(printf 'Status: 204 No Content\r\nCache-Control: no-store\r\n\r\n')"
	assert_equal "$(redis_cmd "$REDIS" get bitcoins)" 5
	assert_equal "$stderr" "deposit amount=5 total=5"
}

@test "HEAD by hand prints the headers of GET and no body" {
	redis_cmd "$REDIS" set bitcoins 123 >/dev/null
	run_cgi bitcoins.cgi REQUEST_METHOD=HEAD
	assert_equal "$output" "$(printf 'Status: 200 OK\r\nCache-Control: no-store\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\n\r\n')"
}

@test "POST by hand with a negative amount is rejected and changes nothing" {
	redis_cmd "$REDIS" set bitcoins 10 >/dev/null
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=-1
	assert_line --index 0 $'Status: 400 Bad Request\r'
	assert_line --partial '{"error":"bitcoins must be written with the digits 0-9 only'
	assert_equal "$(redis_cmd "$REDIS" get bitcoins)" 10
}

@test "POST by hand with the amount given twice is rejected and changes nothing" {
	run_cgi bitcoins.cgi REQUEST_METHOD=POST 'QUERY_STRING=bitcoins=1&bitcoins=1'
	assert_line --index 0 $'Status: 400 Bad Request\r'
	assert_equal "$(redis_cmd "$REDIS" exists bitcoins)" 0
}

@test "POST that would pass 2^63-1 gets 409 and changes nothing" {
	redis_cmd "$REDIS" set bitcoins 9223372036854775800 >/dev/null
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=8
	assert_line --index 0 $'Status: 409 Conflict\r'
	assert_line --partial 'nothing was added'
	assert_equal "$(redis_cmd "$REDIS" get bitcoins)" 9223372036854775800
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=7
	assert_line --index 0 $'Status: 204 No Content\r'
	assert_equal "$(redis_cmd "$REDIS" get bitcoins)" 9223372036854775807
}

@test "a stored total that is not an integer gives 500 with a JSON error and is left alone" {
	redis_cmd "$REDIS" set bitcoins 'not a number' >/dev/null
	run_cgi bitcoins.cgi REQUEST_METHOD=GET
	assert_line --index 0 $'Status: 500 Internal Server Error\r'
	assert_line --partial 'the stored total is not an integer'
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=1
	assert_line --index 0 $'Status: 500 Internal Server Error\r'
	assert_equal "$(redis_cmd "$REDIS" get bitcoins)" 'not a number'
}

@test "an invalid REDIS_PORT gives 500 with a JSON error, names it in the log only, and changes nothing" {
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=1 REDIS_PORT=6379x
	assert_line --index 0 $'Status: 500 Internal Server Error\r'
	assert_line --partial '{"error":"the server is misconfigured'
	refute_output --partial REDIS_PORT
	[[ "$stderr" == *"REDIS_PORT must be a port number"* ]] || fail "not logged: $stderr"
	assert_equal "$(redis_cmd "$REDIS" exists bitcoins)" 0
}

@test "an invalid REDIS_TIMEOUT_MS gives 500 with a JSON error, and names it in the log only" {
	run_cgi healthz.cgi REQUEST_METHOD=GET SCRIPT_NAME=/healthz REDIS_TIMEOUT_MS=0
	assert_line --index 0 $'Status: 500 Internal Server Error\r'
	refute_output --partial REDIS_TIMEOUT_MS
	[[ "$stderr" == *"REDIS_TIMEOUT_MS must be milliseconds"* ]] || fail "not logged: $stderr"
}

@test "an unreachable Redis gives 503 with Retry-After and a JSON reason" {
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=1 REDIS_PORT="$(free_port)"
	assert_line --index 0 $'Status: 503 Service Unavailable\r'
	assert_line $'Retry-After: 1\r'
	assert_line --partial '{"error":"Redis unavailable'
	[[ "$stderr" == *"Connection refused"* ]] || fail "no reason logged: $stderr"
}

@test "a deposit Redis refuses (OOM) prints 503 with a Retry-After for the state and Connection: close, and changes nothing" {
	redis_cmd "$REDIS" set bitcoins 10 >/dev/null
	redis_cmd "$REDIS" config set maxmemory 1 >/dev/null
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=1 HTTP_IDEMPOTENCY_KEY=oom
	redis_cmd "$REDIS" config set maxmemory 0 >/dev/null
	assert_line --index 0 $'Status: 503 Service Unavailable\r'
	assert_line $'Retry-After: 60\r'
	assert_line $'Connection: close\r'
	[[ "$stderr" == *"refused EVAL: OOM"*"raise maxmemory"* ]] || fail "not logged: $stderr"
	assert_equal "$(redis_cmd "$REDIS" get bitcoins)" 10
}

@test "a deposit sent to a Redis that does not answer prints 504 outcome unknown and logs it" {
	kill -STOP "$(cat "$REDIS/pid")"
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=1 REDIS_TIMEOUT_MS=200
	kill -CONT "$(cat "$REDIS/pid")"
	assert_line --index 0 $'Status: 504 Gateway Timeout\r'
	assert_line $'Connection: close\r'
	refute_line --partial Retry-After
	assert_line --partial '{"error":"the outcome of this deposit is unknown'
	[[ "$stderr" == *"deposit amount=1 outcome unknown"* ]] || fail "not logged: $stderr"
}

@test "healthz by hand answers 200 OK when Redis answers PING" {
	run_cgi healthz.cgi REQUEST_METHOD=GET SCRIPT_NAME=/healthz
	assert_line --index 0 $'Status: 200 OK\r'
	assert_equal "${output##*$'\r\n\r\n'}" OK
}

@test "livez by hand answers 200 OK without touching Redis" {
	run_cgi healthz.cgi REQUEST_METHOD=GET SCRIPT_NAME=/livez REDIS_PORT="$(free_port)"
	assert_line --index 0 $'Status: 200 OK\r'
	assert_equal "$stderr" ""
}

@test "a Redis with a password works through REDIS_PASSWORD, AUTH sent with the command" {
	redis_start_with_password "$BATS_FILE_TMPDIR/locked" 's3cret pass'
	REDIS="$BATS_FILE_TMPDIR/locked"
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=4 'REDIS_PASSWORD=s3cret pass'
	assert_line --index 0 $'Status: 204 No Content\r'
	run_cgi bitcoins.cgi REQUEST_METHOD=GET 'REDIS_PASSWORD=s3cret pass'
	assert_equal "${output##*$'\r\n\r\n'}" 4
}

@test "a wrong Redis password gives 503 with a JSON reason and changes nothing" {
	REDIS="$BATS_FILE_TMPDIR/locked"
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=4 REDIS_PASSWORD=wrong
	assert_line --index 0 $'Status: 503 Service Unavailable\r'
	assert_line --partial 'rejected our credentials'
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=4
	assert_line --index 0 $'Status: 503 Service Unavailable\r'
	assert_equal "$(redis_cmd "$REDIS" get bitcoins)" 4
}

@test "a password sent to a Redis without one is logged, and the answer tells the truth" {
	# AUTH travels with the command, and such a Redis runs the command anyway:
	# answering 503 would invite a retry of a deposit that already counted.
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=4 REDIS_PASSWORD=unneeded
	assert_line --index 0 $'Status: 204 No Content\r'
	[[ "$stderr" == *"redis refused AUTH"* ]] || fail "not logged: $stderr"
	assert_equal "$(redis_cmd "$REDIS" get bitcoins)" 4
}

@test "POST by hand with an Idempotency-Key deposits once and replays after" {
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=6 HTTP_IDEMPOTENCY_KEY=k1
	assert_line --index 0 $'Status: 204 No Content\r'
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=6 HTTP_IDEMPOTENCY_KEY=k1
	assert_line $'Idempotent-Replayed: true\r'
	assert_equal "$(redis_cmd "$REDIS" get bitcoins)" 6
}
