/* lc_dialect_wrapper.c — the data-wrapper API, at
 * /resources/wrappers.
 *
 *   POST /{wrapper_id}/stop      running -> stopped; anything else: success, no change
 *   POST /{wrapper_id}/execute   idle | stopped | completed | failed -> running
 *   GET  /{wrapper_id}           {"wrapper_id","type","status","checkpoint":{...}}
 *
 * Errors: {"detail": "..."} (conf/API.md); a stop or execute that cannot
 * be done is a 400 "Stop error: ..." / "Execute error: ...", never a 404.
 *
 * A stop that cannot be carried out: a runner that finds it cannot signal
 * the wrapper's process says so with an admin PUT of the wrapper object plus
 * "stop_fails": true.  While the wrapper is running with that flag, a stop
 * answers 200 {"success":false,"message":"Failed to stop wrapper"} and
 * changes nothing.  The next execute (a new process) clears the flag, as does
 * any PUT without it.  The flag is not part of the wrapper object.
 *
 * The kind (states, rules, representation) is lc_kind_wrapper.c.
 */
#include <string.h>
#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "lc_dialect_act.h"
#include "lc_kind_wrapper.h"
#include "lc_engine.h"
#include "lc_http.h"
#include "lc_util.h"

/* ---- HTTP ------------------------------------------------------------------ */

/* {"detail": "..."}, as conf/API.md's Wrappers section says. */
static int wr_error(lc_req_t *q, int status, const char *code, const char *message)
{
    (void)code;
    return lc_http_json(q->r, status, json_pack("{s:s}", "detail", message ? message : ""));
}

static int wr_get(lc_req_t *q, const char *id)
{
    lc_resource_t r;
    apr_status_t rv = lc_store_get(q->store, LC_KIND_WRAPPER, id, &r, q->r->pool);

    if (rv == LC_ENOTFOUND) {
        return wr_error(q, HTTP_NOT_FOUND, "not_found", "Wrapper not found");
    }
    if (rv != APR_SUCCESS) {
        return lc_dialect_store_failed(q, rv, "internal", "Internal error: the store failed");
    }
    lc_http_etag(q->r, r.version);
    return lc_http_json(q->r, HTTP_OK, lc_wrapper_kind.to_json(&r));
}

/* A running wrapper the runner cannot signal: the stop fails (store locked). */
static apr_status_t wr_stop_guard(const lc_resource_t *r, void *baton)
{
    json_t *data;
    int fails;

    (void)baton;
    if (r->state != WR_RUNNING) {
        return APR_SUCCESS;
    }
    data = lc_kind_get_data(r);
    fails = json_is_true(json_object_get(data, WR_K_FAIL));
    json_decref(data);
    return fails ? LC_EILLEGAL : APR_SUCCESS;
}

static int wr_stop_result(lc_req_t *q, const char *id, int ok)
{
    return lc_http_json(q->r, HTTP_OK, json_pack("{s:s, s:b, s:s}", "wrapper_id", id,
                                                 "success", ok, "message",
                                                 ok ? "Wrapper stopped successfully"
                                                    : "Failed to stop wrapper"));
}

/* What a stop or an execute that did not happen answers: a 400 "Stop error:
 * ..." / "Execute error: ...", never a 404.  A stop that cannot be done is
 * a 200 (wr_answer). */
static const lc_act_refusals_t wr_stop_refusals = {{
    [LC_ACT_MALFORMED] = { HTTP_BAD_REQUEST, "invalid_request",
                           "Stop error: malformed If-Match header" },
    [LC_ACT_NOTFOUND]  = { HTTP_BAD_REQUEST, "not_found", "Stop error: Wrapper not found" },
    [LC_ACT_FORBIDDEN] = { HTTP_BAD_REQUEST, "forbidden", "Stop error: Permission denied" },
    [LC_ACT_VERSION]   = { HTTP_PRECONDITION_FAILED, "precondition_failed",
                           "Stop error: If-Match does not match the current version", 1 },
    [LC_ACT_FAILED]    = { HTTP_INTERNAL_SERVER_ERROR, "internal", "Stop error: store error {rv}" }
}};

