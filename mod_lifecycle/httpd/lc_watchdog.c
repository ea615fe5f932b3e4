/* lc_watchdog.c — LifecycleAutoAdvance, LifecycleSuspendTimeout and the
 * Notte sessions' own timeouts, driven by mod_watchdog.
 *
 * One callback, every tick (100 ms), in every child.  Not a singleton on
 * purpose: when the child holding a mod_watchdog singleton is killed, the
 * next one takes about ten seconds to take over (measured), and transitions
 * would stall.  Each resource still moves exactly once: the store takes
 * moves off its due queue atomically, as versioned updates.
 *
 * A tick first gives the backend its upkeep (the shm store's snapshots),
 * then asks the store when the next move is due (lc_store_next_due: the
 * shm store peeks at its queue heads without the lock) and only when one
 * is due takes at most LC_TICK_MAX moves at once (kept in due order, so
 * nothing is scanned), and then writes the audit lines.
 *
 * The tick's thread outlives the child's pool: mod_watchdog starts it on a
 * pool of the configuration (never destroyed in a child) and joins it only
 * there, so when a child exits (a stop, a graceful restart, idle children
 * reaped) pchild and everything on it (the store, mod_dbd's connection
 * pool, the tick's own pool) are destroyed while a tick may be running on
 * them: a crash at child exit.  So the child's pool says when it goes (a
 * pre-cleanup, lc_watchdog_child_init): the store is withdrawn and the
 * cleanup waits for a tick in flight (bounded: its database calls have
 * their deadline) before anything is freed.
 */
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <mod_watchdog.h>
#include <apr_strings.h>

#include "lc_watchdog.h"
#include "lc_config.h"
#include "lc_engine.h"
#include "lc_provider.h"
#include "lc_audit.h"
#include "lc_notte_timeout.h"
#include "lc_log.h"

APLOG_USE_MODULE(lifecycle);

#define LC_TICK_MAX 256

typedef struct moved {
    uint8_t kind, from, to, timeout;
    char    id[LC_ID_MAX + 1];
} moved_t;

typedef struct tick {
    moved_t m[LC_TICK_MAX];
    int     n;
} tick_t;

#define LC_TICK_DRAIN apr_time_from_sec(30)   /* the longest a child's exit waits for a tick */

static APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *wd_get_instance;
static int ticking;             /* ticks in flight (seq-cst with the store's withdrawal) */
static APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *wd_register_callback;

/* Store locked: copy only. */
static void remember(const lc_resource_t *before, const lc_resource_t *after, void *baton)
{
    tick_t *t = baton;

    /* A move that only kept a timeout queued is no transition: no audit line. */
    if (t->n < LC_TICK_MAX && before->state != after->state) {
        moved_t *m = &t->m[t->n++];
        m->kind = after->kind;
        m->from = before->state;
        m->to = after->state;
        m->timeout = before->due_class == LC_DUE_TIMEOUT;
        apr_cpystrn(m->id, after->id, sizeof(m->id));
    }
}

/* What a move asks beyond its own record, done by the host that made it:
 * a Notte session that timed out closes its agents. */
static void follow_up(lc_store_t *store, server_rec *s, const moved_t *m, apr_pool_t *pool)
{
    if (m->kind == LC_KIND_SESSION && m->timeout) {
        lc_notte_session_timed_out(store, s, m->id, pool);
    }
}

static apr_status_t tick_on(int state, server_rec *s, apr_pool_t *pool, lc_store_t *store);

static apr_status_t tick(int state, void *data, apr_pool_t *pool)
{
    apr_status_t rv;

    /* Counted before the store is read: the exit's cleanup either sees
     * this tick or this tick sees no store. */
    __atomic_add_fetch(&ticking, 1, __ATOMIC_SEQ_CST);
    rv = tick_on(state, data, pool, lc_provider_store());
    __atomic_sub_fetch(&ticking, 1, __ATOMIC_SEQ_CST);
    return rv;
}

/* pchild is going: no tick may start on its store; wait for one in flight. */
static apr_status_t child_exit(void *data)
{
    apr_time_t end = apr_time_now() + LC_TICK_DRAIN;

    (void)data;
    lc_provider_withdraw_store();
    while (__atomic_load_n(&ticking, __ATOMIC_SEQ_CST) > 0 && apr_time_now() < end) {
        apr_sleep(apr_time_from_msec(5));
    }
    return APR_SUCCESS;
}

void lc_watchdog_child_init(apr_pool_t *pchild)
{
    apr_pool_pre_cleanup_register(pchild, NULL, child_exit);
}

static apr_status_t tick_on(int state, server_rec *s, apr_pool_t *pool, lc_store_t *store)
{
    const lc_server_conf_t *sc = lc_config_global(s);
    const lc_provider_t *pv = lc_provider_configured(sc->store);
    apr_time_t now, due;
    tick_t *t;
    int i;

    if (state != AP_WATCHDOG_STATE_RUNNING || !store) {
        return APR_SUCCESS;
    }
    if (pv->tick) {
        pv->tick(store, s);      /* a snapshot may take a while: the time is read after it */
    }
    now = apr_time_now();
    /* Even with auto-advance off, timeouts are due (lc_kind_due drops
     * advances queued before it was turned off). */
    if (!(due = lc_store_next_due(store, pool)) || due > now) {
        return APR_SUCCESS;
    }
    t = apr_palloc(pool, sizeof(*t));
    t->n = 0;
    lc_engine_advance_due(store, now, sc->auto_advance, LC_TICK_MAX, remember, t, pool);
    for (i = 0; i < t->n; i++) {
        const lc_kind_def_t *def = lc_kind_def((lc_kind_e)t->m[i].kind);
        lc_audit_background(pool, s, (lc_kind_e)t->m[i].kind, t->m[i].id,
                                  lc_kind_state_name(def, t->m[i].from),
                                  lc_kind_state_name(def, t->m[i].to),
                                  t->m[i].timeout ? "timeout" : "auto-advance");
        follow_up(store, s, &t->m[i], pool);
    }
    return APR_SUCCESS;
}

apr_status_t lc_watchdog_post_config(apr_pool_t *pconf, server_rec *s)
{
    ap_watchdog_t *wd;
    apr_status_t rv;

    wd_get_instance = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    wd_register_callback = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    if (!wd_get_instance || !wd_register_callback) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, LC_LOGNO(00028) "mod_watchdog is not loaded: "
                     "LifecycleAutoAdvance has no effect");
        return APR_SUCCESS;
    }
    if ((rv = wd_get_instance(&wd, "lifecycle", 0, 0, pconf)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, LC_LOGNO(00029) "cannot get a watchdog instance");
        return rv;
    }
    rv = wd_register_callback(wd, AP_WD_TM_SLICE, s, tick);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, LC_LOGNO(00030) "cannot register the watchdog callback");
    }
    return rv;
}
