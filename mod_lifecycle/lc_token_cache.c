/* lc_token_cache.c — a small, thread-safe, direct-mapped cache of verified tokens. */
#include <string.h>
#include <sodium.h>
#include <apr_thread_mutex.h>

#include "lc_token_cache.h"

typedef struct entry {
    unsigned char     key[LC_TOKEN_CACHE_KEY];
    uint64_t          policy;
    apr_time_t        until;          /* 0 = empty */
    lc_token_claims_t claims;
} entry_t;

struct lc_token_cache {
    apr_thread_mutex_t *mutex;
    unsigned            slots;
    entry_t            *e;
};

lc_token_cache_t *lc_token_cache_create(apr_pool_t *p, unsigned slots)
{
    lc_token_cache_t *c = apr_pcalloc(p, sizeof(*c));

    if (apr_thread_mutex_create(&c->mutex, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS) {
        return NULL;
    }
    c->slots = slots ? slots : 1;
    c->e = apr_pcalloc(p, sizeof(entry_t) * c->slots);
    return c;
}

void lc_token_cache_key(const char *token, size_t len, unsigned char key[LC_TOKEN_CACHE_KEY])
{
    crypto_generichash(key, LC_TOKEN_CACHE_KEY, (const unsigned char *)token, len, NULL, 0);
}

static entry_t *slot_for(lc_token_cache_t *c, const unsigned char *key)
{
    uint32_t h;

    memcpy(&h, key, sizeof(h));
    return &c->e[h % c->slots];
}

int lc_token_cache_get(lc_token_cache_t *c, const unsigned char key[LC_TOKEN_CACHE_KEY],
                       uint64_t policy, apr_time_t now, lc_token_claims_t *out)
{
    entry_t *e = slot_for(c, key);
    int hit;

    apr_thread_mutex_lock(c->mutex);
    hit = e->until > now && e->policy == policy
          && sodium_memcmp(e->key, key, LC_TOKEN_CACHE_KEY) == 0;
    if (hit) {
        *out = e->claims;
    }
    apr_thread_mutex_unlock(c->mutex);
    return hit;
}

void lc_token_cache_put(lc_token_cache_t *c, const unsigned char key[LC_TOKEN_CACHE_KEY],
                        uint64_t policy, apr_time_t until, const lc_token_claims_t *claims)
{
    entry_t *e = slot_for(c, key);

    apr_thread_mutex_lock(c->mutex);
    memcpy(e->key, key, LC_TOKEN_CACHE_KEY);
    e->policy = policy;
    e->until = until;
    e->claims = *claims;
    apr_thread_mutex_unlock(c->mutex);
}
