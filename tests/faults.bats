#!/usr/bin/env bats
# Honest answers under real Redis faults, through a real lighttpd. Each test
# puts a real redis-server into a state a deployment meets (lib/redis-states:
# a slow fsync, a stall, full memory, a full disk, loading, busy, a replica,
# a refused password or permission) and checks the answer's status, reason
# and headers, and the total afterwards: a deposit answered 503 did not
# happen, one answered 504 may have, and a retry with its Idempotency-Key
# then counts it exactly once. A table of figures (fault, answer, what was
# lost or doubled) ends the suite, also in results/faults-$BACKEND_MODE.txt.
# BACKEND_MODE and APP_DIR come from the environment.

# Each test runs in a subshell of its own; the disk tests point REDIS at the
# Redis on a volume on purpose.
# shellcheck disable=SC2030,SC2031
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
load lib/common
load lib/api
load lib/redis-states

APP_DIR="${APP_DIR:-$REPO_DIR/build}"
# Seconds an injected fdatasync lasts: far past REDIS_TIMEOUT_MS (500 ms).
FSYNC_DELAY_S=3
# SIGPIPE and SIGTERM, as bits of the masks in /proc/PID/status.
SIGPIPE_BIT=$((1 << (13 - 1)))
SIGTERM_BIT=$((1 << (15 - 1)))

setup_file() {
	local state="$BATS_FILE_TMPDIR"
	redis_start_like_production "$state/redis"
	backend_start "$state/backend" "$(cat "$state/redis/port")"
	# A Redis on a small volume of its own, on the same port, stands in for
	# the main one in the disk tests.
	mkdir -p "$state/volume"
	cp "$state/redis/port" "$state/volume/port"
}

teardown_file() {
	stop_all_below "$BATS_FILE_TMPDIR"
	figures_report
}

setup() {
	STATE="$BATS_FILE_TMPDIR"
	REDIS="$STATE/redis"
	BASE_URL="$(backend_url "$STATE/backend")"
}

# Undoes whatever the test did to Redis: stops the helpers it started and
# restarts the main Redis with production settings (a restart also drops
# every runtime CONFIG SET, ACL, REPLICAOF and pause). The data stays.
teardown() {
	local main="$STATE/redis"
	stop_pidfile "$main/strace.pid"
	kill -CONT "$(cat "$main/pid" 2>/dev/null)" 2>/dev/null || true
	if [[ -f "$main/busy.pid" ]]; then redis_busy_stop "$main"; fi
	redis_stop_volume "$STATE/volume"
	stop_pidfile "$main/pid"
	redis_start_like_production "$main"
}

# Adds a row to the figures: fault, request, answer, what the total did,
# and what was lost or counted twice.
figure() {
	local IFS=$'\t'
	echo "$*" >>"$BATS_FILE_TMPDIR/figures.tsv"
}

# Prints the figures to the TAP output and to results/faults-$BACKEND_MODE.txt.
figures_report() {
	local file="$REPO_DIR/results/faults-${BACKEND_MODE:-cgi}.txt"
	local format='%-48s %-24s %-24s %-30s %s\n'
	mkdir -p "$(dirname "$file")"
	{
		echo "Fault figures, BACKEND_MODE=${BACKEND_MODE:-cgi}, REDIS_TIMEOUT_MS=500, $(date -u +%FT%TZ)"
		# shellcheck disable=SC2059 # the format is the constant above
		printf "$format" fault request answer "total afterwards" "lost/doubled"
		if [[ -f "$BATS_FILE_TMPDIR/figures.tsv" ]]; then
			while IFS=$'\t' read -r fault request answer total lost; do
				# shellcheck disable=SC2059
				printf "$format" "$fault" "$request" "$answer" "$total" "$lost"
			done <"$BATS_FILE_TMPDIR/figures.tsv"
		fi
	} >"$file"
	sed 's/^/# /' "$file" >&3
}

# Prints the total straight from Redis (the API may be refusing reads); as
# for the API, a total never written is 0.
redis_total() {
	local total
	total="$(redis_cmd "$REDIS" get bitcoins)"
	echo "${total:-0}"
}

