/* lc_fuzz_httpd.c — the httpd layer the dialect files call from their
 * request handlers, as stubs that abort.
 *
 * The fuzz targets link the dialect files for their kind tables (from_json,
 * to_json, report, rules); the handlers in the same files refer to httpd and
 * to the module's httpd layer (lc_audit.c, lc_dialect.c, lc_repr_cache.c),
 * which a fuzzer has no use for.  No target reaches a handler: if one ever
 * did, the stub aborts and libFuzzer reports it. */
#include <stdlib.h>
#include <httpd.h>
#include <http_log.h>
#include <http_protocol.h>
#include "lc_audit.h"
#include "lc_dialect.h"
#include "lc_repr_cache.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"

module AP_MODULE_DECLARE_DATA lifecycle_module;

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
AP_DECLARE(const char *) ap_get_status_line(int status)
{ unreachable(__func__); return NULL; }
AP_DECLARE(int) ap_setup_client_block(request_rec *r, int read_policy)
{ unreachable(__func__); return -1; }
AP_DECLARE(int) ap_should_client_block(request_rec *r)
{ unreachable(__func__); return 0; }
AP_DECLARE(long) ap_get_client_block(request_rec *r, char *buffer, apr_size_t bufsiz)
{ unreachable(__func__); return -1; }
AP_DECLARE(int) ap_discard_request_body(request_rec *r)
{ unreachable(__func__); return -1; }
AP_DECLARE(char *) ap_escape_logitem(apr_pool_t *p, const char *str)
{ unreachable(__func__); return NULL; }
AP_DECLARE(char *) ap_escape_html2(apr_pool_t *p, const char *s, int toasc)
{ unreachable(__func__); return NULL; }
AP_DECLARE(void) ap_str_tolower(char *s)
{ unreachable(__func__); }
AP_DECLARE(void) ap_log_rerror_(const char *file, int line, int module_index, int level,
                                apr_status_t status, const request_rec *r, const char *fmt, ...)
{ unreachable(__func__); }

void lc_audit_request(request_rec *r, const lc_actor_t *actor, lc_kind_e kind,
                      const char *id, const char *from, const char *to)
{ unreachable(__func__); }
void lc_dialect_act_init(lc_req_t *q, const lc_kind_def_t *def, const char *id,
                         const char *action, const lc_precond_t *if_match, lc_act_t *act)
{ unreachable(__func__); }
const char *lc_dialect_refused_scope(lc_req_t *q)
{ unreachable(__func__); return NULL; }
int lc_dialect_store_failed(lc_req_t *q, apr_status_t rv, const char *code, const char *message)
{ unreachable(__func__); return 0; }
int lc_dialect_unavailable(lc_req_t *q, const char *code)
{ unreachable(__func__); return 0; }
const char *lc_repr_json(apr_pool_t *pool, const lc_kind_def_t *def, const lc_resource_t *r,
                         apr_size_t *len)
{ unreachable(__func__); return NULL; }
