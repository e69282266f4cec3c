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

@test "POST that would take the total past 2^53-1 gets 409 naming the largest amount that fits, and changes nothing; up to it, 204" {
	redis_cmd "$REDIS" set bitcoins 9007199254740983 >/dev/null
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=9
	assert_line --index 0 $'Status: 409 Conflict\r'
	assert_line --partial 'may not pass 9007199254740991; nothing was added; deposit a smaller amount: at most 8 fits now"}'
	assert_equal "$(redis_cmd "$REDIS" get bitcoins)" 9007199254740983
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=9 HTTP_IDEMPOTENCY_KEY=past-limit
	assert_line --index 0 $'Status: 409 Conflict\r'
	assert_equal "$(redis_cmd "$REDIS" exists idempotency:past-limit)" 0
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=8
	assert_line --index 0 $'Status: 204 No Content\r'
	assert_equal "$(redis_cmd "$REDIS" get bitcoins)" 9007199254740991
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=1
	assert_line --index 0 $'Status: 409 Conflict\r'
	assert_line --partial 'its total is at the most it may hold, 9007199254740991; nothing was added; send no more deposits'
	assert_equal "$(redis_cmd "$REDIS" get bitcoins)" 9007199254740991
}

@test "a total stored past 2^53-1 (from before the limit) takes no deposit: 409, unchanged" {
	redis_cmd "$REDIS" set bitcoins 9223372036854775800 >/dev/null
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=1
	assert_line --index 0 $'Status: 409 Conflict\r'
	assert_equal "$(redis_cmd "$REDIS" get bitcoins)" 9223372036854775800
}

@test "POST above MAX_DEPOSIT (21000000 unless set) gets 400 naming the maximum and changes nothing" {
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=21000001
	assert_line --index 0 $'Status: 400 Bad Request\r'
	assert_line --partial '{"error":"bitcoins must be at most 21000000 per deposit; nothing was added"}'
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=101 MAX_DEPOSIT=100
	assert_line --index 0 $'Status: 400 Bad Request\r'
	assert_line --partial 'at most 100 per deposit'
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=amount=1 MAX_DEPOSIT=100
	assert_line --partial 'with N from 1 to 100'
	assert_equal "$(redis_cmd "$REDIS" exists bitcoins)" 0
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=21000000
	assert_line --index 0 $'Status: 204 No Content\r'
	assert_equal "$(redis_cmd "$REDIS" get bitcoins)" 21000000
}

@test "an invalid MAX_DEPOSIT gives 500 with a JSON error, names it in the log only, and changes nothing" {
	local value
	for value in 0 9007199254740992 21e6 -5; do
		run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=1 MAX_DEPOSIT="$value"
		assert_line --index 0 $'Status: 500 Internal Server Error\r'
		refute_output --partial MAX_DEPOSIT
		[[ "$stderr" == *"MAX_DEPOSIT must be a whole number of bitcoins from 1 to 9007199254740991"* ]] ||
			fail "not logged: $stderr"
	done
	assert_equal "$(redis_cmd "$REDIS" exists bitcoins)" 0
}