# POSTs amount $1, with Idempotency-Key $2 when given.
deposit() {
	if [[ -n "${2:-}" ]]; then
		post "/v1/bitcoins?bitcoins=$1" -H "Idempotency-Key: $2"
	else
		post "/v1/bitcoins?bitcoins=$1"
	fi
}

# Fails unless the last body is free of what only an operator may see:
# settings, Redis keys, hosts and ports.
assert_discreet_body() {
	local word
	for word in Redis REDIS_ 127.0.0.1 "$(cat "$REDIS/port")" "idempotency:" \
		"key bitcoins" maxmemory requirepass replicaof; do
		[[ "$HTTP_BODY" != *"$word"* ]] || fail "the body names '$word': $HTTP_BODY"
	done
}

# Asserts the last answer said that nothing happened and when to retry:
# 503, a JSON reason containing $1, Retry-After $2, and Connection: close.
assert_retry_later() {
	assert_json_error 503
	[[ "$HTTP_BODY" == *"$1"* ]] || fail "expected the reason to mention '$1': $HTTP_BODY"
	assert_equal "$(header Retry-After)" "$2"
	assert_equal "$(header Connection)" close
	assert_discreet_body
}

# Asserts the last answer said the deposit's outcome is unknown: 504, a
# reason that says so and how to retry safely, no Retry-After, and
# Connection: close.
assert_outcome_unknown() {
	assert_json_error 504
	[[ "$HTTP_BODY" == *"this deposit may or may not have been added"* ]] || fail "$HTTP_BODY"
	[[ "$HTTP_BODY" == *"same Idempotency-Key, which is then safe"* ]] || fail "$HTTP_BODY"
	[[ "$HTTP_BODY" == *"check the total"* ]] || fail "$HTTP_BODY"
	assert_equal "$(header Retry-After)" ""
	assert_equal "$(header Connection)" close
	assert_discreet_body
}

# Asserts that a plain and a keyed deposit (key refused-N, N the test's
# number) are both refused with the reason $1 and Retry-After $2; the
# figures get a row for fault $3. The caller checks the total: Redis may
# not serve reads in this state.
assert_deposits_refused() {
	local reason="$1" seconds="$2" fault="$3"
	deposit 5
	assert_retry_later "$reason" "$seconds"
	deposit 6 "refused-$BATS_TEST_NUMBER"
	assert_retry_later "$reason" "$seconds"
	figure "$fault" "POST, plain and keyed" "503, Retry-After: $seconds" \
		"unchanged (neither ran)" "nothing"
}

# Asserts that the total is still $1 and that the keyed deposit of
# assert_deposits_refused left no record.
assert_unchanged() {
	assert_equal "$(redis_total)" "$1"
	assert_equal "$(redis_cmd "$REDIS" exists "idempotency:refused-$BATS_TEST_NUMBER")" 0
}

# Prints whether signal bit $2 is "ignored", "caught" or "default" for
# process $1.
signal_disposition() {
	local ignored caught
	ignored="$(awk '$1 == "SigIgn:" { print $2 }' "/proc/$1/status")"
	caught="$(awk '$1 == "SigCgt:" { print $2 }' "/proc/$1/status")"
	if (((0x$ignored & $2) != 0)); then
		echo ignored
	elif (((0x$caught & $2) != 0)); then
		echo caught
	else
		echo default
	fi
}

# Succeeds when lighttpd process $1 has no bitcoins.cgi child.
no_cgi_of() {
	! pgrep -P "$1" -x bitcoins.cgi >/dev/null
}

@test "a deposit Redis applied but answered late (slow fsync) gets 504 outcome unknown, without Retry-After, and counts once" {
	local before
	before="$(redis_total)"
	fsync_delay_start "$REDIS" "$FSYNC_DELAY_S"
	deposit 5
	assert_outcome_unknown
	fsync_delay_stop "$REDIS"
	# Redis ran it: a 503 here would have invited a retry that counts twice.
	assert_equal "$(total)" "$((before + 5))"
	figure "1. slow fsync (3 s), reply after timeout" "POST 5, no key" "504 outcome unknown" \
		"+5: applied once" "nothing; a retry would double"
}

