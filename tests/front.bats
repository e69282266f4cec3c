#!/usr/bin/env bats
# The stack's nginx TLS front (tests/lib/stack.bash), which stands in for the
# NGINX Ingress, as an attacker would probe it: which TLS versions it
# negotiates, whether every HTTPS answer carries HSTS, and whether one client
# address can crowd out the others. The limits under test are the defaults
# (10 requests a second, bursts of 20, 20 in flight per client address).
# Clients take distinct loopback source addresses (curl --interface
# 127.0.0.N; all of 127/8 is local on Linux), so each is its own client to
# the front. BACKEND_MODE and APP_DIR come from the environment.

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
load lib/common
load lib/stack
load lib/hostile

setup_file() {
	# The defaults are under test, whatever the caller's environment says.
	unset STACK_LIMIT_RPS STACK_LIMIT_BURST STACK_LIMIT_CONNECTIONS
	export STACK="$BATS_FILE_TMPDIR/stack"
	stack_start "$STACK"
	disown -a
}

# Stops what the test left running: a throttled_client loop stops at its
# stop file, a stack that started despite a bad setting is stopped, and
# background curls (pids in BATS_TEST_TMPDIR/pids) are killed if they are
# still curls, so a recycled pid is never hit.
teardown() {
	local pid
	[[ ! -d "$BATS_TEST_TMPDIR/rate" ]] || touch "$BATS_TEST_TMPDIR/rate/stop"
	stack_stop "$BATS_TEST_TMPDIR/bad"
	[[ -f "$BATS_TEST_TMPDIR/pids" ]] || return 0
	while read -r pid; do
		if [[ "$({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null)" == curl* ]]; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done <"$BATS_TEST_TMPDIR/pids"
}

teardown_file() {
	stack_stop "$STACK"
	stop_all_below "$BATS_FILE_TMPDIR"
}

# Prints the total, read through the front.
front_total() {
	stack_curl "$STACK" --fail "$(stack_url "$STACK")/v1/bitcoins"
}

# Prints the deposit URL of the front.
deposit_url() {
	echo "$(stack_url "$STACK")/v1/bitcoins"
}

# Opens a TLS connection to the front with openssl s_client, protocol
# option $1 (-tls1_3, -tls1_1...), SNI $2 (none when empty), the stack's
# certificate as the only CA, and sends one GET of the total. Prints what
# s_client reports and the answer. More s_client options follow.
tls_get() {
	local version="$1" name="$2"
	shift 2
	local -a sni=(-noservername)
	[[ -z "$name" ]] || sni=(-servername "$name")
	printf 'GET /v1/bitcoins HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$STACK_HOST" |
		timeout 10 openssl s_client -brief -ign_eof -verify_return_error -CAfile "$STACK/tls/tls.crt" \
			-connect "127.0.0.1:$(cat "$STACK/front/https_port")" "${sni[@]}" "$version" "$@" 2>&1
}

# Prints the value of header $1 in the raw answer headers on stdin.
header_value() {
	tr -d '\r' | awk -v name="$1" 'tolower($0) ~ "^" tolower(name) ":" { sub(/^[^:]*: */, ""); print }'
}

# Fails unless a request to the front with curl arguments $2... gets status
# $1 and the HSTS header.
assert_hsts() {
	local status="$1" headers
	shift
	headers="$(stack_curl "$STACK" -D - -o /dev/null "$@")"
	[[ "$headers" == "HTTP/"*" $status "* ]] || fail "expected $status for $*: $headers"
	assert_equal "$(header_value strict-transport-security <<<"$headers")" "$HSTS"
}

# The 429 bodies the front sends at the default limits.
RATE_BODY='{"error":"too many requests from your address: at most 10 a second, or 20 more at once; this one was not processed; send it again after the seconds in Retry-After"}'
CONNECTIONS_BODY='{"error":"too many requests in flight from your address: at most 20 at once; this one was not processed; send it again once one has finished, or after the seconds in Retry-After"}'
HSTS='max-age=31536000; includeSubDomains'

