#!/usr/bin/env bash
# Makes the Redis users' passwords once and turns them into three Secrets, so
# that each pod mounts only what it needs and Redis holds no password, only
# SHA-256 hashes:
#   redis-acl    users.acl: Redis's ACL file (redis.conf's aclfile), with
#                the users below and the hashes of their passwords;
#                mounted by the Redis pod only
#   redis-app    password: the application's; mounted by the backends only
#                (REDIS_PASSWORD_FILE)
#   redis-probe  password: the probe's; mounted by the Redis pod only, for
#                its own probes
# The admin's password is in no Secret: it stays on the operator's machine,
# and Redis has only its hash. The operator sends it on stdin, so that it is
# on no command line and in no environment:
#   kubectl -n devops-2025 exec -i redis-0 -- redis-cli --user admin --askpass \
#     ACL LIST <k8s/secrets/redis-admin-password
#
#   scripts/lib/gen-redis-secret.sh               create or update the Secrets
#   scripts/lib/gen-redis-secret.sh --print       print their manifests instead
#   scripts/lib/gen-redis-secret.sh --files-only  only the files below, no kubectl
#                                             (the local stack and the tests)
#
# The users (Redis checks the commands a function calls against its caller's
# ACL, so the app's user is allowed exactly what the deposit function and a
# read of the total do, on exactly their keys):
#   default  off, no password: no client can be it (a connection that has not
#            authenticated as another user may run nothing but AUTH). Its
#            permissions stay all: Redis replays the AOF as the default user,
#            and EXEC checks its permissions again, so without them every
#            MULTI/EXEC in the AOF (each keyed deposit) would be dropped at
#            the next start (redis/redis#14541, seen here with Redis 7.0 and
#            8.0; fixed upstream in late 2025)
#   app      FCALL with the keys bitcoins and idempotency:*; GET and INCRBY on
#            bitcoins; GET, SET and PTTL on idempotency:*; nothing else. It
#            calls only the functions of our library (k8s/redis-functions.lua):
#            no EVAL, EVALSHA, SCRIPT or FUNCTION, so no Lua of its choosing
#            runs (a loop that holds Redis unkillably, a heap past maxmemory).
#            FCALL_RO is not needed: both functions may write.
#   probe    PING, and FUNCTION LIST and LOAD: the Redis pod's readiness probe
#            loads our library when Redis lacks it (k8s/redis-load-functions.sh).
#            Its password is mounted in the Redis pod only.
#   admin    everything, for the operator
#
# The passwords live in the git-ignored folder k8s/secrets (SECRETS_DIR
# overrides it), one file per user: redis-USER-password. Each is made when
# missing and never overwritten; users.acl is written there from them.
# A rotation keeps two passwords valid at once, so nothing is refused
# meanwhile: users.acl also lists the hashes of redis-USER-password.next and
# redis-USER-password.old when they exist. scripts/rotate-redis-password.sh
# (make k8s-rotate-password) takes these steps and waits between them; for
# the app's password they are:
#   1. write a new password to redis-app-password.next; run this script;
#      once the kubelet has updated redis-0's copy of users.acl (up to a
#      minute or two), run ACL LOAD as admin: both passwords are valid;
#   2. rename redis-app-password to .old and .next to redis-app-password;
#      run this script: the backends' Secret has the new password. Each CGI
#      reads its file when it starts, so CGI mode takes it up once the
#      kubelet has updated the file; FastCGI responders read it once, so run
#      kubectl rollout restart deployment/backend (maxUnavailable 0: no
#      downtime) and wait for kubectl rollout status;
#   3. delete redis-app-password.old; run this script; ACL LOAD again: the
#      old password is refused from then on.
# The probe's password goes the same way (each probe reads its file anew,
# so no restart); the admin's too, where the steps change only users.acl.
# ACL LOAD reads the whole file or changes nothing. Redis 7.4 and later keep
# connected clients through it; 7.0 and 7.2 close those of other users than
# default, which then reconnect on their next command.
# KUBE_CONTEXT (default minikube) and NAMESPACE (default devops-2025) say where.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly REPO_DIR
readonly SECRETS_DIR="${SECRETS_DIR:-$REPO_DIR/k8s/secrets}"
readonly ACL_FILE="$SECRETS_DIR/users.acl"
readonly KUBE_CONTEXT="${KUBE_CONTEXT:-minikube}"
readonly NAMESPACE="${NAMESPACE:-devops-2025}"
readonly USERS="app probe admin"
# The Secret of the single password Redis had before its ACL users.
readonly LEGACY_SECRET=redis-auth

