#!/usr/bin/env bats
# The docs, tested as a reader uses them: README.md and docs/*.md.
#
# How to mark a fenced code block. The word after ```sh is the block's mark;
# more words may follow it, as a comment (say why a block is not run):
#
#   ```sh          Runnable. The suite runs the block as written, with bash
#                  (-e -o pipefail), from the clone's root, once the file's
#                  server blocks serve. Every command must succeed, no HTTP
#                  answer may be a 5xx (what curl receives, or a "Status:"
#                  line a CGI prints), and a line whose comment starts with
#                  a status code (`curl ... # 204`) must get exactly that
#                  status. One command a line (a trailing \ continues it),
#                  no heredocs. Use it for the API curls, the manual CGI
#                  invocations, `make help`, a script's --help.
#   ```sh server   One foreground command that serves, e.g. `make run`. The
#                  suite starts it in the background, waits until every
#                  loopback port the file's runnable blocks name
#                  (127.0.0.1:PORT or localhost:PORT) listens, runs them,
#                  then stops it with SIGINT, as Ctrl-C does.
#   ```sh cluster  Needs a Kubernetes cluster, or sets one up. Not run.
#   ```sh no-run   Runs on one machine, but not in this suite: it takes
#                  minutes (make test, make image, make fuzz), needs a
#                  server the file does not start, or changes the machine.
#                  Not run.
# Every shell block (sh, bash, shell), run or not, has its commands checked:
# `make TARGET` names a target of the Makefile, a program given as a path is
# an executable of the clone, and any other program is installed here (or
# is minikube, kubectl, skaffold or docker). Another mark after sh fails the
# suite, so that a typo cannot hide a block. Blocks in other languages
# (text, yaml, console, none) are not shell and are left alone.
#
# Each file's blocks run in a network and mount namespace of their own, with
# fresh, empty data/ and .cache/ mounted over the clone's: the ports the
# docs name (8080, 6379...) are free there, the total starts at 0, and the
# reader's own data/ is never touched. It needs root (unshare).
#
# Besides the blocks, every name the docs use must exist:
#   - `make TARGET` in code (blocks and inline spans): a Makefile target;
#   - paths under scripts/, tests/, .ci/, docs/, k8s/ and cgi-bin/, anywhere
#     in the text, and relative links: in the clone (or git-ignored, such as
#     k8s/secrets/, which scripts make);
#   - environment variables: NAME=value and $NAME in code, and the first
#     column of a table whose header cell is "variable", must be read or set
#     by the code (not counting variables a block assigns on a line of its
#     own, like KEY=..., nor HOME, PATH...); any other NAME_WITH_UNDERSCORE
#     in an inline span must appear in the code.
# And every script in scripts/ answers --help with its usage (exit 0),
# except those listed in SCRIPTS_WITHOUT_HELP below.

bats_load_library bats-support
bats_load_library bats-assert
load lib/common
load lib/netns
load lib/docs

# Scripts that do not answer --help yet: given --help, each would act, so
# the suite runs none of them. Empty: every script users run answers it
# (those only other scripts call are in scripts/lib/, and not run here). A
# script listed here must not mention --help; the test says when it does.
SCRIPTS_WITHOUT_HELP=""

setup_file() {
	local file
	export DOCS_WORK="$BATS_FILE_TMPDIR/docs"
	for file in $(docs_files); do
		docs_extract "$file" "$DOCS_WORK/$file/blocks"
	done
}

teardown() {
	docs_stop_all_below "$BATS_TEST_TMPDIR"
	docs_stop_all_below "$DOCS_WORK"
}

# Needs root for the namespaces the runnable blocks run in.
require_namespaces() {
	[[ "$(id -u)" -eq 0 ]] || skip "runs the docs in a network namespace, which needs root"
}

@test "every shell block of README.md and docs/ is marked runnable, server, cluster or no-run, and a server block holds one command" {
	local file
	for file in $(docs_files); do
		docs_check_marks "$file" "$DOCS_WORK/$file/blocks"
	done >"$BATS_TEST_TMPDIR/failures"
	run cat "$BATS_TEST_TMPDIR/failures"
	assert_output ""
}

