/* lc_notte.h — what the Notte dialect's files share (SPEC §4.3).
 *
 *   lc_notte_fastapi.c   FastAPI's and pydantic's errors: the JSON body as
 *                        FastAPI decodes it, the 422 entries field by field
 *   lc_json_pyerr.c      Python's json errors (position, message) for the
 *                        json_invalid 422
 *   lc_dialect_notte.c   the agent kind, /agents, and the routing of both
 *                        collections
 *   lc_notte_session.c   the session kind and /sessions
 */
#ifndef LC_NOTTE_H
#define LC_NOTTE_H

#include "lc_dialect_act.h"
#include "lc_time.h"          /* the Notte files read and write RFC 3339 times */

/* ---- FastAPI's answers -------------------------------------------------------- */

/* {"detail": message} with that status. */
int lc_notte_error(lc_req_t *q, int status, const char *code, const char *message);

/* 422 {"detail": errors} (errors consumed). */
int lc_notte_unprocessable(lc_req_t *q, json_t *errors);

/* Append one pydantic error entry; `input` and `ctx` (may be NULL) are
 * consumed.  field NULL: the location is just [where]. */
void lc_notte_err(json_t *errors, const char *type, const char *where, const char *field,
                  const char *msg, json_t *input, json_t *ctx);

/* The request body as FastAPI decodes it: LC_PROCEED with *out an object
 * (the request pool's: not released by the caller), or the error (400, 422)
 * already sent. */
int lc_notte_read_object(lc_req_t *q, json_t **out);

/* ---- pydantic's checks of one field (each appends its errors) ----------------- */

/* A str field (nullable when optional), its length in characters within
 * [min, max].  `whole` is the input pydantic reports for a missing field
 * (the body object; NULL for a query parameter, which reports null). */
typedef struct lc_notte_field {
    const char *where, *name;
    int         required;
    long        min, max;
} lc_notte_field_t;

const char *lc_notte_check_str(json_t *errors, const lc_notte_field_t *f, json_t *v,
                               json_t *whole, apr_pool_t *p);

/* An optional int in lax mode ("7", true, 5.0 pass); `gt` set: the lower
 * bound is exclusive (pydantic's gt=) rather than ge=.  Returns 1 and *out
 * when v is present and valid, 0 otherwise. */
typedef struct lc_notte_int {
    const char *name;
    long        min, max;
    int         gt;
    int         nullable;
} lc_notte_int_t;

int lc_notte_check_int(json_t *errors, const lc_notte_int_t *f, json_t *v, long *out);

/* An optional bool in lax mode (true/false, 0/1, "yes", "off", ...): 1 and
 * *out when present and valid. */
int lc_notte_check_bool(json_t *errors, const char *name, json_t *v, int *out);

/* ---- shared by both collections ----------------------------------------------- */

/* RFC 3339 UTC with microseconds, as pydantic writes an aware datetime
 * (lc_time_rfc3339_usec). */
json_t *lc_notte_time(apr_time_t t);

/* Accepted, never required: the SDK's headers, logged at debug. */
void lc_notte_log_client(request_rec *r);

int lc_notte_method_not_allowed(lc_req_t *q, const char *allow);

/* ---- sessions (lc_notte_session.c) -------------------------------------------- */

extern const lc_kind_def_t lc_session_kind;

/* /sessions: POST /start, GET /{session_id}, DELETE /{session_id}/stop. */
int lc_notte_sessions(lc_req_t *q);

/* May an agent start in session `id`?  LC_PROCEED, or the 404 / 400 sent. */
int lc_notte_session_open(lc_req_t *q, const char *id);

/* Whether session `id` is active now (the agent start's re-check). */
int lc_notte_session_active(lc_req_t *q, const char *id);

/* ---- agents (lc_dialect_notte.c) ---------------------------------------------- */

/* Close every active agent of session `id`, each in its own store update;
 * returns how many it closed, or -1 when the store failed. */
int lc_notte_close_agents(lc_req_t *q, const char *id);

#endif
