#!/usr/bin/env bash
# The benchmark behind `make bench`: wrk on loopback against stacks that this
# script starts and stops itself. Side by side, in one run, it measures
#   (a) a lighttpd static file, the web server's ceiling,
#   (b) a no-op CGI under the project's lighttpd.conf, the fork/exec floor,
#   (c, d) bitcoins.cgi GET and POST in CGI mode,
#   (e) the same in FastCGI mode, plus GET /livez there (no Redis),
# and the POSTs again with Redis's append-only file on tmpfs, which tells
# the cost of the disk's fsync from the cost of the programs. The same floor,
# GET and POST run again on the image's lighttpd (the image in a container on
# the host network, the no-op CGI mounted over bitcoins.cgi for the floor),
# so the two platforms, the host's lighttpd and the image's, stand side by
# side. For each case it prints req/s, p50, p99, errors, the ratio to its
# platform's floor, and the CPU the server side (lighttpd, the programs,
# Redis) spent per request; then the decay of each platform (req/s over the
# first window of BENCH_DECAY_REQUESTS CGI requests on one lighttpd, against
# the last window, with lighttpd's anonymous memory before and after), the
# instructions of one CGI run (callgrind) and the memory of lighttpd with its
# idle programs. It writes results/bench.md and results/bench.png.
# Every POST sends Content-Length: 0 (lighttpd answers 411 without it), and
# each POST case checks that Redis counted every deposit wrk saw answered.
#
# Usage: scripts/bench.sh [STACK...] runs only the named stacks (static noop
# cgi fastcgi cgi-tmpfs fastcgi-tmpfs image-noop image-cgi decay
# image-decay); the default is all of them.
# Settings: BENCH_DURATION (seconds per case, 10), BENCH_WARMUP (2),
# BENCH_CONNECTIONS (16), BENCH_THREADS (2), BENCH_RESULTS (<repo>/results),
# BENCH_DECAY_REQUESTS (200000), BENCH_DECAY_WINDOW (seconds, 10),
# BACKEND_IMAGE (the image, dev.local/d22/backend; built when a stack needs
# it), and, to compare builds, BENCH_APP_DIR (<repo>/build), BENCH_NOOP_CGI
# (<repo>/build/bench/noop.cgi) and CONF_DIR (as for build/start-lighttpd).
set -euo pipefail
# shellcheck source=scripts/lib/cli.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib/cli.bash"
[[ "${1:-}" != --help ]] || usage_exit 0 "${BASH_SOURCE[0]}"

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=/dev/null # linted on its own (make lint)
source "$REPO_DIR/tests/lib/common.bash"
# shellcheck source=/dev/null # linted on its own (make lint)
source "$REPO_DIR/tests/lib/container.bash"

DURATION="${BENCH_DURATION:-10}"
WARMUP="${BENCH_WARMUP:-2}"
CONNECTIONS="${BENCH_CONNECTIONS:-16}"
THREADS="${BENCH_THREADS:-2}"
DECAY_REQUESTS="${BENCH_DECAY_REQUESTS:-200000}"
DECAY_WINDOW="${BENCH_DECAY_WINDOW:-10}"
RESULTS_DIR="${BENCH_RESULTS:-$REPO_DIR/results}"
APP_DIR="${BENCH_APP_DIR:-$REPO_DIR/build}"
NOOP_CGI="${BENCH_NOOP_CGI:-$REPO_DIR/build/bench/noop.cgi}"
CLOCK_TICKS="$(getconf CLK_TCK)"
# Temporary directories: one on disk for the stacks and the production-like
# Redis, one on tmpfs for the Redis whose fsync costs nothing.
WORK_DIR=""
TMPFS_DIR=""
MACHINE=""

