# hostile.bash: raw and slow HTTP clients, for requests no polite client
# sends. Bash's /dev/tcp, curl's telnet:// and openssl s_client carry the
# bytes, so no Python is needed. Every client is bounded in time.

# Sends the raw bytes $2 (printf %b escapes) to loopback port $1 in plain
# HTTP and prints all the server answers until it closes (at most 3 s).
raw_plain() {
	printf '%b' "$2" | curl -sS --max-time 3 "telnet://127.0.0.1:$1" 2>/dev/null || true
}

# Sends the raw bytes $2 through TLS to the front of stack $1, checking its
# certificate as a client would, and prints all it answers (at most 5 s).
raw_tls() {
	local dir="$1" reply="${BATS_TEST_TMPDIR:-/tmp}/raw-tls.$BASHPID"
	printf '%b' "$2" | timeout 5 openssl s_client -quiet -verify_return_error \
		-connect "127.0.0.1:$(cat "$dir/front/https_port")" \
		-servername "$STACK_HOST" -CAfile "$dir/tls/tls.crt" >"$reply" 2>/dev/null || true
	error_bodies_record_raw openssl "$2" "$reply"
	cat "$reply"
	rm -f "$reply"
}

# Prints the status codes in a raw answer read from stdin, space-separated.
status_codes() {
	tr -d '\r' | grep -a -E '^HTTP/1\.[01] [0-9]{3}' | cut -d' ' -f2 | paste -sd' ' -
}

# Succeeds when every code in $1 is a 4xx or 501, including none at all
# (the server closed the connection): a hostile request must never get a
# 2xx, a 3xx or a server error.
only_rejections() {
	local code
	for code in $1; do
		[[ "$code" == 4?? || "$code" == 501 ]] || return 1
	done
}

# Records the answer to a slow request on fd $1, whose first line $2 has
# been read: the rest is read until the server closes (at most 1 s more).
record_slow_answer() {
	local fd="$1" rest="" reply="${BATS_TEST_TMPDIR:-/tmp}/slow-answer.$BASHPID"
	read -r -d '' -t 1 -u "$fd" rest || true
	printf '%s\n%s' "$2" "$rest" >"$reply"
	error_bodies_record_raw tcp "GET /v1/bitcoins HTTP/1.1\r\nHost: $STACK_HOST\r\nX-Slow: " "$reply"
	rm -f "$reply"
}

# Holds $2 connections to loopback port $1 that each send the start of a
# request header, then one more header byte every $3 seconds (0: never),
# for at most $4 seconds. Writes one line per connection to $5 when done:
# "closed S" (the server hung up after S seconds), "answered S STATUS", or
# "open S" (still open when time ran out). Meant to run in the background.
slow_headers() {
	local port="$1" count="$2" every="$3" seconds="$4" out="$5"
	local -a fds=() fates=()
	local index fd line status started=$SECONDS elapsed open
	trap '' PIPE
	for ((index = 0; index < count; index++)); do
		exec {fd}<>"/dev/tcp/127.0.0.1/$port" || break
		printf 'GET /v1/bitcoins HTTP/1.1\r\nHost: %s\r\nX-Slow: ' "$STACK_HOST" >&"$fd"
		fds+=("$fd")
		fates+=("")
	done
	open=${#fds[@]}
	while ((open > 0 && SECONDS - started < seconds)); do
		sleep 1
		elapsed=$((SECONDS - started))
		for index in "${!fds[@]}"; do
			[[ -z "${fates[index]}" ]] || continue
			fd="${fds[index]}"
			status=2
			# read -t 0 only asks whether a read would not block (an answer
			# or the end of the stream), so one pass over all is quick.
			if read -r -t 0 -u "$fd"; then
				status=0
				read -r -t 1 -u "$fd" line || status=$?
			fi
			if ((status == 0)); then
				fates[index]="answered $elapsed ${line//$'\r'/}"
				record_slow_answer "$fd" "$line"
			elif ((status == 1)); then
				fates[index]="closed $elapsed"
			elif ((every > 0 && elapsed % every == 0)); then
				{ printf 'x' >&"$fd"; } 2>/dev/null || fates[index]="closed $elapsed"
				continue
			else
				continue
			fi
			exec {fd}>&-
			open=$((open - 1))
		done
	done
	for index in "${!fds[@]}"; do
		echo "${fates[index]:-open $((SECONDS - started))}"
	done >"$out"
}

# Opens $2 TLS connections to the front of stack $1 that send the start of a
# request header and then nothing (openssl -quiet keeps the connection open
# after its input ends), for at most $3 seconds. Writes to $4, one line per
# connection, how many seconds it lasted at most. Meant to run in the
# background: it waits for its own clients only.
slow_tls_headers() {
	local dir="$1" count="$2" seconds="$3" out="$4" index pid started=$SECONDS
	local -a pids=()
	printf 'GET /v1/bitcoins HTTP/1.1\r\nHost: %s\r\n' "$STACK_HOST" >"$out.request"
	for ((index = 0; index < count; index++)); do
		timeout "$seconds" openssl s_client -quiet \
			-connect "127.0.0.1:$(cat "$dir/front/https_port")" \
			-servername "$STACK_HOST" <"$out.request" >/dev/null 2>&1 &
		pids+=("$!")
	done
	for pid in "${pids[@]}"; do
		wait "$pid" || true
		echo "$((SECONDS - started))" >>"$out"
	done
}
