/* lc_test_store.h — a real store for the unit tests: anonymous APR shared
 * memory and an APR global mutex, as httpd makes them. */
#ifndef LC_TEST_STORE_H
#define LC_TEST_STORE_H

#include <stdio.h>
#include <stdlib.h>
#include <apr_shm.h>
#include <apr_global_mutex.h>
#include "lc_store_shm.h"

/* *base (if not NULL) gets the segment's address, for the layout checks. */
static inline lc_store_t *lc_test_store_mech(apr_pool_t *pool, uint32_t capacity,
                                             apr_size_t heap, apr_lockmech_e mech,
                                             void **base)
{
    apr_size_t size = lc_store_shm_size(capacity, heap);
    apr_global_mutex_t *m;
    apr_shm_t *shm;

    if (apr_shm_create(&shm, size, NULL, pool) != APR_SUCCESS
        || apr_global_mutex_create(&m, NULL, mech, pool) != APR_SUCCESS
        || lc_store_shm_format(apr_shm_baseaddr_get(shm), size, capacity, heap) != APR_SUCCESS) {
        fprintf(stderr, "cannot make a store of %u slots\n", capacity);
        exit(2);
    }
    if (base) {
        *base = apr_shm_baseaddr_get(shm);
    }
    return lc_store_shm_open(pool, apr_shm_baseaddr_get(shm), m);
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
