#!/usr/bin/env bash
# Installs the Debian packages that the named groups need and that are missing.
# As root it uses apt-get, with services kept from starting; otherwise it prints
# the command to run, `sudo scripts/deps.sh GROUP...`, and fails: a plain
# `sudo apt-get install` would start Debian's redis-server on 6379 and lighttpd
# on 80, and `make run` would then find port 6379 taken.
#
#   scripts/deps.sh GROUP...          install what the groups need
#   scripts/deps.sh --list GROUP...   print the groups' packages, one a line
#   scripts/deps.sh --groups          print the groups' names
set -euo pipefail

# One row per group: name, then the Debian packages it needs. Every name exists
# on Debian 12 and 13: libclang-rt-dev is the sanitizer and libFuzzer runtime
# of the release's default clang (14 on Debian 12, 19 on Debian 13).
declare -A GROUP_PACKAGES=(
	[build]="gcc make libc6-dev libhiredis-dev libfcgi-dev"
	[run]="lighttpd redis-server redis-tools curl"
	[test]="bats bats-support bats-assert valgrind clang libclang-rt-dev shellcheck procps strace iproute2"
	# The HTTP contract suite alone: tests/in-debian13.sh installs it with build and run.
	[contract]="bats bats-support bats-assert procps"
	# debootstrap checks the Debian archive's signatures with gpgv and the archive keyring.
	[container]="podman buildah runc debootstrap debian-archive-keyring gpgv netavark iptables"
	# Only to make the base image where no registry answers (scripts/lib/make-base-image.sh).
	[base-image]="debootstrap debian-archive-keyring gpgv"
	[k8s]="openssl"
	# podman kube play builds its pause image around catatonit; without it, it exits 125.
	[kube]="aardvark-dns catatonit"
	[stack]="nginx openssl"
	[bench]="wrk gnuplot-nox valgrind time procps redis-tools"
	[fuzz]="clang libclang-rt-dev"
	# Only where npm is missing (scripts/lib/deps-k8s.sh checks): nodesource's nodejs conflicts with it.
	[node]="nodejs npm"
)

# Prints the packages of the given groups, one per line, without repeats.
packages_of_groups() {
	local group
	for group in "$@"; do
		if [[ -z "${GROUP_PACKAGES[$group]+set}" ]]; then
			echo "deps.sh: unknown group '$group' (known: ${!GROUP_PACKAGES[*]})" >&2
			exit 2
		fi
		tr ' ' '\n' <<<"${GROUP_PACKAGES[$group]}"
	done | sort -u
}

# Succeeds when the Debian package is installed.
is_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# Installs packages with apt-get while a policy-rc.d keeps their services from
# starting: Debian's redis-server and lighttpd would otherwise take 6379 and 80.
apt_install() {
	local policy=/usr/sbin/policy-rc.d added_policy=no
	if [[ ! -e "$policy" ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		added_policy=yes
	fi
	local status=0
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "$@"; } || status=$?
	if [[ "$added_policy" == yes ]]; then
		rm -f "$policy"
	fi
	return "$status"
}

main() {
	if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
		sed -n '2,/^set -euo pipefail/{/^set -euo pipefail/d; s/^# \{0,1\}//; p}' "$0"
		echo "Groups: ${!GROUP_PACKAGES[*]}"
		return 0
	fi
	if [[ $# -eq 0 || "$1" == --list && $# -eq 1 ]]; then
		echo "usage: scripts/deps.sh [--list] GROUP... | --groups (groups: ${!GROUP_PACKAGES[*]})" >&2
		exit 2
	fi
	if [[ "$1" == --groups ]]; then
		tr ' ' '\n' <<<"${!GROUP_PACKAGES[*]}" | sort
		return 0
	fi
	if [[ "$1" == --list ]]; then
		shift
		packages_of_groups "$@"
		return 0
	fi
	local missing=() package
	while read -r package; do
		is_installed "$package" || missing+=("$package")
	done < <(packages_of_groups "$@")
	[[ ${#missing[@]} -eq 0 ]] && return 0
	if [[ "$(id -u)" -ne 0 ]]; then
		# This script again, as root: it keeps the services of what it installs
		# from starting, where a plain apt-get install would start them.
		echo "deps.sh: missing packages: ${missing[*]}. Install them with:" >&2
		echo "  sudo $0 $*" >&2
		exit 1
	fi
	echo "deps.sh: installing ${missing[*]}" >&2
	apt_install "${missing[@]}"
}

main "$@"