# One row per case: name|stack|method|path|expected status. Each case runs
# on a lighttpd started for it; after a stack's last case its memory is
# measured and it is stopped.
readonly CASES='static file|static|GET|/static.txt|200
no-op CGI (floor)|noop|GET|/v1/bitcoins|200
bitcoins.cgi GET|cgi|GET|/v1/bitcoins|200
bitcoins.cgi POST|cgi|POST|/v1/bitcoins?bitcoins=1|204
FastCGI GET /livez|fastcgi|GET|/livez|200
FastCGI GET|fastcgi|GET|/v1/bitcoins|200
FastCGI POST|fastcgi|POST|/v1/bitcoins?bitcoins=1|204
bitcoins.cgi POST, AOF on tmpfs|cgi-tmpfs|POST|/v1/bitcoins?bitcoins=1|204
FastCGI POST, AOF on tmpfs|fastcgi-tmpfs|POST|/v1/bitcoins?bitcoins=1|204
image: no-op CGI (floor)|image-noop|GET|/v1/bitcoins|200
image: bitcoins.cgi GET|image-cgi|GET|/v1/bitcoins|200
image: bitcoins.cgi POST|image-cgi|POST|/v1/bitcoins?bitcoins=1|204'
readonly STACKS='static noop cgi fastcgi cgi-tmpfs fastcgi-tmpfs image-noop image-cgi decay image-decay'

# Results, one entry per case, in the order of CASES.
ROWS=()
# The floor's req/s of each platform (host, image), once its no-op case has run.
declare -A FLOOR=()
# lighttpd's version on each platform.
declare -A LIGHTTPD_VERSION=()
# Lines of the memory table.
MEMORY_ROWS=()
# Lines of the decay table.
DECAY_ROWS=()

# Stops everything this script started and removes its files, even when a
# step failed half way.
cleanup() {
	local dir
	for dir in "$WORK_DIR" "$TMPFS_DIR"; do
		if [[ -n "$dir" ]]; then
			container_remove_all_below "$dir"
			stop_all_below "$dir"
			rm -rf "$dir"
		fi
	done
}

# Fails with a message.
die() {
	echo "bench.sh: $*" >&2
	exit 1
}

# Checks that the programs and the tools are there, and the container engine
# when one of the stacks $@ runs in the image.
check_prerequisites() {
	local tool stack
	for tool in wrk lighttpd redis-server redis-cli curl valgrind gnuplot pgrep; do
		command -v "$tool" >/dev/null || die "$tool is missing; run 'make bench'"
	done
	[[ -x "$APP_DIR/bitcoins.cgi" && -x "$NOOP_CGI" ]] ||
		die "no programs in $APP_DIR; run 'make bench'"
	for stack in "$@"; do
		if in_image "$stack"; then
			engine --name >/dev/null 2>&1 ||
				die "stack $stack needs a container engine; run 'make bench'"
			return 0
		fi
	done
}

# Succeeds when stack $1 runs the image in a container, not the host's lighttpd.
in_image() {
	[[ "$1" == image-* ]]
}

# Prints the platform of stack $1: host or image.
platform_of() {
	if in_image "$1"; then echo image; else echo host; fi
}

# Builds the image (layers are cached) and records both platforms' lighttpd
# versions; the image is built only when a stack needs it.
describe_platforms() {
	local stack
	LIGHTTPD_VERSION[host]="$(lighttpd -v | sed -n 's|^lighttpd/\([0-9.]*\).*|\1|p')"
	for stack in "$@"; do
		in_image "$stack" || continue
		echo "bench.sh: building $BACKEND_IMAGE" >&2
		"$REPO_DIR/scripts/build-image.sh" "$BACKEND_IMAGE" >"$WORK_DIR/image-build.log" 2>&1 ||
			die "the image did not build: $(tail -5 "$WORK_DIR/image-build.log")"
		LIGHTTPD_VERSION[image]="$(engine run --rm --network=none --entrypoint /usr/sbin/lighttpd \
			"$BACKEND_IMAGE" -v | sed -n 's|^lighttpd/\([0-9.]*\).*|\1|p')"
		return 0
	done
}

# Prints the platform of stack $1 with its lighttpd version.
platform_label() {
	local platform
	platform="$(platform_of "$1")"
	echo "$platform, lighttpd ${LIGHTTPD_VERSION[$platform]:-?}"
}

# Writes the wrk scripts: both report one machine-readable RESULT line;
# the POST one sends an empty body, so wrk adds Content-Length: 0.
write_wrk_scripts() {
	local report
	report='done = function(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("RESULT %d %d %d %d %d %d\n", summary.requests,
		summary.duration, latency:percentile(50), latency:percentile(99),
		e.status, e.connect + e.read + e.write + e.timeout))
