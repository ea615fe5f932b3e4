/* lc_dialect_notte.c — the Notte agents API (seed 001, SPEC §4.3), at /agents,
 * and the routing of the dialect's two collections (/agents, /sessions).
 *
 *   POST   /start                       a new agent in an active session -> AgentResponse
 *   GET    /{agent_id}                  AgentStatusResponse
 *   DELETE /{agent_id}/stop?session_id= active -> closed -> AgentStatusResponse
 *
 * FastAPI's error shapes are in lc_notte_fastapi.c, sessions in
 * lc_notte_session.c.  Like FastAPI, the query string is lenient: unknown
 * parameters are ignored, and of a repeated session_id the last one counts.
 */
#include <string.h>
#include <httpd.h>
#include <http_log.h>
#include <http_protocol.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "lc_notte.h"
#include "lc_engine.h"
#include "lc_http.h"
#include "lc_audit.h"
#include "lc_util.h"

APLOG_USE_MODULE(lifecycle);

/* ---- the kind: states, rules, representation ---------------------------- */

enum { AG_ACTIVE, AG_CLOSED, AG_NSTATES };

static const char *const ag_states[AG_NSTATES] = { "active", "closed" };

static const lc_rule_t ag_rules[] = {
    /* action  from               to          desired        flags */
    { "stop", LC_BIT(AG_ACTIVE), AG_CLOSED,   LC_STATE_KEEP, LC_RULE_CLOSE, NULL },
    /* Stopping a closed agent answers it as it is: no new version, no audit. */
    { "stop", LC_BIT(AG_CLOSED), LC_STATE_KEEP, LC_STATE_KEEP, LC_RULE_NOOP, NULL },
    { NULL }
};

/* An agent runs until it stops or a runner reports it closed. */
static const lc_advance_t ag_advances[] = {
    { LC_STATE_KEEP }
};

extern const lc_kind_def_t lc_agent_kind;

/* Attribute keys in r->data, short because records were once 239 bytes. */
#define K_SESSION "s"
#define K_TASK    "t"
#define K_URL     "u"
#define K_SUCCESS "ok"     /* the runner's outcome; absent: none reported */
#define K_ANSWER  "a"
#define K_SAVED   "sv"

/* The SDK's AgentStartRequest (packages/notte-sdk/src/notte_sdk/types.py)
 * bounds max_steps (ge=1, le=150) and declares no length for task or url;
 * SPEC §4.3 names 10,000 characters of task and 2,048 of URL as ordinary, so
 * those are the bounds (in characters, as pydantic counts them).  A session
 * id has no bound of its own: one that is not a session's is 404. */
#define AG_TASK_MAX    10000
#define AG_URL_MAX     2048
#define AG_STEPS_MIN   1
#define AG_STEPS_MAX   150

static json_t *ag_str_or_null(json_t *data, const char *key)
{
    json_t *v = json_object_get(data, key);

    return json_is_string(v) ? json_incref(v) : json_null();
}

static const char *ag_str(json_t *data, const char *key)
{
    const char *s = json_string_value(json_object_get(data, key));

    return s ? s : "";
}

/* A closed agent without a recorded closing time (closed by a runner's
 * report) closed when it entered that state. */
static json_t *ag_closed_at(const lc_resource_t *r)
{
    if (r->state != AG_CLOSED) {
        return json_null();
    }
    return lc_notte_time(r->closed ? r->closed : r->state_since);
}

/* success: what a runner reported; else false once closed, null while active. */
static json_t *ag_success(const lc_resource_t *r, json_t *data)
{
    json_t *v = json_object_get(data, K_SUCCESS);

    if (json_is_boolean(v)) {
        return json_incref(v);
    }
    return r->state == AG_CLOSED ? json_false() : json_null();
}

/* AgentResponse (POST /start) or AgentStatusResponse (everything else),
 * fields in the schema's order. */
static json_t *ag_json(const lc_resource_t *r, int full)
{
    json_t *data = lc_kind_get_data(r), *o;

    o = json_pack("{s:s, s:o, s:s, s:s, s:o, s:b}", "agent_id", r->id,
                  "created_at", lc_notte_time(r->created),
                  "session_id", ag_str(data, K_SESSION),
                  "status", ag_states[r->state < AG_NSTATES ? r->state : AG_CLOSED],
                  "closed_at", ag_closed_at(r),
                  "saved", json_is_true(json_object_get(data, K_SAVED)));
    if (full) {
        json_object_set_new(o, "task", json_string(ag_str(data, K_TASK)));
        json_object_set_new(o, "url", ag_str_or_null(data, K_URL));
        json_object_set_new(o, "success", ag_success(r, data));
        json_object_set_new(o, "answer", ag_str_or_null(data, K_ANSWER));
        json_object_set_new(o, "steps", json_array());
    }
    json_decref(data);
    return o;
}

