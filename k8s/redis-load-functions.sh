#!/usr/bin/env bash
# Makes Redis hold the function library in file $1 (k8s/redis-functions.lua)
# exactly: does nothing when it holds that code already, else loads it with
# FUNCTION LOAD REPLACE (over an older version of the library). Exits 0 only
# when Redis holds the library's code afterwards, so that it also serves as
# the Redis pod's readiness probe: Redis is not Ready, and its Service sends
# the backends nothing, until the library is there. Redis keeps a loaded
# library in its AOF and RDB, so this loads it once per data set.
#
#   redis-load-functions.sh LIBRARY PASSWORD_FILE [REDIS-CLI OPTIONS...]
#
# PASSWORD_FILE holds the password of the user named with --user (or of the
# default user), or is "" for a Redis without one; redis-cli reads it on its
# stdin (--askpass), so it is on no command line and in no environment. The
# user needs FUNCTION LIST and FUNCTION LOAD: under Kubernetes the probe user
# (scripts/lib/gen-redis-secret.sh), locally the admin or the default user.
# Never the application's, which may only call the functions (FCALL).
# It runs in the redis image (bash, sed, redis-cli) and on the host alike.
set -euo pipefail

readonly LIBRARY="$1" PASSWORD_FILE="$2"
shift 2

# Runs redis-cli with the options given and the password, if any, in raw
# mode (one element a line), as a probe's output is never a terminal.
redis_cli() {
	if [[ -n "$PASSWORD_FILE" ]]; then
		redis-cli --raw --askpass "$@" <"$PASSWORD_FILE"
	else
		redis-cli --raw "$@" </dev/null
	fi
}

# Prints the code Redis holds for library $2, given the options in "$@"
# before it: FUNCTION LIST ends with the field library_code, whose value
# follows on the lines after it. Prints nothing when Redis has no such
# library, or an error when it does not answer as asked.
held_code() {
	local name="$1"
	shift
	redis_cli "$@" FUNCTION LIST LIBRARYNAME "$name" WITHCODE | sed '1,/^library_code$/d'
}

main() {
	local code name reply
	code="$(cat "$LIBRARY")"
	name="$(sed -n '1s/^#!lua name=\([A-Za-z0-9_]*\)$/\1/p' "$LIBRARY")"
	if [[ -z "$name" ]]; then
		echo "redis-load-functions: $LIBRARY does not start with #!lua name=NAME" >&2
		exit 2
	fi
	[[ "$(held_code "$name" "$@")" != "$code" ]] || exit 0
	reply="$(redis_cli "$@" FUNCTION LOAD REPLACE "$code" 2>&1)" || true
	if [[ "$reply" != "$name" ]]; then
		echo "redis-load-functions: FUNCTION LOAD of $LIBRARY failed: $reply" >&2
		exit 1
	fi
	echo "redis-load-functions: loaded the library $name from $LIBRARY" >&2
}

main "$@"
