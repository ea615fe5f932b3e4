/* lc_helper.h — a thread that works beside the caller until told to stop. */
#ifndef LC_HELPER_H
#define LC_HELPER_H

#include <apr_pools.h>

/* The work: run until done or until *stop (read it with __atomic_load_n)
 * becomes non-zero. */
typedef void lc_helper_fn(void *data, const int *stop);

typedef struct lc_helper lc_helper_t;

/* NULL when no thread can be started (the caller then does without).
 * The helper lives in p; its thread has a pool of its own, so that its
 * exit never touches p's allocator while the caller allocates from p. */
lc_helper_t *lc_helper_start(apr_pool_t *p, lc_helper_fn *fn, void *data);
/* Tell it to stop and wait for it (a NULL h: nothing to do). */
void lc_helper_stop(lc_helper_t *h);

#endif
