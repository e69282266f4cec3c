#!/usr/bin/env bash
# Backs up Money Bank's Redis data on minikube (context minikube, namespace
# devops-2025, pod redis-0) into a local archive, while the API serves.
#
#   scripts/redis-backup.sh [FILE]    FILE defaults to backups/redis-<UTC time>.tar.gz
#
# The copy is consistent, and nothing is stopped:
#   1. Redis rewrites its AOF (BGREWRITEAOF, waited for), so the copy is a
#      compact base file and a short increment.
#   2. Writes are paused (CLIENT PAUSE WRITE; reads go on) while tar copies
#      /data/appendonlydir out of the pod, and the total is read in the same
#      pause; then writes resume. A copy that an AOF rewrite raced is taken
#      again. No deposit is half in the copy: deposits wait for the pause,
#      and one that waits longer than the backend's REDIS_TIMEOUT_MS gets a
#      503 and changes nothing. Redis ends the pause by itself after
#      BACKUP_PAUSE_MS (default 10000, at most 60000) should this script
#      die, and a copy that took longer than that is discarded.
#   3. The archive is checked: the AOF manifest and every file it lists,
#      and, where redis-server is installed here, a throwaway local
#      redis-server must load it and find the same total.
# It changes nothing in the cluster and never overwrites a file: each run
# makes a new archive. scripts/redis-restore.sh FILE puts one back.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly REPO_DIR
readonly PROGRAM=redis-backup
# shellcheck source=scripts/lib/cli.bash
source "$REPO_DIR/scripts/lib/cli.bash"
# shellcheck source=scripts/lib/k8s.bash
source "$REPO_DIR/scripts/lib/k8s.bash"
# shellcheck source=scripts/lib/redis-backup.bash
source "$REPO_DIR/scripts/lib/redis-backup.bash"
readonly PAUSE_MS="${BACKUP_PAUSE_MS:-10000}"
# How long an AOF rewrite may take (a full Redis, 200 MB, takes seconds).
readonly REWRITE_WAIT_SECONDS=300
WORK=""
TOTAL=""
KEYS=""

# The copy, run by sh in the Redis container (the admin password on its
# stdin, into REDISCLI_AUTH for its redis-cli calls) with $1 the pause in ms, $2 the
# data directory, $3 the total's key, $4 the AOF directory's name. It pauses
# writes, checks that no AOF rewrite runs, reports the total and the number
# of keys on stderr ("backup-info" lines), streams the AOF directory as tar
# on stdout, checks that no rewrite ran meanwhile, and resumes writes.
# Exits 3 when Redis refuses the pause, 4 when a rewrite raced the copy.
# shellcheck disable=SC2016 # expanded by the container's sh
readonly PAUSED_COPY='
IFS= read -r REDISCLI_AUTH || [ -n "$REDISCLI_AUTH" ]
export REDISCLI_AUTH
cli() { redis-cli --user admin -h 127.0.0.1 -p 6379 "$@"; }
field() { cli INFO persistence | tr -d "\r" | sed -n "s/^$1://p"; }
resume() { cli CLIENT UNPAUSE >/dev/null; }
reply="$(cli CLIENT PAUSE "$1" WRITE)"
[ "$reply" = OK ] || { echo "CLIENT PAUSE answered: $reply" >&2; exit 3; }
rewrites="$(field aof_rewrites)"
if [ "$(field aof_rewrite_in_progress)" != 0 ]; then resume; exit 4; fi
echo "backup-info total=$(cli GET "$3")" >&2
echo "backup-info keys=$(cli DBSIZE)" >&2
tar -C "$2" -cf - "$4" || { status=$?; resume; exit "$status"; }
if [ "$(field aof_rewrites)" != "$rewrites" ] || [ "$(field aof_rewrite_in_progress)" != 0 ]; then
	resume; exit 4
fi
resume
'

usage() {
	usage_exit "$1" "${BASH_SOURCE[0]}"
}

# Fails unless the Redis pod answers PING with PONG (redis-cli exits 0 on
# NOAUTH too, so the answer is what counts).
require_redis_answers() {
	local reply
	reply="$(redis_call PING 2>&1)" || true
	[[ "$reply" == PONG ]] ||
		die "Redis ($REDIS_POD in $NAMESPACE) does not answer PING: ${reply:-no answer}"
}

# Waits until no AOF rewrite runs or waits to run, then fails unless the
# last one succeeded.
wait_for_rewrite() {
	local tries="$REWRITE_WAIT_SECONDS" info
	while :; do
		info="$(redis_call INFO persistence)"
		[[ "$info" == *aof_rewrite_in_progress:* ]] || die "INFO persistence answered: $info"
		[[ "$(info_field "$info" aof_rewrite_in_progress)" == 0 &&
			"$(info_field "$info" aof_rewrite_scheduled)" == 0 ]] && break
		((--tries > 0)) || die "the AOF rewrite did not end within $REWRITE_WAIT_SECONDS s"
		sleep 1
	done
	[[ "$(info_field "$info" aof_last_bgrewrite_status)" == ok ]] ||
		die "Redis's AOF rewrite failed (aof_last_bgrewrite_status:" \
			"$(info_field "$info" aof_last_bgrewrite_status)); make k8s-logs shows why"
}

