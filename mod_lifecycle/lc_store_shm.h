/* lc_store_shm.h — the shared-memory backend of lc_store.h.
 *
 * One segment: a header (with a small undo log), a hash index, the slots.
 * Callers create the segment and the global mutex (the Apache way, in
 * mod_lifecycle.c); this file only formats, checks and uses them, so it is
 * testable with plain APR.
 */
#ifndef LC_STORE_SHM_H
#define LC_STORE_SHM_H

#include <apr_global_mutex.h>
#include "lc_store.h"

#define LC_CAPACITY_MIN 64u
#define LC_CAPACITY_MAX 4000000u

/* Bytes the segment needs for `capacity` resources. */
apr_size_t lc_store_shm_size(uint32_t capacity);

/* Lay out a new, empty store in `base` (size from lc_store_shm_size). */
apr_status_t lc_store_shm_format(void *base, apr_size_t size, uint32_t capacity);

/* APR_SUCCESS when `base` holds a store of this layout and size. */
apr_status_t lc_store_shm_check(const void *base, apr_size_t size);

/* The capacity a formatted segment was made with. */
uint32_t lc_store_shm_capacity(const void *base);

/* A store over a formatted segment, locked by `mutex` (process-local handle). */
lc_store_t *lc_store_shm_open(apr_pool_t *p, void *base, apr_global_mutex_t *mutex);

/* Fault injection for crash tests: when set non-zero in a thread, the next
 * update in that thread kills its own process with SIGKILL halfway through
 * writing the slot, with the mutex held. */
extern __thread int lc_store_shm_die_midwrite;

#endif
