#!/usr/bin/env bats
# Every error body the suites produced: what they received with a status of
# 400 or more, from the programs, lighttpd and the stack's nginx front,
# recorded while they ran (tests/lib/error-bodies.bash) and read back by
# tests/lib/error-bodies.js. Public error bodies tell the client what to do,
# and never name configuration variables, keys or hosts: those go to the log.
# tests/run.sh runs this suite last, over the run's collection. Run alone it
# checks what the suites last run left in .cache/error-bodies; the statuses it
# requires are those of the suites found there.

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
load lib/common
load lib/stack

CHECKER="$REPO_DIR/tests/lib/error-bodies.js"

# "FILE STATUS CLIENT": an error answer each suite file is known to receive
# through that client (curl, cgi: programs run by hand, openssl and tcp: raw
# clients of lib/hostile.bash, node: lib/flood.js). Every row of a file that
# ran must be in the collection with its body (an error curl --fail stopped
# reading counts for nothing), so a collector that stopped recording fails.
# Each row comes from a test that asserts that status, so none is by chance.
readonly EXPECTED='cgi 400 cgi
cgi 409 cgi
cgi 500 cgi
cgi 503 cgi
http 400 curl
http 404 curl
http 405 curl
http 409 curl
http 411 curl
http 413 curl
http 431 curl
failures 503 curl
failures 504 curl
faults 500 curl
faults 503 curl
faults 504 curl
idempotency 400 curl
idempotency 422 curl
overload 504 node
front 400 openssl
front 404 curl
front 413 curl
front 414 curl
front 429 curl
front 502 curl
front 505 openssl
reliability 400 openssl
reliability 405 openssl
reliability 413 curl
reliability 414 curl'

# "RULE|MESSAGE": the programs' own bodies known to break a rule, one a
# line; none today. A listed body makes its rule an expected failure, while
# any other problem still fails it; a listed body that a program sends
# without the problem fails too, so that the list stays short. Keep it empty:
# fix the body (cgi-bin/) instead, unless the fix must wait for a branch.
readonly KNOWN_PROGRAM_PROBLEMS=''

# Reads the collection once for every test.
setup_file() {
	export ANSWERS="$BATS_FILE_TMPDIR/answers.json"
	node "$CHECKER" answers "$ERROR_BODIES_DIR" >"$ANSWERS"
}

# Prints what the collection holds, as "FILE STATUS CLIENT" lines, and the
# suites that ran, as "ran FILE" lines (this suite excluded).
collected() {
	node "$CHECKER" found "$ANSWERS" error-bodies
}

# Runs rule $1 over the lines on stdin (none: over the collection) and fails
# for every problem, except the programs' problems KNOWN_PROGRAM_PROBLEMS
# lists, which make it an expected failure instead.
assert_rule() {
	local rule="$1" from="${2:-$ANSWERS}" known new stale
	run --separate-stderr node "$CHECKER" "$rule" "$from" <(printf '%s\n' "$KNOWN_PROGRAM_PROBLEMS")
	assert_success
	new="$(sed -n 's/^new //p' <<<"$output")"
	stale="$(sed -n 's/^stale //p' <<<"$output")"
	known="$(sed -n 's/^known //p' <<<"$output")"
	[[ -z "$new$stale" ]] || fail "$(printf 'rule %s:\n%s\n%s' "$rule" "$new" "${stale:+listed as known, but no longer a problem: drop it:
$stale}")"
	if [[ -n "$known" ]]; then
		echo "# expected failure: $(wc -l <<<"$known") body(ies) of the programs break rule $rule (listed in KNOWN_PROGRAM_PROBLEMS)" >&3
		fail "$known"
	fi
}

