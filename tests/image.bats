#!/usr/bin/env bats
# What the backend image holds, read from the host (it has no shell to ask): its file tree
# (exported from a container that never starts), the libraries its running lighttpd maps
# (/proc), and its SBOM. Nothing to exploit: no shell, package manager or interpreter;
# every file accounted for, either as the project built it or as its Debian package
# installed it (the image's build stage, which build-image.sh keeps, has dpkg to ask);
# and an SBOM that lists every one of those packages, the statically linked ones included.
# Also: the base image is bootstrapped from signature-checked archives only.

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
load lib/common
load lib/api
load lib/container

readonly SBOM_PATH=/usr/share/sbom/backend.cdx.json
# The project's own files in the image, and what each must be identical to in the build
# stage: the build's output, the configuration, the /etc files and the SBOM it wrote.
readonly OWN_FILES='/app/build/bitcoins.cgi|/src/build/bitcoins.cgi
/app/build/healthz.cgi|/src/build/healthz.cgi
/app/build/start-lighttpd|/src/build/start-lighttpd
/app/build/errors/*|/src/build/errors/*
/app/lighttpd.conf|/src/lighttpd.conf
/app/cgi-bin/mode-cgi.conf|/src/cgi-bin/mode-cgi.conf
/app/cgi-bin/mode-fastcgi.conf|/src/cgi-bin/mode-fastcgi.conf
/etc/passwd|/rootfs/etc/passwd
/etc/group|/rootfs/etc/group
/etc/nsswitch.conf|/rootfs/etc/nsswitch.conf
/usr/share/sbom/backend.cdx.json|/rootfs/usr/share/sbom/backend.cdx.json'
# The only files that may be run: lighttpd, the three programs, and glibc's loader and
# libc (both executable ELF files, as Debian ships them).
readonly EXECUTABLES='/app/build/bitcoins.cgi
/app/build/healthz.cgi
/app/build/start-lighttpd
/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
/usr/lib/x86_64-linux-gnu/libc.so.6
/usr/sbin/lighttpd'

setup_file() {
	image_build_once
	IMAGE_ROOT="$BATS_FILE_TMPDIR/image"
	export IMAGE_ROOT
	image_extract "$IMAGE_ROOT"
	sources_of_files >"$BATS_FILE_TMPDIR/sources.tsv"
}

# Removes this test's containers, then stops its servers.
teardown() {
	container_remove_all_below "$BATS_TEST_TMPDIR"
	stop_all_below "$BATS_TEST_TMPDIR"
}

# Prints the build stage's source of an image path per OWN_FILES (a "*" stands for the
# file's name), or the path itself.
own_source() {
	local path="$1" pattern source
	while IFS='|' read -r pattern source; do
		# shellcheck disable=SC2053 # the pattern is a glob on purpose
		if [[ "$path" == $pattern ]]; then
			echo "${source/%\*/${path##*/}}"
			return 0
		fi
	done <<<"$OWN_FILES"
	echo "$path"
}

# Prints one "PATH<TAB>PACKAGE<TAB>SOURCE<TAB>STATUS" line per file, link or node of the
# image, as the build stage answers (lib/file-sources.sh runs there, the image's tree
# mounted read-only): PACKAGE is the owner dpkg names ("-" for none), SOURCE the build
# stage's file the image's must equal (the package's own file, or OWN_FILES' source),
# STATUS same when it does.
sources_of_files() {
	local path
	(cd "$IMAGE_ROOT" && find . -mindepth 1 ! -type d -printf '/%P\n' | sort) |
		while read -r path; do printf '%s\t%s\n' "$path" "$(own_source "$path")"; done |
		engine run --rm --interactive --network=none --volume "$IMAGE_ROOT:/image:ro" \
			--volume "$REPO_DIR/tests/lib/file-sources.sh:/file-sources.sh:ro" \
			"$BUILD_STAGE_IMAGE" bash /file-sources.sh
}

