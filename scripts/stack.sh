#!/usr/bin/env bash
# `make stack`: the production shape on loopback, in the foreground, until
# Ctrl-C. An nginx TLS front for https://bitcoin.127.0.0.1.nip.io (like the
# NGINX Ingress), three lighttpd backends and one Redis with production's ACL
# users and an fsync-always AOF. State, passwords and certificate stay in the
# git-ignored STACK_DIR (default .cache/stack), so the balance survives a
# restart.
# Ports: STACK_HTTPS_PORT (8443), STACK_HTTP_PORT (8081), STACK_REDIS_PORT
# (6380), STACK_BACKEND_PORTS ("8091 8092 8093"). BACKEND_MODE=cgi|fastcgi.
# The front speaks TLS 1.2 and 1.3 only and sends HSTS. Per client address
# it allows STACK_LIMIT_RPS requests a second (10), STACK_LIMIT_BURST more at
# once (20) and STACK_LIMIT_CONNECTIONS in flight (20), the Ingress's
# numbers, and answers 429 with Retry-After over them; raise them to load
# the stack from one address.
#
# Usage: scripts/stack.sh   (make stack builds first)
set -euo pipefail
# shellcheck source=scripts/lib/cli.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib/cli.bash"
[[ "${1:-}" != --help ]] || usage_exit 0 "${BASH_SOURCE[0]}"

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=/dev/null # linted on its own (make lint)
source "$REPO_DIR/tests/lib/common.bash"
# shellcheck source=/dev/null # linted on its own
source "$REPO_DIR/tests/lib/stack.bash"

export STACK_HTTPS_PORT="${STACK_HTTPS_PORT:-8443}"
export STACK_HTTP_PORT="${STACK_HTTP_PORT:-8081}"
export STACK_REDIS_PORT="${STACK_REDIS_PORT:-6380}"
export STACK_BACKEND_PORTS="${STACK_BACKEND_PORTS:-8091 8092 8093}"
STACK_DIR="${STACK_DIR:-$REPO_DIR/.cache/stack}"

# Fails with a clear message when one of the stack's ports is taken.
require_free_ports() {
	local port
	for port in "$STACK_HTTPS_PORT" "$STACK_HTTP_PORT" "$STACK_REDIS_PORT" \
		$STACK_BACKEND_PORTS; do
		if port_in_use "$port"; then
			echo "stack.sh: port $port is taken; choose others with STACK_HTTPS_PORT, STACK_HTTP_PORT, STACK_REDIS_PORT or STACK_BACKEND_PORTS" >&2
			exit 1
		fi
	done
}

# Stops everything the stack started, in order: the front, the backends
# (gracefully), Redis. Runs on Ctrl-C, TERM and any exit.
stop_stack() {
	trap - INT TERM EXIT
	stack_stop "$STACK_DIR"
	echo "stack.sh: stopped; nothing is left running" >&2
}

# Prints where everything listens and curl commands that work as they are.
print_help() {
	local url http_url resolve cacert
	url="$(stack_url "$STACK_DIR")"
	http_url="$(stack_http_url "$STACK_DIR")"
	resolve="--resolve $STACK_HOST:$STACK_HTTPS_PORT:127.0.0.1"
	cacert="--cacert $STACK_DIR/tls/tls.crt"
	cat >&2 <<-EOF

		Money Bank stack on loopback (Ctrl-C stops it; state in $STACK_DIR)
		  front     $url  (nginx, TLS 1.2/1.3, HSTS; $http_url redirects to it)
		  limits    per client address: $(stack_limit RPS) requests/s, bursts of $(stack_limit BURST), $(stack_limit CONNECTIONS) in flight; over them 429
		            (STACK_LIMIT_RPS, STACK_LIMIT_BURST, STACK_LIMIT_CONNECTIONS)
		  backends  $(for port in $STACK_BACKEND_PORTS; do printf 'http://127.0.0.1:%s ' "$port"; done)($BACKEND_MODE)
		  redis     127.0.0.1:$STACK_REDIS_PORT, users in $STACK_DIR/redis/secrets/users.acl
		            redis-cli -p $STACK_REDIS_PORT --user admin --askpass <$STACK_DIR/redis/secrets/redis-admin-password

		  curl $cacert $resolve -d '' -X POST '$url/v1/bitcoins?bitcoins=5'
		  curl $cacert $resolve $url/v1/bitcoins
		  curl -i --resolve $STACK_HOST:$STACK_HTTP_PORT:127.0.0.1 $http_url/v1/bitcoins
		  curl http://127.0.0.1:${STACK_BACKEND_PORTS%% *}/healthz

	EOF
}

main() {
	export BACKEND_MODE="${BACKEND_MODE:-cgi}"
	require_free_ports
	trap 'stop_stack; exit 130' INT TERM
	trap stop_stack EXIT
	# Job control puts each server in a process group of its own, so Ctrl-C
	# reaches only this script, which then stops them in order.
	set -m
	stack_start "$STACK_DIR"
	print_help
	# Runs until Ctrl-C, or until one of the servers exits on its own.
	wait -n
	echo "stack.sh: a server exited on its own; stopping the rest" >&2
}

main "$@"
