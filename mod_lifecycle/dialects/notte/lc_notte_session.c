/* lc_notte_session.c — Notte sessions, at /sessions.
 *
 *   POST   /start                   a new session, active -> SessionResponse
 *   GET    /{session_id}            SessionResponse
 *   DELETE /{session_id}/stop       active -> closed, and its agents closed -> SessionResponse
 *                                   (timed out already: 409 "already stopped", lc_notte_timeout.c)
 *   GET    /                        the sessions, paged (lc_notte_list.c)
 *   GET    /{session_id}/replay     501: nothing is recorded here (and /offset)
 *
 * Shapes are the official SDK's (packages/notte-sdk/src/notte_sdk/types.py:
 * SessionStartRequest, SessionResponse; endpoints/sessions.py: the routes).
 * A session runs no browser here: it is the lifecycle record agents belong
 * to.  What the SDK sends that a browser would use (proxies, chrome_args,
 * profile, ...) is accepted; what SessionResponse echoes is kept.  The
 * kind (states, rules, SessionResponse, the request's validation) is
 * lc_kind_notte_session.c.
 */
#include <string.h>
#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "lc_notte.h"
#include "lc_engine.h"
#include "lc_http.h"
#include "lc_util.h"

/* ---- POST /start ------------------------------------------------------------- */

typedef struct ss_start_baton {
    const lc_req_t      *q;
    const lc_resource_t *tmpl;
} ss_start_baton_t;

/* Store locked: a new session, never an existing one. */
static apr_status_t ss_start_cb(lc_resource_t *r, int exists, void *baton)
{
    const ss_start_baton_t *b = baton;

    if (exists) {
        return LC_EEXISTS;
    }
    r->state = SS_ACTIVE;
    r->created = r->state_since = b->q->now;
    apr_cpystrn(r->owner, strcmp(b->q->actor.sub, "-") ? b->q->actor.sub : "", sizeof(r->owner));
    apr_cpystrn(r->data, b->tmpl->data, sizeof(r->data));
    /* Its timeouts run from now (lc_notte_timeout.c). */
    lc_notte_session_clock(r, b->q->now, lc_notte_minute(b->q), 0);
    return APR_SUCCESS;
}

/* The attributes of a valid body in tmpl; LC_PROCEED, or the 422 sent. */
static int ss_start_attrs(lc_req_t *q, json_t *body, lc_resource_t *tmpl)
{
    json_t *errors = json_array();
    json_t *data = lc_notte_session_attrs(errors, body, q->r->pool);
    apr_status_t rv = APR_SUCCESS;

    if (json_array_size(errors) == 0 && (rv = lc_kind_set_data(tmpl, data)) != APR_SUCCESS) {
        /* Valid, but user_agent and cdp_url overflow the record. */
        lc_notte_err(errors, "value_error", "body", NULL, apr_psprintf(q->r->pool,
                     "Value error, the session's settings take more than %d bytes", LC_DATA_MAX),
                     json_incref(body), json_pack("{s:{}}", "error"));
    }
    json_decref(data);
    if (json_array_size(errors) > 0) {
        return lc_notte_unprocessable(q, errors);
    }
    json_decref(errors);
    return LC_PROCEED;
}

static int ss_send(lc_req_t *q, const lc_resource_t *r)
{
    lc_http_etag(q->r, r->version);
    return lc_http_json(q->r, HTTP_OK, lc_session_kind.to_json(r));
}

static int ss_start(lc_req_t *q)
{
    lc_resource_t tmpl, after;
    ss_start_baton_t baton = { q, &tmpl };
    json_t *body = NULL;
    char id[37];
    apr_status_t rv;
    int rc, tries = 0;

    lc_resource_clear(&tmpl);
    if ((rc = lc_notte_read_object(q, &body)) != LC_PROCEED
        || (rc = ss_start_attrs(q, body, &tmpl)) != LC_PROCEED) {
        return rc;
    }
    do {                                    /* a UUID collision: draw again */
        lc_uuid4(id);
        rv = lc_dialect_update(q, &lc_session_kind, id, ss_start_cb, &baton, NULL, &after);
    } while (rv == LC_EEXISTS && ++tries < 3);
    if (rv == LC_EFULL) {
        return lc_notte_error(q, HTTP_INSUFFICIENT_STORAGE, "insufficient_storage",
                              "Insufficient storage: no room for another session");
    }
    if (rv != APR_SUCCESS) {
        return lc_dialect_store_failed(q, rv, "internal", apr_psprintf(q->r->pool,
                              "Failed to start the session: store error %d", rv));
    }
    return ss_send(q, &after);
}

/* ---- GET /{session_id}, DELETE /{session_id}/stop ------------------------------- */

static int ss_not_found(lc_req_t *q)
{
    return lc_notte_error(q, HTTP_NOT_FOUND, "not_found", "Session not found");
}

static int ss_status(lc_req_t *q, const char *id)
{
    lc_resource_t r;
    apr_status_t rv = lc_notte_session_get(q, id, &r);

    if (rv == LC_ENOTFOUND) {
        return ss_not_found(q);
    }
    if (rv != APR_SUCCESS) {
        return lc_dialect_store_failed(q, rv, "internal", "The store failed");
    }
    return ss_send(q, &r);
}

/* The session is closed (now or before): close its agents, then answer it.
 * Sweeping again on a stop of a closed (or timed-out) session finishes a
 * sweep that an earlier stop, or the host that timed it out, could not (a
 * child killed halfway). */
