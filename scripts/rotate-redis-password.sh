#!/usr/bin/env bash
# Rotates a Redis user's password on minikube (context minikube, namespace
# devops-2025) with no window of refusals: the old and the new password are
# both valid until every client has the new one.
#
#   scripts/rotate-redis-password.sh [--user app|probe|admin] [--force]
#
#   --user   whose password: app (the default; the backends'), probe (the
#            Redis pod's probes') or admin (the operator's, in no Secret)
#   --force  rotate even a password rotated in the last 24 hours
#
# The steps (the passwords are files in k8s/secrets/, which SECRETS_DIR
# overrides; scripts/lib/gen-redis-secret.sh makes the Secrets from them):
#   1. a new password in redis-USER-password.next; the Secrets again: the ACL
#      file users.acl lists the hashes of both passwords;
#   2. waits until redis-0 sees that users.acl (the kubelet updates a mounted
#      Secret within about a minute; ROTATE_SYNC_SECONDS, 300, bounds the
#      wait), then ACL LOAD as admin: Redis accepts both passwords;
#   3. the new password becomes redis-USER-password, the old one .old; the
#      Secrets again: the backends' (or the probe's) Secret has the new one;
#   4. the clients take it up. app: kubectl rollout restart of the backends
#      (maxUnavailable 0, so no downtime), and waits for the rollout: every
#      backend then started with the new password, in CGI and FastCGI mode
#      alike (the image has no shell to read a running pod's file with).
#      probe: waits until redis-0's mounted password is the new one. admin:
#      nothing (its password is in no Secret);
#   5. the old password goes (.old becomes .retired); the Secrets again,
#      waits for redis-0, ACL LOAD: the old password is refused from then on
#      (WRONGPASS), which the script checks, then deletes the .retired file.
#
# It checks first that the namespace exists and that Redis answers to the
# admin password, and changes nothing otherwise. A run that stopped half-way
# (a slow kubelet, a stuck rollout, Ctrl-C) goes on where it stopped when run
# again. A password rotated in the last 24 hours counts as rotated: running
# this again then only checks that Redis accepts it.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_DIR
readonly PROGRAM=rotate-redis-password
# shellcheck source=scripts/lib/cli.bash
source "$REPO_DIR/scripts/lib/cli.bash"
# shellcheck source=scripts/lib/k8s.bash
source "$REPO_DIR/scripts/lib/k8s.bash"
SECRETS_DIR="${SECRETS_DIR:-$REPO_DIR/k8s/secrets}"
readonly SECRETS_DIR
export SECRETS_DIR
readonly ACL_FILE="$SECRETS_DIR/users.acl"
readonly REDIS_POD=redis-0
readonly REDIS_CONTAINER=redis
readonly BACKENDS=deployment/backend
readonly SYNC_SECONDS="${ROTATE_SYNC_SECONDS:-300}"
readonly FRESH_SECONDS=$((24 * 3600))
# Set by main: the user, and its password files.
USER_NAME=app
CURRENT=""
NEXT=""
OLD=""
RETIRED=""
ROTATED=""

usage() {
	usage_exit "$1" "${BASH_SOURCE[0]}"
}

# Runs a command in the Redis container with file $1 as its stdin.
in_redis_pod() {
	local input="$1"
	shift
	kube exec -i "$REDIS_POD" -c "$REDIS_CONTAINER" -- "$@" <"$input"
}

# Prints what redis-cli in the Redis container answers to user $1 with the
# password in file $2 (on stdin, so on no command line), for command $3...
redis_as() {
	local user="$1" file="$2"
	shift 2
	in_redis_pod "$file" redis-cli --user "$user" --askpass -h 127.0.0.1 -p 6379 "$@" 2>&1
}

# Succeeds when Redis accepts user $1's password in file $2. PING tells it:
# a refused password leaves the connection unauthenticated (NOAUTH), and
# the app's user may not run PING (NOPERM) but is authenticated.
password_accepted() {
	local reply
	reply="$(redis_as "$1" "$2" PING)" || return 1
	[[ "$reply" != *NOAUTH* && "$reply" != *WRONGPASS* && "$reply" != *"AUTH failed"* &&
		("$reply" == PONG || "$reply" == *NOPERM*) ]]
}

# Prints the file of the admin password Redis accepts now: the current one,
# or, during a rotation of the admin's own password, the new or the old one.
admin_file() {
	local file base="$SECRETS_DIR/redis-admin-password"
	for file in "$base" "$base.next" "$base.old" "$base.retired"; do
		[[ -s "$file" ]] && password_accepted admin "$file" && echo "$file" && return 0
	done
	return 1
}

