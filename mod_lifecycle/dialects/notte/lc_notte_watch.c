/* lc_notte_watch.c — GET /agents/{agent_id}/debug/logs?token=...&session_id=...
 * — the WebSocket the Notte SDK's watch_logs() reads during
 * agent.run().
 *
 * Before the upgrade, every refusal is an HTTP answer in FastAPI's shape:
 * 401/403 (lc_handler, the token from the query: lc_notte_watch_token.c),
 * 422 without session_id, 404 {"detail":"Agent not found"} for an unknown
 * agent or another session's, 426/400 for a request that is no WebSocket
 * upgrade, 503 with Retry-After over LifecycleWatchersPerChild.  Then, one
 * text message per step the runner reported (the step as reported: the
 * SDK's AgentCompletion), in order, each once; then, once the agent is no
 * longer active, the SDK's termination message {"status":"agent_stop",
 * "agent": AgentStatusResponse} (what _process_ws_message returns from), and
 * a close 1000.  A stop or graceful restart of the server closes with 1001.
 *
 * New steps are found by looking at the agent every WATCH_TICK (a store read:
 * shared memory or one SELECT), in between answering the client's pings
 * (the SDK pings every 5 s, wants the pong within 40 s).  Each watcher holds
 * its worker thread (lc_ws_conn.h says why); steps dropped from the record
 * (the agent kind keeps the newest within 16 KiB) before a watcher
 * saw them are skipped, never sent twice or out of order.
 */
#include <string.h>
#include <httpd.h>
#include <http_log.h>
#include <http_protocol.h>
#include <ap_mpm.h>
#include <apr_atomic.h>
#include <apr_strings.h>

#include "lc_notte.h"
#include "lc_audit.h"
#include "lc_http.h"
#include "lc_metrics.h"
#include "lc_stopping.h"
#include "lc_util.h"
#include "lc_ws_conn.h"
#include "lc_log.h"

APLOG_USE_MODULE(lifecycle);

#define WATCH_TICK   apr_time_from_msec(150)   /* how often the agent is looked at */
#define WATCH_LINGER apr_time_from_sec(2)      /* for the client's close frame */
#define WATCH_RETRY  "5"                        /* Retry-After over the bound, seconds */

/* Watchers this child serves now (LifecycleWatchersPerChild bounds it). */
static apr_uint32_t open_here;

/* The bound: the directive's, else half the child's threads (at least 1),
 * so that short requests keep threads of their own. */
static apr_uint32_t watch_bound(const lc_server_conf_t *sc)
{
    int threads = 1;

    if (sc->watchers_per_child > 0) {
        return (apr_uint32_t)sc->watchers_per_child;
    }
    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS || threads < 2) {
        return 1;
    }
    return (apr_uint32_t)(threads / 2);
}

/* Take a place under the bound; 0 when there is none. */
static int watch_enter(apr_uint32_t bound)
{
    apr_uint32_t n;

    do {
        if ((n = apr_atomic_read32(&open_here)) >= bound) {
            return 0;
        }
    } while (apr_atomic_cas32(&open_here, n + 1, n) != n);
    lc_metrics_watchers(1);
    return 1;
}

static apr_status_t watch_leave(void *unused)
{
    (void)unused;
    apr_atomic_dec32(&open_here);
    lc_metrics_watchers(-1);
    return APR_SUCCESS;
}

/* The agent, when it is this session's; LC_PROCEED or the answer sent. */
static int watch_agent(lc_req_t *q, const char *id, lc_notte_session_ref_t *s, lc_resource_t *r)
{
    apr_status_t rv = lc_id_valid(id) ? lc_store_get(q->store, LC_KIND_AGENT, id, r, q->r->pool)
                                      : LC_ENOTFOUND;

    if (rv == APR_SUCCESS && lc_notte_agent_in_session(r, s) != APR_SUCCESS) {
        rv = LC_ENOTFOUND;
    }
    if (rv == LC_ENOTFOUND) {
        return lc_notte_error(q, HTTP_NOT_FOUND, "not_found", "Agent not found");
    }
    if (rv != APR_SUCCESS) {
        return lc_dialect_store_failed(q, rv, "internal", "The store failed");
    }
    return LC_PROCEED;
}

/* ---- the watcher ---------------------------------------------------------------- */

typedef struct watcher {
    lc_req_t      *q;
    lc_ws_conn_t  *ws;
    const char    *id;
    lc_resource_t *res;          /* the agent as last read */
    uint64_t       next;         /* number of the next step to send */
    uint64_t       version;      /* of the agent when last sent from */
} watcher_t;

