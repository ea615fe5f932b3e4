/* lc_notte.h — what the Notte dialect's files share.
 *
 *   lc_notte_fastapi.c   FastAPI's errors: the JSON body as FastAPI decodes
 *                        it, its 422 answer
 *   lc_json_pyerr.c      Python's json errors (position, message) for the
 *                        json_invalid 422
 *   lc_notte_pydantic.c  pydantic's error entries and field checks, and its
 *                        datetime (pure: lc_notte_pydantic.h)
 *   lc_dialect_notte.c   /agents, and the routing of both collections
 *   lc_notte_session.c   /sessions
 *   lc_notte_list.c      GET /agents/ and GET /sessions/ (the SDK's list())
 *   lc_notte_health.c    /health (the SDK's health_check(), served without a token)
 *   lc_notte_timeout.c   a session's max_duration_minutes and idle_timeout_minutes
 *   lc_kind_notte.c      the agent kind, and lc_kind_notte_session.c the
 *                        session kind (pure, both: lc_kind_notte.h)
 */
#ifndef LC_NOTTE_H
#define LC_NOTTE_H

#include "lc_dialect_act.h"
#include "lc_time.h"          /* the Notte files read and write RFC 3339 times */
#include "lc_notte_pydantic.h"
#include "lc_kind_notte.h"

/* ---- FastAPI's answers -------------------------------------------------------- */

/* {"detail": message} with that status. */
int lc_notte_error(lc_req_t *q, int status, const char *code, const char *message);

/* 422 {"detail": errors} (errors consumed). */
int lc_notte_unprocessable(lc_req_t *q, json_t *errors);

/* The request body as FastAPI decodes it: LC_PROCEED with *out an object
 * (the request pool's: not released by the caller), or the error (400, 422)
 * already sent. */
int lc_notte_read_object(lc_req_t *q, json_t **out);

/* ---- shared by both collections ----------------------------------------------- */

/* A string as a client sent it, e.g. a session id (may hold NUL bytes:
 * compared by length). */
typedef struct lc_notte_session_ref {
    const char *value;
    size_t      len;
} lc_notte_session_ref_t;

/* The last value of query parameter `name`, as Starlette reads the query
 * (unquote_plus, the last of repeated names): 0 with *out, -1 when absent. */
int lc_notte_query(request_rec *r, const char *name, lc_notte_session_ref_t *out);

/* The required query parameter session_id (at least one character), read
 * as lc_notte_query reads it: LC_PROCEED with *session, or FastAPI's 422
 * sent.  An agent's stop and its watcher take it alike. */
int lc_notte_session_param(lc_req_t *q, lc_notte_session_ref_t *session);

/* Accepted, never required: the SDK's headers, logged at debug. */
void lc_notte_log_client(request_rec *r);

int lc_notte_method_not_allowed(lc_req_t *q, const char *allow);

/* ---- lists (lc_notte_list.c) ---------------------------------------------------- */

/* GET / of either collection: the SDK's AgentsClient.list(), SessionsClient.list(). */
int lc_notte_list_agents(lc_req_t *q);
int lc_notte_list_sessions(lc_req_t *q);

/* ---- /health (lc_notte_health.c) ----------------------------------------------- */

/* Whether the request is for the /health collection (served without a token). */
int lc_notte_health_open(const lc_req_t *q);
int lc_notte_health(lc_req_t *q);

/* ---- a session's timeouts (lc_notte_timeout.c) --------------------------------- */

/* The length of a minute of the sessions' timeouts (LifecycleNotteMinute). */
apr_interval_time_t lc_notte_minute(const lc_req_t *q);

/* Activity on session `id`: its idle clock starts again from now, or, when
 * `busy` (an agent of it started), stops until the next activity. */
void lc_notte_session_touch(lc_req_t *q, const char *id, int busy);

/* ---- sessions (lc_notte_session.c) -------------------------------------------- */

/* /sessions: POST /start, GET /{session_id}, DELETE /{session_id}/stop. */
int lc_notte_sessions(lc_req_t *q);

/* ---- the agent's WebSocket watcher (lc_notte_watch.c) ------------------------ */

/* GET /{agent_id}/debug/logs: the SDK's watch_logs() WebSocket. */
int lc_notte_watch(lc_req_t *q, const char *id);

/* Its token in the query string (lc_notte_watch_token.c): redacted from
 * what httpd logs, accepted on that route only. */
void lc_notte_watch_register_hooks(apr_pool_t *p);

/* ---- an agent and its session (lc_notte_link.c) ------------------------------ */

/* Session `id` (LC_ENOTFOUND when the id is outside the id grammar). */
apr_status_t lc_notte_session_get(lc_req_t *q, const char *id, lc_resource_t *r);

/* May an agent start in session `id`?  LC_PROCEED, or the 404 / 400 sent. */
int lc_notte_session_open(lc_req_t *q, const char *id);

/* Whether session `id` is active now (the agent start's re-check). */
int lc_notte_session_active(lc_req_t *q, const char *id);

/* An lc_act_t guard, store locked: the agent belongs to the session
 * (an lc_notte_session_ref_t *) the client names; LC_ENOTFOUND if not. */
apr_status_t lc_notte_agent_in_session(const lc_resource_t *r, void *baton);

/* Close one agent of `session` (NOOP when closed already), audited. */
apr_status_t lc_notte_close_agent(lc_req_t *q, const char *id, const char *session,
                                  lc_resource_t *after);

/* Close every active agent of session `id`, each in its own store update;
 * returns how many it closed, or -1 when the store failed. */
int lc_notte_close_agents(lc_req_t *q, const char *id);

#endif
