# Money Bank backend. `make run` serves the API, `make test` runs every test.
# Both install the Debian packages they miss through scripts/deps.sh.

CC ?= cc
BUILD ?= build
OPTIMIZE ?= -O2
CFLAGS = -std=c11 $(OPTIMIZE) -g -Wall -Wextra -Werror -Wshadow \
	-Wformat=2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong $(SANITIZE)
# A CGI starts for every request, so the programs are linked statically (as
# PIE, keeping ASLR): no dynamic loader runs, and a start takes 57,000
# instructions instead of 190,000 (README, Performance). Static glibc still
# resolves host names: /etc/hosts and DNS are built into libc.a (ld warns
# about getaddrinfo on every link).
# LINK= links libc dynamically, hiredis and libfcgi still statically: the
# sanitizer build needs that, and so does valgrind memcheck.
LINK ?= -static-pie
LDFLAGS = $(LINK) -Wl,-z,relro,-z,now $(SANITIZE)
LDLIBS = $(if $(LINK),-lhiredis -lfcgi,-Wl,-Bstatic -lhiredis -lfcgi -Wl,-Bdynamic)

SHARED = accept amount cgi config deposit log outcome refusal remember resolve serve store
PROGRAMS = bitcoins healthz
# Starts lighttpd with its settings checked (cgi-bin/start-lighttpd.c); it
# needs no shell, so that an image can do without one.
LAUNCHER = $(BUILD)/start-lighttpd
LAUNCHER_OBJECTS = $(BUILD)/start-lighttpd.o $(BUILD)/config.o $(BUILD)/resolve.o
SHARED_OBJECTS = $(SHARED:%=$(BUILD)/%.o)
HEADERS = $(wildcard cgi-bin/*.h)
ERROR_PAGES = $(BUILD)/errors/status-404.html

SANITIZERS = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer

# Keep the object files, so that a rebuild compiles only what changed.
.SECONDARY:

.PHONY: all build sanitize dynamic run test bench lint clean deps-build stack fuzz \
	fuzz-build image image-run help k8s-up k8s-check k8s-logs k8s-dev k8s-backup \
	k8s-restore k8s-renew-cert k8s-rotate-password k8s-down k8s-purge purge-local sbom

all: build ## Build the programs (the default; same as make build)

# The shipped build also links each program into cgi-bin/ (git-ignored), so
# that `REQUEST_METHOD=GET ./cgi-bin/bitcoins.cgi` runs it by hand.
MANUAL_LINKS = $(if $(filter build,$(BUILD)),$(PROGRAMS:%=cgi-bin/%.cgi))

BUILT = $(PROGRAMS:%=$(BUILD)/%.cgi) $(LAUNCHER) $(ERROR_PAGES) $(MANUAL_LINKS)

build: deps-build $(BUILT) ## Build the CGIs, start-lighttpd and the error pages into build/, and link the CGIs into cgi-bin/

deps-build: ## Install the Debian packages the build needs (scripts/deps.sh build)
	@scripts/deps.sh build

# The same programs with AddressSanitizer and UBSan, for the test suite.
sanitize: ## Build with AddressSanitizer and UBSan into build/sanitize/ (for the tests)
	@$(MAKE) --no-print-directory build BUILD=build/sanitize OPTIMIZE=-O1 \
		SANITIZE="$(SANITIZERS)" LINK=

# The same programs with libc linked dynamically, for valgrind memcheck, which
# cannot follow malloc in a static program.
dynamic: ## Build with libc linked dynamically into build/dynamic/ (for valgrind)
	@$(MAKE) --no-print-directory build BUILD=build/dynamic LINK=

$(BUILD)/%.o: cgi-bin/%.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/%.cgi: $(BUILD)/%.o $(SHARED_OBJECTS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(LAUNCHER): $(LAUNCHER_OBJECTS)
	$(CC) $(LDFLAGS) -o $@ $^

cgi-bin/%.cgi: $(BUILD)/%.cgi
	ln -sf ../$< $@

$(ERROR_PAGES): scripts/lib/gen-error-pages.sh
	scripts/lib/gen-error-pages.sh $(BUILD)/errors

run: ## Serve the API on 127.0.0.1:8080 with a Redis of its own on 6379 (PORT=, REDIS_PORT=), data in data/; Ctrl-C stops
	@scripts/deps.sh build run
	@$(MAKE) --no-print-directory build
	@scripts/run-local.sh

test: ## Run every test suite (tests/run.sh); the last line says "N passed, N failed, N skipped"
	@scripts/deps.sh build run test stack fuzz
	@$(MAKE) --no-print-directory build sanitize dynamic fuzz-build
	@scripts/lib/deps-k8s.sh
	@scripts/deps.sh container || echo "make test: container deps missing;" \
		"the container suites need them (skipped without any engine)" >&2
	@tests/run.sh

# The benchmark (not part of make test): wrk against stacks of its own, on the
# host's lighttpd and on the image's (built when missing, in a container).
bench: ## Run the benchmark (minutes; not part of make test); writes results/bench.md and results/bench.png
	@scripts/deps.sh build run bench container
	@$(MAKE) --no-print-directory build $(BUILD)/bench/noop.cgi
	@scripts/bench.sh

# The benchmark's floor: a CGI that does nothing, linked like the programs.
$(BUILD)/bench/noop.cgi: tests/bench/noop.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)

# The production shape on loopback: nginx TLS front, 3 backends, Redis.
stack: ## Serve the production shape on loopback: nginx TLS front, 3 backends, Redis (data in .cache/stack/); Ctrl-C stops
	@scripts/deps.sh build run stack
	@$(MAKE) --no-print-directory build
	@scripts/stack.sh

# libFuzzer harnesses for the code that reads untrusted bytes, and for what
# the deposit script's replies mean (tests/fuzz/),
# with ASan and UBSan. `make fuzz FUZZ_SECONDS=N` runs each for N seconds.
FUZZ_TARGETS = amount accept deposit
FUZZ_CFLAGS = -std=c11 -g -O1 -Wall -Wextra -Werror -Icgi-bin \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
# fuzz_deposit parses its input with hiredis's reader, as store.c does.
FUZZ_LDLIBS = -lhiredis

fuzz-build: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%) ## Build the libFuzzer harnesses into build/fuzz/

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c cgi-bin/%.c cgi-bin/%.h
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_$*.c cgi-bin/$*.c $(FUZZ_LDLIBS)

fuzz: ## Run each libFuzzer harness for FUZZ_SECONDS (60) seconds; corpus in .cache/fuzz/
	@scripts/deps.sh build fuzz
	@$(MAKE) --no-print-directory fuzz-build
	@scripts/fuzz.sh $(FUZZ_TARGETS)

# The container image dev.local/d22/backend (docker when a daemon answers,
# podman otherwise); offline, the base image is made locally first.
image: ## Build the image dev.local/d22/backend (docker when its daemon answers, else podman)
	@scripts/build-image.sh

# The image's SBOM (CycloneDX 1.5 JSON: every Debian package in it, those linked
# into the programs included), copied out of the image without running it.
SBOM ?= $(BUILD)/sbom.cdx.json

sbom: image ## Write the image's SBOM (CycloneDX 1.5 JSON) to build/sbom.cdx.json (SBOM=FILE), without running the image
	@scripts/sbom-from-image.sh $(SBOM)

# The image on the host network with a redis-server of its own; Ctrl-C stops both.
image-run: image ## Run the image on the host network with a Redis of its own (data in data/image-run/); Ctrl-C stops
	@scripts/deps.sh run
	@scripts/image-run.sh

lint: ## Check the code: shellcheck and strict mode on every script, -Werror builds with gcc and clang
	@tests/run.sh lint

# Day-2 tasks on the minikube deployment: context minikube, namespace
# devops-2025. Each target runs one script; `SCRIPT --help` says more.
k8s-up: ## Start minikube if needed, make the namespace, Secrets and certificate, deploy (skaffold run); keeps data and Secrets
	@scripts/minikube-up.sh

k8s-check: ## Prove on minikube that the total survives deleting a backend pod and the Redis pod (deposits 5)
	@scripts/persistence-proof.sh

k8s-logs: ## Print the backends' and Redis's logs; deposits log "deposit amount=N total=T"; ARGS=--follow follows
	@scripts/k8s-logs.sh $(ARGS)

k8s-dev: ## Run skaffold dev -p minikube-ip once make k8s-up has made what it needs (else says what is missing)
	@scripts/k8s-dev.sh $(ARGS)

k8s-backup: ## Back up Redis's data consistently, while serving, to backups/ (or BACKUP=FILE)
	@scripts/redis-backup.sh $(BACKUP)

k8s-restore: ## Restore BACKUP=FILE into Redis; the API answers 503 meanwhile; asks first (CONFIRM=devops-2025)
	@scripts/redis-restore.sh $(BACKUP)

k8s-renew-cert: ## Issue a new TLS certificate (825 days) into the Secret bitcoin-tls; clients must fetch k8s/secrets/tls.crt
	@scripts/renew-cert.sh $(ARGS)

# Whose Redis password make k8s-rotate-password rotates.
ROTATE_USER ?= app

k8s-rotate-password: ## Rotate a Redis password with no window of refusals (ROTATE_USER=app, probe or admin); ARGS=--force
	@scripts/rotate-redis-password.sh --user $(ROTATE_USER) $(ARGS)

k8s-down: ## Remove the app from minikube (skaffold delete); keep the Redis data, the Secrets and the namespace
	@scripts/k8s-down.sh

k8s-purge: ## Remove the app AND the Redis data (PVC data-redis-0); asks first (CONFIRM=devops-2025)
	@scripts/k8s-down.sh --purge

# What each removes is listed in full, so that nothing is lost by surprise.
clean: ## Delete the build outputs: build/ and the cgi-bin/*.cgi links; keeps data/, .cache/, results/, backups/, k8s/secrets/, k8s-local/
	rm -rf build $(PROGRAMS:%=cgi-bin/%.cgi)

purge-local: ## Delete what clean deletes and the local state: data/, .cache/, results/, k8s/secrets/, k8s-local/; keeps backups/; asks first (CONFIRM=purge-local)
	@scripts/purge-local.sh
	@$(MAKE) --no-print-directory clean

# The list comes from the "## " comment on each target's line, so a target
# without one is missing from it (tests/make.bats fails then).
help: ## List every target with what it does
	@awk -F ':[^#]*## ' '/^[a-z][a-z0-9-]*:([^=].*)?## / { printf "  %-20s %s\n", $$1, $$2 }' \
		$(MAKEFILE_LIST)