static apr_status_t send_json(watcher_t *w, json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT);
    apr_status_t rv = text ? lc_ws_conn_text(w->ws, text, strlen(text)) : APR_ENOMEM;

    free(text);
    json_decref(j);
    return rv;
}

/* The steps of w->res not sent yet, in order. */
static apr_status_t send_steps(watcher_t *w)
{
    uint64_t first, i;
    json_t *steps = lc_notte_agent_steps(w->res, &first);
    size_t n = json_array_size(steps);
    apr_status_t rv = APR_SUCCESS;

    for (i = w->next > first ? w->next : first; i < first + n && rv == APR_SUCCESS; i++) {
        rv = send_json(w, json_incref(json_array_get(steps, (size_t)(i - first))));
        w->next = i + 1;
    }
    json_decref(steps);
    return rv;
}

/* The SDK's termination message: its AgentStatusResponse under "agent". */
static apr_status_t send_final(watcher_t *w)
{
    return send_json(w, json_pack("{s:s, s:o}", "status", "agent_stop",
                                  "agent", lc_notte_agent_json(w->res, 1)));
}

/* One look at the agent: 0 to go on, 1 when it is over (closed sent). */
static int watch_look(watcher_t *w, apr_pool_t *tick)
{
    apr_status_t rv = lc_store_get(w->q->store, LC_KIND_AGENT, w->id, w->res, tick);

    if (rv == LC_ENOTFOUND) {
        lc_ws_conn_close(w->ws, LC_WS_NORMAL, "agent deleted", WATCH_LINGER);
        return 1;
    }
    if (rv != APR_SUCCESS || w->res->version == w->version) {
        return 0;               /* a store that failed: look again next tick */
    }
    w->version = w->res->version;
    if (send_steps(w) != APR_SUCCESS) {
        return 1;
    }
    if (w->res->state != AG_ACTIVE) {
        send_final(w);
        lc_ws_conn_close(w->ws, LC_WS_NORMAL, NULL, WATCH_LINGER);
        return 1;
    }
    return 0;
}

/* Until the agent is over, the client leaves or the server stops; what
 * ended it, for the log. */
static const char *watch_run(watcher_t *w)
{
    const char *why = NULL;
    apr_pool_t *tick;
    int end;

    apr_pool_create(&tick, w->q->r->pool);
    while (!why) {
        if (lc_stopping()) {
            lc_ws_conn_close(w->ws, LC_WS_GOING_AWAY, "server stopping", WATCH_LINGER / 4);
            why = "the server is stopping (1001)";
            break;
        }
        apr_pool_clear(tick);
        if (watch_look(w, tick)) {
            why = "the agent is over, or gone";
        }
        else if ((end = lc_ws_conn_poll(w->ws, WATCH_TICK)) != 0) {
            why = end < 0 ? "the client went away"
                          : apr_psprintf(w->q->r->pool, "close %d", end);
        }
    }
    /* Whoever ended it: the request is finished for httpd. */
    lc_ws_conn_close(w->ws, LC_WS_NORMAL, NULL, 0);
    apr_pool_destroy(tick);
    return why;
}

int lc_notte_watch(lc_req_t *q, const char *id)
{
    lc_notte_session_ref_t session = { NULL, 0 };
    char accept[LC_WS_ACCEPT_LEN + 1];
    watcher_t w = { q, NULL, id, NULL, 0, 0 };
    const char *why;
    int rc;

    if (q->r->method_number != M_GET) {
        return lc_notte_method_not_allowed(q, "GET");
    }
    w.res = apr_palloc(q->r->pool, sizeof(*w.res));
    if ((rc = lc_notte_session_param(q, &session)) != LC_PROCEED
        || (rc = watch_agent(q, id, &session, w.res)) != LC_PROCEED) {
        return rc;
    }
    if ((rc = lc_ws_conn_check(q->r, accept, &why)) != 0) {
        return lc_notte_error(q, rc, "upgrade_required", why);
    }
    if (!watch_enter(watch_bound(q->sc))) {
        apr_table_setn(q->r->err_headers_out, "Retry-After", WATCH_RETRY);
        return lc_notte_error(q, HTTP_SERVICE_UNAVAILABLE, "unavailable",
                              "Too many agent log watchers on this server process; "
                              "retry shortly");
    }
    apr_pool_cleanup_register(q->r->pool, NULL, watch_leave, apr_pool_cleanup_null);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r, LC_LOGNO(00002) "watch agent %s (sub=%s): open", id,
                  lc_audit_value(q->r->pool, q->actor.sub));
    w.ws = lc_ws_conn_open(q->r, accept);
    why = watch_run(&w);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r, LC_LOGNO(00003) "watch agent %s: ended after %"
                  APR_UINT64_T_FMT " steps: %s", id, w.next, why);
    return OK;
}
