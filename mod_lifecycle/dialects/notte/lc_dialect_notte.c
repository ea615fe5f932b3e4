/* lc_dialect_notte.c — the Notte agents API, at /agents,
 * and the routing of the dialect's collections (/agents, /sessions, /health).
 *
 *   GET    /                            the agents, paged (lc_notte_list.c)
 *   POST   /start                       a new agent in an active session -> AgentResponse
 *   GET    /{agent_id}                  AgentStatusResponse
 *   DELETE /{agent_id}/stop?session_id= active -> closed -> AgentStatusResponse
 *
 * FastAPI's error shapes are in lc_notte_fastapi.c, sessions in
 * lc_notte_session.c, the agent kind in lc_kind_notte.c.  Like FastAPI, the
 * query string is lenient: unknown parameters are ignored, and of a repeated
 * session_id the last one counts.
 */
#include <string.h>
#include <httpd.h>
#include <http_log.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "lc_notte.h"
#include "lc_engine.h"
#include "lc_http.h"
#include "lc_util.h"

APLOG_USE_MODULE(lifecycle);

/* The SDK's AgentStartRequest (packages/notte-sdk/src/notte_sdk/types.py)
 * bounds max_steps (ge=1, le=150) and declares no length for task or url;
 * 10,000 characters of task and 2,048 of URL are ordinary (conf/API.md), so
 * those are the bounds (in characters, as pydantic counts them).  A session
 * id has no bound of its own: one that is not a session's is 404. */
#define AG_TASK_MAX    10000
#define AG_URL_MAX     2048
#define AG_STEPS_MIN   1
#define AG_STEPS_MAX   150

/* ---- POST /start ------------------------------------------------------------- */

/* Validate an AgentStartRequest into the attributes to keep; LC_PROCEED, or
 * the 422 already sent.  The SDK also sends reasoning_model, use_vision,
 * vault_id, persona_id, notifier_config, response_format and session_offset:
 * accepted and not kept (the agent is run elsewhere). */
static int ag_start_attrs(lc_req_t *q, json_t *body, lc_resource_t *tmpl)
{
    static const lc_notte_field_t task = { "body", "task", 1, 0, AG_TASK_MAX };
    static const lc_notte_field_t session = { "body", "session_id", 1, 1, 1L << 30 };
    static const lc_notte_field_t url = { "body", "url", 0, 0, AG_URL_MAX };
    static const lc_notte_int_t steps = { "max_steps", AG_STEPS_MIN, AG_STEPS_MAX, 0, 0 };
    json_t *errors = json_array(), *data;
    const char *t, *s, *u;
    apr_status_t rv;
    long n;

    t = lc_notte_check_str(errors, &task, json_object_get(body, "task"), body, q->r->pool);
    s = lc_notte_check_str(errors, &session, json_object_get(body, "session_id"), body,
                           q->r->pool);
    u = lc_notte_check_str(errors, &url, json_object_get(body, "url"), body, q->r->pool);
    lc_notte_check_int(errors, &steps, json_object_get(body, "max_steps"), &n);
    if (json_array_size(errors) > 0) {
        return lc_notte_unprocessable(q, errors);
    }
    data = json_pack("{s:s, s:s}", AG_K_SESSION, s, AG_K_TASK, t);
    if (u) {
        json_object_set_new(data, AG_K_URL, json_string(u));
    }
    rv = lc_kind_set_data(tmpl, data);
    json_decref(data);
    if (rv != APR_SUCCESS) {
        /* Within every bound, but escapes or multi-byte characters overflow the record. */
        lc_notte_err(errors, "value_error", "body", NULL, apr_psprintf(q->r->pool,
                     "Value error, task, session_id and url take more than %d bytes together",
                     LC_DATA_MAX), json_incref(body), json_pack("{s:{}}", "error"));
        return lc_notte_unprocessable(q, errors);
    }
    json_decref(errors);
    return LC_PROCEED;
}

typedef struct start_baton {
    lc_req_t            *q;
    const lc_resource_t *tmpl;
} start_baton_t;

/* Store locked: a new agent, never an existing one. */
static apr_status_t ag_start_cb(lc_resource_t *r, int exists, void *baton)
{
    start_baton_t *b = baton;

    if (exists) {
        return LC_EEXISTS;
    }
    r->state = AG_ACTIVE;
    r->created = r->state_since = b->q->now;
    apr_cpystrn(r->owner, strcmp(b->q->actor.sub, "-") ? b->q->actor.sub : "",
                sizeof(r->owner));
    apr_cpystrn(r->data, b->tmpl->data, sizeof(r->data));
    return APR_SUCCESS;
}

