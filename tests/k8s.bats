#!/usr/bin/env bats
# The Kubernetes deployment, proven offline: k8s/ renders, every object passes
# the Kubernetes schema, skaffold.yaml passes Skaffold's schema, the Dockerfile
# lints clean, and the objects agree with each other and with the project's
# own files (lighttpd.conf, cgi-bin/*.c, redis.conf, the secret scripts).
# No cluster is used. The checks live in tests/k8s/*.js; scripts/lib/deps-k8s.sh
# installs their npm packages.

bats_load_library bats-support
bats_load_library bats-assert
load lib/common
load lib/kubectl
load lib/minikube-stubs

# Renders k8s/ and k8s/namespace/, and has the real secret scripts print
# their Secrets from throwaway files, for the checks to read.
setup_file() {
	RENDER_DIR="$BATS_FILE_TMPDIR/render"
	KUBECTL_PROBLEM="$(kubectl_problem)"
	export RENDER_DIR KUBECTL_PROBLEM
	mkdir -p "$RENDER_DIR"
	# What scripts/minikube-up.sh merges into the controller's ConfigMap.
	cp "$REPO_DIR/k8s/ingress-controller/config-patch.yaml" "$RENDER_DIR/controller-config.yaml"
	[[ -z "$KUBECTL_PROBLEM" && -d "$REPO_DIR/tests/node_modules" ]] || return 0
	# A failed render fails the first test with kubectl's message.
	kubectl kustomize "$REPO_DIR/k8s" >"$RENDER_DIR/app.yaml" 2>>"$RENDER_DIR/render.err" &&
		kubectl kustomize "$REPO_DIR/k8s/namespace" >"$RENDER_DIR/namespace.yaml" 2>>"$RENDER_DIR/render.err" ||
		return 0
	local host
	host="$(node "$REPO_DIR/tests/k8s/ingress-host.js" "$RENDER_DIR/app.yaml")"
	{
		SECRETS_DIR="$BATS_FILE_TMPDIR/secrets" "$REPO_DIR/scripts/lib/gen-redis-secret.sh" --print
		echo ---
		SECRETS_DIR="$BATS_FILE_TMPDIR/secrets" "$REPO_DIR/scripts/lib/gen-cert.sh" --print "$host"
	} >"$RENDER_DIR/secrets.yaml" 2>"$RENDER_DIR/secrets.log"
}

