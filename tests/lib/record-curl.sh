#!/usr/bin/env bash
# The curl the suites run (lib/error-bodies.bash puts it first on PATH as
# "curl"): runs the real curl (ERROR_BODIES_CURL) with the same arguments,
# input and output, plus --trace of everything it sent and received, and
# keeps that trace in the suite's collection when an answer had a status of
# 400 or more (any telnet:// answer is kept: raw bytes, read by the check).
# curl keeps one trace: a caller's own --trace FILE is used and copied
# instead; -v, --trace-ascii or a trace to stdout hide the bodies from the
# collection, so such a call runs unchanged and is recorded as "blind",
# which the check fails on.
# The real curl dies with this script (setpriv --pdeathsig), so killing this
# process stops the request too. Exit status: curl's.
set -euo pipefail

readonly REAL_CURL="${ERROR_BODIES_CURL:-/usr/bin/curl}"
readonly SUITE_DIR="${ERROR_BODIES_DIR:-}/${ERROR_BODIES_SUITE:-}"

# Sets CALLER_TRACE to the file of the caller's own --trace, if any, and
# STOPS_AT_ERRORS to "yes" for --fail (curl then stops before an error's
# body, so the suite never receives it); fails when the caller wants output
# the collection cannot read: -v, --trace-ascii, or a trace to stdout.
read_trace_options() {
	local arg previous=""
	CALLER_TRACE=""
	STOPS_AT_ERRORS=no
	for arg in "$@"; do
		if [[ "$previous" == --trace ]]; then CALLER_TRACE="$arg"; fi
		case "$arg" in
		--trace=*) CALLER_TRACE="${arg#--trace=}" ;;
		--verbose | --trace-ascii | --trace-ascii=*) return 1 ;;
		--fail) STOPS_AT_ERRORS=yes ;;
		--*) ;;
		-*)
			[[ ! "$arg" =~ ^-[a-zA-Z0-9#:]*v ]] || return 1
			[[ ! "$arg" =~ ^-[a-zA-Z0-9#:]*f ]] || STOPS_AT_ERRORS=yes
			;;
		esac
		previous="$arg"
	done
	[[ "$CALLER_TRACE" != - && "$CALLER_TRACE" != % ]]
}

# Writes the meta file of the record with stem $1: what called curl, how.
write_meta() {
	local stem="$1" kind="$2" arg args=""
	shift 2
	for arg in "$@"; do
		args+=" ${arg:0:200}"
	done
	{
		echo "source=curl"
		echo "kind=$kind"
		echo "file=$(basename "${BATS_TEST_FILENAME:-unknown}" .bats)"
		echo "test=${BATS_TEST_NAME:-setup or teardown}"
		echo "stops_at_errors=${STOPS_AT_ERRORS:-no}"
		echo "args=${args# }"
	} >"$stem.meta.tmp"
	mv "$stem.meta.tmp" "$stem.meta"
}

# Succeeds when trace $1 holds an answer worth keeping: a status line of 400
# or more (the first line of a received header, whose text column starts
# after 16 hex bytes), or anything received over telnet://.
worth_keeping() {
	local trace="$1"
	shift
	grep -qE '^0000: .{48}HTTP/[0-9.]+ [45][0-9][0-9]' "$trace" && return 0
	[[ " $* " == *" telnet://"* ]] && grep -q '^<= Recv data' "$trace"
}

main() {
	local stem trace status=0
	local -a pdeathsig=() options=()
	if [[ -z "${ERROR_BODIES_DIR:-}" || ! -d "$SUITE_DIR" ]]; then
		exec -a curl "$REAL_CURL" "$@"
	fi
	stem="$SUITE_DIR/$$.${EPOCHREALTIME/./}"
	if ! read_trace_options "$@"; then
		write_meta "$stem" blind "$@"
		exec -a curl "$REAL_CURL" "$@"
	fi
	trace="$CALLER_TRACE"
	if [[ -z "$trace" ]]; then
		trace="$stem.trace"
		options=(--trace "$trace")
	fi
	if command -v setpriv >/dev/null; then pdeathsig=(setpriv --pdeathsig TERM --); fi
	"${pdeathsig[@]}" "$REAL_CURL" "${options[@]}" "$@" || status=$?
	if [[ -f "$trace" ]] && worth_keeping "$trace" "$@"; then
		[[ "$trace" == "$stem.trace" ]] || cp "$trace" "$stem.trace"
		write_meta "$stem" traced "$@"
	else
		rm -f "$stem.trace"
	fi
	exit "$status"
}

main "$@"
