/* lc_token_cache.h — verified tokens, remembered per process.
 *
 * Keyed by a BLAKE2b-256 hash of the token (the token itself is not kept),
 * bounded (direct-mapped slots), each entry expiring no later than its
 * token.  A hit saves the Ed25519 verification only: the caller still checks
 * exp, nbf and scope, and the entry is valid only for the issuer/audience
 * policy it was verified under.
 */
#ifndef LC_TOKEN_CACHE_H
#define LC_TOKEN_CACHE_H

#include <apr_pools.h>
#include "lc_token.h"

#define LC_TOKEN_CACHE_KEY 32

typedef struct lc_token_cache lc_token_cache_t;

/* NULL when the process cannot make its mutex. */
lc_token_cache_t *lc_token_cache_create(apr_pool_t *p, unsigned slots);

void lc_token_cache_key(const char *token, size_t len, unsigned char key[LC_TOKEN_CACHE_KEY]);

/* 1 and *out filled when a live entry for (key, policy) exists at `now`. */
int lc_token_cache_get(lc_token_cache_t *c, const unsigned char key[LC_TOKEN_CACHE_KEY],
                       uint64_t policy, apr_time_t now, lc_token_claims_t *out);

/* Remember verified claims until `until` (at most the token's exp + leeway). */
void lc_token_cache_put(lc_token_cache_t *c, const unsigned char key[LC_TOKEN_CACHE_KEY],
                        uint64_t policy, apr_time_t until, const lc_token_claims_t *claims);

#endif
