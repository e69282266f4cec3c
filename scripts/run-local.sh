#!/usr/bin/env bash
# `make run`: serves the API on 127.0.0.1:${PORT:-8080} with a Redis of its
# own on 127.0.0.1:${REDIS_PORT:-6379}. Redis appends every change to its
# AOF and fsyncs before replying, in the git-ignored data/ directory, so the
# balance survives a restart. Ctrl-C stops both. No system service is used.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA_DIR="$REPO_DIR/data"
PORT="${PORT:-8080}"
REDIS_PORT="${REDIS_PORT:-6379}"
REDIS_PID=""
BACKEND_PID=""

# Fails with a clear message when something already listens on port $1.
require_free_port() {
	local port="$1" variable="$2"
	if (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		echo "run-local.sh: port $port is already taken; choose another with $variable=NNNN make run" >&2
		exit 1
	fi
}

# Waits until the command succeeds, for up to 10 s.
wait_for() {
	local tries=200
	until "$@" >/dev/null 2>&1; do
		tries=$((tries - 1))
		if ((tries == 0)); then
			echo "run-local.sh: gave up waiting for: $*" >&2
			return 1
		fi
		sleep 0.05
	done
}

# Stops lighttpd gracefully (SIGINT lets requests finish), then Redis.
stop_all() {
	trap - INT TERM EXIT
	if [[ -n "$BACKEND_PID" ]]; then
		kill -INT "$BACKEND_PID" 2>/dev/null || true
		wait "$BACKEND_PID" 2>/dev/null || true
	fi
	if [[ -n "$REDIS_PID" ]]; then
		kill -TERM "$REDIS_PID" 2>/dev/null || true
		wait "$REDIS_PID" 2>/dev/null || true
	fi
	echo "run-local.sh: stopped" >&2
}

# Starts our own durable Redis on loopback.
start_redis() {
	mkdir -p "$DATA_DIR"
	redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$DATA_DIR" \
		--appendonly yes --appendfsync always --save '' --protected-mode yes &
	REDIS_PID=$!
	wait_for redis-cli -p "$REDIS_PORT" ping
}

main() {
	require_free_port "$PORT" PORT
	require_free_port "$REDIS_PORT" REDIS_PORT
	trap stop_all INT TERM EXIT
	start_redis
	REDIS_HOST=127.0.0.1 REDIS_PORT="$REDIS_PORT" PORT="$PORT" \
		"$REPO_DIR/scripts/serve.sh" &
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