static json_t *ag_to_json(const lc_resource_t *r)
{
    return ag_json(r, 1);
}

static const char *const ag_fields[] = {
    "agent_id", "session_id", "status", "closed_at", "saved", "task", "url",
    "success", "answer", "steps", NULL
};

/* Copy body[name] into data[key] when it is a string (or null, if allowed). */
static int ag_put_str(json_t *body, const char *name, json_t *data, const char *key,
                      int required, int nullable)
{
    json_t *v = json_object_get(body, name);

    if (!v || json_is_null(v)) {
        return (v ? nullable : !required);
    }
    if (!json_is_string(v)) {
        return 0;
    }
    json_object_set(data, key, v);
    return 1;
}

static int ag_put_bool(json_t *body, const char *name, json_t *data, const char *key)
{
    json_t *v = json_object_get(body, name);

    if (json_is_boolean(v)) {
        json_object_set(data, key, v);
    }
    return !v || json_is_null(v) || json_is_boolean(v);
}

/* The closing time an admin PUT gives (the server keeps its own when null). */
static int ag_put_closed(json_t *body, lc_resource_t *r)
{
    json_t *v = json_object_get(body, "closed_at");

    if (!v || json_is_null(v)) {
        return 1;
    }
    return json_is_string(v) && lc_time_parse_rfc3339(json_string_value(v), &r->closed) == 0;
}

/* Fill data (and r->closed) from an AgentStatusResponse; the field that does
 * not fit, or NULL. */
static const char *ag_fill(json_t *body, lc_resource_t *r, json_t *data)
{
    json_t *id = json_object_get(body, "agent_id"), *steps = json_object_get(body, "steps");
    json_t *session = json_object_get(body, "session_id");
    const char *k;

    if ((k = lc_kind_unknown_field(body, ag_fields)) != NULL) {
        return k;
    }
    if (id && (!json_is_string(id) || strcmp(json_string_value(id), r->id) != 0)) {
        return "agent_id";
    }
    if (!json_is_string(session) || json_string_length(session) == 0) {
        return "session_id";
    }
    json_object_set(data, K_SESSION, session);
    if (!ag_put_str(body, "task", data, K_TASK, 1, 0)) return "task";
    if (!ag_put_str(body, "url", data, K_URL, 0, 1)) return "url";
    if (!ag_put_str(body, "answer", data, K_ANSWER, 0, 1)) return "answer";
    if (!ag_put_bool(body, "success", data, K_SUCCESS)) return "success";
    if (!ag_put_bool(body, "saved", data, K_SAVED)) return "saved";
    if (!ag_put_closed(body, r)) return "closed_at";
    if (steps && !json_is_array(steps)) return "steps";
    if (!json_is_true(json_object_get(data, K_SAVED))) {
        json_object_del(data, K_SAVED);
    }
    return NULL;
}

/* The admin PUT body: an AgentStatusResponse.  "steps" is accepted and not
 * kept (the record has no room for it): an agent always shows []. */
static apr_status_t ag_from_json(json_t *body, lc_resource_t *r, const char **field,
                                 apr_pool_t *p)
{
    json_t *data = json_object();
    int state = lc_kind_state(&lc_agent_kind, json_string_value(json_object_get(body, "status")));
    apr_status_t rv = APR_EINVAL;

    (void)p;
    if ((*field = ag_fill(body, r, data)) == NULL) {
        if (state < 0) {
            *field = "status";
        }
        else if ((rv = lc_kind_set_data(r, data)) != APR_SUCCESS) {
            *field = json_object_get(data, K_ANSWER) ? "answer" : "task";
        }
        r->state = (uint8_t)(state < 0 ? 0 : state);
    }
    json_decref(data);
    return rv;
}

