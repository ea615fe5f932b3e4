/* lc_helper.c — a thread that works beside the caller until told to stop.
 *
 * Start-up replay uses two, in the parent before any child is forked, so
 * that on two cores their work runs beside the replay instead of inside it:
 * one maps the attribute heap ahead (lc_shm_pages.c), one checks the
 * journal's checksums ahead (lc_journal_recover.c).
 */
#include <apr_thread_proc.h>

#include "lc_helper.h"

struct lc_helper {
    apr_pool_t   *pool;
    apr_thread_t *thread;
    lc_helper_fn *fn;
    void         *data;
    int           stop;
};

#if APR_HAS_THREADS
static void *APR_THREAD_FUNC helper_run(apr_thread_t *t, void *arg)
{
    lc_helper_t *h = arg;

    h->fn(h->data, &h->stop);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}
#endif

lc_helper_t *lc_helper_start(apr_pool_t *p, lc_helper_fn *fn, void *data)
{
#if APR_HAS_THREADS
    lc_helper_t *h = apr_pcalloc(p, sizeof(*h));

    h->fn = fn;
    h->data = data;
    if (apr_pool_create_unmanaged_ex(&h->pool, NULL, NULL) != APR_SUCCESS) {
        return NULL;
    }
    if (apr_thread_create(&h->thread, NULL, helper_run, h, h->pool) != APR_SUCCESS) {
        apr_pool_destroy(h->pool);
        return NULL;
    }
    return h;
#else
    (void)p, (void)fn, (void)data;
    return NULL;
#endif
}

void lc_helper_stop(lc_helper_t *h)
{
#if APR_HAS_THREADS
    apr_status_t rv;

    if (h) {
        __atomic_store_n(&h->stop, 1, __ATOMIC_RELEASE);
        apr_thread_join(&rv, h->thread);
        apr_pool_destroy(h->pool);
    }
#else
    (void)h;
#endif
}
