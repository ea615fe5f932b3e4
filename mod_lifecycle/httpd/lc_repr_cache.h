/* lc_repr_cache.h — a kind's JSON representation of a resource, remembered
 * per process, so that reading an unchanged resource does not rebuild it.
 *
 * Keyed by (kind, id, seq): seq numbers every change in the store, never
 * reused, so an entry can only ever hold the representation of exactly that
 * state, and a change (or a delete and re-create) simply misses.
 */
#ifndef LC_REPR_CACHE_H
#define LC_REPR_CACHE_H

#include <apr_pools.h>
#include "lc_kind.h"

#define LC_REPR_MAX 1024    /* longer representations are not cached */

/* This process's cache; NULL until created (then nothing is cached). */
void lc_repr_cache_init(apr_pool_t *p);

/* The compact JSON of def->to_json(r), from the cache or freshly built
 * (allocated from pool).  NULL when it cannot be built. */
const char *lc_repr_json(apr_pool_t *pool, const lc_kind_def_t *def, const lc_resource_t *r,
                         apr_size_t *len);

#endif