# Prints the SBOM's Debian packages, "NAME VERSION PURL" each.
sbom_packages() {
	node "$REPO_DIR/tests/lib/sbom-check.js" packages "$IMAGE_ROOT$SBOM_PATH"
}

# Skips unless node can read the SBOM with the CycloneDX schemas (scripts/lib/deps-k8s.sh).
require_sbom_tools() {
	[[ -d "$REPO_DIR/tests/node_modules/@cyclonedx/cyclonedx-library" ]] ||
		skip "tests/node_modules lacks @cyclonedx/cyclonedx-library: run scripts/lib/deps-k8s.sh"
}

# Prints the paths of the shared libraries lighttpd (host pid $1) has mapped, as the
# container sees them, one a line.
mapped_libraries() {
	awk '$6 ~ /\.so/ { print $6 }' "/proc/$1/maps" | sort -u
}

@test "the image holds no shell, package manager, interpreter or script: only lighttpd, the programs and glibc can run" {
	local file found=()
	run find "$IMAGE_ROOT" -regextype posix-extended \( \
		-regex '.*/((ba|da|z|k|c|tc|fi|a|r)?sh|busybox|toybox)' \
		-o -regex '.*/(apt|apt-get|apt-key|dpkg|dpkg-[a-z-]+|rpm|yum|dnf|apk|pip[0-9.]*|gem|npm)' \
		-o -regex '.*/(perl|python|ruby|node|nodejs|lua|php|tclsh|wish|java|awk|gawk|mawk|sed)[0-9.]*' \
		-o -regex '.*/(env|sleep|cat|ls|cp|mv|rm|chmod|curl|wget|nc|su|sudo|mount)' \
		-o -path "$IMAGE_ROOT/var/lib/dpkg" -o -path "$IMAGE_ROOT/var/lib/apt" \)
	assert_success
	assert_output ""
	# No script: with no interpreter to run one, a "#!" file would be a leftover.
	while read -r file; do
		[[ "$(head -c 2 "$file")" != '#!' ]] || found+=("${file#"$IMAGE_ROOT"}")
	done < <(find "$IMAGE_ROOT" -type f)
	assert_equal "${found[*]}" ""
	run bash -c "cd '$IMAGE_ROOT' && find . -type f -perm /111 -printf '/%P\n' | sort"
	assert_output "$EXECUTABLES"
	# The engine agrees: there is no shell to start.
	run -127 engine run --rm --network=none --entrypoint /bin/sh "$BACKEND_IMAGE" -c true
}

@test "every file in the image is accounted for: the project's as built, every other one as its Debian package installed it" {
	local path owner source status problems=()
	echo "# the image's files and links (package or own file):" >&3
	while IFS=$'\t' read -r path owner source status; do
		echo "#   $path ($([[ "$owner" == - ]] && echo "own: $source" || echo "$owner"))" >&3
		[[ "$status" == same ]] || problems+=("$path is not identical to the build stage's $source ($status)")
		if [[ "$owner" == - && "$source" == "$path" ]]; then
			problems+=("$path belongs to no package and is not one of the project's files")
		elif [[ "$owner" != - && "$source" != "$path" ]]; then
			problems+=("$path is a project file, yet dpkg says $owner owns it")
		fi
	done <"$BATS_FILE_TMPDIR/sources.tsv"
	[[ -s "$BATS_FILE_TMPDIR/sources.tsv" ]] || fail "the build stage listed nothing"
	# The configuration is this tree's, and every directory holds something, but /tmp, the
	# mount point of the runtime's tmpfs.
	cmp -s "$IMAGE_ROOT/app/lighttpd.conf" "$REPO_DIR/lighttpd.conf" || problems+=("/app/lighttpd.conf is not this tree's")
	# The /etc files are assemble-image.sh's: the two users, no shell, files before DNS.
	[[ "$(cat "$IMAGE_ROOT/etc/passwd")" == $'root:x:0:0:root:/nonexistent:/nonexistent\nmoneybank:x:10001:10001:Money Bank backend:/nonexistent:/nonexistent' ]] ||
		problems+=("/etc/passwd is not the two users of scripts/lib/assemble-image.sh")
	[[ "$(grep -v '^#' "$IMAGE_ROOT/etc/nsswitch.conf")" == $'passwd: files\ngroup: files\nhosts: files dns' ]] ||
		problems+=("/etc/nsswitch.conf is not the one of scripts/lib/assemble-image.sh")
	while read -r path; do
		problems+=("empty directory $path")
	done < <(cd "$IMAGE_ROOT" && find . -mindepth 1 -type d -empty ! -path ./tmp -printf '/%P\n')
	printf '%s\n' "${problems[@]}"
	assert_equal "${#problems[@]}" 0
}

