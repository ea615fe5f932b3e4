/* lc_token_cache.h — verified tokens, remembered per process.
 *
 * Keyed by a BLAKE2b-256 hash of the token (the token itself is not kept),
 * bounded (direct-mapped slots in 16 independently locked shards), each entry
 * expiring no later than its token.  A hit saves the Ed25519 verification
 * only: exp, nbf and the scope are checked again on every use, and an entry
 * is valid only for the issuer/audience policy it was verified under.
 */
#ifndef LC_TOKEN_CACHE_H
#define LC_TOKEN_CACHE_H

#include <apr_pools.h>
#include "lc_token.h"
#include "lc_actor.h"

#define LC_TOKEN_CACHE_KEY 32

typedef struct lc_token_cache lc_token_cache_t;

typedef enum {
    LC_CACHE_MISS = 0,
    LC_CACHE_OK,             /* valid now, holds the scope; actor filled */
    LC_CACHE_EXPIRED,        /* known token, but past exp (or before nbf) now */
    LC_CACHE_NO_SCOPE        /* valid now, lacks the scope; actor filled */
} lc_cache_result_e;

/* NULL when the process cannot make its mutexes. */
lc_token_cache_t *lc_token_cache_create(apr_pool_t *p, unsigned slots);

void lc_token_cache_key(const char *token, size_t len, unsigned char key[LC_TOKEN_CACHE_KEY]);

/* Look the token up and re-check it at `now` for `scope`. */
lc_cache_result_e lc_token_cache_check(lc_token_cache_t *c,
                                       const unsigned char key[LC_TOKEN_CACHE_KEY],
                                       uint64_t policy, apr_time_t now,
                                       apr_interval_time_t leeway, const char *scope,
                                       lc_actor_t *actor);

/* Remember verified claims until `until` (at most the token's exp + leeway). */
void lc_token_cache_put(lc_token_cache_t *c, const unsigned char key[LC_TOKEN_CACHE_KEY],
                        uint64_t policy, apr_time_t until, const lc_token_claims_t *claims);

#endif
