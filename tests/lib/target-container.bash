# target-container.bash: the contract tests' target when it is the backend image running in
# a container (BACKEND_MODE and other settings passed through), with a fresh redis-server on
# the host's loopback that has production's ACL users; the container is the app's user, its
# password in a mounted file. TARGET=container bats tests/http.bats runs the contract
# against it.

# shellcheck source=tests/lib/container.bash
source "$(dirname "${BASH_SOURCE[0]}")/container.bash"

# Builds the image (once per test run), starts a fresh Redis and the container, and exports
# BASE_URL and TARGET_LOG (a live copy of the container's log).
target_start() {
	TARGET_DIR="$BATS_FILE_TMPDIR/target"
	export TARGET_DIR
	image_build_once
	redis_start_with_acl "$TARGET_DIR/redis"
	REDIS_USER=app REDIS_PASSWORD_FILE="$TARGET_DIR/redis/secrets/redis-app-password" \
		container_start "$TARGET_DIR/backend" "$(cat "$TARGET_DIR/redis/port")"
	BASE_URL="$(container_url "$TARGET_DIR/backend")"
	TARGET_LOG="$TARGET_DIR/backend/container.log"
	export BASE_URL TARGET_LOG
}

# The log file is followed live; lighttpd buffers its access log for a few seconds, so
# callers wait for lines to arrive.
target_log_refresh() {
	:
}

# Removes the container (graceful stop first), then stops Redis.
target_stop() {
	container_remove "$TARGET_DIR/backend"
	stop_pidfile "$TARGET_DIR/redis/pid"
}

# Prints the pid, as this host sees it, of the container's first process: lighttpd, once
# start-lighttpd has exec'd it. Reading /proc/PID on the host needs nothing inside the image.
target_server_pid() {
	engine inspect --format '{{.State.Pid}}' "$(container_name "$TARGET_DIR/backend")"
}

# Runs a Redis command ($@) on the target's Redis as its admin, for a test that must put
# the data in a state no API request can reach.
target_redis_cmd() {
	redis_cmd "$TARGET_DIR/redis" "$@"
}
