#!/usr/bin/env bats
# The Makefile as an interface, and the installs behind it: `make help`
# lists every target, from the Makefile's own "## " comments; each day-2
# target runs its script; clean and purge-local delete what the help says
# and nothing else; scripts/deps.sh tells a non-root user an install command
# that keeps services from starting; `make image` with a Docker daemon that
# answers installs no podman packages. Where something would install
# packages or needs a Docker daemon, apt-get, dpkg-query and docker are
# stand-ins that log what they were asked; nothing is installed.

bats_load_library bats-support
bats_load_library bats-assert
load lib/common

setup() {
	STUBS="$BATS_TEST_TMPDIR/stubs"
	mkdir -p "$STUBS/bin"
}

teardown() {
	stop_all_below "$BATS_TEST_TMPDIR"
}

# Prints the targets the Makefile defines, from make's own database (no
# built-in rules, no files, no patterns), one a line, sorted.
makefile_targets() {
	{ make -C "$REPO_DIR" -pRrq -f Makefile __no_such_target__ 2>/dev/null || true; } |
		awk -F: '/^[a-z][a-z0-9-]*:([^=]|$)/ { print $1 }' | sort -u
}

# Prints the targets that .PHONY names, one a line, sorted.
phony_targets() {
	{ make -C "$REPO_DIR" -pRrq -f Makefile __no_such_target__ 2>/dev/null || true; } |
		sed -n 's/^\.PHONY: //p' | tr ' ' '\n' | sed '/^$/d' | sort -u
}

# Prints the help line of target $1.
help_line() {
	make -s -C "$REPO_DIR" help | awk -v target="$1" '$1 == target'
}

# Makes a throwaway repository with the Makefile and scripts/, and in it the
# build outputs and every piece of local state, each holding a file.
fake_repository() {
	REPO="$BATS_TEST_TMPDIR/repo"
	mkdir -p "$REPO/cgi-bin" "$REPO/tests/node_modules/x"
	cp "$REPO_DIR/Makefile" "$REPO/"
	cp -R "$REPO_DIR/scripts" "$REPO/"
	local dir
	for dir in build data/image-run .cache/stack results k8s/secrets k8s-local backups; do
		mkdir -p "$REPO/$dir"
		echo state >"$REPO/$dir/file"
	done
	ln -s ../build/bitcoins.cgi "$REPO/cgi-bin/bitcoins.cgi"
	ln -s ../build/healthz.cgi "$REPO/cgi-bin/healthz.cgi"
	echo 'int main(void);' >"$REPO/cgi-bin/kept.c"
}

# Succeeds when every path $@ (relative to the throwaway repository) exists.
exist() {
	local path
	for path in "$@"; do
		[[ -e "$REPO/$path" || -L "$REPO/$path" ]] || fail "$path is gone"
	done
}

# Succeeds when no path $@ exists any more.
gone() {
	local path
	for path in "$@"; do
		[[ ! -e "$REPO/$path" && ! -L "$REPO/$path" ]] || fail "$path is still there"
	done
}

# Writes a stand-in command $1 into $STUBS/bin with the body $2; it logs its
# arguments to $STUBS/calls first.
stub() {
	printf '#!/usr/bin/env bash\necho "%s $*" >>"%s/calls"\n%s\n' "$1" "$STUBS" "$2" >"$STUBS/bin/$1"
	chmod +x "$STUBS/bin/$1"
}

# Stand-ins for a machine where no package is installed yet: dpkg-query
# knows none, and apt-get logs what it would install and whether
# /usr/sbin/policy-rc.d keeps services from starting meanwhile, then fails
# (exit status $1, default 1) so that nothing goes on.
stub_empty_machine() {
	stub dpkg-query 'exit 1'
	stub apt-get "[[ \"\$1\" == install* || \" \$* \" == *\" install \"* ]] || exit 0
status=0; /usr/sbin/policy-rc.d redis-server start >/dev/null 2>&1 || status=\$?
echo \"policy-rc.d exit status: \$status\" >>'$STUBS/calls'
exit ${1:-1}"
}

# Prints the calls the stand-ins received.
stub_calls() {
	cat "$STUBS/calls" 2>/dev/null || true
}