# Each user's permissions, after "user NAME on #HASH...". Single spaces: the
# ACL file splits its lines on each one.
permissions() {
	case "$1" in
	app) echo "resetkeys resetchannels -@all +fcall ~bitcoins ~idempotency:* (+get +incrby ~bitcoins) (+get +set +pttl ~idempotency:*)" ;;
	probe) echo "resetkeys resetchannels -@all +ping +function|list +function|load" ;;
	admin) echo "~* &* +@all" ;;
	esac
}

# Prints the file that holds user $1's password.
password_file() {
	echo "$SECRETS_DIR/redis-$1-password"
}

# Writes a new random password for user $1, unless its file exists:
# noclobber makes the redirection fail instead of replacing a password.
ensure_password() {
	local file password
	file="$(password_file "$1")"
	[[ -s "$file" ]] && return 0
	# 32 random bytes in hex, with coreutils alone (the Debian 13 test host
	# has no openssl).
	password="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
	(
		set -o noclobber
		umask 077
		printf '%s' "$password" >"$file"
	)
	echo "gen-redis-secret: new password for Redis user $1 in $file" >&2
}

# Prints " #HASH" for each password file of user $1 (the current one, and a
# rotation's .next and .old): the SHA-256 of the password as the programs
# send it (config.c drops one final newline, as $(...) does here). Sorted,
# so that users.acl stays the same when a rotation only renames the files
# (.next to current, current to .old), and the pod has nothing new to wait for.
password_hashes() {
	local file password hash
	for file in "$(password_file "$1")" "$(password_file "$1").next" "$(password_file "$1").old"; do
		[[ -s "$file" ]] || continue
		password="$(cat "$file")"
		printf '%s\n' "$(printf '%s' "$password" | sha256sum | cut -d' ' -f1)"
	done | sort | while read -r hash; do
		printf ' #%s' "$hash"
	done
}

# Writes users.acl: the default user off (see above), then each user with its
# hashes.
write_acl_file() {
	local user
	(
		umask 077
		{
			echo "user default off resetpass ~* &* +@all"
			for user in $USERS; do
				echo "user $user on$(password_hashes "$user") $(permissions "$user")"
			done
		} >"$ACL_FILE.new"
	)
	mv "$ACL_FILE.new" "$ACL_FILE"
}

# Makes the passwords that are missing and writes users.acl.
ensure_files() {
	local user
	mkdir -p "$SECRETS_DIR"
	chmod 700 "$SECRETS_DIR"
	for user in $USERS; do
		ensure_password "$user"
	done
	write_acl_file
}

# Prints the Secret $1 with key $2 from file $3. kubectl builds it offline
# (--dry-run=client); the value goes in as a file, on no command line.
secret_manifest() {
	kubectl create secret generic "$1" --namespace "$NAMESPACE" \
		--from-file="$2=$3" --dry-run=client --output yaml
}

# Prints the three Secrets' manifests.
secret_manifests() {
	secret_manifest redis-acl users.acl "$ACL_FILE"
	echo ---
	secret_manifest redis-app password "$(password_file app)"
	echo ---
	secret_manifest redis-probe password "$(password_file probe)"
}

main() {
	case "${1:-}" in
	--files-only)
		ensure_files
		;;
	--print)
		ensure_files
		secret_manifests
		;;
	"")
		ensure_files
		secret_manifests | kubectl --context "$KUBE_CONTEXT" apply -f -
		# The single password Redis had before, now unused: not left behind.
		kubectl --context "$KUBE_CONTEXT" --namespace "$NAMESPACE" delete secret \
			"$LEGACY_SECRET" --ignore-not-found
		;;
	*)
		echo "usage: scripts/lib/gen-redis-secret.sh [--print | --files-only]" >&2
		exit 2
		;;
	esac
}

main "$@"