end'
	printf '%s\n' "$report" >"$WORK_DIR/get.lua"
	printf 'wrk.method = "POST"\nwrk.body = ""\n%s\n' "$report" >"$WORK_DIR/post.lua"
}

# Prints the one-minute load average: other work on the machine shows here.
load_average() {
	local load
	read -r load _ </proc/loadavg
	echo "$load"
}

# Prints the machine the benchmark runs on.
describe_machine() {
	local cpu
	cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
	printf '%s cores (nproc), %s, %s, kernel %s' "$(nproc)" "${cpu:-unknown CPU}" \
		"$(sed -n 's/^PRETTY_NAME="\(.*\)"$/\1/p' /etc/os-release)" "$(uname -r)"
}

# Starts the two Redis servers, both durable as in production (AOF, fsync
# before every reply): one with its files on disk, one on tmpfs.
redis_servers_start() {
	redis_start "$WORK_DIR/redis"
	if [[ -d /dev/shm && -w /dev/shm ]]; then
		TMPFS_DIR="$(mktemp -d /dev/shm/moneybank-bench.XXXXXX)"
	else
		TMPFS_DIR="$(mktemp -d "${TMPDIR:-/tmp}/moneybank-bench-tmpfs.XXXXXX")"
		echo "bench.sh: no writable /dev/shm; the tmpfs rows use $TMPFS_DIR" >&2
	fi
	redis_start "$TMPFS_DIR/redis"
}

# Prints the directory of the Redis that the stack $1 uses.
redis_dir_of() {
	if [[ "$1" == *-tmpfs ]]; then
		echo "$TMPFS_DIR/redis"
	else
		echo "$WORK_DIR/redis"
	fi
}

# Starts a lighttpd with a config of its own that serves one 1-byte file,
# for the web server's ceiling: the project's config serves no files.
static_start() {
	local dir="$WORK_DIR/static"
	mkdir -p "$dir/www"
	free_port >"$dir/port"
	printf '0' >"$dir/www/static.txt"
	cat >"$dir/lighttpd.conf" <<EOF
server.compat-module-load = "disable"
server.modules = ("mod_staticfile")
server.bind = "127.0.0.1"
server.port = $(cat "$dir/port")
server.document-root = "$dir/www"
mimetype.assign = ("" => "text/plain")
EOF
	lighttpd -D -f "$dir/lighttpd.conf" >>"$dir/lighttpd.log" 2>&1 3>&- &
	echo "$!" >"$dir/pid"
	wait_until 10 curl -sf "http://127.0.0.1:$(cat "$dir/port")/static.txt" ||
		die "the static lighttpd did not start: $(tail -3 "$dir/lighttpd.log")"
}

# Makes an APP_DIR whose bitcoins.cgi is the no-op CGI, so that the floor
# runs under the project's own lighttpd.conf, route and environment. Files
# are copied: the project's config does not follow symlinks.
noop_app_dir() {
	local dir="$WORK_DIR/noop-app"
	mkdir -p "$dir"
	cp "$NOOP_CGI" "$dir/bitcoins.cgi"
	cp "$APP_DIR/healthz.cgi" "$dir/healthz.cgi"
	cp -r "$APP_DIR/errors" "$dir/errors"
	echo "$dir"
}

# Starts the image as a container for stack $1 (host network, read-only root,
# as in production) on the disk Redis. For the floor, the no-op CGI is mounted
# over bitcoins.cgi: it is static, so it runs on the image's libc as well.
image_start() {
	local stack="$1" flags=()
	[[ "$stack" != image-noop ]] || flags=(--volume "$NOOP_CGI:/app/build/bitcoins.cgi:ro")
	BACKEND_MODE=cgi container_start "$WORK_DIR/$stack" "$(cat "$WORK_DIR/redis/port")" \
		"${flags[@]}" || die "the $stack container did not start"
}

