/* lc_dialect_wrapper.c — the data-wrapper API (seed 003, SPEC §4.2), at
 * /resources/wrappers.
 *
 *   POST /{wrapper_id}/stop      running -> stopped; anything else: success, no change
 *   POST /{wrapper_id}/execute   idle | stopped | completed | failed -> running
 *   GET  /{wrapper_id}           {"wrapper_id","type","status","checkpoint":{...}}
 *
 * Errors: {"detail": "..."}, as the seed shows; a stop or execute that cannot
 * be done is a 400 "Stop error: ..." / "Execute error: ...", never a 404.
 *
 * A stop that cannot be carried out: a runner that finds it cannot signal
 * the wrapper's process says so with an admin PUT of the wrapper object plus
 * "stop_fails": true.  While the wrapper is running with that flag, a stop
 * answers 200 {"success":false,"message":"Failed to stop wrapper"} and
 * changes nothing.  The next execute (a new process) clears the flag, as does
 * any PUT without it.  The flag is not part of the wrapper object.
 */
#include <string.h>
#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "lc_dialect.h"
#include "lc_engine.h"
#include "lc_http.h"
#include "lc_audit.h"
#include "lc_util.h"

/* ---- the kind: states, rules, representation ---------------------------- */

enum { WR_IDLE, WR_RUNNING, WR_STOPPED, WR_COMPLETED, WR_FAILED, WR_NSTATES };

static const char *const wr_states[WR_NSTATES] = {
    "idle", "running", "stopped", "completed", "failed"
};

#define WR_NOT_RUNNING (LC_BIT(WR_IDLE) | LC_BIT(WR_STOPPED) | LC_BIT(WR_COMPLETED) \
                        | LC_BIT(WR_FAILED))

/* Attribute keys in r->data, short because the whole object has 239 bytes:
 * type, the two water marks, and the runner's "cannot stop" flag. */
#define K_TYPE "t"
#define K_HWM  "h"
#define K_LWM  "l"
#define K_FAIL "f"

#define WR_MARK_MAX 100   /* characters per water mark */

static void wr_execute_effect(lc_resource_t *r, apr_time_t now);

static const lc_rule_t wr_rules[] = {
    /* action     from              to            desired        flags */
    { "stop",    LC_BIT(WR_RUNNING), WR_STOPPED,   LC_STATE_KEEP, 0, NULL },
    /* The seed: stopping what is not running succeeds and changes nothing. */
    { "stop",    WR_NOT_RUNNING,     LC_STATE_KEEP, LC_STATE_KEEP, LC_RULE_NOOP, NULL },
    { "execute", WR_NOT_RUNNING,     WR_RUNNING,   LC_STATE_KEEP, 0, wr_execute_effect },
    { NULL }
};

/* Nothing finishes by itself: a runner reports completed / failed. */
static const lc_advance_t wr_advances[] = {
    { LC_STATE_KEEP }
};

extern const lc_kind_def_t lc_wrapper_kind;

static const char *wr_type(json_t *data)
{
    const char *t = json_string_value(json_object_get(data, K_TYPE));

    return t ? t : "api";
}

/* A new run: a new process, so a "cannot stop" report about the old one no
 * longer holds; CSV / XLSX wrappers start from scratch, API wrappers resume
 * from their checkpoint (kept as it is). */
static void wr_execute_effect(lc_resource_t *r, apr_time_t now)
{
    json_t *data = lc_kind_get_data(r);

    (void)now;
    json_object_del(data, K_FAIL);
    if (strcmp(wr_type(data), "api") != 0) {
        json_object_del(data, K_HWM);
        json_object_del(data, K_LWM);
    }
    lc_kind_set_data(r, data);    /* it only shrank: it fits */
    json_decref(data);
}

static json_t *wr_mark(json_t *data, const char *key)
{
    json_t *v = json_object_get(data, key);

    return v ? json_incref(v) : json_null();
}

static json_t *wr_to_json(const lc_resource_t *r)
{
    json_t *data = lc_kind_get_data(r);
    json_t *o = json_pack("{s:s, s:s, s:s, s:{s:o, s:o}}", "wrapper_id", r->id,
                          "type", wr_type(data),
                          "status", wr_states[r->state < WR_NSTATES ? r->state : WR_FAILED],
                          "checkpoint", "high_water_mark", wr_mark(data, K_HWM),
                          "low_water_mark", wr_mark(data, K_LWM));

    json_decref(data);
    return o;
}

/* checkpoint: null, or {high_water_mark, low_water_mark}, each a string or null. */
static apr_status_t wr_checkpoint(json_t *c, json_t *data, const char **field)
{
    static const char *const names[] = { "high_water_mark", "low_water_mark" };
    static const char *const fields[] = { "checkpoint.high_water_mark",
                                          "checkpoint.low_water_mark" };
    static const char *const keys[] = { K_HWM, K_LWM };
    const char *k;
    json_t *v;
    int i;

    if (!c || json_is_null(c)) {
        return APR_SUCCESS;
    }
    *field = "checkpoint";
    if (!json_is_object(c)) {
        return APR_EINVAL;
    }
    json_object_foreach(c, k, v) {
        if (strcmp(k, names[0]) && strcmp(k, names[1])) {
            return APR_EINVAL;
        }
    }
    for (i = 0; i < 2; i++) {
        v = json_object_get(c, names[i]);
        if (!v || json_is_null(v)) {
            continue;
        }
        *field = fields[i];
        if (!json_is_string(v) || lc_utf8_chars(json_string_value(v)) > WR_MARK_MAX) {
            return APR_EINVAL;
        }
        json_object_set(data, keys[i], v);
    }
    return APR_SUCCESS;
}

