#!/usr/bin/env bash
# Installs what the offline Kubernetes checks (tests/k8s.bats) need: openssl,
# node and npm, and the npm packages pinned in tests/package-lock.json, which
# `npm ci` puts into the git-ignored tests/node_modules.
#
# node and npm come from Debian only when the machine has no npm at all: a
# Node.js from nodesource bundles npm and conflicts with Debian's npm package,
# which apt would otherwise swap in for it. kubectl is not installed: Debian
# has only an old one, and tests/k8s.bats skips the render without it.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly REPO_DIR
readonly TESTS_DIR="$REPO_DIR/tests"
# A copy of the lock file that `npm ci` last installed from.
readonly STAMP="$TESTS_DIR/node_modules/.installed-package-lock.json"

# Installs node and npm from Debian when npm is missing.
ensure_node() {
	"$REPO_DIR/scripts/deps.sh" k8s
	if ! command -v npm >/dev/null 2>&1; then
		"$REPO_DIR/scripts/deps.sh" node
	fi
}

# Runs `npm ci` unless tests/node_modules already holds this lock file's packages.
ensure_packages() {
	if cmp -s "$TESTS_DIR/package-lock.json" "$STAMP"; then
		return 0
	fi
	echo "deps-k8s: npm ci in tests/" >&2
	(cd "$TESTS_DIR" && npm ci --no-audit --no-fund --loglevel=error)
	cp "$TESTS_DIR/package-lock.json" "$STAMP"
}

main() {
	ensure_node
	ensure_packages
}

main "$@"