@test "the runnable blocks run as written against the file's server, answer no 5xx, and get the statuses their comments name" {
	require_namespaces
	local file total=0
	for file in $(docs_files); do
		docs_run_file "$file" "$DOCS_WORK/$file" >"$BATS_TEST_TMPDIR/run"
		grep -v '^ran ' "$BATS_TEST_TMPDIR/run" >>"$BATS_TEST_TMPDIR/failures" || true
		echo "# $file: $(tail -n 1 "$BATS_TEST_TMPDIR/run")" >&3
		total=$((total + $(sed -n 's/^ran \([0-9]*\) runnable blocks$/\1/p' "$BATS_TEST_TMPDIR/run")))
	done
	run cat "$BATS_TEST_TMPDIR/failures"
	assert_output ""
	((total > 0)) || fail "no runnable block in README.md or docs/: the suite proved nothing"
}

@test "every command of every shell block exists: make targets, the clone's scripts, installed programs" {
	local file
	for file in $(docs_files); do
		docs_check_commands "$file" "$DOCS_WORK/$file/blocks"
	done >"$BATS_TEST_TMPDIR/failures"
	run cat "$BATS_TEST_TMPDIR/failures"
	assert_output ""
}

@test "every make target that README.md and docs/ name is a target of the Makefile" {
	local file
	for file in $(docs_files); do
		docs_check_targets "$file" "$DOCS_WORK/$file/blocks"
	done >"$BATS_TEST_TMPDIR/failures"
	run cat "$BATS_TEST_TMPDIR/failures"
	assert_output ""
}

@test "every path under scripts/, tests/, .ci/, docs/, k8s/ and cgi-bin/ that the docs name, and every link, exists" {
	local file
	for file in $(docs_files); do
		docs_check_paths "$file"
	done >"$BATS_TEST_TMPDIR/failures"
	run cat "$BATS_TEST_TMPDIR/failures"
	assert_output ""
}

@test "every environment variable the docs name is one the code reads or sets" {
	local file
	for file in $(docs_files); do
		docs_check_variables "$file" "$DOCS_WORK/$file/blocks"
	done >"$BATS_TEST_TMPDIR/failures"
	run cat "$BATS_TEST_TMPDIR/failures"
	assert_output ""
}

@test "README.md and docs/ hold no unfilled placeholder: no <!-- lead: note, no DATE, MACHINE" {
	local file
	for file in $(docs_files); do
		docs_check_placeholders "$file"
	done >"$BATS_TEST_TMPDIR/failures"
	run cat "$BATS_TEST_TMPDIR/failures"
	assert_output ""
}

@test "the placeholder check catches a <!-- lead: note and DATE, MACHINE, and passes filled text" {
	local clone="$BATS_TEST_TMPDIR/clone"
	mkdir -p "$clone"
	cat >"$clone/README.md" <<'EOF'
# Fixture

Figures from DATE, MACHINE.
  <!-- lead: fill this from make bench -->
Figures from 2026-11-30, 2 cores. <!-- a plain comment -->
EOF
	REPO_DIR="$clone" run docs_check_placeholders README.md
	assert_output - <<'EOF'
README.md:3: an unfilled placeholder: Figures from DATE, MACHINE.
README.md:4: an unfilled placeholder: <!-- lead: fill this from make bench -->
EOF
}

@test "make help answers, and every script in scripts/ answers --help with its usage, but the listed few" {
	run make -s -C "$REPO_DIR" help
	assert_success
	assert_line --regexp '^  help +'
	# Should a script act instead of printing its usage, these stop it.
	local guard="$BATS_TEST_TMPDIR/guard" tool script name failures=()
	mkdir -p "$guard"
	for tool in kubectl minikube skaffold docker podman apt-get sudo redis-server lighttpd; do
		printf '#!/bin/sh\necho "the docs suite ran --help, which must only print, and it ran %s" >&2\nexit 97\n' \
			"$tool" >"$guard/$tool"
		chmod +x "$guard/$tool"
	done
	for script in "$REPO_DIR"/scripts/*.sh; do
		name="${script##*/}"
		if [[ " ${SCRIPTS_WITHOUT_HELP//$'\n'/ } " == *" $name "* ]]; then
			! grep -q -- '--help' "$script" ||
				failures+=("$name mentions --help now: take it off SCRIPTS_WITHOUT_HELP")
			continue
		fi
		PATH="$guard:$PATH" run timeout 20 "$script" --help
		if [[ "$status" -ne 0 || "$output" != *"scripts/$name"* ]]; then
			failures+=("scripts/$name --help: exit status $status, and its output does not name scripts/$name")
		fi
	done
	assert_equal "$(printf '%s\n' "${failures[@]}")" ""
}

