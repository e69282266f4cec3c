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

SHARED = accept amount cgi config deposit log outcome refusal resolve serve store
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
	fuzz-build image image-run

all: build

# The shipped build also links each program into cgi-bin/ (git-ignored), so
# that `REQUEST_METHOD=GET ./cgi-bin/bitcoins.cgi` runs it by hand.
MANUAL_LINKS = $(if $(filter build,$(BUILD)),$(PROGRAMS:%=cgi-bin/%.cgi))

build: deps-build $(PROGRAMS:%=$(BUILD)/%.cgi) $(LAUNCHER) $(ERROR_PAGES) $(MANUAL_LINKS)

deps-build:
	@scripts/deps.sh build

# The same programs with AddressSanitizer and UBSan, for the test suite.
sanitize:
	@$(MAKE) --no-print-directory build BUILD=build/sanitize OPTIMIZE=-O1 \
		SANITIZE="$(SANITIZERS)" LINK=

# The same programs with libc linked dynamically, for valgrind memcheck, which
# cannot follow malloc in a static program.
dynamic:
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

$(ERROR_PAGES): scripts/gen-error-pages.sh
	scripts/gen-error-pages.sh $(BUILD)/errors

run:
	@scripts/deps.sh build run
	@$(MAKE) --no-print-directory build
	@scripts/run-local.sh

test:
	@scripts/deps.sh build run test stack fuzz
	@$(MAKE) --no-print-directory build sanitize dynamic fuzz-build
	@scripts/deps-k8s.sh
	@scripts/deps.sh container || echo "make test: container deps missing;" \
		"the container suites need them (skipped without any engine)" >&2
	@tests/run.sh

# The benchmark (not part of make test): wrk against stacks of its own, on the
# host's lighttpd and on the image's (built when missing, in a container).
bench:
	@scripts/deps.sh build run bench container
	@$(MAKE) --no-print-directory build $(BUILD)/bench/noop.cgi
	@scripts/bench.sh

# The benchmark's floor: a CGI that does nothing, linked like the programs.
$(BUILD)/bench/noop.cgi: tests/bench/noop.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)

# The production shape on loopback: nginx TLS front, 3 backends, Redis.
stack:
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

fuzz-build: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c cgi-bin/%.c cgi-bin/%.h
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz_$*.c cgi-bin/$*.c $(FUZZ_LDLIBS)

fuzz:
	@scripts/deps.sh build fuzz
	@$(MAKE) --no-print-directory fuzz-build
	@scripts/fuzz.sh $(FUZZ_TARGETS)

# The container image dev.local/d22/backend (docker when a daemon answers,
# podman otherwise); offline, the base image is made locally first.
image:
	@scripts/build-image.sh

# The image on the host network with a redis-server of its own; Ctrl-C stops both.
image-run: image
	@scripts/deps.sh run
	@scripts/image-run.sh

lint:
	@tests/run.sh lint

clean:
	rm -rf build $(PROGRAMS:%=cgi-bin/%.cgi)
