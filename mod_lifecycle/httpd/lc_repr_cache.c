/* lc_repr_cache.c — direct-mapped, sharded cache of serialized representations. */
#include <string.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#include "lc_json.h"
#include "lc_repr_cache.h"

#define SHARDS 16
#define SLOTS  64           /* per shard: 1024 resources per process */

typedef struct entry {
    uint64_t  seq;          /* 0 = empty */
    uint8_t   kind;
    uint16_t  len;
    char      id[LC_ID_MAX + 1];
    char      json[LC_REPR_MAX];
} entry_t;

typedef struct shard {
    apr_thread_mutex_t *mutex;
    entry_t             e[SLOTS];
} shard_t;

static shard_t *shards;

void lc_repr_cache_init(apr_pool_t *p)
{
    shard_t *s = apr_pcalloc(p, sizeof(shard_t) * SHARDS);
    int i;

    for (i = 0; i < SHARDS; i++) {
        if (apr_thread_mutex_create(&s[i].mutex, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS) {
            return;
        }
    }
    shards = s;
}

/* seq alone spreads well: it is unique per change across the store. */
static entry_t *slot_for(const lc_resource_t *r, shard_t **sh)
{
    *sh = &shards[r->seq % SHARDS];
    return &(*sh)->e[(r->seq / SHARDS) % SLOTS];
}

static int same(const entry_t *e, const lc_resource_t *r)
{
    return e->seq == r->seq && e->kind == r->kind && strcmp(e->id, r->id) == 0;
}

static const char *build(apr_pool_t *pool, const lc_kind_def_t *def, const lc_resource_t *r,
                         apr_size_t *len)
{
    json_t *j = def->to_json(r);
    char *out = lc_json_dump(pool, j, JSON_COMPACT, len);

    json_decref(j);
    return out;
}

const char *lc_repr_json(apr_pool_t *pool, const lc_kind_def_t *def, const lc_resource_t *r,
                         apr_size_t *len)
{
    shard_t *sh;
    entry_t *e;
    const char *out;

    if (!shards || !r->seq) {
        return build(pool, def, r, len);
    }
    e = slot_for(r, &sh);
    apr_thread_mutex_lock(sh->mutex);
    if (same(e, r)) {
        *len = e->len;
        out = apr_pstrmemdup(pool, e->json, e->len);
        apr_thread_mutex_unlock(sh->mutex);
        return out;
    }
    apr_thread_mutex_unlock(sh->mutex);
    if ((out = build(pool, def, r, len)) != NULL && *len <= LC_REPR_MAX) {
        apr_thread_mutex_lock(sh->mutex);
        e->seq = r->seq;
        e->kind = r->kind;
        e->len = (uint16_t)*len;
        apr_cpystrn(e->id, r->id, sizeof(e->id));
        memcpy(e->json, out, *len);
        apr_thread_mutex_unlock(sh->mutex);
    }
    return out;
}
