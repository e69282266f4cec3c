#!/usr/bin/env bats
# Overload: a flood of connections while Redis stalls must not grow the CGIs
# past the cap in lighttpd.conf (server.max-connections), must leave no
# connection without an answer or a refusal, must not starve /livez past the
# liveness probe's timeout in k8s/backend-deployment.yaml, and must lose no
# acknowledged deposit. BACKEND_MODE and APP_DIR pick the mode and the build.

bats_load_library bats-support
bats_load_library bats-assert
load lib/common
load lib/api
load lib/redis-states

readonly FLOOD_CONNECTIONS=1500

setup_file() {
	command -v node >/dev/null || fail "node is missing: run scripts/lib/deps-k8s.sh (make test does)"
	# 1,500 connections need more descriptors than the usual soft limit,
	# for the client and for lighttpd, which inherits it from here.
	ulimit -n "$(($(ulimit -Hn) < 8192 ? $(ulimit -Hn) : 8192))"
	STATE="$BATS_FILE_TMPDIR"
	# As deployed: the Deployment's Redis timeout.
	REDIS_TIMEOUT_MS="$(deployment_value 'c.env.find((e) => e.name === "REDIS_TIMEOUT_MS").value')"
	export REDIS_TIMEOUT_MS
	redis_start "$STATE/redis"
	backend_start "$STATE/backend" "$(cat "$STATE/redis/port")"
	export STATE
}

teardown_file() {
	redis_cmd "$STATE/redis" client unpause >/dev/null 2>&1 || true
	stop_all_below "$BATS_FILE_TMPDIR"
}

setup() {
	BASE_URL="$(backend_url "$STATE/backend")"
}

# Prints the cap: lighttpd.conf's server.max-connections.
connection_cap() {
	sed -n 's/^server\.max-connections = \([0-9]*\)$/\1/p' "$REPO_DIR/lighttpd.conf"
}

# Prints how many FastCGI processes lighttpd.conf allows /v1/bitcoins.
fastcgi_processes() {
	# shellcheck disable=SC2016 # a sed script, not a shell expansion
	sed -n '\|^$HTTP\["url"\] == "/v1/bitcoins"|,/^}/s/^\tvar\.fastcgi_procs = \([0-9]*\)$/\1/p' \
		"$REPO_DIR/lighttpd.conf"
}

