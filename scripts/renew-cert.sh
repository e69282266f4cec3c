#!/usr/bin/env bash
# Renews the TLS certificate that the NGINX Ingress serves for Money Bank on
# minikube: issues a new self-signed certificate, valid 825 days, for the
# same host, puts it in the Secret bitcoin-tls (namespace devops-2025,
# context minikube), and checks that the Secret holds it. The Ingress
# controller watches the Secret and serves the new certificate within
# seconds; no pod restarts.
#
#   scripts/renew-cert.sh [--new-key] [--force]
#
#   --new-key  replace the private key too (k8s/secrets/tls.key), at once:
#              implies --force, since a leaked key cannot wait 24 hours
#   --force    renew even a certificate issued in the last 24 hours
#
# Without either, a certificate issued in the last 24 hours counts as
# renewed: running this again then only makes sure the Secret holds it, which
# also finishes a run that stopped before updating the Secret.
# Clients check the server against this self-signed certificate (curl
# --cacert k8s/secrets/tls.crt), so after a renewal every client must fetch
# the new k8s/secrets/tls.crt; with the old one it fails with "SSL
# certificate problem". scripts/lib/gen-cert.sh makes the first certificate
# (make k8s-up runs it) and on its own renews one only within 30 days of its
# expiry or for another host. SECRETS_DIR overrides k8s/secrets/, as there.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_DIR
readonly PROGRAM=renew-cert
# shellcheck source=scripts/lib/cli.bash
source "$REPO_DIR/scripts/lib/cli.bash"
# shellcheck source=scripts/lib/k8s.bash
source "$REPO_DIR/scripts/lib/k8s.bash"
# gen-cert.sh, which issues the certificate, reads the same folder.
readonly SECRETS_DIR="${SECRETS_DIR:-$REPO_DIR/k8s/secrets}"
export SECRETS_DIR
readonly KEY_FILE="$SECRETS_DIR/tls.key"
readonly CERT_FILE="$SECRETS_DIR/tls.crt"
readonly TLS_SECRET=bitcoin-tls
# gen-cert.sh issues certificates for 825 days: one with more than 824 days
# left was issued in the last 24 hours.
readonly FRESH_SECONDS=$((824 * 24 * 3600))

usage() {
	usage_exit "$1" "${BASH_SOURCE[0]}"
}

# Prints the host the certificate names (gen-cert.sh gives it one DNS SAN).
cert_host() {
	openssl x509 -in "$CERT_FILE" -noout -ext subjectAltName 2>/dev/null |
		sed -n 's/^[[:space:]]*DNS://p' | head -n 1
}

# Prints the certificate's start (notBefore) or end (notAfter) date: $1.
cert_date() {
	openssl x509 -in "$CERT_FILE" -noout "-$1" | cut -d= -f2
}

# Succeeds when the certificate was issued in the last 24 hours.
cert_is_fresh() {
	openssl x509 -in "$CERT_FILE" -noout -checkend "$FRESH_SECONDS" >/dev/null
}

# Issues a new certificate for host $1 through gen-cert.sh, with a new key
# when $2 is "yes". gen-cert.sh never replaces a current certificate, so the
# old one is moved aside first, and put back should the issue fail.
renew() {
	local host="$1" new_key="$2" options=(--files-only) log
	[[ "$new_key" == no ]] || options+=(--new-key)
	mv "$CERT_FILE" "$CERT_FILE.replaced"
	if ! log="$("$REPO_DIR/scripts/lib/gen-cert.sh" "${options[@]}" "$host" 2>&1)"; then
		mv "$CERT_FILE.replaced" "$CERT_FILE"
		die "gen-cert.sh failed, the old certificate is back in place: $log"
	fi
	rm -f "$CERT_FILE.replaced"
	say "issued a new certificate for $host$([[ "$new_key" == no ]] || echo ", with a new key")"
}

# Succeeds when the Secret holds exactly the local certificate and key.
secret_holds_files() {
	local cert key
	cert="$(kube get secret "$TLS_SECRET" -o 'jsonpath={.data.tls\.crt}' 2>/dev/null)" || return 1
	key="$(kube get secret "$TLS_SECRET" -o 'jsonpath={.data.tls\.key}' 2>/dev/null)" || return 1
	[[ "$(base64 -d <<<"$cert")" == "$(cat "$CERT_FILE")" &&
		"$(base64 -d <<<"$key")" == "$(cat "$KEY_FILE")" ]]
}

# Puts the local certificate and key for host $1 into the Secret unless it
# holds them, and checks the result. Fails (1) when nothing had to change.
update_secret() {
	local host="$1"
	if secret_holds_files; then
		say "the Secret $TLS_SECRET in $NAMESPACE already holds this certificate and key"
		return 1
	fi
	"$REPO_DIR/scripts/lib/gen-cert.sh" --print "$host" 2>/dev/null |
		kube apply -f - >/dev/null
	secret_holds_files ||
		die "after kubectl apply the Secret $TLS_SECRET still does not hold $CERT_FILE"
	say "updated the Secret $TLS_SECRET in $NAMESPACE; the Ingress serves the new certificate within seconds"
}

main() {
	local new_key=no force=no changed=no host
	while [[ $# -gt 0 ]]; do
		case "$1" in
		--new-key) new_key=yes force=yes ;;
		--force) force=yes ;;
		-h | --help) usage 0 ;;
		*) unknown_argument "$1" ;;
		esac
		shift
	done
	require_tools openssl kubectl
	[[ -s "$CERT_FILE" && -s "$KEY_FILE" ]] ||
		die "no certificate and key in $SECRETS_DIR to renew; make k8s-up makes the first ones"
	host="$(cert_host)"
	[[ -n "$host" ]] || die "$CERT_FILE names no DNS host; make k8s-up makes a new one"
	require_namespace
	if cert_is_fresh && [[ "$force" == no ]]; then
		say "the certificate for $host was issued $(cert_date startdate), less than 24 hours" \
			"ago: it counts as renewed (--force renews it again)"
	else
		renew "$host" "$new_key"
		changed=yes
	fi
	if update_secret "$host"; then changed=yes; fi
	say "the certificate for $host is valid until $(cert_date enddate); SHA-256 fingerprint" \
		"$(openssl x509 -in "$CERT_FILE" -noout -fingerprint -sha256 | cut -d= -f2)"
	if [[ "$changed" == yes ]]; then
		say "clients must fetch the new certificate, $CERT_FILE: with the old one" \
			"(curl --cacert) they fail with \"SSL certificate problem\""
	else
		say "nothing changed"
	fi
}

main "$@"