@test "the front negotiates TLS 1.3 and TLS 1.2, with SNI and without, and serves the API over each" {
	local version name
	for version in 1.3 1.2; do
		for name in "$STACK_HOST" ""; do
			run tls_get "-tls${version/./_}" "$name"
			assert_line "Protocol version: TLSv$version"
			assert_line --partial 'Verification: OK'
			assert_line --regexp '^HTTP/1\.1 200 '
		done
	done
}

@test "the front refuses TLS 1.1 and TLS 1.0 with a protocol_version alert, even to a client that offers them" {
	local version name
	# OpenSSL 3's default security level would stop the client itself from
	# offering TLS 1.1 or 1.0; level 0 lets it offer them, so the refusal
	# seen here comes from the server. Alert 70, protocol_version, says the
	# server does not enable that version at all (before, nginx answered
	# alert 80, internal_error: it had TLS 1.1 enabled and only its own
	# security level left it without a usable signature algorithm).
	for version in -tls1_1 -tls1; do
		for name in "$STACK_HOST" ""; do
			run tls_get "$version" "$name" -cipher 'DEFAULT:@SECLEVEL=0'
			assert_output --partial 'alert protocol version'
			assert_output --partial 'SSL alert number 70'
			refute_line 'CONNECTION ESTABLISHED'
			refute_line --regexp '^HTTP/'
		done
	done
}

@test "over TLS 1.2 the front refuses suites without forward secrecy or an AEAD cipher, and negotiates ECDHE with AES-GCM or ChaCha20-Poly1305" {
	local suite
	# Static RSA key exchange (a later leak of the key decrypts recorded
	# traffic), CBC with SHA-1 or SHA-256, CAMELLIA and ARIA: each offered
	# alone, so the front either picks it or refuses the handshake.
	for suite in AES128-SHA AES256-SHA256 AES128-GCM-SHA256 ECDHE-RSA-AES128-SHA CAMELLIA256-SHA ARIA128-GCM-SHA256; do
		run tls_get -tls1_2 "$STACK_HOST" -cipher "$suite"
		assert_output --partial 'handshake failure'
		refute_line 'CONNECTION ESTABLISHED'
		refute_line --regexp '^HTTP/'
	done
	for suite in ECDHE-RSA-AES128-GCM-SHA256 ECDHE-RSA-AES256-GCM-SHA384 ECDHE-RSA-CHACHA20-POLY1305; do
		run tls_get -tls1_2 "$STACK_HOST" -cipher "$suite"
		assert_line "Ciphersuite: $suite"
		assert_line --regexp '^HTTP/1\.1 200 '
	done
}

@test "every HTTPS answer of the front carries HSTS, its errors included, and plain HTTP answers do not" {
	local url headers
	url="$(deposit_url)"
	head -c 2000000 /dev/zero >"$BATS_TEST_TMPDIR/big"
	assert_hsts 200 "$url"
	assert_hsts 404 "$(stack_url "$STACK")/nowhere"
	# lighttpd's own error, passed through; then one nginx makes itself.
	assert_hsts 411 --http1.1 -X POST "$url?bitcoins=1"
	assert_hsts 413 --data-binary "@$BATS_TEST_TMPDIR/big" "$url?bitcoins=1"
	# The port's default server, for a name it does not serve.
	assert_hsts 404 -k "https://127.0.0.1:$(cat "$STACK/front/https_port")/v1/bitcoins"
	headers="$(stack_curl "$STACK" -D - -o /dev/null "$(stack_http_url "$STACK")/v1/bitcoins")"
	[[ "$headers" == "HTTP/1.1 308 "* ]] || fail "$headers"
	assert_equal "$(header_value strict-transport-security <<<"$headers")" ""
}

