# mod_lifecycle — top-level make targets.
#   make        build build/mod_lifecycle.so, the lifecycle-token and lifecycle-journal
#               CLIs and lifecycle-runner (installs build deps when missing)
#   make run    build and run a local Apache on 127.0.0.1:$(PORT) with the module
#               (STORE=dbd: with its state in a local PostgreSQL started beside it)
#   make test   unit tests + Apache::Test suite under the event and prefork MPMs
#   make bench  wrk on loopback, ratios against a trivial handler in the same run
#   make test SANITIZE=1   the same with the module and the unit tests built with
#               ASan+UBSan (into build/san/), httpd run with libasan preloaded
#   make fuzz   libFuzzer targets of t/fuzz/ (clang), FUZZ_SECONDS (60) each
#   make deb    build/libapache2-mod-lifecycle_<version>_<arch>.deb (dpkg-buildpackage,
#               packaging in build/debian/), checked by lintian
#   make deb-test  installs that package into a fresh Debian 12 root (debootstrap,
#               chroot) and serves a token-protected request; not part of make test

PORT  ?= 8080
SHELL := /bin/bash
# apxs.mk's module rule comes first in the file; without this it would be
# what a plain `make` builds (no deps, no CLI).
.DEFAULT_GOAL := all

include apxs.mk

