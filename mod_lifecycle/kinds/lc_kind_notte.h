/* lc_kind_notte.h — what the Notte dialect's files need of its two kinds,
 * agents (lc_kind_notte.c) and sessions (lc_kind_notte_session.c). */
#ifndef LC_KIND_NOTTE_H
#define LC_KIND_NOTTE_H

#include <apr_pools.h>
#include "lc_kind.h"

/* ---- agents --------------------------------------------------------------------- */

enum { AG_ACTIVE, AG_CLOSED, AG_NSTATES };

/* Attribute keys in r->data that POST /agents/start sets. */
#define AG_K_SESSION "s"
#define AG_K_TASK    "t"
#define AG_K_URL     "u"
/* What a runner reports (the kind's report hook, lc_kind_notte.c): the
 * outcome, the answer, the steps kept (oldest dropped first when 16 KiB
 * would overflow) and how many steps were ever reported (a step's number is
 * its place in that count). */
#define AG_K_SUCCESS "ok"
#define AG_K_ANSWER  "a"
#define AG_K_STEPS   "st"
#define AG_K_NSTEPS  "sn"

extern const lc_kind_def_t lc_agent_kind;

/* AgentResponse (full 0: POST /start) or AgentStatusResponse (full 1:
 * everything else), fields in the schema's order. */
json_t *lc_notte_agent_json(const lc_resource_t *r, int full);

/* Whether v is a step as the SDK's watcher parses it (AgentCompletion: an
 * object with a "state" object and an "action" object). */
int lc_notte_step_valid(json_t *v);

/* Store data in r, dropping its oldest steps until it fits the 16 KiB of
 * attributes (the newest always stays): APR_SUCCESS, or APR_ENOSPC when it
 * does not fit even with the newest step alone. */
apr_status_t lc_notte_agent_fit(lc_resource_t *r, json_t *data);

/* The steps r keeps (a new reference, an array) and the number of the
 * first of them (0-based, in the count of every step ever reported). */
json_t *lc_notte_agent_steps(const lc_resource_t *r, uint64_t *first);

/* data[key] when it is a string, else "". */
static inline const char *ag_str(json_t *data, const char *key)
{
    const char *s = json_string_value(json_object_get(data, key));

    return s ? s : "";
}

/* ---- sessions ------------------------------------------------------------------- */

/* SessionResponse.status: Literal["active", "closed", "error", "timed_out"]. */
enum { SS_ACTIVE, SS_CLOSED, SS_ERROR, SS_TIMED_OUT, SS_NSTATES };

extern const lc_kind_def_t lc_session_kind;

/* Validate a SessionStartRequest into the attributes to keep, appending
 * pydantic's errors; the attributes (also when errors were found). */
json_t *lc_notte_session_attrs(json_t *errors, json_t *body, apr_pool_t *p);

/* When an active session times out (its own LC_TIMEOUT_OWN deadline, which
 * the background task enforces): queue r->due at the earlier of its
 * max_duration_minutes after its creation and, unless `busy` (an agent of
 * it is running), its idle_timeout_minutes after `now`; a minute lasts
 * `minute` (LifecycleNotteMinute); last_accessed_at becomes `now`.
 * Returns whether r changed.  A session no longer active is left as it is. */
int lc_notte_session_clock(lc_resource_t *r, apr_time_t now, apr_interval_time_t minute,
                           int busy);

#endif