const lc_kind_def_t lc_agent_kind = {
    LC_KIND_AGENT, "agent", ag_states, AG_NSTATES,
    ag_rules, ag_advances, ag_to_json, ag_from_json
};

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
    data = json_pack("{s:s, s:s}", K_SESSION, s, K_TASK, t);
    if (u) {
        json_object_set_new(data, K_URL, json_string(u));
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
        rv = lc_store_update(q->store, LC_KIND_AGENT, id, ag_start_cb, &b, after, q->r->pool);
    } while (rv == LC_EEXISTS && ++tries < 3);
    if (rv == APR_SUCCESS) {
        lc_audit_request(q->r, &q->actor, LC_KIND_AGENT, id, "-", ag_states[after->state]);
    }
    return rv;
}

static apr_status_t ag_close(lc_req_t *q, const char *id, const char *session,
                             lc_resource_t *after);

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
        json_decref(body);
        return rc;
    }
    session = apr_pstrdup(q->r->pool, json_string_value(json_object_get(body, "session_id")));
    json_decref(body);
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
        ag_close(q, after.id, session, &after);
    }
    lc_http_etag(q->r, after.version);
    return lc_http_json(q->r, HTTP_OK, ag_json(&after, 0));
}

/* ---- GET /{agent_id}, DELETE /{agent_id}/stop --------------------------------- */

static int ag_not_found(lc_req_t *q)
{
    return lc_notte_error(q, HTTP_NOT_FOUND, "not_found", "Agent not found");
}

