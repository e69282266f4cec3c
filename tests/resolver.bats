#!/usr/bin/env bats
# Name resolution, as in a pod: REDIS_HOST=redis, a resolv.conf with ndots:5
# and three search domains, and a DNS server the test controls (answering, or
# reading every query and never answering), all in a mount and network
# namespace the test makes (lib/netns.bash). start-lighttpd resolves the name
# once, into every address it has; the programs try those in turn with no
# DNS query, and resolve the name again only when they all fail, never for
# longer than
# REDIS_TIMEOUT_MS. BACKEND_MODE and APP_DIR pick the mode and the build.

bats_load_library bats-support
bats_load_library bats-assert
load lib/common
load lib/netns

export REDIS_TIMEOUT_MS=1000

setup() {
	command -v node >/dev/null || fail "node is missing: run scripts/lib/deps-k8s.sh (make test does)"
	NS="$BATS_TEST_TMPDIR/ns"
	netns_start "$NS"
}

teardown() {
	netns_stop "$NS"
}

# Asserts that the last request took at most REDIS_TIMEOUT_MS plus a margin
# for a loaded machine (one more REDIS_TIMEOUT_MS and a second). Without a
# bound, one lookup with this resolv.conf takes 40 s.
assert_within_timeout() {
	local limit_ms=$((2 * REDIS_TIMEOUT_MS + 1000))
	local took_ms
	took_ms="$(awk -v s="$HTTP_SECONDS" 'BEGIN { printf "%d", s * 1000 }')"
	echo "# answered $HTTP_STATUS in $took_ms ms" >&3
	((took_ms <= limit_ms)) || fail "answered after $took_ms ms, more than $limit_ms ms"
}

# Asserts that no program the backend started is still working on a request:
# under CGI none is left; under FastCGI the persistent ones each have at most
# one lookup thread besides their own.
assert_no_program_left_waiting() {
	local pid threads
	if [[ "$BACKEND_MODE" == cgi ]]; then
		wait_until 2 test -z "$(netns_backend_children "$NS" bitcoins.cgi)" ||
			fail "CGIs outlived their request: $(netns_backend_children "$NS" bitcoins.cgi)"
		return
	fi
	while read -r pid threads; do
		((threads <= 2)) || fail "FastCGI process $pid has $threads threads"
	done < <(netns_backend_children "$NS" bitcoins.cgi)
}

@test "REDIS_HOST is resolved once at start: deposits, reads and probes then make no DNS query" {
	netns_dns_start "$NS" answer "$NETNS_REDIS_FQDN=127.0.0.1"
	netns_redis_start "$NS"
	netns_backend_start "$NS"
	grep -q "at 127.0.0.1)" "$NS/backend/lighttpd.log" ||
		fail "start-lighttpd did not resolve redis: $(cat "$NS/backend/lighttpd.log")"
	local queries
	queries="$(netns_dns_queries "$NS")"
	((queries > 0)) || fail "the resolver was never asked"
	for amount in 1 2 3; do
		netns_http "$NS" POST "/v1/bitcoins?bitcoins=$amount"
		assert_equal "$HTTP_STATUS" 204
	done
	netns_http "$NS" GET /v1/bitcoins
	assert_equal "$HTTP_STATUS" 200
	assert_equal "$HTTP_BODY" 6
	netns_http "$NS" GET /healthz
	assert_equal "$HTTP_STATUS" 200
	assert_equal "$(netns_dns_queries "$NS")" "$queries"
}

