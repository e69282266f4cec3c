# stack.bash: the production shape on loopback, with all its state in one
# directory: one Redis with production's ACL users (gen-redis-secret.sh) and
# an AOF fsynced before every reply,
# three lighttpd backends (build/start-lighttpd, each its own process and port),
# and an nginx TLS front that behaves like the NGINX Ingress. scripts/stack.sh
# (make stack) and tests/reliability.bats both use it. Needs lib/common.bash.
#
# Layout of the stack directory DIR:
#   redis/               port, pid, redis.log, AOF; secrets/ (users.acl
#                        and a password file per user); user and password,
#                        the admin's, for redis_cmd
#   backend1..3/         port, pid, lighttpd.log (deposit lines), run/
#   tls/                 tls.crt (give it to curl --cacert), tls.key
#   front/               https_port, http_port, nginx.conf, pid, logs, temp/
# A port file that exists is kept, so a restart reuses its port.
# STACK_REDIS_PORT, STACK_BACKEND_PORTS ("P1 P2 P3"), STACK_HTTPS_PORT and
# STACK_HTTP_PORT, when set, choose the ports instead of free_port.
#
# Per-client limits of the front, the numbers the Ingress has
# (k8s/ingress.yaml): STACK_LIMIT_RPS requests a second sustained (10),
# STACK_LIMIT_BURST more at once (20, served without delay), and
# STACK_LIMIT_CONNECTIONS requests in flight (20), per client address. Over
# either the front answers 429 with a JSON body and Retry-After, and the
# request never reaches a backend. A suite that sends thousands of requests
# from one address on purpose raises them, and says why.

STACK_HOST=bitcoin.127.0.0.1.nip.io
STACK_BACKENDS=3
# Seconds a throttled client is told to wait: at the default rate one second
# frees 10 requests, and a request in flight rarely lasts longer.
STACK_RETRY_AFTER=1
# Sent on every HTTPS answer, errors included; never on plain HTTP, where
# browsers must ignore it (RFC 6797).
STACK_HSTS='add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;'

# The JSON bodies the front sends for the errors it makes itself, instead of
# nginx's built-in HTML pages: one row for every status nginx has a page for
# (src/http/ngx_http_special_response.c, 1.22 to today), as
# "status|status sent|message". 494 to 497 are nginx's own codes, sent as
# 400; 498 (a request cancelled) is sent as 404, as nginx does. 429 is the
# limits' own page (stack_front_config). Like lighttpd's (scripts/
# gen-error-pages.sh) each says whether anything changed and what to do,
# and names no host, port or setting; a 500, 502 or 504 can come after a
# deposit reached a backend, so those never invite a blind retry, while a
# read, which changes nothing, may simply be sent again. Statuses nothing here provokes (401,
# 402, 406, 409, 410, 412, 415, 416, 421, 495, 496, 507) still get a page,
# so that no nginx release or setting can bring the HTML back.
STACK_API_HINT='use GET /v1/bitcoins to read the total, or POST /v1/bitcoins?bitcoins=N to deposit'
STACK_UNKNOWN_OUTCOME='a read changed nothing and may simply be sent again; a deposit may or may not have been added: check the total, or retry it with the same Idempotency-Key, which is safe'
# What every error the front makes before a backend is reached did.
STACK_UNCHANGED='nothing was changed'
STACK_ERROR_PAGES="400|400|the request is malformed (a bad request line, header or framing); $STACK_UNCHANGED; fix the request and send it again
401|401|this API takes no credentials; $STACK_UNCHANGED; send the request without them
402|402|this request cannot be served; $STACK_UNCHANGED; $STACK_API_HINT
403|403|this path is not served; $STACK_UNCHANGED; $STACK_API_HINT
404|404|this path is not served; $STACK_UNCHANGED; $STACK_API_HINT
405|405|this method is not allowed here; $STACK_UNCHANGED; use GET or HEAD to read the total, or POST to deposit
406|406|no acceptable form of the answer; $STACK_UNCHANGED; send Accept: application/json or text/plain, or no Accept header
408|408|the request took too long to arrive; $STACK_UNCHANGED; send it again
409|409|the request conflicts with the current state; $STACK_UNCHANGED; check the total, then send it again
410|410|this path is not served; $STACK_UNCHANGED; $STACK_API_HINT
411|411|a POST needs a Content-Length header; $STACK_UNCHANGED; send Content-Length: 0 when there is no body
412|412|a precondition of the request failed; $STACK_UNCHANGED; send it without If- headers
413|413|the request body is too large; $STACK_UNCHANGED; send deposits without a body: the amount goes in the query, ?bitcoins=N
414|414|the URL is too long; $STACK_UNCHANGED; shorten it: a deposit needs only ?bitcoins=N
415|415|this media type is not supported; $STACK_UNCHANGED; send deposits without a body
416|416|ranges are not supported; $STACK_UNCHANGED; send the request without a Range header
421|421|this connection cannot serve this host name; $STACK_UNCHANGED; send the request on a new connection
494|400|the request headers are too large; $STACK_UNCHANGED; send fewer or shorter headers
495|400|this API takes no client certificate; $STACK_UNCHANGED; send the request without one
496|400|this API takes no client certificate; $STACK_UNCHANGED; send the request without one
497|400|this port speaks HTTPS only; $STACK_UNCHANGED; send the request again over HTTPS
498|404|this path is not served; $STACK_UNCHANGED; $STACK_API_HINT
500|500|the server failed while answering; $STACK_UNKNOWN_OUTCOME; tell the operator if it persists
501|501|this method or transfer coding is not implemented; $STACK_UNCHANGED; use GET, HEAD or POST with a Content-Length
502|502|no server could answer; $STACK_UNKNOWN_OUTCOME; tell the operator if it persists
503|503|the service is overloaded or starting and did not take this request; $STACK_UNCHANGED; try again shortly
504|504|no answer came in time; $STACK_UNKNOWN_OUTCOME
505|505|this HTTP version is not supported; $STACK_UNCHANGED; use HTTP/1.1 or HTTP/2
507|507|the server is out of storage; $STACK_UNCHANGED; try again later, and tell the operator if it persists"

