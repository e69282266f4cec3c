# target-kube.bash: the contract tests' target when it is the Kubernetes pod
# specs themselves: k8s/ rendered with kubectl kustomize, the backend
# Deployment's and the Redis StatefulSet's pod templates run by
# `podman kube play` on a podman network of their own, with the locally built
# backend image and a Redis stand-in image (tests/k8s/redis-standin: Debian's
# redis-server, since the official image cannot be pulled offline).
# tests/k8s/kube-play.js lists the few changes podman needs. The backend is
# published on a loopback port; the backend finds Redis as "redis" (a DNS
# alias on the test network), as it finds the Service redis in the cluster.
# Needs kubectl with kustomize 5 and node with tests/node_modules; installs
# podman and aardvark-dns (the network's DNS) through scripts/deps.sh.

# shellcheck source=tests/lib/container.bash
source "$(dirname "${BASH_SOURCE[0]}")/container.bash"
# shellcheck source=tests/lib/kubectl.bash
source "$(dirname "${BASH_SOURCE[0]}")/kubectl.bash"

KUBE_REDIS_IMAGE=localhost/moneybank-test/redis-standin:7-debian

# Runs podman through scripts/lib/container-engine.sh (its settings for this
# machine); kube play is podman's, so docker will not do.
kube_podman() {
	CONTAINER_ENGINE=podman "$REPO_DIR/scripts/lib/container-engine.sh" "$@"
}

# Prints why the kube target cannot run here (kubectl unable to render k8s/,
# or the checks' npm packages missing), or nothing when it can.
kube_missing_tool() {
	local problem
	problem="$(kubectl_problem)"
	if [[ -n "$problem" ]]; then
		echo "the kube target needs kubectl: $problem"
	elif [[ ! -d "$REPO_DIR/tests/node_modules" ]]; then
		echo "the kube target needs tests/node_modules: run scripts/lib/deps-k8s.sh"
	fi
}

# bats 1.8 cannot skip from setup_file, so target_start records why it did not
# start and each test skips here. (A setup() in the test file would replace
# this one; it should then call kube_skip_if_not_started.)
kube_skip_if_not_started() {
	[[ -z "${KUBE_NOT_STARTED:-}" ]] || skip "$KUBE_NOT_STARTED"
}

setup() {
	kube_skip_if_not_started
}

# Builds the Redis stand-in image on its bookworm base (made locally when it
# is missing); cached layers make a rebuild take a second.
kube_build_redis_standin() {
	local log="$BATS_FILE_TMPDIR/redis-standin-build.log"
	if ! { CONTAINER_ENGINE=podman "$REPO_DIR/scripts/lib/make-base-image.sh" bookworm &&
		kube_podman build --pull=never --tag "$KUBE_REDIS_IMAGE" \
			"$REPO_DIR/tests/k8s/redis-standin"; } >"$log" 2>&1; then
		tail -20 "$log" >&2
		return 1
	fi
}

# Renders k8s/ and the Secrets (from throwaway files) into $TARGET_DIR/render,
# then writes the pod YAML for podman into $TARGET_DIR/play.
kube_render() {
	local render="$TARGET_DIR/render"
	mkdir -p "$render"
	kubectl kustomize "$REPO_DIR/k8s" >"$render/app.yaml"
	: >"$render/namespace.yaml"
	# The ingress controller's settings play no part in the pods.
	: >"$render/controller-config.yaml"
	{
		SECRETS_DIR="$TARGET_DIR/secrets" "$REPO_DIR/scripts/lib/gen-redis-secret.sh" --print
		echo ---
		SECRETS_DIR="$TARGET_DIR/secrets" "$REPO_DIR/scripts/lib/gen-cert.sh" --print bitcoin.test
	} >"$render/secrets.yaml" 2>/dev/null
	node "$REPO_DIR/tests/k8s/kube-play.js" "$render" "$TARGET_DIR/play" "$KUBE_PREFIX" \
		"$(cat "$TARGET_DIR/port")" "$KUBE_REDIS_IMAGE" "$BACKEND_IMAGE" "${BACKEND_MODE:-}"
}