@test "with a resolver that never answers, start-lighttpd starts and a request gets 503 within about REDIS_TIMEOUT_MS" {
	netns_dns_start "$NS" silent
	netns_redis_start "$NS"
	netns_redis_cli "$NS" 127.0.0.1 set bitcoins 40 >/dev/null
	local started=$SECONDS
	netns_backend_start "$NS"
	(((SECONDS - started) * 1000 <= 2 * REDIS_TIMEOUT_MS + 2000)) ||
		fail "start-lighttpd took $((SECONDS - started)) s to start"
	grep -q "cannot resolve REDIS_HOST redis" "$NS/backend/lighttpd.log" ||
		fail "no warning at start: $(cat "$NS/backend/lighttpd.log")"
	netns_http "$NS" POST "/v1/bitcoins?bitcoins=2"
	assert_equal "$HTTP_STATUS" 503
	assert_within_timeout
	assert_no_program_left_waiting
	netns_http "$NS" GET /v1/bitcoins
	assert_equal "$HTTP_STATUS" 503
	[[ "$HTTP_BODY" == *"the bank's storage"*"nothing was changed"* ]] || fail "$HTTP_BODY"
	assert_within_timeout
	assert_no_program_left_waiting
	grep -q "cannot resolve it: the resolver did not answer in time" "$NS/backend/lighttpd.log" ||
		fail "the log does not say why: $(tail -5 "$NS/backend/lighttpd.log")"
	assert_equal "$(netns_redis_cli "$NS" 127.0.0.1 get bitcoins)" 40
}

@test "when the address fails and the resolver never answers, a deposit gets 503 within about REDIS_TIMEOUT_MS and changes nothing" {
	netns_dns_start "$NS" answer "$NETNS_REDIS_FQDN=127.0.0.1"
	netns_redis_start "$NS"
	netns_backend_start "$NS"
	netns_http "$NS" POST "/v1/bitcoins?bitcoins=5"
	assert_equal "$HTTP_STATUS" 204
	# Redis moves (its Service was recreated) while DNS stops answering.
	netns_dns_start "$NS" silent
	netns_redis_start "$NS" 127.0.0.2
	netns_http "$NS" POST "/v1/bitcoins?bitcoins=2"
	assert_equal "$HTTP_STATUS" 503
	assert_within_timeout
	assert_no_program_left_waiting
	netns_http "$NS" GET /healthz
	assert_equal "$HTTP_STATUS" 503
	assert_within_timeout
	assert_equal "$(netns_redis_cli "$NS" 127.0.0.2 get bitcoins)" 5
}

@test "when Redis moves to a new address, the programs resolve the name again and count every deposit" {
	netns_dns_start "$NS" answer "$NETNS_REDIS_FQDN=127.0.0.1"
	netns_redis_start "$NS"
	netns_backend_start "$NS"
	netns_http "$NS" POST "/v1/bitcoins?bitcoins=5"
	assert_equal "$HTTP_STATUS" 204
	netns_dns_start "$NS" answer "$NETNS_REDIS_FQDN=127.0.0.2"
	netns_redis_start "$NS" 127.0.0.2
	netns_http "$NS" POST "/v1/bitcoins?bitcoins=7"
	assert_equal "$HTTP_STATUS" 204
	netns_http "$NS" GET /v1/bitcoins
	assert_equal "$HTTP_STATUS" 200
	assert_equal "$HTTP_BODY" 12
	grep -q "redis redis at 127.0.0.1:$NETNS_REDIS_PORT: Connection refused" "$NS/backend/lighttpd.log" ||
		fail "the log does not name the address that failed: $(tail -5 "$NS/backend/lighttpd.log")"
}

@test "REDIS_HOST=localhost with ::1 listed first and Redis on 127.0.0.1 only: start-lighttpd passes both addresses, and deposits count" {
	netns_hosts "$NS" "::1 localhost ip6-localhost" "127.0.0.1 localhost"
	netns_dns_start "$NS" answer
	netns_redis_start "$NS" 127.0.0.1
	netns_backend_start "$NS" localhost
	grep -q "at ::1,127.0.0.1)" "$NS/backend/lighttpd.log" ||
		fail "start-lighttpd did not pass every address: $(cat "$NS/backend/lighttpd.log")"
	netns_http "$NS" POST "/v1/bitcoins?bitcoins=5"
	assert_equal "$HTTP_STATUS" 204
	netns_http "$NS" POST "/v1/bitcoins?bitcoins=2"
	assert_equal "$HTTP_STATUS" 204
	netns_http "$NS" GET /healthz
	assert_equal "$HTTP_STATUS" 200
	assert_equal "$(netns_redis_cli "$NS" 127.0.0.1 get bitcoins)" 7
	assert_equal "$(netns_dns_queries "$NS")" 0
}

