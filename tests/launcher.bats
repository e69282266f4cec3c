#!/usr/bin/env bats
# start-lighttpd (cgi-bin/start-lighttpd.c), the entrypoint of every target:
# it must need nothing but itself and lighttpd (no shell, no PATH), give the
# optional settings their defaults, become lighttpd, and refuse a bad setting
# with a message that names it, before anything listens.

bats_load_library bats-support
bats_load_library bats-assert
load lib/common

LAUNCHER="$REPO_DIR/build/start-lighttpd"

setup() {
	redis_start "$BATS_TEST_TMPDIR/redis"
	PORT="$(free_port)"
}

teardown() {
	stop_all_below "$BATS_TEST_TMPDIR"
}

@test "with an empty environment, no PATH, start-lighttpd execs lighttpd and nothing else, and serves with its defaults" {
	local log="$BATS_TEST_TMPDIR/execve.log"
	mkdir -p "$BATS_TEST_TMPDIR/tmp" "$BATS_TEST_TMPDIR/backend" "$BATS_TEST_TMPDIR/strace"
	env -i PORT="$PORT" REDIS_HOST=127.0.0.1 REDIS_PORT="$(cat "$BATS_TEST_TMPDIR/redis/port")" \
		TMPDIR="$BATS_TEST_TMPDIR/tmp" \
		/usr/bin/strace -f -qq -e trace=execve -e signal=none -o "$log" "$LAUNCHER" \
		>"$BATS_TEST_TMPDIR/backend/lighttpd.log" 2>&1 3>&- &
	echo "$!" >"$BATS_TEST_TMPDIR/strace/pid"
	wait_until 10 curl -sf "http://127.0.0.1:$PORT/livez" ||
		fail "it did not serve: $(cat "$BATS_TEST_TMPDIR/backend/lighttpd.log")"
	# lighttpd outlives strace: teardown stops it by its own pid.
	awk '/execve\(/ { print $1; exit }' "$log" >"$BATS_TEST_TMPDIR/backend/pid"
	run curl -sS -d '' "http://127.0.0.1:$PORT/v1/bitcoins?bitcoins=2"
	assert_success
	assert_equal "$(redis_cmd "$BATS_TEST_TMPDIR/redis" get bitcoins)" 2
	# Every program started, with its first argument: the launcher; its
	# checks, lighttpd -v and lighttpd -tt; lighttpd itself, then the CGIs
	# lighttpd ran; no shell. The launcher became lighttpd (the same
	# process), so signals such as SIGINT, the graceful stop, reach lighttpd.
	run awk -F'"' '/execve\(/ { print $2 " " $6 }' "$log"
	assert_line --index 0 "$LAUNCHER "
	assert_line --index 1 "/usr/sbin/lighttpd -v"
	assert_line --index 2 "/usr/sbin/lighttpd -tt"
	assert_line --index 3 "/usr/sbin/lighttpd -D"
	refute_output --regexp '(^|/)(sh|bash|dash|env) '
	run awk '/execve\(/ { print $1 }' "$log"
	assert_equal "${lines[0]}" "${lines[3]}"
	# RUN_DIR was made in TMPDIR; APP_DIR and CONF_DIR came from where it is.
	run bash -c "ls -d '$BATS_TEST_TMPDIR/tmp'/moneybank.*/empty"
	assert_success
	grep -q "lighttpd on http://127.0.0.1:$PORT (cgi mode, Redis 127.0.0.1:" \
		"$BATS_TEST_TMPDIR/backend/lighttpd.log" || fail "$(cat "$BATS_TEST_TMPDIR/backend/lighttpd.log")"
	# The optional settings reach lighttpd with their defaults.
	run bash -c "tr '\\0' '\\n' </proc/$(cat "$BATS_TEST_TMPDIR/backend/pid")/environ"
	assert_line MAX_DEPOSIT=21000000
	assert_line REDIS_TIMEOUT_MS=500
	assert_line REDIS_PASSWORD_FILE=
}

