#!/usr/bin/env bats
# Fuzzing: the code that reads untrusted bytes (the query's amount and the
# Accept header), and the reader of the deposit function's replies, run under
# libFuzzer with AddressSanitizer and UBSan, each
# harness also checking the parser's promises (tests/fuzz/fuzz_*.c). CI runs
# a bounded slice, FUZZ_SECONDS per target (default 30); `make fuzz` runs
# longer. New inputs go to this suite's temporary directory, so the
# committed seeds in tests/fuzz/corpus/ never change. Needs `make fuzz-build`.

bats_load_library bats-support
bats_load_library bats-assert
load lib/common

# Fuzzes target $1 for FUZZ_SECONDS and shows the executions on the TAP.
fuzz() {
	run env FUZZ_SECONDS="${FUZZ_SECONDS:-30}" \
		FUZZ_CORPUS_DIR="$BATS_FILE_TMPDIR/corpus" \
		FUZZ_ARTIFACTS_DIR="$BATS_FILE_TMPDIR/artifacts" \
		"$REPO_DIR/scripts/fuzz.sh" "$1"
	printf '# %s\n' "${lines[@]:0:5}" >&3
	assert_success
	assert_output --regexp "^fuzz_$1: [1-9][0-9]* executions in [0-9]+ s, 0 crashes$"
}

@test "the amount parser survives fuzzing under ASan and UBSan and keeps its promises" {
	fuzz amount
}

@test "the Accept header parser survives fuzzing under ASan and UBSan and keeps its promises" {
	fuzz accept
}

@test "the deposit function's reply reader counts a deposit only for a reply that says so; any other shape leaves it unknown" {
	fuzz deposit
}
