#!/usr/bin/env bats
# The Kubernetes deployment, proven offline: k8s/ renders, every object passes
# the Kubernetes schema, skaffold.yaml passes Skaffold's schema, the Dockerfile
# lints clean, and the objects agree with each other and with the project's
# own files (lighttpd.conf, cgi-bin/*.c, redis.conf, the secret scripts).
# No cluster is used. The checks live in tests/k8s/*.js; scripts/deps-k8s.sh
# installs their npm packages.

bats_load_library bats-support
bats_load_library bats-assert
load lib/common
load lib/kubectl

# Renders k8s/ and k8s/namespace/, and has the real secret scripts print
# their Secrets from throwaway files, for the checks to read.
setup_file() {
	RENDER_DIR="$BATS_FILE_TMPDIR/render"
	KUBECTL_PROBLEM="$(kubectl_problem)"
	export RENDER_DIR KUBECTL_PROBLEM
	mkdir -p "$RENDER_DIR"
	[[ -z "$KUBECTL_PROBLEM" && -d "$REPO_DIR/tests/node_modules" ]] || return 0
	# A failed render fails the first test with kubectl's message.
	kubectl kustomize "$REPO_DIR/k8s" >"$RENDER_DIR/app.yaml" 2>>"$RENDER_DIR/render.err" &&
		kubectl kustomize "$REPO_DIR/k8s/namespace" >"$RENDER_DIR/namespace.yaml" 2>>"$RENDER_DIR/render.err" ||
		return 0
	local host
	host="$(node "$REPO_DIR/tests/k8s/ingress-host.js" "$RENDER_DIR/app.yaml")"
	{
		SECRETS_DIR="$BATS_FILE_TMPDIR/secrets" "$REPO_DIR/scripts/gen-redis-secret.sh" --print
		echo ---
		SECRETS_DIR="$BATS_FILE_TMPDIR/secrets" "$REPO_DIR/scripts/gen-cert.sh" --print "$host"
	} >"$RENDER_DIR/secrets.yaml" 2>"$RENDER_DIR/secrets.log"
}

setup() {
	[[ -d "$REPO_DIR/tests/node_modules" ]] ||
		fail "tests/node_modules is missing: run scripts/deps-k8s.sh (make test does)"
}

# Skips the test when kubectl cannot render k8s/.
require_render() {
	[[ -z "$KUBECTL_PROBLEM" ]] || skip "$KUBECTL_PROBLEM"
}

# Runs one consistency check of tests/k8s/checks.js on the render.
check() {
	require_render
	run node "$REPO_DIR/tests/k8s/checks.js" "$1" "$RENDER_DIR"
	assert_success
	assert_output --partial "ok: "
}

# Skips the test when there is no kubectl, which the secret scripts use to
# print their Secrets (kubectl create secret --dry-run=client, any version).
require_kubectl() {
	command -v kubectl >/dev/null 2>&1 || skip "no kubectl installed"
}

# Runs a secret script ($2...) with its files in folder $1.
with_secrets_in() {
	local dir="$1"
	shift
	SECRETS_DIR="$dir" "$@"
}

# Stops the TLS test server, if a test started one.
teardown() {
	stop_pidfile "$BATS_TEST_TMPDIR/s_server.pid"
}

@test "kubectl kustomize renders k8s/ and k8s/namespace/ into the expected objects" {
	require_render
	[[ ! -s "$RENDER_DIR/render.err" ]] || fail "kubectl kustomize failed: $(cat "$RENDER_DIR/render.err")"
	run bash -c "grep -h '^kind: ' '$RENDER_DIR/app.yaml' '$RENDER_DIR/namespace.yaml' | sort | tr '\n' ' '"
	assert_output "kind: ConfigMap kind: Deployment kind: Ingress kind: Namespace kind: NetworkPolicy kind: PodDisruptionBudget kind: Service kind: Service kind: Service kind: StatefulSet "
}

