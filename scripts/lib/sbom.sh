#!/usr/bin/env bash
# Writes the image's SBOM, CycloneDX 1.5 JSON, in the image's build stage (where dpkg and a
# shell exist), from the assembled tree (scripts/lib/assemble-image.sh) and the linker's trace of
# the programs' links (make build CC="cc -Wl,--trace,--trace").
#
# It lists, with exact versions and purls (pkg:deb/debian/NAME@VERSION?arch=A&distro=debian-N):
# - every Debian package that owns a file in the tree (dpkg-query -S), with the files it put
#   there (evidence.occurrences);
# - every Debian package whose static archives or start files were linked into the programs
#   (glibc's libc6-dev, libhiredis-dev, libfcgi-dev, gcc's libgcc-N-dev), with the programs
#   that hold them: image scanners cannot see those, as no package database ships;
# - the project's own files (programs, configuration, error pages, /etc files), with SHA-256;
# - Debian itself (operating-system), and a dependency graph: each program on the packages
#   linked into it, each ELF file's package on the packages of its NEEDED libraries.
#
# Usage: scripts/lib/sbom.sh ROOTFS LINK_TRACE OUTPUT   (OUTPUT is a path inside ROOTFS)
set -euo pipefail

readonly ROOTFS="${1:?usage: sbom.sh ROOTFS LINK_TRACE OUTPUT}"
readonly LINK_TRACE="${2:?usage: sbom.sh ROOTFS LINK_TRACE OUTPUT}"
readonly OUTPUT="${3:?usage: sbom.sh ROOTFS LINK_TRACE OUTPUT}"
readonly IMAGE_REF=moneybank-backend-image
# debian-13 (from os-release), and the multiarch library directory the loader searches.
DISTRO=""
LIBRARY_DIR=""

# package -> newline-separated image paths of its files; package -> programs it is linked into;
# component -> what it depends on; path -> owning package; package -> its purl.
declare -A FILES_OF=() LINKED_INTO=() DEPENDS=() OWNER=() PURL=()
# Image paths of the project's own files.
OWN_FILES=()

# Prints a message and stops the build.
die() {
	echo "sbom: $*" >&2
	exit 1
}

# Prints $1 as a JSON string. Names, versions and paths here are plain printable text; a
# control character would mean something is badly wrong, so it stops the build.
json_string() {
	local text="$1"
	[[ "$text" != *[[:cntrl:]]* ]] || die "control character in '$text'"
	text="${text//\\/\\\\}"
	printf '"%s"' "${text//\"/\\\"}"
}

# Fills OWNER (path -> package) for the given absolute paths, with one dpkg query: paths that
# no package owns are left out (dpkg-query then fails, which is expected).
read_owners() {
	local line package path
	while IFS= read -r line; do
		[[ "$line" =~ ^([^:,[:space:]]+)(:[a-z0-9]+)?:\ (/.*)$ ]] || continue
		package="${BASH_REMATCH[1]}"
		path="${BASH_REMATCH[3]}"
		OWNER[$path]="$package"
	done < <(dpkg-query --search -- "$@" 2>/dev/null || true)
}

# Adds a line to an associative array's entry, once.
add_line() {
	local -n map="$1"
	local key="$2" line="$3"
	local current="${map["$key"]:-}"
	[[ $'\n'"$current"$'\n' == *$'\n'"$line"$'\n'* ]] || map["$key"]="${current:+$current$'\n'}$line"
}

# Sorts the files of the tree into Debian packages' files and the project's own.
classify_files() {
	local path
	local -a paths
	mapfile -t paths < <(cd "$ROOTFS" && find . -mindepth 1 ! -type d -printf '/%P\n' | sort)
	read_owners "${paths[@]}"
	for path in "${paths[@]}"; do
		[[ "$path" != "$OUTPUT" ]] || continue
		if [[ -n "${OWNER[$path]:-}" ]]; then
			add_line FILES_OF "${OWNER[$path]}" "$path"
		else
			OWN_FILES+=("$path")
		fi
	done
}

