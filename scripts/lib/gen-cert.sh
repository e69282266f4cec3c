#!/usr/bin/env bash
# Makes the self-signed TLS certificate for the Ingress host and turns it into
# the kubernetes.io/tls Secret bitcoin-tls that k8s/ingress.yaml names.
#
#   scripts/lib/gen-cert.sh [--print] [--new-key] [--files-only] [HOST]
#
#   HOST       the Ingress host; default bitcoin.<minikube ip>.nip.io
#   --print    print the Secret's manifest instead of applying it
#   --new-key  replace the private key (otherwise an existing key is kept)
#   --files-only  only make the key and certificate files; no kubectl
#              (scripts/stack.sh uses this for its local nginx front)
#
# Key and certificate live in the git-ignored files k8s/secrets/tls.key and
# k8s/secrets/tls.crt (SECRETS_DIR overrides the folder); give that tls.crt to
# curl --cacert. The key is made once and kept unless --new-key asks for a new
# one. The certificate is issued again, with the same key, when it is
# missing, names another host (its only SAN is exactly HOST), no longer
# matches the key, or expires within 30 days.
# KUBE_CONTEXT (default minikube) and NAMESPACE (default devops-2025) say where.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly REPO_DIR
readonly TLS_SECRET_NAME=bitcoin-tls
readonly SECRETS_DIR="${SECRETS_DIR:-$REPO_DIR/k8s/secrets}"
readonly KEY_FILE="$SECRETS_DIR/tls.key"
readonly CERT_FILE="$SECRETS_DIR/tls.crt"
readonly KUBE_CONTEXT="${KUBE_CONTEXT:-minikube}"
readonly NAMESPACE="${NAMESPACE:-devops-2025}"
readonly CERT_DAYS=825
readonly RENEW_BEFORE_SECONDS=$((30 * 24 * 3600))

# Prints the usage and exits with status $1.
usage() {
	echo "usage: scripts/lib/gen-cert.sh [--print] [--new-key] [--files-only] [HOST]" >&2
	exit "$1"
}

# Prints the default host, from the running minikube's IP.
default_host() {
	local ip
	ip="$(minikube ip)" || {
		echo "gen-cert: no HOST given and 'minikube ip' failed" >&2
		return 1
	}
	echo "bitcoin.$ip.nip.io"
}

# Creates the private key when it is missing, or when $1 is "yes" (--new-key).
# Without --new-key, noclobber makes writing over an existing key fail.
ensure_key() {
	local replace="$1"
	mkdir -p "$SECRETS_DIR"
	chmod 700 "$SECRETS_DIR"
	if [[ -s "$KEY_FILE" && "$replace" != yes ]]; then
		return 0
	fi
	local new_key
	new_key="$(umask 077 && openssl genpkey -algorithm RSA \
		-pkeyopt rsa_keygen_bits:2048 2>/dev/null)"
	(
		[[ "$replace" == yes ]] || set -o noclobber
		umask 077
		printf '%s\n' "$new_key" >"$KEY_FILE"
	)
	echo "gen-cert: new private key in $KEY_FILE" >&2
}

# Succeeds when the certificate exists, names exactly host $1 as its only
# SAN, belongs to the key, and stays valid for another 30 days.
cert_is_current() {
	local host="$1" sans
	[[ -s "$CERT_FILE" ]] || return 1
	sans="$(openssl x509 -in "$CERT_FILE" -noout -ext subjectAltName 2>/dev/null |
		tail -n +2 | tr -d ' ')" || return 1
	[[ "$sans" == "DNS:$host" ]] || return 1
	[[ "$(openssl x509 -in "$CERT_FILE" -noout -pubkey)" == \
		"$(openssl pkey -in "$KEY_FILE" -pubout)" ]] || return 1
	openssl x509 -in "$CERT_FILE" -noout -checkend "$RENEW_BEFORE_SECONDS" >/dev/null
}

# Issues a self-signed server certificate for host $1 with the existing key.
issue_cert() {
	local host="$1"
	openssl req -x509 -new -key "$KEY_FILE" -sha256 -days "$CERT_DAYS" \
		-subj "/CN=$host" \
		-addext "subjectAltName=DNS:$host" \
		-addext "basicConstraints=critical,CA:FALSE" \
		-addext "keyUsage=critical,digitalSignature,keyEncipherment" \
		-addext "extendedKeyUsage=serverAuth" \
		-out "$CERT_FILE.new"
	mv "$CERT_FILE.new" "$CERT_FILE"
	echo "gen-cert: new certificate for $host in $CERT_FILE" >&2
}

# Prints the Secret's manifest. kubectl builds it offline (--dry-run=client).
secret_manifest() {
	kubectl create secret tls "$TLS_SECRET_NAME" --namespace "$NAMESPACE" \
		--cert "$CERT_FILE" --key "$KEY_FILE" --dry-run=client --output yaml
}

main() {
	local print=no new_key=no files_only=no host=""
	while [[ $# -gt 0 ]]; do
		case "$1" in
		--print) print=yes ;;
		--new-key) new_key=yes ;;
		--files-only) files_only=yes ;;
		-h | --help) usage 0 ;;
		-*) usage 2 ;;
		*)
			[[ -z "$host" ]] || usage 2
			host="$1"
			;;
		esac
		shift
	done
	[[ -n "$host" ]] || host="$(default_host)"
	ensure_key "$new_key"
	cert_is_current "$host" || issue_cert "$host"
	# --files-only: the local stack needs the files, not the Secret.
	[[ "$files_only" == no ]] || return 0
	if [[ "$print" == yes ]]; then
		secret_manifest
	else
		secret_manifest | kubectl --context "$KUBE_CONTEXT" apply -f -
	fi
}

main "$@"
