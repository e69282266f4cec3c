# Money Bank backend: lighttpd forking the C CGIs, configured from the environment only.
# Build: make image (works offline: the base image is made locally when it cannot be pulled).

# Build stage: compiles the CGIs. hiredis and libfcgi are linked statically (see Makefile),
# so the runtime stage needs no library packages beyond libc.
FROM debian:trixie-slim AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        gcc make libc6-dev libhiredis-dev libfcgi-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY scripts/deps.sh scripts/gen-error-pages.sh scripts/
COPY cgi-bin/ cgi-bin/
RUN make build

# Runtime stage: lighttpd and the programs, run as an unprivileged numeric user.
# No setuid or setgid programs are left, so nothing in the image can gain privileges.
# Debian 13: its lighttpd 1.4.79 keeps a flat heap under CGI load, where Debian 12's
# 1.4.69 leaks about 40 bytes per CGI request (tests/leak.bats).
FROM debian:trixie-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends lighttpd \
    && rm -rf /var/lib/apt/lists/* /var/log/apt/* /var/log/dpkg.log \
    && groupadd --system --gid 10001 moneybank \
    && useradd --system --uid 10001 --gid 10001 --no-log-init --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin moneybank \
    && find / -xdev -type f -perm /6000 -exec chmod a-s {} +
ENV PORT=8080 \
    BIND_ADDR=0.0.0.0 \
    APP_DIR=/app/build \
    CONF_DIR=/app \
    RUN_DIR=/tmp \
    BACKEND_MODE=cgi
COPY lighttpd.conf /app/
COPY cgi-bin/mode-cgi.conf cgi-bin/mode-fastcgi.conf /app/cgi-bin/
COPY --from=build /src/build/bitcoins.cgi /src/build/healthz.cgi /src/build/start-lighttpd /app/build/
COPY --from=build /src/build/errors/ /app/build/errors/
USER 10001:10001
WORKDIR /app
EXPOSE 8080
# SIGINT is lighttpd's graceful stop: requests in flight finish. SIGTERM would drop them.
STOPSIGNAL SIGINT
# start-lighttpd (cgi-bin/start-lighttpd.c) gives defaults to optional variables, checks
# them, resolves REDIS_HOST once, then execs lighttpd in the foreground. It needs no shell.
ENTRYPOINT ["/app/build/start-lighttpd"]
