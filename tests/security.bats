#!/usr/bin/env bats
# Least privilege in Redis, through a real lighttpd and a real redis-server
# with production's users (scripts/lib/gen-redis-secret.sh --files-only: the
# users.acl of the Secret redis-acl, and a password file per user): the
# backend, as the app's user, serves every API path; the app's credentials
# are refused everything else, any Lua but our function library included;
# the probe's may only PING and load that library; the default user is off. The password is read from a file and is in no process's
# environment. BACKEND_MODE and APP_DIR come from the environment.

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
load lib/common
load lib/api

setup_file() {
	local state="$BATS_FILE_TMPDIR"
	# DEBUG on, so that what refuses it to the app below is the ACL.
	redis_start_with_acl "$state/redis" --enable-debug-command yes
	REDIS_USER=app REDIS_PASSWORD_FILE="$state/redis/secrets/redis-app-password" \
		backend_start "$state/backend" "$(cat "$state/redis/port")"
	# Stopped through their pid files; off this shell's job table, a SIGKILL
	# of Redis is not reported into the TAP.
	disown -a
}

teardown_file() {
	stop_all_below "$BATS_FILE_TMPDIR"
}

setup() {
	STATE="$BATS_FILE_TMPDIR"
	REDIS="$STATE/redis"
	BASE_URL="$(backend_url "$STATE/backend")"
}

# Lets a Redis stopped by a test go on, and stops and removes what
# backend_start_unprivileged made.
teardown() {
	kill -CONT "$(cat "$REDIS/pid")" 2>/dev/null || true
	[[ -f "$BATS_TEST_TMPDIR/unprivileged" ]] || return 0
	stop_all_below "$(cat "$BATS_TEST_TMPDIR/unprivileged")"
	rm -rf "$(cat "$BATS_TEST_TMPDIR/unprivileged")"
}

# Starts a backend of its own as user nobody, as the image runs as 10001,
# with an unlimited core size limit, talking to the test Redis as the app;
# sets UNPRIVILEGED to its state directory. Its files, a copy of the
# programs and the config among them, live in /tmp, outside the tests' and
# the clone's directories, which only root may enter (a clone made under
# mktemp -d is 0700); lighttpd reopens its log as /dev/stderr, so nobody
# owns that too.
backend_start_unprivileged() {
	local dir app_dir="${APP_DIR:-$REPO_DIR/build}"
	dir="$(mktemp -d /tmp/moneybank-unprivileged.XXXXXX)"
	echo "$dir" >"$BATS_TEST_TMPDIR/unprivileged"
	chmod 755 "$dir"
	mkdir -p "$dir/run" "$dir/conf/cgi-bin" "$dir/app"
	cp -R "$app_dir/bitcoins.cgi" "$app_dir/healthz.cgi" "$app_dir/start-lighttpd" "$app_dir/errors" "$dir/app/"
	cp "$REPO_DIR/lighttpd.conf" "$dir/conf/"
	cp "$REPO_DIR"/cgi-bin/mode-*.conf "$dir/conf/cgi-bin/"
	chmod -R a+rX "$dir/app" "$dir/conf"
	free_port >"$dir/port"
	install -m 0400 -o nobody "$REDIS/secrets/redis-app-password" "$dir/password"
	touch "$dir/lighttpd.log"
	chown nobody "$dir/run" "$dir/lighttpd.log"
	(
		ulimit -c unlimited
		PORT="$(cat "$dir/port")" RUN_DIR="$dir/run" REDIS_HOST=127.0.0.1 \
			REDIS_PORT="$(cat "$REDIS/port")" REDIS_USER=app REDIS_PASSWORD_FILE="$dir/password" \
			APP_DIR="$dir/app" CONF_DIR="$dir/conf" \
			exec setpriv --reuid=nobody --regid=nogroup --clear-groups \
			"$dir/app/start-lighttpd" >>"$dir/lighttpd.log" 2>&1 3>&-
	) &
	echo "$!" >"$dir/pid"
	wait_until 10 curl -sf "http://127.0.0.1:$(cat "$dir/port")/livez" >/dev/null ||
		fail "the unprivileged backend did not start: $(tail -5 "$dir/lighttpd.log")"
	UNPRIVILEGED="$dir"
}

# Prints "owner of /proc/PID/environ, soft and hard core size limit" of
# process $1.
dump_state() {
	echo "$(stat -c %U "/proc/$1/environ") $(awk '/^Max core file size/ { print $5, $6 }' "/proc/$1/limits")"
}