@test "every rendered object and both generated Secrets pass the Kubernetes schema" {
	require_render
	run node "$REPO_DIR/tests/k8s/validate-schema.js" \
		"$RENDER_DIR/app.yaml" "$RENDER_DIR/namespace.yaml" "$RENDER_DIR/secrets.yaml"
	assert_success
	refute_output --partial INVALID
	assert_output --partial "valid: Secret/bitcoin-tls"
}

@test "skaffold.yaml passes Skaffold's JSON schema for its apiVersion" {
	local schemas="$REPO_DIR/../shared/schemas"
	[[ -d "$schemas" ]] || skip "no Skaffold schemas in ../shared/schemas"
	run node "$REPO_DIR/tests/k8s/validate-skaffold.js" "$schemas" "$REPO_DIR/skaffold.yaml"
	assert_success
	assert_output --partial "valid: "
}

@test "skaffold.yaml's content also passes the newest Skaffold schema here, v4beta14" {
	local schemas="$REPO_DIR/../shared/schemas"
	[[ -f "$schemas/skaffold-v4beta14.json" ]] || skip "no skaffold-v4beta14.json in ../shared/schemas"
	run node "$REPO_DIR/tests/k8s/validate-skaffold.js" "$schemas" "$REPO_DIR/skaffold.yaml" v4beta14
	assert_success
	assert_output --partial "valid: "
}

@test "skaffold builds the Deployment's image from the Dockerfile without pushing and deploys k8s/ to devops-2025 on minikube" {
	check skaffold-config
}

@test "the Dockerfile lints clean with dockerfile-utils" {
	[[ -f "$REPO_DIR/Dockerfile" ]] || skip "no Dockerfile yet"
	run npx --prefix "$REPO_DIR/tests" --no-install dockerfile-utils lint "$REPO_DIR/Dockerfile"
	assert_success
	assert_output ""
}

@test "each Service selects exactly its own workload's pods and targets a port they expose" {
	check service-selectors
}

@test "the Ingress routes only /v1/bitcoins to an existing Service port, over TLS with HTTP redirected" {
	check ingress-backend
}

@test "backend probes ask lighttpd routes that exist, on the port lighttpd listens on, with no initial delay" {
	check probe-routes
}

@test "every setting the CGIs read is set in the backend and forwarded by both lighttpd modes" {
	check env-vars
}

@test "readiness asks lighttpd alone, so a Redis outage cannot take every replica out; /healthz stays for people" {
	check readiness-without-redis
}

@test "the probes wait longer than a flood can keep them from a connection slot" {
	check probe-timeouts
}

@test "the image starts lighttpd through start-lighttpd, and no manifest sets what it works out" {
	check launcher
}

@test "the Redis StatefulSet is governed by a headless Service; the backends use the ClusterIP Service" {
	check redis-services
}

@test "the budget lets unready backends be evicted, so they cannot block a drain" {
	check disruption-budget
}

@test "every Secret key the pods reference exists in the Secrets the scripts make" {
	check secret-keys
}

@test "the NetworkPolicy lets only the backend pods reach the Redis pod, only on 6379" {
	check network-policy
}

@test "the Ingress TLS Secret is the one gen-cert.sh makes, for exactly the Ingress host" {
	check tls-secret
}

@test "the Redis volume is mounted where redis.conf writes the AOF, and kept when the StatefulSet goes" {
	check redis-volume
}

@test "Redis fsyncs every write, takes its password only from the Secret file, and probes demand PONG" {
	check redis-durability
}

@test "the backend and Redis pods meet the restricted Pod Security Standard the namespace enforces" {
	check pod-security
}

@test "the grace period outlasts the preStop sleep plus lighttpd's graceful shutdown on SIGINT" {
	check graceful-stop
}

@test "three backends spread without blocking one node, and the budget keeps two" {
	check availability
}

@test "skaffold manages no namespace, Secret or volume, so Ctrl-C in skaffold dev keeps the data" {
	check skaffold-scope
}