# Starts the stack named $1. Not to be run in $(...): the container's log
# follower would keep the substitution's pipe open; stack_url prints the URL.
stack_start() {
	local stack="$1" redis_port app_dir="$APP_DIR" mode=cgi
	if [[ "$stack" == static ]]; then
		static_start
		return
	fi
	if in_image "$stack"; then
		image_start "$stack"
		return
	fi
	redis_port="$(cat "$(redis_dir_of "$stack")/port")"
	[[ "$stack" != noop ]] || app_dir="$(noop_app_dir)"
	[[ "$stack" != fastcgi* ]] || mode=fastcgi
	BACKEND_MODE="$mode" APP_DIR="$app_dir" backend_start "$WORK_DIR/$stack" "$redis_port"
}

# Prints the base URL of the running stack $1.
stack_url() {
	echo "http://127.0.0.1:$(cat "$WORK_DIR/$1/port")"
}

# Stops the stack $1 gracefully: SIGINT to lighttpd, or the container's stop.
stack_stop() {
	if in_image "$1"; then
		container_remove "$WORK_DIR/$1"
	else
		stop_pidfile "$WORK_DIR/$1/pid" INT
	fi
}

# Prints the pid of the stack's lighttpd as this host sees it (for the image:
# the container's first process, which start-lighttpd made lighttpd).
server_pid() {
	if in_image "$1"; then
		engine inspect --format '{{.State.Pid}}' "$(container_name "$WORK_DIR/$1")"
	else
		cat "$WORK_DIR/$1/pid"
	fi
}

# Prints the HTTP status of one request, sent as wrk sends it.
status_of() {
	local method="$1" url="$2"
	if [[ "$method" == POST ]]; then
		curl -s -o /dev/null -w '%{http_code}' -d '' -X POST "$url"
	else
		curl -s -o /dev/null -w '%{http_code}' "$url"
	fi
}

# Prints the bitcoin total that the Redis in directory $1 holds.
redis_total() {
	local total
	total="$(redis_cmd "$1" get bitcoins)"
	echo "${total:-0}"
}

# Prints the clock ticks of CPU a process used ($2 = self), or used and
# reaped from its children ($2 = all).
process_ticks() {
	# After the command name: utime, stime, cutime, cstime are fields 12-15.
	sed 's/.*) //' "/proc/$1/stat" |
		awk -v all="$2" '{ print $12 + $13 + (all == "all" ? $14 + $15 : 0) }'
}

# Prints the clock ticks of CPU that the server side of stack $1 has used:
# "WEB REDIS", where WEB is lighttpd with the CGIs it reaped and its live
# FastCGI processes. The load generator is left out, so other work on the
# machine moves these much less than it moves req/s.
server_ticks() {
	local stack="$1" lighttpd pid web redis
	lighttpd="$(server_pid "$stack")"
	web="$(process_ticks "$lighttpd" all)"
	if [[ "$stack" == fastcgi* ]]; then
		while read -r pid; do
			web=$((web + $(process_ticks "$pid" self)))
		done < <(pgrep -P "$lighttpd")
	fi
	redis="$(process_ticks "$(cat "$(redis_dir_of "$stack")/pid")" all)"
	echo "$web $redis"
}

# Prints clock ticks per request in microseconds: $1 ticks, $2 requests.
per_request_us() {
	awk -v t="$1" -v hz="$CLOCK_TICKS" -v r="$2" \
		'BEGIN { printf "%.0f", (r > 0 ? t * 1e6 / hz / r : 0) }'
}

# Runs wrk for $1 seconds with the script for method $2 against URL $3.
run_wrk() {
	local seconds="$1" method="$2" url="$3" script="$WORK_DIR/get.lua"
	[[ "$method" != POST ]] || script="$WORK_DIR/post.lua"
	wrk -t "$THREADS" -c "$CONNECTIONS" -d "${seconds}s" --timeout 5s -s "$script" "$url"
}