@test "a keyed deposit answered late gets 504, and its retry with the same key replays: counted once" {
	local before
	before="$(redis_total)"
	fsync_delay_start "$REDIS" "$FSYNC_DELAY_S"
	deposit 7 late-reply
	assert_outcome_unknown
	fsync_delay_stop "$REDIS"
	deposit 7 late-reply
	assert_equal "$HTTP_STATUS" 204
	assert_equal "$(header Idempotent-Replayed)" true
	assert_equal "$(total)" "$((before + 7))"
	figure "1. slow fsync (3 s), keyed, then retried" "POST 7, key; same again" \
		"504, then 204 replayed" "+7: applied once" "nothing"
}

@test "a Redis that stalls every client (CLIENT PAUSE): a deposit gets 504, a read 503 with Retry-After; a keyed retry after counts once" {
	local before
	before="$(redis_total)"
	redis_cmd "$REDIS" client pause 6000 all >/dev/null
	deposit 4 paused-deposit
	assert_outcome_unknown
	http GET /v1/bitcoins
	assert_retry_later "did not answer in time; nothing was changed" 1
	http GET /healthz
	assert_retry_later "did not answer in time; nothing was changed" 1
	wait_until 10 redis_says "$REDIS" PONG ping
	# The paused command was dropped when its client left.
	assert_equal "$(total)" "$before"
	deposit 4 paused-deposit
	assert_equal "$HTTP_STATUS" 204
	assert_equal "$(header Idempotent-Replayed)" ""
	assert_equal "$(total)" "$((before + 4))"
	figure "stall (CLIENT PAUSE 6 s), keyed, then retried" "POST 4, key; same again" \
		"504, then 204 deposited" "+4: dropped, then applied once" "nothing"
	figure "stall (CLIENT PAUSE 6 s)" "GET, /healthz" "503, Retry-After: 1" "-" "-"
}

@test "with Redis stopped, a deposit gets 503 with Retry-After: 1 and Connection: close, and did not happen" {
	local before
	before="$(redis_total)"
	stop_pidfile "$REDIS/pid"
	deposit 5
	assert_retry_later "could not be reached; nothing was changed" 1
	deposit 5 stopped-redis
	assert_retry_later "could not be reached; nothing was changed" 1
	redis_start_like_production "$REDIS"
	assert_equal "$(total)" "$before"
	figure "Redis stopped (connection refused)" "POST, plain and keyed" "503, Retry-After: 1" \
		"unchanged (not sent)" "nothing"
}

@test "every answer closes its connection, a 200 as a 503: no idle connection holds one of the 384 slots" {
	# One line per request: the connections it had to open, then its status.
	local -a two_gets=(-sS --max-time 10 -o /dev/null -o /dev/null
		-w '%{num_connects} %{http_code}\n' "$BASE_URL/v1/bitcoins" "$BASE_URL/v1/bitcoins")
	run curl "${two_gets[@]}"
	assert_output $'1 200\n1 200'
	stop_pidfile "$REDIS/pid"
	run curl "${two_gets[@]}"
	assert_output $'1 503\n1 503'
}

@test "with memory full and nothing to evict (OOM), deposits get 503 Retry-After: 60 and change nothing; reads still work" {
	local before
	before="$(total)"
	redis_cmd "$REDIS" config set maxmemory 1 >/dev/null
	assert_deposits_refused "storage is full" 60 "2. OOM: maxmemory, nothing to evict"
	assert_unchanged "$before"
	http GET /v1/bitcoins
	assert_equal "$HTTP_STATUS" 200
	assert_equal "$HTTP_BODY" "$before"
	# Redis still answers PING; /healthz tells the truth about deposits.
	assert_equal "$(redis_cmd "$REDIS" ping)" PONG
	http GET /healthz
	assert_retry_later "storage is full" 60
	assert_unchanged "$before"
	figure "2. OOM: maxmemory, nothing to evict" "/healthz (PING works)" "503, Retry-After: 60" "-" "-"
}

