#!/usr/bin/env bats
# The HTTP contract, tested through a real lighttpd and a real Redis.
# TARGET picks where they run (tests/lib/target-$TARGET.bash: local
# processes by default, or a container); BACKEND_MODE picks cgi or fastcgi.
# Only HTTP is used here, so the same file proves every target.

bats_load_library bats-support
bats_load_library bats-assert
load lib/common
load lib/api
load "lib/target-${TARGET:-local}"

setup_file() {
	target_start
}

teardown_file() {
	target_stop
}

@test "GET before any deposit answers 200 with the body 0" {
	http GET /v1/bitcoins
	assert_equal "$HTTP_STATUS" 200
	assert_equal "$HTTP_BODY" 0
}

@test "GET answers text/plain with the total and no trailing newline" {
	post "/v1/bitcoins?bitcoins=42"
	http GET /v1/bitcoins
	assert_equal "$HTTP_STATUS" 200
	assert_equal "$(header Content-Type)" "text/plain; charset=utf-8"
	[[ "$HTTP_BODY" =~ ^[0-9]+$ ]] || fail "not a decimal integer: $HTTP_BODY"
	assert_equal "$HTTP_BODY_BYTES" "${#HTTP_BODY}"
	assert_equal "$(header Content-Length)" "${#HTTP_BODY}"
}

@test "HEAD answers like GET without a body" {
	http GET /v1/bitcoins
	local length
	length="$(header Content-Length)"
	head_request /v1/bitcoins
	assert_equal "$HTTP_STATUS" 200
	assert_equal "$(header Content-Type)" "text/plain; charset=utf-8"
	assert_equal "$(header Content-Length)" "$length"
	assert_equal "$HTTP_BODY_BYTES" 0
}

@test "GET with Accept: application/json answers {\"bitcoins\":N} as JSON" {
	local plain
	plain="$(total)"
	http GET /v1/bitcoins -H 'Accept: application/json'
	assert_equal "$HTTP_STATUS" 200
	assert_equal "$(header Content-Type)" application/json
	assert_equal "$HTTP_BODY" "{\"bitcoins\":$plain}"
}

@test "GET without Accept, or with */*, stays plain text" {
	local accept
	for accept in "" "*/*" "text/plain" "text/*" "text/html"; do
		http GET /v1/bitcoins -H "Accept: $accept"
		assert_equal "$(header Content-Type)" "text/plain; charset=utf-8"
		[[ "$HTTP_BODY" =~ ^[0-9]+$ ]] || fail "Accept '$accept' gave: $HTTP_BODY"
	done
}

@test "GET weighs Accept q-values to choose JSON or plain text" {
	local accept
	for accept in "text/plain;q=0.5, application/json" "application/json;q=0.9, text/*;q=0.8" \
		"application/*" "text/plain;q=0, */*" "*/*;q=0.1, application/json;q=0.2"; do
		http GET /v1/bitcoins -H "Accept: $accept"
		assert_equal "$(header Content-Type)" application/json
	done
	for accept in "application/json;q=0.5, text/plain" "application/json;q=0" \
		"application/json;q=0.5, */*" "text/plain, application/json"; do
		http GET /v1/bitcoins -H "Accept: $accept"
		assert_equal "$(header Content-Type)" "text/plain; charset=utf-8"
	done
}

@test "POST adds the amount and answers 204 with an empty body" {
	local before
	before="$(total)"
	post "/v1/bitcoins?bitcoins=5"
	assert_equal "$HTTP_STATUS" 204
	assert_equal "$HTTP_BODY_BYTES" 0
	assert_equal "$(total)" "$((before + 5))"
}

@test "POST writes a deposit line with the amount and the new total to the log" {
	post "/v1/bitcoins?bitcoins=7"
	assert_equal "$HTTP_STATUS" 204
	local expected
	expected="deposit amount=7 total=$(total)"
	target_log_refresh
	wait_until 10 grep -qF "$expected" "$TARGET_LOG" ||
		fail "no '$expected' in the log: $(tail -5 "$TARGET_LOG")"
}

