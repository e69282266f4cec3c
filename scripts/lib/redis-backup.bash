# scripts/lib/redis-backup.bash: what scripts/redis-backup.sh and
# scripts/redis-restore.sh share: where Redis keeps its data in the cluster,
# how to reach it, and the backup archive. Sourced after scripts/lib/cli.bash
# and scripts/lib/k8s.bash, by scripts that set REPO_DIR.
#
# A backup is a gzipped tar archive of
#   appendonlydir/     Redis's multi-part AOF as it was on the volume: the
#                      manifest, the base file and the increments;
#   backup-info.txt    when and where it was taken, and the total it holds.
# shellcheck disable=SC2034 # the constants are read by the scripts that source this

readonly REDIS_STATEFULSET=redis
readonly REDIS_POD=redis-0
readonly REDIS_CONTAINER=redis
# The Redis volume's claim and the StatefulSet's volume that mounts it.
readonly REDIS_CLAIM=data-redis-0
readonly REDIS_VOLUME=data
# k8s/redis.conf's appenddirname (also Redis's default).
readonly AOF_DIRNAME=appendonlydir
# The key that holds the total (cgi-bin/store.c, TOTAL_KEY).
readonly TOTAL_KEY=bitcoins
readonly INFO_FILE=backup-info.txt
readonly BACKUP_DIR="$REPO_DIR/backups"

# The password of Redis's admin user, which no Secret holds (see
# scripts/lib/gen-redis-secret.sh): Redis's default user is off, so these
# scripts talk to Redis as admin.
readonly ADMIN_PASSWORD_FILE="${SECRETS_DIR:-$REPO_DIR/k8s/secrets}/redis-admin-password"

# Runs a command in the Redis container (its stdin is left alone: only -i
# passes it on, and only the restore's helper pod takes any).
in_redis_pod() {
	kube exec "$REDIS_POD" -c "$REDIS_CONTAINER" -- "$@" </dev/null
}

# Fails unless the admin's password is here to reach Redis with.
require_admin_password() {
	[[ -s "$ADMIN_PASSWORD_FILE" ]] ||
		die "no Redis admin password at $ADMIN_PASSWORD_FILE: these scripts reach Redis as its" \
			"admin user, whose password stays on the machine that ran make k8s-up"
}

# Runs redis-cli in the Redis container against its own Redis, as the user
# admin. The password goes in on stdin (--askpass), so it is on no command
# line and in no environment.
redis_call() {
	require_admin_password
	kube exec -i "$REDIS_POD" -c "$REDIS_CONTAINER" -- \
		redis-cli --user admin --askpass -h 127.0.0.1 -p 6379 "$@" <"$ADMIN_PASSWORD_FILE"
}

# Prints field $2 of the INFO text $1 (INFO lines end with CR LF).
info_field() {
	tr -d '\r' <<<"$1" | sed -n "s/^$2://p"
}

