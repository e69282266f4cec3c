#!/usr/bin/env bash
# `make fuzz`: runs the libFuzzer harnesses of tests/fuzz/ (built by
# `make fuzz-build` into build/fuzz/, with ASan and UBSan), each for
# FUZZ_SECONDS (default 60), starting from the committed seeds in
# tests/fuzz/corpus/TARGET. New inputs go to FUZZ_CORPUS_DIR/TARGET (default
# the git-ignored .cache/fuzz/corpus), crash inputs to FUZZ_ARTIFACTS_DIR
# (default .cache/fuzz/artifacts). Prints one line per target:
#   fuzz_TARGET: N executions in S s, C crashes
# and fails when any target crashed or broke a promise.
#   scripts/fuzz.sh [TARGET...]    (default: amount accept deposit)
set -euo pipefail
# shellcheck source=scripts/lib/cli.bash
source "$(dirname "${BASH_SOURCE[0]}")/lib/cli.bash"
[[ "${1:-}" != --help ]] || usage_exit 0 "${BASH_SOURCE[0]}"

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
FUZZ_CORPUS_DIR="${FUZZ_CORPUS_DIR:-$REPO_DIR/.cache/fuzz/corpus}"
FUZZ_ARTIFACTS_DIR="${FUZZ_ARTIFACTS_DIR:-$REPO_DIR/.cache/fuzz/artifacts}"
FUZZ_BUILD="${FUZZ_BUILD:-$REPO_DIR/build/fuzz}"

# Runs the harness of target $1 and prints its summary line; fails when it
# crashed. libFuzzer's own output goes to FUZZ_ARTIFACTS_DIR/TARGET.log.
fuzz_target() {
	local target="$1" log status=0 runs
	local harness="$FUZZ_BUILD/fuzz_$target"
	if [[ ! -x "$harness" ]]; then
		echo "fuzz.sh: no $harness; run 'make fuzz-build' first" >&2
		return 2
	fi
	mkdir -p "$FUZZ_CORPUS_DIR/$target" "$FUZZ_ARTIFACTS_DIR"
	log="$FUZZ_ARTIFACTS_DIR/$target.log"
	"$harness" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 \
		-timeout=5 -rss_limit_mb=1024 -max_len=4096 \
		-dict="$REPO_DIR/tests/fuzz/$target.dict" \
		-artifact_prefix="$FUZZ_ARTIFACTS_DIR/$target-" \
		"$FUZZ_CORPUS_DIR/$target" "$REPO_DIR/tests/fuzz/corpus/$target" \
		>"$log" 2>&1 || status=$?
	if ((status != 0)); then
		echo "fuzz_$target: 1 crash; the input and the log are in $FUZZ_ARTIFACTS_DIR"
		grep -E 'ERROR|broken promise|runtime error|Test unit written' "$log" >&2 || tail -20 "$log" >&2
		return 1
	fi
	runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
	echo "fuzz_$target: ${runs:-0} executions in $FUZZ_SECONDS s, 0 crashes"
}

main() {
	local target failed=0
	[[ $# -gt 0 ]] || set -- amount accept deposit
	for target in "$@"; do
		fuzz_target "$target" || failed=1
	done
	return "$failed"
}

main "$@"
