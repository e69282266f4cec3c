# container.bash: runs the backend image in tests. Containers share the host's network
# (--network=host): each listens on a loopback port of its own and reaches a redis-server
# that the test started on loopback, so nothing but 127.0.0.1 is ever contacted. Every
# container runs as in production: read-only root filesystem, a tmpfs at /tmp only.
# A container's state lives in a directory: its name, port and a live copy of its log.
# Needs lib/common loaded first (REPO_DIR, free_port, wait_until, stop_pidfile).

BACKEND_IMAGE="${BACKEND_IMAGE:-dev.local/d22/backend}"
export BACKEND_IMAGE
# The image's build stage, which scripts/build-image.sh keeps: it has the shell and dpkg
# that the image lacks, so tests ask it which package each of the image's files came from.
BUILD_STAGE_IMAGE="${BACKEND_IMAGE}-build-stage"
export BUILD_STAGE_IMAGE

# Runs the container engine (docker when its daemon answers, podman otherwise).
engine() {
	"$REPO_DIR/scripts/lib/container-engine.sh" "$@"
}

# Succeeds when the engine is podman, whose flags differ a little from docker's.
engine_is_podman() {
	[[ "$(engine --name)" == podman ]]
}

# Builds the image unless this test run built it already: tests/run.sh builds it once and
# sets BACKEND_IMAGE_BUILT=1. A bats file run on its own builds it here (cached layers make
# an unchanged tree cheap), so the tests never run against a stale image.
image_build_once() {
	[[ "${BACKEND_IMAGE_BUILT:-}" == 1 ]] && return 0
	local log="$BATS_FILE_TMPDIR/image-build.log"
	if ! "$REPO_DIR/scripts/build-image.sh" "$BACKEND_IMAGE" >"$log" 2>&1; then
		tail -20 "$log" >&2
		return 1
	fi
	export BACKEND_IMAGE_BUILT=1
}

# Prints the flags for a read-only root with a writable tmpfs at /tmp and nowhere else
# (podman would otherwise add tmpfs mounts of its own at /var/tmp and /run).
read_only_flags() {
	echo --read-only --tmpfs /tmp:rw,nosuid,nodev,size=64m
	if engine_is_podman; then echo --read-only-tmpfs=false; fi
}

# Prints "-e NAME" for each optional backend setting the caller has set, so the container
# gets the same settings a local backend would. REDIS_PASSWORD_FILE is a path on this
# host: see password_file_flags.
passed_settings() {
	local name
	for name in BACKEND_MODE REDIS_USER REDIS_TIMEOUT_MS IDEMPOTENCY_TTL_S MAX_DEPOSIT; do
		if [[ -n "${!name+set}" ]]; then printf -- '-e\n%s\n' "$name"; fi
	done
}

# The path of the Redis password file inside the container, where Kubernetes mounts it too.
CONTAINER_PASSWORD_FILE=/etc/redis-app/password

# When the caller set REDIS_PASSWORD_FILE, copies that file into directory $1, readable by
# the image's group only (as a Secret with fsGroup), and prints the flags that mount it
# read-only in the container and point REDIS_PASSWORD_FILE at it.
password_file_flags() {
	local dir="$1"
	[[ -n "${REDIS_PASSWORD_FILE:-}" ]] || return 0
	cp "$REDIS_PASSWORD_FILE" "$dir/redis-password"
	chgrp 10001 "$dir/redis-password"
	chmod 0440 "$dir/redis-password"
	printf -- '%s\n' --volume "$dir/redis-password:$CONTAINER_PASSWORD_FILE:ro" \
		-e "REDIS_PASSWORD_FILE=$CONTAINER_PASSWORD_FILE"
}

