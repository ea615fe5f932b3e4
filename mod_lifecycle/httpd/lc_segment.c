/* lc_segment.c — one APR shm segment and one global mutex per server.
 *
 * Both are created once, in the process pool, which outlives configuration
 * generations; ap_retained_data finds them again after `apachectl -k
 * graceful`, so a graceful restart keeps every resource (the scoreboard's and
 * mod_auth_digest's idiom, not mod_slotmem_shm's per-generation segments).
 * A full stop ends the process pool and with it the segment.
 */
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <ap_mpm.h>
#include <util_mutex.h>
#include <apr_shm.h>
#include <apr_strings.h>

#include "lc_segment.h"
#include "lc_store_shm.h"
#include "lc_config.h"
#include "lc_log.h"

APLOG_USE_MODULE(lifecycle);

#define LC_RETAINED_KEY "mod_lifecycle:segment"

typedef struct lc_retained {
    apr_shm_t          *shm;
    apr_global_mutex_t *mutex;
    void               *base;
    apr_size_t          size;
} lc_retained_t;

static lc_retained_t *retained;

/* LifecycleAttributeMemory, or LC_HEAP_PER_SLOT a slot by default. */
static apr_size_t heap_bytes(server_rec *s)
{
    apr_size_t h = lc_config_heap(s);

    return h ? h : lc_store_shm_default_heap((uint32_t)lc_config_capacity(s));
}
static lc_store_t *volatile process_store;

/* The default mechanism is APR's robust pthread mutex, behind the store's
 * own gate (lc_shm_gate.c), which keeps it uncontended: its holder then
 * never makes a system call for it.  Alone, that mutex convoys (it hands
 * itself to its oldest waiter; 4.3 ms average wait with 64 writers on two
 * cores), and flock, the default before the gate, takes and releases with
 * a system call, where the scheduler preempts its holder (build/BENCH.md,
 * "The store mutex's wait").  Both are released by the kernel when their
 * holder dies, which the store's undo log relies on.  `Mutex flock
 * lifecycle-store` (or any other) overrides it. */
apr_status_t lc_segment_pre_config(apr_pool_t *pconf)
{
    return ap_mutex_register(pconf, LC_MUTEX_TYPE, NULL, APR_LOCK_PROC_PTHREAD, 0);
}

/* Anonymous shm where the platform has it, a file under the runtime dir if not. */
static apr_status_t create_shm(lc_retained_t *rd, apr_size_t size, server_rec *s)
{
    apr_pool_t *pp = s->process->pool;
    apr_status_t rv = apr_shm_create(&rd->shm, size, NULL, pp);

    if (rv == APR_ENOTIMPL) {
        const char *file = ap_runtime_dir_relative(pp, "lifecycle-store.shm");
        apr_shm_remove(file, pp);
        rv = apr_shm_create(&rd->shm, size, file, pp);
    }
    return rv;
}

static apr_status_t create_segment(lc_retained_t *rd, server_rec *s)
{
    uint32_t capacity = (uint32_t)lc_config_capacity(s);
    apr_size_t heap = heap_bytes(s);
    apr_size_t size = lc_store_shm_size(capacity, heap);
    apr_status_t rv;

    if ((rv = create_shm(rd, size, s)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s,
                     LC_LOGNO(00012) "LifecycleCapacity %u, LifecycleAttributeMemory %" APR_SIZE_T_FMT
                     ": cannot create %" APR_SIZE_T_FMT " bytes of shared memory",
                     capacity, heap, size);
        return rv;
    }
    rd->base = apr_shm_baseaddr_get(rd->shm);
    rd->size = apr_shm_size_get(rd->shm);
    if ((rv = lc_store_shm_format(rd->base, rd->size, capacity, heap)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, LC_LOGNO(00013) "cannot format the lifecycle store");
        return rv;
    }
    rv = ap_global_mutex_create(&rd->mutex, NULL, LC_MUTEX_TYPE, NULL, s,
                                s->process->pool, 0);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, LC_LOGNO(00014) "cannot create the %s mutex",
                     LC_MUTEX_TYPE);
        return rv;
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, LC_LOGNO(00015) "store created: %u slots, %" APR_SIZE_T_FMT
                 " bytes of attribute memory, %" APR_SIZE_T_FMT " bytes of shared memory",
                 capacity, heap, rd->size);
    return APR_SUCCESS;
}

apr_status_t lc_segment_post_config(apr_pool_t *pconf, server_rec *s, int *created)
{
    apr_status_t rv;

    *created = 0;
    retained = ap_retained_data_get(LC_RETAINED_KEY);
    if (!retained || !retained->base) {
        *created = 1;
        retained = ap_retained_data_create(LC_RETAINED_KEY, sizeof(*retained));
        if ((rv = create_segment(retained, s)) != APR_SUCCESS) {
            retained->base = NULL;
            return rv;
        }
    }
    else if (lc_store_shm_check(retained->base, retained->size) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, LC_LOGNO(00016) "the retained lifecycle store has a "
                     "layout this module does not know: stop and start the server");
        return APR_EGENERAL;
    }
    else if (lc_store_shm_capacity(retained->base) != (uint32_t)lc_config_capacity(s)
             || lc_store_shm_heap(retained->base) != APR_ALIGN(heap_bytes(s), 64)) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, LC_LOGNO(00017) "LifecycleCapacity %d and "
                     "LifecycleAttributeMemory %" APR_SIZE_T_FMT " take effect at the next "
                     "full restart; keeping %u slots and %" APR_SIZE_T_FMT " bytes",
                     lc_config_capacity(s), heap_bytes(s),
                     lc_store_shm_capacity(retained->base), lc_store_shm_heap(retained->base));
    }
    process_store = lc_store_shm_open(pconf, retained->base, retained->mutex);
    return APR_SUCCESS;
}

void lc_segment_child_init(apr_pool_t *p, server_rec *s)
{
    apr_global_mutex_t *m;
    apr_status_t rv;

    if (!retained || !retained->base) {
        return;
    }
    m = retained->mutex;
    rv = apr_global_mutex_child_init(&m, apr_global_mutex_lockfile(m), p);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, LC_LOGNO(00018) "cannot attach the %s mutex in a child",
                     LC_MUTEX_TYPE);
        process_store = NULL;
        return;
    }
    process_store = lc_store_shm_open(p, retained->base, m);
}

lc_store_t *lc_segment_store(void)
{
    return process_store;
}