# Prints a value of the backend container in k8s/backend-deployment.yaml:
# the JavaScript expression $1 of the container c.
deployment_value() {
	(cd "$REPO_DIR/tests" && node -e '
		const YAML = require("yaml");
		const doc = YAML.parse(require("fs").readFileSync(process.argv[1], "utf8"));
		const c = doc.spec.template.spec.containers.find((x) => x.name === "backend");
		console.log(eval(process.argv[2]));
	' "$REPO_DIR/k8s/backend-deployment.yaml" "$1")
}

# Prints how many bitcoins.cgi processes the backend's lighttpd runs now
# (exited ones waiting to be reaped do not count).
live_cgis() {
	ps -C bitcoins.cgi --no-headers -o ppid=,stat= |
		awk -v parent="$(cat "$STATE/backend/pid")" '$1 == parent && $2 !~ /^Z/' | wc -l
}

# Writes the highest count of live CGIs to file $1 until file $2 exists.
sample_peak_cgis() {
	local peak=0 now
	while [[ ! -e "$2" ]]; do
		now="$(live_cgis)"
		((now <= peak)) || peak="$now"
		echo "$peak" >"$1"
		sleep 0.1
	done
}

# Asks /livez every 0.2 s, as kubelet would (timeout $1 s), until file $2
# exists; one line "STATUS SECONDS" per probe.
probe_livez() {
	local timeout="$1" stop="$2"
	while [[ ! -e "$stop" ]]; do
		curl -s -o /dev/null --max-time "$timeout" -w '%{http_code} %{time_total}\n' \
			"$BASE_URL/livez" || true
		sleep 0.2
	done
}

# Prints the count of outcome $2 in the flood's JSON report $1.
outcome_count() {
	node -e 'const r = JSON.parse(process.argv[1]); console.log(r.outcomes[process.argv[2]] || 0)' "$1" "$2"
}

# Floods the backend with FLOOD_CONNECTIONS deposits of 1 at once and
# prints flood.js's report; fails unless every connection got an answer or a
# refusal (none hung, none was cut).
flood_deposits() {
	local report outcome
	report="$(node "$REPO_DIR/tests/lib/flood.js" 127.0.0.1 "${BASE_URL##*:}" \
		"$FLOOD_CONNECTIONS" POST "/v1/bitcoins?bitcoins=1" 120000)"
	echo "# $report" >&3
	assert_equal "$(node -e 'const r = JSON.parse(process.argv[1]); console.log(Object.values(r.outcomes).reduce((a, b) => a + b, 0))' "$report")" "$FLOOD_CONNECTIONS"
	for outcome in timeout closed error; do
		[[ "$(outcome_count "$report" "$outcome")" == 0 ]] || fail "connections left without an answer: $report"
	done
	echo "$report"
}

@test "1,500 connections while Redis stalls: CGIs stay within the cap, all get an answer, /livez stays in time, no deposit is lost" {
	local cap timeout before stalled healthy peak probes ok after created unknown
	cap="$(connection_cap)"
	timeout="$(deployment_value 'c.livenessProbe.timeoutSeconds || 1')"
	[[ "$cap" =~ ^[0-9]+$ && "$cap" -le 400 ]] || fail "lighttpd.conf caps connections at '$cap', not at most 400"
	before="$(total)"
	# Redis stalls for longer than a probe may take, then a second flood
	# finds it answering again.
	redis_cmd "$STATE/redis" client pause "$(((timeout + 1) * 1000))" all >/dev/null
	sample_peak_cgis "$BATS_TEST_TMPDIR/peak" "$BATS_TEST_TMPDIR/stop" 3>&- &
	probe_livez "$timeout" "$BATS_TEST_TMPDIR/stop" >"$BATS_TEST_TMPDIR/probes" 3>&- &
	stalled="$(flood_deposits)"
	# shellcheck disable=SC2016 # the inner script expands its own arguments
	wait_until $((timeout + 5)) bash -c '[[ "$(redis-cli -p "$1" ping 2>/dev/null)" == PONG ]]' _ \
		"$(cat "$STATE/redis/port")"
	healthy="$(flood_deposits)"
	touch "$BATS_TEST_TMPDIR/stop"
	wait
	peak="$(cat "$BATS_TEST_TMPDIR/peak")"
	probes="$(wc -l <"$BATS_TEST_TMPDIR/probes")"
	echo "# cap $cap, peak $peak live CGIs; slowest /livez: $(sort -k2 -n "$BATS_TEST_TMPDIR/probes" | tail -1) of $probes" >&3
	((peak <= cap)) || fail "$peak CGIs ran at once, over the cap of $cap"
	if [[ "$BACKEND_MODE" == cgi ]]; then
		((peak * 2 >= cap)) || fail "only $peak CGIs at once: the flood never filled the cap of $cap"
	else
		((peak <= $(fastcgi_processes))) || fail "$peak FastCGI processes, more than lighttpd.conf allows"
	fi
	# kubelet would have found the backend alive throughout.
	ok="$(awk -v t="$timeout" '$1 == 200 && $2 < t' "$BATS_TEST_TMPDIR/probes" | wc -l)"
	((probes >= 5)) || fail "too few probes: $(cat "$BATS_TEST_TMPDIR/probes")"
	assert_equal "$ok" "$probes"
	# Nothing acknowledged is lost: the total grew by every 204, and by at
	# most the 504s besides (their outcome is unknown); a 503 added nothing.
	after="$(total)"
	created=$(($(outcome_count "$stalled" 204) + $(outcome_count "$healthy" 204)))
	unknown=$(($(outcome_count "$stalled" 504) + $(outcome_count "$healthy" 504)))
	((created > 0)) || fail "no deposit succeeded once Redis answered again: $healthy"
	((after - before >= created && after - before <= created + unknown)) ||
		fail "the total grew by $((after - before)); $created deposits were acknowledged, $unknown unknown"
}

# Runs tests/lib/keepalive.js with arguments $1 (clients), $2 (busy or idle),
# $3 (seconds), its requests deposits of 1, while /livez is probed with the
# liveness probe's timeout, and writes its report to file $4 and the
# probes' to file $4.probes; fails unless every client got an answer and
# every request an HTTP answer.
keepalive_clients() {
	local timeout report
	timeout="$(deployment_value 'c.livenessProbe.timeoutSeconds || 1')"
	probe_livez "$timeout" "$BATS_TEST_TMPDIR/stop" >"$4.probes" 3>&- &
	report="$(node "$REPO_DIR/tests/lib/keepalive.js" 127.0.0.1 "${BASE_URL##*:}" "$1" "$2" \
		POST "/v1/bitcoins?bitcoins=1" "$3" 60000)"
	touch "$BATS_TEST_TMPDIR/stop"
	wait
	echo "# $report; slowest /livez: $(sort -k2 -n "$4.probes" | tail -1) of $(wc -l <"$4.probes")" >&3
	(($(wc -l <"$4.probes") >= 5)) || fail "too few probes: $(cat "$4.probes")"
	[[ "$(node -e 'console.log(JSON.parse(process.argv[1]).unanswered)' "$report")" == 0 ]] ||
		fail "clients never answered: $report"
	node -e 'const o = JSON.parse(process.argv[1]).outcomes;
		process.exit(Object.keys(o).every((k) => /^\d{3}$/.test(k)) ? 0 : 1)' "$report" ||
		fail "requests without an HTTP answer: $report"
	echo "$report" >"$4"
}

# With 1,500 clients always waiting, a probe waits behind up to 1,500 - 384
# connections in the listen backlog: about 1 s at the 1,000 answers a second
# of two idle cores, over 4 s on a machine busy with other work. kubelet
# restarts the backend only after failureThreshold probes in a row failed,
# periodSeconds apart; starved, every probe fails.
@test "1,500 clients that keep their connections alive do not starve /livez or each other, and every deposit is counted" {
	local timeout longest limit before report created unknown after
	timeout="$(deployment_value 'c.livenessProbe.timeoutSeconds || 1')"
	limit="$(deployment_value 'c.livenessProbe.failureThreshold * c.livenessProbe.periodSeconds')"
	before="$(total)"
	keepalive_clients "$FLOOD_CONNECTIONS" busy 8 "$BATS_TEST_TMPDIR/report"
	report="$(cat "$BATS_TEST_TMPDIR/report")"
	after="$(total)"
	# The longest stretch of seconds in which every probe failed.
	longest="$(awk -v t="$timeout" '!($1 == 200 && $2 < t) { run += $2 + 0.2; if (run > longest) longest = run; next }
		{ run = 0 } END { printf "%d", longest }' "$BATS_TEST_TMPDIR/report.probes")"
	((longest < limit)) || fail "every probe of /livez failed for $longest s: kubelet restarts after $limit s"
	created="$(outcome_count "$report" 204)"
	unknown="$(outcome_count "$report" 504)"
	((created > 0)) || fail "no deposit succeeded: $report"
	# A 504's outcome is unknown (a CGI starved of CPU saw no reply in time).
	((after - before >= created && after - before <= created + unknown)) ||
		fail "the total grew by $((after - before)); $created deposits were acknowledged, $unknown unknown"
}

@test "400 clients that keep an idle connection open after one deposit do not starve /livez" {
	local timeout probes ok before after
	timeout="$(deployment_value 'c.livenessProbe.timeoutSeconds || 1')"
	before="$(total)"
	keepalive_clients 400 idle 12 "$BATS_TEST_TMPDIR/report"
	after="$(total)"
	probes="$(wc -l <"$BATS_TEST_TMPDIR/report.probes")"
	ok="$(awk -v t="$timeout" '$1 == 200 && $2 < t' "$BATS_TEST_TMPDIR/report.probes" | wc -l)"
	assert_equal "$ok" "$probes"
	assert_equal "$((after - before))" "$(outcome_count "$(cat "$BATS_TEST_TMPDIR/report")" 204)"
}

# As cgi.limits' read-timeout in CGI mode (mode-cgi.conf): the longest a
# request may go without an answer before lighttpd gives it a 504.
read_timeout() {
	sed -n 's/^cgi\.limits = ("read-timeout" => \([0-9]*\),.*/\1/p' "$REPO_DIR/cgi-bin/mode-cgi.conf"
}

@test "a request that waits past the read-timeout gets a 504 within about it, and a deposit that waited so is never applied" {
	local limit before report seconds created unknown after backend abandoned
	limit="$(read_timeout)"
	[[ "$limit" =~ ^[0-9]+$ ]] || fail "no read-timeout in mode-cgi.conf"
	# Redis answers every deposit after a 1.5 s fsync, within the largest
	# REDIS_TIMEOUT_MS: a FastCGI process carries one deposit per fsync, so
	# 60 deposits at once queue for about 11 s in front of 8 processes.
	backend="$BATS_FILE_TMPDIR/slow-backend"
	REDIS_TIMEOUT_MS=4000 backend_start "$backend" "$(cat "$STATE/redis/port")"
	before="$(total)"
	fsync_delay_start "$STATE/redis" 1.5
	report="$(node "$REPO_DIR/tests/lib/flood.js" 127.0.0.1 "$(cat "$backend/port")" 60 POST "/v1/bitcoins?bitcoins=1" 60000)"
	fsync_delay_stop "$STATE/redis"
	echo "# $report" >&3
	seconds="$(node -e 'console.log(Math.ceil(JSON.parse(process.argv[1]).seconds))' "$report")"
	after="$(total)"
	# lighttpd checks its timeouts once a second; 2 s more for a busy machine.
	((seconds <= limit + 3)) || fail "the last answer came after $seconds s: $report"
	created="$(outcome_count "$report" 204)"
	unknown="$(outcome_count "$report" 504)"
	(($(outcome_count "$report" 204) + unknown + $(outcome_count "$report" 503) == 60)) ||
		fail "connections without an HTTP answer: $report"
	((after - before >= created && after - before <= created + unknown)) ||
		fail "the total grew by $((after - before)); $created deposits were acknowledged, $unknown unknown"
	if [[ "$BACKEND_MODE" == fastcgi ]]; then
		abandoned="$(grep -c "lighttpd gave up on this request before it ran" "$backend/lighttpd.log" || true)"
		echo "# $abandoned deposits not run: lighttpd had given up on them" >&3
		((abandoned > 0 && after - before <= created + unknown - abandoned)) ||
			fail "$abandoned deposits were skipped; the total grew by $((after - before)), $created acknowledged"
	fi
}

@test "HTTP/2 is off, so one connection can never run more than one CGI at a time" {
	run curl -sS --http2-prior-knowledge -o /dev/null -w '%{http_version}' "$BASE_URL/livez"
	refute_output 2
	http GET /livez --http2
	assert_equal "$HTTP_STATUS" 200
	run curl -sS --http2 -o /dev/null -w '%{http_version}' "$BASE_URL/livez"
	assert_output 1.1
}