# Starts the image as a container with state in directory $1, listening on 127.0.0.1 at the
# port in $1/port (chosen now if absent) and using the Redis on loopback port $2. More
# engine-run flags follow. Does not wait: see container_start.
container_run() {
	local dir="$1" redis_port="$2"
	shift 2
	mkdir -p "$dir"
	[[ -f "$dir/port" ]] || free_port >"$dir/port"
	local name="moneybank-test-$$-$RANDOM$RANDOM" flags settings
	echo "$name" >"$dir/name"
	read -r -a flags <<<"$(read_only_flags | tr '\n' ' ')"
	mapfile -t settings < <(passed_settings; password_file_flags "$dir")
	engine run --detach --name "$name" --label moneybank-test=1 --network=host \
		"${flags[@]}" "${settings[@]}" \
		-e PORT="$(cat "$dir/port")" -e BIND_ADDR=127.0.0.1 \
		-e REDIS_HOST=127.0.0.1 -e REDIS_PORT="$redis_port" \
		"$@" "$BACKEND_IMAGE" >/dev/null
	engine logs --follow "$name" >>"$dir/container.log" 2>&1 3>&- &
	echo "$!" >"$dir/logs.pid"
}

# Starts a container like container_run, then waits until it answers /livez.
container_start() {
	container_run "$@"
	if ! wait_until 10 curl -sf "$(container_url "$1")/livez"; then
		tail -20 "$1/container.log" >&2
		return 1
	fi
}

# Prints the base URL of the container in directory $1.
container_url() {
	echo "http://127.0.0.1:$(cat "$1/port")"
}

# Prints the container's name from directory $1.
container_name() {
	cat "$1/name"
}

# Removes the container in directory $1 (stopping it with its stop signal first, for at
# most 10 s) and stops its log follower. Safe to call when it was never started.
container_remove() {
	local dir="$1" name
	[[ -f "$dir/name" ]] || return 0
	name="$(cat "$dir/name")"
	engine stop --time 10 "$name" >/dev/null 2>&1 || true
	engine rm --force "$name" >/dev/null 2>&1 || true
	rm -f "$dir/name"
	stop_pidfile "$dir/logs.pid"
}

# Removes every container whose state lives below directory $1.
container_remove_all_below() {
	local name_file
	[[ -d "$1" ]] || return 0
	while read -r name_file; do
		container_remove "$(dirname "$name_file")"
	done < <(find "$1" -name name -type f)
}

# Extracts the image's whole file tree into directory $1 from the host: a container is
# created (never started) and exported, so nothing runs inside the image. podman exports
# the image's files alone; docker adds the empty mount points of its "init layer", which
# are taken out again.
image_extract() {
	local dir="$1" id status=0
	mkdir -p "$dir"
	id="$(engine create "$BACKEND_IMAGE")"
	engine export "$id" | tar --numeric-owner --same-permissions -C "$dir" -x || status=$?
	engine rm "$id" >/dev/null
	if ! engine_is_podman; then remove_docker_mount_points "$dir"; fi
	return "$status"
}

# Removes from an exported tree the mount points docker's init layer adds to every
# container (moby daemon/initlayer), where they are still empty: they are not the image's.
remove_docker_mount_points() {
	local dir="$1" path
	for path in .dockerenv etc/resolv.conf etc/hosts etc/hostname dev/console; do
		if [[ -f "$dir/$path" && ! -s "$dir/$path" ]]; then rm -f "${dir:?}/$path"; fi
	done
	if [[ "$(readlink "$dir/etc/mtab" 2>/dev/null)" == /proc/mounts ]]; then rm -f "$dir/etc/mtab"; fi
	for path in dev/pts dev/shm dev proc sys; do
		rmdir "$dir/$path" 2>/dev/null || true
	done
}

# Prints the pid, as this host sees it, of the first process of the container named $1.
container_host_pid() {
	engine inspect --format '{{.State.Pid}}' "$1"
}

# Prints the host pids of every process in the pid namespace of host pid $1 (a container's
# first process), from the host's /proc: nothing needs to run inside the image.
pid_namespace_members() {
	local namespace proc
	namespace="$(readlink "/proc/$1/ns/pid")"
	for proc in /proc/[0-9]*; do
		if [[ "$(readlink "$proc/ns/pid" 2>/dev/null)" == "$namespace" ]]; then
			echo "${proc#/proc/}"
		fi
	done
}

# Prints the names (comm) of the processes in the pid namespace of host pid $1, one a line.
pid_namespace_commands() {
	local pid
	for pid in $(pid_namespace_members "$1"); do
		cat "/proc/$pid/comm" 2>/dev/null || true
	done
}
