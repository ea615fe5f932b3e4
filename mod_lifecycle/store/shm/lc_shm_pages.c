/* lc_shm_pages.c — mapping pages of the shared segment before their first use.
 *
 * A fresh shared page costs a page fault and the kernel's zeroing on its
 * first touch.  The journal's ring is mapped whole when a child starts, so
 * that copying a record under the store mutex never faults.  Start-up
 * replay fills the attribute heap from the front: a thread maps it a few
 * MiB ahead of the replay, so that on two cores the kernel's zeroing runs
 * beside the replay instead of inside it (measured in build/BENCH.md's
 * Replay section).  The thread lives only during replay, in the parent,
 * and is joined before any child is forked.
 */
#include <unistd.h>
#include <sys/mman.h>
#include <apr_thread_proc.h>
#include <apr_time.h>

#include "lc_shm_pages.h"

#define AHEAD_CHUNK ((apr_size_t)1 << 20)   /* mapped per call */
#define AHEAD_LEAD  ((apr_size_t)16 << 20)  /* at most this far ahead of *used */
#define AHEAD_NAP   200                     /* us, when that far ahead */

struct lc_shm_ahead {
    apr_pool_t     *pool;       /* the thread's own: see lc_shm_ahead_start */
    apr_thread_t   *thread;
    char           *base;
    apr_size_t      size;
    const uint64_t *used;
    int             stop;
};

void lc_shm_pages_map(void *from, apr_size_t n)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = (uintptr_t)from & ~(page - 1);
    uintptr_t b = ((uintptr_t)from + n + page - 1) & ~(page - 1);
    volatile const char *c;

#ifdef MADV_POPULATE_WRITE
    if (madvise((void *)a, b - a, MADV_POPULATE_WRITE) == 0) {
        return;
    }
#endif
    /* Before Linux 5.14: a read maps a shared page writable too. */
    for (c = (volatile const char *)a; (uintptr_t)c < b; c += page) {
        (void)*c;
    }
}

#if APR_HAS_THREADS
static void *APR_THREAD_FUNC ahead_run(apr_thread_t *t, void *data)
{
    lc_shm_ahead_t *a = data;
    apr_size_t done = 0;

    while (done < a->size && !__atomic_load_n(&a->stop, __ATOMIC_ACQUIRE)) {
        if (done >= __atomic_load_n(a->used, __ATOMIC_RELAXED) + AHEAD_LEAD) {
            apr_sleep(AHEAD_NAP);
            continue;
        }
        lc_shm_pages_map(a->base + done, a->size - done < AHEAD_CHUNK ? a->size - done
                                                                       : AHEAD_CHUNK);
        done += AHEAD_CHUNK;
    }
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}
#endif

lc_shm_ahead_t *lc_shm_ahead_start(apr_pool_t *p, char *base, apr_size_t size,
                                   const uint64_t *used)
{
#if APR_HAS_THREADS
    lc_shm_ahead_t *a = apr_pcalloc(p, sizeof(*a));

    a->base = base;
    a->size = size;
    a->used = used;
    /* Not a subpool of p: the thread's pool goes when it exits, which
     * would touch p's allocator while the replay allocates from p. */
    if (apr_pool_create_unmanaged_ex(&a->pool, NULL, NULL) != APR_SUCCESS) {
        return NULL;
    }
    if (apr_thread_create(&a->thread, NULL, ahead_run, a, a->pool) != APR_SUCCESS) {
        apr_pool_destroy(a->pool);
        return NULL;
    }
    return a;
#else
    (void)p, (void)base, (void)size, (void)used;
    return NULL;
#endif
}

void lc_shm_ahead_stop(lc_shm_ahead_t *a)
{
#if APR_HAS_THREADS
    apr_status_t rv;

    if (a) {
        __atomic_store_n(&a->stop, 1, __ATOMIC_RELEASE);
        apr_thread_join(&rv, a->thread);
        apr_pool_destroy(a->pool);
    }
#else
    (void)a;
#endif
}
