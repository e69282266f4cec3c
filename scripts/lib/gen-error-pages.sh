#!/usr/bin/env bash
# Writes the JSON bodies lighttpd sends for the errors it answers itself
# (server.errorfile-prefix). Each says what was wrong, whether anything
# changed and what to do, and names no host, port, setting or file
# (tests/error-bodies.bats checks them, and every body the suites receive).
# A 500, 502 or 504 can come after the program sent a deposit to Redis (it
# crashed, or passed cgi.limits' read-timeout), so those never invite a
# blind retry of a deposit; they answer reads too, which change nothing and
# may simply be sent again.
# Usage: scripts/lib/gen-error-pages.sh OUTPUT_DIR
set -euo pipefail

readonly API='use GET /v1/bitcoins to read the total, POST /v1/bitcoins?bitcoins=N to deposit, or GET /healthz and GET /livez to probe'
readonly UNKNOWN_OUTCOME='a read changed nothing and may simply be sent again; a deposit may or may not have been added: check the total, or retry it with the same Idempotency-Key, which is safe'
# What the errors lighttpd answers before any program runs did.
readonly UNCHANGED='nothing was changed'

# status|message: one row per status lighttpd can answer on its own.
readonly PAGES="400|the request is malformed (control characters, a bad header or a bad URL encoding); $UNCHANGED; fix the request and send it again
403|this path is not served; $UNCHANGED; $API
404|this path is not served; $UNCHANGED; $API
405|this method is not allowed here; $UNCHANGED; use GET or HEAD to read, or POST to deposit
408|the request took too long to arrive; $UNCHANGED; send it again
411|a POST needs a Content-Length header; $UNCHANGED; send Content-Length: 0 when there is no body, for example curl -d '' -X POST URL
413|the request body is too large; $UNCHANGED; send deposits without a body: the amount goes in the query string, ?bitcoins=N
414|the URL is too long; $UNCHANGED; shorten it: the API needs only ?bitcoins=N
417|Expect is not supported; $UNCHANGED; send the request without an Expect header
431|the request headers are too large; $UNCHANGED; send fewer or shorter headers
500|the server failed to answer; $UNKNOWN_OUTCOME; tell the bank's operator if it persists
501|this method or transfer coding is not implemented; $UNCHANGED; use GET, HEAD or POST with Content-Length
502|the program serving this request failed to answer; $UNKNOWN_OUTCOME; tell the bank's operator if it persists
503|the server is overloaded or starting and did not take this request; $UNCHANGED; try again shortly
504|the program serving this request took too long to answer; $UNKNOWN_OUTCOME
505|this HTTP version is not supported; $UNCHANGED; use HTTP/1.1"

main() {
	local output_dir="${1:?usage: gen-error-pages.sh OUTPUT_DIR}"
	local status message
	mkdir -p "$output_dir"
	while IFS='|' read -r status message; do
		printf '{"error":"%s"}\n' "$message" >"$output_dir/status-$status.html"
	done <<<"$PAGES"
}

main "$@"
