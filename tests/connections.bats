#!/usr/bin/env bats
# How the programs treat their Redis connections. A CGI opens one per
# request; were it to close it the ordinary way, each request would leave a
# TIME_WAIT socket for a minute, and past about 470 requests a second those
# use up the ephemeral ports towards Redis (Linux reuses them only on
# loopback), so that every request fails with 503 (see store.c).

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

# Prints how many IPv4 TCP sockets wait in TIME_WAIT (state 06 in
# /proc/net/tcp) for the port $1 on the other end.
time_waits_towards() {
	local port_hex
	port_hex="$(printf '%04X' "$1")"
	awk -v port=":$port_hex" '$4 == "06" && substr($3, length($3) - 4) == port' \
		/proc/net/tcp | wc -l
}

# Runs bitcoins.cgi once with method $1 against the test Redis.
run_bitcoins() {
	run --separate-stderr env -i REQUEST_METHOD="$1" QUERY_STRING=bitcoins=1 REDIS_HOST=127.0.0.1 \
		REDIS_PORT="$(cat "$BATS_FILE_TMPDIR/redis/port")" "$APP_DIR/bitcoins.cgi"
	assert_success
	assert_line --index 0 --regexp '^Status: 20[04] '
}

@test "CGI requests close their Redis connections without leaving TIME_WAIT sockets behind" {
	local port before
	port="$(cat "$BATS_FILE_TMPDIR/redis/port")"
	# redis-cli, which checked that Redis is up, leaves some of its own.
	before="$(time_waits_towards "$port")"
	run_bitcoins GET
	run_bitcoins POST
	run_bitcoins GET
	assert_equal "$(time_waits_towards "$port")" "$before"
}