/* Store the new agent under a fresh UUID; APR_SUCCESS with *after, or the
 * store's error. */
static apr_status_t ag_create(lc_req_t *q, const lc_resource_t *tmpl, lc_resource_t *after)
{
    start_baton_t b = { q, tmpl };
    char id[37];
    apr_status_t rv;
    int tries = 0;

    do {                                    /* a UUID collision: draw again */
        lc_uuid4(id);
        rv = lc_dialect_update(q, &lc_agent_kind, id, ag_start_cb, &b, NULL, after);
    } while (rv == LC_EEXISTS && ++tries < 3);
    return rv;
}

static int ag_start(lc_req_t *q)
{
    lc_resource_t tmpl, after;
    json_t *body = NULL;
    const char *session;
    apr_status_t rv;
    int rc;

    lc_resource_clear(&tmpl);
    if ((rc = lc_notte_read_object(q, &body)) != LC_PROCEED
        || (rc = ag_start_attrs(q, body, &tmpl)) != LC_PROCEED) {
        return rc;
    }
    session = json_string_value(json_object_get(body, "session_id"));
    /* FastAPI validates the body first; then the session must take agents. */
    if ((rc = lc_notte_session_open(q, session)) != LC_PROCEED) {
        return rc;
    }
    if ((rv = ag_create(q, &tmpl, &after)) == LC_EFULL) {
        return lc_notte_error(q, HTTP_INSUFFICIENT_STORAGE, "insufficient_storage",
                              "Insufficient storage: no room for another agent");
    }
    if (rv != APR_SUCCESS) {
        return lc_dialect_store_failed(q, rv, "internal",
                              apr_psprintf(q->r->pool, "Failed to start the agent: store error %d", rv));
    }
    /* A session stop between the check and the create marked the session
     * closed before its sweep, which may have passed this agent by: close it
     * here.  Either the sweep saw the agent or this re-check sees the
     * session closed (both go through the store's lock), so no agent stays
     * active in a closed session.  The answer is the closed agent, as if it
     * had started just before the session stopped. */
    if (!lc_notte_session_active(q, session)) {
        lc_notte_close_agent(q, after.id, session, &after);
    }
    else {
        lc_notte_session_touch(q, session, 1);      /* busy: its idle clock stops */
    }
    lc_http_etag(q->r, after.version);
    return lc_http_json(q->r, HTTP_OK, lc_notte_agent_json(&after, 0));
}

/* ---- GET /{agent_id}, DELETE /{agent_id}/stop --------------------------------- */

static int ag_not_found(lc_req_t *q)
{
    return lc_notte_error(q, HTTP_NOT_FOUND, "not_found", "Agent not found");
}

static int ag_send(lc_req_t *q, const lc_resource_t *r)
{
    lc_http_etag(q->r, r->version);
    return lc_http_json(q->r, HTTP_OK, lc_notte_agent_json(r, 1));
}

/* FastAPI path parameters are plain strings: one outside our id grammar is
 * simply an agent that does not exist. */
static int ag_get(lc_req_t *q, const char *id)
{
    lc_resource_t r;
    apr_status_t rv;

    if (!lc_id_valid(id) || (rv = lc_store_get(q->store, LC_KIND_AGENT, id, &r, q->r->pool)) == LC_ENOTFOUND) {
        return ag_not_found(q);
    }
    if (rv != APR_SUCCESS) {
        return lc_dialect_store_failed(q, rv, "internal", "The store failed");
    }
    return ag_send(q, &r);
}

/* What a stop that did not happen answers. */
static const lc_act_refusals_t ag_refusals = {{
    [LC_ACT_MALFORMED] = { HTTP_BAD_REQUEST, "invalid_request", "Malformed If-Match header" },
    /* Unknown, or another session's. */
    [LC_ACT_NOTFOUND]  = { HTTP_NOT_FOUND, "not_found", "Agent not found" },
    /* Another user's: as good as unknown to this one. */
    [LC_ACT_FORBIDDEN] = { HTTP_NOT_FOUND, "not_found", "Agent not found" },
    [LC_ACT_VERSION]   = { HTTP_PRECONDITION_FAILED, "precondition_failed",
                           "If-Match does not match the current version", 1 },
    [LC_ACT_FAILED]    = { HTTP_INTERNAL_SERVER_ERROR, "internal",
                           "Failed to stop the agent: store error {rv}" }
}};

