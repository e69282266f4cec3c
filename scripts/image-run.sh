#!/usr/bin/env bash
# `make image-run`: runs the backend image (built by `make image`) against a Redis of its
# own, and prints the curl commands to try. Ctrl-C stops both.
#
# Redis is the host's redis-server (the same durable setup as `make run`: AOF, fsync before
# every reply, data in the git-ignored data/image-run/), on 127.0.0.1:${REDIS_PORT:-6379}.
# The container shares the host's network (--network=host) and listens on
# 127.0.0.1:${PORT:-8080}, so it reaches Redis on loopback. No Redis image is needed (none
# can be pulled here), and no bridge network or NAT is involved. The container runs as in
# production: read-only root filesystem, a tmpfs at /tmp.
#
# Usage: scripts/image-run.sh   (make image-run builds the image first; PORT, REDIS_PORT)
set -euo pipefail
# shellcheck source=scripts/lib/cli.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib/cli.bash"
[[ "${1:-}" != --help ]] || usage_exit 0 "${BASH_SOURCE[0]}"

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_DIR
readonly PROGRAM=image-run.sh MAKE_TARGET=image-run
readonly ENGINE="${REPO_DIR}/scripts/lib/container-engine.sh"
readonly DATA_DIR="${REPO_DIR}/data/image-run"
readonly IMAGE="${IMAGE:-dev.local/d22/backend}"
readonly NAME=moneybank-image-run
readonly PORT="${PORT:-8080}"
readonly REDIS_PORT="${REDIS_PORT:-6379}"
LOGS_PID=""
# shellcheck source=scripts/lib/local-redis.bash
source "${REPO_DIR}/scripts/lib/local-redis.bash"

# Stops the container with its stop signal (SIGINT: requests in flight finish), then Redis.
stop_all() {
	trap - INT TERM EXIT
	"${ENGINE}" stop --time 10 "${NAME}" >/dev/null 2>&1 || true
	"${ENGINE}" rm --force "${NAME}" >/dev/null 2>&1 || true
	if [[ -n "${LOGS_PID}" ]]; then kill "${LOGS_PID}" 2>/dev/null || true; fi
	stop_redis
	echo "${PROGRAM}: stopped" >&2
}

# Starts the container on the host's network, read-only with a tmpfs at /tmp.
start_container() {
	local flags=(--read-only --tmpfs "/tmp:rw,nosuid,nodev,size=64m")
	if [[ "$("${ENGINE}" --name)" == podman ]]; then flags+=(--read-only-tmpfs=false); fi
	"${ENGINE}" rm --force "${NAME}" >/dev/null 2>&1 || true
	"${ENGINE}" run --detach --name "${NAME}" --network=host "${flags[@]}" \
		-e PORT="${PORT}" -e BIND_ADDR=127.0.0.1 -e REDIS_HOST=127.0.0.1 \
		-e REDIS_PORT="${REDIS_PORT}" -e BACKEND_MODE="${BACKEND_MODE:-cgi}" \
		"${IMAGE}" >/dev/null
	"${ENGINE}" logs --follow "${NAME}" &
	LOGS_PID=$!
}

main() {
	require_free_port "${PORT}" PORT
	require_free_port "${REDIS_PORT}" REDIS_PORT
	trap stop_all INT TERM EXIT
	start_redis
	start_container
	wait_for curl -sf "http://127.0.0.1:${PORT}/healthz"
	cat >&2 <<EOF

Money Bank (container ${NAME}, image ${IMAGE}) is serving on http://127.0.0.1:${PORT}
Redis: 127.0.0.1:${REDIS_PORT}, data in data/image-run/. Ctrl-C stops both.
  curl -d '' -X POST 'http://127.0.0.1:${PORT}/v1/bitcoins?bitcoins=5'
  curl http://127.0.0.1:${PORT}/v1/bitcoins
(a POST needs -d '': without a Content-Length lighttpd answers 411)

EOF
	"${ENGINE}" wait "${NAME}" >/dev/null
}

main "$@"
