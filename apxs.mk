# apxs build rules for mod_lifecycle.  Included by the Makefile.
#
# apxs compiles through libtool, which puts objects next to their sources;
# to keep the source tree clean we compile from build/obj, where every
# source is a symlink, and copy the finished module to build/.
#
# SANITIZE=1 builds a separate module, build/san/mod_lifecycle.so (objects in
# build/san/obj), with AddressSanitizer and UndefinedBehaviorSanitizer, so the
# plain and the sanitized builds never mix.

APXS       ?= apxs
LC_SRCDIR  := mod_lifecycle
# One folder per layer and concern (mod_lifecycle/ARCHITECTURE.md): the httpd
# layer (httpd/, dialects/) above the pure core (core/, kinds/, store/shm/,
# store/dbd/, token/).  File names are unique across folders: the module is
# compiled from one flat directory of links.
LC_HTTPD_DIRS := $(addprefix $(LC_SRCDIR)/,httpd dialects dialects/notte)
LC_PURE_DIRS  := $(addprefix $(LC_SRCDIR)/,core kinds store/shm store/dbd token)
LC_DIRS    := $(LC_HTTPD_DIRS) $(LC_PURE_DIRS)
LC_PURE_INC := $(addprefix -I,$(LC_PURE_DIRS))
LC_SRC     := $(sort $(foreach d,$(LC_DIRS),$(wildcard $(d)/*.c)))
LC_HDR     := $(sort $(foreach d,$(LC_DIRS),$(wildcard $(d)/*.h)))
LC_WARN    := -Wall -Wextra -Werror -Wno-missing-field-initializers
# The one version (top-level VERSION): the module, each CLI's --version and
# the Debian package (build/deb.sh checks build/debian/changelog against it).
# Passed bare, -DLC_VERSION=0.1.0; lc_version.h makes it a string.
LC_VERSION := $(shell cat $(dir $(lastword $(MAKEFILE_LIST)))VERSION 2>/dev/null)
ifeq ($(shell echo '$(LC_VERSION)' | grep -Ex '[0-9]+(\.[0-9]+)*([~+][0-9A-Za-z.]+)?'),)
$(error VERSION: '$(LC_VERSION)' is not one version like 0.1.0)
endif
LC_VERSION_DEF := -DLC_VERSION=$(LC_VERSION)
# libpq: the dbd backend's deadline-bounded calls (lc_dbd_call.c) on the
# pgsql driver's own connection.
LC_PQ_CFLAGS := -I$(shell pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)
LC_PQ_LIBS := -lpq
LC_LIBS    := -ljansson -lsodium $(LC_PQ_LIBS)
# What SANITIZE=1 adds when compiling and linking (gcc's runtimes: httpd gets
# gcc's libasan preloaded, see build/san-httpd.sh).
LC_SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ifdef SANITIZE
LC_OUT     := build/san
LC_APXS_SAN := $(foreach f,$(LC_SAN_FLAGS) -g,-Wc,$(f)) $(foreach f,$(LC_SAN_FLAGS),-Wl,$(f))
else
LC_OUT     := build
LC_APXS_SAN :=
endif
LC_OBJDIR  := $(LC_OUT)/obj
LC_MODULE  := $(LC_OUT)/mod_lifecycle.so

$(LC_MODULE): $(LC_SRC) $(LC_HDR) apxs.mk VERSION
	@mkdir -p $(LC_OBJDIR)
	@rm -f $(LC_OBJDIR)/*.c $(LC_OBJDIR)/*.h
	@for f in $(LC_SRC) $(LC_HDR); do ln -sf $(CURDIR)/$$f $(LC_OBJDIR)/; done
	@cd $(LC_OBJDIR) && $(APXS) -c -o mod_lifecycle.la \
	    $(foreach w,$(LC_WARN) -std=gnu11 $(LC_PQ_CFLAGS) $(LC_VERSION_DEF),-Wc,$(w)) $(LC_APXS_SAN) \
	    $(notdir $(LC_SRC)) $(LC_LIBS) >build.log 2>&1 \
	    || { cat build.log; exit 1; }
	cp $(LC_OBJDIR)/.libs/mod_lifecycle.so $@