# Fails, having changed nothing, unless redis-0 answers and accepts the
# admin's password.
require_redis_admin() {
	local reply
	reply="$(kube get pod "$REDIS_POD" -o name 2>&1)" ||
		die "there is no pod $REDIS_POD in $NAMESPACE ($reply): Redis is down; make k8s-logs" \
			"and kubectl --context $KUBE_CONTEXT -n $NAMESPACE describe pod $REDIS_POD say why." \
			"Nothing was changed."
	[[ -s "$SECRETS_DIR/redis-admin-password" ]] ||
		die "no Redis admin password at $SECRETS_DIR/redis-admin-password (it stays on the" \
			"machine that ran make k8s-up). Nothing was changed."
	reply="$(redis_as admin "$SECRETS_DIR/redis-admin-password" PING)" || true
	case "$reply" in
	PONG) return 0 ;;
	*WRONGPASS* | *"AUTH failed"* | *NOAUTH*)
		admin_file >/dev/null ||
			die "Redis refuses the admin password in $SECRETS_DIR/redis-admin-password" \
				"(WRONGPASS): is it this cluster's? Nothing was changed."
		;;
	*) die "Redis ($REDIS_POD) does not answer: ${reply:-no answer}. Nothing was changed." ;;
	esac
}

# Writes the Secrets from the files (gen-redis-secret.sh), quietly unless it
# fails.
apply_secrets() {
	local log
	log="$(KUBE_CONTEXT="$KUBE_CONTEXT" NAMESPACE="$NAMESPACE" \
		"$REPO_DIR/scripts/lib/gen-redis-secret.sh" 2>&1)" ||
		die "updating the Secrets failed: $log"
	say "$1"
}

# Prints the directory where the Redis container mounts volume $1, read from
# the StatefulSet.
redis_mount() {
	local dir
	dir="$(kube get statefulset redis -o \
		"jsonpath={.spec.template.spec.containers[?(@.name==\"$REDIS_CONTAINER\")].volumeMounts[?(@.name==\"$1\")].mountPath}")"
	[[ -n "$dir" ]] || die "the StatefulSet redis mounts no volume $1"
	echo "$dir"
}

# Waits until file $1 in the Redis container holds what local file $2 holds
# (the kubelet updates mounted Secrets on its own schedule); $3 names it.
wait_for_pod_file() {
	local path="$1" expected="$2" what="$3" waited=0 start
	start="$(date +%s)"
	until [[ "$(kube exec "$REDIS_POD" -c "$REDIS_CONTAINER" -- cat "$path" 2>/dev/null </dev/null)" == \
		"$(cat "$expected")" ]]; do
		waited=$(($(date +%s) - start))
		((waited < SYNC_SECONDS)) ||
			die "$REDIS_POD still does not see the new $what after $SYNC_SECONDS s; the kubelet" \
				"updates a mounted Secret within about a minute or two. Run this again to go on" \
				"(ROTATE_SYNC_SECONDS waits longer); nothing is refused meanwhile."
		sleep 2
	done
	say "$REDIS_POD sees the new $what (after $(($(date +%s) - start)) s)"
}

# Waits until redis-0 sees the local users.acl, then has Redis read it.
load_acl() {
	local admin reply
	wait_for_pod_file "$(redis_mount acl)/users.acl" "$ACL_FILE" users.acl
	admin="$(admin_file)" || die "Redis refuses every admin password in $SECRETS_DIR"
	reply="$(redis_as admin "$admin" ACL LOAD)"
	[[ "$reply" == OK ]] || die "ACL LOAD answered: $reply"
	say "Redis read users.acl again (ACL LOAD): $1"
}

# Step 1: a new password, which no file had before (noclobber).
start_rotation() {
	(
		set -o noclobber
		umask 077
		head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$NEXT"
	)
	say "made a new password for the Redis user $USER_NAME in $NEXT"
}

# Steps 1 and 2: both passwords in users.acl, and Redis accepts both.
add_new_password() {
	apply_secrets "the Secret redis-acl lists the old and the new password of $USER_NAME"
	load_acl "it accepts the old and the new password of $USER_NAME"
	password_accepted "$USER_NAME" "$NEXT" || die "Redis refuses the new password of $USER_NAME after ACL LOAD"
}

# Step 3: the new password becomes the current one. A hard link keeps the
# old one as .old first, then a rename replaces the current file: at every
# moment each password is in a file.
switch_files() {
	[[ -e "$OLD" ]] || ln "$CURRENT" "$OLD"
	mv -f "$NEXT" "$CURRENT"
	say "the new password is now $CURRENT (the old one in $OLD until it is dropped)"
}

# Step 4 for the app: restarts the backends, which then read the new
# password, and waits for every one of them.
restart_backends() {
	local log
	kube rollout restart "$BACKENDS" >/dev/null
	say "restarting the backends (kubectl rollout restart $BACKENDS; maxUnavailable 0)"
	log="$(kube rollout status "$BACKENDS" --timeout="${SYNC_SECONDS}s" 2>&1)" ||
		die "the backends' rollout did not finish: $log. Both passwords stay valid; run this" \
			"again once kubectl --context $KUBE_CONTEXT -n $NAMESPACE rollout status $BACKENDS succeeds."
	say "every backend runs with the new password ($log)"
}

# Steps 3 and 4: the clients' Secret has the new password, and they use it.
publish_new_password() {
	apply_secrets "the Secrets hold the new password of $USER_NAME; users.acl still lists the old one"
	load_acl "it still accepts both passwords of $USER_NAME"
	case "$USER_NAME" in
	app) restart_backends ;;
	probe) wait_for_pod_file "$(redis_mount probe-password)/password" "$CURRENT" "probe password" ;;
	admin) say "the admin password is in no Secret: nothing else uses it" ;;
	esac
}

