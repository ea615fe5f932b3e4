/* lc_notte_link.c — how Notte's agents and sessions refer to each other:
 * an agent starts only in an open session, and stopping a session closes
 * its agents.  Both collections (lc_dialect_notte.c, lc_notte_session.c)
 * use this file and it uses neither, so neither depends on the other. */
#include <string.h>
#include <httpd.h>
#include <apr_strings.h>

#include "lc_notte.h"
#include "lc_engine.h"
#include "lc_http.h"
#include "lc_util.h"

/* ---- an agent and its session --------------------------------------------------- */

/* Store locked: the agent must belong to the session the client names. */
apr_status_t lc_notte_agent_in_session(const lc_resource_t *r, void *baton)
{
    const lc_notte_session_ref_t *s = baton;
    json_t *data = lc_kind_get_data(r);
    const char *mine = ag_str(data, AG_K_SESSION);
    int same = strlen(mine) == s->len && memcmp(mine, s->value, s->len) == 0;

    json_decref(data);
    return same ? APR_SUCCESS : LC_ENOTFOUND;
}

/* ---- what agents ask of sessions ------------------------------------------------ */

/* FastAPI path parameters are plain strings: one outside the id grammar is
 * a session that does not exist. */
apr_status_t lc_notte_session_get(lc_req_t *q, const char *id, lc_resource_t *r)
{
    return lc_id_valid(id) ? lc_store_get(q->store, LC_KIND_SESSION, id, r, q->r->pool)
                           : LC_ENOTFOUND;
}

int lc_notte_session_open(lc_req_t *q, const char *id)
{
    lc_resource_t s;
    lc_act_t act;
    apr_status_t rv = lc_notte_session_get(q, id, &s);

    lc_dialect_act_init(q, &lc_session_kind, id, "stop", NULL, &act);
    if (rv == LC_ENOTFOUND || (rv == APR_SUCCESS && !lc_engine_may_act(&act, &s))) {
        return lc_notte_error(q, HTTP_NOT_FOUND, "not_found", "Session not found");
    }
    if (rv != APR_SUCCESS) {
        return lc_dialect_store_failed(q, rv, "internal", "The store failed");
    }
    if (s.state != SS_ACTIVE) {
        return lc_notte_error(q, HTTP_BAD_REQUEST, "invalid_request", apr_psprintf(q->r->pool,
                              "Session %s is %s", id,
                              lc_session_kind.states[s.state < SS_NSTATES ? s.state : SS_CLOSED]));
    }
    return LC_PROCEED;
}

int lc_notte_session_active(lc_req_t *q, const char *id)
{
    lc_resource_t s;

    return lc_notte_session_get(q, id, &s) == APR_SUCCESS && s.state == SS_ACTIVE;
}

/* ---- closing a session's agents ------------------------------------------------ */

/* Close one agent of `session` (NOOP when it is closed already).  The
 * session's stop was authorized, so the owner check does not apply again. */
apr_status_t lc_notte_close_agent(lc_req_t *q, const char *id, const char *session,
                                  lc_resource_t *after)
{
    lc_notte_session_ref_t s = { session, strlen(session) };
    lc_resource_t before;
    lc_act_t act;

    lc_dialect_act_init(q, &lc_agent_kind, id, "stop", NULL, &act);
    act.owner_check = 0;
    act.guard = lc_notte_agent_in_session;
    act.guard_baton = &s;
    return lc_dialect_engine_act(q, &act, &before, after);
}

/* The store has no index from a session to its agents: page through the
 * active agents (each page one scan of the store) and close those of the
 * session, each in its own update. */
int lc_notte_close_agents(lc_req_t *q, const char *session)
{
    enum { PAGE = 16 };            /* records are up to 16 KiB: a page from the pool */
    lc_resource_t *page = apr_palloc(q->r->pool, PAGE * sizeof(*page)), after;
    lc_notte_session_ref_t s = { session, strlen(session) };
    const char *from = NULL;
    int n, more, i, closed = 0;

    do {
        if (lc_store_list(q->store, LC_KIND_AGENT, AG_ACTIVE, from, PAGE, page, &n, &more, q->r->pool)
            != APR_SUCCESS) {
            return -1;
        }
        for (i = 0; i < n; i++) {
            if (lc_notte_agent_in_session(&page[i], &s) == APR_SUCCESS
                && lc_notte_close_agent(q, page[i].id, session, &after) == APR_SUCCESS) {
                closed++;
            }
        }
        from = n > 0 ? apr_pstrdup(q->r->pool, page[n - 1].id) : from;
    } while (more && n > 0);
    return closed;
}