@test "POST ignores other query parameters" {
	local before
	before="$(total)"
	post "/v1/bitcoins?note=hello&bitcoins=3&x=%zz"
	assert_equal "$HTTP_STATUS" 204
	assert_equal "$(total)" "$((before + 3))"
}

@test "POST accepts a percent-encoded amount and leading zeros" {
	local before
	before="$(total)"
	post "/v1/bitcoins?bitcoin%73=%312&other=1"
	assert_equal "$HTTP_STATUS" 204
	post "/v1/bitcoins?bitcoins=0008"
	assert_equal "$HTTP_STATUS" 204
	assert_equal "$(total)" "$((before + 20))"
}

@test "POST without the bitcoins parameter is rejected and changes nothing" {
	assert_deposit_rejected "" "missing"
	assert_deposit_rejected "amount=5" "missing"
}

@test "POST with an empty amount is rejected and changes nothing" {
	assert_deposit_rejected "bitcoins=" "empty"
	assert_deposit_rejected "bitcoins" "empty"
}

@test "POST with a negative amount is rejected and changes nothing" {
	assert_deposit_rejected "bitcoins=-5" "digits"
}

@test "POST with a plus sign is rejected and changes nothing" {
	assert_deposit_rejected "bitcoins=%2B5" "digits"
}

@test "POST with a decimal point is rejected and changes nothing" {
	assert_deposit_rejected "bitcoins=1.5" "digits"
	assert_deposit_rejected "bitcoins=5." "digits"
}

@test "POST with an exponent is rejected and changes nothing" {
	assert_deposit_rejected "bitcoins=1e3" "digits"
}

@test "POST with a hex amount is rejected and changes nothing" {
	assert_deposit_rejected "bitcoins=0x10" "digits"
}

@test "POST with whitespace around the amount is rejected and changes nothing" {
	assert_deposit_rejected "bitcoins=%205" "digits"
	assert_deposit_rejected "bitcoins=5%20" "digits"
	assert_deposit_rejected "bitcoins=+5" "digits"
}

@test "POST with an encoded control character is rejected and changes nothing" {
	# lighttpd itself refuses these before any program runs.
	assert_deposit_rejected "bitcoins=5%0A" ""
	assert_deposit_rejected "bitcoins=5%00" ""
}

@test "POST with a zero amount is rejected and changes nothing" {
	assert_deposit_rejected "bitcoins=0" "at least 1"
	assert_deposit_rejected "bitcoins=000" "at least 1"
}

@test "POST with an amount above MAX_DEPOSIT (21000000) is rejected with a body naming it, and changes nothing" {
	assert_deposit_rejected "bitcoins=21000001" "at most 21000000 per deposit"
	assert_deposit_rejected "bitcoins=9007199254740992" "at most 21000000 per deposit"
	assert_deposit_rejected "bitcoins=99999999999999999999999999999999" "at most 21000000"
}

@test "POST with any other character in the amount is rejected and changes nothing" {
	assert_deposit_rejected "bitcoins=5abc" "digits"
	assert_deposit_rejected "bitcoins=%EF%BC%95" "digits"
	assert_deposit_rejected "bitcoins=1,000" "digits"
}

@test "POST with a malformed percent-escape is rejected and changes nothing" {
	# lighttpd may re-encode a stray "%" as "%25": then it is not a digit.
	assert_deposit_rejected "bitcoins=%zz" ""
	assert_deposit_rejected "bitcoins=5%2" ""
}

@test "POST with the amount given twice is rejected and changes nothing" {
	assert_deposit_rejected "bitcoins=1&bitcoins=2" "more than once"
	assert_deposit_rejected "bitcoins=1&bitcoin%73=1" "more than once"
}

@test "POST without Content-Length gets 411 with a JSON hint and changes nothing" {
	local before
	before="$(total)"
	http POST "/v1/bitcoins?bitcoins=5"
	assert_json_error 411
	[[ "$HTTP_BODY" == *"Content-Length: 0"* ]] || fail "no fix in: $HTTP_BODY"
	assert_equal "$(total)" "$before"
}

