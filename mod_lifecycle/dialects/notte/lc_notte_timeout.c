/* lc_notte_timeout.c — a Notte session's max_duration_minutes and
 * idle_timeout_minutes (SessionStartRequest, the SDK's types.py), enforced
 * by the background task on either store.
 *
 * A session's deadline is its record's own due time (LC_TIMEOUT_OWN in the
 * session kind's table, queued as LC_DUE_TIMEOUT): the request path sets it
 * (lc_notte_session_clock), the background task (lc_watchdog.c) takes it
 * off the due queue when it passes, exactly once across every child and
 * every host (the store's take_due), and moves the session active ->
 * timed_out, as the SDK models a session that timed out (status
 * "timed_out", closed_at set).  The host that moved it then closes the
 * session's active agents (lc_notte_session_timed_out), in the same tick,
 * right after; a later stop of the session sweeps again, should that host die
 * halfway, and answers 409 "already stopped" (lc_notte_session.c), which
 * the SDK's `with` block tolerates.
 *
 * The deadline is the earlier of
 *   - created + max_duration_minutes, and
 *   - the last activity + idle_timeout_minutes, while no agent runs.
 * Activity is what a client does with the session through this API, with
 * no browser here to watch: starting the session, starting an agent in it
 * (the agent is using the session: the idle clock stops until the agent is
 * stopped, so a long run is bounded by max_duration_minutes only) and
 * stopping one of its agents (the idle clock starts again from then).
 * Reads (GET of the session, of its agents, lists) are not activity: they
 * would make every read a write, and a client polling a forgotten session
 * would keep it alive forever.  An agent closed by a runner's report, not a
 * request, does not restart the clock: its session then ends at its max
 * duration at the latest.  A stop of one of two running agents restarts the
 * clock too (the store keeps no count of a session's running agents).
 * Activity moves the session's last_accessed_at, so its version (ETag): an
 * If-Match taken before an agent started no longer matches.
 * A session created through the admin API has no deadline.
 *
 * A minute lasts LifecycleNotteMinute (default 60 s): the SDK accepts whole
 * minutes only, so tests shorten the minute (t/notte_timeout.t), never the
 * clock.  The deadline is absolute in the record, so every host enforces
 * the same one whatever its own LifecycleNotteMinute.
 */
#include <string.h>
#include <httpd.h>
#include <apr_strings.h>

#include "lc_notte.h"
#include "lc_notte_timeout.h"
#include "lc_audit.h"
#include "lc_config.h"
#include "lc_util.h"

/* ---- the request path: activity ------------------------------------------------ */

typedef struct touch_baton {
    apr_time_t          now;
    apr_interval_time_t minute;
    int                 busy;
} touch_baton_t;

/* Store locked: move the active session's deadline; no change otherwise. */
static apr_status_t touch_cb(lc_resource_t *r, int exists, void *baton)
{
    const touch_baton_t *b = baton;

    if (!exists) {
        return LC_ENOTFOUND;
    }
    if (!lc_notte_session_clock(r, b->now, b->minute, b->busy)) {
        return LC_NOCHANGE;
    }
    r->op = LC_OP_REPORT;        /* no transition: the feed's runner starts nothing */
    return APR_SUCCESS;
}

apr_interval_time_t lc_notte_minute(const lc_req_t *q)
{
    return q->sc->notte_minute > 0 ? q->sc->notte_minute : LC_NOTTE_MINUTE_DEFAULT;
}

/* Not audited: the session's state does not change (only transitions
 * are audited).  A failure leaves the deadline where it was, which the
 * answer of the request that caused it does not depend on. */
void lc_notte_session_touch(lc_req_t *q, const char *id, int busy)
{
    touch_baton_t b = { q->now, lc_notte_minute(q), busy };

    if (lc_id_valid(id)) {
        lc_store_update(q->store, LC_KIND_SESSION, id, touch_cb, &b, NULL, q->r->pool);
    }
}

/* ---- the background task: a session that timed out ------------------------------ */

static apr_status_t close_one(lc_store_t *st, server_rec *s, const char *agent,
                              lc_notte_session_ref_t *session, apr_pool_t *p)
{
    lc_resource_t before, after;
    lc_act_t act = { .def = &lc_agent_kind, .id = agent, .action = "stop",
                     .now = apr_time_now(), .advance_after = lc_config_global(s)->auto_advance,
                     .guard = lc_notte_agent_in_session, .guard_baton = session, .pool = p };
    apr_status_t rv = lc_engine_act(st, &act, &before, &after);

    if (rv == APR_SUCCESS) {
        lc_audit_background(p, s, LC_KIND_AGENT, agent,
                            lc_kind_state_name(&lc_agent_kind, before.state),
                            lc_kind_state_name(&lc_agent_kind, after.state), "timeout");
    }
    return rv;
}

void lc_notte_session_timed_out(lc_store_t *st, server_rec *s, const char *id, apr_pool_t *p)
{
    enum { PAGE = 16 };
    lc_resource_t *page = apr_palloc(p, PAGE * sizeof(*page));
    lc_notte_session_ref_t session = { id, strlen(id) };
    const char *from = NULL;
    int n, more, i;

    do {
        if (lc_store_list(st, LC_KIND_AGENT, AG_ACTIVE, from, PAGE, page, &n, &more, p)
            != APR_SUCCESS) {
            return;        /* a later stop of the session sweeps again */
        }
        for (i = 0; i < n; i++) {
            if (lc_notte_agent_in_session(&page[i], &session) == APR_SUCCESS) {
                close_one(st, s, page[i].id, &session, p);
            }
        }
        from = n > 0 ? apr_pstrdup(p, page[n - 1].id) : from;
    } while (more && n > 0);
}
