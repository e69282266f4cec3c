# load.bash: a bounded load of deposits made of curl processes, one per
# client, each reusing its connection. Every request is a POST with its own
# id and a known amount, so each answer can be matched to its deposit later.
# A plan lives in a directory: client-N/config (curl -K), client-N/out (one
# line per request: "ID AMOUNT STATUS SECONDS", status 000 when no answer
# came), and client-N/pid while the client runs.

# Writes a plan into directory $1: $2 requests in all from $3 clients to the
# deposit URL $4 (".../v1/bitcoins"), ids "$5-CLIENT-N", amounts 1..9 (so
# sums check amounts too). With $6 = keyed, each request carries its id as
# its Idempotency-Key. More curl options for every request follow, as curl
# config lines (e.g. 'cacert = "FILE"').
load_plan() {
	local dir="$1" requests="$2" clients="$3" url="$4" prefix="$5" keyed="$6"
	shift 6
	local client
	for client in $(seq "$clients"); do
		mkdir -p "$dir/client-$client"
	done
	awk -v dir="$dir" -v requests="$requests" -v clients="$clients" \
		-v url="$url" -v prefix="$prefix" -v keyed="$keyed" \
		-v extra="$(printf '%s\n' "$@")" 'BEGIN {
		for (client = 1; client <= clients; client++) {
			config = dir "/client-" client "/config"
			for (n = client; n <= requests; n += clients) {
				id = prefix "-" client "-" n
				amount = n % 9 + 1
				printf "url = \"%s?bitcoins=%d&id=%s\"\n", url, amount, id > config
				printf "data = \"\"\noutput = \"/dev/null\"\n" > config
				printf "write-out = \"%s %d %%{http_code} %%{time_total}\\n\"\n", id, amount > config
				if (keyed == "keyed")
					printf "header = \"Idempotency-Key: %s\"\n", id > config
				if (extra != "")
					printf "%s\n", extra > config
				printf "next\n" > config
			}
			close(config)
		}
	}'
}

# Starts every client of plan $1 in the background and returns at once.
load_start() {
	local client
	for client in "$1"/client-*/; do
		curl -s -K "$client/config" >"$client/out" 2>/dev/null 3>&- &
		echo "$!" >"$client/pid"
	done
}

# Prints how many requests of plan $1 have an answer so far, or, with $2,
# how many got status $2.
load_progress() {
	cat "$1"/client-*/out | awk -v status="${2:-}" \
		'status == "" || $3 == status { n++ } END { print n + 0 }'
}

# Succeeds when no client of plan $1 is still running.
load_finished() {
	local pidfile
	for pidfile in "$1"/client-*/pid; do
		[[ -f "$pidfile" ]] || continue
		process_gone "$(cat "$pidfile")" || return 1
		rm -f "$pidfile"
	done
	return 0
}

# Kills the clients of plan $1 that still run; checks each pid is still a
# curl first, so a recycled pid is never hit. The pid is the recording curl
# of lib/error-bodies.bash, whose death ends the real one.
load_stop() {
	local pidfile pid
	for pidfile in "$1"/client-*/pid; do
		[[ -f "$pidfile" ]] || continue
		pid="$(cat "$pidfile")"
		rm -f "$pidfile"
		if error_bodies_is_curl "$pid"; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
}

# Waits up to $2 seconds for plan $1 to finish; kills what is left then.
load_wait() {
	local status=0
	wait_until "$2" load_finished "$1" || status=$?
	load_stop "$1"
	return "$status"
}

# Runs plan $1 to its end, for at most $2 seconds.
load_run() {
	load_start "$1"
	load_wait "$1" "$2"
}

# Prints every result line of plan $1: "ID AMOUNT STATUS SECONDS".
load_results() {
	cat "$1"/client-*/out
}
