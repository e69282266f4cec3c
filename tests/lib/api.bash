# api.bash: HTTP helpers for the contract tests. Each request leaves its
# status, headers and body in HTTP_STATUS, HTTP_HEADERS and HTTP_BODY.
# shellcheck disable=SC2034 # the variables are read by the tests

# Sends a request to $BASE_URL$2 with method $1; more curl arguments follow.
http() {
	local method="$1" path="$2"
	shift 2
	local out="$BATS_TEST_TMPDIR/response"
	HTTP_STATUS="$(curl -sS --max-time 10 -o "$out.body" -D "$out.headers" \
		-w '%{http_code}' -X "$method" "$@" "$BASE_URL$path")"
	HTTP_HEADERS="$(tr -d '\r' <"$out.headers")"
	HTTP_BODY="$(cat "$out.body")"
	HTTP_BODY_BYTES="$(wc -c <"$out.body")"
}

# Sends the raw request $1 (printf escapes allowed) to the target and prints
# all it answers until it closes the connection, which curl alone hides.
raw_request() {
	printf '%b' "$1" | curl -sS --max-time 5 "telnet://${BASE_URL#http://}" 2>/dev/null || true
}

# Sends HEAD for path $1 and leaves the status in HTTP_STATUS, the headers in
# HTTP_HEADERS, and whatever came after them in HTTP_BODY and HTTP_BODY_BYTES.
head_request() {
	local reply
	reply="$(raw_request "HEAD $1 HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"; echo x)"
	reply="${reply%x}"
	HTTP_HEADERS="$(tr -d '\r' <<<"${reply%%$'\r\n\r\n'*}")"
	HTTP_STATUS="$(head -1 <<<"$HTTP_HEADERS" | cut -d' ' -f2)"
	HTTP_BODY="${reply#*$'\r\n\r\n'}"
	HTTP_BODY_BYTES="${#HTTP_BODY}"
}

# POSTs with an empty body, as every well-behaved client does.
post() {
	local path="$1"
	shift
	http POST "$path" -d '' "$@"
}

# Prints the value of response header $1 (case-insensitive), if present.
header() {
	awk -v name="$(tr '[:upper:]' '[:lower:]' <<<"$1")" -F': ' '
		tolower($1) == name { sub(/^[^:]*: /, ""); print; exit }' <<<"$HTTP_HEADERS"
}

# POSTs to $2 URLs $1 times each from one curl per client (which reconnects
# after each answer: the backend keeps no connection alive),
# with $3 clients at once, and prints one status code per request.
post_many() {
	local url="$1" per_client="$2" clients="$3"
	# shellcheck disable=SC2016 # the inner script expands its own arguments
	seq "$clients" | xargs -P "$clients" -I{} bash -c '
		args=(); for _ in $(seq "$1"); do args+=(-o /dev/null "$0"); done
		curl -s --max-time 300 -d "" -w "%{http_code}\n" "${args[@]}"
	' "$url" "$per_client"
}

# Prints the current total.
total() {
	curl -sS --fail --max-time 10 "$BASE_URL/v1/bitcoins"
}

# Asserts the last response was status $1 with a JSON {"error":"..."} body.
assert_json_error() {
	local status="$1"
	[[ "$HTTP_STATUS" == "$status" ]] ||
		fail "expected status $status, got $HTTP_STATUS: $HTTP_BODY"
	[[ "$(header Content-Type)" == application/json* ]] ||
		fail "expected a JSON error, got Content-Type '$(header Content-Type)'"
	[[ "$HTTP_BODY" =~ ^\{\"error\":\"[^\"]{10,}\"\}$ ]] ||
		fail "expected {\"error\":\"...\"}, got: $HTTP_BODY"
}

# Asserts that POST with query $1 is rejected with 400, a JSON error that
# mentions $2 (when not empty), and that the total did not change.
assert_deposit_rejected() {
	local query="$1" mention="$2" before
	before="$(total)"
	post "/v1/bitcoins?$query"
	assert_json_error 400
	[[ -z "$mention" || "$HTTP_BODY" == *"$mention"* ]] ||
		fail "expected the error to mention '$mention': $HTTP_BODY"
	assert_equal "$(total)" "$before"
}