@test "a stored total that is not an integer gives 500 with a JSON error and is left alone" {
	redis_cmd "$REDIS" set bitcoins 'not a number' >/dev/null
	run_cgi bitcoins.cgi REQUEST_METHOD=GET
	assert_line --index 0 $'Status: 500 Internal Server Error\r'
	assert_line --partial "the bank's stored total is damaged; nothing was changed"
	[[ "$stderr" == *"the key bitcoins holds something other than an integer"*"SET bitcoins N"* ]] || fail "no remedy logged: $stderr"
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

@test "a REDIS_TIMEOUT_MS past 4000, which lighttpd's 5 s CGI read-timeout would cut short, gives 500 and the bound in the log" {
	run_cgi bitcoins.cgi REQUEST_METHOD=GET REDIS_TIMEOUT_MS=4001
	assert_line --index 0 $'Status: 500 Internal Server Error\r'
	[[ "$stderr" == *"REDIS_TIMEOUT_MS must be milliseconds from 1 to 4000"* ]] || fail "not logged: $stderr"
	run_cgi bitcoins.cgi REQUEST_METHOD=GET REDIS_TIMEOUT_MS=4000
	assert_line --index 0 $'Status: 200 OK\r'
}

@test "an unreachable Redis gives 503 with Retry-After and a JSON reason" {
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=1 REDIS_PORT="$(free_port)"
	assert_line --index 0 $'Status: 503 Service Unavailable\r'
	assert_line $'Retry-After: 1\r'
	assert_line --partial "{\"error\":\"the bank's storage could not be reached; nothing was changed"
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
	assert_line --partial "the bank's storage is full"
	refute_output --partial Redis
	[[ "$stderr" == *"refused FCALL: OOM"*"raise maxmemory"* ]] || fail "not logged: $stderr"
	assert_equal "$(redis_cmd "$REDIS" get bitcoins)" 10
}

@test "a deposit sent to a Redis that does not answer prints 504 outcome unknown and logs it" {
	kill -STOP "$(cat "$REDIS/pid")"
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=1 REDIS_TIMEOUT_MS=200
	kill -CONT "$(cat "$REDIS/pid")"
	assert_line --index 0 $'Status: 504 Gateway Timeout\r'
	assert_line $'Connection: close\r'
	refute_line --partial Retry-After
	assert_line --partial '{"error":"no answer came in time, so this deposit may or may not have been added'
	refute_output --partial Redis
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

# Writes password $1 to a file of this test and prints its path.
password_file() {
	local file="$BATS_TEST_TMPDIR/password-$RANDOM"
	printf '%s' "$1" >"$file"
	echo "$file"
}

@test "a Redis with a password works through REDIS_PASSWORD_FILE, AUTH sent with the command" {
	redis_start_with_password "$BATS_FILE_TMPDIR/locked" 's3cret pass'
	REDIS="$BATS_FILE_TMPDIR/locked"
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=4 \
		REDIS_PASSWORD_FILE="$(password_file 's3cret pass')"
	assert_line --index 0 $'Status: 204 No Content\r'
	# One final newline, as echo and editors add, is not part of the password.
	printf 's3cret pass\n' >"$BATS_TEST_TMPDIR/with-newline"
	run_cgi bitcoins.cgi REQUEST_METHOD=GET REDIS_PASSWORD_FILE="$BATS_TEST_TMPDIR/with-newline"
	assert_equal "${output##*$'\r\n\r\n'}" 4
}

@test "a wrong Redis password gives 503 with a JSON reason and changes nothing" {
	REDIS="$BATS_FILE_TMPDIR/locked"
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=4 \
		REDIS_PASSWORD_FILE="$(password_file wrong)"
	assert_line --index 0 $'Status: 503 Service Unavailable\r'
	assert_line --partial "the bank's storage refused this server's access"
	refute_output --partial REDIS_
	[[ "$stderr" == *"REDIS_USER and the password in REDIS_PASSWORD_FILE"* ]] || fail "no remedy logged: $stderr"
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=4
	assert_line --index 0 $'Status: 503 Service Unavailable\r'
	assert_equal "$(redis_cmd "$REDIS" get bitcoins)" 4
}

@test "a password file that is missing, empty or too long gives 500, names the setting in the log only, and changes nothing" {
	head -c 513 /dev/zero | tr '\0' p >"$BATS_TEST_TMPDIR/long"
	: >"$BATS_TEST_TMPDIR/empty"
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=4 REDIS_PASSWORD_FILE=/nonexistent
	assert_line --index 0 $'Status: 500 Internal Server Error\r'
	refute_output --partial REDIS_PASSWORD_FILE
	[[ "$stderr" == *"REDIS_PASSWORD_FILE cannot be opened"* ]] || fail "not logged: $stderr"
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=4 REDIS_PASSWORD_FILE="$BATS_TEST_TMPDIR/empty"
	[[ "$stderr" == *"REDIS_PASSWORD_FILE is empty"* ]] || fail "not logged: $stderr"
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=4 REDIS_PASSWORD_FILE="$BATS_TEST_TMPDIR/long"
	[[ "$stderr" == *"REDIS_PASSWORD_FILE holds more than 512 bytes"* ]] || fail "not logged: $stderr"
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=4 REDIS_USER=app
	[[ "$stderr" == *"REDIS_USER is set, but REDIS_PASSWORD_FILE"* ]] || fail "not logged: $stderr"
	assert_equal "$(redis_cmd "$REDIS" exists bitcoins)" 0
}

@test "a Redis ACL user works through REDIS_USER and REDIS_PASSWORD_FILE" {
	redis_start_with_acl "$BATS_FILE_TMPDIR/acl"
	REDIS="$BATS_FILE_TMPDIR/acl"
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=4 REDIS_USER=app \
		REDIS_PASSWORD_FILE="$REDIS/secrets/redis-app-password"
	assert_line --index 0 $'Status: 204 No Content\r'
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=4 REDIS_USER=probe \
		REDIS_PASSWORD_FILE="$REDIS/secrets/redis-app-password"
	assert_line --index 0 $'Status: 503 Service Unavailable\r'
	assert_equal "$(redis_cmd "$REDIS" get bitcoins)" 4
}

@test "a password sent to a Redis without one is logged, and the answer tells the truth" {
	# AUTH travels with the command, and such a Redis runs the command anyway:
	# answering 503 would invite a retry of a deposit that already counted.
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=4 \
		REDIS_PASSWORD_FILE="$(password_file unneeded)"
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

@test "an idempotency record of the wrong type gives 500 that says so, not a bad total, and changes nothing" {
	redis_cmd "$REDIS" set bitcoins 10 >/dev/null
	redis_cmd "$REDIS" hset idempotency:hashed field value >/dev/null
	run_cgi bitcoins.cgi REQUEST_METHOD=POST QUERY_STRING=bitcoins=6 HTTP_IDEMPOTENCY_KEY=hashed
	redis_cmd "$REDIS" del idempotency:hashed >/dev/null
	assert_line --index 0 $'Status: 500 Internal Server Error\r'
	assert_line --partial "the bank's record of this Idempotency-Key is damaged"
	refute_output --partial 'stored total'
	refute_output --partial 'idempotency:'
	[[ "$stderr" == *"the idempotency record idempotency:hashed holds another type"*"redis-cli --user admin"*"DEL idempotency:hashed"* ]] || fail "not logged: $stderr"
	[[ "$stderr" != *"SET bitcoins"* ]] || fail "the log blames the total: $stderr"
	assert_equal "$(redis_cmd "$REDIS" get bitcoins)" 10
}

@test "healthz answers 503 with the state's Retry-After while Redis refuses writes (OOM), though it still answers PING" {
	redis_cmd "$REDIS" config set maxmemory 1 >/dev/null
	run_cgi healthz.cgi REQUEST_METHOD=GET SCRIPT_NAME=/healthz
	local ping
	ping="$(redis_cmd "$REDIS" ping)"
	redis_cmd "$REDIS" config set maxmemory 0 >/dev/null
	assert_equal "$ping" PONG
	assert_line --index 0 $'Status: 503 Service Unavailable\r'
	assert_line $'Retry-After: 60\r'
	assert_line --partial "the bank's storage is full"
}
