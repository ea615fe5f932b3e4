/* lc_provider_shm.c — `LifecycleStore shm` (the default): one host's shared
 * memory (lc_segment.c: the segment and its global mutex, kept across
 * graceful restarts) made durable by the journal in LifecycleStateDir
 * (lc_state.c: recovery in the parent, appends from the children). */
#include <httpd.h>
#include <http_log.h>

#include "lc_provider.h"
#include "lc_segment.h"
#include "lc_state.h"
#include "lc_store_shm.h"
#include "lc_metrics.h"
#include "lc_log.h"

APLOG_USE_MODULE(lifecycle);

static apr_status_t shm_post_config(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s)
{
    int created;
    apr_status_t rv = lc_segment_post_config(pconf, s, &created);
    void *counters;

    if (rv != APR_SUCCESS) {
        return rv;
    }
    counters = lc_store_shm_metrics_area(lc_segment_store());
    if (created) {
        lc_metrics_area_init(counters);
        return lc_state_recover(lc_segment_store(), s, ptemp);
    }
    if (!lc_metrics_area_ok(counters)) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, LC_LOGNO(00011) "the retained lifecycle counters have a "
                     "layout this module does not know: stop and start the server");
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

static lc_store_t *shm_child_init(apr_pool_t *pchild, server_rec *s)
{
    lc_store_t *st;

    lc_segment_child_init(pchild, s);
    st = lc_segment_store();
    lc_state_attach(st, s, pchild);
    return st;
}

static void *shm_counters(lc_store_t *st)
{
    return lc_store_shm_metrics_area(st);
}

static void shm_tick(lc_store_t *st, server_rec *s)
{
    (void)st;
    lc_state_tick(s);
}

const lc_provider_t lc_provider_shm = {
    .name        = "shm",
    .pre_config  = lc_segment_pre_config,
    .post_config = shm_post_config,
    .child_init  = shm_child_init,
    .counters    = shm_counters,
    .tick        = shm_tick,
};