/* After If-Match: an id outside the grammar is an agent that does not exist. */
static int ag_stop_prepare(lc_req_t *q, lc_dialect_call_t *c)
{
    return lc_id_valid(c->id) ? LC_PROCEED : ag_not_found(q);
}

/* Closed now, or already: the agent as it is. */
static int ag_stopped(lc_req_t *q, const lc_dialect_call_t *c, const lc_resource_t *before,
                      const lc_resource_t *after)
{
    json_t *data;

    (void)c;
    if (before->state == AG_ACTIVE && after->state == AG_CLOSED) {
        /* Activity: the session's idle clock starts again (lc_notte_timeout.c). */
        data = lc_kind_get_data(after);
        lc_notte_session_touch(q, ag_str(data, AG_K_SESSION), 0);
        json_decref(data);
    }
    return ag_send(q, after);
}

static int ag_stop(lc_req_t *q, const char *id)
{
    lc_notte_session_ref_t session;
    lc_dialect_call_t c = { .def = &lc_agent_kind, .id = id, .action = "stop",
                            .guard = lc_notte_agent_in_session, .guard_baton = &session,
                            .refusals = &ag_refusals, .answer = ag_stopped, .prepare = ag_stop_prepare };
    int rc, big;

    if ((rc = lc_http_refuse_body(q->r, &big)) != 0) {
        return lc_notte_error(q, rc, "invalid_request", big ? "The request body is too large"
                                                      : "This endpoint does not take a request body");
    }
    if ((rc = lc_notte_session_param(q, &session)) != LC_PROCEED) {
        return rc;
    }
    return lc_dialect_act(q, &c);
}

/* ---- routing ------------------------------------------------------------------ */

static int ag_handle(lc_req_t *q)
{
    int m = q->r->method_number;

    /* GET /agents/ (the SDK's list(); /agents too). */
    if (q->nseg == 0) {
        return m == M_GET ? lc_notte_list_agents(q) : lc_notte_method_not_allowed(q, "GET, HEAD");
    }
    /* GET /start is GET /{agent_id} with the id "start", as in FastAPI. */
    if (q->nseg == 1 && strcmp(q->seg[0], "start") == 0 && m != M_GET) {
        return m == M_POST ? ag_start(q) : lc_notte_method_not_allowed(q, "GET, HEAD, POST");
    }
    if (q->nseg == 1 && q->seg[0][0]) {
        return m == M_GET ? ag_get(q, q->seg[0]) : lc_notte_method_not_allowed(q, "GET, HEAD");
    }
    if (q->nseg == 2 && q->seg[0][0] && strcmp(q->seg[1], "stop") == 0) {
        return m == M_DELETE ? ag_stop(q, q->seg[0]) : lc_notte_method_not_allowed(q, "DELETE");
    }
    if (q->nseg == 3 && q->seg[0][0] && strcmp(q->seg[1], "debug") == 0
        && strcmp(q->seg[2], "logs") == 0) {
        return lc_notte_watch(q, q->seg[0]);       /* the WebSocket: lc_notte_watch.c */
    }
    return lc_notte_error(q, HTTP_NOT_FOUND, "not_found", "Not Found");
}

/* One dialect, two collections: the Location whose path ends in
 * "sessions" serves sessions, any other agents. */
static int notte_handle(lc_req_t *q)
{
    lc_notte_log_client(q->r);
    if (lc_notte_health_open(q)) {
        return lc_notte_health(q);
    }
    if (q->collection && strcmp(q->collection, "sessions") == 0) {
        return lc_notte_sessions(q);
    }
    return ag_handle(q);
}

/* Only /health is served without a token. */
static int notte_open(const lc_req_t *q)
{
    return lc_notte_health_open(q);
}

const lc_dialect_t lc_dialect_notte = {
    .name               = "notte",
    .kind               = LC_KIND_AGENT,
    .kind_def           = &lc_agent_kind,
    .scope_read         = "agents.read",
    .scope_write        = "agents.write",
    .handle             = notte_handle,
    .error              = lc_notte_error,
    .method_not_allowed = lc_notte_method_not_allowed,
    .methods            = "GET, HEAD, POST, DELETE",
    .open               = notte_open,
};
