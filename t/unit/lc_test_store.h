/* lc_test_store.h — a real store for the unit tests: anonymous APR shared
 * memory and an APR global mutex, as httpd makes them. */
#ifndef LC_TEST_STORE_H
#define LC_TEST_STORE_H

#include <stdio.h>
#include <stdlib.h>
#include "lc_store_shm.h"

/* *base (if not NULL) gets the segment's address, for the layout checks. */
static inline lc_store_t *lc_test_store_mech(apr_pool_t *pool, uint32_t capacity,
                                             apr_size_t heap, apr_lockmech_e mech,
                                             void **base)
{
    lc_store_t *st = lc_store_shm_local(pool, capacity, heap, mech, base);

    if (!st) {
        fprintf(stderr, "cannot make a store of %u slots\n", capacity);
        exit(2);
    }
    return st;
}

static inline lc_store_t *lc_test_store_heap(apr_pool_t *pool, uint32_t capacity,
                                             apr_size_t heap, void **base)
{
    return lc_test_store_mech(pool, capacity, heap, APR_LOCK_DEFAULT, base);
}

static inline lc_store_t *lc_test_store_at(apr_pool_t *pool, uint32_t capacity, void **base)
{
    return lc_test_store_heap(pool, capacity, lc_store_shm_default_heap(capacity), base);
}

static inline lc_store_t *lc_test_store(apr_pool_t *pool, uint32_t capacity)
{
    return lc_test_store_at(pool, capacity, NULL);
}

#endif