# Step 5: users.acl without the old password; Redis refuses it from then on.
drop_old_password() {
	[[ ! -e "$OLD" ]] || mv -f "$OLD" "$RETIRED"
	apply_secrets "the Secret redis-acl lists only the new password of $USER_NAME"
	load_acl "it refuses the old password of $USER_NAME"
	! password_accepted "$USER_NAME" "$RETIRED" ||
		die "Redis still accepts the old password of $USER_NAME after ACL LOAD"
	password_accepted "$USER_NAME" "$CURRENT" ||
		die "Redis refuses the new password of $USER_NAME after ACL LOAD"
	rm -f "$RETIRED"
	date -u +%Y-%m-%dT%H:%M:%SZ >"$ROTATED"
	say "rotated the password of the Redis user $USER_NAME: the old one is refused (WRONGPASS)," \
		"the new one is in $CURRENT"
}

# Succeeds when the user's password was rotated in the last 24 hours.
rotated_recently() {
	[[ -f "$ROTATED" ]] && (($(date +%s) - $(stat -c %Y "$ROTATED") < FRESH_SECONDS))
}

# Goes through the steps from wherever the files say a rotation stopped.
rotate() {
	local force="$1"
	if [[ -e "$NEXT" && -e "$OLD" ]]; then
		say "going on with a rotation that stopped while switching the files"
		switch_files
	elif [[ -e "$NEXT" ]]; then
		say "going on with a rotation that stopped before Redis accepted the new password"
	elif [[ -e "$OLD" ]]; then
		say "going on with a rotation that stopped before the clients had the new password"
	elif [[ -e "$RETIRED" ]]; then
		say "going on with a rotation that stopped before Redis dropped the old password"
	elif rotated_recently && [[ "$force" == no ]]; then
		password_accepted "$USER_NAME" "$CURRENT" ||
			die "Redis refuses the password of $USER_NAME in $CURRENT; run this with --force"
		say "the password of $USER_NAME was rotated at $(cat "$ROTATED"), less than 24 hours ago," \
			"and Redis accepts it: nothing changed (--force rotates it again)"
		return 0
	else
		start_rotation
	fi
	if [[ -e "$NEXT" ]]; then
		add_new_password
		switch_files
	fi
	[[ ! -e "$OLD" ]] || publish_new_password
	drop_old_password
}

main() {
	local force=no
	while [[ $# -gt 0 ]]; do
		case "$1" in
		--user)
			[[ $# -ge 2 ]] || usage 2
			USER_NAME="$2"
			shift
			;;
		--force) force=yes ;;
		-h | --help) usage 0 ;;
		*) unknown_argument "$1" ;;
		esac
		shift
	done
	case "$USER_NAME" in
	app | probe | admin) ;;
	*) die "no Redis user $USER_NAME to rotate: app, probe or admin" ;;
	esac
	CURRENT="$SECRETS_DIR/redis-$USER_NAME-password"
	NEXT="$CURRENT.next"
	OLD="$CURRENT.old"
	RETIRED="$CURRENT.retired"
	ROTATED="$CURRENT.rotated"
	require_tools kubectl
	[[ -s "$CURRENT" ]] ||
		die "no password of $USER_NAME in $SECRETS_DIR to rotate; make k8s-up makes the first ones"
	require_namespace
	require_redis_admin
	rotate "$force"
}

main "$@"
