#!/usr/bin/env bats
# The stack's nginx TLS front (tests/lib/stack.bash), which stands in for the
# NGINX Ingress, as an attacker would probe it: which TLS versions it
# negotiates, and whether every HTTPS answer carries HSTS. BACKEND_MODE and
# APP_DIR come from the environment.

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
load lib/common
load lib/stack

setup_file() {
	export STACK="$BATS_FILE_TMPDIR/stack"
	stack_start "$STACK"
	disown -a
}

teardown_file() {
	stack_stop "$STACK"
	stop_all_below "$BATS_FILE_TMPDIR"
}

# Prints the deposit URL of the front.
deposit_url() {
	echo "$(stack_url "$STACK")/v1/bitcoins"
}

# Opens a TLS connection to the front with openssl s_client, protocol
# option $1 (-tls1_3, -tls1_1...), SNI $2 (none when empty), the stack's
# certificate as the only CA, and sends one GET of the total. Prints what
# s_client reports and the answer. More s_client options follow.
tls_get() {
	local version="$1" name="$2"
	shift 2
	local -a sni=(-noservername)
	[[ -z "$name" ]] || sni=(-servername "$name")
	printf 'GET /v1/bitcoins HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$STACK_HOST" |
		timeout 10 openssl s_client -brief -ign_eof -verify_return_error -CAfile "$STACK/tls/tls.crt" \
			-connect "127.0.0.1:$(cat "$STACK/front/https_port")" "${sni[@]}" "$version" "$@" 2>&1
}

# Prints the value of header $1 in the raw answer headers on stdin.
header_value() {
	tr -d '\r' | awk -v name="$1" 'tolower($0) ~ "^" tolower(name) ":" { sub(/^[^:]*: */, ""); print }'
}

# Fails unless a request to the front with curl arguments $2... gets status
# $1 and the HSTS header.
assert_hsts() {
	local status="$1" headers
	shift
	headers="$(stack_curl "$STACK" -D - -o /dev/null "$@")"
	[[ "$headers" == "HTTP/"*" $status "* ]] || fail "expected $status for $*: $headers"
	assert_equal "$(header_value strict-transport-security <<<"$headers")" "$HSTS"
}

HSTS='max-age=31536000; includeSubDomains'

@test "the front negotiates TLS 1.3 and TLS 1.2, with SNI and without, and serves the API over each" {
	local version name
	for version in 1.3 1.2; do
		for name in "$STACK_HOST" ""; do
			run tls_get "-tls${version/./_}" "$name"
			assert_line "Protocol version: TLSv$version"
			assert_line --partial 'Verification: OK'
			assert_line --regexp '^HTTP/1\.1 200 '
		done
	done
}

@test "the front refuses TLS 1.1 and TLS 1.0 with a protocol_version alert, even to a client that offers them" {
	local version name
	# OpenSSL 3's default security level would stop the client itself from
	# offering TLS 1.1 or 1.0; level 0 lets it offer them, so the refusal
	# seen here comes from the server. Alert 70, protocol_version, says the
	# server does not enable that version at all (before, nginx answered
	# alert 80, internal_error: it had TLS 1.1 enabled and only its own
	# security level left it without a usable signature algorithm).
	for version in -tls1_1 -tls1; do
		for name in "$STACK_HOST" ""; do
			run tls_get "$version" "$name" -cipher 'DEFAULT:@SECLEVEL=0'
			assert_output --partial 'alert protocol version'
			assert_output --partial 'SSL alert number 70'
			refute_line 'CONNECTION ESTABLISHED'
			refute_line --regexp '^HTTP/'
		done
	done
}

@test "every HTTPS answer of the front carries HSTS, its errors included, and plain HTTP answers do not" {
	local url headers
	url="$(deposit_url)"
	head -c 2000000 /dev/zero >"$BATS_TEST_TMPDIR/big"
	assert_hsts 200 "$url"
	assert_hsts 404 "$(stack_url "$STACK")/nowhere"
	# lighttpd's own error, passed through; then one nginx makes itself.
	assert_hsts 411 --http1.1 -X POST "$url?bitcoins=1"
	assert_hsts 413 --data-binary "@$BATS_TEST_TMPDIR/big" "$url?bitcoins=1"
	# The port's default server, for a name it does not serve.
	assert_hsts 404 -k "https://127.0.0.1:$(cat "$STACK/front/https_port")/v1/bitcoins"
	headers="$(stack_curl "$STACK" -D - -o /dev/null "$(stack_http_url "$STACK")/v1/bitcoins")"
	[[ "$headers" == "HTTP/1.1 308 "* ]] || fail "$headers"
	assert_equal "$(header_value strict-transport-security <<<"$headers")" ""
}