@test "make help lists every target of the Makefile once, each with a description, and each is .PHONY" {
	run make -s -C "$REPO_DIR" help
	assert_success
	local help="$output" listed
	listed="$(awk '{ print $1 }' <<<"$help" | sort)"
	assert_equal "$listed" "$(makefile_targets)"
	assert_equal "$(uniq -d <<<"$listed")" ""
	run grep -cvE '^  [a-z][a-z0-9-]* +[A-Z][^ ].{20,}$' <<<"$help"
	assert_output 0
	# A file named like a target that is not .PHONY would hide it.
	assert_equal "$(phony_targets)" "$(makefile_targets)"
}

@test "make help names the day-2 Kubernetes targets and what each needs, the deposit log line among them" {
	run help_line k8s-logs
	assert_output --partial '"deposit amount=N total=T"'
	run help_line k8s-purge
	assert_output --partial "PVC data-redis-0"
	assert_output --partial "CONFIRM=devops-2025"
	run help_line k8s-restore
	assert_output --partial "BACKUP=FILE"
	assert_output --partial "CONFIRM=devops-2025"
	run help_line k8s-down
	assert_output --partial "keep the Redis data, the Secrets and the namespace"
}

@test "each day-2 target runs its script, passing ARGS or BACKUP on" {
	local target expected
	while IFS='|' read -r target expected; do
		# shellcheck disable=SC2086 # the target, then its settings
		run make -s -n -C "$REPO_DIR" $target
		assert_success
		assert_equal "${output%% }" "$expected"
		[[ -x "$REPO_DIR/${expected%% *}" ]] || fail "$target runs $expected, which is not an executable script"
	done <<'EOF'
k8s-up|scripts/minikube-up.sh
k8s-check|scripts/persistence-proof.sh
k8s-logs ARGS=--follow|scripts/k8s-logs.sh --follow
k8s-dev ARGS=--cleanup=false|scripts/k8s-dev.sh --cleanup=false
k8s-backup|scripts/redis-backup.sh
k8s-backup BACKUP=b.tar.gz|scripts/redis-backup.sh b.tar.gz
k8s-restore BACKUP=b.tar.gz|scripts/redis-restore.sh b.tar.gz
k8s-renew-cert ARGS=--new-key|scripts/renew-cert.sh --new-key
k8s-rotate-password|scripts/rotate-redis-password.sh --user app
k8s-rotate-password ROTATE_USER=probe ARGS=--force|scripts/rotate-redis-password.sh --user probe --force
k8s-down|scripts/k8s-down.sh
k8s-purge|scripts/k8s-down.sh --purge
EOF
}

@test "make clean deletes the build outputs its help names, and keeps the local state its help names" {
	run help_line clean
	local path
	for path in build/ 'cgi-bin/*.cgi' data/ .cache/ results/ backups/ k8s/secrets/ k8s-local/; do
		assert_output --partial "$path"
	done
	assert_output --regexp 'build/ and the cgi-bin/\*\.cgi links; keeps '
	fake_repository
	run make -s -C "$REPO" clean
	assert_success
	gone build cgi-bin/bitcoins.cgi cgi-bin/healthz.cgi
	exist cgi-bin/kept.c data/image-run/file .cache/stack/file results/file backups/file \
		k8s/secrets/file k8s-local/file tests/node_modules/x
}

@test "make purge-local deletes the local state its help names and the build, after CONFIRM=purge-local; keeps backups/" {
	run help_line purge-local
	local path
	for path in data/ .cache/ results/ k8s/secrets/ k8s-local/ CONFIRM=purge-local; do
		assert_output --partial "$path"
	done
	fake_repository
	CONFIRM=purge-local run make -s -C "$REPO" purge-local
	assert_success
	assert_output --partial "purge-local: deleted data .cache results k8s/secrets k8s-local"
	gone data .cache results k8s/secrets k8s-local build cgi-bin/bitcoins.cgi
	exist backups/file tests/node_modules/x cgi-bin/kept.c k8s
	CONFIRM=purge-local run make -s -C "$REPO" purge-local
	assert_success
	assert_output --partial "purge-local: no local state to delete"
}

@test "make purge-local without confirmation, or with a wrong one, refuses and deletes nothing, not even the build" {
	fake_repository
	run make -s -C "$REPO" purge-local </dev/null
	assert_failure
	assert_output --partial "purge-local: this deletes data .cache results k8s/secrets k8s-local: the local balances, secrets and results."
	assert_output --partial "Confirm with CONFIRM=purge-local (or run it on a terminal). Nothing was changed."
	CONFIRM=devops-2025 run make -s -C "$REPO" purge-local
	assert_failure
	assert_output --partial "CONFIRM=devops-2025 is not the confirmation"
	exist build/file data/image-run/file .cache/stack/file results/file k8s/secrets/file k8s-local/file
}

