#!/usr/bin/env bash
# For people: starts lighttpd like the container does. The work is done by
# build/start-lighttpd (cgi-bin/start-lighttpd.c), which needs no shell.
#
# Usage: scripts/serve.sh [ARGS...]   (after make build; ARGS go to
# build/start-lighttpd; the settings are environment variables: PORT,
# BIND_ADDR, REDIS_HOST, REDIS_PORT, BACKEND_MODE...)
set -euo pipefail
# shellcheck source=scripts/lib/cli.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib/cli.bash"
[[ "${1:-}" != --help ]] || usage_exit 0 "${BASH_SOURCE[0]}"
exec "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/start-lighttpd" "$@"
