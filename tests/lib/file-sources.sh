#!/usr/bin/env bash
# Runs inside the image's build stage (tests/image.bats mounts it there): says where each
# of the image's files came from. The image's tree is mounted at /image; each input line
# is "PATH<TAB>SOURCE", SOURCE being the build stage's file the image's must equal (the path
# itself for a Debian package's file). Prints "PATH<TAB>PACKAGE<TAB>SOURCE<TAB>STATUS" per
# line: PACKAGE is the owner dpkg names ("-" for none), STATUS same, differs, missing or
# special (not a file or link).
# Ownership comes from dpkg's own file lists, read once (a dpkg-query --search per path, or
# one with every path, took minutes on a Debian image's thousands of files).
set -euo pipefail

readonly IMAGE_ROOT=/image
readonly DPKG_INFO=/var/lib/dpkg/info
declare -A OWNER=()

# Fills OWNER (path -> package) from every installed package's file list.
read_owners() {
	local list package file
	for list in "$DPKG_INFO"/*.list; do
		package="${list##*/}"
		package="${package%.list}"
		package="${package%%:*}"
		while IFS= read -r file; do
			[[ -n "${OWNER[$file]+set}" ]] || OWNER["$file"]="$package"
		done <"$list"
	done
}

# Prints same, differs, missing or special: the image's file or link against the build
# stage's. A device node, pipe or socket is never read (/dev/zero would never end).
compare() {
	local path="$1" source="$2"
	if [[ ! -L "$IMAGE_ROOT$path" && ! -f "$IMAGE_ROOT$path" ]]; then
		echo special
	elif [[ -L "$IMAGE_ROOT$path" ]]; then
		if [[ -L "$source" && "$(readlink "$IMAGE_ROOT$path")" == "$(readlink "$source")" ]]; then
			echo same
		else
			echo differs
		fi
	elif [[ ! -e "$source" ]]; then
		echo missing
	elif cmp -s "$IMAGE_ROOT$path" "$source"; then
		echo same
	else
		echo differs
	fi
}

main() {
	local -a paths sources
	local i
	while IFS=$'\t' read -r path source; do
		paths+=("$path")
		sources+=("$source")
	done
	((${#paths[@]} > 0)) || return 0
	read_owners
	for i in "${!paths[@]}"; do
		printf '%s\t%s\t%s\t%s\n' "${paths[i]}" "${OWNER[${paths[i]}]:--}" "${sources[i]}" \
			"$(compare "${paths[i]}" "${sources[i]}")"
	done
}

main "$@"
