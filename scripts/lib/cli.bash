# scripts/lib/cli.bash: how the scripts users run talk to them: --help from
# the script's own header, what was done, clear refusals, and an explicit
# confirmation before anything that cannot be undone. Sourced by scripts
# that set PROGRAM first (it starts every message).

# Prints the header comment of script $2 (line 2 up to `set -euo pipefail`)
# without its "# ", so the help and the source cannot drift apart, and exits
# with status $1: on stdout when asked for (0), on stderr when misused.
usage_exit() {
	local status="$1" script="$2" text
	text="$(sed -n '2,/^set -euo pipefail/{/^set -euo pipefail/d; s/^# \{0,1\}//; p}' "$script")"
	if [[ "$status" -eq 0 ]]; then
		printf '%s\n' "$text"
	else
		printf '%s\n' "$text" >&2
	fi
	exit "$status"
}

# Refuses command-line argument $1 and shows the script's usage, on stderr
# with status 2 (every script that parses arguments defines usage).
unknown_argument() {
	echo "$PROGRAM: unknown argument: $1" >&2
	usage 2
}

# Says what the script did or found.
say() {
	echo "$PROGRAM: $*"
}

# Prints the message on stderr and exits 1.
die() {
	echo "$PROGRAM: $*" >&2
	exit 1
}

# Goes on only after an explicit confirmation: CONFIRM=$1 in the
# environment, or $1 typed at the prompt on a terminal. $2 says what would
# be lost ("deletes ..."). Without either it refuses, and nothing is changed.
confirm() {
	local word="$1" what="$2" answer=""
	if [[ -n "${CONFIRM:-}" ]]; then
		[[ "$CONFIRM" == "$word" ]] ||
			die "CONFIRM=$CONFIRM is not the confirmation; this $what." \
				"Confirm with CONFIRM=$word. Nothing was changed."
		return 0
	fi
	if [[ -t 0 ]]; then
		echo "$PROGRAM: this $what." >&2
		read -r -p "Type $word to go on: " answer || true
		[[ "$answer" == "$word" ]] || die "not confirmed. Nothing was changed."
		return 0
	fi
	die "this $what. Confirm with CONFIRM=$word (or run it on a terminal)." \
		"Nothing was changed."
}
