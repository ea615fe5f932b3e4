#!/usr/bin/env bash
# httpd for `make test SANITIZE=1`: Apache::Test is given this script as its
# -httpd, so only httpd (and its children) get gcc's libasan preloaded, not
# the perl that drives the tests.  -DLC_SANITIZE makes t/conf/extra.conf load
# build/san/mod_lifecycle.so.  Reports go to t/logs/sanitizer.<pid>, which
# build/suite.sh reads after the run: any report fails the suite.
TOP=$(cd "$(dirname "$0")/.." && pwd)
# The libasan of the compiler apxs builds the module with (gcc).
libasan=$($(apxs -q CC 2>/dev/null || echo gcc) -print-file-name=libasan.so)
# httpd leaks its pools at exit by design: no leak check.  A report aborts the
# process at once (UBSan too: the module is built without recovery).
export LD_PRELOAD="$libasan${LD_PRELOAD:+:$LD_PRELOAD}"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:disable_coredump=1:log_path=$TOP/t/logs/sanitizer"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$TOP/t/logs/sanitizer"
exec "${LC_HTTPD:-/usr/sbin/apache2}" -DLC_SANITIZE "$@"