# Prints the error_page lines and their locations for one server block,
# every status of STACK_ERROR_PAGES except those given. The pages are
# internal URIs, not named locations: nginx cannot redirect a request whose
# request line it could not read (400, 505) to a named location ("empty URI
# in redirect to named location"), and then answers 500 in HTML. A request
# for such a URI from outside gets the 404 page. The locations add no header
# of their own, so they keep the server's (HSTS on HTTPS). They take a body
# of any size: over HTTP/2 nginx checks the size of a refused body again in
# the page's location, and a second 413 there would send the HTML page.
stack_front_error_pages() {
	local status sent message
	while IFS='|' read -r status sent message; do
		[[ " $* " != *" $status "* ]] || continue
		printf 'error_page %s /_error/%s;\n' "$status" "$status"
		printf "location = /_error/%s { internal; client_max_body_size 0; return %s '{\"error\":\"%s\"}'; }\n" \
			"$status" "$sent" "$message"
	done <<<"$STACK_ERROR_PAGES"
}

# Writes port $2 to file $1; with no port given, keeps the file or picks a
# free loopback port.
stack_port_file() {
	local file="$1" port="${2:-}"
	if [[ -n "$port" ]]; then
		echo "$port" >"$file"
	elif [[ ! -s "$file" ]]; then
		free_port >"$file"
	fi
}

# Makes the Redis users and their passwords once, as in production (the
# passwords are kept, users.acl written again): Redis gets only the hashes,
# each backend the app's password file, redis_cmd the admin's.
stack_secret() {
	redis_acl_files "$1/redis"
}

# Makes the TLS key and certificate for STACK_HOST with the project's script.
stack_cert() {
	SECRETS_DIR="$1/tls" "$REPO_DIR/scripts/lib/gen-cert.sh" --files-only \
		"$STACK_HOST" >>"$1/gen-cert.log" 2>&1 || {
		cat "$1/gen-cert.log" >&2
		return 1
	}
}