# Runs redis-cli on the test Redis as user $1, with that user's password.
as_user() {
	local user="$1"
	shift
	redis_cli "$(cat "$REDIS/port")" "$user" "$(cat "$REDIS/secrets/redis-$user-password")" "$@"
}

# Fails unless the command $2... run as user $1 is refused for lack of
# permission (NOPERM, or a script's ACL error).
assert_refused_to() {
	local user="$1" reply
	shift
	reply="$(as_user "$user" "$@" 2>&1)"
	[[ "$reply" == NOPERM* || "$reply" == *"can't run this command"* ||
		"$reply" == *"can't access at least one of the keys"* || "$reply" == *"ACL failure"* ]] ||
		fail "$user ran: $* -> $reply"
}

# Succeeds once the test Redis has no AOF rewrite scheduled or in progress.
aof_rewritten() {
	[[ "$(redis_cmd "$REDIS" info persistence | tr -d '\r' | grep -cxE 'aof_rewrite_(in_progress|scheduled):0')" == 2 ]]
}

# Prints the pids of the programs (bitcoins.cgi, healthz.cgi) lighttpd $1 runs.
programs_of() {
	pgrep -P "$1" -x 'bitcoins.cgi|healthz.cgi' || true
}

# Fails when the environment or command line of process $1 holds secret $2;
# the environment must name the password file $3 instead (when given).
# Reads the environment, command line and name of process $1 into
# PROC_ENVIRON, PROC_CMDLINE and PROC_COMM; fails when it has ended (a CGI
# lives only as long as its request), which can cut a read short.
read_process() {
	PROC_ENVIRON="$(tr '\0' '\n' 2>/dev/null <"/proc/$1/environ")" &&
		PROC_CMDLINE="$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline")" &&
		PROC_COMM="$(cat "/proc/$1/comm" 2>/dev/null)" &&
		[[ -n "$PROC_ENVIRON" && -d "/proc/$1" ]]
}

# Fails when the environment or command line of the process read last
# (read_process), pid $1, holds secret $2; the environment must name the
# password file $3 instead (when given).
assert_read_process_keeps() {
	local pid="$1" secret="$2" file="${3:-}"
	[[ "$PROC_ENVIRON" != *"$secret"* ]] || fail "process $pid ($PROC_COMM) has the password in its environment"
	[[ "$PROC_CMDLINE" != *"$secret"* ]] || fail "process $pid has the password on its command line"
	[[ -z "$file" ]] || grep -qxF "REDIS_PASSWORD_FILE=$file" <<<"$PROC_ENVIRON" ||
		fail "process $pid ($PROC_COMM) was not given REDIS_PASSWORD_FILE: $PROC_ENVIRON"
}

# Fails when the environment or command line of process $1 holds secret $2;
# the environment must name the password file $3 instead (when given).
assert_no_secret_in() {
	read_process "$1" || fail "cannot read the environment of process $1"
	assert_read_process_keeps "$@"
}

@test "the backend, as the app's Redis user alone, serves every API path" {
	local before key="acl-key-$RANDOM"
	before="$(total)"
	http GET /v1/bitcoins
	assert_equal "$HTTP_STATUS" 200
	head_request /v1/bitcoins
	assert_equal "$HTTP_STATUS" 200
	http GET /v1/bitcoins -H 'Accept: application/json'
	assert_equal "$HTTP_BODY" "{\"bitcoins\":$before}"
	post "/v1/bitcoins?bitcoins=5"
	assert_equal "$HTTP_STATUS" 204
	post "/v1/bitcoins?bitcoins=7" -H "Idempotency-Key: $key"
	assert_equal "$HTTP_STATUS" 204
	post "/v1/bitcoins?bitcoins=7" -H "Idempotency-Key: $key"
	assert_equal "$(header Idempotent-Replayed)" true
	post "/v1/bitcoins?bitcoins=8" -H "Idempotency-Key: $key"
	assert_json_error 422
	post "/v1/bitcoins?bitcoins=21000001"
	assert_json_error 400
	http GET /healthz
	assert_equal "$HTTP_STATUS" 200
	http GET /livez
	assert_equal "$HTTP_STATUS" 200
	assert_equal "$(total)" "$((before + 12))"
	redis_cmd "$REDIS" set bitcoins 9007199254740991 >/dev/null
	post "/v1/bitcoins?bitcoins=1"
	assert_json_error 409
	redis_cmd "$REDIS" set bitcoins "$((before + 12))" >/dev/null
}