# Reads the link trace: "cc ... -o PROGRAM ..." starts a link, then ld names each object
# file and each archive member it took, "(ARCHIVE)MEMBER". Records which packages' files
# went into which program (by its image path, /app/build/NAME).
classify_links() {
	local line program="" input pair
	local -a archives
	local -A inputs=()
	while IFS= read -r line; do
		if [[ "$line" =~ ^[^[:space:]]*cc[[:space:]].*[[:space:]]-o[[:space:]]+([^[:space:]]+) && "$line" != *" -c "* ]]; then
			program="/app/build/$(basename "${BASH_REMATCH[1]}")"
			continue
		fi
		if [[ "$line" =~ ^\((/[^\)]+)\) ]]; then
			input="${BASH_REMATCH[1]}"
		elif [[ "$line" =~ ^/[^[:space:]]+\.o$ ]]; then
			input="$line"
		else
			continue
		fi
		[[ -n "$program" ]] || die "link trace names $input before any link command"
		inputs["$program $(realpath "$input")"]=1
	done <"$LINK_TRACE"
	mapfile -t archives < <(printf '%s\n' "${!inputs[@]}" | cut -d ' ' -f 2 | sort -u)
	read_owners "${archives[@]}"
	for pair in "${!inputs[@]}"; do
		input="${pair#* }"
		# The project's own objects belong to no package.
		[[ -z "${OWNER[$input]:-}" ]] || add_line LINKED_INTO "${OWNER[$input]}" "${pair%% *}"
	done
	((${#LINKED_INTO[@]} > 0)) || die "no linked package in $LINK_TRACE"
}

# Prints the package of the file a soname resolves to in the tree, or nothing.
package_of_soname() {
	local dir
	for dir in "$LIBRARY_DIR" /usr/lib; do
		if [[ -e "$ROOTFS$dir/$1" ]]; then
			echo "${OWNER[$dir/$1]:-}"
			return 0
		fi
	done
}

# Records the dependency graph: programs on linked packages, ELF files' packages on the
# packages of their NEEDED libraries.
collect_dependencies() {
	local package program path soname needed
	for package in "${!LINKED_INTO[@]}"; do
		while read -r program; do
			add_line DEPENDS "$program" "$(purl_of "$package")"
		done <<<"${LINKED_INTO[$package]}"
	done
	for package in "${!FILES_OF[@]}"; do
		while read -r path; do
			[[ -f "$ROOTFS$path" && ! -L "$ROOTFS$path" ]] || continue
			head -c 4 "$ROOTFS$path" | grep -q 'ELF' || continue
			while read -r soname; do
				needed="$(package_of_soname "$soname")"
				[[ -n "$needed" && "$needed" != "$package" ]] || continue
				add_line DEPENDS "$(purl_of "$package")" "$(purl_of "$needed")"
			done < <(readelf --dynamic "$ROOTFS$path" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
		done <<<"${FILES_OF[$package]}"
	done
}

# Prints a dpkg field of an installed package.
package_field() {
	dpkg-query --show --showformat="\${$2}" "$1"
}

# Records the purl of every listed package; ':' (an epoch) is percent-encoded, as purl asks.
read_purls() {
	local package version
	for package in $(printf '%s\n' "${!FILES_OF[@]}" "${!LINKED_INTO[@]}" | sort -u); do
		version="$(package_field "$package" Version)"
		PURL[$package]="$(printf 'pkg:deb/debian/%s@%s?arch=%s&distro=%s' "$package" \
			"${version//:/%3A}" "$(package_field "$package" Architecture)" "$DISTRO")"
	done
}

# Prints the purl of a listed package.
purl_of() {
	echo "${PURL[$1]}"
}

# Prints a JSON array of {"location": PATH} for newline-separated paths.
occurrences_json() {
	local path first=1
	printf '['
	while read -r path; do
		[[ -n "$path" ]] || continue
		((first)) || printf ','
		first=0
		printf '{"location":%s}' "$(json_string "$path")"
	done <<<"$1"
	printf ']'
}

# Prints one Debian package as a component: "application" when it puts a program in the
# image, "library" otherwise; its occurrences are its files, or the programs it is linked
# into.
package_json() {
	local package="$1" files="${FILES_OF[$1]:-}" linked="${LINKED_INTO[$1]:-}" type=library
	local how="files" where="$files"
	if grep -qE '^/usr/s?bin/' <<<"$files"; then type=application; fi
	if [[ -n "$linked" && -n "$files" ]]; then
		how="files and statically linked into programs"
		where="$files"$'\n'"$linked"
	elif [[ -n "$linked" ]]; then
		how="statically linked into programs"
		where="$linked"
	fi
	printf '{"type":"%s","bom-ref":%s,"publisher":"Debian","name":%s,"version":%s,"purl":%s,' \
		"$type" "$(json_string "$(purl_of "$package")")" "$(json_string "$package")" \
		"$(json_string "$(package_field "$package" Version)")" \
		"$(json_string "$(purl_of "$package")")"
	printf '"properties":[{"name":"debian:source","value":%s},{"name":"debian:source-version","value":%s},{"name":"moneybank:in-image","value":%s}],' \
		"$(json_string "$(package_field "$package" source:Package)")" \
		"$(json_string "$(package_field "$package" source:Version)")" "$(json_string "$how")"
	printf '"evidence":{"occurrences":%s}}' "$(occurrences_json "$where")"
}

# Prints one of the project's own files as a component with its SHA-256.
own_file_json() {
	local path="$1" type=file name sha
	name="$path"
	if [[ "$path" == /app/build/* && -x "$ROOTFS$path" && "$path" != /app/build/errors/* ]]; then
		type=application
		name="$(basename "$path")"
	fi
	sha="$(sha256sum "$ROOTFS$path" | cut -d ' ' -f 1)"
	printf '{"type":"%s","bom-ref":%s,"name":%s,"hashes":[{"alg":"SHA-256","content":"%s"}],"evidence":{"occurrences":[{"location":%s}]}}' \
		"$type" "$(json_string "$path")" "$(json_string "$name")" "$sha" "$(json_string "$path")"
}

# Prints the dependencies array: the image on every component, then the recorded graph.
dependencies_json() {
	local -a refs=() entries=()
	local package path ref dep first
	for package in $(printf '%s\n' "${!FILES_OF[@]}" "${!LINKED_INTO[@]}" | sort -u); do
		refs+=("$(json_string "$(purl_of "$package")")")
	done
	for path in "${OWN_FILES[@]}"; do refs+=("$(json_string "$path")"); done
	refs+=('"debian"')
	entries+=("{\"ref\":\"$IMAGE_REF\",\"dependsOn\":[$(IFS=, && echo "${refs[*]}")]}")
	for ref in $(printf '%s\n' "${!DEPENDS[@]}" | sort); do
		first="{\"ref\":$(json_string "$ref"),\"dependsOn\":["
		while read -r dep; do
			first+="$(json_string "$dep"),"
		done < <(sort <<<"${DEPENDS[$ref]}")
		entries+=("${first%,}]}")
	done
	(IFS=, && echo "[${entries[*]}]")
}

# Prints the whole document.
document_json() {
	local -a components=()
	local package path
	for package in $(printf '%s\n' "${!FILES_OF[@]}" "${!LINKED_INTO[@]}" | sort -u); do
		components+=("$(package_json "$package")")
	done
	for path in "${OWN_FILES[@]}"; do components+=("$(own_file_json "$path")"); done
	components+=("{\"type\":\"operating-system\",\"bom-ref\":\"debian\",\"name\":\"debian\",\"version\":$(json_string "$(cat /etc/debian_version)")}")
	printf '{"bomFormat":"CycloneDX","specVersion":"1.5","serialNumber":"urn:uuid:%s","version":1,' \
		"$(cat /proc/sys/kernel/random/uuid)"
	printf '"metadata":{"timestamp":"%s","tools":{"components":[{"type":"application","name":"scripts/lib/sbom.sh","description":"dpkg-query and the linker trace, in the build stage"}]},' \
		"$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	printf '"component":{"type":"container","bom-ref":"%s","name":"dev.local/d22/backend"}},' "$IMAGE_REF"
	printf '"components":[%s],' "$(IFS=, && echo "${components[*]}")"
	printf '"dependencies":%s}\n' "$(dependencies_json)"
}

main() {
	[[ -d "$ROOTFS" && -f "$LINK_TRACE" ]] || die "no tree at $ROOTFS or no trace at $LINK_TRACE"
	DISTRO="debian-$(. /etc/os-release && echo "$VERSION_ID")"
	LIBRARY_DIR="/usr/lib/$(gcc -print-multiarch)"
	classify_files
	classify_links
	read_purls
	collect_dependencies
	mkdir -p "$ROOTFS$(dirname "$OUTPUT")"
	document_json >"$ROOTFS$OUTPUT"
	chmod 644 "$ROOTFS$OUTPUT"
	echo "sbom: wrote $OUTPUT: ${#FILES_OF[@]} packages with files, ${#LINKED_INTO[@]} linked, ${#OWN_FILES[@]} own files"
}

main "$@"