@test "make purge-local refuses while a process works in data/, like a running make run, and deletes nothing" {
	fake_repository
	(cd "$REPO/data/image-run" && exec sleep 60) 3>&- &
	echo "$!" >"$BATS_TEST_TMPDIR/sleep.pid"
	wait_until 5 test "$(readlink "/proc/$(cat "$BATS_TEST_TMPDIR/sleep.pid")/cwd")" = "$REPO/data/image-run"
	CONFIRM=purge-local run make -s -C "$REPO" purge-local
	assert_failure
	assert_output --regexp "in use, stop these first \(Ctrl-C in make run or make stack\): [0-9]+ sleep;"
	assert_output --partial "Nothing was deleted."
	exist build/file data/image-run/file k8s/secrets/file
}

@test "as non-root, deps.sh names the missing packages and prints sudo scripts/deps.sh GROUPS, not a plain apt-get install" {
	stub_empty_machine
	stub id 'echo 1000'
	cd "$REPO_DIR"
	PATH="$STUBS/bin:$PATH" run scripts/deps.sh build run
	assert_failure 1
	assert_output --partial "deps.sh: missing packages: "
	assert_output --partial "lighttpd"
	assert_output --partial "redis-server"
	assert_line "  sudo scripts/deps.sh build run"
	refute_output --partial "apt-get"
	run stub_calls
	refute_output --partial "apt-get"
}

@test "that command, run with sudo, is deps.sh as root, which installs with a policy-rc.d that keeps Debian's services from starting" {
	stub_empty_machine 0
	local policy=/usr/sbin/policy-rc.d before="absent" command
	[[ ! -e "$policy" ]] || before="$(cat "$policy")"
	mkdir -p "$STUBS/user"
	printf '#!/bin/sh\necho 1000\n' >"$STUBS/user/id"
	chmod +x "$STUBS/user/id"
	cd "$REPO_DIR"
	PATH="$STUBS/user:$STUBS/bin:$PATH" run scripts/deps.sh run
	assert_failure 1
	command="$(sed -n 's/^  sudo //p' <<<"$output")"
	[[ -n "$command" ]] || fail "no sudo command printed: $output"
	# sudo: the printed command, as root (the user's id stand-in is gone).
	stub sudo 'exec "$@"'
	# shellcheck disable=SC2086 # the command as printed, split as a shell would
	PATH="$STUBS/bin:$PATH" run sudo $command
	assert_success
	run stub_calls
	assert_line "sudo scripts/deps.sh run"
	assert_line --regexp '^apt-get .*install .*redis-server'
	assert_line "policy-rc.d exit status: 101"
	# The policy is put back as it was.
	if [[ "$before" == absent ]]; then
		[[ ! -e "$policy" ]] || fail "deps.sh left $policy behind"
	else
		assert_equal "$(cat "$policy")" "$before"
	fi
}

@test "deps.sh with an unknown group, alone or among known ones, exits 2 naming it and looks up and installs nothing" {
	stub_empty_machine 0
	cd "$REPO_DIR"
	local args
	for args in "bogus" "buidl run" "run buidl" "--list buidl run"; do
		# shellcheck disable=SC2086 # one group a word
		PATH="$STUBS/bin:$PATH" run scripts/deps.sh $args
		assert_failure 2
		assert_output --regexp "deps.sh: unknown group '(bogus|buidl)' \(known: .*\); nothing was installed"
		refute_output --partial "lighttpd"
	done
	run stub_calls
	assert_output ""
}

