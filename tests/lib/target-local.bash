# target-local.bash: the contract tests' target when it is a lighttpd and a
# redis-server started here from the build, in BACKEND_MODE. Redis has
# production's ACL users, and the backend is the app's user with its password
# in a file, as in production: every API path must work with that alone.

# Starts a fresh Redis and a backend, and exports BASE_URL and TARGET_LOG.
target_start() {
	TARGET_DIR="$BATS_FILE_TMPDIR/target"
	export TARGET_DIR
	redis_start_with_acl "$TARGET_DIR/redis"
	REDIS_USER=app REDIS_PASSWORD_FILE="$TARGET_DIR/redis/secrets/redis-app-password" \
		backend_start "$TARGET_DIR/backend" "$(cat "$TARGET_DIR/redis/port")"
	BASE_URL="$(backend_url "$TARGET_DIR/backend")"
	TARGET_LOG="$TARGET_DIR/backend/lighttpd.log"
	export BASE_URL TARGET_LOG
}

# lighttpd buffers its access log for a few seconds; the log file is live,
# so this only waits for lines to arrive.
target_log_refresh() {
	:
}

# Stops the backend first, then Redis.
target_stop() {
	stop_pidfile "$TARGET_DIR/backend/pid" INT
	stop_pidfile "$TARGET_DIR/redis/pid"
}

# Prints the pid of the target's lighttpd: start-lighttpd became lighttpd (exec).
target_server_pid() {
	cat "$TARGET_DIR/backend/pid"
}

# Runs a Redis command ($@) on the target's Redis as its admin, for a test
# that must put the data in a state no API request can reach.
target_redis_cmd() {
	redis_cmd "$TARGET_DIR/redis" "$@"
}
