#!/usr/bin/env bash
# Installs the Debian packages that the named groups need and that are missing.
# As root it uses apt-get, with services kept from starting; otherwise it prints
# the command to run, `sudo scripts/deps.sh GROUP...`, and fails: a plain
# `sudo apt-get install` would start Debian's redis-server on 6379 and lighttpd
# on 80, and `make run` would then find port 6379 taken.
# Debian's packages also enable their services at boot, so after a reboot the
# system's redis-server would take 6379 all the same: the services of the
# packages this script newly installs (dependencies included) are disabled at
# boot too (systemctl disable, update-rc.d disable). Those of packages that
# were installed before are left as they are. The project's scripts start
# their own servers; none needs a system service.
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

# Exits 2 naming the first unknown group, if any. Called before anything else:
# packages_of_groups runs in a pipeline or a process substitution, whose exit
# would not stop this script.
refuse_unknown_groups() {
	local group
	for group in "$@"; do
		if [[ -z "${GROUP_PACKAGES[$group]+set}" ]]; then
			echo "deps.sh: unknown group '$group' (known: ${!GROUP_PACKAGES[*]}); nothing was installed" >&2
			exit 2
		fi
	done
}

# Prints the packages of the given (known) groups, one per line, without repeats.
packages_of_groups() {
	local group
	for group in "$@"; do
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

# Prints the installed packages, one a line, sorted (none on a machine
# where dpkg-query knows none).
installed_packages() {
	{ dpkg-query -W -f='${Status} ${Package}\n' 2>/dev/null || true; } |
		awk '$1 == "install" && $3 == "installed" { print $4 }' | sort -u
}

# Disables at boot, without starting or stopping anything, the services that
# packages $@ ship: their systemd units (not templates such as
# redis-server@.service, which nothing enables) and their SysV init scripts.
disable_services_of() {
	local package path name
	for package in "$@"; do
		while read -r path; do
			name="${path##*/}"
			case "$path" in
			/lib/systemd/system/*.service | /usr/lib/systemd/system/*.service)
				[[ "$name" != *@.service ]] || continue
				if command -v systemctl >/dev/null 2>&1; then
					systemctl disable --quiet "$name" 2>/dev/null || true
					echo "deps.sh: disabled at boot: $name (from $package, installed now)" >&2
				fi
				;;
			/etc/init.d/*)
				if command -v update-rc.d >/dev/null 2>&1; then
					update-rc.d "$name" disable >/dev/null 2>&1 || true
				fi
				;;
			esac
		done < <(dpkg-query -L "$package" 2>/dev/null)
	done
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
		refuse_unknown_groups "$@"
		packages_of_groups "$@"
		return 0
	fi
	refuse_unknown_groups "$@"
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
	local before status=0
	before="$(installed_packages)"
	apt_install "${missing[@]}" || status=$?
	# Also after a failed install: what it did install stays disabled.
	# shellcheck disable=SC2046 # one package name a word
	disable_services_of $(comm -13 <(echo "$before") <(installed_packages))
	return "$status"
}

main "$@"
