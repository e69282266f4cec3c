#!/usr/bin/env bats
# Safe retries: POST with an Idempotency-Key deposits once, however often and
# wherever it is retried. Three backends share one Redis, as three replicas
# do; a fourth remembers keys for only 1 s, to prove that keys expire.
# BACKEND_MODE and APP_DIR come from the environment.

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
load lib/common
load lib/api

setup_file() {
	local state="$BATS_FILE_TMPDIR" redis_port replica
	redis_start "$state/redis"
	redis_port="$(cat "$state/redis/port")"
	for replica in 1 2 3; do
		backend_start "$state/replica$replica" "$redis_port"
	done
	IDEMPOTENCY_TTL_S=1 backend_start "$state/short-ttl" "$redis_port"
}

teardown_file() {
	stop_all_below "$BATS_FILE_TMPDIR"
}

setup() {
	STATE="$BATS_FILE_TMPDIR"
	use_replica 1
}

# Points BASE_URL at replica $1.
use_replica() {
	BASE_URL="$(backend_url "$STATE/replica$1")"
}

# POSTs amount $1 with Idempotency-Key $2.
post_with_key() {
	post "/v1/bitcoins?bitcoins=$1" -H "Idempotency-Key: $2"
}

@test "POST with a new Idempotency-Key deposits once and answers 204" {
	local before
	before="$(total)"
	post_with_key 5 first-key
	assert_equal "$HTTP_STATUS" 204
	assert_equal "$(header Idempotent-Replayed)" ""
	assert_equal "$(total)" "$((before + 5))"
}

@test "a replay with the same key and amount answers 204 with Idempotent-Replayed and deposits nothing" {
	local before
	post_with_key 5 replayed-key
	before="$(total)"
	post_with_key 5 replayed-key
	assert_equal "$HTTP_STATUS" 204
	assert_equal "$(header Idempotent-Replayed)" true
	use_replica 2
	post_with_key 5 replayed-key
	assert_equal "$HTTP_STATUS" 204
	assert_equal "$(header Idempotent-Replayed)" true
	assert_equal "$(total)" "$before"
}

@test "the same key with a different amount gets 422 with a JSON error and changes nothing" {
	local before
	post_with_key 5 reused-key
	before="$(total)"
	post_with_key 6 reused-key
	assert_json_error 422
	[[ "$HTTP_BODY" == *"different amount"* ]] || fail "$HTTP_BODY"
	assert_equal "$(total)" "$before"
}

@test "an invalid Idempotency-Key gets 400 with a JSON error and changes nothing" {
	local before header
	before="$(total)"
	# An empty value cannot be told from no header: lighttpd drops empty
	# headers before any program runs (see the README).
	for header in "Idempotency-Key: two words" $'Idempotency-Key: a\tb' \
		"Idempotency-Key: caf$(printf '\xc3\xa9')" \
		"Idempotency-Key: $(printf 'k%.0s' {1..256})"; do
		post "/v1/bitcoins?bitcoins=5" -H "$header"
		assert_json_error 400
		[[ "$HTTP_BODY" == *"Idempotency-Key must be"* ]] || fail "$header: $HTTP_BODY"
	done
	assert_equal "$(total)" "$before"
}

@test "a key of 255 visible characters is accepted" {
	local before key
	before="$(total)"
	key="$(printf '~%.0s' {1..254})!"
	post_with_key 2 "$key"
	assert_equal "$HTTP_STATUS" 204
	assert_equal "$(total)" "$((before + 2))"
}

@test "a bad amount with a key is rejected and records nothing" {
	local before
	before="$(total)"
	post "/v1/bitcoins?bitcoins=-1" -H "Idempotency-Key: bad-amount-key"
	assert_json_error 400
	post_with_key 4 bad-amount-key
	assert_equal "$HTTP_STATUS" 204
	assert_equal "$(header Idempotent-Replayed)" ""
	assert_equal "$(total)" "$((before + 4))"
}

@test "50 concurrent POSTs with one key over 3 backends move the total by N exactly once" {
	local before urls replays deposits
	before="$(total)"
	urls="$(for i in $(seq 0 49); do backend_url "$STATE/replica$((i % 3 + 1))"; done)"
	xargs -P 50 -I{} curl -sS --max-time 30 -o /dev/null -D - -d '' \
		-H 'Idempotency-Key: one-key-many-retries' '{}/v1/bitcoins?bitcoins=7' \
		<<<"$urls" | tr -d '\r' >"$BATS_TEST_TMPDIR/headers"
	assert_equal "$(grep -c '^HTTP/1.1 204' "$BATS_TEST_TMPDIR/headers")" 50
	replays="$(grep -ci '^Idempotent-Replayed: true' "$BATS_TEST_TMPDIR/headers")"
	deposits=$((50 - replays))
	echo "# 50 retries: $deposits deposit, $replays replays" >&3
	assert_equal "$deposits" 1
	assert_equal "$(total)" "$((before + 7))"
}

@test "a key is forgotten after its TTL, and then deposits again" {
	local before
	# shellcheck disable=SC2034 # read by the helpers in lib/api.bash
	BASE_URL="$(backend_url "$STATE/short-ttl")"
	before="$(total)"
	post_with_key 3 short-lived-key
	assert_equal "$HTTP_STATUS" 204
	post_with_key 3 short-lived-key
	assert_equal "$(header Idempotent-Replayed)" true
	assert_equal "$(total)" "$((before + 3))"
	sleep 1.5
	post_with_key 3 short-lived-key
	assert_equal "$HTTP_STATUS" 204
	assert_equal "$(header Idempotent-Replayed)" ""
	assert_equal "$(total)" "$((before + 6))"
}

@test "POST without the header deposits every time, as before" {
	local before
	before="$(total)"
	post "/v1/bitcoins?bitcoins=1"
	post "/v1/bitcoins?bitcoins=1"
	assert_equal "$HTTP_STATUS" 204
	assert_equal "$(header Idempotent-Replayed)" ""
	assert_equal "$(total)" "$((before + 2))"
}