@test "other methods on /v1/bitcoins get 405 with Allow and change nothing" {
	local before method
	before="$(total)"
	for method in PUT DELETE PATCH OPTIONS; do
		http "$method" "/v1/bitcoins?bitcoins=5" -d ''
		assert_json_error 405
		assert_equal "$(header Allow)" "GET, HEAD, POST"
	done
	assert_equal "$(total)" "$before"
}

@test "GET /healthz answers 200 OK while Redis answers" {
	http GET /healthz
	assert_equal "$HTTP_STATUS" 200
	assert_equal "$HTTP_BODY" OK
	head_request /healthz
	assert_equal "$HTTP_STATUS" 200
	assert_equal "$HTTP_BODY_BYTES" 0
}

@test "GET /livez answers 200 OK" {
	http GET /livez
	assert_equal "$HTTP_STATUS" 200
	assert_equal "$HTTP_BODY" OK
	head_request /livez
	assert_equal "$HTTP_STATUS" 200
	assert_equal "$HTTP_BODY_BYTES" 0
}

@test "POST on the probes gets 405 with Allow" {
	http POST /healthz -d ''
	assert_json_error 405
	assert_equal "$(header Allow)" "GET, HEAD"
}

@test "paths other than the API get 404 with a JSON error" {
	local path
	for path in / /index.html /bitcoins.cgi /healthz.cgi /cgi-bin/bitcoins.cgi \
		/v1/bitcoins/ /v1/bitcoins/x /v1/bitcoins.cgi /v1 /lighttpd.conf \
		/errors/status-404.html /status-404.html /v1/bitcoins%2F.. \
		/v1/bitcoins/..%2F..%2Flighttpd.conf /healthz/ /livez/x /HEALTHZ \
		/.git/config /Makefile; do
		http GET "$path"
		[[ "$HTTP_STATUS" == 404 || "$HTTP_STATUS" == 403 ]] ||
			fail "$path answered $HTTP_STATUS"
		assert_json_error "$HTTP_STATUS"
	done
}

@test "no response names the server or its version" {
	local path
	for path in /v1/bitcoins /healthz /nope; do
		http GET "$path"
		assert_equal "$(header Server)" ""
	done
}

@test "a request with a control character gets 400 with a JSON error" {
	local reply
	reply="$(raw_request 'GET /v1/bitcoins HTTP/1.1\r\nHost: x\r\nX-Bad: a\001b\r\nConnection: close\r\n\r\n')"
	[[ "$reply" == "HTTP/1.1 400"* ]] || fail "answer: $reply"
	[[ "$reply" == *'{"error":"'* ]] || fail "no JSON error: $reply"
}

@test "an oversized body gets 413 with a JSON error and changes nothing" {
	local before
	before="$(total)"
	head -c 4096 /dev/zero | tr '\0' 'a' >"$BATS_TEST_TMPDIR/body"
	http POST "/v1/bitcoins?bitcoins=5" --data-binary "@$BATS_TEST_TMPDIR/body"
	assert_json_error 413
	assert_equal "$(total)" "$before"
}

@test "an oversized URL gets 414 with a JSON error and changes nothing" {
	local before
	before="$(total)"
	post "/v1/bitcoins?bitcoins=5&pad=$(head -c 70000 /dev/zero | tr '\0' 'a')"
	[[ "$HTTP_STATUS" == 414 || "$HTTP_STATUS" == 431 ]] || fail "got $HTTP_STATUS"
	assert_json_error "$HTTP_STATUS"
	assert_equal "$(total)" "$before"
}

@test "oversized headers get 431 with a JSON error and change nothing" {
	local before
	before="$(total)"
	post "/v1/bitcoins?bitcoins=5" -H "X-Pad: $(head -c 70000 /dev/zero | tr '\0' 'a')"
	assert_json_error 431
	assert_equal "$(total)" "$before"
}