setup() {
	[[ -d "$REPO_DIR/tests/node_modules" ]] ||
		fail "tests/node_modules is missing: run scripts/lib/deps-k8s.sh (make test does)"
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

# Runs node reachability.js (allowed, query) on the render.
reachability() {
	require_render
	run node "$REPO_DIR/tests/k8s/reachability.js" "$1" "$RENDER_DIR" "${@:2}"
}

# Runs a step of scripts/minikube-up.sh (one of its functions, with
# arguments) in a shell that sourced the script, with the stand-ins. Sourced
# alone, not in a && list, so that its set -e holds there too.
minikube_up_step() {
	SECRETS_DIR="$BATS_TEST_TMPDIR/secrets" run bash -c 'source "$1/scripts/minikube-up.sh"; "${@:2}"' _ "$REPO_DIR" "$@"
}

# Runs the whole of scripts/minikube-up.sh with the stand-ins; its secrets,
# should it get that far, go to a throwaway folder.
minikube_up() {
	SECRETS_DIR="$BATS_TEST_TMPDIR/secrets" run "$REPO_DIR/scripts/minikube-up.sh"
}

# Fails when the stand-ins were asked to change anything: start, delete or
# stop a cluster, enable an addon, apply, patch or create an object, deploy.
refute_changes() {
	run stub_calls
	refute_output --regexp '(^| )(start|delete|stop|addons|apply|patch|create)( |$)'
	refute_output --partial skaffold
}

# Stops the TLS test server, if a test started one.
teardown() {
	stop_pidfile "$BATS_TEST_TMPDIR/s_server.pid"
}

@test "kubectl kustomize renders k8s/ and k8s/namespace/ into the expected objects" {
	require_render
	[[ ! -s "$RENDER_DIR/render.err" ]] || fail "kubectl kustomize failed: $(cat "$RENDER_DIR/render.err")"
	run bash -c "grep -h '^kind: ' '$RENDER_DIR/app.yaml' '$RENDER_DIR/namespace.yaml' | sort | tr '\n' ' '"
	assert_output "kind: ConfigMap kind: ConfigMap kind: Deployment kind: Ingress kind: Namespace kind: NetworkPolicy kind: NetworkPolicy kind: NetworkPolicy kind: PodDisruptionBudget kind: Service kind: Service kind: Service kind: StatefulSet "
}

@test "every rendered object and every generated Secret pass the Kubernetes schema" {
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

@test "every Secret key the pods reference exists in the Secrets the scripts make, and the ACL holds their hashes" {
	check secret-keys
}

@test "Redis's users: default off, the app only FCALL and what a deposit and a read need on their keys, the probe only PING and loading functions, hashes only" {
	check redis-acl
}

@test "each pod mounts only the Redis Secrets it needs and takes none as an environment variable" {
	check secret-mounts
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

@test "Redis fsyncs every write, takes no password but hashes from the Secret file, and probes demand PONG" {
	check redis-durability
}

@test "Redis is Ready only once it holds the function library from the repository, which its probe user loads; liveness stays a PING" {
	check redis-functions
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
	with_secrets_in "$secrets" "$REPO_DIR/scripts/lib/gen-cert.sh" --print "$host" >/dev/null
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

@test "the secret scripts keep an existing key and passwords; a new host gets a new certificate for the same key" {
	require_kubectl
	local secrets="$BATS_TEST_TMPDIR/secrets"
	with_secrets_in "$secrets" "$REPO_DIR/scripts/lib/gen-redis-secret.sh" --print >/dev/null
	with_secrets_in "$secrets" "$REPO_DIR/scripts/lib/gen-cert.sh" --print bitcoin.192.0.2.10.nip.io >/dev/null
	local passwords key cert
	passwords="$(cat "$secrets"/redis-{app,probe,admin}-password)"
	key="$(cat "$secrets/tls.key")"
	cert="$(cat "$secrets/tls.crt")"
	with_secrets_in "$secrets" "$REPO_DIR/scripts/lib/gen-redis-secret.sh" --print >/dev/null
	with_secrets_in "$secrets" "$REPO_DIR/scripts/lib/gen-cert.sh" --print bitcoin.192.0.2.10.nip.io >/dev/null
	assert_equal "$(cat "$secrets"/redis-{app,probe,admin}-password)" "$passwords"
	assert_equal "$(cat "$secrets/tls.crt")" "$cert"
	with_secrets_in "$secrets" "$REPO_DIR/scripts/lib/gen-cert.sh" --print bitcoin.192.0.2.20.nip.io >/dev/null
	assert_equal "$(cat "$secrets/tls.key")" "$key"
	[[ "$(cat "$secrets/tls.crt")" != "$cert" ]] || fail "the certificate was not issued for the new host"
	run openssl x509 -in "$secrets/tls.crt" -noout -ext subjectAltName
	assert_output --partial "DNS:bitcoin.192.0.2.20.nip.io"
}

@test "gen-redis-secret.sh makes a password per user, puts only their hashes in users.acl, and both of a user's during a rotation" {
	local secrets="$BATS_TEST_TMPDIR/secrets" user password
	with_secrets_in "$secrets" "$REPO_DIR/scripts/lib/gen-redis-secret.sh" --files-only 2>/dev/null
	run stat -c '%a' "$secrets" "$secrets/redis-app-password" "$secrets/users.acl"
	assert_output $'700\n600\n600'
	for user in app probe admin; do
		password="$(cat "$secrets/redis-$user-password")"
		[[ "$password" =~ ^[0-9a-f]{64}$ ]] || fail "$user's password is not 32 random bytes in hex"
		run grep -c -F "$password" "$secrets/users.acl"
		assert_output 0
		run grep -c "^user $user on #$(printf '%s' "$password" | sha256sum | cut -d' ' -f1) " "$secrets/users.acl"
		assert_output 1
	done
	printf 'next-password' >"$secrets/redis-app-password.next"
	with_secrets_in "$secrets" "$REPO_DIR/scripts/lib/gen-redis-secret.sh" --files-only 2>/dev/null
	run grep "^user app " "$secrets/users.acl"
	assert_output --partial "#$(printf '%s' "$(cat "$secrets/redis-app-password")" | sha256sum | cut -d' ' -f1) "
	assert_output --partial "#$(printf 'next-password' | sha256sum | cut -d' ' -f1) "
}

@test "the minikube-ip overlay changes only the Ingress host of the rendered objects" {
	require_render
	local overlay="$BATS_TEST_TMPDIR/overlay"
	"$REPO_DIR/scripts/lib/ingress-host-overlay.sh" bitcoin.192.0.2.30.nip.io "$overlay"
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

@test "NetworkPolicy reachability follows the Kubernetes rules on the documentation's examples" {
	run node "$REPO_DIR/tests/k8s/reachability.js" selftest
	assert_success
	assert_output --partial "ok: "
}

@test "the rendered NetworkPolicies allow only controller to backend:8080, backend to Redis:6379 and to DNS:53" {
	reachability allowed
	assert_success
	assert_output - <<'EOF'
devops-2025/backend -> devops-2025/redis 6379/TCP
devops-2025/backend -> kube-system/coredns 53/TCP
devops-2025/backend -> kube-system/coredns 53/UDP
ingress-nginx/controller -> devops-2025/backend 8080/TCP
# 4 of 840 connections allowed
EOF
}

@test "the rendered NetworkPolicies refuse other pods, other ports, the internet, and Redis talking to anyone" {
	reachability query \
		'default/impostor devops-2025/backend 8080/TCP' \
		'default/impostor devops-2025/redis 6379/TCP' \
		'devops-2025/stray-pod devops-2025/backend 8080/TCP' \
		'devops-2025/stray-pod devops-2025/redis 6379/TCP' \
		'ingress-nginx/admission-job devops-2025/backend 8080/TCP' \
		'ingress-nginx/controller devops-2025/backend 22/TCP' \
		'ingress-nginx/controller devops-2025/redis 6379/TCP' \
		'kube-system/coredns devops-2025/backend 8080/TCP' \
		'devops-2025/backend internet/203.0.113.10 443/TCP' \
		'devops-2025/backend devops-2025/redis 6380/TCP' \
		'devops-2025/backend kube-system/coredns 443/TCP' \
		'devops-2025/backend kube-system/metrics-server 53/UDP' \
		'devops-2025/backend ingress-nginx/controller 443/TCP' \
		'devops-2025/redis internet/203.0.113.10 443/TCP' \
		'devops-2025/redis kube-system/coredns 53/UDP' \
		'devops-2025/redis devops-2025/backend 8080/TCP' \
		'devops-2025/stray-pod internet/203.0.113.10 443/TCP' \
		'devops-2025/backend default/dns-impostor 53/UDP' \
		'devops-2025/backend default/redis-impostor 6379/TCP' \
		'devops-2025/backend internet/8.8.8.8 53/UDP' \
		'devops-2025/redis internet/1.1.1.1 443/TCP' \
		'internet/203.0.113.10 devops-2025/backend 8080/TCP'
	assert_success
	refute_output --partial allowed
	assert_equal "$(grep -c '^refused: ' <<<"$output")" 22
}

@test "the Ingress limits each client IP to 10 requests/s with bursts of 20, and to 20 connections" {
	check ingress-limits
}

@test "over the limits the controller answers 429, speaks only TLS 1.2 and 1.3, TLS 1.2 with forward-secret AEAD suites, with HSTS, set in its ConfigMap" {
	check ingress-controller-config
}

@test "the controller check refuses any setting that takes the client's address from headers the client sends" {
	require_render
	local setting mutated="$BATS_TEST_TMPDIR/render"
	# Each line: a setting that replaces the patch's line for its key, or
	# joins the patch when it has none.
	while IFS= read -r setting; do
		rm -rf "$mutated"
		cp -r "$RENDER_DIR" "$mutated"
		grep -v "^  ${setting%%:*}:" "$RENDER_DIR/controller-config.yaml" >"$mutated/controller-config.yaml"
		printf '  %s\n' "$setting" >>"$mutated/controller-config.yaml"
		run node "$REPO_DIR/tests/k8s/checks.js" ingress-controller-config "$mutated"
		assert_failure
		assert_output --partial "FAIL: the controller's ${setting%%:*} is "
	done <<'EOF'
use-forwarded-headers: "true"
enable-real-ip: "true"
use-proxy-protocol: "true"
proxy-real-ip-cidr: "0.0.0.0/0"
forwarded-for-header: "X-Real-IP"
compute-full-forwarded-for: "true"
limit-conn-zone-variable: "$http_x_forwarded_for"
EOF
	run node "$REPO_DIR/tests/k8s/checks.js" ingress-controller-config "$RENDER_DIR"
	assert_success
}

@test "Redis runs redis:7.4.11-bookworm or a later 7.4 patch, with the 2026 security fixes" {
	check redis-image
}

@test "minikube-up.sh starts a new cluster with the docker runtime, which skaffold can build for, and calico" {
	stub_tools
	touch "$STUB_DIR/start-ok"
	MINIKUBE_START_ARGS="--memory=4g" minikube_up_step start_minikube
	assert_success
	run stub_calls
	assert_line "minikube -p minikube start --container-runtime=docker --cni=calico --memory=4g"
}

@test "minikube-up.sh refuses an existing containerd cluster, says how to recreate it, and changes nothing" {
	stub_tools
	stub_profiles "other docker docker" "minikube docker containerd"
	minikube_up
	assert_failure 1
	assert_output --partial "runs the containerd container runtime"
	assert_output --partial "needs the docker runtime. Nothing was changed"
	assert_output --partial "minikube delete -p minikube && scripts/minikube-up.sh"
	refute_changes
}

@test "minikube-up.sh accepts an existing cluster with the docker runtime, or a legacy one without a runtime" {
	stub_tools
	stub_profiles "minikube docker docker" "other docker containerd"
	minikube_up_step refuse_wrong_runtime
	assert_success
	stub_profiles "minikube docker "
	minikube_up_step refuse_wrong_runtime
	assert_success
	stub_profiles "minikube kvm2 cri-o"
	minikube_up_step refuse_wrong_runtime
	assert_failure 1
	assert_output --partial "runs the cri-o container runtime"
}

@test "minikube-up.sh stops when docker refuses this user, with the docker group fix, and changes nothing" {
	stub_tools
	touch "$STUB_DIR/docker-denied"
	minikube_up
	assert_failure 1
	assert_output --partial "docker does not work for user $(id -un): permission denied"
	assert_output --partial "sudo usermod -aG docker $(id -un)"
	refute_changes
	# Another driver does not need the host's Docker.
	MINIKUBE_START_ARGS="--driver=kvm2" minikube_up_step check_docker
	assert_success
	stub_profiles "minikube kvm2 docker"
	minikube_up_step check_docker
	assert_success
}

@test "minikube-up.sh refuses a standalone kustomize older than 5, which skaffold would use before kubectl's" {
	stub_tools
	stub_kustomize "{Version:kustomize/v4.5.4 GitCommit:cf3a452ddd6f83945d39d582243b8592ec627ae3 BuildDate:2022-03-28T23:12:45Z GoOs:linux GoArch:amd64}"
	minikube_up
	assert_failure 1
	assert_output --partial "skaffold would render k8s/ with the kustomize at $STUB_DIR/bin/kustomize: 4.5.4"
	assert_output --partial "take it off the PATH"
	refute_changes
	stub_kustomize v5.8.1
	minikube_up_step check_kustomize
	assert_success
}

@test "minikube-up.sh checks kubectl's built-in kustomize when no standalone one is on the PATH" {
	stub_tools
	[[ "$(command -v kustomize || true)" == "" ]] || skip "a standalone kustomize is installed: $(command -v kustomize)"
	minikube_up_step check_kustomize
	assert_success
	echo v4.5.7 >"$STUB_DIR/kubectl-kustomize"
	minikube_up_step check_kustomize
	assert_failure 1
	assert_output --partial "kubectl's built-in kustomize: 4.5.7"
}

@test "minikube-up.sh prints every curl with --resolve to minikube's IP: 443 for HTTPS, 80 for the redirect" {
	stub_tools
	local host=bitcoin.192.0.2.10.nip.io ip=192.0.2.10 line url resolve curls=0
	minikube_up_step print_curl_commands "$host" "$ip"
	assert_success
	local printed="$output"
	# Each printed command, run as pasted, against a curl that reports the
	# address it would connect to.
	cat >"$STUB_DIR/bin/curl" <<'EOF'
#!/usr/bin/env bash
url="" resolve=""
while (($#)); do
	case "$1" in
	--resolve) resolve="$2" && shift ;;
	http://* | https://*) url="$1" ;;
	esac
	shift
done
echo "$resolve $url"
EOF
	chmod +x "$STUB_DIR/bin/curl"
	while IFS= read -r line; do
		[[ "$line" == "  curl "* ]] || continue
		curls=$((curls + 1))
		read -r resolve url < <(bash -c "$line")
		case "$url" in
		"https://$host/"*) assert_equal "$resolve" "$host:443:$ip" ;;
		"http://$host/"*) assert_equal "$resolve" "$host:80:$ip" ;;
		*) fail "a printed curl goes to $url: $line" ;;
		esac
	done <<<"$printed"
	assert_equal "$curls" 3
	run grep -c 'http://' <<<"$printed"
	assert_output 1
}

# A curl stand-in that logs the certificate file given with --cacert to
# $STUB_DIR/cacerts, then fails as curl --fail does on a 503.
stub_curl_logging_cacert() {
	cat >"$STUB_DIR/bin/curl" <<'EOF'
#!/usr/bin/env bash
while (($#)); do
	[[ "$1" != --cacert ]] || echo "$2" >>"$STUB_DIR/cacerts"
	shift
done
exit 22
EOF
	chmod +x "$STUB_DIR/bin/curl"
}

@test "minikube-up.sh checks HTTPS and prints its curls with SECRETS_DIR/tls.crt, where gen-cert.sh writes the certificate" {
	stub_tools
	stub_curl_logging_cacert
	local host=bitcoin.192.0.2.10.nip.io ip=192.0.2.10 cacert
	cacert="$(realpath -m --relative-to="$PWD" "$BATS_TEST_TMPDIR/secrets/tls.crt")"
	minikube_up_step print_curl_commands "$host" "$ip"
	assert_success
	assert_line "  curl --cacert $cacert --resolve $host:443:$ip \"https://$host/v1/bitcoins\"; echo"
	# Its HTTPS check, with no waits between the tries.
	SECRETS_DIR="$BATS_TEST_TMPDIR/secrets" run bash -c \
		'source "$1/scripts/minikube-up.sh"; sleep() { :; }; wait_for_https "$2" "$3"' _ "$REPO_DIR" "$host" "$ip"
	assert_failure
	run sort -u "$STUB_DIR/cacerts"
	assert_output "$BATS_TEST_TMPDIR/secrets/tls.crt"
}

@test "persistence-proof.sh sends its requests with --cacert SECRETS_DIR/tls.crt, where gen-cert.sh writes the certificate" {
	stub_tools
	stub_curl_logging_cacert
	SECRETS_DIR="$BATS_TEST_TMPDIR/secrets" run "$REPO_DIR/scripts/persistence-proof.sh"
	assert_failure
	run sort -u "$STUB_DIR/cacerts"
	assert_output "$BATS_TEST_TMPDIR/secrets/tls.crt"
}

@test "enabling the ingress addon merges 429, TLS 1.2-1.3 with its suites, HSTS and no trusted forwarding headers into its ConfigMap, idempotently, then waits for the webhook" {
	stub_tools
	# minikube's addon ConfigMap (deploy/addons/ingress/ingress-deploy.yaml.tmpl).
	cat >"$STUB_DIR/configmap.yaml" <<'EOF'
apiVersion: v1
data:
  hsts: "false"
kind: ConfigMap
metadata:
  labels:
    app.kubernetes.io/component: controller
    app.kubernetes.io/instance: ingress-nginx
    app.kubernetes.io/name: ingress-nginx
  name: ingress-nginx-controller
  namespace: ingress-nginx
EOF
	[[ -n "$REAL_KUBECTL" ]] || skip "no kubectl installed"
	minikube_up_step enable_ingress
	assert_success
	run stub_calls
	assert_line --index 0 "minikube -p minikube addons enable ingress"
	assert_line --index 1 "kubectl --context minikube -n ingress-nginx patch configmap ingress-nginx-controller --type merge --patch-file $REPO_DIR/k8s/ingress-controller/config-patch.yaml"
	assert_line --index 2 --partial "rollout status deployment/ingress-nginx-controller"
	assert_line --index 3 --partial "-n ingress-nginx get endpointslices -l kubernetes.io/service-name=ingress-nginx-controller-admission"
	run cat "$STUB_DIR/configmap.yaml"
	assert_output - <<'EOF'
apiVersion: v1
data:
  enable-real-ip: "false"
  hsts: "true"
  hsts-include-subdomains: "true"
  hsts-max-age: "31536000"
  hsts-preload: "false"
  limit-conn-status-code: "429"
  limit-req-status-code: "429"
  ssl-ciphers: ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305
  ssl-protocols: TLSv1.2 TLSv1.3
  use-forwarded-headers: "false"
kind: ConfigMap
metadata:
  labels:
    app.kubernetes.io/component: controller
    app.kubernetes.io/instance: ingress-nginx
    app.kubernetes.io/name: ingress-nginx
  name: ingress-nginx-controller
  namespace: ingress-nginx
EOF
	cp "$STUB_DIR/configmap.yaml" "$BATS_TEST_TMPDIR/once.yaml"
	minikube_up_step configure_ingress_controller
	assert_success
	run diff "$BATS_TEST_TMPDIR/once.yaml" "$STUB_DIR/configmap.yaml"
	assert_success
}

@test "minikube-up.sh waits for the admission webhook and runs skaffold once more when the webhook refused the Ingress" {
	stub_tools
	printf '%s\n' fail-webhook ok >"$STUB_DIR/skaffold-results"
	minikube_up_step skaffold_run_retrying_webhook
	assert_success
	assert_output --partial "admission webhook was not ready; waiting for it, then running skaffold once more"
	run bash -c "sed -nE 's/^(skaffold run) .*/\\1/p; s/^(kubectl) .* (get endpointslices) .*/\\1 \\2/p' '$STUB_DIR/calls'"
	assert_output - <<'EOF'
skaffold run
kubectl get endpointslices
skaffold run
EOF
}

@test "minikube-up.sh runs skaffold once and fails when the webhook refuses twice or skaffold fails otherwise" {
	stub_tools
	printf '%s\n' fail-webhook fail-webhook ok >"$STUB_DIR/skaffold-results"
	minikube_up_step skaffold_run_retrying_webhook
	assert_failure 1
	assert_equal "$(grep -c '^skaffold run' "$STUB_DIR/calls")" 2
	rm "$STUB_DIR/calls"
	printf '%s\n' fail-other ok >"$STUB_DIR/skaffold-results"
	minikube_up_step skaffold_run_retrying_webhook
	assert_failure 1
	assert_output --partial "docker build failed"
	assert_equal "$(grep -c '^skaffold run' "$STUB_DIR/calls")" 1
}
