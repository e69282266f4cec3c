#!/usr/bin/env bash
# Writes the JSON bodies lighttpd sends for the errors it answers itself
# (server.errorfile-prefix). Each says what was wrong and what to do. A 500,
# 502 or 504 can come after the program sent a deposit to Redis (it crashed,
# or passed cgi.limits' read-timeout), so those never invite a blind retry
# of a deposit; they answer reads too, which may simply be sent again.
# Usage: scripts/gen-error-pages.sh OUTPUT_DIR
set -euo pipefail

# status|message: one row per status lighttpd can answer on its own.
readonly PAGES='400|the request is malformed (control characters, a bad header or a bad URL encoding); fix the request and send it again
403|this path is not served; the API is GET /v1/bitcoins, POST /v1/bitcoins?bitcoins=N, GET /healthz and GET /livez
404|this path is not served; the API is GET /v1/bitcoins, POST /v1/bitcoins?bitcoins=N, GET /healthz and GET /livez
405|this method is not allowed here
408|the request took too long to arrive; send it again
411|a POST needs a Content-Length header; send Content-Length: 0 when there is no body, for example curl -d '"''"' -X POST URL
413|the request body is too large; deposits take their amount from the query string and need no body
414|the URL is too long; the API needs only ?bitcoins=N
417|Expect is not supported; send the request without an Expect header
431|the request headers are too large; send fewer or shorter headers
500|the server failed to answer; a read may simply be sent again; a deposit may or may not have been added: check the total, or retry it with the same Idempotency-Key, which is safe; tell an operator if it persists
501|this method or transfer coding is not implemented; use GET, HEAD or POST with Content-Length
502|the backend program failed to answer; a read may simply be sent again; a deposit may or may not have been added: check the total, or retry it with the same Idempotency-Key, which is safe; tell an operator if it persists
503|the server is overloaded or starting; try again shortly
504|the backend program took too long to answer; a read may simply be sent again; a deposit may or may not have been added: check the total, or retry it with the same Idempotency-Key, which is safe
505|this HTTP version is not supported; use HTTP/1.1'

main() {
	local output_dir="${1:?usage: gen-error-pages.sh OUTPUT_DIR}"
	local status message
	mkdir -p "$output_dir"
	while IFS='|' read -r status message; do
		printf '{"error":"%s"}\n' "$message" >"$output_dir/status-$status.html"
	done <<<"$PAGES"
}

main "$@"
