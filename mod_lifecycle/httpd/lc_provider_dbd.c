/* lc_provider_dbd.c — `LifecycleStore dbd`: every resource in PostgreSQL,
 * through httpd's own mod_dbd (DBDriver pgsql, DBDParams, DBDMin/Keep/Max),
 * so that any number of Apache servers serve one state.
 *
 * The backend (lc_store_dbd.c) borrows one of mod_dbd's pooled connections
 * per operation, with ap_dbd_open / ap_dbd_close: operations get a pool,
 * not a request, and ap_dbd_acquire would hold the connection until the
 * request ends, a change-feed long-poll included (60 s).  mod_dbd's
 * reslist is per child; hosts x children x DBDMax must stay within the
 * database's max_connections.
 *
 * Start-up, in the parent: mod_dbd offers no connection there (its pool is
 * made in each child), so the schema is checked on a connection of our own,
 * opened with mod_dbd's own DBDriver and DBDParams.  A schema newer than
 * this module refuses start-up; an unreachable database only warns (the
 * server answers 503 until it is back, and each child checks the schema
 * before its first statement).
 *
 * Each server keeps a small shared-memory area (lc_dbd_shared_t: the feed
 * head its long-polls wait on, the cached next due time, the request
 * counters) in the process pool, found again after a graceful restart
 * through ap_retained_data, as lc_segment.c does for the shm store.
 */
#include <string.h>
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <apr_dbd.h>
#include <mod_dbd.h>            /* after apr_dbd.h: it uses apr_dbd_t without including it */

#include "lc_provider.h"
#include "lc_store_dbd.h"
#include "lc_config.h"
#include "lc_metrics.h"
#include "lc_stopping.h"
#include "lc_dbd_schema.h"
#include "lc_log.h"

APLOG_USE_MODULE(lifecycle);

#define LC_DBD_RETAINED_KEY "mod_lifecycle:dbd"
#define LC_DBD_TICK_SEQUENCE apr_time_from_sec(1)   /* the tick's sequencer pass, idle */

typedef struct lc_dbd_retained {
    apr_shm_t       *shm;
    lc_dbd_shared_t *sh;
} lc_dbd_retained_t;

_Static_assert(LC_DBD_METRICS_AREA >= LC_METRICS_AREA, "the counters fit the dbd area");

static lc_dbd_retained_t *retained;
static server_rec *main_server;
static int schema_checked;              /* the parent saw the schema in place */
static apr_pool_t *tick_pool;
static APR_OPTIONAL_FN_TYPE(ap_dbd_open) *dbd_open;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) *dbd_close;

static apr_status_t src_open(void *ctx, apr_pool_t *p, lc_dbd_conn_t *c)
{
    ap_dbd_t *rec = dbd_open(p, main_server);

    (void)ctx;
    if (!rec) {
        return APR_EGENERAL;
    }
    c->driver = rec->driver;
    c->handle = rec->handle;
    c->prepared = rec->prepared;
    c->pool = rec->pool;
    c->token = rec;
    return APR_SUCCESS;
}

static void src_close(void *ctx, lc_dbd_conn_t *c)
{
    (void)ctx;
    dbd_close(main_server, c->token);
}

static void src_log(void *ctx, int level, const char *msg)
{
    (void)ctx;
    ap_log_error(APLOG_MARK, level == 0 ? APLOG_ERR : level == 1 ? APLOG_WARNING : APLOG_INFO,
                 0, main_server, "%.*sLifecycleStore dbd: %s", LC_TAGGED_LEN(msg), msg,
                 msg + LC_TAGGED_LEN(msg));
}

/* mod_dbd's DBDriver and DBDParams for server s.  mod_dbd does not export
 * them; its per-server record (svr_cfg in mod_dbd.c, the same from 2.2 to
 * 2.4) begins with a pointer to the public dbd_cfg_t. */
static const dbd_cfg_t *dbd_config(server_rec *s)
{
    module *m = ap_find_linked_module("mod_dbd.c");
    void *svr = m ? ap_get_module_config(s->module_config, m) : NULL;

    return svr ? *(dbd_cfg_t **)svr : NULL;
}

/* What this start-up needs from mod_dbd and APR: one line when it is missing. */
static apr_status_t check_dbd(apr_pool_t *ptemp, server_rec *s,
                              const apr_dbd_driver_t **driver, const dbd_cfg_t **cfg)
{
    dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    if (!dbd_open || !dbd_close || !(*cfg = dbd_config(s))) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, LC_LOGNO(00005) "LifecycleStore dbd needs mod_dbd: "
                     "LoadModule dbd_module (a2enmod dbd), with DBDriver pgsql and DBDParams");
        return APR_EGENERAL;
    }
    if (!(*cfg)->name || strcmp((*cfg)->name, "pgsql") != 0) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, LC_LOGNO(00006) "LifecycleStore dbd needs DBDriver pgsql "
                     "(and DBDParams naming the database), not %s", (*cfg)->name);
        return APR_EGENERAL;
    }
    apr_dbd_init(ptemp);
    if (apr_dbd_get_driver(ptemp, "pgsql", driver) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, LC_LOGNO(00007) "LifecycleStore dbd: APR's pgsql driver "
                     "cannot be loaded: install it (Debian: libaprutil1-dbd-pgsql)");
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* The schema, on a connection of our own (mod_dbd has none in the parent). */
static apr_status_t check_schema(apr_pool_t *ptemp, server_rec *s,
                                 const apr_dbd_driver_t *driver, const dbd_cfg_t *cfg)
{
    lc_dbd_conn_t c = { driver, NULL, NULL, ptemp, NULL };
    const char *err = NULL, *why = NULL;
    apr_status_t rv;

    /* The parameters may hold a password: never logged, only the driver's message. */
    if (apr_dbd_open_ex(driver, ptemp, cfg->params, &c.handle, &err) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, LC_LOGNO(00008) "LifecycleStore dbd: the database "
                     "cannot be reached now (%.*s): requests answer 503 until it can",
                     err ? (int)strcspn(err, "\n") : 0, err ? err : "");
        return APR_SUCCESS;
    }
    rv = lc_dbd_schema_ensure(&c, ptemp, &why);
    apr_dbd_close(driver, c.handle);
    if (rv == APR_EINVAL) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "%.*sLifecycleStore dbd: %s", LC_TAGGED_LEN(why), why,
                     why + LC_TAGGED_LEN(why));
        return rv;
    }
    if (why) {
        ap_log_error(APLOG_MARK, rv == APR_SUCCESS ? APLOG_WARNING : APLOG_ERR, 0, s,
                     "%.*sLifecycleStore dbd: %s", LC_TAGGED_LEN(why), why,
                     why + LC_TAGGED_LEN(why));
    }
    schema_checked = rv == APR_SUCCESS;
    return APR_SUCCESS;
}