# Succeeds when the Redis pod's own readiness probe command (from the played
# pod spec) passes in it. podman 4.3 runs no readiness probe itself (only
# liveness, as a healthcheck: containers/podman#12417), so this is what
# makes the played Redis hold the function library, as the probe does in a
# cluster; target_start waits on it.
kube_redis_ready() {
	local -a probe
	mapfile -t probe <"$TARGET_DIR/play/redis-readiness-probe"
	kube_podman exec "$KUBE_PREFIX-redis-redis" "${probe[@]}"
}

# Runs a Redis command ($@) in the Redis pod as its admin, whose password
# (in no Secret, as in production) goes in on redis-cli's stdin.
target_redis_cmd() {
	kube_podman exec -i "$KUBE_PREFIX-redis-redis" \
		redis-cli --user admin --askpass -h 127.0.0.1 -p 6379 "$@" \
		<"$TARGET_DIR/secrets/redis-admin-password"
}

# Plays the Redis pod (reachable as "redis") and then the backend pod, and
# waits for each to answer.
kube_play_pods() {
	kube_podman network create "$KUBE_PREFIX-net" >/dev/null
	echo "$KUBE_PREFIX-net" >"$TARGET_DIR/network"
	kube_podman kube play --network "$KUBE_PREFIX-net:alias=redis" \
		"$TARGET_DIR/play/redis.yaml" >"$TARGET_DIR/play-redis.log" 2>&1
	wait_until 20 kube_redis_ready
	kube_podman kube play --network "$KUBE_PREFIX-net" \
		"$TARGET_DIR/play/backend.yaml" >"$TARGET_DIR/play-backend.log" 2>&1
	kube_podman logs --follow "$KUBE_PREFIX-backend-backend" >>"$TARGET_LOG" 2>&1 3>&- &
	echo "$!" >"$TARGET_DIR/logs.pid"
	if ! wait_until 20 curl -sf "$BASE_URL/livez"; then
		tail -20 "$TARGET_LOG" >&2
		return 1
	fi
}

# Renders and plays the pods, and exports BASE_URL and TARGET_LOG.
target_start() {
	KUBE_NOT_STARTED="$(kube_missing_tool)"
	export KUBE_NOT_STARTED
	[[ -z "$KUBE_NOT_STARTED" ]] || return 0
	"$REPO_DIR/scripts/deps.sh" container kube >&2
	TARGET_DIR="$BATS_FILE_TMPDIR/target"
	KUBE_PREFIX="mbk$$x$RANDOM"
	TARGET_LOG="$TARGET_DIR/backend.log"
	export TARGET_DIR KUBE_PREFIX TARGET_LOG
	mkdir -p "$TARGET_DIR"
	echo "$KUBE_PREFIX" >"$TARGET_DIR/prefix"
	free_port >"$TARGET_DIR/port"
	BASE_URL="http://127.0.0.1:$(cat "$TARGET_DIR/port")"
	export BASE_URL
	image_build_once
	kube_build_redis_standin
	kube_render
	kube_play_pods
}

# The log file is followed live; lighttpd buffers its access log for a few
# seconds, so callers wait for lines to arrive.
target_log_refresh() {
	:
}

# Stops the pods (the backend gracefully, with its image's SIGINT) and
# removes them, their volumes and the network. Safe after a half start.
target_stop() {
	[[ -n "${TARGET_DIR:-}" && -f "$TARGET_DIR/prefix" ]] || return 0
	local prefix pod volume
	prefix="$(cat "$TARGET_DIR/prefix")"
	for pod in "$prefix-backend" "$prefix-redis"; do
		kube_podman pod stop --time 10 "$pod" >/dev/null 2>&1 || true
		kube_podman pod rm --force "$pod" >/dev/null 2>&1 || true
	done
	stop_pidfile "$TARGET_DIR/logs.pid"
	while read -r volume; do
		kube_podman volume rm --force "$volume" >/dev/null 2>&1 || true
	done < <(kube_podman volume ls --quiet --filter "name=^$prefix-" 2>/dev/null)
	if [[ -f "$TARGET_DIR/network" ]]; then
		kube_podman network rm --force "$(cat "$TARGET_DIR/network")" >/dev/null 2>&1 || true
	fi
	rm -f "$TARGET_DIR/prefix"
}
