# Money Bank backend. `make run` serves the API, `make test` runs every test.
# Both install the Debian packages they miss through scripts/deps.sh.

CC ?= cc
BUILD ?= build
OPTIMIZE ?= -O2
CFLAGS = -std=c11 $(OPTIMIZE) -g -Wall -Wextra -Werror -Wshadow \
	-Wformat=2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong $(SANITIZE)
LDFLAGS = -Wl,-z,relro,-z,now $(SANITIZE)
# hiredis and libfcgi are linked in, so the programs need only libc at run time.
LDLIBS = -Wl,-Bstatic -lhiredis -lfcgi -Wl,-Bdynamic

SHARED = accept amount cgi config log serve store
PROGRAMS = bitcoins healthz
SHARED_OBJECTS = $(SHARED:%=$(BUILD)/%.o)
HEADERS = $(wildcard cgi-bin/*.h)
ERROR_PAGES = $(BUILD)/errors/status-404.html

SANITIZERS = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer

# Keep the object files, so that a rebuild compiles only what changed.
.SECONDARY:

.PHONY: all build sanitize run test lint clean deps-build

all: build

build: deps-build $(PROGRAMS:%=$(BUILD)/%.cgi) $(ERROR_PAGES)

deps-build:
	@scripts/deps.sh build

# The same programs with AddressSanitizer and UBSan, for the test suite.
sanitize:
	@$(MAKE) --no-print-directory build BUILD=build/sanitize OPTIMIZE=-O1 \
		SANITIZE="$(SANITIZERS)"

$(BUILD)/%.o: cgi-bin/%.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/%.cgi: $(BUILD)/%.o $(SHARED_OBJECTS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(ERROR_PAGES): scripts/gen-error-pages.sh
	scripts/gen-error-pages.sh $(BUILD)/errors

run:
	@scripts/deps.sh build run
	@$(MAKE) --no-print-directory build
	@scripts/run-local.sh

test:
	@scripts/deps.sh build run test
	@$(MAKE) --no-print-directory build sanitize
	@tests/run.sh

lint:
	shellcheck scripts/*.sh tests/*.sh tests/lib/*.bash .ci/run

clean:
	rm -rf build