@test "the app's credentials are refused CONFIG, FLUSHALL, SHUTDOWN, REPLICAOF, KEYS, DEBUG, ACL and every other key" {
	local before
	before="$(redis_cmd "$REDIS" get bitcoins)"
	redis_cmd "$REDIS" set other-key kept >/dev/null
	assert_refused_to app config get requirepass
	assert_refused_to app config set appendfsync no
	assert_refused_to app flushall
	assert_refused_to app flushdb
	assert_refused_to app shutdown nosave
	assert_refused_to app replicaof 127.0.0.1 1
	assert_refused_to app slaveof 127.0.0.1 1
	assert_refused_to app keys '*'
	assert_refused_to app scan 0
	assert_refused_to app debug sleep 0
	assert_refused_to app acl list
	assert_refused_to app acl setuser app '+@all'
	assert_refused_to app acl whoami
	assert_refused_to app monitor
	assert_refused_to app client list
	assert_refused_to app client kill type normal
	assert_refused_to app info
	assert_refused_to app save
	assert_refused_to app bgrewriteaof
	assert_refused_to app script flush
	assert_refused_to app function flush
	assert_refused_to app module list
	assert_refused_to app subscribe news
	assert_refused_to app publish news x
	# Other keys, and other commands on its own keys.
	assert_refused_to app get other-key
	assert_refused_to app set other-key 1
	assert_refused_to app del bitcoins
	assert_refused_to app set bitcoins 0
	assert_refused_to app expire bitcoins 1
	assert_refused_to app rename bitcoins stolen
	assert_refused_to app incrby idempotency:x 1
	assert_refused_to app del idempotency:x
	# No Lua of its own (see below); and a script would call commands as
	# its caller: no way around the ACL there either.
	assert_refused_to app eval "return redis.call('GET', 'other-key')" 0
	assert_refused_to app eval "return redis.call('SET', KEYS[1], 'x')" 1 other-key
	assert_refused_to app eval "return redis.call('SET', KEYS[1], '0')" 1 bitcoins
	assert_refused_to app eval "return redis.call('FLUSHALL')" 0
	assert_refused_to app eval "return redis.call('KEYS', '*')" 0
	assert_refused_to app eval "return redis.call('DEL', KEYS[1])" 1 bitcoins
	assert_refused_to app eval "return redis.call('INCRBY', KEYS[1], 1)" 1 idempotency:x
	# Nothing changed, and Redis still serves.
	assert_equal "$(redis_cmd "$REDIS" get other-key)" kept
	assert_equal "$(redis_cmd "$REDIS" get bitcoins)" "$before"
	assert_equal "$(redis_cmd "$REDIS" config get appendfsync | tail -1)" always
	assert_equal "$(redis_cmd "$REDIS" role | head -1)" master
	# What it may do, it can.
	assert_equal "$(as_user app get bitcoins)" "$before"
}

@test "the app's credentials run no Lua of their own: EVAL of an endless loop, EVALSHA, SCRIPT and FUNCTION LOAD, DELETE, FLUSH are refused; FCALL of our functions works" {
	local before library
	before="$(redis_cmd "$REDIS" get bitcoins)"
	library="$(redis_cmd "$REDIS" function list withcode)"
	# The loop would hold Redis unkillably after its write (BUSY for every
	# client, SCRIPT KILL refused); timeout bounds the test should it run.
	run timeout 10 redis-cli -p "$(cat "$REDIS/port")" --user app --askpass \
		eval "redis.call('SET','idempotency:loop','1') while true do end" 0 <"$REDIS/secrets/redis-app-password"
	[[ "$output" == NOPERM* ]] || fail "app ran EVAL: $output"
	assert_equal "$(as_user admin ping)" PONG
	assert_equal "$(redis_cmd "$REDIS" exists idempotency:loop)" 0
	assert_refused_to app eval 'return 1' 0
	assert_refused_to app eval_ro 'return 1' 0
	assert_refused_to app evalsha "$(as_user admin script load 'return 1')" 0
	assert_refused_to app script load 'return 1'
	assert_refused_to app script kill
	assert_refused_to app script exists 0
	assert_refused_to app function load "$(printf '#!lua name=other\nredis.register_function("spin", function() while true do end end)')"
	assert_refused_to app function load replace "$(printf '#!lua name=moneybank\nredis.register_function("deposit", function() return 1 end)')"
	assert_refused_to app function delete moneybank
	assert_refused_to app function flush
	assert_refused_to app function restore x
	assert_refused_to app function kill
	assert_refused_to app function list
	# Our library is as it was, and the app may call its functions.
	assert_equal "$(redis_cmd "$REDIS" function list withcode)" "$library"
	assert_equal "$(as_user app fcall writable 0)" 1
	run as_user app fcall deposit 1 bitcoins 1
	assert_line --index 0 0
	assert_equal "$(redis_cmd "$REDIS" get bitcoins)" "$((before + 1))"
}

