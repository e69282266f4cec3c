#!/usr/bin/env bash
# `make run`: serves the API on 127.0.0.1:${PORT:-8080} with a Redis of its
# own on 127.0.0.1:${REDIS_PORT:-6379}. Redis appends every change to its
# AOF and fsyncs before replying, in the git-ignored data/ directory, so the
# balance survives a restart. Ctrl-C stops both. No system service is used.
#
# Usage: scripts/run-local.sh   (make run builds first; PORT, REDIS_PORT)
set -euo pipefail
# shellcheck source=scripts/lib/cli.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib/cli.bash"
[[ "${1:-}" != --help ]] || usage_exit 0 "${BASH_SOURCE[0]}"

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly PROGRAM=run-local.sh MAKE_TARGET=run
readonly DATA_DIR="$REPO_DIR/data"
PORT="${PORT:-8080}"
REDIS_PORT="${REDIS_PORT:-6379}"
BACKEND_PID=""
RUN_DIR=""
# shellcheck source=scripts/lib/local-redis.bash
source "$REPO_DIR/scripts/lib/local-redis.bash"

# Stops lighttpd gracefully (SIGINT lets requests finish), then Redis.
stop_all() {
	trap - INT TERM EXIT
	if [[ -n "$BACKEND_PID" ]]; then
		kill -INT "$BACKEND_PID" 2>/dev/null || true
		wait "$BACKEND_PID" 2>/dev/null || true
	fi
	stop_redis
	[[ -z "$RUN_DIR" ]] || rm -rf "$RUN_DIR"
	echo "$PROGRAM: stopped" >&2
}

main() {
	require_free_port "$PORT" PORT
	require_free_port "$REDIS_PORT" REDIS_PORT
	trap stop_all INT TERM EXIT
	start_redis
	# lighttpd's private directory (FastCGI sockets); made here, not by
	# start-lighttpd, so that it goes when we stop.
	RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/moneybank.XXXXXX")"
	REDIS_HOST=127.0.0.1 REDIS_PORT="$REDIS_PORT" PORT="$PORT" RUN_DIR="$RUN_DIR" \
		"$REPO_DIR/build/start-lighttpd" &
	BACKEND_PID=$!
	wait_for curl -sf "http://127.0.0.1:$PORT/healthz"
	cat >&2 <<-EOF_HELP

		Money Bank is serving on http://127.0.0.1:$PORT (Ctrl-C stops it)
		  curl -d '' -X POST 'http://127.0.0.1:$PORT/v1/bitcoins?bitcoins=5'
		  curl http://127.0.0.1:$PORT/v1/bitcoins

	EOF_HELP
	wait "$BACKEND_PID"
}

main "$@"
