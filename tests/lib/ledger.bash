# ledger.bash: which deposits of a keyed load (lib/load.bash) Redis holds.
# Each keyed deposit's Idempotency-Key is recorded by Redis in the same
# atomic step as its INCRBY, so the record says whether that very deposit
# was applied, whatever answer (or none) its client got. Needs lib/common.
# shellcheck disable=SC2034 # the LEDGER_ variables are read by the tests

# Writes the ledger of keyed plan $1, checked against the Redis in $2, to
# $1/ledger: each result line plus 1 when Redis holds the deposit's record
# (it was applied) or 0.
write_ledger() {
	local plan="$1" redis="$2"
	load_results "$plan" >"$plan/results"
	awk '{ print "EXISTS idempotency:" $1 }' "$plan/results" |
		redis_cmd "$redis" >"$plan/applied"
	paste -d' ' "$plan/results" "$plan/applied" >"$plan/ledger"
	assert_equal "$(wc -l <"$plan/ledger")" "$(wc -l <"$plan/applied")"
}

# Reads the ledger of plan $1 into LEDGER_REQUESTS, _ACKED (204), _COUNTED
# (applied), _LOST (204 but not applied), _COUNTED_SUM (amounts applied),
# _ALL_SUM (all amounts), _UNANSWERED (not 204) and _SLOWEST_503 (seconds).
read_ledger() {
	read -r LEDGER_REQUESTS LEDGER_ACKED LEDGER_COUNTED LEDGER_LOST \
		LEDGER_COUNTED_SUM LEDGER_ALL_SUM LEDGER_UNANSWERED LEDGER_SLOWEST_503 \
		< <(awk '
			{ requests++; all += $2 }
			$3 == 204 { acked++ }
			$5 == 1 { counted++; sum += $2 }
			$3 == 204 && $5 != 1 { lost++ }
			$3 != 204 { unanswered++ }
			$3 == 503 && $4 > slowest { slowest = $4; seen = 1 }
			END { printf "%d %d %d %d %d %d %d %s\n", requests, acked, counted,
				lost, sum, all, unanswered, seen ? sprintf("%.3f", slowest) : "-" }' "$1/ledger")
}

# Shows on the TAP output the deposits of plan $1 that got no 204, with
# whether each was applied anyway (at most $2 lines, then a count).
show_unanswered() {
	awk -v limit="$2" '$3 != 204 {
		n++
		if (n <= limit)
			printf "#   %s amount %s: status %s, %s\n", $1, $2, $3,
				$5 == 1 ? "applied anyway" : "not applied"
	} END { if (n > limit) printf "#   ... and %d more\n", n - limit }' \
		"$1/ledger" >&3
}
