#!/usr/bin/env bash
# Makes sure the base image debian:SUITE-slim exists for the container engine.
# Usage: scripts/lib/make-base-image.sh [SUITE]   (trixie, the default, or bookworm)
#
# Does nothing when the image is already there. Otherwise it tries to pull it, and when no
# registry can be reached (as on our offline machines) it builds an equivalent image locally:
# debootstrap --variant=minbase from the Debian mirror this machine already uses, slimmed the
# way the official slim images are, imported as localhost/debian:SUITE-slim and tagged
# docker.io/library/debian:SUITE-slim so that "FROM debian:SUITE-slim" builds offline.
# The backend image and the Debian 13 suite use trixie; the kube suites' Redis stand-in
# still uses bookworm (its Redis 7.0 is the nearest Debian has to production's 7.4).
# Building it needs root and debootstrap (the "base-image" deps group, installed here then).
# debootstrap verifies the archive's signatures with Debian's archive keyring
# (--force-check-gpg: no keyring, or a signature that does not verify, stops the build
# instead of bootstrapping unverified packages).
# REBUILD_AS=NAME always builds locally and imports the result as NAME alone (no pull, no
# usual tags): a rehearsal that leaves the base images other builds use untouched.
set -euo pipefail

SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly SCRIPTS_DIR
readonly ENGINE="${SCRIPTS_DIR}/container-engine.sh"
readonly SUITE="${1:-trixie}"
readonly PULL_NAME="docker.io/library/debian:${SUITE}-slim"
readonly LOCAL_NAME="localhost/debian:${SUITE}-slim"
readonly DEFAULT_MIRROR=http://deb.debian.org/debian
readonly DEFAULT_SECURITY_MIRROR=http://deb.debian.org/debian-security
# Debian's archive keyring (package debian-archive-keyring): the keys of every release the
# host's Debian knows, trixie's and bookworm's included on Debian 12 and 13.
readonly KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
readonly REBUILD_AS="${REBUILD_AS:-}"
ROOTFS=""

# True when the engine already has the base image.
base_image_exists() {
	"${ENGINE}" image inspect "${PULL_NAME}" >/dev/null 2>&1
}

# Tries a normal pull first, so machines that reach a registry get the official image.
pull_base_image() {
	echo "make-base-image: trying to pull ${PULL_NAME}"
	timeout 120 "${ENGINE}" pull "${PULL_NAME}" >/dev/null 2>&1
}

# Prints the first mirror URI serving the given suite, read from the machine's apt sources
# (deb822 debian.sources first, then the one-line sources.list), or nothing.
apt_mirror_for_suite() {
	local suite="$1" sources=/etc/apt/sources.list.d/debian.sources list=/etc/apt/sources.list
	if [[ -r "${sources}" ]]; then
		awk -v suite="${suite}" '
			/^URIs:/ { uri = $2 }
			/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite && uri != "") { print uri; exit } }
			/^$/ { uri = "" }' "${sources}"
	fi
	if [[ -r "${list}" ]]; then
		awk -v suite="${suite}" '$1 == "deb" && $3 == suite { print $2; exit }' "${list}"
	fi
}

# Prints the mirror for the suite, falling back to the mirror of this machine's own release
# (a Debian 12 host lists no trixie, but its mirror serves it), then to the given default.
# $3 is the host's suite with the same suffix ("bookworm-security" for "trixie-security").
mirror_or_default() {
	local found
	found="$({ apt_mirror_for_suite "$1"; apt_mirror_for_suite "$3"; } | head -n 1)"
	echo "${found:-$2}"
}

# Prints this machine's Debian codename (bookworm, trixie, ...), or nothing.
host_codename() {
	sed -n 's/^VERSION_CODENAME=//p' /etc/os-release 2>/dev/null
}

# Unmounts anything debootstrap left mounted inside the rootfs, then deletes it.
remove_rootfs() {
	[[ -n "${ROOTFS}" ]] || return 0
	rm -f "${ROOTFS}.log"
	[[ -d "${ROOTFS}" ]] || return 0
	awk -v root="${ROOTFS}/" 'index($2, root) == 1 { print $2 }' /proc/mounts | sort -r |
		while read -r mount_point; do umount -l "${mount_point}" || true; done
	rm -rf --one-file-system "${ROOTFS}"
}

# Writes apt sources for SUITE, SUITE-updates and SUITE-security into the rootfs.
write_apt_sources() {
	local mirror="$1" security_mirror="$2"
	rm -f "${ROOTFS}/etc/apt/sources.list"
	cat >"${ROOTFS}/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: ${mirror}
Suites: ${SUITE} ${SUITE}-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${security_mirror}
Suites: ${SUITE}-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
}

