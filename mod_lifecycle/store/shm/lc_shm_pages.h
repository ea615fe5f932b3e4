/* lc_shm_pages.h — mapping pages of the shared segment before their first use. */
#ifndef LC_SHM_PAGES_H
#define LC_SHM_PAGES_H

#include <stdint.h>
#include <apr_pools.h>

/* Map [from, from + n) into this process, whole pages, in one call rather
 * than a page fault at a time. */
void lc_shm_pages_map(void *from, apr_size_t n);

/* A thread that maps [base, base + size) front to back while the caller
 * fills it, staying at most a few MiB ahead of *used (the bytes the caller
 * has used so far, which it advances with atomic stores). */
typedef struct lc_shm_ahead lc_shm_ahead_t;

/* NULL when no thread can be started: the caller's first writes then fault
 * the pages in themselves, as without it. */
lc_shm_ahead_t *lc_shm_ahead_start(apr_pool_t *p, char *base, apr_size_t size,
                                   const uint64_t *used);
/* Stop the thread and wait for it (a NULL a: nothing to do). */
void lc_shm_ahead_stop(lc_shm_ahead_t *a);

#endif