APR_CFLAGS := $(shell apr-1-config --cflags --cppflags --includes 2>/dev/null)
APR_LIBS   := $(shell apr-1-config --link-ld 2>/dev/null)
# apr-util: apr_dbd, for the dbd backend's tests.
APU_CFLAGS := $(shell apu-1-config --includes 2>/dev/null)
APU_LIBS   := $(shell apu-1-config --link-ld 2>/dev/null)
# Token minting (token/mint/): the CLI, the unit tests and the fuzz targets
# sign tokens, the module only verifies them, so apxs.mk's folders leave it
# out and only what is built here sees its header.
MINT_DIR   := $(LC_SRCDIR)/token/mint
MINT_SRC   := $(wildcard $(MINT_DIR)/*.c)
MINT_HDR   := $(wildcard $(MINT_DIR)/*.h)
UNIT_CFLAGS = -std=gnu11 -g -O1 $(LC_WARN) $(LC_VERSION_DEF) $(APR_CFLAGS) $(APU_CFLAGS) $(LC_PQ_CFLAGS) $(LC_PURE_INC) -I$(MINT_DIR) $(if $(SANITIZE),$(LC_SAN_FLAGS))
# The pure core: the folders below the httpd layer, APR, jansson and
# libsodium only.  The dbd store's folder adds apr_dbd and libpq.
UNIT_CORE  := $(sort $(foreach d,core kinds store/shm token,$(wildcard $(LC_SRCDIR)/$(d)/*.c)))
DBD_CORE   := $(sort $(wildcard $(LC_SRCDIR)/store/dbd/*.c))
# With SANITIZE=1 the unit tests and their CLI go to build/san/ too.
UNIT_DIR   := $(LC_OUT)/unit
# The core compiled once, as static libraries that every unit test, CLI and
# generator links (the linker takes only the objects each one uses).
# The unit tests' own headers (lc_test.h, the store and contract suites).
UNIT_HDR   := $(wildcard t/unit/*.h)
CORE_LIB   := $(UNIT_DIR)/liblc_core.a
DBD_LIB    := $(UNIT_DIR)/liblc_dbd.a
MINT_LIB   := $(UNIT_DIR)/liblc_mint.a
CORE_OBJ   := $(patsubst %.c,$(UNIT_DIR)/obj/%.o,$(notdir $(UNIT_CORE)))
DBD_OBJ    := $(patsubst %.c,$(UNIT_DIR)/obj/%.o,$(notdir $(DBD_CORE)))
MINT_OBJ   := $(patsubst %.c,$(UNIT_DIR)/obj/%.o,$(notdir $(MINT_SRC)))
UNIT_TESTS := $(patsubst t/unit/%.c,$(UNIT_DIR)/%,$(wildcard t/unit/test_*.c))
LC_CLI     := $(LC_OUT)/lifecycle-token
LC_JOURNAL_CLI := $(LC_OUT)/lifecycle-journal
LC_RUNNER  := $(LC_OUT)/lifecycle-runner
# Sanitizer reports fail the unit tests (UBSan aborts by itself: no recover).
UNIT_ENV   := $(if $(SANITIZE),ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1) LC_TOKEN_CLI=$(LC_CLI)

.PHONY: all deps run test unit suite bench fuzz fuzz-build fuzz-corpus clean deb deb-test

# make fuzz: the libFuzzer targets of t/fuzz/ (one file each), built with
# clang into build/fuzz/ and run FUZZ_SECONDS each by build/fuzz.sh.  They
# link the pure core only (the kinds and lc_json.c included): no httpd.
FUZZ_SECONDS ?= 60
FUZZ_CC      := clang
FUZZ_CFLAGS   = -std=gnu11 -g -O1 $(LC_WARN) \
                -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer \
                $(APR_CFLAGS) $(LC_PURE_INC) -I$(MINT_DIR) -It/fuzz
FUZZ_SRC     := $(UNIT_CORE) $(MINT_SRC)
FUZZ_OBJ     := $(patsubst %.c,build/fuzz/obj/%.o,$(notdir $(FUZZ_SRC)))
FUZZ_TARGETS := $(patsubst t/fuzz/%.c,build/fuzz/%,$(wildcard t/fuzz/fuzz_*.c))

all: deps
	$(MAKE) --no-print-directory $(LC_MODULE) $(LC_CLI) $(LC_JOURNAL_CLI) $(LC_RUNNER)

deps:
	@bash build/deps.sh build

define lc_core_obj
$(UNIT_DIR)/obj/%.o: $(1)/%.c $$(LC_HDR) $$(MINT_HDR)
	@mkdir -p $$(@D)
	$$(CC) $$(UNIT_CFLAGS) -c -o $$@ $$<
endef
$(foreach d,$(LC_PURE_DIRS) $(MINT_DIR),$(eval $(call lc_core_obj,$(d))))
.SECONDARY: $(CORE_OBJ) $(DBD_OBJ) $(MINT_OBJ)

$(CORE_LIB): $(CORE_OBJ)
	rm -f $@ && $(AR) rcs $@ $^
$(DBD_LIB): $(DBD_OBJ)
	rm -f $@ && $(AR) rcs $@ $^
$(MINT_LIB): $(MINT_OBJ)
	rm -f $@ && $(AR) rcs $@ $^

$(UNIT_DIR)/%: t/unit/%.c $(UNIT_HDR) $(MINT_LIB) $(CORE_LIB) $(LC_HDR) $(MINT_HDR)
	$(CC) $(UNIT_CFLAGS) -It/unit -o $@ $< $(MINT_LIB) $(CORE_LIB) $(APR_LIBS) -ljansson -lsodium

# test_dbd runs against PostgreSQL when LC_TEST_DBD_PARAMS is set.
$(UNIT_DIR)/test_dbd: t/unit/test_dbd.c $(UNIT_HDR) $(DBD_LIB) $(CORE_LIB) $(LC_HDR)
	$(CC) $(UNIT_CFLAGS) -It/unit -o $@ $< $(DBD_LIB) $(CORE_LIB) $(APR_LIBS) $(APU_LIBS) -ljansson -lsodium $(LC_PQ_LIBS)

# The replay bench measures the code as apxs builds it (-O2), not the tests'
# -O1: it compiles the core's sources itself.
build/unit/bench_replay: t/unit/bench_replay.c t/unit/lc_test.h t/unit/lc_test_store.h $(UNIT_CORE) $(LC_HDR)
	@mkdir -p $(@D)
	$(CC) $(UNIT_CFLAGS) -O2 -It/unit -o $@ $< $(UNIT_CORE) $(APR_LIBS) -ljansson -lsodium

# The lifecycle-token CLI (keygen, mint, inspect): the token core and minting.
$(LC_CLI): $(LC_SRCDIR)/cli/lifecycle-token.c $(MINT_LIB) $(CORE_LIB) $(LC_HDR) $(MINT_HDR) VERSION
	@mkdir -p $(LC_OUT)
	$(CC) $(UNIT_CFLAGS) -o $@ $< $(MINT_LIB) $(CORE_LIB) $(APR_LIBS) -ljansson -lsodium

# The lifecycle-journal CLI (check, salvage): the store and journal core.
$(LC_JOURNAL_CLI): $(LC_SRCDIR)/cli/lifecycle-journal.c $(CORE_LIB) $(LC_HDR) VERSION
	@mkdir -p $(LC_OUT)
	$(CC) $(UNIT_CFLAGS) -o $@ $< $(CORE_LIB) $(APR_LIBS) -ljansson -lsodium

# The reference runner: an HTTP client of the admin API, the JSON and id
# rules of the core (lc_json.c, lc_util.c) and nothing else of it.
RUNNER_SRC  := $(filter-out $(LC_SRCDIR)/cli/lifecycle-runner.c,$(wildcard $(LC_SRCDIR)/cli/lc_runner_*.c))
RUNNER_HDR  := $(wildcard $(LC_SRCDIR)/cli/lc_runner*.h) $(addprefix $(LC_SRCDIR)/core/,lc_json.h lc_util.h)
$(LC_RUNNER): $(LC_SRCDIR)/cli/lifecycle-runner.c $(RUNNER_SRC) $(RUNNER_HDR) $(CORE_LIB) VERSION
	@mkdir -p $(LC_OUT)
	$(CC) $(UNIT_CFLAGS) -I$(LC_SRCDIR)/cli -o $@ $< $(RUNNER_SRC) $(CORE_LIB) $(APR_LIBS) -ljansson -lsodium

# test_runner: the runner's pure parts (plan, configuration, HTTP parsing, state files).
$(UNIT_DIR)/test_runner: t/unit/test_runner.c t/unit/lc_test.h $(RUNNER_SRC) $(RUNNER_HDR) $(CORE_LIB)
	$(CC) $(UNIT_CFLAGS) -It/unit -I$(LC_SRCDIR)/cli -o $@ $< $(RUNNER_SRC) $(CORE_LIB) $(APR_LIBS) -ljansson -lsodium

# test_token runs the CLI end to end.
unit: $(LC_CLI) $(LC_JOURNAL_CLI)
unit: $(UNIT_TESTS)
	@perl build/directives.pl
	@perl build/logtags.pl
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; env $(UNIT_ENV) $$t; done

# STORE=dbd: the state in a local PostgreSQL (build/pg.sh) beside Apache.
run: all
	@$(if $(filter dbd dbd-ha,$(STORE)),bash build/deps.sh run,true)
	@STORE="$(STORE)" bash build/run.sh $(PORT)

# As root, build/test.sh re-runs the suite as an unprivileged user.
test:
	@bash build/deps.sh test
	@$(if $(SANITIZE),bash build/deps.sh san,true)
	@SANITIZE="$(SANITIZE)" bash build/test.sh

# The suite itself (what build/test.sh runs as the unprivileged user).  The
# suite's own tokens are minted with the plain build/lifecycle-token.
suite: $(LC_MODULE) $(if $(SKIP_UNIT),,unit)
	@perl build/layers.pl $(LC_SRCDIR) $(LC_OBJDIR)/.libs
	@perl build/directives.pl
	@perl build/logtags.pl
	@$(MAKE) --no-print-directory build/lifecycle-token build/lifecycle-journal build/lifecycle-runner SANITIZE=
	@SANITIZE="$(SANITIZE)" bash build/suite.sh

bench: all build/unit/bench_replay
	@bash build/deps.sh bench
	@bash build/bench.sh

define lc_fuzz_obj
build/fuzz/obj/%.o: $(1)/%.c $$(LC_HDR) $$(MINT_HDR)
	@mkdir -p build/fuzz/obj
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $$@ $$<
endef
$(foreach d,$(LC_PURE_DIRS) $(MINT_DIR),$(eval $(call lc_fuzz_obj,$(d))))

build/fuzz/fuzz_%: t/fuzz/fuzz_%.c $(wildcard t/fuzz/*.h) $(FUZZ_OBJ) $(MINT_HDR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) \
	    $(APR_LIBS) -ljansson -lsodium

# The objects are kept between builds (not intermediate files).
.SECONDARY: $(FUZZ_OBJ)

fuzz-build: $(FUZZ_TARGETS)

# The seed corpus (t/fuzz/corpus/, committed) comes from this generator.
build/fuzz/gen_corpus: t/fuzz/gen_corpus.c $(wildcard t/fuzz/*.h) $(MINT_LIB) $(CORE_LIB) $(LC_HDR) $(MINT_HDR)
	@mkdir -p build/fuzz
	$(CC) $(UNIT_CFLAGS) -It/fuzz -o $@ $< $(MINT_LIB) $(CORE_LIB) $(APR_LIBS) -ljansson -lsodium

fuzz-corpus: build/fuzz/gen_corpus
	build/fuzz/gen_corpus t/fuzz/corpus

fuzz:
	@bash build/deps.sh fuzz
	@$(MAKE) --no-print-directory fuzz-build
	@FUZZ_SECONDS="$(FUZZ_SECONDS)" bash build/fuzz.sh $(FUZZ_TARGETS)

# The Debian package: build/deb.sh (a copy of the tree in build/deb/, built
# there by dpkg-buildpackage -b), then lintian.
deb:
	@bash build/deb.sh

# Installs the package into a chroot made with debootstrap (root, network to
# the Debian mirror): build/deb-test.sh.  Not in make test: it needs root and a
# mirror, and takes minutes.
deb-test: deb
	@bash build/deps.sh deb-test
	@bash build/deb-test.sh build/libapache2-mod-lifecycle_*.deb

clean:
	rm -rf build/deb build/*.deb build/obj build/unit build/run build/bench build/mod_lifecycle.so build/san build/fuzz
	-[ -f t/TEST ] && perl t/TEST -clean >/dev/null 2>&1 || true
	rm -rf t/logs t/TEST