@test "2000 concurrent POSTs from 16 clients end with the exact total" {
	local before acknowledged
	before="$(total)"
	# 16 clients, each sending 125 POSTs of 1 from one curl.
	acknowledged="$(post_many "$BASE_URL/v1/bitcoins?bitcoins=1" 125 16 | grep -c '^204$')"
	assert_equal "$acknowledged" 2000
	assert_equal "$(total)" "$((before + 2000))"
}

@test "POST accepts the largest amount, MAX_DEPOSIT (21000000)" {
	local before
	before="$(total)"
	post "/v1/bitcoins?bitcoins=21000000"
	assert_equal "$HTTP_STATUS" 204
	assert_equal "$(total)" "$((before + 21000000))"
}

@test "POST that would take the total past 2^53-1 gets 409, plain or keyed, and changes nothing" {
	local before
	before="$(total)"
	# At MAX_DEPOSIT and the front's 10 requests a second, one client needs over a
	# year to get there: the test starts close to the limit.
	target_redis_cmd set bitcoins 9007199254740000 >/dev/null
	post "/v1/bitcoins?bitcoins=992"
	assert_json_error 409
	[[ "$HTTP_BODY" == *"may not pass 9007199254740991; nothing was added; deposit a smaller amount: at most 991 fits now"* ]] || fail "$HTTP_BODY"
	post "/v1/bitcoins?bitcoins=992" -H "Idempotency-Key: past-the-limit-$RANDOM"
	assert_json_error 409
	assert_equal "$(total)" 9007199254740000
	post "/v1/bitcoins?bitcoins=991"
	assert_equal "$HTTP_STATUS" 204
	http GET /v1/bitcoins -H 'Accept: application/json'
	assert_equal "$HTTP_BODY" '{"bitcoins":9007199254740991}'
	post "/v1/bitcoins?bitcoins=1"
	assert_json_error 409
	assert_equal "$(total)" 9007199254740991
	target_redis_cmd set bitcoins "$before" >/dev/null
}

@test "a Range header on GET is ignored: 200 with the whole total, never a slice of it" {
	local whole
	post "/v1/bitcoins?bitcoins=12"
	whole="$(total)"
	http GET /v1/bitcoins -H 'Range: bytes=0-0'
	assert_equal "$HTTP_STATUS" 200
	assert_equal "$HTTP_BODY" "$whole"
	assert_equal "$(header Content-Range)" ""
}

@test "only a header spelled Idempotency-Key counts: Idempotency_Key and every look-alike are ignored" {
	local before key separator
	key="look-alike-$RANDOM$RANDOM"
	before="$(total)"
	# lighttpd hands a program every separator but letters and digits as "_".
	for separator in _ . '~' '!' '#' '$' % '&' "'" '*' + '^' '`' '|'; do
		post "/v1/bitcoins?bitcoins=3" -H "Idempotency${separator}Key: $key"
		assert_equal "$HTTP_STATUS" 204
		assert_equal "$(header Idempotent-Replayed)" ""
	done
	assert_equal "$(total)" "$((before + 14 * 3))"
	# None of them recorded the key: its first real use deposits.
	post "/v1/bitcoins?bitcoins=3" -H "Idempotency-Key: $key"
	assert_equal "$HTTP_STATUS" 204
	assert_equal "$(header Idempotent-Replayed)" ""
	# Sent together with a look-alike, the real header alone is the key.
	post "/v1/bitcoins?bitcoins=3" -H "Idempotency_Key: other-$key" -H "Idempotency-Key: $key"
	assert_equal "$(header Idempotent-Replayed)" true
	post "/v1/bitcoins?bitcoins=3" -H "Idempotency-Key: $key" -H "Idempotency_Key: other-$key"
	assert_equal "$(header Idempotent-Replayed)" true
	assert_equal "$(total)" "$((before + 15 * 3))"
}

@test "the server log shows no crash and no sanitizer report" {
	target_log_refresh
	run grep -E 'AddressSanitizer|LeakSanitizer|runtime error|Segmentation|core dumped|terminated by signal|aborted' "$TARGET_LOG"
	assert_failure 1
}