static int ag_send(lc_req_t *q, const lc_resource_t *r)
{
    lc_http_etag(q->r, r->version);
    return lc_http_json(q->r, HTTP_OK, ag_json(r, 1));
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

/* Python's unquote_plus: '+' is a space, a %XX that is not one stays as it is. */
static char *ag_unquote(apr_pool_t *p, const char *s, size_t n, size_t *outlen)
{
    char *out = apr_palloc(p, n + 1);
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n
            && apr_isxdigit(s[i + 1]) && apr_isxdigit(s[i + 2])) {
            char hex[3] = { s[i + 1], s[i + 2], '\0' };
            out[o++] = (char)strtol(hex, NULL, 16);
            i += 2;
        }
        else {
            out[o++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

typedef struct ag_session {
    const char *value;     /* may hold NUL bytes: compared with its length */
    size_t      len;
} ag_session_t;

/* The last session_id in the query, as Starlette reads it; -1 when absent. */
static int ag_query_session(request_rec *r, ag_session_t *out)
{
    const char *a = r->args ? r->args : "";
    int found = -1;

    while (*a) {
        size_t n = strcspn(a, "&"), nlen, klen;
        const char *eq = memchr(a, '=', n);
        const char *name = ag_unquote(r->pool, a, eq ? (size_t)(eq - a) : n, &klen);

        if (n && strlen(name) == klen && strcmp(name, "session_id") == 0) {
            out->value = eq ? ag_unquote(r->pool, eq + 1, n - (size_t)(eq + 1 - a), &nlen) : "";
            out->len = eq ? nlen : 0;
            found = 0;
        }
        a += n + (a[n] == '&');
    }
    return found;
}

/* Store locked: the agent must belong to the session the client names. */
static apr_status_t ag_session_guard(const lc_resource_t *r, void *baton)
{
    const ag_session_t *s = baton;
    json_t *data = lc_kind_get_data(r);
    const char *mine = ag_str(data, K_SESSION);
    int same = strlen(mine) == s->len && memcmp(mine, s->value, s->len) == 0;

    json_decref(data);
    return same ? APR_SUCCESS : LC_ENOTFOUND;
}

/* session_id: required, at least one character; LC_PROCEED or the 422 sent. */
static int ag_stop_params(lc_req_t *q, ag_session_t *session)
{
    static const lc_notte_field_t field = { "query", "session_id", 1, 1, 1 << 20 };
    json_t *errors = json_array(), *v = NULL;

    if (ag_query_session(q->r, session) == 0) {
        v = json_stringn_nocheck(session->value, session->len);
    }
    lc_notte_check_str(errors, &field, v, NULL, q->r->pool);
    json_decref(v);
    if (json_array_size(errors) > 0) {
        return lc_notte_unprocessable(q, errors);
    }
    json_decref(errors);
    return LC_PROCEED;
}

static int ag_stop(lc_req_t *q, const char *id)
{
    lc_resource_t before, after;
    lc_precond_t if_match;
    ag_session_t session;
    lc_act_t act;
    apr_status_t rv;
    int rc, big;

    if ((rc = lc_http_refuse_body(q->r, &big)) != 0) {
        return lc_notte_error(q, rc, "invalid_request", big ? "The request body is too large"
                                                      : "This endpoint does not take a request body");
    }
    if ((rc = ag_stop_params(q, &session)) != LC_PROCEED) {
        return rc;
    }
    if (lc_precond_parse(apr_table_get(q->r->headers_in, "If-Match"), &if_match) != 0) {
        return lc_notte_error(q, HTTP_BAD_REQUEST, "invalid_request", "Malformed If-Match header");
    }
    if (!lc_id_valid(id)) {
        return ag_not_found(q);
    }
    lc_dialect_act_init(q, &lc_agent_kind, id, "stop", &if_match, &act);
    act.guard = ag_session_guard;
    act.guard_baton = &session;
    rv = lc_engine_act(q->store, &act, &before, &after);
    switch (rv) {
    case APR_SUCCESS:
        lc_audit_request(q->r, &q->actor, LC_KIND_AGENT, id, ag_states[before.state],
                         ag_states[after.state]);
        /* fall through */
    case LC_NOCHANGE:
        return ag_send(q, &after);
    case LC_ENOTFOUND:          /* unknown, or another session's */
    case LC_EFORBIDDEN:         /* another user's: as good as unknown to this one */
        return ag_not_found(q);
    case LC_EVERSION:
        lc_http_etag(q->r, after.version);
        return lc_notte_error(q, HTTP_PRECONDITION_FAILED, "precondition_failed",
                        "If-Match does not match the current version");
    default:
        return lc_dialect_store_failed(q, rv, "internal",
                        apr_psprintf(q->r->pool, "Failed to stop the agent: store error %d", rv));
    }
}

/* ---- closing a session's agents ------------------------------------------------ */

/* Close one agent of `session` (NOOP when it is closed already).  The
 * session's stop was authorized, so the owner check does not apply again. */
static apr_status_t ag_close(lc_req_t *q, const char *id, const char *session,
                             lc_resource_t *after)
{
    ag_session_t s = { session, strlen(session) };
    lc_resource_t before;
    lc_act_t act;
    apr_status_t rv;

    lc_dialect_act_init(q, &lc_agent_kind, id, "stop", NULL, &act);
    act.owner_check = 0;
    act.guard = ag_session_guard;
    act.guard_baton = &s;
    if ((rv = lc_engine_act(q->store, &act, &before, after)) == APR_SUCCESS) {
        lc_audit_request(q->r, &q->actor, LC_KIND_AGENT, id, ag_states[before.state],
                         ag_states[after->state]);
    }
    return rv;
}

/* The store has no index from a session to its agents: page through the
 * active agents (each page one scan of the store) and close those of the
 * session, each in its own update. */
int lc_notte_close_agents(lc_req_t *q, const char *session)
{
    enum { PAGE = 16 };            /* records are up to 16 KiB: a page from the pool */
    lc_resource_t *page = apr_palloc(q->r->pool, PAGE * sizeof(*page)), after;
    ag_session_t s = { session, strlen(session) };
    const char *from = NULL;
    int n, more, i, closed = 0;

    do {
        if (lc_store_list(q->store, LC_KIND_AGENT, AG_ACTIVE, from, PAGE, page, &n, &more, q->r->pool)
            != APR_SUCCESS) {
            return -1;
        }
        for (i = 0; i < n; i++) {
            if (ag_session_guard(&page[i], &s) == APR_SUCCESS
                && ag_close(q, page[i].id, session, &after) == APR_SUCCESS) {
                closed++;
            }
        }
        from = n > 0 ? apr_pstrdup(q->r->pool, page[n - 1].id) : from;
    } while (more && n > 0);
    return closed;
}

/* ---- routing ------------------------------------------------------------------ */

static int ag_handle(lc_req_t *q)
{
    int m = q->r->method_number;

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
    return lc_notte_error(q, HTTP_NOT_FOUND, "not_found", "Not Found");
}

/* One dialect, two collections: the Location whose path ends in
 * "sessions" serves sessions, any other agents (SPEC §1). */
static int notte_handle(lc_req_t *q)
{
    lc_notte_log_client(q->r);
    if (q->collection && strcmp(q->collection, "sessions") == 0) {
        return lc_notte_sessions(q);
    }
    return ag_handle(q);
}

static const lc_kind_def_t *const notte_more_kinds[] = { &lc_session_kind, NULL };

const lc_dialect_t lc_dialect_notte = {
    "notte", LC_KIND_AGENT, &lc_agent_kind, "agents.read", "agents.write", notte_handle,
    lc_notte_error, lc_notte_method_not_allowed, "GET, HEAD, POST, DELETE", notte_more_kinds
};