# Prints where the Redis container mounts the data volume, read from the
# StatefulSet, so it is right whether or not Redis runs.
redis_data_dir() {
	local dir
	dir="$(kube get statefulset "$REDIS_STATEFULSET" -o \
		"jsonpath={.spec.template.spec.containers[?(@.name==\"$REDIS_CONTAINER\")].volumeMounts[?(@.name==\"$REDIS_VOLUME\")].mountPath}")"
	[[ -n "$dir" ]] ||
		die "the StatefulSet $REDIS_STATEFULSET mounts no volume $REDIS_VOLUME in its container $REDIS_CONTAINER"
	echo "$dir"
}

# Prints the time now, UTC, as used in archive names and backup-info.txt.
utc_now() {
	date -u +%Y-%m-%dT%H:%M:%SZ
}

# Prints a new archive name in backups/ for the kind of backup $1.
new_archive_name() {
	echo "$BACKUP_DIR/$1-$(date -u +%Y%m%dT%H%M%SZ).tar.gz"
}

# Fails unless $1/appendonlydir is a whole multi-part AOF: one manifest, and
# every file it lists present.
check_aof_dir() {
	local dir="$1/$AOF_DIRNAME" manifests name missing=()
	mapfile -t manifests < <(find "$dir" -maxdepth 1 -name '*.manifest' 2>/dev/null)
	[[ ${#manifests[@]} -eq 1 ]] ||
		die "$AOF_DIRNAME holds ${#manifests[@]} AOF manifests instead of one: not a Redis AOF directory"
	while read -r name; do
		[[ -f "$dir/$name" ]] || missing+=("$name")
	done < <(awk '$1 == "file" { print $2 }' "${manifests[0]}")
	[[ ${#missing[@]} -eq 0 ]] ||
		die "$AOF_DIRNAME lacks files its manifest lists: ${missing[*]}"
}

# Loads a copy of $1/appendonlydir into a throwaway redis-server (on a Unix
# socket, no TCP port) and prints the total it holds. A truncated AOF is
# refused, not repaired. Returns 3 when this machine's redis-server is older
# than the Redis that wrote the AOF, 1 with Redis's words when it fails to
# load it.
test_load() {
	local scratch="$1/test-load" socket pid total status=0 tries=600
	socket="$scratch/redis.sock"
	rm -rf "$scratch"
	mkdir -p "$scratch"
	cp -R "$1/$AOF_DIRNAME" "$scratch/"
	redis-server --port 0 --unixsocket "$socket" --unixsocketperm 700 --dir "$scratch" \
		--appendonly yes --appenddirname "$AOF_DIRNAME" --aof-load-truncated no \
		--save '' --logfile "$scratch/redis.log" </dev/null >/dev/null 2>&1 3>&- &
	pid=$!
	until [[ "$(redis-cli -s "$socket" PING 2>/dev/null)" == PONG ]]; do
		if ! kill -0 "$pid" 2>/dev/null || ((--tries == 0)); then
			kill "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
			grep -q "Can't handle RDB format version" "$scratch/redis.log" && return 3
			echo "$PROGRAM: a local redis-server could not load the AOF:" >&2
			tail -n 5 "$scratch/redis.log" >&2
			return 1
		fi
		sleep 0.1
	done
	total="$(redis-cli -s "$socket" GET "$TOTAL_KEY")" || status=$?
	redis-cli -s "$socket" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
	wait "$pid" 2>/dev/null || true
	rm -rf "$scratch"
	printf '%s\n' "${total:-0}"
	return "$status"
}

# Checks that the AOF in $1 holds total $2 by loading it locally, when
# redis-server is installed here; says what it found. A total of "unknown"
# (data saved while Redis was down) is only reported.
verify_locally() {
	local dir="$1" expected="$2" loaded status=0
	if ! command -v redis-server >/dev/null 2>&1; then
		say "not test-loaded: no redis-server here (scripts/deps.sh run installs it)"
		return 0
	fi
	loaded="$(test_load "$dir")" || status=$?
	case "$status" in
	0)
		if [[ "$expected" == unknown ]]; then
			say "test-loaded into a local redis-server: total $loaded (none was recorded)"
			return 0
		fi
		[[ "$loaded" == "$expected" ]] ||
			die "a local redis-server loads a total of $loaded from the AOF, not $expected"
		say "test-loaded into a local redis-server: total $loaded, as recorded"
		;;
	3) say "not test-loaded: the local redis-server ($(redis-server --version | cut -d' ' -f3)) is older than the Redis that wrote it" ;;
	*) die "the AOF does not load" ;;
	esac
}

# Writes the archive $1 from $2/appendonlydir and $2/backup-info.txt. It
# never replaces a file: it is written next to its name, then moved there.
write_archive() {
	local file="$1" dir="$2"
	[[ ! -e "$file" ]] || die "$file exists; a backup is never overwritten"
	mkdir -p "$(dirname "$file")"
	(umask 077 && tar -C "$dir" -czf "$file.partial" "$AOF_DIRNAME" "$INFO_FILE")
	mv -n "$file.partial" "$file"
	[[ ! -e "$file.partial" ]] || die "$file appeared meanwhile; not overwritten ($file.partial kept)"
}

# Extracts the archive $1 into the empty directory $2 and checks it: a whole
# AOF directory and a backup-info.txt with a total.
read_archive() {
	local file="$1" dir="$2"
	[[ -f "$file" && -r "$file" ]] || die "no readable backup at $file"
	tar -C "$dir" -xzf "$file" 2>/dev/null || die "$file is not a gzipped tar archive"
	[[ -f "$dir/$INFO_FILE" ]] || die "$file has no $INFO_FILE: not made by scripts/redis-backup.sh"
	[[ -n "$(archive_field "$dir" total)" ]] || die "$file records no total in $INFO_FILE"
	check_aof_dir "$dir"
}

# Prints field $2 of the backup-info.txt in directory $1.
archive_field() {
	sed -n "s/^$2=//p" "$1/$INFO_FILE" | head -n 1
}
