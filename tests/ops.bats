#!/usr/bin/env bats
# The day-2 Kubernetes scripts, offline: scripts/k8s-logs.sh (make
# k8s-logs), k8s-down.sh (make k8s-down, k8s-purge), k8s-dev.sh (make
# k8s-dev) and renew-cert.sh (make k8s-renew-cert), against the stand-in
# cluster of lib/cluster-stubs.bash. It refuses any kubectl call without
# --context minikube and --namespace devops-2025, and any skaffold call
# without --kube-context minikube and --namespace devops-2025, so every test
# that checks for refusals checks that too. The scripts run from a copy of
# scripts/ in a throwaway repository, so that k8s-local/ and k8s/secrets/
# are the test's own.

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert
load lib/common
load lib/netns
load lib/kubectl
load lib/cluster-stubs

setup() {
	cluster_setup_repo
}

teardown() {
	cluster_stop
	stop_all_below "$BATS_TEST_TMPDIR"
}

# Fails when a stand-in refused a call (a missing --context or namespace,
# or a call it does not know).
refute_refusals() {
	run stub_calls
	refute_output --partial REFUSED
}

# Fails when the stand-ins were asked to change anything.
refute_changes() {
	run stub_calls
	refute_output --regexp '^skaffold (delete|dev|run)|^kubectl .* (delete|scale|apply|annotate) '
}

# Writes the Ingress overlay for host $1 into the repository copy, as
# scripts/minikube-up.sh does.
write_overlay() {
	"$REPO/scripts/lib/ingress-host-overlay.sh" "$1" 2>/dev/null
}

# Succeeds when the stand-in cluster has the object KIND.NAME ($1).
has_object() {
	[[ -f "$CLUSTER/objects/$1.yaml" ]]
}

# Adds the Secret bitcoin-tls, from a certificate made by gen-cert.sh.
add_tls_secret() {
	SECRETS_DIR="$BATS_TEST_TMPDIR/tls" "$REPO/scripts/lib/gen-cert.sh" --print bitcoin.192.0.2.10.nip.io \
		2>/dev/null >"$CLUSTER/objects/secret.bitcoin-tls.yaml"
}

@test "k8s-logs prints the backends' and Redis's logs, each line with its pod, from devops-2025 on minikube" {
	printf '%s\n' '[pod/backend-0/backend] deposit amount=5 total=5' \
		'[pod/redis-0/redis] 1:M * Ready to accept connections tcp' >"$CLUSTER/logs"
	run "$REPO/scripts/k8s-logs.sh"
	assert_success
	assert_line '[pod/backend-0/backend] deposit amount=5 total=5'
	assert_line --partial '[pod/redis-0/redis]'
	run grep ' logs ' "$STUB_DIR/calls"
	assert_output --partial "--selector app.kubernetes.io/name in (backend,redis)"
	assert_output --partial "--prefix"
	# A selector alone would print only each container's last 10 lines.
	assert_output --partial "--tail=-1"
	refute_refusals
}

@test "k8s-logs --follow --since 10m follows and limits the lines; --help names the deposit line's format" {
	run "$REPO/scripts/k8s-logs.sh" --follow --since 10m
	assert_success
	run grep ' logs ' "$STUB_DIR/calls"
	assert_output --partial "--follow --since=10m"
	run "$REPO/scripts/k8s-logs.sh" --help
	assert_success
	assert_output --partial "scripts/k8s-logs.sh [--follow] [--since DURATION]"
	assert_output --partial '"deposit amount=N total=T"'
}

@test "k8s-logs says to run make k8s-up when the namespace is missing, and what kubectl said when the cluster is unreachable" {
	rm "$CLUSTER/namespace"
	run "$REPO/scripts/k8s-logs.sh"
	assert_failure 1
	assert_output "k8s-logs: the namespace devops-2025 does not exist on context minikube; run make k8s-up first"
	touch "$CLUSTER/unreachable"
	run "$REPO/scripts/k8s-logs.sh"
	assert_failure 1
	assert_output --partial "cannot ask the cluster of context minikube: The connection to the server 192.168.49.2:8443 was refused"
	assert_output --partial "minikube status"
	refute_refusals
}