# A small clone for the self-test: a Makefile with a target, a script, code
# that reads FIXTURE_PORT, a lighttpd that serves one file on 8080, and a
# README.md with one right and one wrong example of each thing checked.
fixture_clone() {
	local clone="$BATS_TEST_TMPDIR/clone"
	mkdir -p "$clone/scripts" "$clone/site"
	printf 'hello: ## Say hello\n\t@echo hello\n' >"$clone/Makefile"
	# shellcheck disable=SC2016 # the script's own expansion
	printf '#!/usr/bin/env bash\necho "${FIXTURE_PORT:-8080}"\n' >"$clone/scripts/hello.sh"
	chmod +x "$clone/scripts/hello.sh"
	echo ok >"$clone/site/ok.txt"
	cat >"$clone/lighttpd.conf" <<EOF
server.document-root = "$clone/site"
server.bind = "127.0.0.1"
server.port = 8080
EOF
	cat >"$clone/README.md" <<'EOF'
# Fixture

```sh server
lighttpd -D -f lighttpd.conf
```

```sh
curl -s http://127.0.0.1:8080/ok.txt        # 200
curl -s http://127.0.0.1:8080/missing.txt   # 200
FIXTURE_PORT=8080 scripts/hello.sh
printf 'Status: 503 Service Unavailable\r\n\r\n'
```

```sh
false
```

```sh clusterr
kubectl get pods
```

```sh cluster
make hello && make goodbye
scripts/nothere.sh
kubectll get pods
```

Set `FIXTURE_PORT` or `WRONG_NAME`; `make hello` works, `make nope` not;
see [the script](scripts/hello.sh), [nothing](docs/none.md) and
`tests/missing.bats`.

| variable | meaning |
|---|---|
| `FIXTURE_PORT` | the port |
| `UNREAD` | read by nothing |
EOF
	(cd "$clone" && git init -q && git add -A)
	echo "$clone"
}

@test "the checks catch a wrong status, a failing block, a 5xx, an unknown mark, a missing target, program, path or variable" {
	require_namespaces
	local clone work="$BATS_TEST_TMPDIR/work"
	clone="$(fixture_clone)"
	REPO_DIR="$clone" docs_extract README.md "$work/blocks"
	REPO_DIR="$clone" run docs_check_marks README.md "$work/blocks"
	assert_output "README.md:18: unknown mark 'clusterr' (known: run server cluster no-run)"
	REPO_DIR="$clone" run docs_run_file README.md "$work"
	assert_line "README.md:9: the comment says 200, the server answered 404"
	refute_line --partial "README.md:8: the comment says"
	assert_line "README.md:8: a program answered Status: 503"
	assert_line "README.md:15: the block failed (exit status 1); its output:"
	assert_line "ran 2 runnable blocks"
	REPO_DIR="$clone" run docs_check_commands README.md "$work/blocks"
	assert_output - <<'EOF'
README.md:23: make goodbye: no such target in the Makefile
README.md:24: scripts/nothere.sh: no such executable in the clone
README.md:25: kubectll: no such command
EOF
	REPO_DIR="$clone" run docs_check_targets README.md "$work/blocks"
	assert_output - <<'EOF'
README.md: make goodbye: no such target in the Makefile
README.md: make nope: no such target in the Makefile
EOF
	REPO_DIR="$clone" run docs_check_paths README.md
	assert_output - <<'EOF'
README.md: docs/none.md: no such file or directory
README.md: scripts/nothere.sh: no such file or directory
README.md: tests/missing.bats: no such file or directory
EOF
	REPO_DIR="$clone" run docs_check_variables README.md "$work/blocks"
	assert_output - <<'EOF'
README.md: UNREAD: no code reads or sets this variable
README.md: WRONG_NAME: the code never names it
EOF
}