# Runs start-lighttpd with the settings given, on a free port, and expects
# it to refuse to start with a message containing $1; nothing may listen.
assert_refused() {
	local message="$1"
	shift
	# A launcher that serves instead of refusing is stopped after 10 s.
	run timeout 10 env PORT="$PORT" RUN_DIR="$BATS_TEST_TMPDIR/run" REDIS_HOST=127.0.0.1 \
		REDIS_PORT="$(cat "$BATS_TEST_TMPDIR/redis/port")" "$@" "$LAUNCHER"
	assert_failure
	assert_output --regexp "^start-lighttpd: .*$message"
	run port_in_use "$PORT"
	assert_failure
}

@test "start-lighttpd refuses a bad setting, says which, and starts nothing" {
	assert_refused "BACKEND_MODE must be cgi or fastcgi, not .threads." BACKEND_MODE=threads
	assert_refused "PORT must be a port number from 1 to 65535, not .http." PORT=http
	assert_refused "REDIS_TIMEOUT_MS must be milliseconds" REDIS_TIMEOUT_MS=soon
	assert_refused "REDIS_TIMEOUT_MS must be milliseconds from 1 to 4000 .under lighttpd's 5 s CGI read-timeout." \
		REDIS_TIMEOUT_MS=4001
	assert_refused "MAX_DEPOSIT must be a whole number of bitcoins from 1 to 9007199254740991" MAX_DEPOSIT=0
	assert_refused "MAX_DEPOSIT must be a whole number" MAX_DEPOSIT=9007199254740992
	assert_refused "REDIS_PASSWORD_FILE cannot be opened" REDIS_PASSWORD_FILE=/nonexistent
	assert_refused "REDIS_USER is set, but REDIS_PASSWORD_FILE, its password, is not" REDIS_USER=app
	assert_refused "REDIS_PASSWORD is no longer read" REDIS_PASSWORD=secret
	assert_refused "REDIS_HOST must be a host name or address of at most 253 characters" \
		REDIS_HOST="$(printf 'a%.0s' {1..254})"
	assert_refused "no program bitcoins.cgi in APP_DIR $BATS_TEST_TMPDIR; run .make build. first" \
		APP_DIR="$BATS_TEST_TMPDIR"
	assert_refused "cannot read $BATS_TEST_TMPDIR/lighttpd.conf" CONF_DIR="$BATS_TEST_TMPDIR"
	assert_refused "cannot run lighttpd at /nonexistent/lighttpd" LIGHTTPD_PATH=/nonexistent/lighttpd
	assert_refused "cannot make RUN_DIR $BATS_TEST_TMPDIR/none/run" RUN_DIR="$BATS_TEST_TMPDIR/none/run"
}

@test "start-lighttpd refuses relative directories and a relative password file, a LIGHTTPD_PATH that is not lighttpd, and a config lighttpd rejects, says why, and starts nothing" {
	assert_refused "APP_DIR must be an absolute path, not 'build'" APP_DIR=build
	assert_refused "CONF_DIR must be an absolute path, not '.'" CONF_DIR=.
	assert_refused "RUN_DIR must be an absolute path, not 'run'" RUN_DIR=run
	# A password file the launcher could read from where it runs, which the
	# programs, run elsewhere, could not.
	printf 'secret\n' >"$BATS_TEST_TMPDIR/password"
	(cd "$BATS_TEST_TMPDIR" && assert_refused "REDIS_PASSWORD_FILE must be an absolute path" \
		REDIS_USER=app REDIS_PASSWORD_FILE=password)
	assert_refused "LIGHTTPD_PATH /bin/true is not lighttpd" LIGHTTPD_PATH=/bin/true
	# lighttpd.conf with one value lighttpd rejects; its reason is shown.
	mkdir -p "$BATS_TEST_TMPDIR/conf"
	ln -s "$REPO_DIR/cgi-bin" "$BATS_TEST_TMPDIR/conf/cgi-bin"
	sed 's/^server\.max-connections = .*/server.max-connections = "many"/' "$REPO_DIR/lighttpd.conf" \
		>"$BATS_TEST_TMPDIR/conf/lighttpd.conf"
	assert_refused "lighttpd refuses $BATS_TEST_TMPDIR/conf/lighttpd.conf:.*server\.max-connections" \
		CONF_DIR="$BATS_TEST_TMPDIR/conf"
}
