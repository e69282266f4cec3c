# Money Bank backend: lighttpd forking the C CGIs, configured from the environment only.
# Build: make image (works offline: the base image is made locally when it cannot be pulled).
# SBOM: make sbom (the one the image ships, at /usr/share/sbom/backend.cdx.json).

# Build stage: compiles the programs and assembles the runtime image's whole file tree.
# hiredis and libfcgi are linked statically (see Makefile), glibc too (static-pie).
# Debian 13: its lighttpd 1.4.79 keeps a flat heap under CGI load, where Debian 12's
# 1.4.69 leaks about 40 bytes per CGI request (tests/leak.bats).
FROM debian:trixie-slim AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        gcc make libc6-dev libhiredis-dev libfcgi-dev lighttpd \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile lighttpd.conf ./
COPY scripts/deps.sh scripts/
COPY scripts/lib/gen-error-pages.sh scripts/lib/assemble-image.sh scripts/lib/sbom.sh scripts/lib/
COPY cgi-bin/ cgi-bin/
# The linker prints every object file and archive member it takes (--trace twice): the SBOM
# names the packages linked into the programs from that, not from a list kept by hand.
RUN make build CC="cc -Wl,--trace,--trace" >/tmp/link-trace.txt
RUN scripts/lib/assemble-image.sh /rootfs \
    && scripts/lib/sbom.sh /rootfs /tmp/link-trace.txt /usr/share/sbom/backend.cdx.json

# Runtime stage: only the assembled tree (scripts/lib/assemble-image.sh lists it when it runs):
# lighttpd, its two loadable modules and their libraries, the loader, the static programs,
# the configuration, the error pages, the users file and the SBOM. No shell, no package
# manager, no interpreter; nothing is setuid. Runs as an unprivileged numeric user.
FROM scratch
COPY --from=build /rootfs/ /
ENV PORT=8080 \
    BIND_ADDR=0.0.0.0 \
    APP_DIR=/app/build \
    CONF_DIR=/app \
    RUN_DIR=/tmp \
    BACKEND_MODE=cgi
USER 10001:10001
WORKDIR /app
EXPOSE 8080
# SIGINT is lighttpd's graceful stop: requests in flight finish. SIGTERM would drop them.
STOPSIGNAL SIGINT
# start-lighttpd (cgi-bin/start-lighttpd.c) gives defaults to optional variables, checks
# them, resolves REDIS_HOST once, then execs lighttpd in the foreground. It needs no shell.
ENTRYPOINT ["/app/build/start-lighttpd"]
