#!/usr/bin/env bash
# Runs inside the Debian 13 test container (tests/in-debian13.sh starts it there): builds
# the programs into build/, a tmpfs, with Debian 13's compiler and libraries, prints one
# TAP comment saying what built them, then runs the command.
# podman fills a new tmpfs with a copy of what was below it (the host's build), and the
# copies look newer than the sources to make, which would then build nothing: build/ is
# emptied first. It must be a mount point, so that the host's build is never touched.
# Usage: tests/debian13/build-and-run.sh COMMAND...
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# Prints the installed version of the Debian package $1.
package_version() {
	dpkg-query -W -f '${Version}' "$1"
}

main() {
	if ! mountpoint -q build; then
		echo "build-and-run.sh: build/ is not a mount point; run it through tests/in-debian13.sh" >&2
		exit 2
	fi
	find build -mindepth 1 -delete
	if ! make build BUILD="$PWD/build" >/tmp/make-build.log 2>&1; then
		echo "# make build failed on Debian 13:"
		sed 's/^/#   /' /tmp/make-build.log
		exit 1
	fi
	echo "# built on $(sed -n 's/^PRETTY_NAME="\(.*\)"$/\1/p' /etc/os-release) with gcc" \
		"$(gcc -dumpfullversion), libhiredis-dev $(package_version libhiredis-dev)," \
		"libfcgi-dev $(package_version libfcgi-dev)"
	exec "$@"
}

main "$@"