static int ss_closed(lc_req_t *q, const lc_resource_t *s)
{
    if ((s->state == SS_CLOSED || s->state == SS_TIMED_OUT)
        && lc_notte_close_agents(q, s->id) < 0) {
        return lc_notte_error(q, HTTP_INTERNAL_SERVER_ERROR, "internal",
                              "The session is closed, but closing its agents failed; stop it again");
    }
    if (s->state == SS_TIMED_OUT) {
        /* SessionsClient.stop raises unless the answer says "closed"; the
         * SDK's `with` block (RemoteSession.stop, endpoints/sessions.py)
         * tolerates only an error saying the session is "already stopped". */
        lc_http_etag(q->r, s->version);
        return lc_notte_error(q, HTTP_CONFLICT, "conflict", apr_psprintf(q->r->pool,
                              "Session %s already stopped: it timed out "
                              "(max_duration_minutes or idle_timeout_minutes passed)", s->id));
    }
    return ss_send(q, s);
}

/* What a stop that did not happen answers. */
static const lc_act_refusals_t ss_refusals = {{
    [LC_ACT_MALFORMED] = { HTTP_BAD_REQUEST, "invalid_request", "Malformed If-Match header" },
    [LC_ACT_NOTFOUND]  = { HTTP_NOT_FOUND, "not_found", "Session not found" },
    /* Another user's: as good as unknown to this one. */
    [LC_ACT_FORBIDDEN] = { HTTP_NOT_FOUND, "not_found", "Session not found" },
    [LC_ACT_VERSION]   = { HTTP_PRECONDITION_FAILED, "precondition_failed",
                           "If-Match does not match the current version", 1 },
    [LC_ACT_FAILED]    = { HTTP_INTERNAL_SERVER_ERROR, "internal",
                           "Failed to stop the session: store error {rv}" }
}};

/* After If-Match: an id outside the grammar is a session that does not exist. */
static int ss_stop_prepare(lc_req_t *q, lc_dialect_call_t *c)
{
    return lc_id_valid(c->id) ? LC_PROCEED : ss_not_found(q);
}

/* Closed now, or already: its agents are closed too. */
static int ss_stopped(lc_req_t *q, const lc_dialect_call_t *c, const lc_resource_t *before,
                      const lc_resource_t *after)
{
    (void)c;
    (void)before;
    return ss_closed(q, after);
}

static int ss_stop(lc_req_t *q, const char *id)
{
    lc_dialect_call_t c = { .def = &lc_session_kind, .id = id, .action = "stop",
                            .refusals = &ss_refusals, .answer = ss_stopped, .prepare = ss_stop_prepare };
    int rc, big;

    if ((rc = lc_http_refuse_body(q->r, &big)) != 0) {
        return lc_notte_error(q, rc, "invalid_request",
                              big ? "The request body is too large"
                                  : "This endpoint does not take a request body");
    }
    /* First the session, atomically: from here no agent can join it. */
    return lc_dialect_act(q, &c);
}

/* ---- GET /{session_id}/replay, GET /{session_id}/offset ----------------------- */

/* No browser runs here, so nothing is recorded: a session has no replay and
 * no trajectory offset, now or later.  The SDK's replay() polls for up to
 * 240 s while the answer is 404 (endpoints/sessions.py, SessionsClient.
 * replay) and raises at once on any other status; offset() raises on any
 * non-200.  So a session that exists answers 501 at once, saying why; an
 * unknown one is 404 "Session not found", as every route of a session. */
static int ss_no_recording(lc_req_t *q, const char *id, const char *what)
{
    lc_resource_t r;
    apr_status_t rv = lc_notte_session_get(q, id, &r);
    int rc, big;

    if ((rc = lc_http_refuse_body(q->r, &big)) != 0) {
        return lc_notte_error(q, rc, "invalid_request", big ? "The request body is too large"
                                                      : "This endpoint does not take a request body");
    }
    if (rv == LC_ENOTFOUND) {
        return ss_not_found(q);
    }
    if (rv != APR_SUCCESS) {
        return lc_dialect_store_failed(q, rv, "internal", "The store failed");
    }
    return lc_notte_error(q, HTTP_NOT_IMPLEMENTED, "not_implemented", apr_psprintf(q->r->pool,
                          "Session %s has no %s: this server runs no browser and records "
                          "no session, so no replay or offset will ever exist", id, what));
}

/* ---- routing ------------------------------------------------------------------ */

int lc_notte_sessions(lc_req_t *q)
{
    int m = q->r->method_number;

    /* GET /sessions/ (the SDK's list(); /sessions too). */
    if (q->nseg == 0) {
        return m == M_GET ? lc_notte_list_sessions(q) : lc_notte_method_not_allowed(q, "GET, HEAD");
    }
    /* GET /start is GET /{session_id} with the id "start", as in FastAPI. */
    if (q->nseg == 1 && strcmp(q->seg[0], "start") == 0 && m != M_GET) {
        return m == M_POST ? ss_start(q) : lc_notte_method_not_allowed(q, "GET, HEAD, POST");
    }
    if (q->nseg == 1 && q->seg[0][0]) {
        return m == M_GET ? ss_status(q, q->seg[0]) : lc_notte_method_not_allowed(q, "GET, HEAD");
    }
    if (q->nseg == 2 && q->seg[0][0] && strcmp(q->seg[1], "stop") == 0) {
        return m == M_DELETE ? ss_stop(q, q->seg[0]) : lc_notte_method_not_allowed(q, "DELETE");
    }
    if (q->nseg == 2 && q->seg[0][0]
        && (strcmp(q->seg[1], "replay") == 0 || strcmp(q->seg[1], "offset") == 0)) {
        return m == M_GET ? ss_no_recording(q, q->seg[0], q->seg[1][0] == 'r' ? "replay" : "offset")
                          : lc_notte_method_not_allowed(q, "GET, HEAD");
    }
    return lc_notte_error(q, HTTP_NOT_FOUND, "not_found", "Not Found");
}
