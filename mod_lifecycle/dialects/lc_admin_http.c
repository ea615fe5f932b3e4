/* lc_admin_http.c — the admin API's answers and query strings, which its
 * routes (lc_dialect_admin.c), its change feed (lc_admin_feed.c) and its
 * runner reports (lc_admin_report.c) share.  They live apart from all three
 * so that each depends on this file and none on another.
 */
#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "lc_admin.h"
#include "lc_http.h"
#include "lc_repr_cache.h"

int lc_admin_error(lc_req_t *q, int status, const char *code, const char *message)
{
    return lc_http_json(q->r, status, json_pack("{s:s, s:s}", "error", code,
                                                "message", message ? message : ""));
}

/* The answers every store call shares: unknown, stale If-Match, full, broken
 * (and a report's malformed If-Match). */
const lc_act_refusals_t lc_admin_refusals = {{
    [LC_ACT_MALFORMED] = { HTTP_BAD_REQUEST, "invalid_request", "malformed If-Match header" },
    [LC_ACT_NOTFOUND]  = { HTTP_NOT_FOUND, "not_found", "no {kind} '{id}'" },
    [LC_ACT_VERSION]   = { HTTP_PRECONDITION_FAILED, "precondition_failed",
                           "If-Match does not match the current version" },
    [LC_ACT_FULL]      = { HTTP_INSUFFICIENT_STORAGE, "insufficient_storage",
                           "the store is full (LifecycleCapacity)" },
    [LC_ACT_FAILED]    = { HTTP_INTERNAL_SERVER_ERROR, "internal", "store error {rv}" }
}};

int lc_admin_store_error(lc_req_t *q, const lc_kind_def_t *def, const char *id,
                         apr_status_t rv)
{
    lc_dialect_call_t c = { .def = def, .id = id, .refusals = &lc_admin_refusals };

    return lc_dialect_refuse(q, &c, rv, NULL);
}

int lc_admin_query(lc_req_t *q, const char *const *allowed, apr_table_t **args)
{
    const char *v;

    if (lc_http_query(q->r, args) != 0) {
        return lc_admin_error(q, HTTP_BAD_REQUEST, "invalid_request",
                              "malformed query string, or a parameter given twice");
    }
    if ((v = lc_http_query_unknown(*args, allowed)) != NULL) {
        return lc_admin_error(q, HTTP_BAD_REQUEST, "invalid_request",
                              apr_psprintf(q->r->pool, "unknown query parameter '%s'",
                                           ap_escape_html(q->r->pool, v)));
    }
    return LC_PROCEED;
}

int lc_admin_send(lc_req_t *q, int status, const lc_kind_def_t *def, const lc_resource_t *r)
{
    apr_size_t len;
    const char *text = lc_repr_json(q->r->pool, def, r, &len);

    lc_http_etag(q->r, r->version);
    return lc_http_json_text(q->r, status, text, len);
}
