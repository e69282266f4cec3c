#!/usr/bin/env bash
# Makes the Redis password once and turns it into the Secret redis-auth.
#
#   scripts/gen-redis-secret.sh            create or update the Secret in the cluster
#   scripts/gen-redis-secret.sh --print    print the Secret's manifest instead
#
# The password lives in the git-ignored file k8s/secrets/redis-password (SECRETS_DIR
# overrides the folder). It is created when missing and never overwritten, so
# the backends and Redis keep agreeing on it and the data stays reachable.
# The Secret has two keys: "password" (the backends' REDIS_PASSWORD and the
# probes' REDISCLI_AUTH) and "redis-auth.conf" ("requirepass ...", which
# redis.conf includes from a mounted file: the password is on no command line).
# KUBE_CONTEXT (default minikube) and NAMESPACE (default devops-2025) say where.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_DIR
readonly SECRET_NAME=redis-auth
readonly SECRETS_DIR="${SECRETS_DIR:-$REPO_DIR/k8s/secrets}"
readonly PASSWORD_FILE="$SECRETS_DIR/redis-password"
readonly KUBE_CONTEXT="${KUBE_CONTEXT:-minikube}"
readonly NAMESPACE="${NAMESPACE:-devops-2025}"

# Writes a new random password, unless the file exists: noclobber makes the
# redirection fail instead of replacing a password that data depends on.
ensure_password() {
	mkdir -p "$SECRETS_DIR"
	chmod 700 "$SECRETS_DIR"
	[[ -s "$PASSWORD_FILE" ]] && return 0
	local password
	password="$(openssl rand -hex 32)"
	(
		set -o noclobber
		umask 077
		printf '%s' "$password" >"$PASSWORD_FILE"
	)
	echo "gen-redis-secret: new password in $PASSWORD_FILE" >&2
}

# Prints the Secret's manifest. kubectl builds it offline (--dry-run=client);
# both values go in as files, so the password is on no command line.
secret_manifest() {
	local conf status=0
	conf="$(mktemp "$SECRETS_DIR/redis-auth.conf.XXXXXX")"
	printf 'requirepass %s\n' "$(cat "$PASSWORD_FILE")" >"$conf"
	kubectl create secret generic "$SECRET_NAME" --namespace "$NAMESPACE" \
		--from-file=password="$PASSWORD_FILE" \
		--from-file=redis-auth.conf="$conf" \
		--dry-run=client --output yaml || status=$?
	rm -f "$conf"
	return "$status"
}

main() {
	case "${1:-}" in
	--print)
		ensure_password
		secret_manifest
		;;
	"")
		ensure_password
		secret_manifest | kubectl --context "$KUBE_CONTEXT" apply -f -
		;;
	*)
		echo "usage: scripts/gen-redis-secret.sh [--print]" >&2
		exit 2
		;;
	esac
}

main "$@"