# Configures dpkg and apt like the official slim images: no docs, man pages or locales get
# installed later, apt keeps no caches, and services never start during package installs.
write_slim_config() {
	cat >"${ROOTFS}/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
	cat >"${ROOTFS}/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
	echo 'Acquire::Languages "none";' >"${ROOTFS}/etc/apt/apt.conf.d/docker-no-languages"
	echo 'APT::AutoRemove::SuggestsImportant "false";' \
		>"${ROOTFS}/etc/apt/apt.conf.d/docker-autoremove-suggests"
	printf '#!/bin/sh\nexit 101\n' >"${ROOTFS}/usr/sbin/policy-rc.d"
	chmod 755 "${ROOTFS}/usr/sbin/policy-rc.d"
}

# Deletes what the slim config would not have installed, plus apt lists, caches, logs and the
# host's resolv.conf and hostname that debootstrap copied in.
slim_rootfs() {
	find "${ROOTFS}/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
	find "${ROOTFS}/usr/share/doc" -mindepth 1 -type d -empty -delete
	rm -rf "${ROOTFS}/usr/share/man/"* "${ROOTFS}/usr/share/info/"* \
		"${ROOTFS}/usr/share/groff/"* "${ROOTFS}/usr/share/lintian/"*
	find "${ROOTFS}/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias \
		-exec rm -rf {} +
	rm -rf "${ROOTFS}/var/lib/apt/lists/"* "${ROOTFS}/var/cache/apt/"*.bin \
		"${ROOTFS}/var/cache/apt/archives/"*.deb "${ROOTFS}/var/cache/debconf/"*-old \
		"${ROOTFS}/var/lib/dpkg/"*-old
	find "${ROOTFS}/var/log" -type f -delete
	rm -f "${ROOTFS}/etc/resolv.conf" "${ROOTFS}/etc/hostname"
	: >"${ROOTFS}/etc/machine-id"
}

# Stops with a clear message unless the archive keyring can be read: without it debootstrap
# could not verify what it downloads.
require_keyring() {
	if [[ ! -r "${KEYRING}" ]]; then
		echo "make-base-image: no Debian archive keyring at ${KEYRING}, so the archive's" \
			"signatures cannot be verified; install it with: scripts/deps.sh base-image" >&2
		exit 1
	fi
}

# Bootstraps, slims and imports the base image as $1, with the usual tag $2 when given.
build_base_image() {
	local name="$1" usual_name="${2:-}" mirror security_mirror host
	if ((EUID != 0)); then
		echo "make-base-image: debootstrap needs root; run: sudo $0 ${SUITE}" >&2
		exit 1
	fi
	# Only this path needs debootstrap: with docker, `make image` installs no
	# container group (scripts/build-image.sh).
	"${SCRIPTS_DIR}/../deps.sh" base-image
	require_keyring
	host="$(host_codename)"
	mirror="$(mirror_or_default "${SUITE}" "${DEFAULT_MIRROR}" "${host}")"
	security_mirror="$(mirror_or_default "${SUITE}-security" "${DEFAULT_SECURITY_MIRROR}" \
		"${host}-security")"
	ROOTFS="$(mktemp -d "${TMPDIR:-/var/tmp}/debian-rootfs.XXXXXX")"
	trap remove_rootfs EXIT
	echo "make-base-image: debootstrap ${SUITE} from ${mirror}, signatures checked (about a minute)"
	if ! debootstrap --variant=minbase --force-check-gpg --keyring="${KEYRING}" \
		"${SUITE}" "${ROOTFS}" "${mirror}" >"${ROOTFS}.log" 2>&1; then
		grep -E '^[EW]:' "${ROOTFS}.log" >&2 || tail -n 5 "${ROOTFS}.log" >&2
		echo "make-base-image: debootstrap ${SUITE} failed (see above); nothing was imported" >&2
		exit 1
	fi
	grep -E '^I: (Checking|Valid) Release signature' "${ROOTFS}.log" | sed 's/^/make-base-image: /' || true
	write_apt_sources "${mirror}" "${security_mirror}"
	write_slim_config
	slim_rootfs
	tar --numeric-owner -C "${ROOTFS}" -c . |
		"${ENGINE}" import \
			--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
			--change 'CMD ["bash"]' - "${name}" >/dev/null
	if [[ -n "${usual_name}" ]]; then
		"${ENGINE}" tag "${name}" "${usual_name}"
		echo "make-base-image: built ${name}, tagged ${usual_name}"
	else
		echo "make-base-image: built ${name}"
	fi
}

# Leaves the engine with a base image: the existing one, a pulled one, or a local build.
main() {
	if [[ -n "${REBUILD_AS}" ]]; then
		echo "make-base-image: rebuilding ${SUITE} locally as ${REBUILD_AS}"
		build_base_image "${REBUILD_AS}"
	elif base_image_exists; then
		echo "make-base-image: ${PULL_NAME} already present"
	elif pull_base_image; then
		echo "make-base-image: pulled ${PULL_NAME}"
	else
		echo "make-base-image: no registry reachable; building ${PULL_NAME} locally"
		build_base_image "${LOCAL_NAME}" "${PULL_NAME}"
	fi
}

main "$@"