/* The shared area, made at the first start, found again after a graceful restart. */
static apr_status_t shared_area(server_rec *s)
{
    lc_dbd_retained_t *rd = ap_retained_data_get(LC_DBD_RETAINED_KEY);
    apr_status_t rv;

    if (rd && rd->sh) {
        if (rd->sh->layout != LC_DBD_SHARED_LAYOUT || !lc_metrics_area_ok(rd->sh->metrics_area)) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, LC_LOGNO(00009) "the retained lifecycle counters have "
                         "a layout this module does not know: stop and start the server");
            return APR_EGENERAL;
        }
        retained = rd;
        return APR_SUCCESS;
    }
    rd = ap_retained_data_create(LC_DBD_RETAINED_KEY, sizeof(*rd));
    if ((rv = apr_shm_create(&rd->shm, sizeof(lc_dbd_shared_t), NULL, s->process->pool))
        != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, LC_LOGNO(00010) "LifecycleStore dbd: cannot create "
                     "%" APR_SIZE_T_FMT " bytes of shared memory", sizeof(lc_dbd_shared_t));
        return rv;
    }
    rd->sh = apr_shm_baseaddr_get(rd->shm);
    memset(rd->sh, 0, sizeof(*rd->sh));
    rd->sh->layout = LC_DBD_SHARED_LAYOUT;
    lc_metrics_area_init(rd->sh->metrics_area);
    retained = rd;
    return APR_SUCCESS;
}

static apr_status_t dbd_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    const apr_dbd_driver_t *driver;
    const dbd_cfg_t *cfg;
    apr_status_t rv;

    (void)pconf;
    main_server = s;
    if ((rv = check_dbd(ptemp, s, &driver, &cfg)) != APR_SUCCESS
        || (rv = shared_area(s)) != APR_SUCCESS) {
        return rv;
    }
    return check_schema(ptemp, s, driver, cfg);
}

/* Cold start: the connections mod_dbd keeps (DBDKeep, at
 * least one) are made ready here, before the child accepts requests, so
 * that no request waits for the schema check and the statements'
 * preparation after a start, a graceful restart or a replaced child.
 * Bounded: each call has its deadline, and a database that is down fails
 * the first open at once (DBDParams' connect_timeout for one that hangs). */
static lc_store_t *warm(lc_store_t *st, server_rec *s, apr_pool_t *pchild)
{
    const dbd_cfg_t *cfg = dbd_config(s);
    int want = cfg && cfg->persist ? (cfg->nkeep > 0 ? cfg->nkeep : 1) : 0;

    /* Held at once: never more than the pool may hold (or acquire would wait). */
    if (cfg && cfg->nmax > 0 && want > cfg->nmax) {
        want = cfg->nmax;
    }

    if (st && want) {
        lc_store_dbd_warm(st, want, pchild);
    }
    return st;
}

static lc_store_t *dbd_child_init(apr_pool_t *pchild, server_rec *s)
{
    const lc_server_conf_t *sc = lc_config_global(s);
    lc_dbd_source_t src = { src_open, src_close, src_log, lc_stopping, NULL };
    lc_dbd_options_t opt = { sc->feed_poll, 0, 0, schema_checked, sc->dbd_timeout };

    if (!retained || !dbd_open) {
        return NULL;
    }
    main_server = s;
    opt.feed_retain = sc->feed_retain >= 0 ? (uint64_t)sc->feed_retain
                                            : LC_DBD_FEED_RETAIN_DEFAULT;
    if (apr_pool_create(&tick_pool, pchild) != APR_SUCCESS) {
        return NULL;
    }
    return warm(lc_store_dbd_open(pchild, &src, retained->sh, &opt), s, pchild);
}

static void *dbd_counters(lc_store_t *st)
{
    return lc_store_dbd_shared(st)->metrics_area;
}

/* Every tick, every child: at most one sequencer pass a second per host
 * when no long-poll drives it (numbering, retention). */
static void dbd_tick(lc_store_t *st, server_rec *s)
{
    const lc_server_conf_t *sc = lc_config_global(s);
    apr_interval_time_t every = sc->feed_poll > LC_DBD_TICK_SEQUENCE ? sc->feed_poll
                                                                     : LC_DBD_TICK_SEQUENCE;

    lc_store_dbd_sequence(st, every, tick_pool);
    apr_pool_clear(tick_pool);
}

const lc_provider_t lc_provider_dbd = {
    .name        = "dbd",
    .post_config = dbd_post_config,
    .child_init  = dbd_child_init,
    .counters    = dbd_counters,
    .tick        = dbd_tick,
};
