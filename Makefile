# mod_lifecycle — top-level make targets.
#   make        build build/mod_lifecycle.so (installs build deps when missing)
#   make run    build and run a local Apache on 127.0.0.1:$(PORT) with the module
#   make test   unit tests + Apache::Test suite under the event and prefork MPMs
#   make bench  wrk on loopback, ratios against a trivial handler in the same run

PORT  ?= 8080
SHELL := /bin/bash

include apxs.mk

APR_CFLAGS := $(shell apr-1-config --cflags --cppflags --includes 2>/dev/null)
APR_LIBS   := $(shell apr-1-config --link-ld 2>/dev/null)
UNIT_CFLAGS = -std=gnu11 -g -O1 $(LC_WARN) $(APR_CFLAGS) -I$(LC_SRCDIR)
# The pure core: sources that depend on APR, jansson and libsodium only.
UNIT_CORE  := $(addprefix $(LC_SRCDIR)/,lc_store_shm.c lc_util.c lc_kind.c lc_engine.c lc_redivis_ref.c lc_journal.c lc_b64.c lc_token.c)
UNIT_TESTS := $(patsubst t/unit/%.c,build/unit/%,$(wildcard t/unit/test_*.c))

.PHONY: all deps run test unit suite bench clean

all: deps
	$(MAKE) --no-print-directory $(LC_MODULE) build/lifecycle-token

deps:
	@bash build/deps.sh build

build/unit/%: t/unit/%.c t/unit/lc_test.h t/unit/lc_test_store.h $(UNIT_CORE) $(LC_HDR)
	@mkdir -p build/unit
	$(CC) $(UNIT_CFLAGS) -It/unit -o $@ $< $(UNIT_CORE) $(APR_LIBS) -ljansson -lsodium

# The replay bench measures the code as apxs builds it (-O2), not the tests' -O1.
build/unit/bench_replay: UNIT_CFLAGS += -O2

# The lifecycle-token CLI (keygen, mint, inspect): the token core only.
TOKEN_CORE := $(addprefix $(LC_SRCDIR)/,lc_b64.c lc_token.c)
build/lifecycle-token: tools/lifecycle-token.c $(TOKEN_CORE) $(LC_SRCDIR)/lc_b64.h $(LC_SRCDIR)/lc_token.h
	@mkdir -p build
	$(CC) $(UNIT_CFLAGS) -o $@ $< $(TOKEN_CORE) $(APR_LIBS) -ljansson -lsodium

# test_token runs the CLI end to end.
unit: build/lifecycle-token
unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t; done

run: all
	@bash build/run.sh $(PORT)

# As root, build/test.sh re-runs the suite as an unprivileged user.
test:
	@bash build/deps.sh test
	@bash build/test.sh

# The suite itself (what build/test.sh runs as the unprivileged user).
suite: $(LC_MODULE) $(if $(SKIP_UNIT),,unit)
	@bash build/suite.sh

bench: all build/unit/bench_replay
	@bash build/deps.sh bench
	@bash build/bench.sh

clean:
	rm -rf build/obj build/unit build/run build/bench build/mod_lifecycle.so
	-[ -f t/TEST ] && perl t/TEST -clean >/dev/null 2>&1 || true
	rm -rf t/logs t/TEST