@test "the image's shared libraries are exactly those its lighttpd maps while serving, in cgi and fastcgi mode" {
	local mode dir pid redis_dir="$BATS_TEST_TMPDIR/redis" mapped="$BATS_TEST_TMPDIR/mapped"
	redis_start "$redis_dir"
	: >"$mapped"
	for mode in cgi fastcgi; do
		dir="$BATS_TEST_TMPDIR/$mode"
		container_start "$dir" "$(cat "$redis_dir/port")" -e BACKEND_MODE="$mode"
		BASE_URL="$(container_url "$dir")"
		export BASE_URL
		post "/v1/bitcoins?bitcoins=1"
		assert_equal "$HTTP_STATUS" 204
		http GET /nothing-here
		assert_equal "$HTTP_STATUS" 404
		pid="$(container_host_pid "$(container_name "$dir")")"
		mapped_libraries "$pid" >>"$mapped"
		container_remove "$dir"
	done
	run sort -u "$mapped"
	assert_output "$(cd "$IMAGE_ROOT" && find . -type f -name '*.so*' -printf '/%P\n' | sort)"
}

@test "the image ships a CycloneDX 1.5 SBOM that the CycloneDX JSON schema accepts" {
	require_sbom_tools
	[[ -f "$IMAGE_ROOT$SBOM_PATH" ]] || fail "no $SBOM_PATH in the image"
	run node "$REPO_DIR/tests/lib/sbom-check.js" validate "$IMAGE_ROOT$SBOM_PATH"
	assert_success
	assert_output ""
}

@test "the SBOM lists lighttpd, libc6, and hiredis, libfcgi, glibc and libgcc linked into the programs, at the versions dpkg reports in the build stage" {
	require_sbom_tools
	local expected sbom
	# The build stage's own answer: the packages, and the one holding gcc's libgcc.a.
	# shellcheck disable=SC2016 # the script runs in the build stage's bash
	expected="$(engine run --rm --network=none "$BUILD_STAGE_IMAGE" bash -c '
		distro="debian-$(. /etc/os-release && echo "$VERSION_ID")"
		libgcc="$(dpkg-query --search "$(gcc -print-libgcc-file-name)" | cut -d : -f 1)"
		dpkg-query --show --showformat="\${Package} \${Version} \${Architecture}\n" \
			lighttpd libc6 libhiredis-dev libfcgi-dev libc6-dev "$libgcc" |
			while read -r name version arch; do
				echo "$name $version pkg:deb/debian/$name@$version?arch=$arch&distro=$distro"
			done')"
	echo "# build stage: $(cut -d ' ' -f 1,2 <<<"$expected" | tr '\n' ';')" >&3
	[[ "$(wc -l <<<"$expected")" -eq 6 ]] || fail "the build stage answered: $expected"
	sbom="$(sbom_packages)"
	while read -r line; do
		grep -qxF "$line" <<<"$sbom" || fail "the SBOM lacks '$line'; it lists: $sbom"
	done <<<"$expected"
}

