/* lc_token_cache.c — a small, thread-safe, direct-mapped cache of verified tokens. */
#include <string.h>
#include <sodium.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "lc_token_cache.h"

#define SHARDS 16

typedef struct entry {
    unsigned char     key[LC_TOKEN_CACHE_KEY];
    uint64_t          policy;
    apr_time_t        until;          /* 0 = empty */
    lc_token_claims_t claims;
} entry_t;

typedef struct shard {
    apr_thread_mutex_t *mutex;
    entry_t            *e;
} shard_t;

struct lc_token_cache {
    unsigned slots;                   /* per shard */
    shard_t  shard[SHARDS];
};

lc_token_cache_t *lc_token_cache_create(apr_pool_t *p, unsigned slots)
{
    lc_token_cache_t *c = apr_pcalloc(p, sizeof(*c));
    int i;

    c->slots = slots / SHARDS ? slots / SHARDS : 1;
    for (i = 0; i < SHARDS; i++) {
        if (apr_thread_mutex_create(&c->shard[i].mutex, APR_THREAD_MUTEX_DEFAULT, p)
            != APR_SUCCESS) {
            return NULL;
        }
        c->shard[i].e = apr_pcalloc(p, sizeof(entry_t) * c->slots);
    }
    return c;
}

void lc_token_cache_key(const char *token, size_t len, unsigned char key[LC_TOKEN_CACHE_KEY])
{
    crypto_generichash(key, LC_TOKEN_CACHE_KEY, (const unsigned char *)token, len, NULL, 0);
}

/* The shard and slot of a key: two independent parts of the hash. */
static entry_t *slot_for(lc_token_cache_t *c, const unsigned char *key, shard_t **sh)
{
    uint32_t h;

    memcpy(&h, key, sizeof(h));
    *sh = &c->shard[key[4] % SHARDS];
    return &(*sh)->e[h % c->slots];
}

static void fill_actor(const lc_token_claims_t *c, lc_actor_t *a)
{
    apr_cpystrn(a->sub, c->sub[0] ? c->sub : "-", sizeof(a->sub));
    apr_cpystrn(a->jti, c->jti[0] ? c->jti : "-", sizeof(a->jti));
    a->admin = lc_token_claims_has_scope(c, LC_SCOPE_ADMIN);
}

lc_cache_result_e lc_token_cache_check(lc_token_cache_t *c,
                                       const unsigned char key[LC_TOKEN_CACHE_KEY],
                                       uint64_t policy, apr_time_t now,
                                       apr_interval_time_t leeway, const char *scope,
                                       lc_actor_t *actor)
{
    shard_t *sh;
    entry_t *e = slot_for(c, key, &sh);
    lc_cache_result_e res = LC_CACHE_MISS;

    apr_thread_mutex_lock(sh->mutex);
    if (e->until > now && e->policy == policy
        && sodium_memcmp(e->key, key, LC_TOKEN_CACHE_KEY) == 0) {
        if (!lc_token_claims_current(&e->claims, now, leeway)) {
            res = LC_CACHE_EXPIRED;
        }
        else {
            res = lc_token_claims_has_scope(&e->claims, scope) ? LC_CACHE_OK
                                                               : LC_CACHE_NO_SCOPE;
            fill_actor(&e->claims, actor);
        }
    }
    apr_thread_mutex_unlock(sh->mutex);
    return res;
}

void lc_token_cache_put(lc_token_cache_t *c, const unsigned char key[LC_TOKEN_CACHE_KEY],
                        uint64_t policy, apr_time_t until, const lc_token_claims_t *claims)
{
    shard_t *sh;
    entry_t *e = slot_for(c, key, &sh);

    apr_thread_mutex_lock(sh->mutex);
    memcpy(e->key, key, LC_TOKEN_CACHE_KEY);
    e->policy = policy;
    e->until = until;
    e->claims = *claims;
    apr_thread_mutex_unlock(sh->mutex);
}