@test "a Redis full of idempotency records (volatile-ttl) takes every deposit: the oldest records give way and the total is exact" {
	local before used evicted i sum=0
	before="$(total)"
	used="$(redis_info "$REDIS" used_memory)"
	redis_cmd "$REDIS" config set maxmemory $((used + 2 * 1024 * 1024)) >/dev/null
	# About 150 bytes a record: 20,000 records fill the 2 MB and more. (Under
	# noeviction the last ones are refused: the check below still holds.)
	redis_add_records "$REDIS" 20000 old >/dev/null || true
	used="$(redis_info "$REDIS" used_memory)"
	((used > $(redis_info "$REDIS" maxmemory) - 100000)) || fail "not full: $used bytes used"
	evicted="$(redis_info "$REDIS" evicted_keys)"
	for i in $(seq 60); do
		deposit "$i" "full-memory-$i"
		assert_equal "$HTTP_STATUS" 204
		sum=$((sum + i))
	done
	for i in $(seq 20); do
		deposit 1
		assert_equal "$HTTP_STATUS" 204
	done
	assert_equal "$(total)" "$((before + sum + 20))"
	# Records gave way while the deposits ran, the oldest first: the newest
	# deposit's key is still remembered.
	(($(redis_info "$REDIS" evicted_keys) > evicted)) || fail "nothing was evicted"
	deposit 60 full-memory-60
	assert_equal "$(header Idempotent-Replayed)" true
	assert_equal "$(total)" "$((before + sum + 20))"
	figure "3. memory full of records (volatile-ttl)" "80 POSTs, 60 keyed" "204 each" \
		"+$((sum + 20)): exact" "nothing; oldest records evicted"
}

@test "a Redis that cannot write its AOF (MISCONF, full volume) refuses deposits with 503 Retry-After: 30, and resumes once there is room" {
	local before
	stop_pidfile "$REDIS/pid"
	# appendfsync everysec: a write error then stops writes (MISCONF); with
	# always, production's setting, Redis exits instead (next test).
	redis_start_on_volume "$STATE/volume" 4m --appendfsync everysec
	local REDIS="$STATE/volume"
	deposit 3
	assert_equal "$HTTP_STATUS" 204
	before="$(redis_total)"
	volume_fill "$REDIS"
	# The AOF's last page may take a few more writes before one fails.
	wait_until 30 redis_says "$REDIS" MISCONF incrby bitcoins 0
	assert_deposits_refused "cannot save, so it takes no deposits" 30 "2. MISCONF: AOF volume full (everysec)"
	assert_unchanged "$before"
	http GET /v1/bitcoins
	assert_equal "$HTTP_STATUS" 200
	http GET /healthz
	assert_retry_later "cannot save, so it takes no deposits" 30
	volume_free "$REDIS"
	wait_until 10 redis_says "$REDIS" "$before" incrby bitcoins 0
	deposit 2
	assert_equal "$HTTP_STATUS" 204
	assert_equal "$(total)" "$((before + 2))"
}