# Measures one case of the stack $1 and appends its row: platform|name|req/s|
# p50 ms|p99 ms|HTTP errors|socket errors|CPU us per request of lighttpd with
# the programs|of Redis|note. A POST
# also compares the deposits Redis counted with the responses wrk received; a
# shortfall counts as HTTP errors. A no-op case sets its platform's floor.
measure_case() {
	local stack="$1" name="$2" method="$3" url="$4" expected="$5" status result
	local requests duration p50 p99 http_errors socket_errors note="" rps
	local redis_dir before web_ticks redis_ticks web_after redis_after cpu
	redis_dir="$(redis_dir_of "$stack")"
	status="$(status_of "$method" "$url")"
	[[ "$status" == "$expected" ]] ||
		die "$name: $method $url answered $status, expected $expected"
	echo "bench.sh: $name: ${WARMUP}s warm-up, ${DURATION}s measured" >&2
	run_wrk "$WARMUP" "$method" "$url" >/dev/null
	before="$(redis_total "$redis_dir")"
	read -r web_ticks redis_ticks < <(server_ticks "$stack")
	result="$(run_wrk "$DURATION" "$method" "$url" | sed -n 's/^RESULT //p')"
	read -r web_after redis_after < <(server_ticks "$stack")
	read -r requests duration p50 p99 http_errors socket_errors <<<"$result"
	[[ -n "$socket_errors" ]] || die "$name: wrk reported nothing"
	if [[ "$method" == POST ]]; then
		local counted=$(($(redis_total "$redis_dir") - before))
		note="Redis counted $counted deposits for $requests responses"
		((counted >= requests)) || http_errors=$((http_errors + requests - counted))
	fi
	rps="$(awk -v r="$requests" -v d="$duration" 'BEGIN { printf "%.0f", r / (d / 1e6) }')"
	cpu="$(per_request_us $((web_after - web_ticks)) "$requests")|$(per_request_us $((redis_after - redis_ticks)) "$requests")"
	[[ "$stack" != *noop ]] || FLOOR[$(platform_of "$stack")]="$rps"
	ROWS+=("$(platform_of "$stack")|$name|$rps|$(ms "$p50")|$(ms "$p99")|$http_errors|$socket_errors|$cpu|$note")
}

# Prints microseconds as milliseconds with two decimals.
ms() {
	awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'
}

# Prints "RSS PSS" in kB, summed over lighttpd ($1) and its children.
memory_of() {
	local pid rss=0 pss=0 value
	while read -r pid; do
		value="$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)" || continue
		rss=$((rss + ${value:-0}))
		value="$(awk '/^Pss:/ { print $2 }' "/proc/$pid/smaps_rollup" 2>/dev/null)" || true
		pss=$((pss + ${value:-0}))
	done < <(echo "$1" && pgrep -P "$1")
	echo "$rss $pss"
}

# Prints the programs running under lighttpd ($1) as "N name + N name".
programs_of() {
	local pid
	while read -r pid; do
		cat "/proc/$pid/comm" 2>/dev/null || true
	done < <(pgrep -P "$1") | sort | uniq -c | awk '{ printf "%s%s %s", (NR > 1 ? " + " : ""), $1, $2 }'
}

# Records the memory of lighttpd ($2) and its programs as the row named $1.
memory_row() {
	local name="$1" pid="$2" rss pss programs
	read -r rss pss < <(memory_of "$pid")
	programs="$(programs_of "$pid")"
	MEMORY_ROWS+=("$name: lighttpd${programs:+ + $programs}|$(mb "$rss")|$(mb "$pss")")
}

# Succeeds when lighttpd ($1) runs no more FastCGI processes than its
# min-procs (one per route): those it added under load have been stopped.
fastcgi_at_minimum() {
	(($(pgrep -c -P "$1") <= 2))
}

# Records the memory of the stack's lighttpd and its programs once the load
# is over. In CGI mode, once the last CGIs have exited. In FastCGI mode,
# right after the load and again when idle: lighttpd stops the processes it
# added under load after its idle-timeout (60 s by default).
measure_memory() {
	local stack="$1" pid
	pid="$(server_pid "$stack")"
	if [[ "$stack" == *cgi && "$stack" != fastcgi ]]; then
		wait_until 5 bash -c "! pgrep -P $pid" || true
		memory_row "$(platform_label "$stack"), cgi mode, idle" "$pid"
		return
	fi
	memory_row "fastcgi mode, right after the load" "$pid"
	echo "bench.sh: waiting up to 90 s for lighttpd's FastCGI idle-timeout" >&2
	wait_until 90 fastcgi_at_minimum "$pid" || true
	memory_row "fastcgi mode, idle" "$pid"
}