# Has Redis rewrite its AOF into a fresh base file, and waits for it.
rewrite_aof() {
	local info reply
	info="$(redis_call INFO persistence)"
	[[ "$info" == *aof_enabled:* ]] || die "INFO persistence answered: $info"
	[[ "$(info_field "$info" aof_enabled)" == 1 ]] ||
		die "Redis keeps no AOF (appendonly no): there is nothing this script knows how to copy"
	reply="$(redis_call BGREWRITEAOF)"
	case "$reply" in
	*"rewriting started"* | *"rewriting scheduled"* | *"already in progress"*) ;;
	*) die "BGREWRITEAOF answered: $reply" ;;
	esac
	wait_for_rewrite
	say "Redis rewrote its AOF"
}

# Copies the AOF directory in data directory $1 out of the pod into
# $WORK/aof.tar with writes paused, and sets TOTAL and KEYS to what Redis
# held meanwhile. Copies again (up to 3 times) when a rewrite raced it.
copy_while_paused() {
	local data_dir="$1" attempt status started elapsed
	for attempt in 1 2 3; do
		status=0
		started="$(date +%s%3N)"
		kube exec -i "$REDIS_POD" -c "$REDIS_CONTAINER" -- sh -c "$PAUSED_COPY" sh \
			"$PAUSE_MS" "$data_dir" "$TOTAL_KEY" "$AOF_DIRNAME" \
			<"$ADMIN_PASSWORD_FILE" >"$WORK/aof.tar" 2>"$WORK/copy.log" || status=$?
		elapsed=$(($(date +%s%3N) - started))
		case "$status" in
		0) break ;;
		4)
			say "an AOF rewrite raced copy $attempt; waiting for it, then copying again"
			wait_for_rewrite
			;;
		*) die "the copy failed (status $status): $(grep -v '^backup-info' "$WORK/copy.log" | tail -n 5)" ;;
		esac
	done
	[[ "$status" -eq 0 ]] || die "an AOF rewrite raced each of 3 copies; try again later"
	((elapsed < PAUSE_MS)) ||
		die "the copy took $elapsed ms, longer than the write pause ($PAUSE_MS ms): it may" \
			"not be consistent, and was discarded. Set BACKUP_PAUSE_MS higher (at most 60000)."
	TOTAL="$(sed -n 's/^backup-info total=//p' "$WORK/copy.log")"
	TOTAL="${TOTAL:-0}"
	KEYS="$(sed -n 's/^backup-info keys=//p' "$WORK/copy.log")"
	say "copied $data_dir/$AOF_DIRNAME with writes paused (under $elapsed ms); total $TOTAL"
}

# Writes backup-info.txt for data directory $1 into $WORK.
write_info() {
	cat >"$WORK/$INFO_FILE" <<EOF
# Money Bank Redis backup, by scripts/redis-backup.sh; scripts/redis-restore.sh restores it.
taken=$(utc_now)
source=context $KUBE_CONTEXT, namespace $NAMESPACE, pod $REDIS_POD, $1/$AOF_DIRNAME
total=$TOTAL
keys=$KEYS
EOF
}

cleanup() {
	[[ -z "$WORK" ]] || rm -rf "$WORK"
}

main() {
	local file=""
	while [[ $# -gt 0 ]]; do
		case "$1" in
		-h | --help) usage 0 ;;
		-*)
			echo "$PROGRAM: unknown option: $1" >&2
			usage 2
			;;
		*)
			[[ -z "$file" ]] || usage 2
			file="$1"
			;;
		esac
		shift
	done
	[[ -n "$file" ]] || file="$(new_archive_name redis)"
	[[ ! -e "$file" ]] || die "$file exists; a backup is never overwritten"
	if [[ ! "$PAUSE_MS" =~ ^[0-9]+$ ]] || ((PAUSE_MS < 1000 || PAUSE_MS > 60000)); then
		die "BACKUP_PAUSE_MS must be a number of milliseconds from 1000 to 60000, not '$PAUSE_MS'"
	fi
	require_tools kubectl tar gzip
	require_namespace
	require_redis_answers
	local data_dir
	data_dir="$(redis_data_dir)"
	WORK="$(mktemp -d)"
	trap cleanup EXIT
	rewrite_aof
	copy_while_paused "$data_dir"
	tar -C "$WORK" -xf "$WORK/aof.tar" || die "the copy is not a whole tar stream"
	rm -f "$WORK/aof.tar" "$WORK/copy.log"
	check_aof_dir "$WORK"
	write_info "$data_dir"
	verify_locally "$WORK" "$TOTAL"
	write_archive "$file" "$WORK"
	say "backed up the total $TOTAL ($KEYS keys) to $file ($(du -h "$file" | cut -f1))"
}

main "$@"