static const char *const wr_fields[] = {
    "wrapper_id", "type", "status", "checkpoint", "stop_fails", NULL
};

/* The admin PUT body: the wrapper object, plus the runner's "stop_fails". */
static apr_status_t wr_from_json(json_t *body, lc_resource_t *r, const char **field,
                                 apr_pool_t *p)
{
    json_t *id = json_object_get(body, "wrapper_id");
    json_t *type = json_object_get(body, "type");
    json_t *status = json_object_get(body, "status");
    json_t *fails = json_object_get(body, "stop_fails");
    const char *t;
    json_t *data;
    int state;
    apr_status_t rv;

    (void)p;
    if ((*field = lc_kind_unknown_field(body, wr_fields)) != NULL) {
        return APR_EINVAL;
    }
    if (id && (!json_is_string(id) || strcmp(json_string_value(id), r->id) != 0)) {
        *field = "wrapper_id";
        return APR_EINVAL;
    }
    t = json_string_value(type);
    if (!t || (strcmp(t, "api") && strcmp(t, "csv") && strcmp(t, "xlsx"))) {
        *field = "type";
        return APR_EINVAL;
    }
    if ((state = lc_kind_state(&lc_wrapper_kind, json_string_value(status))) < 0) {
        *field = "status";
        return APR_EINVAL;
    }
    if (fails && !json_is_boolean(fails)) {
        *field = "stop_fails";
        return APR_EINVAL;
    }
    data = json_pack("{s:s}", K_TYPE, t);
    if ((rv = wr_checkpoint(json_object_get(body, "checkpoint"), data, field)) == APR_SUCCESS) {
        if (json_is_true(fails)) {
            json_object_set_new(data, K_FAIL, json_true());
        }
        if ((rv = lc_kind_set_data(r, data)) != APR_SUCCESS) {
            *field = "checkpoint";
        }
    }
    json_decref(data);
    r->state = (uint8_t)state;
    return rv;
}

const lc_kind_def_t lc_wrapper_kind = {
    LC_KIND_WRAPPER, "wrapper", wr_states, WR_NSTATES,
    wr_rules, wr_advances, wr_to_json, wr_from_json
};

/* ---- HTTP ------------------------------------------------------------------ */

/* {"detail": "..."}, as the seed shows. */
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
    return lc_http_json(q->r, HTTP_OK, wr_to_json(&r));
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
    fails = json_is_true(json_object_get(data, K_FAIL));
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

/* What the action answers once the engine has decided. */
static int wr_answer(lc_req_t *q, const char *id, int stop, const char *what,
                     apr_status_t rv, const lc_resource_t *after)
{
    switch (rv) {
    case APR_SUCCESS:
    case LC_NOCHANGE:
        lc_http_etag(q->r, after->version);
        return stop ? wr_stop_result(q, id, 1) : lc_http_json(q->r, HTTP_OK, wr_to_json(after));
    case LC_EILLEGAL:
        lc_http_etag(q->r, after->version);
        return stop ? wr_stop_result(q, id, 0)
                    : wr_error(q, HTTP_BAD_REQUEST, "invalid_state",
                               "Execute error: Wrapper is already running");
    case LC_ENOTFOUND:
        return wr_error(q, HTTP_BAD_REQUEST, "not_found",
                        apr_pstrcat(q->r->pool, what, " error: Wrapper not found", NULL));
    case LC_EFORBIDDEN:
        return wr_error(q, HTTP_BAD_REQUEST, "forbidden",
                        apr_pstrcat(q->r->pool, what, " error: Permission denied", NULL));
    case LC_EVERSION:
        lc_http_etag(q->r, after->version);
        return wr_error(q, HTTP_PRECONDITION_FAILED, "precondition_failed",
                        apr_pstrcat(q->r->pool, what, " error: If-Match does not match "
                                    "the current version", NULL));
    default:
        return lc_dialect_store_failed(q, rv, "internal",
                        apr_psprintf(q->r->pool, "%s error: store error %d", what, rv));
    }
}

static int wr_act(lc_req_t *q, const char *id, const char *action)
{
    int stop = strcmp(action, "stop") == 0;
    const char *what = stop ? "Stop" : "Execute";
    lc_resource_t before, after;
    lc_precond_t if_match;
    lc_act_t act;
    apr_status_t rv;
    int rc, big;

    if ((rc = lc_http_refuse_body(q->r, &big)) != 0) {
        return wr_error(q, rc, "invalid_request",
                        apr_pstrcat(q->r->pool, what, big   /* over 64 KiB, or LimitRequestBody */
                                    ? " error: the request body is too large"
                                    : " error: this endpoint does not take a request body",
                                    NULL));
    }
    if (lc_precond_parse(apr_table_get(q->r->headers_in, "If-Match"), &if_match) != 0) {
        return wr_error(q, HTTP_BAD_REQUEST, "invalid_request",
                        apr_pstrcat(q->r->pool, what, " error: malformed If-Match header",
                                    NULL));
    }
    lc_dialect_act_init(q, &lc_wrapper_kind, id, action, &if_match, &act);
    if (stop) {
        act.guard = wr_stop_guard;
    }
    rv = lc_engine_act(q->store, &act, &before, &after);
    if (rv == APR_SUCCESS) {
        lc_audit_request(q->r, &q->actor, LC_KIND_WRAPPER, id, wr_states[before.state],
                         wr_states[after.state]);
    }
    return wr_answer(q, id, stop, what, rv, &after);
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
    "wrapper", LC_KIND_WRAPPER, &lc_wrapper_kind, "wrappers.read", "wrappers.write",
    wr_handle, wr_error, wr_method_not_allowed, "GET, HEAD, POST"
};
