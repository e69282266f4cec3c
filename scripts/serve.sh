#!/usr/bin/env bash
# Starts lighttpd in the foreground with the project's lighttpd.conf. It gives
# the optional settings their defaults (lighttpd refuses an unset env.X),
# checks them once, and then becomes lighttpd, so signals reach it directly:
# SIGINT is the graceful stop. The container and `make run` both use it.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

export PORT="${PORT:-8080}"
export BIND_ADDR="${BIND_ADDR:-127.0.0.1}"
export APP_DIR="${APP_DIR:-$REPO_DIR/build}"
export CONF_DIR="${CONF_DIR:-$REPO_DIR}"
export BACKEND_MODE="${BACKEND_MODE:-cgi}"
export REDIS_HOST="${REDIS_HOST:-redis}"
export REDIS_PORT="${REDIS_PORT:-6379}"
export REDIS_PASSWORD="${REDIS_PASSWORD:-}"
export REDIS_TIMEOUT_MS="${REDIS_TIMEOUT_MS:-500}"
export IDEMPOTENCY_TTL_S="${IDEMPOTENCY_TTL_S:-86400}"
if [[ -z "${RUN_DIR:-}" ]]; then
	RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/moneybank.XXXXXX")"
fi
export RUN_DIR

# Fails with a clear message when a setting is wrong, before lighttpd starts.
check_settings() {
	if [[ "$BACKEND_MODE" != cgi && "$BACKEND_MODE" != fastcgi ]]; then
		echo "serve.sh: BACKEND_MODE must be cgi or fastcgi, not '$BACKEND_MODE'" >&2
		exit 1
	fi
	if [[ ! -x "$APP_DIR/bitcoins.cgi" || ! -x "$APP_DIR/healthz.cgi" ]]; then
		echo "serve.sh: no programs in $APP_DIR; run 'make build' first" >&2
		exit 1
	fi
	# The programs validate their own settings; ask one, as lighttpd would.
	# Its answer only says that the server is misconfigured; the reason goes
	# to its log (stderr), which comes first: the answer is sent at exit.
	local answer
	answer="$(REQUEST_METHOD=GET SCRIPT_NAME=/livez "$APP_DIR/healthz.cgi" 2>&1)"
	if [[ "$answer" != "Status: 200"* ]]; then
		echo "serve.sh: bad configuration: ${answer%%$'\n'*}" >&2
		exit 1
	fi
}

main() {
	check_settings
	mkdir -p "$RUN_DIR/empty"
	echo "serve.sh: lighttpd on http://$BIND_ADDR:$PORT ($BACKEND_MODE mode, Redis $REDIS_HOST:$REDIS_PORT)" >&2
	exec lighttpd -D -f "$CONF_DIR/lighttpd.conf"
}

main "$@"