@test "a full volume under appendfsync always makes Redis exit: the deposit in flight gets 504 and was not counted" {
	local before aof_size room pad
	stop_pidfile "$REDIS/pid"
	redis_start_on_volume "$STATE/volume" 4m --appendfsync always
	local REDIS="$STATE/volume"
	deposit 3
	assert_equal "$HTTP_STATUS" 204
	before="$(redis_total)"
	volume_fill "$REDIS"
	# The AOF's last page may still have room; a SET that (nearly) fills it
	# leaves less than the deposit's INCRBY needs (37 bytes). Its record is
	# 27 bytes, the digits of its value's length, and the value: a value of
	# room - 27 - (digits of room) leaves 0 to 3 bytes.
	aof_size="$(volume_aof_size "$REDIS")"
	room=$(((4096 - aof_size % 4096) % 4096))
	if ((room >= 37)); then
		pad=$((room - 27 - ${#room}))
		redis_cmd "$REDIS" set pad "$(head -c "$pad" /dev/zero | tr '\0' p)" >/dev/null
	fi
	deposit 5
	assert_outcome_unknown
	wait_until 10 process_gone "$(cat "$REDIS/pid")"
	grep -q "AOF write error" "$REDIS/redis.log" || fail "Redis did not exit for its AOF"
	volume_free "$REDIS"
	redis_start_on_volume "$REDIS" 4m --appendfsync always
	assert_equal "$(total)" "$before"
	figure "disk full, appendfsync always: Redis exits" "POST 5, no key" "504 outcome unknown" \
		"unchanged: not in the AOF" "nothing acknowledged"
}

@test "a Redis loading its AOF after a restart answers 503 LOADING with Retry-After: 5, and then the total is intact" {
	local before
	before="$(total)"
	# 40,000 more commands, 100 us each: several seconds of loading.
	redis_restart_loading "$REDIS" 40000 100
	deposit 5
	assert_retry_later "loading its data after a restart" 5
	deposit 5 while-loading
	assert_retry_later "loading its data after a restart" 5
	http GET /v1/bitcoins
	assert_retry_later "loading its data after a restart" 5
	http GET /healthz
	assert_retry_later "loading its data after a restart" 5
	wait_until 60 redis_says "$REDIS" PONG ping
	assert_equal "$(total)" "$before"
	figure "2. LOADING (AOF replay after restart)" "POST, GET, /healthz" "503, Retry-After: 5" \
		"unchanged (none ran)" "nothing"
}

@test "a Redis busy with a long script answers 503 BUSY with Retry-After: 5 and changes nothing" {
	local before
	before="$(total)"
	redis_busy_start "$REDIS"
	assert_deposits_refused "busy with a long task" 5 "2. BUSY: a script past its threshold"
	http GET /v1/bitcoins
	assert_retry_later "busy" 5
	http GET /healthz
	assert_retry_later "busy" 5
	redis_busy_stop "$REDIS"
	assert_unchanged "$before"
}

@test "a replica (REPLICAOF) refuses deposits with 503 READONLY, Retry-After: 10, and changes nothing" {
	local before
	before="$(total)"
	redis_cmd "$REDIS" replicaof 127.0.0.1 "$(free_port)" >/dev/null
	assert_deposits_refused "read-only copy" 10 "2. READONLY: REDIS_HOST reaches a replica"
	assert_unchanged "$before"
	http GET /v1/bitcoins
	assert_equal "$HTTP_STATUS" 200
	assert_equal "$HTTP_BODY" "$before"
	assert_equal "$(redis_cmd "$REDIS" ping)" PONG
	http GET /healthz
	assert_retry_later "read-only copy" 10
	figure "2. READONLY: a replica" "/healthz (PING works)" "503, Retry-After: 10" "-" "-"
}

@test "a replica cut off from its primary with stale reads off answers 503 MASTERDOWN, Retry-After: 10" {
	local before
	before="$(redis_total)"
	redis_cmd "$REDIS" replicaof 127.0.0.1 "$(free_port)" >/dev/null
	redis_cmd "$REDIS" config set replica-serve-stale-data no >/dev/null
	http GET /v1/bitcoins
	assert_retry_later "lost contact with the original" 10
	# A replica refuses writes before it looks at its link: deposits, and
	# /healthz, which asks whether one would be taken, hear READONLY.
	http GET /healthz
	assert_retry_later "read-only copy" 10
	deposit 5 masterdown
	assert_retry_later "read-only copy" 10
	deposit 5
	assert_retry_later "read-only copy" 10
	redis_cmd "$REDIS" config set replica-serve-stale-data yes >/dev/null
	assert_equal "$(redis_total)" "$before"
	figure "2. MASTERDOWN: replica, link down" "GET; /healthz, POST" "503 (MASTERDOWN; READONLY), Retry-After: 10" \
		"unchanged" "nothing"
}

@test "a Redis that starts requiring a password answers 503 NOAUTH with Retry-After: 30, naming no setting" {
	local before after
	before="$(redis_total)"
	redis_cmd "$REDIS" config set requirepass 'new secret' >/dev/null
	# Connections kept by FastCGI responders stay authenticated; drop them.
	REDISCLI_AUTH='new secret' redis-cli -p "$(cat "$REDIS/port")" client kill type normal >/dev/null
	deposit 5
	assert_retry_later "refused this server's access" 30
	deposit 5 noauth
	assert_retry_later "refused this server's access" 30
	http GET /healthz
	assert_retry_later "refused this server's access" 30
	grep -q "REDIS_USER and the password in REDIS_PASSWORD_FILE" "$STATE/backend/lighttpd.log" ||
		fail "the log does not say what fixes it"
	after="$(REDISCLI_AUTH='new secret' redis-cli -p "$(cat "$REDIS/port")" get bitcoins)"
	assert_equal "${after:-0}" "$before"
	figure "2. NOAUTH: a password now required" "POST, /healthz" "503, Retry-After: 30" \
		"unchanged" "nothing"
}

@test "a Redis user without the needed permissions (NOPERM) gets 503 Retry-After: 30, even when only SET is denied" {
	local before
	before="$(redis_total)"
	# Only SET denied: the function checks it before INCRBY, so a refusal
	# still means that nothing changed.
	redis_cmd "$REDIS" acl setuser default -set >/dev/null
	deposit 5 noperm-set
	assert_retry_later "does not permit this operation" 30
	assert_equal "$(redis_total)" "$before"
	redis_cmd "$REDIS" acl setuser default -incrby -fcall >/dev/null
	assert_deposits_refused "does not permit this operation" 30 "2. NOPERM: ACL denies SET, INCRBY, FCALL"
	assert_unchanged "$before"
}

@test "a Redis without our function library (FUNCTION FLUSH) gets 503 Retry-After: 30, naming no part, logs how to load it, and changes nothing; once loaded, deposits count again" {
	local before
	before="$(redis_total)"
	redis_cmd "$REDIS" function flush >/dev/null
	assert_deposits_refused "not set up to take this operation" 30 "2. no function library (FUNCTION FLUSH)"
	http GET /healthz
	assert_retry_later "not set up to take this operation" 30
	grep -q "refused FCALL: ERR Function not found (Redis lacks the function library moneybank .*readiness probe loads it.*load it as admin: k8s/redis-load-functions.sh k8s/redis-functions.lua" \
		"$STATE/backend/lighttpd.log" || fail "the log does not say what fixes it"
	assert_unchanged "$before"
	redis_load_functions "$REDIS" 2>/dev/null
	deposit 5
	assert_equal "$HTTP_STATUS" 204
	http GET /healthz
	assert_equal "$HTTP_STATUS" 200
	assert_equal "$(redis_total)" "$((before + 5))"
}

@test "any other refusal (NOREPLICAS) gets 503 with Retry-After: 5 and changes nothing" {
	local before
	before="$(redis_total)"
	redis_cmd "$REDIS" config set min-replicas-to-write 1 >/dev/null
	assert_deposits_refused "the bank's storage refused the operation" 5 "2. other: NOREPLICAS"
	assert_unchanged "$before"
}

@test "a total of the wrong type (WRONGTYPE) gets 500 and is left alone; only a bad total is a 500" {
	local before
	deposit 1
	before="$(redis_total)"
	redis_cmd "$REDIS" rename bitcoins bitcoins-saved >/dev/null
	redis_cmd "$REDIS" rpush bitcoins 1 >/dev/null
	http GET /v1/bitcoins
	assert_json_error 500
	[[ "$HTTP_BODY" == *"stored total is damaged"* ]] || fail "$HTTP_BODY"
	assert_discreet_body
	deposit 5
	assert_json_error 500
	deposit 5 wrongtype
	assert_json_error 500
	assert_equal "$(redis_cmd "$REDIS" lrange bitcoins 0 -1)" 1
	grep -q "then write the right total (SET bitcoins N)" "$STATE/backend/lighttpd.log" || fail "the log does not say what fixes it"
	redis_cmd "$REDIS" rename bitcoins-saved bitcoins >/dev/null
	assert_equal "$(total)" "$before"
	figure "stored total of the wrong type" "GET, POST" "500" "unchanged" "nothing"
}

@test "an idempotency record of the wrong type gets 500 about that record, not the total; the log names the record" {
	local before
	deposit 1
	before="$(redis_total)"
	redis_cmd "$REDIS" hset idempotency:hashed-record field value >/dev/null
	deposit 5 hashed-record
	assert_json_error 500
	[[ "$HTTP_BODY" == *"record of this Idempotency-Key is damaged"*"nothing was added"* ]] || fail "$HTTP_BODY"
	[[ "$HTTP_BODY" != *"total"* ]] || fail "the body blames the total: $HTTP_BODY"
	assert_discreet_body
	assert_equal "$(redis_total)" "$before"
	assert_equal "$(redis_cmd "$REDIS" type idempotency:hashed-record)" hash
	grep -q "the idempotency record idempotency:hashed-record holds another type" "$STATE/backend/lighttpd.log" ||
		fail "the log does not name the record"
	# Other keys and plain deposits are unaffected.
	deposit 5 another-record
	assert_equal "$HTTP_STATUS" 204
	figure "idempotency record of the wrong type" "POST with its key" "500 (that record)" "unchanged" "nothing"
}

@test "a CGI waiting on a Redis that never answers ignores SIGPIPE and ends at once on SIGTERM" {
	local pid pipe term
	kill -STOP "$(cat "$REDIS/pid")"
	env -i REDIS_HOST=127.0.0.1 REDIS_PORT="$(cat "$REDIS/port")" REDIS_TIMEOUT_MS=4000 \
		REQUEST_METHOD=POST QUERY_STRING=bitcoins=1 "$APP_DIR/bitcoins.cgi" \
		>/dev/null 2>&1 3>&- &
	pid=$!
	wait_until 10 waits_on_socket "$pid"
	pipe="$(signal_disposition "$pid" "$SIGPIPE_BIT")"
	term="$(signal_disposition "$pid" "$SIGTERM_BIT")"
	kill -TERM "$pid"
	wait_until 3 process_gone "$pid" || fail "still alive 3 s after SIGTERM (SIGTERM: $term)"
	assert_equal "$pipe" ignored
	assert_equal "$term" default
}

@test "the programs lighttpd runs ignore SIGPIPE; a CGI dies on SIGTERM, an idle FastCGI responder exits on it" {
	local dir="$STATE/slow-backend" lighttpd program pipe term
	REDIS_TIMEOUT_MS=4000 backend_start "$dir" "$(cat "$REDIS/port")"
	lighttpd="$(cat "$dir/pid")"
	if [[ "${BACKEND_MODE:-cgi}" == cgi ]]; then
		kill -STOP "$(cat "$REDIS/pid")"
		curl -s --max-time 30 -o /dev/null "$(backend_url "$dir")/v1/bitcoins" 3>&- &
		wait_until 10 pgrep -P "$lighttpd" -x bitcoins.cgi
	fi
	program="$(pgrep -P "$lighttpd" -x bitcoins.cgi | head -1)"
	[[ "${BACKEND_MODE:-cgi}" != cgi ]] || wait_until 10 waits_on_socket "$program"
	pipe="$(signal_disposition "$program" "$SIGPIPE_BIT")"
	term="$(signal_disposition "$program" "$SIGTERM_BIT")"
	kill -TERM "$program"
	wait_until 3 process_gone "$program" || fail "still alive 3 s after SIGTERM (SIGTERM: $term)"
	stop_pidfile "$dir/pid" INT
	assert_equal "$pipe" ignored
	# A CGI takes the default action; a FastCGI responder has libfcgi's
	# handler, which ends it after the request in hand.
	if [[ "${BACKEND_MODE:-cgi}" == cgi ]]; then
		assert_equal "$term" default
	else
		assert_equal "$term" caught
	fi
}

@test "with REDIS_TIMEOUT_MS at its largest (4000) and Redis stalled, a program still answers itself, before lighttpd's read-timeout" {
	local dir="$STATE/slow-backend" before
	REDIS_TIMEOUT_MS=4000 backend_start "$dir" "$(cat "$REDIS/port")"
	before="$(redis_total)"
	kill -STOP "$(cat "$REDIS/pid")"
	BASE_URL="$(backend_url "$dir")"
	http GET /v1/bitcoins
	assert_retry_later "did not answer in time; nothing was changed" 1
	deposit 5
	assert_outcome_unknown
	kill -CONT "$(cat "$REDIS/pid")"
	stop_pidfile "$dir/pid" INT
	[[ "$(redis_total)" == "$before" || "$(redis_total)" == "$((before + 5))" ]] ||
		fail "total $(redis_total), before $before"
	figure "stall, REDIS_TIMEOUT_MS 4000 (its largest)" "GET; POST 5, no key" \
		"503; 504 unknown, our own" "+$(($(redis_total) - before)) (could be +0 or +5)" "nothing acknowledged"
}

# Sends a request ($@ for http) in the background, waits until its CGI waits
# on Redis, and stops that CGI (SIGSTOP), as a CPU too busy to run it would;
# then lets Redis go on. Leaves the CGI's pid in STOPPED_CGI; the answer
# arrives in the background job's files (see answer_of_stopped_cgi).
request_with_stopped_cgi() {
	local lighttpd="$1"
	shift
	kill -STOP "$(cat "$REDIS/pid")"
	(http "$@" && printf 'HTTP_STATUS=%q\nHTTP_HEADERS=%q\nHTTP_BODY=%q\n' \
		"$HTTP_STATUS" "$HTTP_HEADERS" "$HTTP_BODY" >"$BATS_TEST_TMPDIR/answer") 3>&- &
	echo "$!" >"$BATS_TEST_TMPDIR/request.pid"
	wait_until 10 pgrep -P "$lighttpd" -x bitcoins.cgi
	STOPPED_CGI="$(pgrep -P "$lighttpd" -x bitcoins.cgi | head -1)"
	wait_until 10 waits_on_socket "$STOPPED_CGI"
	kill -STOP "$STOPPED_CGI"
	kill -CONT "$(cat "$REDIS/pid")"
}

# Waits for the answer of request_with_stopped_cgi and loads it.
answer_of_stopped_cgi() {
	wait "$(cat "$BATS_TEST_TMPDIR/request.pid")" || true
	# shellcheck source=/dev/null # written by request_with_stopped_cgi
	source "$BATS_TEST_TMPDIR/answer"
}

@test "a CGI past lighttpd's read-timeout is ended, and lighttpd's own 504 fits a read and a deposit alike" {
	local dir="$STATE/slow-backend" lighttpd before method
	[[ "${BACKEND_MODE:-cgi}" == cgi ]] || skip "cgi.limits' read-timeout applies to CGIs only"
	backend_start "$dir" "$(cat "$REDIS/port")"
	lighttpd="$(cat "$dir/pid")"
	BASE_URL="$(backend_url "$dir")"
	before="$(redis_total)"
	for method in GET POST; do
		if [[ "$method" == GET ]]; then
			request_with_stopped_cgi "$lighttpd" GET /v1/bitcoins
		else
			request_with_stopped_cgi "$lighttpd" POST "/v1/bitcoins?bitcoins=5" -d ''
		fi
		answer_of_stopped_cgi
		assert_json_error 504
		[[ "$HTTP_BODY" == *"a read changed nothing and may simply be sent again"* ]] || fail "$HTTP_BODY"
		[[ "$HTTP_BODY" == *"may or may not have been added"*"same Idempotency-Key"* ]] || fail "$HTTP_BODY"
		assert_equal "$(header Retry-After)" ""
		# lighttpd sent the CGI SIGTERM, which ends it once it runs again.
		kill -CONT "$STOPPED_CGI"
		wait_until 3 no_cgi_of "$lighttpd"
	done
	stop_pidfile "$dir/pid" INT
	# The deposit was sent before its CGI stopped: it may have counted.
	[[ "$(redis_total)" == "$before" || "$(redis_total)" == "$((before + 5))" ]] ||
		fail "total $(redis_total), before $before"
	figure "lighttpd read-timeout (a CGI that cannot run)" "GET; POST 5, no key" \
		"lighttpd's 504, unknown" "+$(($(redis_total) - before)) (could be +0 or +5)" \
		"nothing acknowledged"
}

@test "the server log shows no crash and no sanitizer report" {
	run grep -E 'AddressSanitizer|LeakSanitizer|runtime error|Segmentation|core dumped|aborted' \
		"$STATE/backend/lighttpd.log"
	assert_failure 1
}
