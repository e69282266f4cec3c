# scripts/lib/local-redis.bash: what `make run` and `make image-run` share: a
# port check, a bounded wait, and a durable redis-server of their own on
# loopback (AOF, fsync before every reply, so the balance survives a restart).
# It has no users and no password, and the backend sends no AUTH: it listens
# on 127.0.0.1 only (protected mode on), holds a developer's test balance, and
# a password file there would protect nothing from the one user who owns
# both. `make stack` runs Redis with production's ACL users and password files.
# Sourced by those scripts, which set REPO_DIR, PROGRAM and MAKE_TARGET (for messages),
# REDIS_PORT and DATA_DIR first.

REDIS_PID=""

# Fails with a clear message when something already listens on loopback port
# $1; $2 names the variable that picks another port. For Redis's port it
# also names the usual culprit: Debian's redis-server service, which a plain
# `apt-get install redis-server` starts and enables at boot.
require_free_port() {
	local port="$1" variable="$2"
	if (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		echo "$PROGRAM: port $port is already taken; choose another with $variable=NNNN make $MAKE_TARGET" >&2
		if [[ "$variable" == REDIS_PORT ]]; then
			echo "$PROGRAM: if it is the system's redis-server (systemctl status redis-server)," \
				"stop it and keep it from starting at boot with: sudo systemctl disable --now redis-server" >&2
		fi
		exit 1
	fi
}

# Waits until the command succeeds, for up to 10 s.
wait_for() {
	local tries=200
	until "$@" >/dev/null 2>&1; do
		tries=$((tries - 1))
		if ((tries == 0)); then
			echo "$PROGRAM: gave up waiting for: $*" >&2
			return 1
		fi
		sleep 0.05
	done
}

# Starts the durable Redis in the background, waits until it answers, and
# makes it hold our function library (k8s/redis-functions.lua), as the
# default user: this Redis has no ACL users. The programs call its
# functions; a Redis that restarts on the same data keeps it.
start_redis() {
	mkdir -p "$DATA_DIR"
	redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$DATA_DIR" \
		--appendonly yes --appendfsync always --save '' --protected-mode yes &
	REDIS_PID=$!
	wait_for redis-cli -p "$REDIS_PORT" ping
	"$REPO_DIR/k8s/redis-load-functions.sh" "$REPO_DIR/k8s/redis-functions.lua" "" \
		-h 127.0.0.1 -p "$REDIS_PORT"
}

# Stops Redis, if it was started, and waits for it: SIGTERM makes it flush
# and close its files.
stop_redis() {
	if [[ -n "$REDIS_PID" ]]; then
		kill -TERM "$REDIS_PID" 2>/dev/null || true
		wait "$REDIS_PID" 2>/dev/null || true
	fi
}
