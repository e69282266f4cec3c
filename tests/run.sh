#!/usr/bin/env bash
# Runs every test suite and ends with one line: "N passed, N failed, N skipped".
# Each suite is one bats file run with some settings; the same contract file
# runs against several builds, modes and targets. Usage: tests/run.sh [NAME...]
# runs only the named suites.
#
# IN=debian13 runs the suite's bats inside a Debian 13 container
# (tests/in-debian13.sh), as on a Debian 13 host. A test that prints
# "# expected failure: REASON" (to fd 3) and then fails is counted as an
# expected failure, not a failure, and shown as "not ok ... # TODO REASON";
# if it passes instead, that is a failure: the reason is gone, so is the mark.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# name|settings|file: one row per suite, in the order they run.
readonly SUITES='lint||lint.bats
cgi|APP_DIR=build|cgi.bats
cgi-valgrind|APP_DIR=build/dynamic CGI_RUNNER=valgrind|cgi.bats
cgi-sanitize|APP_DIR=build/sanitize|cgi.bats
connections|APP_DIR=build|connections.bats
deps||deps.bats
http-cgi|BACKEND_MODE=cgi APP_DIR=build|http.bats
http-cgi-sanitize|BACKEND_MODE=cgi APP_DIR=build/sanitize|http.bats
http-fastcgi|BACKEND_MODE=fastcgi APP_DIR=build|http.bats
http-fastcgi-sanitize|BACKEND_MODE=fastcgi APP_DIR=build/sanitize|http.bats
failures-cgi|BACKEND_MODE=cgi APP_DIR=build|failures.bats
failures-cgi-sanitize|BACKEND_MODE=cgi APP_DIR=build/sanitize|failures.bats
failures-fastcgi|BACKEND_MODE=fastcgi APP_DIR=build|failures.bats
launcher|APP_DIR=build|launcher.bats
resolver-cgi|BACKEND_MODE=cgi APP_DIR=build|resolver.bats
resolver-fastcgi|BACKEND_MODE=fastcgi APP_DIR=build|resolver.bats
overload-cgi|BACKEND_MODE=cgi APP_DIR=build|overload.bats
overload-fastcgi|BACKEND_MODE=fastcgi APP_DIR=build|overload.bats
k8s||k8s.bats
ops||ops.bats
backup||backup.bats
rotate||rotate.bats
make||make.bats
docs||docs.bats
container-http-cgi|TARGET=container BACKEND_MODE=cgi|http.bats
container-http-fastcgi|TARGET=container BACKEND_MODE=fastcgi|http.bats
container|TARGET=container|container.bats
image|TARGET=container|image.bats
leak-host|APP_DIR=build|leak.bats
leak-container|TARGET=container|leak.bats
debian13-deps|IN=debian13|deps.bats
debian13-cgi|IN=debian13 APP_DIR=build|cgi.bats
debian13-http-cgi|IN=debian13 BACKEND_MODE=cgi APP_DIR=build|http.bats
debian13-http-fastcgi|IN=debian13 BACKEND_MODE=fastcgi APP_DIR=build|http.bats
debian13-failures-cgi|IN=debian13 BACKEND_MODE=cgi APP_DIR=build|failures.bats
http-kube|TARGET=kube BACKEND_MODE=cgi|http.bats
http-kube-fastcgi|TARGET=kube BACKEND_MODE=fastcgi|http.bats
kube|TARGET=kube|kube.bats
idempotency-cgi|BACKEND_MODE=cgi APP_DIR=build|idempotency.bats
idempotency-fastcgi|BACKEND_MODE=fastcgi APP_DIR=build|idempotency.bats
idempotency-cgi-sanitize|BACKEND_MODE=cgi APP_DIR=build/sanitize|idempotency.bats
security-cgi|BACKEND_MODE=cgi APP_DIR=build|security.bats
security-fastcgi|BACKEND_MODE=fastcgi APP_DIR=build|security.bats
faults-cgi|BACKEND_MODE=cgi APP_DIR=build|faults.bats
faults-fastcgi|BACKEND_MODE=fastcgi APP_DIR=build|faults.bats
faults-cgi-sanitize|BACKEND_MODE=cgi APP_DIR=build/sanitize|faults.bats
front|BACKEND_MODE=cgi APP_DIR=build|front.bats
reliability-cgi|BACKEND_MODE=cgi APP_DIR=build|reliability.bats
reliability-fastcgi|BACKEND_MODE=fastcgi APP_DIR=build|reliability.bats
fuzz||fuzz.bats
error-bodies||error-bodies.bats'

PASSED=0
FAILED=0
SKIPPED=0
# "[suite] test: reason" of each expected failure, for the report.
EXPECTED_FAILURES=()

