#!/usr/bin/env bats
# scripts/deps.sh on this host's Debian release: every group's packages exist here and
# install together. apt-get only simulates, so nothing is installed. Run on the host
# (suite deps) and in the Debian 13 container (suite debian13-deps), it shows that
# `make run` and `make test` find every package they ask for on both releases.

bats_load_library bats-support
bats_load_library bats-assert
load lib/common

# Succeeds when apt has package lists to answer from.
apt_has_lists() {
	compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null
}

@test "every package group of scripts/deps.sh installs on this Debian release (apt-get --simulate)" {
	apt_has_lists || skip "apt has no package lists here; run apt-get update"
	local group failures=() packages
	while read -r group; do
		# scripts/lib/deps-k8s.sh installs this group only where npm is missing: a Node.js
		# from nodesource brings its own npm and conflicts with Debian's.
		if [[ "$group" == node ]] && command -v npm >/dev/null; then continue; fi
		mapfile -t packages < <("$REPO_DIR/scripts/deps.sh" --list "$group")
		if ! apt-get install --simulate --no-install-recommends "${packages[@]}" \
			>"$BATS_TEST_TMPDIR/$group.log" 2>&1; then
			failures+=("$group: $(grep '^E:' "$BATS_TEST_TMPDIR/$group.log" | tr '\n' ' ')")
		fi
	done < <("$REPO_DIR/scripts/deps.sh" --groups)
	echo "# $(sed -n 's/^PRETTY_NAME="\(.*\)"$/\1/p' /etc/os-release): every group checked" >&3
	assert_equal "${failures[*]}" ""
}
