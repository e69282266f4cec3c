# netns.bash: a mount and network namespace of the test's own, shaped like a
# pod's: /etc/resolv.conf names 127.0.0.9 with ndots:5 and three search
# domains, as kubelet writes it, and a test DNS server (lib/dns-server.js)
# stands there for the cluster's resolver. Redis and lighttpd run inside it on
# its own loopback, so nothing outside is ever asked. Needs lib/common.bash.
#
# Layout of the namespace directory DIR:
#   pid           a process holding the namespaces (sleep)
#   resolv.conf   the pod-style resolv.conf bound over /etc/resolv.conf
#   dns/          pid, queries.log (one "NAME TYPE" line per query read), out
#   redis/        pid, redis.log, the AOF
#   backend/      pid, lighttpd.log, run/
# Processes in the namespace keep their host pids, so stop_pidfile and ps work
# from outside.
# shellcheck disable=SC2034 # NETNS_* and HTTP_* are read by the tests

NETNS_RESOLVER=127.0.0.9
NETNS_SEARCH="devops-2025.svc.cluster.local svc.cluster.local cluster.local"
# The name the search list turns REDIS_HOST=redis into first, as in a pod.
NETNS_REDIS_FQDN="redis.${NETNS_SEARCH%% *}"
NETNS_REDIS_PORT=6379
NETNS_BACKEND_PORT=8080

# Makes the namespaces into directory $1: loopback up, the pod-style
# resolv.conf bound over /etc/resolv.conf.
netns_start() {
	local dir="$1"
	mkdir -p "$dir"
	printf 'search %s\nnameserver %s\noptions ndots:5\n' \
		"$NETNS_SEARCH" "$NETNS_RESOLVER" >"$dir/resolv.conf"
	# shellcheck disable=SC2016 # the inner script expands its own arguments
	unshare --mount --net --propagation private bash -c '
		ip link set lo up && mount --bind "$1" /etc/resolv.conf &&
		touch "$2" && exec sleep infinity' _ "$dir/resolv.conf" "$dir/ready" 3>&- &
	echo "$!" >"$dir/pid"
	wait_until 5 test -f "$dir/ready"
}

# Runs a command inside the namespaces of directory $1.
netns_run() {
	local dir="$1"
	shift
	nsenter --target "$(cat "$dir/pid")" --mount --net -- "$@"
}

# Becomes a command inside the namespaces of directory $1: started with &,
# its $! is then the command's own pid, for stop_pidfile.
netns_exec() {
	local dir="$1"
	shift
	exec nsenter --target "$(cat "$dir/pid")" --mount --net -- "$@"
}

# Starts the test DNS server in mode $2 (answer or silent) with the answers
# NAME=IPV4 that follow; a running one is replaced, its query log kept.
netns_dns_start() {
	local dir="$1" mode="$2"
	shift 2
	mkdir -p "$dir/dns"
	stop_pidfile "$dir/dns/pid"
	: >"$dir/dns/out"
	netns_exec "$dir" node "$REPO_DIR/tests/lib/dns-server.js" "$NETNS_RESOLVER" \
		"$dir/dns/queries.log" "$mode" "$@" >"$dir/dns/out" 2>&1 3>&- &
	echo "$!" >"$dir/dns/pid"
	touch "$dir/dns/queries.log"
	wait_until 10 grep -qx ready "$dir/dns/out"
}

# Prints how many queries the test DNS server has read so far.
netns_dns_queries() {
	wc -l <"$1/dns/queries.log"
}

# Makes the namespace's /etc/hosts hold the lines that follow (a bind mount
# of DIR/hosts, replacing an earlier one), as a container's may.
netns_hosts() {
	local dir="$1"
	shift
	printf '%s\n' "$@" >"$dir/hosts"
	netns_run "$dir" umount /etc/hosts 2>/dev/null || true
	netns_run "$dir" mount --bind "$dir/hosts" /etc/hosts
}

