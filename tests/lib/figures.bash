# figures.bash: the reliability suite's table of figures. Each scenario adds
# one row; at the end the table goes to the TAP output (as "# " lines on fd
# 3) and to a file under the git-ignored results/.

# The file that collects the rows while the suite runs.
figures_file() {
	echo "$BATS_FILE_TMPDIR/figures.tsv"
}

# Adds a row: scenario, requests, acknowledged (204), counted in the total,
# acknowledged but lost, slowest 503 in seconds ("-" when none), and a note.
figure_add() {
	local IFS=$'\t'
	echo "$*" >>"$(figures_file)"
}

# Prints the table, one line per scenario in the order of the issue's
# items (the number that starts each name), with aligned columns.
figures_table() {
	local format='%-44s %8s %6s %7s %5s %7s  %s\n'
	# shellcheck disable=SC2059 # the format is the constant above
	printf "$format" scenario requests acked counted lost "503 (s)" note
	[[ -f "$(figures_file)" ]] || return 0
	while IFS=$'\t' read -r scenario requests acked counted lost slowest note; do
		# shellcheck disable=SC2059
		printf "$format" "$scenario" "$requests" "$acked" "$counted" "$lost" \
			"$slowest" "$note"
	done < <(sort -s -t$'\t' -k1,1n "$(figures_file)")
}

# Prints the table to the TAP output and writes it to results/$1.
figures_report() {
	local file="$REPO_DIR/results/$1"
	mkdir -p "$(dirname "$file")"
	{
		echo "Reliability figures, BACKEND_MODE=${BACKEND_MODE:-cgi}, $(date -u +%FT%TZ)"
		echo "machine: $(nproc) cores, $(sed -n 's/^PRETTY_NAME="\(.*\)"$/\1/p' /etc/os-release), load generator on the same cores"
		figures_table
	} >"$file"
	sed 's/^/# /' "$file" >&3
	echo "# (also in results/$1)" >&3
}