# Prints kB as MB with one decimal.
mb() {
	awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'
}

# Runs every case of the stack $1, each on a lighttpd started for it, then
# measures the memory after the last case and stops it. A fresh lighttpd per
# case keeps the cases comparable: lighttpd 1.4.69's heap grows by about 40
# bytes per CGI request and never shrinks, and every fork copies it, so a
# case run after another on the same lighttpd paid more per request (the
# decay rows show how much). A decay stack runs the decay measure instead.
bench_stack() {
	local stack="$1" url="" name case_stack method path expected
	if [[ "$stack" == *decay ]]; then
		measure_decay "$stack"
		return
	fi
	while IFS='|' read -r name case_stack method path expected; do
		[[ "$case_stack" == "$stack" ]] || continue
		[[ -z "$url" ]] || stack_stop "$stack"
		stack_start "$stack"
		url="$(stack_url "$stack")"
		measure_case "$stack" "$name" "$method" "$url$path" "$expected"
	done <<<"$CASES"
	[[ "$stack" != cgi && "$stack" != fastcgi && "$stack" != image-cgi ]] ||
		measure_memory "$stack"
	stack_stop "$stack"
}

# Prints "requests req/s errors" of a RESULT line's fields.
decay_window() {
	local requests duration http_errors socket_errors
	read -r requests duration _ _ http_errors socket_errors <<<"$1"
	[[ -n "$socket_errors" ]] || die "decay: wrk reported nothing"
	awk -v r="$requests" -v d="$duration" -v e=$((http_errors + socket_errors)) \
		'BEGIN { printf "%d %.0f %d\n", r, r / (d / 1e6), e }'
}

# Sends about $2 GETs to URL $1 with wrk, in runs as long as the last rate
# ($3 req/s at first) says the rest takes, rounded down, until less than a
# second's worth is left; prints "requests errors". (wrk stops after a
# duration, not after a number of requests.)
fill_requests() {
	local url="$1" wanted="$2" rate="$3" sent=0 errors=0 seconds requests run_errors
	while ((rate > 0 && wanted - sent >= rate)); do
		seconds=$(((wanted - sent) / rate))
		read -r requests rate run_errors < <(decay_window \
			"$(run_wrk "$seconds" GET "$url" | sed -n 's/^RESULT //p')")
		((requests > 0)) || die "decay: $url answered no request in ${seconds}s"
		sent=$((sent + requests)) errors=$((errors + run_errors))
	done
	echo "$sent $errors"
}

# Measures the decay of CGI GETs on one lighttpd of stack $1 (decay: the
# host's; image-decay: the image's): req/s over a first window of
# DECAY_WINDOW seconds, then wrk until DECAY_REQUESTS requests in all, the
# last window included, then that last window, on the same lighttpd. Records
# both rates, their ratio, the requests sent and lighttpd's anonymous memory
# before and after.
measure_decay() {
	local stack="$1" url pid rss_before rss_after filler ratio
	local first_requests first_rps first_errors last_requests last_rps last_errors
	local filled=0 fill_errors=0
	stack_start "$stack"
	url="$(stack_url "$stack")/v1/bitcoins"
	[[ "$(status_of GET "$url")" == 200 ]] || die "$stack: GET $url did not answer 200"
	pid="$(server_pid "$stack")"
	rss_before="$(awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status")"
	echo "bench.sh: $(platform_label "$stack"): decay over $DECAY_REQUESTS CGI requests," \
		"${DECAY_WINDOW}s windows" >&2
	read -r first_requests first_rps first_errors < <(decay_window \
		"$(run_wrk "$DECAY_WINDOW" GET "$url" | sed -n 's/^RESULT //p')")
	# The last window serves about as many requests as the first, and no more.
	filler=$((DECAY_REQUESTS - 2 * first_requests))
	if ((filler > 0 && first_rps > 0)); then
		read -r filled fill_errors < <(fill_requests "$url" "$filler" "$first_rps")
	fi
	read -r last_requests last_rps last_errors < <(decay_window \
		"$(run_wrk "$DECAY_WINDOW" GET "$url" | sed -n 's/^RESULT //p')")
	wait_until 5 bash -c "! pgrep -P $pid" || true
	rss_after="$(awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status")"
	ratio="$(awk -v f="$first_rps" -v l="$last_rps" 'BEGIN { printf "%.2f", (f > 0 ? l / f : 0) }')"
	DECAY_ROWS+=("$(platform_label "$stack")|$first_rps|$last_rps|$ratio|$((first_requests + filled + last_requests))|$rss_before|$rss_after|$((first_errors + fill_errors + last_errors))")
	stack_stop "$stack"
}