@test "the deposit function refuses an amount or a record lifetime that is not a whole number from 1, and changes nothing" {
	local before call
	before="$(redis_cmd "$REDIS" get bitcoins)"
	for call in "1 bitcoins -3" "1 bitcoins 0" "1 bitcoins 1e3" "1 bitcoins abc" "1 bitcoins 9007199254740992" \
		"2 bitcoins idempotency:sec-a 5 -1" "2 bitcoins idempotency:sec-b 5 abc" "2 bitcoins idempotency:sec-c 5 0"; do
		# shellcheck disable=SC2086 # the call's words are its arguments
		run as_user app fcall deposit $call
		assert_output --partial "ERR deposit:"
		assert_equal "$(redis_cmd "$REDIS" get bitcoins)" "$before"
	done
	assert_equal "$(redis_cmd "$REDIS" exists idempotency:sec-a idempotency:sec-b idempotency:sec-c)" 0
	run as_user app fcall deposit 2 bitcoins idempotency:sec-d 5 60
	assert_line --index 0 0
	assert_line --index 1 "$((before + 5))"
}

@test "the probe's credentials may only PING and list and load functions" {
	assert_equal "$(as_user probe ping)" PONG
	run as_user probe function list libraryname moneybank
	assert_line --index 1 moneybank
	assert_refused_to probe fcall writable 0
	assert_refused_to probe function flush
	assert_refused_to probe function delete moneybank
	assert_refused_to probe get bitcoins
	assert_refused_to probe info
	assert_refused_to probe config get maxmemory
	assert_refused_to probe eval 'return 1' 0
	assert_refused_to probe client list
	assert_refused_to probe set bitcoins 0
	assert_refused_to probe acl whoami
}

@test "the default user is off: no command without AUTH, and no password opens it" {
	run redis-cli -p "$(cat "$REDIS/port")" ping
	assert_output --partial NOAUTH
	run redis_cli "$(cat "$REDIS/port")" default "$(cat "$REDIS/secrets/redis-app-password")" ping
	assert_output --partial WRONGPASS
	run redis_cli "$(cat "$REDIS/port")" default "" auth default ""
	refute_output OK
}

@test "the admin has a password of its own: the app's does not open it, its own does" {
	run redis_cli "$(cat "$REDIS/port")" admin "$(cat "$REDIS/secrets/redis-app-password")" ping
	assert_output --partial WRONGPASS
	run as_user admin config get appendfsync
	assert_output $'appendfsync\nalways'
}

@test "the backend serves /healthz only while Redis would take a deposit: a probe user's PING is no proof" {
	redis_cmd "$REDIS" config set maxmemory 1 >/dev/null
	http GET /healthz
	assert_equal "$(as_user probe ping)" PONG
	redis_cmd "$REDIS" config set maxmemory 0 >/dev/null
	assert_json_error 503
	assert_equal "$(header Retry-After)" 60
	http GET /healthz
	assert_equal "$HTTP_STATUS" 200
}

