#!/usr/bin/env bash
# Assembles, in the image's build stage, the whole file tree of the runtime image, which is
# then copied into an empty (FROM scratch) stage: lighttpd, the modules lighttpd.conf names,
# every shared library they need, the dynamic loader, the programs, the configuration, the
# error pages and the image's own /etc files (written here, below). Nothing else: no shell, no package
# manager, no interpreter, no coreutils.
#
# Libraries are found from the ELF files themselves (their NEEDED entries and program
# interpreter, followed to the end), not from a list kept by hand. With
# server.compat-module-load = "disable" lighttpd loads exactly the modules lighttpd.conf
# names: each is either a file in the modules directory, copied with its libraries, or built
# into lighttpd (mod_alias, mod_setenv and mod_fastcgi are, in 1.4.79). The tree is checked
# at the end by running its own lighttpd (chroot, lighttpd -tt: parse, load every module).
#
# Usage: scripts/lib/assemble-image.sh ROOTFS   (from the source directory, after `make build`)
set -euo pipefail

readonly ROOTFS="${1:?usage: assemble-image.sh ROOTFS}"
readonly LIGHTTPD=/usr/sbin/lighttpd
readonly MODULES_DIR=/usr/lib/lighttpd
readonly APP=/app
readonly PROGRAMS=(bitcoins.cgi healthz.cgi start-lighttpd)
# Directories the dynamic loader searches by itself (no /etc/ld.so.cache in the image).
SEARCH_DIRS=()
# The ELF files whose libraries are still to be followed, and the sonames already copied.
PENDING=()
declare -A COPIED_SONAMES=()

# Prints a message and stops the build.
die() {
	echo "assemble-image: $*" >&2
	exit 1
}