# Prints the instructions callgrind counts for one run of the CGI $1 with
# method $2, in a fixed environment like the one lighttpd gives.
instructions_of() {
	local program="$1" method="$2"
	env -i REQUEST_METHOD="$method" QUERY_STRING=bitcoins=1 \
		SCRIPT_NAME=/v1/bitcoins REDIS_HOST=127.0.0.1 \
		REDIS_PORT="$(cat "$WORK_DIR/redis/port")" \
		valgrind --tool=callgrind --callgrind-out-file="$WORK_DIR/callgrind.out" \
		"$program" 2>&1 >/dev/null | sed -n 's/.*Collected : //p'
}

# Prints the largest RSS in kB of one CGI run of bitcoins.cgi with method $1.
peak_rss_of_cgi() {
	env -i REQUEST_METHOD="$1" QUERY_STRING=bitcoins=1 REDIS_HOST=127.0.0.1 \
		REDIS_PORT="$(cat "$WORK_DIR/redis/port")" \
		/usr/bin/time -f '%M' "$APP_DIR/bitcoins.cgi" 2>&1 >/dev/null | tail -1
}

# Prints the results table in Markdown, with the ratio to the floor of the
# row's platform.
results_table() {
	local row platform name rps p50 p99 http_errors socket_errors web redis ratio valid
	echo "| case | lighttpd | req/s | p50 ms | p99 ms | HTTP errors | socket errors | vs floor | CPU µs/req: lighttpd + programs | CPU µs/req: Redis | valid |"
	echo "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|"
	for row in "${ROWS[@]}"; do
		IFS='|' read -r platform name rps p50 p99 http_errors socket_errors web redis _ <<<"$row"
		ratio="$(awk -v r="$rps" -v f="${FLOOR[$platform]:-0}" 'BEGIN { if (f > 0) printf "%.2fx", r / f; else printf "-" }')"
		valid=yes
		((http_errors == 0 && socket_errors == 0)) || valid="INVALID"
		echo "| $name | $platform ${LIGHTTPD_VERSION[$platform]:-?} | $rps | $p50 | $p99 | $http_errors | $socket_errors | $ratio | $web | $redis | $valid |"
	done
}

# Prints the notes of the POST cases.
results_notes() {
	local row name note
	for row in "${ROWS[@]}"; do
		IFS='|' read -r _ name _ _ _ _ _ _ _ note <<<"$row"
		[[ -z "$note" ]] || echo "- $name: $note."
	done
}