# Fails unless the raw answer on stdin (headers, blank line, body) has
# status $1, a JSON {"error":"..."} body sent as application/json, and HSTS
# when $2 is "hsts" (none when it is "no-hsts"); $3 says what was sent.
assert_json_page() {
	local status="$1" hsts="$2" what="$3" answer headers body
	answer="$(tr -d '\r')"
	headers="${answer%%$'\n\n'*}"
	body="${answer#*$'\n\n'}"
	[[ "$headers" =~ ^HTTP/[0-9.]+\ $status\  ]] || fail "$what: expected $status, got: $answer"
	[[ "$(header_value content-type <<<"$headers")" == application/json ]] || fail "$what: not JSON: $answer"
	[[ "$body" =~ ^\{\"error\":\"[^\"]{10,}\"\}$ ]] || fail "$what: not {\"error\":\"...\"}: $answer"
	case "$hsts" in
	hsts) assert_equal "$(header_value strict-transport-security <<<"$headers")" "$HSTS" ;;
	no-hsts) assert_equal "$(header_value strict-transport-security <<<"$headers")" "" ;;
	esac
}

@test "the errors the front makes itself are JSON, with HSTS over HTTPS and without over plain HTTP, never nginx's HTML pages" {
	local url big request backend
	url="$(deposit_url)"
	big="$(head -c 20000 /dev/zero | tr '\0' a)"
	head -c 2000000 /dev/zero >"$BATS_TEST_TMPDIR/big"
	request="HTTP/1.1\r\nHost: $STACK_HOST\r\nConnection: close\r\n"
	raw_tls "$STACK" 'GARBAGE\r\n\r\n' | assert_json_page 400 hsts "a malformed request line"
	raw_tls "$STACK" "TRACE /v1/bitcoins $request\r\n" | assert_json_page 405 hsts TRACE
	raw_tls "$STACK" "POST /v1/bitcoins $request""Transfer-Encoding: xchunked\r\n\r\n" |
		assert_json_page 501 hsts "an unknown transfer coding"
	raw_tls "$STACK" "GET /v1/bitcoins HTTP/3.0\r\nHost: $STACK_HOST\r\n\r\n" |
		assert_json_page 505 hsts "HTTP/3.0 over TCP"
	stack_curl "$STACK" --http1.1 -D - -o - -d '' -H "X-Big: $big" "$url?bitcoins=1" |
		assert_json_page 400 hsts "a 20 kB header"
	stack_curl "$STACK" --http1.1 -D - -o - -d '' "$url?bitcoins=1&pad=$big" |
		assert_json_page 414 hsts "a 20 kB URL"
	# Over HTTP/2 nginx checks a refused body's size twice (stack.bash).
	stack_curl "$STACK" --http2 -D - -o - --data-binary "@$BATS_TEST_TMPDIR/big" "$url?bitcoins=1" |
		assert_json_page 413 hsts "a 2 MB body over HTTP/2"
	# Plain HTTP on the HTTPS port: JSON too (with the port's HSTS, which a
	# browser ignores on plain HTTP).
	raw_plain "$(cat "$STACK/front/https_port")" "GET /v1/bitcoins $request\r\n" |
		assert_json_page 400 any "plain HTTP on the HTTPS port"
	raw_plain "$(cat "$STACK/front/http_port")" 'GARBAGE\r\n\r\n' | assert_json_page 400 no-hsts "plain HTTP, a malformed request line"
	# No backend answers: 502, as JSON for a deposit, and without a body for HEAD.
	while read -r backend; do
		stop_pidfile "$backend/pid" INT
	done < <(stack_backend_dirs "$STACK")
	stack_curl "$STACK" -D - -o - -d '' "$url?bitcoins=1" | assert_json_page 502 hsts "a deposit with no backend up"
	run stack_curl "$STACK" -I "$url"
	assert_line --regexp '^HTTP/2 502'
	assert_line --regexp '^content-type: application/json'
	for backend in $(seq "$STACK_BACKENDS"); do
		stack_backend_start "$STACK" "$backend"
	done
	wait_until 10 front_total
	# Each nginx worker that saw a backend refuse keeps it out for the
	# upstream's fail_timeout; outlast it, so that the next tests find every
	# backend live in every worker (one answer above came from one worker).
	sleep "$(($(grep -om1 'fail_timeout=[0-9]*' "$STACK/front/nginx.conf" | cut -d= -f2) + 1))"
}

@test "a client over 10 requests a second (bursts of 20) gets 429 with a JSON body and Retry-After while another client is served, and its throttled deposits change nothing" {
	local dir="$BATS_TEST_TMPDIR/rate" before started elapsed blast served throttled most last
	local -a waves
	mkdir -p "$dir"
	before="$(front_total)"
	started=$EPOCHREALTIME
	throttled_client "$dir" "$dir/stop" 3>&- &
	blast=$!
	# Once 127.0.0.2 is throttled, 127.0.0.3 deposits 3 and is served; the
	# wave 127.0.0.2 sends after that is throttled still.
	wait_until 30 grep -q '^127\.0\.0\.2 .* 429 ' "$STACK/front/access.log"
	run stack_curl "$STACK" --interface 127.0.0.3 -o /dev/null -w '%{http_code}' -d '' \
		"$(deposit_url)?bitcoins=3"
	assert_output 204
	touch "$dir/stop"
	wait "$blast"
	elapsed="$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')"
	waves=("$dir"/wave-*)
	last="$dir/wave-${#waves[@]}"
	grep -q '^429 ' "$last" || fail "127.0.0.2 was served again after 127.0.0.3: $(cat "$last")"
	cat "$dir"/wave-* >"$dir/results"
	assert_equal "$(awk '$1 != 204 && $1 != 429' "$dir/results")" ""
	served="$(awk '$1 == 204' "$dir/results" | wc -l)"
	throttled="$(awk '$1 == 429' "$dir/results" | wc -l)"
	# The burst and the first request at once, then 10 a second, plus one for
	# a slot refilled in part.
	most="$(awk -v s="$elapsed" 'BEGIN { print 21 + int(10 * s) + 1 }')"
	echo "# 127.0.0.2: $served served, $throttled throttled in $elapsed s (at most $most may be served)" >&3
	((served >= 21)) || fail "only $served of the first burst were served"
	((served <= most)) || fail "$served served in $elapsed s: more than 10 a second"
	local code file retry_after
	while read -r code file retry_after; do
		[[ "$code" == 429 ]] || continue
		assert_equal "$(cat "$file")" "$RATE_BODY"
		assert_equal "$retry_after" 1
	done <"$dir/results"
	assert_equal "$(front_total)" "$((before + served + 3))"
}

@test "a client with 20 requests in flight gets 429 for one more, with a JSON body, Retry-After and HSTS, while another client is served, and the held deposits then complete" {
	local dir="$BATS_TEST_TMPDIR/held" before index fd headers
	local -a fds=() pids
	mkdir -p "$dir"
	before="$(front_total)"
	# 20 deposits of 1 from 127.0.0.4 whose (chunked) bodies wait on a pipe:
	# each is in flight from the moment the front has read its header and
	# answered 100 Continue until its body ends.
	for index in $(seq 20); do
		mkfifo "$dir/body-$index"
		stack_curl "$STACK" --interface 127.0.0.4 --http1.1 --max-time 60 -X POST -T - \
			--trace "$dir/trace-$index" -o /dev/null -w '%{http_code}' "$(deposit_url)?bitcoins=1" \
			<"$dir/body-$index" >"$dir/code-$index" 2>"$dir/errors-$index" 3>&- &
		echo "$!" >>"$BATS_TEST_TMPDIR/pids"
		exec {fd}>"$dir/body-$index"
		fds+=("$fd")
	done
	wait_until 30 all_continued "$dir" 20
	# One more from the same address is refused, and never reaches a backend.
	headers="$(stack_curl "$STACK" --interface 127.0.0.4 -D - -o "$dir/refused" -d '' \
		"$(deposit_url)?bitcoins=1000")"
	[[ "$headers" == "HTTP/"*" 429 "* ]] || fail "$headers"
	assert_equal "$(cat "$dir/refused")" "$CONNECTIONS_BODY"
	assert_equal "$(header_value retry-after <<<"$headers")" 1
	assert_equal "$(header_value content-type <<<"$headers")" application/json
	assert_equal "$(header_value strict-transport-security <<<"$headers")" "$HSTS"
	# Meanwhile another address is served, and the first is still refused.
	run stack_curl "$STACK" --interface 127.0.0.5 -o /dev/null -w '%{http_code}' -d '' \
		"$(deposit_url)?bitcoins=3"
	assert_output 204
	run stack_curl "$STACK" --interface 127.0.0.4 -o /dev/null -w '%{http_code}' -d '' \
		"$(deposit_url)?bitcoins=1000"
	assert_output 429
	assert_equal "$(front_total)" "$((before + 3))"
	# The held bodies end (empty): each held deposit completes.
	for fd in "${fds[@]}"; do
		exec {fd}>&-
	done
	mapfile -t pids <"$BATS_TEST_TMPDIR/pids"
	wait "${pids[@]}"
	for index in $(seq 20); do
		assert_equal "$(cat "$dir/code-$index")" 204
	done
	assert_equal "$(front_total)" "$((before + 3 + 20))"
}

@test "a per-client limit that is not a whole number from 1 up stops the stack before it starts anything" {
	local setting
	for setting in STACK_LIMIT_RPS=ten STACK_LIMIT_BURST=0 STACK_LIMIT_CONNECTIONS=70000 STACK_LIMIT_RPS=-5; do
		# shellcheck disable=SC2016 # expanded by the inner bash
		run env "$setting" bash -c 'source "$1/tests/lib/common.bash" && source "$1/tests/lib/stack.bash" && stack_start "$2"' \
			_ "$REPO_DIR" "$BATS_TEST_TMPDIR/bad"
		assert_failure
		assert_output --partial "stack: $setting is not a valid limit; use a whole number from 1 to"
		[[ ! -e "$BATS_TEST_TMPDIR/bad" ]] || fail "$setting: the stack started something"
	done
}

# Sends deposits of 1 from 127.0.0.2 in waves of 40, 10 at a time (below
# the connection limit, so only the rate limit answers them), until file $2
# exists, then one wave more; at most 60 s. A wave is more than even a full
# bucket lets through (21), so each meets the limit. Wave N's answers go to
# $1/wave-N, one line each: "STATUS BODY_FILE RETRY_AFTER".
throttled_client() {
	local dir="$1" stop="$2" wave=0 last="" deadline=$((SECONDS + 60))
	while [[ -z "$last" ]] && ((SECONDS < deadline)); do
		[[ ! -e "$stop" ]] || last=yes
		wave=$((wave + 1))
		stack_curl "$STACK" --interface 127.0.0.2 --parallel --parallel-max 10 -d '' \
			-o "$dir/body-$wave-#1" -w '%{http_code} %{filename_effective} %header{retry-after}\n' \
			"$(deposit_url)?bitcoins=1&n=[1-40]" >"$dir/wave-$wave" 2>>"$dir/errors"
		sleep 0.05
	done
}

# Succeeds once the $2 held requests in directory $1 have all been answered
# 100 Continue by the front: in curl's --trace, the text column (after 16
# hex bytes) of a received header's first line.
all_continued() {
	local count
	count="$(grep -l '^0000: .\{48\}HTTP/1\.1 100 Con' "$1"/trace-* | wc -l)"
	((count == $2))
}
