/* lc_fuzz_httpd.c — the httpd calls of lc_http.c, as stubs that abort.
 *
 * The fuzz targets link lc_http.c for lc_http_parse_json (fuzz_kind reads a
 * body as the admin API does), which uses only the request's pool; the rest
 * of the file answers requests, which a fuzzer never does.  The kinds
 * themselves are pure (lc_kind_*.c, in the unit-test core) and need none of
 * this.  If a target ever reached a stub, it aborts and libFuzzer reports it. */
#include <stdlib.h>
#include <httpd.h>
#include <http_protocol.h>

#pragma GCC diagnostic ignored "-Wunused-parameter"

static void unreachable(const char *what)
{
    fprintf(stderr, "fuzz: %s called: a target reached request handling\n", what);
    abort();
}

AP_DECLARE(void) ap_set_content_type(request_rec *r, const char *ct)
{ unreachable(__func__); }
AP_DECLARE(void) ap_set_content_length(request_rec *r, apr_off_t length)
{ unreachable(__func__); }
AP_DECLARE(int) ap_rwrite(const void *buf, int nbyte, request_rec *r)
{ unreachable(__func__); return -1; }
AP_DECLARE(int) ap_setup_client_block(request_rec *r, int read_policy)
{ unreachable(__func__); return -1; }
AP_DECLARE(int) ap_should_client_block(request_rec *r)
{ unreachable(__func__); return 0; }
AP_DECLARE(long) ap_get_client_block(request_rec *r, char *buffer, apr_size_t bufsiz)
{ unreachable(__func__); return -1; }
AP_DECLARE(int) ap_discard_request_body(request_rec *r)
{ unreachable(__func__); return -1; }