@test "no secret is in the environment of lighttpd or of the programs it runs, a CGI in flight included" {
	local lighttpd pid password file curl_pid attempt programs=0
	lighttpd="$(cat "$STATE/backend/pid")"
	file="$REDIS/secrets/redis-app-password"
	password="$(cat "$file")"
	assert_no_secret_in "$lighttpd" "$password"
	grep -qxF "REDIS_PASSWORD_FILE=$file" < <(tr '\0' '\n' <"/proc/$lighttpd/environ") ||
		fail "lighttpd was not given REDIS_PASSWORD_FILE"
	# A CGI lives as long as its request: a Redis that does not answer keeps
	# one in flight, for REDIS_TIMEOUT_MS; on a loaded machine it may end
	# before it is read, so a few requests are tried. FastCGI responders are
	# there all along.
	kill -STOP "$(cat "$REDIS/pid")"
	for attempt in 1 2 3 4 5; do
		curl -s -o /dev/null --max-time 10 "$BASE_URL/v1/bitcoins" 3>&- &
		curl_pid=$!
		wait_until 10 pgrep -P "$lighttpd" -x bitcoins.cgi
		for pid in $(programs_of "$lighttpd"); do
			read_process "$pid" || continue
			assert_read_process_keeps "$pid" "$password" "$file"
			programs=$((programs + 1))
		done
		wait "$curl_pid" || true
		((programs == 0)) || break
		echo "# attempt $attempt: the program ended before it was read" >&3
	done
	kill -CONT "$(cat "$REDIS/pid")"
	echo "# looked at lighttpd and $programs program(s) in ${BACKEND_MODE:-cgi} mode" >&3
	((programs >= 1)) || fail "no program was running"
}

@test "a record the app's credentials plant without expiry is refused as damaged, so it cannot swallow a real deposit, and nothing changes" {
	local before key="planted-$RANDOM"
	before="$(total)"
	# What code running in a backend pod could do with the app's password:
	# answer a victim's deposit with this key as "already done", for ever.
	assert_equal "$(as_user app set "idempotency:$key" 5)" OK
	assert_equal "$(redis_cmd "$REDIS" pttl "idempotency:$key")" -1
	post "/v1/bitcoins?bitcoins=5" -H "Idempotency-Key: $key"
	assert_json_error 500
	[[ "$HTTP_BODY" == *"record of this Idempotency-Key"*"damaged"* ]] || fail "$HTTP_BODY"
	assert_equal "$(header Idempotent-Replayed)" ""
	assert_equal "$(total)" "$before"
	assert_equal "$(redis_cmd "$REDIS" get "idempotency:$key")" 5
	assert_equal "$(redis_cmd "$REDIS" pttl "idempotency:$key")" -1
	grep -q "the idempotency record idempotency:$key .*no expiry" "$STATE/backend/lighttpd.log" ||
		fail "the log does not name the record and its fault"
	# The records deposits write themselves expire, and replay as before.
	post "/v1/bitcoins?bitcoins=5" -H "Idempotency-Key: $key-real"
	assert_equal "$HTTP_STATUS" 204
	post "/v1/bitcoins?bitcoins=5" -H "Idempotency-Key: $key-real"
	assert_equal "$(header Idempotent-Replayed)" true
	assert_equal "$(total)" "$((before + 5))"
	redis_cmd "$REDIS" del "idempotency:$key" >/dev/null
}

@test "a program holding the password cannot be dumped: not dumpable, core size limit 0, though it started as a plain user with no core limit" {
	local dir lighttpd pid curl_pid programs=0
	backend_start_unprivileged
	dir="$UNPRIVILEGED"
	lighttpd="$(cat "$dir/pid")"
	# What the program would be without its own precautions: lighttpd, the
	# same user, the same limits.
	assert_equal "$(dump_state "$lighttpd")" "nobody unlimited unlimited"
	# A Redis that does not answer keeps a CGI in flight; FastCGI
	# responders are there all along.
	kill -STOP "$(cat "$REDIS/pid")"
	curl -s -o /dev/null --max-time 10 -d '' "http://127.0.0.1:$(cat "$dir/port")/v1/bitcoins?bitcoins=1" 3>&- &
	curl_pid=$!
	wait_until 10 pgrep -P "$lighttpd" -x bitcoins.cgi
	for pid in $(programs_of "$lighttpd"); do
		# Not dumpable: the kernel makes /proc/PID/{environ,mem,...} root's,
		# so no other process of the user reads them, and writes no core.
		assert_equal "$(dump_state "$pid")" "root 0 0"
		programs=$((programs + 1))
	done
	kill -CONT "$(cat "$REDIS/pid")"
	wait "$curl_pid" || true
	echo "# looked at $programs program(s) in ${BACKEND_MODE:-cgi} mode" >&3
	((programs >= 1)) || fail "no program was running"
}