@test "k8s-down removes the app with skaffold delete of the minikube-ip overlay and keeps the data, the Secrets and the namespace" {
	write_overlay bitcoin.192.0.2.10.nip.io
	run "$REPO/scripts/k8s-down.sh"
	assert_success
	run grep '^skaffold' "$STUB_DIR/calls"
	assert_output "skaffold delete --profile minikube-ip --kube-context minikube --namespace devops-2025"
	has_object persistentvolumeclaim.data-redis-0
	has_object secret.redis-acl
	[[ -f "$CLUSTER/namespace" ]]
	run ! has_object deployment.backend
	refute_refusals
}

@test "k8s-down without the k8s-local/ overlay deletes the same objects through k8s/, and says so" {
	run "$REPO/scripts/k8s-down.sh"
	assert_success
	assert_line "k8s-down: no k8s-local/ overlay here; deleting the objects k8s/ names (the same ones)"
	assert_output --partial "kept: the namespace devops-2025, the Secrets redis-acl, redis-app, redis-probe and bitcoin-tls, and the Redis data (PVC data-redis-0)"
	run grep '^skaffold' "$STUB_DIR/calls"
	assert_output "skaffold delete --kube-context minikube --namespace devops-2025"
}

@test "k8s-down run again says the app was already gone, and still keeps the data" {
	write_overlay bitcoin.192.0.2.10.nip.io
	run "$REPO/scripts/k8s-down.sh"
	assert_success
	assert_line "k8s-down: removed the app from devops-2025 on minikube (skaffold delete)"
	run "$REPO/scripts/k8s-down.sh"
	assert_success
	assert_line "k8s-down: the app was already gone from devops-2025 on minikube (no Deployment backend, no StatefulSet redis)"
	refute_output --partial "removed the app"
	assert_output --partial "and the Redis data (PVC data-redis-0); make k8s-up brings the app back with the same total"
	has_object persistentvolumeclaim.data-redis-0
	refute_refusals
}

@test "k8s-down after k8s-purge says there is no Redis data to keep, not that the total comes back" {
	CONFIRM=devops-2025 run "$REPO/scripts/k8s-down.sh" --purge
	assert_success
	run "$REPO/scripts/k8s-down.sh"
	assert_success
	assert_output --partial "there is no Redis data to keep (no PVC data-redis-0, as after make k8s-purge): make k8s-up deploys Money Bank again, with a total of 0"
	refute_output --partial "the same total"
	refute_output --partial "and the Redis data (PVC data-redis-0)"
	refute_refusals
}

@test "k8s-down and k8s-purge on a cluster without the namespace say nothing is left and succeed" {
	rm "$CLUSTER/namespace"
	run "$REPO/scripts/k8s-down.sh"
	assert_success
	assert_output "k8s-down: nothing to remove: the namespace devops-2025 does not exist on minikube"
	CONFIRM=devops-2025 run "$REPO/scripts/k8s-down.sh" --purge
	assert_success
	refute_changes
}

@test "k8s-purge without confirmation, or with a wrong one, refuses and changes nothing" {
	run "$REPO/scripts/k8s-down.sh" --purge </dev/null
	assert_failure 1
	assert_output --partial "deletes the Redis data in devops-2025 (PVC data-redis-0), the balance included"
	assert_output --partial "Confirm with CONFIRM=devops-2025 (or run it on a terminal). Nothing was changed."
	CONFIRM=yes run "$REPO/scripts/k8s-down.sh" --purge
	assert_failure 1
	assert_output --partial "CONFIRM=yes is not the confirmation"
	refute_changes
	has_object persistentvolumeclaim.data-redis-0
	has_object deployment.backend
}

@test "k8s-purge with CONFIRM=devops-2025 removes the app, then the PVC once Redis is gone; a second run finds nothing" {
	cluster_pod_start
	CONFIRM=devops-2025 run "$REPO/scripts/k8s-down.sh" --purge
	assert_success
	assert_line "k8s-down: deleted the PVC data-redis-0: the Redis data, the balance included"
	assert_output --partial "kept: the namespace devops-2025 and the Secrets redis-acl, redis-app, redis-probe and bitcoin-tls"
	run ! has_object persistentvolumeclaim.data-redis-0
	has_object secret.redis-acl
	refute_refusals
	CONFIRM=devops-2025 run "$REPO/scripts/k8s-down.sh" --purge
	assert_success
	assert_line "k8s-down: no PVC data-redis-0 in devops-2025: the Redis data was already gone"
}