# Runs redis-cli against the namespace's Redis at address $2.
netns_redis_cli() {
	local dir="$1" address="$2"
	shift 2
	netns_run "$dir" redis-cli -h "$address" -p "$NETNS_REDIS_PORT" "$@"
}

# Starts Redis in the namespace on address $2 (default 127.0.0.1), durable
# as in production, with its data in DIR/redis (kept across restarts), and
# makes it hold our function library.
netns_redis_start() {
	local dir="$1" address="${2:-127.0.0.1}"
	mkdir -p "$dir/redis"
	stop_pidfile "$dir/redis/pid"
	netns_exec "$dir" redis-server --bind "$address" --port "$NETNS_REDIS_PORT" \
		--dir "$dir/redis" --appendonly yes --appendfsync always --save '' \
		>>"$dir/redis/redis.log" 2>&1 3>&- &
	echo "$!" >"$dir/redis/pid"
	wait_until 10 netns_redis_answers "$dir" "$address" &&
		netns_run "$dir" "$REPO_DIR/k8s/redis-load-functions.sh" "$REPO_DIR/k8s/redis-functions.lua" "" \
			-h "$address" -p "$NETNS_REDIS_PORT"
}

# Succeeds when the namespace's Redis at address $2 answers PONG.
netns_redis_answers() {
	[[ "$(netns_redis_cli "$1" "$2" ping 2>/dev/null)" == PONG ]]
}

# Starts lighttpd in the namespace through start-lighttpd, with REDIS_HOST
# ($2, default redis) resolved as a pod resolves it. BACKEND_MODE, APP_DIR
# and REDIS_TIMEOUT_MS come from the caller's environment.
netns_backend_start() {
	local dir="$1" redis_host="${2:-redis}"
	mkdir -p "$dir/backend/run"
	netns_exec "$dir" env PORT="$NETNS_BACKEND_PORT" RUN_DIR="$dir/backend/run" \
		REDIS_HOST="$redis_host" REDIS_PORT="$NETNS_REDIS_PORT" \
		"$REPO_DIR/build/start-lighttpd" >>"$dir/backend/lighttpd.log" 2>&1 3>&- &
	echo "$!" >"$dir/backend/pid"
	if ! wait_until 10 netns_run "$dir" curl -sf "http://127.0.0.1:$NETNS_BACKEND_PORT/livez"; then
		tail -5 "$dir/backend/lighttpd.log" >&2
		return 1
	fi
}

# Sends a request to the namespace's backend: method $2, path $3. Leaves the
# status in HTTP_STATUS, the body in HTTP_BODY and the seconds it took in
# HTTP_SECONDS.
netns_http() {
	local dir="$1" method="$2" path="$3" out
	out="$(netns_run "$dir" curl -sS --max-time 60 -o "$dir/body" \
		-w '%{http_code} %{time_total}' -X "$method" -d '' \
		"http://127.0.0.1:$NETNS_BACKEND_PORT$path")"
	HTTP_STATUS="${out%% *}"
	HTTP_SECONDS="${out##* }"
	HTTP_BODY="$(cat "$dir/body")"
	export HTTP_STATUS HTTP_SECONDS HTTP_BODY
}

# Prints the live (not zombie) processes named $2 that the backend's lighttpd
# started, one "PID THREADS" line each.
netns_backend_children() {
	local dir="$1" name="$2"
	ps -C "$name" --no-headers -o pid=,ppid=,stat=,nlwp= |
		awk -v parent="$(cat "$dir/backend/pid")" \
			'$2 == parent && $3 !~ /^Z/ { print $1, $4 }'
}

# Stops everything in the namespace, then the namespace itself.
netns_stop() {
	local dir="$1"
	stop_pidfile "$dir/backend/pid" INT
	stop_pidfile "$dir/redis/pid"
	stop_pidfile "$dir/dns/pid"
	stop_pidfile "$dir/pid"
}
