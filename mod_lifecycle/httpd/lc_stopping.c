/* lc_stopping.c — "this child is stopping", for work that would otherwise
 * hold it: a change-feed long-poll of up to 60 s kept a child alive through
 * `apachectl stop` until httpd SIGKILLed it (10 s) and through a graceful
 * restart.  Two signs, either enough: the MPM's own state (event and
 * prefork set AP_MPMQ_STOPPING as soon as a child is told to stop or
 * restart gracefully), and the child pool's destruction. */
#include <httpd.h>
#include <ap_mpm.h>

#include "lc_stopping.h"

static int child_ending;

static apr_status_t mark_ending(void *data)
{
    (void)data;
    __atomic_store_n(&child_ending, 1, __ATOMIC_RELEASE);
    return APR_SUCCESS;
}

int lc_stopping(void)
{
    int state;

    if (__atomic_load_n(&child_ending, __ATOMIC_ACQUIRE)) {
        return 1;
    }
    return ap_mpm_query(AP_MPMQ_MPM_STATE, &state) == APR_SUCCESS
           && state == AP_MPMQ_STOPPING;
}

void lc_stopping_child_init(apr_pool_t *pchild)
{
    apr_pool_cleanup_register(pchild, NULL, mark_ending, apr_pool_cleanup_null);
}