@test "k8s-purge says how to delete a volume that outlives its claim (reclaim policy Retain)" {
	cluster_patch persistentvolume.pvc-5d0c1f6e merge '{"spec":{"persistentVolumeReclaimPolicy":"Retain"}}'
	CONFIRM=devops-2025 run "$REPO/scripts/k8s-down.sh" --purge
	assert_success
	assert_output --partial "its volume pvc-5d0c1f6e stays (reclaim policy Retain); to delete it too: kubectl --context minikube delete pv pvc-5d0c1f6e"
}

@test "k8s-dev starts skaffold dev -p minikube-ip on minikube in devops-2025 once the namespace, Secrets and overlay are there" {
	add_tls_secret
	write_overlay bitcoin.192.0.2.10.nip.io
	run "$REPO/scripts/k8s-dev.sh" --cleanup=false
	assert_success
	assert_output --partial "starting skaffold dev"
	run grep '^skaffold' "$STUB_DIR/calls"
	assert_output "skaffold dev --profile minikube-ip --kube-context minikube --namespace devops-2025 --cleanup=false"
	refute_refusals
}

@test "k8s-dev names each missing prerequisite, says to run make k8s-up, and starts nothing" {
	rm "$CLUSTER/namespace"
	run "$REPO/scripts/k8s-dev.sh"
	assert_failure 1
	assert_line "  - the namespace devops-2025, with the Secrets redis-acl redis-app redis-probe bitcoin-tls"
	assert_line "  - k8s-local/, the Ingress overlay for minikube's IP"
	assert_output --partial "run make k8s-up first"
	assert_output --partial "Nothing was started."
	touch "$CLUSTER/namespace"
	write_overlay bitcoin.192.0.2.10.nip.io
	run "$REPO/scripts/k8s-dev.sh"
	assert_failure 1
	assert_line "  - the Secret bitcoin-tls in the namespace devops-2025"
	refute_line --partial "redis-acl"
	refute_changes
	refute_refusals
}

@test "k8s-dev refuses an overlay made for an earlier minikube IP" {
	add_tls_secret
	write_overlay bitcoin.192.0.2.10.nip.io
	echo 192.0.2.99 >"$CLUSTER/minikube-ip"
	run "$REPO/scripts/k8s-dev.sh"
	assert_failure 1
	assert_line "  - k8s-local/ is for bitcoin.192.0.2.10.nip.io, but minikube's IP is now 192.0.2.99 (the certificate follows the host)"
	refute_changes
}

# Makes a key with gen-cert.sh and, for it, a certificate for host $1 that
# expires in $2 days: one issued 825 - $2 days ago.
old_certificate() {
	local host="$1" days="$2" secrets="$BATS_TEST_TMPDIR/secrets"
	SECRETS_DIR="$secrets" "$REPO/scripts/lib/gen-cert.sh" --files-only "$host" 2>/dev/null
	openssl req -x509 -new -key "$secrets/tls.key" -sha256 -days "$days" -subj "/CN=$host" \
		-addext "subjectAltName=DNS:$host" -out "$secrets/tls.crt" 2>/dev/null
}

# Runs renew-cert.sh with its files in the test's secrets folder.
renew_cert() {
	SECRETS_DIR="$BATS_TEST_TMPDIR/secrets" run "$REPO/scripts/renew-cert.sh" "$@"
}

# Prints field $2 (tls.crt or tls.key) of the Secret bitcoin-tls, decoded.
secret_field() {
	cluster_jsonpath secret.bitcoin-tls "{.data.${1//./\\.}}" | base64 -d
}

@test "renew-cert issues a new 825-day certificate for the same host and key, puts it in the Secret, and tells clients to fetch it" {
	local host=bitcoin.192.0.2.10.nip.io secrets="$BATS_TEST_TMPDIR/secrets" old key
	old_certificate "$host" 20
	old="$(cat "$secrets/tls.crt")"
	key="$(cat "$secrets/tls.key")"
	renew_cert
	assert_success
	assert_line "renew-cert: issued a new certificate for $host"
	assert_line "renew-cert: updated the Secret bitcoin-tls in devops-2025; the Ingress serves the new certificate within seconds"
	assert_output --partial "clients must fetch the new certificate, $secrets/tls.crt"
	assert_output --regexp "SHA-256 fingerprint ([0-9A-F]{2}:){31}[0-9A-F]{2}"
	[[ "$(cat "$secrets/tls.crt")" != "$old" ]] || fail "the certificate was not replaced"
	assert_equal "$(cat "$secrets/tls.key")" "$key"
	run openssl x509 -in "$secrets/tls.crt" -noout -ext subjectAltName
	assert_output --partial "DNS:$host"
	openssl x509 -in "$secrets/tls.crt" -noout -checkend $((824 * 86400)) >/dev/null
	run ! openssl x509 -in "$secrets/tls.crt" -noout -checkend $((826 * 86400))
	assert_equal "$(secret_field tls.crt)" "$(cat "$secrets/tls.crt")"
	assert_equal "$(secret_field tls.key)" "$key"
	[[ ! -e "$secrets/tls.crt.replaced" ]]
	refute_refusals
}