static const lc_act_refusals_t wr_execute_refusals = {{
    [LC_ACT_MALFORMED] = { HTTP_BAD_REQUEST, "invalid_request",
                           "Execute error: malformed If-Match header" },
    [LC_ACT_NOTFOUND]  = { HTTP_BAD_REQUEST, "not_found", "Execute error: Wrapper not found" },
    [LC_ACT_ILLEGAL]   = { HTTP_BAD_REQUEST, "invalid_state",
                           "Execute error: Wrapper is already running", 1 },
    [LC_ACT_FORBIDDEN] = { HTTP_BAD_REQUEST, "forbidden", "Execute error: Permission denied" },
    [LC_ACT_VERSION]   = { HTTP_PRECONDITION_FAILED, "precondition_failed",
                           "Execute error: If-Match does not match the current version", 1 },
    [LC_ACT_FAILED]    = { HTTP_INTERNAL_SERVER_ERROR, "internal",
                           "Execute error: store error {rv}" }
}};

static int wr_is_stop(const lc_dialect_call_t *c)
{
    return strcmp(c->action, "stop") == 0;
}

/* Done, or nothing to do: a stop's result, or the wrapper executing. */
static int wr_acted(lc_req_t *q, const lc_dialect_call_t *c, const lc_resource_t *before,
                    const lc_resource_t *after)
{
    (void)before;
    lc_http_etag(q->r, after->version);
    return wr_is_stop(c) ? wr_stop_result(q, c->id, 1)
                         : lc_http_json(q->r, HTTP_OK, lc_wrapper_kind.to_json(after));
}

/* A stop the wrapper refused (wr_stop_guard) is a result, not an error. */
static int wr_answer(lc_req_t *q, const lc_dialect_call_t *c, apr_status_t rv,
                     const lc_resource_t *cur)
{
    if (rv != LC_EILLEGAL || !wr_is_stop(c)) {
        return LC_PROCEED;
    }
    lc_http_etag(q->r, cur->version);
    return wr_stop_result(q, c->id, 0);
}

static int wr_act(lc_req_t *q, const char *id, const char *action)
{
    int stop = strcmp(action, "stop") == 0;
    const char *what = stop ? "Stop" : "Execute";
    lc_dialect_call_t c = { .def = &lc_wrapper_kind, .id = id, .action = action,
                            .guard = stop ? wr_stop_guard : NULL,
                            .refusals = stop ? &wr_stop_refusals : &wr_execute_refusals,
                            .answer = wr_acted, .refuse = wr_answer };
    int rc, big;

    if ((rc = lc_http_refuse_body(q->r, &big)) != 0) {
        return wr_error(q, rc, "invalid_request",
                        apr_pstrcat(q->r->pool, what, big   /* over 64 KiB, or LimitRequestBody */
                                    ? " error: the request body is too large"
                                    : " error: this endpoint does not take a request body",
                                    NULL));
    }
    return lc_dialect_act(q, &c);
}

static int wr_method_not_allowed(lc_req_t *q, const char *allow)
{
    lc_http_allow(q->r, allow);
    return wr_error(q, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "Method Not Allowed");
}

static int wr_handle(lc_req_t *q)
{
    const char *id = q->nseg > 0 ? q->seg[0] : "";

    if (q->nseg == 0 || q->nseg > 2 || (q->nseg == 2 && strcmp(q->seg[1], "stop")
                                        && strcmp(q->seg[1], "execute"))) {
        return wr_error(q, HTTP_NOT_FOUND, "not_found", "Not Found");
    }
    if (!lc_id_valid(id)) {
        return wr_error(q, HTTP_BAD_REQUEST, "invalid_request", "Invalid wrapper id");
    }
    if (q->nseg == 1) {
        return q->r->method_number == M_GET ? wr_get(q, id)
                                            : wr_method_not_allowed(q, "GET, HEAD");
    }
    if (q->r->method_number != M_POST) {
        return wr_method_not_allowed(q, "POST");
    }
    return wr_act(q, id, q->seg[1]);
}

const lc_dialect_t lc_dialect_wrapper = {
    .name               = "wrapper",
    .kind               = LC_KIND_WRAPPER,
    .kind_def           = &lc_wrapper_kind,
    .scope_read         = "wrappers.read",
    .scope_write        = "wrappers.write",
    .handle             = wr_handle,
    .error              = wr_error,
    .method_not_allowed = wr_method_not_allowed,
    .methods            = "GET, HEAD, POST",
};
