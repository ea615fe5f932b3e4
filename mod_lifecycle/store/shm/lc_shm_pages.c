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
#include <apr_time.h>

#include "lc_helper.h"
#include "lc_shm_pages.h"

#define AHEAD_CHUNK ((apr_size_t)1 << 20)   /* mapped per call */
#define AHEAD_LEAD  ((apr_size_t)16 << 20)  /* at most this far ahead of *used */
#define AHEAD_NAP   200                     /* us, when that far ahead */

struct lc_shm_ahead {
    lc_helper_t    *helper;
    char           *base;
    apr_size_t      size;
    const uint64_t *used;
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

static void ahead_run(void *data, const int *stop)
{
    lc_shm_ahead_t *a = data;
    apr_size_t done = 0;

    while (done < a->size && !__atomic_load_n(stop, __ATOMIC_ACQUIRE)) {
        if (done >= __atomic_load_n(a->used, __ATOMIC_RELAXED) + AHEAD_LEAD) {
            apr_sleep(AHEAD_NAP);
            continue;
        }
        lc_shm_pages_map(a->base + done, a->size - done < AHEAD_CHUNK ? a->size - done
                                                                       : AHEAD_CHUNK);
        done += AHEAD_CHUNK;
    }
}

lc_shm_ahead_t *lc_shm_ahead_start(apr_pool_t *p, char *base, apr_size_t size,
                                   const uint64_t *used)
{
    lc_shm_ahead_t *a = apr_pcalloc(p, sizeof(*a));

    a->base = base;
    a->size = size;
    a->used = used;
    return (a->helper = lc_helper_start(p, ahead_run, a)) ? a : NULL;
}

void lc_shm_ahead_stop(lc_shm_ahead_t *a)
{
    if (a) {
        lc_helper_stop(a->helper);
    }
}