@test "renew-cert run again changes nothing; one that stopped before the Secret only updates the Secret" {
	local host=bitcoin.192.0.2.10.nip.io secrets="$BATS_TEST_TMPDIR/secrets" renewed
	old_certificate "$host" 20
	renew_cert
	assert_success
	renewed="$(cat "$secrets/tls.crt")"
	: >"$STUB_DIR/calls"
	renew_cert
	assert_success
	assert_output --partial "less than 24 hours ago: it counts as renewed (--force renews it again)"
	assert_output --partial "already holds this certificate and key"
	assert_line "renew-cert: nothing changed"
	refute_changes
	assert_equal "$(cat "$secrets/tls.crt")" "$renewed"
	# As if the last run had stopped before kubectl apply.
	rm "$CLUSTER/objects/secret.bitcoin-tls.yaml"
	renew_cert
	assert_success
	assert_line --partial "renew-cert: updated the Secret bitcoin-tls"
	assert_output --partial "clients must fetch the new certificate"
	assert_equal "$(cat "$secrets/tls.crt")" "$renewed"
	assert_equal "$(secret_field tls.crt)" "$renewed"
}

@test "renew-cert --force renews a fresh certificate, and --new-key replaces the key too" {
	local host=bitcoin.192.0.2.10.nip.io secrets="$BATS_TEST_TMPDIR/secrets" cert key
	SECRETS_DIR="$secrets" "$REPO/scripts/lib/gen-cert.sh" --files-only "$host" 2>/dev/null
	cert="$(cat "$secrets/tls.crt")"
	key="$(cat "$secrets/tls.key")"
	renew_cert --force
	assert_success
	[[ "$(cat "$secrets/tls.crt")" != "$cert" ]] || fail "--force did not renew"
	assert_equal "$(cat "$secrets/tls.key")" "$key"
	renew_cert --force --new-key
	assert_success
	assert_line "renew-cert: issued a new certificate for $host, with a new key"
	[[ "$(cat "$secrets/tls.key")" != "$key" ]] || fail "--new-key kept the key"
	assert_equal "$(secret_field tls.key)" "$(cat "$secrets/tls.key")"
	assert_equal "$(openssl x509 -in "$secrets/tls.crt" -noout -pubkey)" \
		"$(openssl pkey -in "$secrets/tls.key" -pubout)"
}

@test "renew-cert --new-key alone replaces the key of a certificate issued in the last 24 hours at once: a leaked key cannot wait" {
	local host=bitcoin.192.0.2.10.nip.io secrets="$BATS_TEST_TMPDIR/secrets" key
	SECRETS_DIR="$secrets" "$REPO/scripts/lib/gen-cert.sh" --files-only "$host" 2>/dev/null
	key="$(cat "$secrets/tls.key")"
	renew_cert --new-key
	assert_success
	assert_line "renew-cert: issued a new certificate for $host, with a new key"
	refute_output --partial "counts as renewed"
	[[ "$(cat "$secrets/tls.key")" != "$key" ]] || fail "--new-key kept the key"
	assert_equal "$(secret_field tls.key)" "$(cat "$secrets/tls.key")"
	assert_equal "$(openssl x509 -in "$secrets/tls.crt" -noout -pubkey)" \
		"$(openssl pkey -in "$secrets/tls.key" -pubout)"
}

@test "renew-cert refuses without a certificate, or without the namespace, and changes nothing" {
	local secrets="$BATS_TEST_TMPDIR/secrets" cert
	renew_cert
	assert_failure 1
	assert_output "renew-cert: no certificate and key in $secrets to renew; make k8s-up makes the first ones"
	old_certificate bitcoin.192.0.2.10.nip.io 20
	cert="$(cat "$secrets/tls.crt")"
	rm "$CLUSTER/namespace"
	renew_cert
	assert_failure 1
	assert_output --partial "the namespace devops-2025 does not exist on context minikube; run make k8s-up first"
	assert_equal "$(cat "$secrets/tls.crt")" "$cert"
	refute_changes
}
