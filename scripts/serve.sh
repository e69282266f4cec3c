#!/usr/bin/env bash
# For people: starts lighttpd like the container does. The work is done by
# build/start-lighttpd (cgi-bin/start-lighttpd.c), which needs no shell.
set -euo pipefail
exec "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/start-lighttpd" "$@"
