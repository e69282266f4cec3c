# common.bash: helpers every suite shares: free ports, a real redis-server,
# a real lighttpd with the project's config, and stopping what was started.
# Each server runs in the foreground of a background job whose pid is kept in
# a file, so teardown can always find and stop it.

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export REPO_DIR
# Every error answer a suite receives is recorded (tests/error-bodies.bats).
# shellcheck source=tests/lib/error-bodies.bash
source "$REPO_DIR/tests/lib/error-bodies.bash"

# Succeeds when something listens on the loopback port.
port_in_use() {
	(: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Prints a loopback port that nothing listens on, below the kernel's range
# of ephemeral ports, which client connections could be holding.
free_port() {
	local port low
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range
	while :; do
		port=$((low - 12000 + RANDOM % 12000))
		port_in_use "$port" || break
	done
	echo "$port"
}

# Waits up to $1 seconds until the command $2... succeeds.
wait_until() {
	local seconds="$1"
	shift
	local deadline=$((SECONDS + seconds))
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			echo "gave up after ${seconds}s waiting for: $*" >&2
			return 1
		fi
		sleep 0.05
	done
}

# Runs redis-cli on port $1 as Redis user $2 with password $3 (each none
# when empty). The password goes through the environment of redis-cli alone.
redis_cli() {
	local port="$1" user="$2" password="$3"
	shift 3
	local -a flags=(-p "$port")
	[[ -z "$user" ]] || flags+=(--user "$user")
	if [[ -n "$password" ]]; then
		REDISCLI_AUTH="$password" redis-cli "${flags[@]}" "$@"
	else
		redis-cli "${flags[@]}" "$@"
	fi
}

# Succeeds when the Redis on port $1 (as user $2 with password $3, if any)
# answers PONG.
redis_answers() {
	[[ "$(redis_cli "$1" "${2:-}" "${3:-}" ping 2>/dev/null)" == PONG ]]
}

# Prints file $1, or nothing when it is absent.
cat_if_any() {
	cat "$1" 2>/dev/null || true
}

# Runs redis-cli against the Redis in directory $1, as the user and with the
# password in its files user and password, when there are.
redis_cmd() {
	local dir="$1"
	shift
	redis_cli "$(cat "$dir/port")" "$(cat_if_any "$dir/user")" "$(cat_if_any "$dir/password")" "$@"
}

# Starts a redis-server with its data in directory $1, on the port in
# $1/port (chosen now if the file is absent, so a restart keeps the port),
# and does not wait for it. Durable as in production: AOF with fsync before
# every reply. Extra redis-server arguments follow, e.g. --requirepass.
redis_spawn() {
	local dir="$1"
	shift
	mkdir -p "$dir"
	[[ -f "$dir/port" ]] || free_port >"$dir/port"
	error_bodies_note_port redis "$(cat "$dir/port")"
	redis-server --bind 127.0.0.1 --port "$(cat "$dir/port")" --dir "$dir" \
		--appendonly yes --appendfsync always --save '' \
		"$@" >>"$dir/redis.log" 2>&1 3>&- &
	echo "$!" >"$dir/pid"
}

# Makes the Redis in directory $1 hold our function library, as production's
# readiness probe does (k8s/redis-load-functions.sh), as the user and with
# the password in its files user and password, when there are: the admin,
# or the default user of a Redis without ACL users.
redis_load_functions() {
	local dir="$1" password_file=""
	local -a flags=(-p "$(cat "$dir/port")")
	[[ ! -f "$dir/user" ]] || flags+=(--user "$(cat "$dir/user")")
	[[ ! -s "$dir/password" ]] || password_file="$dir/password"
	"$REPO_DIR/k8s/redis-load-functions.sh" "$REPO_DIR/k8s/redis-functions.lua" \
		"$password_file" "${flags[@]}"
}

# Starts a redis-server like redis_spawn, waits until it answers, and loads
# our function library into it (a Redis that restarts on the same data keeps
# it). An answer from another Redis still on the port does not count: this
# one must be alive.
redis_start() {
	local dir="$1"
	redis_spawn "$@"
	if ! wait_until 10 redis_answers "$(cat "$dir/port")" "$(cat_if_any "$dir/user")" "$(cat_if_any "$dir/password")" ||
		process_gone "$(cat "$dir/pid")"; then
		tail -5 "$dir/redis.log" >&2
		return 1
	fi
	if ! redis_load_functions "$dir"; then
		echo "redis_start: the function library could not be loaded" >&2
		return 1
	fi
}

# Starts a Redis that requires the password $2 (of its default user).
redis_start_with_password() {
	local dir="$1" password="$2"
	mkdir -p "$dir"
	printf '%s' "$password" >"$dir/password"
	redis_start "$dir" --requirepass "$password"
}

# Makes the Redis users and their passwords of production in directory $1
# (scripts/lib/gen-redis-secret.sh --files-only: users.acl, with hashes only,
# and a file per password), and has redis_cmd use the admin's.
redis_acl_files() {
	local dir="$1"
	mkdir -p "$dir"
	SECRETS_DIR="$dir/secrets" "$REPO_DIR/scripts/lib/gen-redis-secret.sh" --files-only 2>/dev/null
	echo admin >"$dir/user"
	cp "$dir/secrets/redis-admin-password" "$dir/password"
}

# Starts a Redis with production's users (redis_acl_files): the default user
# off, the app's, the probe's and the admin's. More redis-server arguments
# follow.
redis_start_with_acl() {
	local dir="$1"
	shift
	redis_acl_files "$dir"
	redis_start "$dir" --aclfile "$dir/secrets/users.acl" "$@"
}

# Starts lighttpd through start-lighttpd with state in directory $1, on
# the port in $1/port, talking to the Redis on port $2. Settings such as
# BACKEND_MODE, APP_DIR, REDIS_USER or REDIS_PASSWORD_FILE come from the
# caller's environment.
backend_start() {
	local dir="$1" redis_port="$2"
	mkdir -p "$dir/run"
	[[ -f "$dir/port" ]] || free_port >"$dir/port"
	error_bodies_note_port backend "$(cat "$dir/port")"
	PORT="$(cat "$dir/port")" RUN_DIR="$dir/run" REDIS_HOST=127.0.0.1 \
		REDIS_PORT="$redis_port" \
		"$REPO_DIR/build/start-lighttpd" >>"$dir/lighttpd.log" 2>&1 3>&- &
	echo "$!" >"$dir/pid"
	if ! wait_until 10 curl -sf "http://127.0.0.1:$(cat "$dir/port")/livez"; then
		tail -5 "$dir/lighttpd.log" >&2
		return 1
	fi
}

# Prints the base URL of the backend in directory $1.
backend_url() {
	echo "http://127.0.0.1:$(cat "$1/port")"
}

# Succeeds once process $1 has exited. A zombie counts as exited: an orphan
# is not always reaped at once (this machine's init does not reap at all),
# and kill -0 would still find it.
process_gone() {
	local stat
	stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
	stat="${stat##*) }"
	[[ "${stat%% *}" == Z ]]
}

# Succeeds once process $1 sleeps with a socket open: a CGI waiting on Redis.
waits_on_socket() {
	[[ "$(awk '{ print $3 }' "/proc/$1/stat")" == S ]] &&
		find "/proc/$1/fd" -lname 'socket:*' | grep -q .
}

# Stops the process whose pid is in the file $1 with signal $2 (default
# TERM), and waits for it; after 10 s it is killed.
stop_pidfile() {
	local pidfile="$1" signal="${2:-TERM}" pid
	[[ -f "$pidfile" ]] || return 0
	pid="$(cat "$pidfile")"
	rm -f "$pidfile"
	kill "-$signal" "$pid" 2>/dev/null || return 0
	if ! wait_until 10 process_gone "$pid"; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
}

# Stops every server whose state lives below directory $1.
stop_all_below() {
	local pidfile
	[[ -d "$1" ]] || return 0
	while read -r pidfile; do
		stop_pidfile "$pidfile"
	done < <(find "$1" -name pid -type f)
}