# Counts the result line $2 of a test of suite $1 and sets LINE to the line to
# print. $3 is the reason of an expected failure that the test announced, or "".
count_result() {
	local name="$1" expected="$3"
	LINE="$2"
	if [[ -n "$expected" && "$LINE" == "not ok "* ]]; then
		EXPECTED_FAILURES+=("[$name] ${LINE#not ok * }: $expected")
		LINE="$LINE # TODO expected failure: $expected"
	elif [[ -n "$expected" ]]; then
		FAILED=$((FAILED + 1))
		LINE="not $LINE # passed, though it announced an expected failure ($expected): drop the mark"
	elif [[ "$LINE" == "not ok "* ]]; then
		FAILED=$((FAILED + 1))
	elif [[ "$LINE" == *"# skip"* ]]; then
		SKIPPED=$((SKIPPED + 1))
	else
		PASSED=$((PASSED + 1))
	fi
}

# Every error answer a suite receives is recorded here, in a directory per
# suite (tests/lib/error-bodies.bash), and error-bodies, the last suite,
# checks them all. Each run starts with an empty collection.
ERROR_BODIES_DIR="$REPO_DIR/.cache/error-bodies"

# Runs one suite, prefixes its TAP lines with the suite name, and counts them.
run_suite() {
	local name="$1" settings="$2" file="$3" line not_ok=0 expected=""
	local -a env_settings runner=()
	read -r -a env_settings <<<"$settings"
	# Given on bats' command line, so that they reach inside a container too.
	env_settings+=("ERROR_BODIES_DIR=$ERROR_BODIES_DIR" "ERROR_BODIES_SUITE=$name" ERROR_BODIES_RUN=1)
	if [[ " $settings " == *" IN=debian13 "* ]]; then runner=("$REPO_DIR/tests/in-debian13.sh"); fi
	echo "# suite $name: $settings bats tests/$file"
	while IFS= read -r line; do
		case "$line" in
		"# expected failure: "*) expected="${line#"# expected failure: "}" ;;
		"ok "* | "not ok "*)
			[[ "$line" != "not ok "* ]] || not_ok=$((not_ok + 1))
			count_result "$name" "$line" "$expected"
			line="$LINE" expected=""
			;;
		"# bats exit status "*)
			# bats failing outside any test (say, in setup_file) is a failure too.
			if [[ "${line##* }" != 0 && "$not_ok" -eq 0 ]]; then
				FAILED=$((FAILED + 1))
				line="not ok 0 [$name] bats exited with status ${line##* }"
			else
				continue
			fi
			;;
		esac
		if [[ "$line" =~ ^(not\ ok|ok)\ ([0-9]+)\ (.*)$ ]]; then
			line="${BASH_REMATCH[1]} ${BASH_REMATCH[2]} [$name] ${BASH_REMATCH[3]}"
		fi
		printf '%s\n' "$line"
	done < <(cd "$REPO_DIR" && "${runner[@]}" env "${env_settings[@]/#APP_DIR=/APP_DIR=$REPO_DIR/}" \
		bats --tap "tests/$file" 2>&1; echo "# bats exit status $?")
}

# Suites with TARGET=container (or TARGET=kube: k8s/ pod specs under podman kube
# play, or IN=debian13) need a container engine and the image, which
# tests/container-suites.sh checks and builds once for the run. With no engine
# at all they are skipped (one message), except in CI, where they must run.
CONTAINER_STATUS=""
container_suites_ready() {
	local name="$1"
	if [[ -z "$CONTAINER_STATUS" ]]; then
		CONTAINER_STATUS=0
		"$REPO_DIR/tests/container-suites.sh" || CONTAINER_STATUS=$?
		if [[ "$CONTAINER_STATUS" -eq 0 ]]; then export BACKEND_IMAGE_BUILT=1; fi
	fi
	[[ "$CONTAINER_STATUS" -eq 0 ]] && return 0
	if [[ "$CONTAINER_STATUS" -eq 3 && "${CI:-}" != true ]]; then
		SKIPPED=$((SKIPPED + 1))
		echo "ok 0 [$name] # skip no container engine"
	else
		FAILED=$((FAILED + 1))
		echo "not ok 0 [$name] the container suite could not run (see above)"
	fi
	return 1
}

main() {
	local name settings file
	rm -rf "$ERROR_BODIES_DIR"
	mkdir -p "$ERROR_BODIES_DIR"
	export ERROR_BODIES_DIR
	while IFS='|' read -r name settings file; do
		if [[ $# -gt 0 && ! " $* " == *" $name "* ]]; then
			continue
		fi
		if [[ "$settings" == *TARGET=container* || "$settings" == *TARGET=kube* ||
			"$settings" == *IN=debian13* ]] && ! container_suites_ready "$name"; then
			continue
		fi
		run_suite "$name" "$settings" "$file"
	done <<<"$SUITES"
	if [[ ${#EXPECTED_FAILURES[@]} -gt 0 ]]; then
		echo "# ${#EXPECTED_FAILURES[@]} expected failure(s), counted neither passed nor failed:"
		printf '#   %s\n' "${EXPECTED_FAILURES[@]}"
	fi
	echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
	[[ "$FAILED" -eq 0 ]]
}

main "$@"
