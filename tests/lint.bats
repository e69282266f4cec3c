#!/usr/bin/env bats
# Static checks that keep the code to its rules: shell scripts shellcheck
# clean and strict, C built with every warning as an error.

bats_load_library bats-support
bats_load_library bats-assert
load lib/common

# Prints the project's shell files that git knows, or that are new.
shell_files() {
	cd "$REPO_DIR" && git ls-files --cached --others --exclude-standard \
		'*.sh' '*.bash' '*.bats' .ci/run
}

@test "every shell script is shellcheck clean" {
	cd "$REPO_DIR"
	run bash -c 'git ls-files --cached --others --exclude-standard "*.sh" "*.bash" "*.bats" .ci/run |
		xargs shellcheck -s bash -x'
	assert_success
}

@test "every executable script sets -euo pipefail" {
	local file missing=()
	while read -r file; do
		[[ "$file" == *.sh || "$file" == .ci/run ]] || continue
		grep -q '^set -euo pipefail' "$REPO_DIR/$file" || missing+=("$file")
	done < <(shell_files)
	assert_equal "${missing[*]}" ""
}

@test "the C sources build as C11 with -Wall -Wextra -Werror under gcc and clang" {
	local compiler
	for compiler in gcc clang; do
		run make -s -C "$REPO_DIR" BUILD="$BATS_TEST_TMPDIR/$compiler" CC="$compiler" build
		assert_success
	done
}
