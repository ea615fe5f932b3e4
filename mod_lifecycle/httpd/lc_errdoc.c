/* lc_errdoc.c — no HTML error page under a mounted Location (conf/API.md:
 * "Any other URL under a mounted Location answers JSON in its dialect's error
 * shape"; an HTML page crashes the vendors' clients — redivis-python's
 * util.py reads error fields from it).
 *
 * The dialects answer their own errors.  What is left is every error httpd
 * writes itself with ap_send_error_response: a handler or filter that
 * returned a status instead of answering (LimitRequestBody's 413 while the
 * body is discarded, a 500 from an output filter), and what core refuses
 * before the Location is even looked up (a path that does not unescape:
 * "%ZZ", AH10244; a header over LimitRequestFieldSize; an Expect it does
 * not know, 417).  ap_send_error_response runs the insert_error_filter
 * hook first: there, for a request under one of our Locations (walking the
 * Locations ourselves when core refused the request before it did), this
 * adds an output filter that drops httpd's HTML and sends, at its end, the
 * body the dialect's own error function makes for that status — the same
 * function, so the same shape, headers included (redivis's
 * X-REDIVIS-ERROR-PAYLOAD on HEAD, Allow on 405).  Errors httpd answers
 * before a request has a URI (a bad request line, 414) stay as httpd
 * writes them: no Location is known then.
 */
#include <string.h>
#include <httpd.h>
#include <http_config.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_filter.h>
#include <apr_strings.h>

#include "lc_errdoc.h"
#include "lc_http.h"
#include "lc_provider.h"

APLOG_USE_MODULE(lifecycle);

#define LC_ERRDOC_FILTER "LIFECYCLE_ERRDOC"

static ap_filter_rec_t *errdoc_filter_handle;
static lc_errdoc_dialect_fn *dialect_of;

/* The code an error of this status has in the dialects' words. */
static const char *status_code(int status)
{
    switch (status) {
    case HTTP_BAD_REQUEST:              return "invalid_request";
    case HTTP_UNAUTHORIZED:             return "invalid_token";
    case HTTP_FORBIDDEN:                return "forbidden";
    case HTTP_NOT_FOUND:                return "not_found";
    case HTTP_METHOD_NOT_ALLOWED:       return "method_not_allowed";
    case HTTP_REQUEST_TIME_OUT:         return "request_timeout";
    case HTTP_LENGTH_REQUIRED:          return "length_required";
    case HTTP_REQUEST_ENTITY_TOO_LARGE: return "request_too_large";
    case HTTP_REQUEST_URI_TOO_LARGE:    return "uri_too_long";
    case HTTP_EXPECTATION_FAILED:       return "expectation_failed";
    case HTTP_SERVICE_UNAVAILABLE:      return "unavailable";
    case HTTP_NOT_IMPLEMENTED:          return "not_implemented";
    default:
        return status >= 500 ? "internal_error" : "invalid_request";
    }
}

static const lc_dialect_t *dialect_for(request_rec *r, const lc_dir_conf_t **dcp)
{
    const lc_dir_conf_t *dc = r->per_dir_config
                              ? ap_get_module_config(r->per_dir_config, &lifecycle_module)
                              : NULL;

    *dcp = dc;
    return dc ? dialect_of(dc->dialect) : NULL;
}

/* The dialect's error for r->status, its body captured (lc_http_capture). */
static const char *render(request_rec *r, const lc_dialect_t *d, const lc_dir_conf_t *dc,
                          apr_size_t *len)
{
    lc_http_capture_t cap = { NULL, 0 };
    int status = r->status;
    const char *line = ap_get_status_line(status);
    lc_req_t q;

    memset(&q, 0, sizeof(q));
    q.r = r;
    q.dialect = d;
    q.dc = dc;
    q.sc = lc_config_global(r->server);
    q.store = lc_provider_store();
    q.path = "";
    q.collection = "";
    q.nseg = -1;
    q.now = apr_time_now();
    lc_http_capture = &cap;
    d->error(&q, status, status_code(status),
             apr_pstrcat(r->pool, status >= 500 ? "The server failed: " : "The server refused "
                         "the request: ", line && strlen(line) > 4 ? line + 4 : "error", NULL));
    lc_http_capture = NULL;
    r->status = status;          /* the dialect's answer keeps httpd's status */
    *len = cap.len;
    return cap.text;
}

/* Drop httpd's HTML; at its end, send the dialect's JSON instead. */
static apr_status_t errdoc_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    const lc_dir_conf_t *dc;
    const lc_dialect_t *d = dialect_for(r, &dc);
    apr_bucket_brigade *out;
    const char *text;
    apr_size_t len = 0;
    apr_bucket *e;
    int eos = 0;

    for (e = APR_BRIGADE_FIRST(bb); e != APR_BRIGADE_SENTINEL(bb); e = APR_BUCKET_NEXT(e)) {
        eos |= APR_BUCKET_IS_EOS(e);
    }
    apr_brigade_cleanup(bb);
    if (!eos) {
        return APR_SUCCESS;
    }
    ap_remove_output_filter(f);
    out = apr_brigade_create(r->pool, f->c->bucket_alloc);
    text = d ? render(r, d, dc, &len) : NULL;
    if (text && len && !r->header_only) {
        APR_BRIGADE_INSERT_TAIL(out, apr_bucket_pool_create(text, len, r->pool,
                                                            f->c->bucket_alloc));
    }
    APR_BRIGADE_INSERT_TAIL(out, apr_bucket_eos_create(f->c->bucket_alloc));
    return ap_pass_brigade(f->next, out);
}

/* ap_send_error_response is about to write httpd's page: ours instead? */
static void errdoc_insert(request_rec *r)
{
    const lc_dir_conf_t *dc;

    if (!dialect_for(r, &dc) && r->per_dir_config
        && r->per_dir_config == r->server->lookup_defaults && r->uri && r->uri[0] == '/') {
        /* Core refused the request before it looked up the Locations (a
         * path that does not unescape, a header too long): look them up.
         * Only then: a request already walked keeps its merged config. */
        ap_location_walk(r);
    }
    if (dialect_for(r, &dc)) {
        ap_add_output_filter_handle(errdoc_filter_handle, NULL, r, r->connection);
    }
}

void lc_errdoc_register_hooks(apr_pool_t *p, lc_errdoc_dialect_fn *fn)
{
    (void)p;
    dialect_of = fn;
    errdoc_filter_handle = ap_register_output_filter(LC_ERRDOC_FILTER, errdoc_filter, NULL,
                                                     AP_FTYPE_CONTENT_SET);
    ap_hook_insert_error_filter(errdoc_insert, NULL, NULL, APR_HOOK_MIDDLE);
}
