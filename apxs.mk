# apxs build rules for mod_lifecycle.  Included by the Makefile.
#
# apxs compiles through libtool, which puts objects next to their sources;
# to keep the source tree clean we compile from build/obj, where every
# source is a symlink, and copy the finished module to build/.

APXS       ?= apxs
LC_SRCDIR  := mod_lifecycle
LC_SRC     := $(sort $(wildcard $(LC_SRCDIR)/*.c))
LC_HDR     := $(sort $(wildcard $(LC_SRCDIR)/*.h))
LC_OBJDIR  := build/obj
LC_MODULE  := build/mod_lifecycle.so
LC_WARN    := -Wall -Wextra -Werror -Wno-missing-field-initializers
LC_LIBS    := -ljansson -lsodium

$(LC_MODULE): $(LC_SRC) $(LC_HDR) apxs.mk
	@mkdir -p $(LC_OBJDIR)
	@rm -f $(LC_OBJDIR)/*.c $(LC_OBJDIR)/*.h
	@for f in $(LC_SRC) $(LC_HDR); do ln -sf ../../$$f $(LC_OBJDIR)/; done
	@cd $(LC_OBJDIR) && $(APXS) -c -o mod_lifecycle.la \
	    $(foreach w,$(LC_WARN) -std=gnu11,-Wc,$(w)) \
	    $(notdir $(LC_SRC)) $(LC_LIBS) >build.log 2>&1 \
	    || { cat build.log; exit 1; }
	cp $(LC_OBJDIR)/.libs/mod_lifecycle.so $@