# Starts a redis-server with its data in $2 (default DIR/redis), on the stack's
# Redis port, with its users. Durable by default (AOF, fsync always); extra
# redis-server arguments follow and win, e.g. --appendfsync everysec.
stack_redis_start() {
	local dir="$1" data="${2:-$1/redis}"
	shift $(($# < 2 ? $# : 2))
	mkdir -p "$data"
	[[ "$data" == "$dir/redis" ]] || cp "$dir/redis/port" "$dir/redis/user" "$dir/redis/password" "$data/"
	redis_start "$data" --aclfile "$dir/redis/secrets/users.acl" "$@"
}

# Starts backend number $2 (1..3) against the stack's Redis, as its user
# app, with the password in a file as in production.
stack_backend_start() {
	local dir="$1" number="$2"
	REDIS_USER=app REDIS_PASSWORD_FILE="$dir/redis/secrets/redis-app-password" \
		backend_start "$dir/backend$number" "$(cat "$dir/redis/port")"
}

# Prints the directory of every backend, one per line.
stack_backend_dirs() {
	local number
	for number in $(seq "$STACK_BACKENDS"); do
		echo "$1/backend$number"
	done
}

# Prints the front's per-client limit $1 (RPS, BURST or CONNECTIONS): the
# setting STACK_LIMIT_$1, or its default, the Ingress's number.
stack_limit() {
	case "$1" in
	RPS) echo "${STACK_LIMIT_RPS:-10}" ;;
	BURST) echo "${STACK_LIMIT_BURST:-20}" ;;
	CONNECTIONS) echo "${STACK_LIMIT_CONNECTIONS:-20}" ;;
	esac
}

# Fails with a clear message unless every limit is a whole number that
# nginx takes: 1 or more (limit_req refuses burst=0), and at most 65535
# connections.
stack_limits_check() {
	local name value high
	for name in RPS BURST CONNECTIONS; do
		value="$(stack_limit "$name")"
		high=999999999
		[[ "$name" != CONNECTIONS ]] || high=65535
		if [[ ! "$value" =~ ^[1-9][0-9]{0,8}$ ]] || ((value > high)); then
			echo "stack: STACK_LIMIT_$name=$value is not a valid limit; use a whole number from 1 to $high" >&2
			return 1
		fi
	done
}