# Stand-ins for a machine with only lighttpd installed: dpkg-query answers
# from $STUBS/installed and lists each package's files from
# $STUBS/files/PACKAGE; apt-get "installs" what it is given (nginx with its
# dependency nginx-common, which ships nginx.service, as in Debian);
# systemctl and update-rc.d only log.
stub_machine_with_lighttpd() {
	mkdir -p "$STUBS/files"
	echo lighttpd >"$STUBS/installed"
	printf '%s\n' /lib/systemd/system/lighttpd.service /etc/init.d/lighttpd >"$STUBS/files/lighttpd"
	printf '%s\n' /lib/systemd/system/redis-server.service /lib/systemd/system/redis-server@.service \
		/etc/init.d/redis-server /usr/bin/redis-server >"$STUBS/files/redis-server"
	printf '%s\n' /lib/systemd/system/nginx.service /etc/init.d/nginx >"$STUBS/files/nginx-common"
	# shellcheck disable=SC2016 # the stand-ins' own code
	stub dpkg-query 'if [[ "$2" == *Package* ]]; then sed "s/^/install ok installed /" "'"$STUBS"'/installed"
elif [[ "$1" == -L ]]; then cat "'"$STUBS"'/files/$2" 2>/dev/null
else grep -qx "$3" "'"$STUBS"'/installed" && printf "install ok installed"; fi'
	# shellcheck disable=SC2016
	stub apt-get '[[ " $* " == *" install "* ]] || exit 0
for arg; do
	case "$arg" in -*|install) ;; nginx) printf "nginx\nnginx-common\n" >>"'"$STUBS"'/installed" ;;
	*) echo "$arg" >>"'"$STUBS"'/installed" ;; esac
done'
	stub systemctl ''
	stub update-rc.d ''
}

@test "deps.sh as root disables at boot the services of the packages it installs, dependencies included, and not those installed before" {
	stub_machine_with_lighttpd
	cd "$REPO_DIR"
	PATH="$STUBS/bin:$PATH" run scripts/deps.sh run stack
	assert_success
	assert_line "deps.sh: disabled at boot: redis-server.service (from redis-server, installed now)"
	assert_line "deps.sh: disabled at boot: nginx.service (from nginx-common, installed now)"
	run stub_calls
	assert_line "systemctl disable --quiet redis-server.service"
	assert_line "systemctl disable --quiet nginx.service"
	assert_line "update-rc.d redis-server disable"
	assert_line "update-rc.d nginx disable"
	refute_line --regexp "(systemctl|update-rc.d) .*lighttpd"
	refute_output --partial "redis-server@"
	refute_output --regexp "systemctl (start|stop|enable|mask)"
}

@test "make run with port 6379 taken says it may be Debian's redis-server service and how to stop it, or how to pick another port" {
	local port
	# A redis-server of the test's own stands for the system's on the port.
	redis_start "$BATS_TEST_TMPDIR/system-redis"
	port="$(cat "$BATS_TEST_TMPDIR/system-redis/port")"
	PORT="$(free_port)" REDIS_PORT="$port" run "$REPO_DIR/scripts/run-local.sh"
	assert_failure 1
	assert_output --partial "run-local.sh: port $port is already taken; choose another with REDIS_PORT=NNNN make run"
	assert_output --partial "sudo systemctl disable --now redis-server"
}

@test "with a Docker daemon that answers, the image builds with docker and installs nothing; without one, podman's packages first" {
	stub_empty_machine
	# shellcheck disable=SC2016 # the stand-in's own code
	stub docker 'case "$1" in build | info | image) exit 0 ;; *) exit 1 ;; esac'
	PATH="$STUBS/bin:$PATH" run "$REPO_DIR/scripts/build-image.sh" dev.local/d22/backend-test
	assert_success
	assert_output --partial "built dev.local/d22/backend-test"
	assert_output --partial "with docker"
	run stub_calls
	assert_line "docker build --tag dev.local/d22/backend-test --file $REPO_DIR/Dockerfile $REPO_DIR"
	refute_output --partial apt-get
	refute_output --partial podman
	# Without a daemon, podman builds, and its packages are installed first.
	rm "$STUBS/calls"
	stub docker 'exit 1'
	PATH="$STUBS/bin:$PATH" run "$REPO_DIR/scripts/build-image.sh" dev.local/d22/backend-test
	assert_failure
	run stub_calls
	assert_line --regexp '^apt-get .*install .*buildah .*debootstrap .*podman .*runc'
}

@test "with docker and no registry, only debootstrap and the archive keyring are installed, to make the base image" {
	stub_empty_machine
	# shellcheck disable=SC2016 # the stand-in's own code
	stub docker 'case "$1" in info) exit 0 ;; *) exit 1 ;; esac'
	PATH="$STUBS/bin:$PATH" run "$REPO_DIR/scripts/build-image.sh" dev.local/d22/backend-test
	assert_failure
	assert_output --partial "no registry reachable"
	run stub_calls
	assert_line --regexp '^apt-get .*install .* debian-archive-keyring debootstrap gpgv$'
	refute_output --partial podman
}