@test "when the name resolved only later, the programs try every address it has, within REDIS_TIMEOUT_MS, and deposits count" {
	netns_hosts "$NS" "127.0.0.1 localhost"
	netns_dns_start "$NS" silent
	netns_redis_start "$NS" 127.0.0.1
	netns_backend_start "$NS"
	grep -q "cannot resolve REDIS_HOST redis now" "$NS/backend/lighttpd.log" ||
		fail "start-lighttpd resolved the name: $(cat "$NS/backend/lighttpd.log")"
	# The name appears, ::1 first (Redis does not listen there).
	netns_hosts "$NS" "127.0.0.1 localhost" "::1 redis" "127.0.0.1 redis"
	netns_http "$NS" POST "/v1/bitcoins?bitcoins=5"
	assert_equal "$HTTP_STATUS" 204
	assert_within_timeout
	netns_http "$NS" GET /v1/bitcoins
	assert_equal "$HTTP_STATUS" 200
	assert_equal "$HTTP_BODY" 5
}

@test "when DNS was down at start, the first request that resolves the name keeps its address in RUN_DIR, and later requests make no DNS query" {
	local queries kept="$NS/backend/run/redis-address"
	netns_dns_start "$NS" silent
	netns_redis_start "$NS"
	netns_backend_start "$NS"
	grep -q "cannot resolve REDIS_HOST redis now" "$NS/backend/lighttpd.log" ||
		fail "start-lighttpd resolved the name: $(cat "$NS/backend/lighttpd.log")"
	netns_dns_start "$NS" answer "$NETNS_REDIS_FQDN=127.0.0.1"
	netns_http "$NS" POST "/v1/bitcoins?bitcoins=1"
	assert_equal "$HTTP_STATUS" 204
	assert_equal "$(cat "$kept")" 127.0.0.1
	assert_equal "$(stat -c %a "$kept")" 600
	queries="$(netns_dns_queries "$NS")"
	for _ in 1 2 3 4; do
		netns_http "$NS" POST "/v1/bitcoins?bitcoins=1"
		assert_equal "$HTTP_STATUS" 204
	done
	assert_equal "$(netns_dns_queries "$NS")" "$queries"
	# A kept file anyone else may have written is not trusted: a CGI then
	# resolves the name again, and replaces the file with a private one (a
	# FastCGI process keeps what it found, and reads no file again).
	echo 127.0.0.3 >"$kept"
	chmod 644 "$kept"
	netns_http "$NS" POST "/v1/bitcoins?bitcoins=1"
	assert_equal "$HTTP_STATUS" 204
	assert_equal "$(netns_redis_cli "$NS" 127.0.0.1 get bitcoins)" 6
	if [[ "$BACKEND_MODE" == cgi ]]; then
		((queries < $(netns_dns_queries "$NS"))) || fail "the file was trusted"
		assert_equal "$(cat "$kept")" 127.0.0.1
		assert_equal "$(stat -c %a "$kept")" 600
	fi
	# A restart resolves the name itself: what was kept before is dropped.
	stop_pidfile "$NS/backend/pid" INT
	netns_backend_start "$NS"
	[[ ! -e "$kept" ]] || fail "the kept addresses outlived a restart: $(cat "$kept")"
}

@test "with REDIS_TIMEOUT_MS at its largest, the fallback to a resolver that never answers still ends in the program's own 503" {
	netns_dns_start "$NS" answer "$NETNS_REDIS_FQDN=127.0.0.1"
	netns_redis_start "$NS"
	REDIS_TIMEOUT_MS=4000 netns_backend_start "$NS"
	netns_redis_start "$NS" 127.0.0.2
	netns_dns_start "$NS" silent
	# The address fails, and the resolution gets the rest of the 4 s: all
	# within lighttpd's 5 s CGI read-timeout, whose 504 would come instead.
	netns_http "$NS" POST "/v1/bitcoins?bitcoins=2"
	echo "# answered $HTTP_STATUS in $HTTP_SECONDS s" >&3
	assert_equal "$HTTP_STATUS" 503
	[[ "$HTTP_BODY" == *"the bank's storage could not be reached"* ]] || fail "$HTTP_BODY"
	assert_no_program_left_waiting
}