@test "gen-cert.sh makes a certificate that curl --cacert accepts for exactly its host" {
	require_kubectl
	local host=bitcoin.192.0.2.10.nip.io port
	local secrets="$BATS_TEST_TMPDIR/secrets"
	with_secrets_in "$secrets" "$REPO_DIR/scripts/gen-cert.sh" --print "$host" >/dev/null
	port="$(free_port)"
	openssl s_server -quiet -www -accept "127.0.0.1:$port" \
		-cert "$secrets/tls.crt" -key "$secrets/tls.key" </dev/null >/dev/null 2>&1 3>&- &
	echo "$!" >"$BATS_TEST_TMPDIR/s_server.pid"
	wait_until 5 port_in_use "$port"
	run curl -sS -o /dev/null -w '%{http_code}' --cacert "$secrets/tls.crt" \
		--resolve "$host:$port:127.0.0.1" "https://$host:$port/"
	assert_success
	assert_output 200
	run curl -sS -o /dev/null --cacert "$secrets/tls.crt" \
		--resolve "other.192.0.2.10.nip.io:$port:127.0.0.1" "https://other.192.0.2.10.nip.io:$port/"
	assert_failure 60
}

@test "the secret scripts keep an existing key and password; a new host gets a new certificate for the same key" {
	require_kubectl
	local secrets="$BATS_TEST_TMPDIR/secrets"
	with_secrets_in "$secrets" "$REPO_DIR/scripts/gen-redis-secret.sh" --print >/dev/null
	with_secrets_in "$secrets" "$REPO_DIR/scripts/gen-cert.sh" --print bitcoin.192.0.2.10.nip.io >/dev/null
	local password key cert
	password="$(cat "$secrets/redis-password")"
	key="$(cat "$secrets/tls.key")"
	cert="$(cat "$secrets/tls.crt")"
	with_secrets_in "$secrets" "$REPO_DIR/scripts/gen-redis-secret.sh" --print >/dev/null
	with_secrets_in "$secrets" "$REPO_DIR/scripts/gen-cert.sh" --print bitcoin.192.0.2.10.nip.io >/dev/null
	assert_equal "$(cat "$secrets/redis-password")" "$password"
	assert_equal "$(cat "$secrets/tls.crt")" "$cert"
	with_secrets_in "$secrets" "$REPO_DIR/scripts/gen-cert.sh" --print bitcoin.192.0.2.20.nip.io >/dev/null
	assert_equal "$(cat "$secrets/tls.key")" "$key"
	[[ "$(cat "$secrets/tls.crt")" != "$cert" ]] || fail "the certificate was not issued for the new host"
	run openssl x509 -in "$secrets/tls.crt" -noout -ext subjectAltName
	assert_output --partial "DNS:bitcoin.192.0.2.20.nip.io"
}

@test "the minikube-ip overlay changes only the Ingress host of the rendered objects" {
	require_render
	local overlay="$BATS_TEST_TMPDIR/overlay"
	"$REPO_DIR/scripts/ingress-host-overlay.sh" bitcoin.192.0.2.30.nip.io "$overlay"
	kubectl kustomize "$overlay" >"$BATS_TEST_TMPDIR/overlay.yaml"
	run diff "$RENDER_DIR/app.yaml" "$BATS_TEST_TMPDIR/overlay.yaml"
	assert_failure 1
	run bash -c "diff '$RENDER_DIR/app.yaml' '$BATS_TEST_TMPDIR/overlay.yaml' | grep '^[<>]'"
	assert_equal "${#lines[@]}" 4
	assert_line "<   - host: bitcoin.192.168.49.2.nip.io"
	assert_line "<     - bitcoin.192.168.49.2.nip.io"
	assert_line ">   - host: bitcoin.192.0.2.30.nip.io"
	assert_line ">     - bitcoin.192.0.2.30.nip.io"
}