# Prints the decay table, when a decay stack ran.
decay_table() {
	local row
	[[ ${#DECAY_ROWS[@]} -gt 0 ]] || return 0
	echo "| decay: CGI GET on one lighttpd | first ${DECAY_WINDOW} s req/s | last ${DECAY_WINDOW} s req/s | last / first | requests in all | lighttpd RssAnon kB before | after | errors |"
	echo "|---|--:|--:|--:|--:|--:|--:|--:|"
	for row in "${DECAY_ROWS[@]}"; do
		echo "| ${row//|/ | } |"
	done
	echo
}

# Prints the callgrind counts of one CGI run, GET and POST.
instructions_table() {
	echo "| one CGI run (callgrind, instructions) | GET | POST |"
	echo "|---|--:|--:|"
	echo "| no-op CGI | $(instructions_of "$NOOP_CGI" GET) | $(instructions_of "$NOOP_CGI" POST) |"
	echo "| bitcoins.cgi | $(instructions_of "$APP_DIR/bitcoins.cgi" GET) | $(instructions_of "$APP_DIR/bitcoins.cgi" POST) |"
}

# Prints the memory table.
memory_table() {
	local row
	echo "| memory | RSS MB (sum) | PSS MB (sum) |"
	echo "|---|--:|--:|"
	for row in "${MEMORY_ROWS[@]}"; do
		echo "| ${row//|/ | } |"
	done
	if [[ -x /usr/bin/time ]]; then
		echo
		echo "One bitcoins.cgi run in CGI mode peaks at $(mb "$(peak_rss_of_cgi GET)") MB RSS (GET)" \
			"and $(mb "$(peak_rss_of_cgi POST)") MB (POST), for the milliseconds it lives."
	fi
}

# Draws the req/s of every case as bars on a log scale, from bench.dat;
# the names break into lines at their first space and at each ", ". With no
# case run (only decay stacks), there is nothing to draw.
draw_chart() {
	local data="$RESULTS_DIR/bench.dat" row name rps
	[[ ${#ROWS[@]} -gt 0 ]] || return 0
	for row in "${ROWS[@]}"; do
		IFS='|' read -r _ name rps _ <<<"$row"
		name="${name/ /\\n}"
		printf '"%s"\t%s\n' "${name//, /\\n}" "$rps"
	done >"$data"
	gnuplot <<EOF
set terminal pngcairo size 1100,600 font "sans,10"
set output "$RESULTS_DIR/bench.png"
set title "Money Bank backend: requests per second (wrk -t$THREADS -c$CONNECTIONS, ${DURATION} s per case, $(nproc) cores)" noenhanced
set style fill solid 0.7
set boxwidth 0.6
set logscale y
set yrange [100:*]
set ylabel "requests per second (log scale)"
set grid ytics
set bmargin 5
set xtics scale 0 noenhanced
plot "$data" using 0:2:xtic(1) with boxes lc rgb "#3a6ea5" notitle, \
	"" using 0:2:(sprintf("%d", \$2)) with labels offset 0,0.8 notitle
EOF
}

# Writes the report and prints it.
write_report() {
	local report="$RESULTS_DIR/bench.md" load_at_start="$1"
	mkdir -p "$RESULTS_DIR"
	{
		echo "# make bench, $(date -u '+%Y-%m-%d %H:%M UTC')"
		echo
		echo "Machine: $MACHINE; load average $load_at_start at start, $(load_average) at the end."
		echo
		echo "Platforms: host = this machine's lighttpd ${LIGHTTPD_VERSION[host]:-?};" \
			"image = $BACKEND_IMAGE's lighttpd ${LIGHTTPD_VERSION[image]:-(not run)}," \
			"in a container on the host network with a read-only root, its own build of the programs."
		echo
		echo "wrk -t$THREADS -c$CONNECTIONS on loopback, ${WARMUP} s warm-up then ${DURATION} s per case." \
			"Redis as in production: appendonly, appendfsync always; its files on disk unless the row says tmpfs." \
			"CPU per request is what lighttpd with the programs, and Redis, used (wrk excluded; from /proc, in ${CLOCK_TICKS} Hz ticks)." \
			"A row with HTTP errors (status >= 400, or deposits Redis did not count) or socket errors is INVALID."
		echo
		results_table
		echo
		results_notes
		echo
		decay_table
		instructions_table
		echo
		memory_table
	} >"$report"
	draw_chart
	cat "$report"
	echo
	echo "bench.sh: wrote $report and $RESULTS_DIR/bench.png" >&2
}

main() {
	local stack load_at_start
	local -a stacks=("$@")
	[[ $# -gt 0 ]] || read -r -a stacks <<<"$STACKS"
	for stack in "${stacks[@]}"; do
		[[ " $STACKS " == *" $stack "* ]] || die "unknown stack '$stack' (known: $STACKS)"
	done
	check_prerequisites "${stacks[@]}"
	trap cleanup EXIT
	load_at_start="$(load_average)"
	WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/moneybank-bench.XXXXXX")"
	MACHINE="$(describe_machine)"
	describe_platforms "${stacks[@]}"
	write_wrk_scripts
	redis_servers_start
	for stack in "${stacks[@]}"; do
		bench_stack "$stack"
	done
	write_report "$load_at_start"
}

main "$@"
