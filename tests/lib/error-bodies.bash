# error-bodies.bash: records every error answer (status 400 and up) a suite
# receives, so that tests/error-bodies.bats can check every error body the
# suites produce. lib/common.bash loads it, so every suite records.
#
# The collection lives in ERROR_BODIES_DIR (default .cache/error-bodies),
# one directory per suite (ERROR_BODIES_SUITE: tests/run.sh's name of the
# suite, or the bats file's name when a file is run alone). tests/run.sh
# empties the collection at the start of a run; a bats file run alone
# replaces its own suite's directory only. A suite's directory holds:
#   ran          the bats file that ran ("file=http"), written at once, so a
#                suite that recorded nothing still shows it ran
#   ports        "ROLE PORT" of each server the suite started
#   STEM.meta    what a record is: source=curl|raw|cgi|node, file=, test=
#                (bats' encoded test name), and more per source
#   STEM.trace   curl's --trace of a call that received an error answer
#                (an error after curl --fail has no body: curl stops reading,
#                and the check counts it as unread, not as a body)
#   STEM.request, STEM.reply   the bytes a raw client sent and received
# Clients:
# - curl, however it is called (directly, from xargs or bash -c, with -K):
#   PATH starts with a directory whose curl is tests/lib/record-curl.sh,
#   which runs the real curl with --trace and keeps the trace when an answer
#   was an error. curl -v hides the body from it, so such a call is kept as
#   "blind" and fails the check: use --trace-ascii FILE instead.
# - raw clients (openssl s_client, /dev/tcp): error_bodies_record_raw.
# - programs run by hand (cgi.bats): error_bodies_record_cgi.
# - node (tests/lib/flood.js): writes records itself, from the same variables.
# tests/lib/error-bodies.js reads the collection back. Outside bats (scripts
# that use these libraries, such as scripts/stack.sh) nothing is recorded.

# Sets up the collection for this suite and puts the recording curl first on
# PATH. Runs once per bats process (setup_file's and each test's).
error_bodies_setup() {
	[[ -n "${BATS_TEST_FILENAME:-}" ]] || return 0
	local suite_dir
	ERROR_BODIES_DIR="${ERROR_BODIES_DIR:-$REPO_DIR/.cache/error-bodies}"
	if [[ -z "${ERROR_BODIES_SUITE:-}" ]]; then
		ERROR_BODIES_SUITE="$(basename "${BATS_TEST_FILENAME:-unknown}" .bats)"
	fi
	suite_dir="$ERROR_BODIES_DIR/$ERROR_BODIES_SUITE"
	# Alone (not under tests/run.sh), the first process of this bats run
	# replaces what an earlier run of the same suite left.
	if [[ -z "${ERROR_BODIES_RUN:-}" && -n "${BATS_RUN_TMPDIR:-}" &&
		! -e "$BATS_RUN_TMPDIR/error-bodies-$ERROR_BODIES_SUITE" ]]; then
		rm -rf "$suite_dir"
		: >"$BATS_RUN_TMPDIR/error-bodies-$ERROR_BODIES_SUITE"
	fi
	mkdir -p "$suite_dir" "$ERROR_BODIES_DIR/bin"
	[[ -s "$suite_dir/ran" ]] ||
		echo "file=$(basename "${BATS_TEST_FILENAME:-unknown}" .bats)" >"$suite_dir/ran"
	# The real curl: the first on PATH but the recording one.
	if [[ -z "${ERROR_BODIES_CURL:-}" ]]; then
		local path=":$PATH:"
		path="${path//:$ERROR_BODIES_DIR\/bin:/:}"
		ERROR_BODIES_CURL="$(PATH="${path:1:-1}" command -v curl || echo /usr/bin/curl)"
	fi
	[[ -L "$ERROR_BODIES_DIR/bin/curl" ]] ||
		ln -sfn "$REPO_DIR/tests/lib/record-curl.sh" "$ERROR_BODIES_DIR/bin/curl"
	[[ ":$PATH:" == *":$ERROR_BODIES_DIR/bin:"* ]] || PATH="$ERROR_BODIES_DIR/bin:$PATH"
	ERROR_BODIES_ON=1
	export ERROR_BODIES_DIR ERROR_BODIES_SUITE ERROR_BODIES_CURL PATH
}

# Prints a new record stem in this suite's directory: unique, because no two
# live processes share a pid and the clock moves on.
error_bodies_stem() {
	echo "$ERROR_BODIES_DIR/$ERROR_BODIES_SUITE/$BASHPID.${EPOCHREALTIME/./}"
}

# Writes the meta file of record $1 (a stem): source $2, then the test that
# made it, then the "key=value" lines that follow.
error_bodies_meta() {
	local stem="$1" source="$2"
	shift 2
	{
		echo "source=$source"
		echo "file=$(basename "${BATS_TEST_FILENAME:-unknown}" .bats)"
		echo "test=${BATS_TEST_NAME:-setup or teardown}"
		printf '%s\n' "$@"
	} >"$stem.meta.tmp" && mv "$stem.meta.tmp" "$stem.meta"
}

# Records what a raw client ($1 names it: openssl, tcp...) sent ($2, with
# printf %b escapes) and received (the file $3), whatever the status: the
# checker reads the answers out of the bytes.
error_bodies_record_raw() {
	local client="$1" request="$2" reply="$3" stem
	[[ -n "${ERROR_BODIES_ON:-}" ]] || return 0
	stem="$(error_bodies_stem)"
	printf '%b' "$request" >"$stem.request"
	cp "$reply" "$stem.reply"
	error_bodies_meta "$stem" raw "client=$client"
}

# Records the output $1 of a program run by hand (a CGI response: Status
# line, headers, body) when its status is 400 or more.
error_bodies_record_cgi() {
	local output="$1" stem
	[[ -n "${ERROR_BODIES_ON:-}" ]] || return 0
	[[ "$output" =~ ^Status:\ [45][0-9][0-9] ]] || return 0
	stem="$(error_bodies_stem)"
	printf '%s' "$output" >"$stem.reply"
	error_bodies_meta "$stem" cgi
}

# Notes that the suite started a server of role $1 (redis, backend, front)
# on port $2, so that the check can look for its port in the bodies.
error_bodies_note_port() {
	[[ -n "${ERROR_BODIES_ON:-}" ]] || return 0
	echo "$1 $2" >>"$ERROR_BODIES_DIR/$ERROR_BODIES_SUITE/ports"
}

# Succeeds when process $1 is a curl: the real one, or the recording curl
# (which runs as "bash .../curl ...") that runs it.
error_bodies_is_curl() {
	local -a argv
	mapfile -d '' -t argv <"/proc/$1/cmdline" 2>/dev/null || return 1
	[[ ${#argv[@]} -gt 0 ]] || return 1
	[[ "$(basename "${argv[0]}")" == curl || "${argv[1]:-}" == */bin/curl ]]
}

error_bodies_setup