# Prints the nginx configuration of the front: the local stand-in for the
# NGINX Ingress of k8s/ingress.yaml. Like the Ingress it answers plain HTTP
# with a 308 to HTTPS, speaks TLS 1.2 and 1.3 only, adds HSTS, limits each
# client address's request rate and requests in flight (STACK_LIMIT_*),
# routes only /v1/bitcoins, round-robins over the backends over kept-alive
# connections, forwards requests unchanged (so lighttpd's 411 for a POST
# without Content-Length reaches the client), and keeps its defaults: 1m
# bodies, 5 s connect, POSTs not retried once sent. Deviation: 10 s header
# and body timeouts (the Ingress has 60 s) so slow clients are cut promptly.
# Bodies stay in memory and responses are not buffered, so the workers, which
# run as nobody under root, never need the state directory.
stack_front_config() {
	local dir="$1" front="$1/front" https_port http_port servers="" backend
	local rps burst connections
	local no_such_host="no such host here; nothing was changed; send the request to the host name of the API"
	https_port="$(cat "$front/https_port")"
	http_port="$(cat "$front/http_port")"
	rps="$(stack_limit RPS)"
	burst="$(stack_limit BURST)"
	connections="$(stack_limit CONNECTIONS)"
	while read -r backend; do
		servers+="	server 127.0.0.1:$(cat "$backend/port") max_fails=1 fail_timeout=2s;"$'\n'
	done < <(stack_backend_dirs "$dir")
	cat <<-EOF
		# Written by tests/lib/stack.bash; state stays in $front.
		worker_processes 2;
		pid $front/nginx.pid;
		lock_file $front/nginx.lock;
		error_log $front/error.log notice;
		events { worker_connections 4096; }
		http {
			log_format upstream '\$remote_addr [\$time_local] "\$request" \$status '
				'upstream=\$upstream_addr upstream_status=\$upstream_status '
				'request_time=\$request_time';
			access_log $front/access.log upstream;
			client_body_temp_path $front/temp/body;
			proxy_temp_path $front/temp/proxy;
			fastcgi_temp_path $front/temp/fastcgi;
			uwsgi_temp_path $front/temp/uwsgi;
			scgi_temp_path $front/temp/scgi;
			server_tokens off;
			client_max_body_size 1m;
			client_body_buffer_size 1m;
			client_header_timeout 10s;
			client_body_timeout 10s;
			keepalive_timeout 75s;
			proxy_buffering off;
			proxy_request_buffering on;
			proxy_http_version 1.1;
			proxy_connect_timeout 5s;
			proxy_send_timeout 60s;
			proxy_read_timeout 60s;
			proxy_next_upstream error timeout;
			proxy_next_upstream_tries 3;
			default_type application/json;

			# TLS 1.2 and 1.3 only, at http level so that the port's default
			# server has it: OpenSSL settles the protocol before SNI selects a
			# server, so nginx before 1.29.2 uses the default server's list for
			# every name (nginx.org/en/docs/http/server_names.html, "Virtual
			# server selection"). nginx 1.22's own default is TLSv1 TLSv1.1
			# TLSv1.2; TLSv1.3 joined it in 1.23.4.
			ssl_protocols TLSv1.2 TLSv1.3;
			# TLS 1.2 suites: ECDHE key exchange (forward secrecy: a later leak of
			# the key cannot decrypt recorded traffic) and AEAD ciphers only,
			# Mozilla's "intermediate" list, the same as ssl-ciphers in
			# k8s/ingress-controller/config-patch.yaml. nginx's default,
			# HIGH:!aNULL:!MD5, also offers static RSA, CBC with SHA-1, CAMELLIA
			# and ARIA. TLS 1.3's suites are all of that kind and stay OpenSSL's.
			# Every suite left is strong, so the client's preference decides.
			ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;
			ssl_prefer_server_ciphers off;
			ssl_certificate $dir/tls/tls.crt;
			ssl_certificate_key $dir/tls/tls.key;

			# Per client address, as the Ingress's limit-rps,
			# limit-burst-multiplier and limit-connections annotations do, so
			# that one client cannot crowd out the others: $rps requests a
			# second, $burst more at once without delay, $connections requests in flight.
			# limit_conn counts requests whose header has been read (each
			# HTTP/2 stream), not idle connections. This front is the edge,
			# so the peer's address is the client's.
			limit_req_zone \$binary_remote_addr zone=per_client_rate:10m rate=${rps}r/s;
			limit_conn_zone \$binary_remote_addr zone=per_client_requests:10m;
			limit_req_status 429;
			limit_conn_status 429;
			map \$limit_conn_status \$too_many_requests {
				REJECTED 'too many requests in flight from your address: at most $connections at once; this one was not processed; send it again once one has finished, or after the seconds in Retry-After';
				default 'too many requests from your address: at most $rps a second, or $burst more at once; this one was not processed; send it again after the seconds in Retry-After';
			}

			upstream backends {
		$servers	keepalive 32;
				keepalive_timeout 60s;
			}

			# Every server answers from a location, not at server level: an
			# error page is an internal redirect, which a server-level return
			# would answer again.
			server {
				listen 127.0.0.1:$http_port default_server;
				location / { return 404 '{"error":"$no_such_host"}'; }
		$(stack_front_error_pages)
			}
			server {
				listen 127.0.0.1:$http_port;
				server_name $STACK_HOST;
				location / { return 308 https://\$host:$https_port\$request_uri; }
		$(stack_front_error_pages)
			}
			server {
				listen 127.0.0.1:$https_port ssl http2 default_server;
				$STACK_HSTS
				location / { return 404 '{"error":"$no_such_host"}'; }
		$(stack_front_error_pages)
			}
			server {
				listen 127.0.0.1:$https_port ssl http2;
				server_name $STACK_HOST;
				$STACK_HSTS
		$(stack_front_error_pages 429)
				error_page 429 @too_many_requests;
				location = /v1/bitcoins {
					limit_req zone=per_client_rate burst=$burst nodelay;
					limit_conn per_client_requests $connections;
					proxy_set_header Host \$host;
					proxy_set_header Connection "";
					proxy_set_header Proxy "";
					proxy_set_header X-Request-ID \$request_id;
					proxy_set_header X-Real-IP \$remote_addr;
					proxy_set_header X-Forwarded-For \$remote_addr;
					proxy_set_header X-Forwarded-Host \$host;
					proxy_set_header X-Forwarded-Port \$server_port;
					proxy_set_header X-Forwarded-Proto \$scheme;
					proxy_pass http://backends;
				}
				location / {
					return 404 '{"error":"only /v1/bitcoins is served here; $STACK_API_HINT"}';
				}
				# A location's own add_header replaces the server's, so HSTS again.
				location @too_many_requests {
					$STACK_HSTS
					add_header Retry-After $STACK_RETRY_AFTER always;
					return 429 '{"error":"\$too_many_requests"}';
				}
			}
		}
	EOF
}

# Starts the nginx front in the foreground of a background job; it never
# reads /etc/nginx and writes only below DIR/front.
stack_front_start() {
	local dir="$1" front="$1/front"
	mkdir -p "$front/temp"
	stack_port_file "$front/https_port" "${STACK_HTTPS_PORT:-}"
	stack_port_file "$front/http_port" "${STACK_HTTP_PORT:-}"
	error_bodies_note_port front "$(cat "$front/https_port")"
	error_bodies_note_port front "$(cat "$front/http_port")"
	stack_front_config "$dir" >"$front/nginx.conf"
	nginx -p "$front" -c "$front/nginx.conf" -e "$front/error.log" \
		-g 'daemon off;' >>"$front/nginx.log" 2>&1 3>&- &
	echo "$!" >"$front/pid"
	if ! wait_until 10 stack_curl "$dir" -o /dev/null "$(stack_url "$dir")/"; then
		tail -5 "$front/error.log" "$front/nginx.log" >&2
		return 1
	fi
}

# Starts the whole stack into directory $1: Redis, the backends, the front.
stack_start() {
	local dir="$1" number ports
	stack_limits_check || return 1
	mkdir -p "$dir/redis"
	read -r -a ports <<<"${STACK_BACKEND_PORTS:-}"
	stack_port_file "$dir/redis/port" "${STACK_REDIS_PORT:-}"
	stack_secret "$dir"
	stack_cert "$dir"
	stack_redis_start "$dir"
	for number in $(seq "$STACK_BACKENDS"); do
		mkdir -p "$dir/backend$number"
		stack_port_file "$dir/backend$number/port" "${ports[number - 1]:-}"
		stack_backend_start "$dir" "$number"
	done
	stack_front_start "$dir"
}

# Kills backend directory $1 like a node losing a pod: lighttpd and every
# program it started (CGIs in flight, FastCGI workers) get SIGKILL at once.
stack_backend_kill() {
	local pidfile="$1/pid" pid children
	[[ -f "$pidfile" ]] || return 0
	pid="$(cat "$pidfile")"
	rm -f "$pidfile"
	kill -STOP "$pid" 2>/dev/null || return 0
	children="$(pgrep -P "$pid" | tr '\n' ' ')" || true
	# shellcheck disable=SC2086 # one pid per word
	kill -KILL "$pid" $children 2>/dev/null || true
	wait_until 10 process_gone "$pid"
}

# Stops the stack in directory $1, even a half-started one: the front
# gracefully (QUIT), the backends gracefully (INT), then Redis (TERM).
stack_stop() {
	local dir="$1" backend
	[[ -d "$dir" ]] || return 0
	stop_pidfile "$dir/front/pid" QUIT
	while read -r backend; do
		stop_pidfile "$backend/pid" INT
	done < <(stack_backend_dirs "$dir")
	stop_all_below "$dir"
}

# Prints the HTTPS base URL of the front.
stack_url() {
	echo "https://$STACK_HOST:$(cat "$1/front/https_port")"
}

# Prints the plain HTTP base URL of the front.
stack_http_url() {
	echo "http://$STACK_HOST:$(cat "$1/front/http_port")"
}

# Runs curl against the front of stack $1 as a client would: the stack's
# certificate as the only trusted CA, and the host name resolved to loopback.
stack_curl() {
	local dir="$1"
	shift
	curl -sS --max-time 10 --cacert "$dir/tls/tls.crt" \
		--resolve "$STACK_HOST:$(cat "$dir/front/https_port"):127.0.0.1" \
		--resolve "$STACK_HOST:$(cat "$dir/front/http_port"):127.0.0.1" "$@"
}