# Copies one path into the tree exactly as it resolves here: each symbolic link met on the
# way (a directory's, as /lib64 -> usr/lib64, or the file's own) is copied as a link and
# then followed, so the loader finds the same names in the image.
copy_path() {
	local path="$1" resolved="" part next i
	local -a parts
	IFS=/ read -r -a parts <<<"${path#/}"
	for ((i = 0; i < ${#parts[@]}; i++)); do
		part="${resolved}/${parts[i]}"
		if [[ -L "$part" ]]; then
			mkdir -p "$ROOTFS$resolved"
			[[ -L "$ROOTFS$part" ]] || cp -a "$part" "$ROOTFS$part"
			next="$(readlink "$part")"
			[[ "$next" == /* ]] || next="$resolved/$next"
			next="$(realpath -s -m "$next")"
			if ((i + 1 < ${#parts[@]})); then
				next="$next/$(IFS=/ && echo "${parts[*]:i+1}")"
			fi
			copy_path "$next"
			return
		fi
		resolved="$part"
	done
	[[ -f "$resolved" ]] || die "$path is not a file"
	mkdir -p "$ROOTFS$(dirname "$resolved")"
	[[ -e "$ROOTFS$resolved" ]] || cp -a "$resolved" "$ROOTFS$resolved"
}

# Prints the NEEDED sonames of an ELF file.
needed_of() {
	readelf --dynamic "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'
}

# Prints the program interpreter (dynamic loader) an ELF file asks for, or nothing.
interpreter_of() {
	readelf --program-headers "$1" | sed -n 's/.*Requesting program interpreter: \(.*\)\]$/\1/p'
}

# Fails on an RPATH or RUNPATH: libraries would then come from where no search here looks.
refuse_run_paths() {
	if readelf --dynamic "$1" | grep -qE '\((RPATH|RUNPATH)\)'; then
		die "$1 has an RPATH or RUNPATH; its libraries would not be found"
	fi
}

# Sets SEARCH_DIRS from the loader's own list of system directories (ld.so --help).
read_search_dirs() {
	local loader
	loader="$(interpreter_of "$LIGHTTPD")"
	mapfile -t SEARCH_DIRS < <("$loader" --help | sed -n 's/^ *\(\/.*\) (system search path)$/\1/p')
	((${#SEARCH_DIRS[@]} > 0)) || die "$loader --help lists no system search path"
}

# Prints the path the loader will find a soname at: the first system directory holding it,
# with the directory written without links (/lib/... is /usr/lib/... on Debian 13). The
# image has that same directory, so the loader finds it there too.
library_path() {
	local soname="$1" dir
	for dir in "${SEARCH_DIRS[@]}"; do
		if [[ -e "$dir/$soname" ]]; then
			echo "$(realpath "$dir")/$soname"
			return 0
		fi
	done
	die "no $soname in ${SEARCH_DIRS[*]}"
}

# Copies an ELF file and queues it, so that its own libraries follow.
add_elf() {
	copy_path "$1"
	PENDING+=("$1")
}

# Follows NEEDED entries and interpreters until every library is in the tree.
copy_libraries() {
	local elf soname interpreter
	while ((${#PENDING[@]} > 0)); do
		elf="${PENDING[0]}"
		PENDING=("${PENDING[@]:1}")
		refuse_run_paths "$elf"
		interpreter="$(interpreter_of "$elf")"
		[[ -z "$interpreter" ]] || copy_path "$interpreter"
		while read -r soname; do
			[[ -n "$soname" && -z "${COPIED_SONAMES[$soname]+set}" ]] || continue
			COPIED_SONAMES[$soname]=1
			add_elf "$(library_path "$soname")"
		done < <(needed_of "$elf")
	done
}

# Prints the modules lighttpd.conf names in server.modules, one a line.
configured_modules() {
	sed -n '/^server\.modules/,/)/p' lighttpd.conf | grep -o '"mod_[a-z0-9_]*"' | tr -d '"'
}

# Copies lighttpd and the modules it will load. A named module with no file here must be
# built into lighttpd; the final lighttpd -tt proves it (an unknown module fails it).
copy_lighttpd() {
	local module
	add_elf "$LIGHTTPD"
	while read -r module; do
		if [[ -f "$MODULES_DIR/$module.so" ]]; then
			add_elf "$MODULES_DIR/$module.so"
		else
			echo "assemble-image: $module is built into lighttpd (no $MODULES_DIR/$module.so)"
		fi
	done < <(configured_modules)
}

# Writes the image's own /etc files into directory $1: the two users the
# image knows (root and the numeric user it runs as, neither with a shell or
# a home) and the name service order. They are constants, kept here rather
# than in a top-level directory of their own (the repository's layout is fixed).
write_etc_files() {
	local dir="$1"
	printf '%s\n' 'root:x:0:0:root:/nonexistent:/nonexistent' \
		'moneybank:x:10001:10001:Money Bank backend:/nonexistent:/nonexistent' >"$dir/passwd"
	printf '%s\n' 'root:x:0:' 'moneybank:x:10001:' >"$dir/group"
	cat >"$dir/nsswitch.conf" <<'EOF'
# The image's name service: files (/etc/passwd, /etc/group, and the /etc/hosts
# the runtime mounts), then DNS (the runtime's /etc/resolv.conf). Upstream
# glibc's default without this file is "dns [!UNAVAIL=return] files", which
# never reads /etc/hosts while a DNS server answers; Debian 13's glibc read
# /etc/hosts first anyway (measured), but the order is stated here rather
# than left to a build's default. Only the two sources built into glibc are
# named: the image has no libnss_*.so to load.
passwd: files
group: files
hosts: files dns
EOF
	chmod 644 "$dir/passwd" "$dir/group" "$dir/nsswitch.conf"
}

# Copies the project's own files: programs, configuration, error pages, /etc files.
copy_project_files() {
	local program
	install -d -m 755 "$ROOTFS$APP/build/errors" "$ROOTFS$APP/cgi-bin" "$ROOTFS/etc"
	for program in "${PROGRAMS[@]}"; do
		install -m 755 "build/$program" "$ROOTFS$APP/build/$program"
		[[ -z "$(interpreter_of "build/$program")" ]] || die "build/$program is not static"
	done
	install -m 644 build/errors/* "$ROOTFS$APP/build/errors/"
	install -m 644 lighttpd.conf "$ROOTFS$APP/"
	install -m 644 cgi-bin/mode-cgi.conf cgi-bin/mode-fastcgi.conf "$ROOTFS$APP/cgi-bin/"
	write_etc_files "$ROOTFS/etc"
	# The mount point of the runtime's tmpfs (RUN_DIR), sticky like any /tmp.
	install -d -m 1777 "$ROOTFS/tmp"
}

# Runs the tree's own lighttpd on the tree's own libraries (chroot), in both modes, with the
# test flag that parses the configuration and loads every module, then exits. lighttpd opens
# /dev/null, which the runtime provides; an empty file stands in for it during the check.
check_tree() {
	local mode name forwarded=()
	mkdir "$ROOTFS/dev"
	: >"$ROOTFS/dev/null"
	# Every env.X the configuration reads must be set, or lighttpd refuses it; those it
	# only forwards to the programs may be empty here.
	while read -r name; do
		forwarded+=("$name=")
	done < <(grep -oh 'env\.[A-Z_]*' lighttpd.conf cgi-bin/mode-*.conf | cut -d. -f2 | sort -u)
	for mode in cgi fastcgi; do
		env -i "${forwarded[@]}" APP_DIR="$APP/build" RUN_DIR=/tmp BIND_ADDR=127.0.0.1 \
			PORT=8080 BACKEND_MODE="$mode" \
			/usr/sbin/chroot "$ROOTFS" "$LIGHTTPD" -tt -f "$APP/lighttpd.conf" ||
			die "lighttpd -tt failed in the assembled tree ($mode mode)"
	done
	rm -r "${ROOTFS:?}/dev"
}

main() {
	[[ -f lighttpd.conf && -x build/start-lighttpd ]] || die "run from the source directory after make build"
	[[ ! -e "$ROOTFS" ]] || die "$ROOTFS exists already"
	mkdir -p "$ROOTFS"
	read_search_dirs
	copy_lighttpd
	copy_libraries
	copy_project_files
	check_tree
	find "$ROOTFS" -mindepth 1 ! -type d -printf 'assemble-image: %P %s\n' | sort
}

main "$@"
