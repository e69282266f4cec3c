# redis-states.bash: puts a real redis-server into the states a deployment
# meets (full, loading, busy, a replica, stalled, slow to fsync, out of disk)
# and back. Each state is Redis's own, reached the way an incident or an
# operator reaches it; nothing is mocked. Every Redis here lives in a
# directory with a port file (lib/common's redis_cmd works on each), and
# each background helper leaves a pid file there. Needs lib/common.

# Prints the value of setting $1 in the production k8s/redis.conf.
production_setting() {
	awk -v name="$1" '$1 == name { print $2 }' "$REPO_DIR/k8s/redis.conf"
}

# Starts a Redis in directory $1 like lib/common's redis_start (AOF fsynced
# before each reply), with production's memory settings; more redis-server
# arguments follow.
redis_start_like_production() {
	local dir="$1"
	shift
	redis_start "$dir" --maxmemory "$(production_setting maxmemory)" \
		--maxmemory-policy "$(production_setting maxmemory-policy)" "$@"
}

# Prints field $2 of the INFO of the Redis in directory $1.
redis_info() {
	redis_cmd "$1" info | tr -d '\r' | awk -F: -v name="$2" '$1 == name { print $2 }'
}

# Succeeds when the Redis in directory $1 answers the command $3... with a
# reply that starts with $2 (an error code such as BUSY, or a value).
redis_says() {
	local dir="$1" start="$2"
	shift 2
	[[ "$(redis_cmd "$dir" "$@" 2>&1)" == "$start"* ]]
}

# Writes $2 Idempotency-Key records (as the deposit script does: a value and
# a 24 h TTL, keys $3-1, $3-2, ...) into the Redis in directory $1 through
# one pipe. Prints redis-cli's summary.
redis_add_records() {
	local dir="$1" count="$2" prefix="$3"
	seq "$count" | awk -v prefix="idempotency:$prefix-" '{
		key = prefix $1
		printf "*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\n1\r\n$2\r\nEX\r\n$5\r\n86400\r\n",
			length(key), key
	}' | redis_cmd "$dir" --pipe
}

# Makes every fdatasync of the Redis in directory $1 last $2 more seconds
# (a fraction allowed),
# through strace's fault injection, until fsync_delay_stop. With
# appendfsync always, Redis applies each write at once and replies only
# after its fsync: the write counts, the answer comes late.
fsync_delay_start() {
	local dir="$1" seconds="$2"
	strace -f -p "$(cat "$dir/pid")" -o /dev/null -e trace=fdatasync \
		-e inject=fdatasync:delay_exit="$(awk -v s="$seconds" 'BEGIN { printf "%d", s * 1000000 }')" \
		2>"$dir/strace.log" 3>&- &
	echo "$!" >"$dir/strace.pid"
	wait_until 10 grep -q attached "$dir/strace.log"
}

# Detaches the strace of fsync_delay_start and waits until Redis answers.
fsync_delay_stop() {
	stop_pidfile "$1/strace.pid"
	wait_until 10 redis_says "$1" PONG ping
}

# Keeps the Redis in directory $1 busy with a script that loops until
# SCRIPT KILL (or 60 s): once it has run 100 ms (busy-reply-threshold),
# every other client gets BUSY.
redis_busy_start() {
	local dir="$1"
	redis_cmd "$dir" config set busy-reply-threshold 100 >/dev/null
	timeout 60 redis-cli -p "$(cat "$dir/port")" eval 'while true do end' 0 \
		>/dev/null 2>&1 3>&- &
	echo "$!" >"$dir/busy.pid"
	wait_until 10 redis_says "$dir" BUSY ping
}

# Ends the script of redis_busy_start.
redis_busy_stop() {
	redis_cmd "$1" script kill >/dev/null 2>&1 || true
	stop_pidfile "$1/busy.pid"
}

# Restarts the Redis in directory $1 (production settings) after adding $2
# records to its AOF, replaying each with a delay of $3 microseconds
# (key-load-delay) so that the load lasts a few seconds. Redis serves
# clients every 1,024 commands while it loads, and answers them LOADING.
# Returns once Redis says LOADING.
redis_restart_loading() {
	local dir="$1" records="$2" delay_us="$3"
	redis_add_records "$dir" "$records" loading >/dev/null
	stop_pidfile "$dir/pid"
	redis_spawn "$dir" --maxmemory "$(production_setting maxmemory)" \
		--maxmemory-policy "$(production_setting maxmemory-policy)" \
		--key-load-delay "$delay_us"
	wait_until 10 redis_says "$dir" LOADING ping
}

# Starts a Redis in directory $1, on the port in $1/port, whose data lives
# on a tmpfs of size $2 (say 4m) in a mount namespace of its own. A sleeper
# holds the namespace (pid in $1/holder.pid), so that the volume outlives a
# Redis restart, and vanishes with it. It holds our function library once it
# answers. More redis-server arguments follow.
redis_start_on_volume() {
	local dir="$1" size="$2"
	shift 2
	mkdir -p "$dir/volume"
	if [[ ! -f "$dir/holder.pid" ]]; then
		# shellcheck disable=SC2016 # the inner shell expands its own arguments
		unshare --mount --propagation private sh -c \
			'mount -t tmpfs -o size="$1" tmpfs "$2" && exec sleep 3600' \
			sh "$size" "$dir/volume" 3>&- &
		echo "$!" >"$dir/holder.pid"
		wait_until 10 in_volume "$dir" mountpoint -q "$dir/volume"
	fi
	# nsenter itself, not in_volume: a function would run in a subshell, and
	# the pid file would name that shell instead of Redis.
	nsenter --target "$(cat "$dir/holder.pid")" --mount --root redis-server \
		--bind 127.0.0.1 --port "$(cat "$dir/port")" --dir "$dir/volume" \
		--appendonly yes --save '' "$@" >>"$dir/redis.log" 2>&1 3>&- &
	echo "$!" >"$dir/pid"
	wait_until 10 redis_answers "$(cat "$dir/port")" && redis_load_functions "$dir"
}

# Runs the command $2... in the mount namespace of the volume in directory
# $1 (nsenter executes it in place: its pid is the command's), under the
# sleeper's root directory, so that a test run in a chroot works too.
in_volume() {
	local dir="$1"
	shift
	nsenter --target "$(cat "$dir/holder.pid")" --mount --root "$@"
}

# Fills the volume in directory $1: nothing more can be written to it.
volume_fill() {
	in_volume "$1" dd if=/dev/zero of="$1/volume/filler" bs=64k 2>/dev/null || true
}

# Frees the volume in directory $1 again.
volume_free() {
	in_volume "$1" rm -f "$1/volume/filler"
}

# Prints the size in bytes of the AOF file that Redis in directory $1 (on
# its volume) appends to.
volume_aof_size() {
	# shellcheck disable=SC2016 # the inner shell expands its own arguments
	in_volume "$1" sh -c 'stat -c %s "$1"/volume/appendonlydir/*.incr.aof' sh "$1"
}

# Stops the Redis on the volume in directory $1 and drops the volume.
redis_stop_volume() {
	stop_pidfile "$1/pid"
	stop_pidfile "$1/holder.pid"
}