@test "a rotated password file counts from the next request in CGI mode; FastCGI responders need a restart" {
	local file="$REDIS/secrets/redis-app-password" old new old_hash new_hash dir="$STATE/rotated"
	# A backend of its own, whose password file this test may replace.
	mkdir -p "$dir"
	cp "$file" "$dir/password"
	REDIS_USER=app REDIS_PASSWORD_FILE="$dir/password" backend_start "$dir" "$(cat "$REDIS/port")"
	BASE_URL="$(backend_url "$dir")"
	old="$(cat "$file")"
	new="$(openssl rand -hex 32)"
	old_hash="$(printf '%s' "$old" | sha256sum | cut -d' ' -f1)"
	new_hash="$(printf '%s' "$new" | sha256sum | cut -d' ' -f1)"
	# 1. Redis takes both passwords; 2. the file changes as the kubelet
	# changes it (a new file renamed over the old); 3. the old one goes.
	redis_cmd "$REDIS" acl setuser app "#$new_hash" >/dev/null
	printf '%s' "$new" >"$dir/password.new"
	mv "$dir/password.new" "$dir/password"
	redis_cmd "$REDIS" acl setuser app "!$old_hash" >/dev/null
	redis_cmd "$REDIS" client kill user app >/dev/null
	post "/v1/bitcoins?bitcoins=1"
	if [[ "${BACKEND_MODE:-cgi}" == cgi ]]; then
		assert_equal "$HTTP_STATUS" 204
	else
		# The responder read the old password when it started.
		assert_json_error 503
		stop_pidfile "$dir/pid" INT
		REDIS_USER=app REDIS_PASSWORD_FILE="$dir/password" backend_start "$dir" "$(cat "$REDIS/port")"
		post "/v1/bitcoins?bitcoins=1"
		assert_equal "$HTTP_STATUS" 204
	fi
	redis_cmd "$REDIS" acl setuser app "#$old_hash" "!$new_hash" >/dev/null
	stop_pidfile "$dir/pid" INT
}

@test "keyed deposits survive a Redis restart from its AOF: the replay is not refused by the default user's ACL" {
	local key="restart-$RANDOM" before
	post "/v1/bitcoins?bitcoins=9" -H "Idempotency-Key: $key"
	assert_equal "$HTTP_STATUS" 204
	before="$(total)"
	kill -KILL "$(cat "$REDIS/pid")"
	rm -f "$REDIS/pid"
	redis_start "$REDIS" --aclfile "$REDIS/secrets/users.acl" --enable-debug-command yes
	assert_equal "$(total)" "$before"
	post "/v1/bitcoins?bitcoins=9" -H "Idempotency-Key: $key"
	assert_equal "$(header Idempotent-Replayed)" true
	run grep -c CRITICAL "$REDIS/redis.log"
	assert_output 0
}

@test "Redis keeps the function library in its AOF: after an AOF rewrite and a restart nobody loads it again, and deposits go on" {
	local before code
	# The code alone: Redis may list the functions in another order.
	code="$(redis_cmd "$REDIS" function list libraryname moneybank withcode | sed '1,/^library_code$/d')"
	assert_equal "$code" "$(cat "$REPO_DIR/k8s/redis-functions.lua")"
	redis_cmd "$REDIS" bgrewriteaof >/dev/null
	wait_until 10 aof_rewritten || fail "the AOF rewrite did not end"
	stop_pidfile "$REDIS/pid"
	# redis_spawn, not redis_start, which would load the library.
	redis_spawn "$REDIS" --aclfile "$REDIS/secrets/users.acl" --enable-debug-command yes
	wait_until 10 redis_answers "$(cat "$REDIS/port")" admin "$(cat "$REDIS/password")" || fail "Redis did not restart"
	assert_equal "$(redis_cmd "$REDIS" function list libraryname moneybank withcode | sed '1,/^library_code$/d')" "$code"
	before="$(total)"
	post "/v1/bitcoins?bitcoins=2"
	assert_equal "$HTTP_STATUS" 204
	assert_equal "$(total)" "$((before + 2))"
}

@test "start-lighttpd refuses a password in the environment and says where it belongs" {
	run env REDIS_PASSWORD=in-the-environment PORT="$(free_port)" RUN_DIR="$BATS_TEST_TMPDIR" \
		"$REPO_DIR/build/start-lighttpd"
	assert_failure
	assert_output --partial "REDIS_PASSWORD is no longer read"
	assert_output --partial "REDIS_PASSWORD_FILE"
	refute_output --partial in-the-environment
}

@test "the server log shows no crash and no sanitizer report" {
	run grep -E 'AddressSanitizer|LeakSanitizer|runtime error|Segmentation|core dumped|aborted' \
		"$STATE/backend/lighttpd.log"
	assert_failure 1
}