@test "the collection holds the error answers of every suite that ran, each status they are known to receive among them, and no call it could not see" {
	local collection row file missing=() blind
	collection="$(collected)"
	grep -q '^ran ' <<<"$collection" ||
		fail "no suite recorded anything in $ERROR_BODIES_DIR: run the suites first (make test, or bats tests/FILE.bats)"
	while read -r row; do
		file="${row%% *}"
		grep -qx "ran $file" <<<"$collection" || continue
		grep -qx "$row" <<<"$collection" || missing+=("$row")
	done <<<"$EXPECTED"
	[[ ${#missing[@]} -eq 0 ]] ||
		fail "$(printf 'these suites ran, yet the collection lacks what they are known to receive (FILE STATUS CLIENT):\n'; printf '  %s\n' "${missing[@]}")"
	blind="$(node "$CHECKER" blind "$ANSWERS")"
	[[ -z "$blind" ]] ||
		fail "$(printf 'curl -v or --trace-ascii hides the answers from the collection; use --trace FILE instead:\n%s' "$blind")"
}

@test "every error body is a JSON {\"error\":\"...\"} sent as application/json; an answer to HEAD has none" {
	assert_rule shape
}

@test "no error body names an internal component, a configuration variable, a Redis key, a host, an address or port, a file path or a version" {
	assert_rule secrets
}

@test "every error body tells the client what to do" {
	assert_rule advice
}

# Prints the nginx configuration of a stack's front, from placeholder ports:
# nothing is started.
front_config() {
	local dir="$BATS_TEST_TMPDIR/stack" backend
	mkdir -p "$dir/front"
	free_port >"$dir/front/https_port"
	free_port >"$dir/front/http_port"
	while read -r backend; do
		mkdir -p "$backend"
		free_port >"$backend/port"
	done < <(stack_backend_dirs "$dir")
	stack_front_config "$dir"
}

# Prints "STATUS BODY" for every page lighttpd (scripts/lib/gen-error-pages.sh)
# and the front (the front's configuration: each return of an error, and
# the messages of its 429, whose return only names them) send for an error
# they make themselves.
own_pages() {
	local dir="$BATS_TEST_TMPDIR/pages" file status
	"$REPO_DIR/scripts/lib/gen-error-pages.sh" "$dir"
	for file in "$dir"/status-*.html; do
		status="${file##*status-}"
		printf '%s %s\n' "${status%.html}" "$(cat "$file")"
	done
	front_config | grep -v "return [45][0-9][0-9] '.*\\\$" | sed -n \
		-e "s/.*return \([45][0-9][0-9]\) '\(.*\)';.*/\1 \2/p" \
		-e "s/^[[:space:]]*\(REJECTED\|default\) '\(.*\)';$/429 {\"error\":\"\2\"}/p"
}

# Prints the statuses nginx has a built-in page for, read from the nginx
# binary itself (its pages' titles). 494 to 497 have pages titled 400,
# told apart by their text.
nginx_page_statuses() {
	grep -ao '<title>[45][0-9][0-9] [^<]*</title>' "$(command -v nginx)" | sort -u |
		sed -e 's/<title>//' -e 's/<\/title>//' | while read -r status text; do
			case "$text" in
			"Request Header Or Cookie Too Large") echo 494 ;;
			"The SSL certificate error") echo 495 ;;
			"No required SSL certificate was sent") echo 496 ;;
			"The plain HTTP request was sent to HTTPS port") echo 497 ;;
			*) echo "$status" ;;
			esac
		done | sort -u
}

@test "every page lighttpd and the front send for their own errors meets the rules, those no suite provokes included" {
	local pages rule problems=""
	pages="$(own_pages | sort -u)"
	[[ "$(wc -l <<<"$pages")" -ge 15 ]] || fail "too few pages found: $pages"
	for rule in shape secrets advice; do
		run --separate-stderr node "$CHECKER" "$rule" - <<<"$pages"
		assert_success
		problems+="${output:+rule $rule:$'\n'$output$'\n'}"
	done
	[[ -z "$problems" ]] || fail "$problems"
}

@test "the front has a JSON page for every error status nginx has an HTML page for, in every server block" {
	local statuses block status missing=()
	statuses="$(nginx_page_statuses)"
	[[ "$statuses" == *413* && "$statuses" == *502* ]] || fail "no pages found in the nginx binary: $statuses"
	# One line per server block: its error_page statuses, and whether it limits.
	while read -r block; do
		for status in $statuses; do
			[[ "$status" != 429 || "$block" == *limit_req* ]] || continue
			[[ " $block " == *" error_page $status "* ]] || missing+=("$status in: ${block:0:80}")
		done
	done < <(front_config | awk '
		/^server \{/ { if (b != "") print b; b = "server" }
		b != "" && /error_page [0-9]+ / { b = b " error_page " $2 }
		b != "" && /limit_req / { b = b " limit_req" }
		b != "" && /listen / { b = b " " $0 }
		END { print b }')
	[[ ${#missing[@]} -eq 0 ]] || fail "$(printf 'no error_page for:\n'; printf '  %s\n' "${missing[@]}")"
}