@test "every Debian package with a file in the image, each shared library's included, is in the SBOM, and the SBOM locates every file" {
	require_sbom_tools
	local path owner source status names locations found missing=()
	names="$(sbom_packages | cut -d ' ' -f 1)"
	locations="$(node "$REPO_DIR/tests/lib/sbom-check.js" locations "$IMAGE_ROOT$SBOM_PATH")"
	while IFS=$'\t' read -r path owner source status; do
		if [[ "$owner" != - ]] && ! grep -qxF "$owner" <<<"$names"; then
			missing+=("$path: its package $owner is not in the SBOM")
		fi
		[[ "$path" != "$SBOM_PATH" ]] || continue
		# Each file is an occurrence of its package, or of a component of its own (named
		# after the file, or its path).
		found="$(awk -v path="$path" '$1 == path { print $2 }' <<<"$locations")"
		if [[ "$owner" != - ]]; then
			grep -qxF "$owner" <<<"$found" || missing+=("$path: not an occurrence of $owner in the SBOM")
		elif ! grep -qxE "${path##*/}|$path" <<<"$found"; then
			missing+=("$path: the SBOM names no component there")
		fi
	done <"$BATS_FILE_TMPDIR/sources.tsv"
	# The shared libraries, on their own: what scanners look for first.
	while read -r path; do
		owner="$(awk -F '\t' -v path="$path" '$1 == path { print $2 }' "$BATS_FILE_TMPDIR/sources.tsv")"
		[[ -n "$owner" && "$owner" != - ]] || missing+=("$path: a shared library no package owns")
	done < <(cd "$IMAGE_ROOT" && find . -name '*.so*' -printf '/%P\n')
	printf '%s\n' "${missing[@]}"
	assert_equal "${#missing[@]}" 0
}

@test "make sbom copies the SBOM out of the image, byte for byte, without running it" {
	local out="$BATS_TEST_TMPDIR/out/sbom.cdx.json" before
	before="$(engine ps --all --quiet --filter "ancestor=$BACKEND_IMAGE" | sort)"
	run env IMAGE="$BACKEND_IMAGE" make -s -C "$REPO_DIR" sbom SBOM="$out"
	assert_success
	cmp "$out" "$IMAGE_ROOT$SBOM_PATH"
	# The container it copied from was removed, and none was left running.
	assert_equal "$(engine ps --all --quiet --filter "ancestor=$BACKEND_IMAGE" | sort)" "$before"
}

@test "the base-image script bootstraps nothing it cannot verify: no keyring, or one without Debian's keys, stops it" {
	((EUID == 0)) || skip "debootstrap needs root"
	command -v debootstrap >/dev/null || skip "no debootstrap (scripts/deps.sh container)"
	local name="localhost/moneybank-test/unverified-$$:trixie-slim" script="$REPO_DIR/scripts/lib/make-base-image.sh"
	# No keyring at all: the keyrings directory hidden under an empty tmpfs.
	# shellcheck disable=SC2016 # the inner scripts expand their own arguments
	run unshare --mount --propagation private bash -c \
		'mount -t tmpfs none /usr/share/keyrings && REBUILD_AS="$1" "$2" trixie' _ "$name" "$script"
	assert_failure
	assert_output --partial "no Debian archive keyring"
	# A keyring without Debian's keys: the Release file's signature does not verify.
	: >"$BATS_TEST_TMPDIR/empty.gpg"
	# shellcheck disable=SC2016 # the inner script expands its own arguments
	run unshare --mount --propagation private bash -c \
		'mount --bind "$3" /usr/share/keyrings/debian-archive-keyring.gpg &&
			REBUILD_AS="$1" "$2" trixie' _ "$name" "$script" "$BATS_TEST_TMPDIR/empty.gpg"
	assert_failure
	assert_output --partial "Release signed by unknown key"
	assert_output --partial "nothing was imported"
	refute_output --partial "Valid Release signature"
	run engine image inspect "$name"
	assert_failure
}
