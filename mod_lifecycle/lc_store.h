/* lc_store.h — where resources live.
 *
 * Dialects and the engine see only this interface.  The shared-memory backend
 * (lc_store_shm.c) is the one built today; a database backend plugs in by
 * filling an lc_store_ops_t.  Every operation is atomic with respect to every
 * other, in every process.  Callbacks run while the store is locked: they
 * must not block, allocate from shared pools or do I/O.
 */
#ifndef LC_STORE_H
#define LC_STORE_H

#include <apr_pools.h>
#include <apr_errno.h>
#include "lc_resource.h"

/* Status codes beyond APR's. */
#define LC_ENOTFOUND  APR_NOTFOUND                  /* no such (kind, id) */
#define LC_EFULL      APR_ENOSPC                    /* capacity reached */
#define LC_NOCHANGE   (APR_OS_START_USERERR + 701)  /* callback: leave it as it is */
#define LC_EVERSION   (APR_OS_START_USERERR + 702)  /* If-Match did not match */
#define LC_EILLEGAL   (APR_OS_START_USERERR + 703)  /* action not allowed in this state */
#define LC_EEXISTS    (APR_OS_START_USERERR + 704)  /* create-only on an existing id */
#define LC_EFORBIDDEN (APR_OS_START_USERERR + 705)  /* callback: actor may not do this */

typedef struct lc_store lc_store_t;

/* Decide the new content of r.  `exists` is 0 when (kind, id) is new: r then
 * holds only kind and id.  Return APR_SUCCESS to write r, LC_NOCHANGE to keep
 * it, anything else to abort with that status.  The store sets version and
 * created itself. */
typedef apr_status_t lc_store_update_fn(lc_resource_t *r, int exists, void *baton);

/* Secondary keys (aliases).  A resource carries up to LC_ALIASES aliases in
 * r->alias[] ("" = none; each at most LC_ALIAS_MAX bytes, e.g. Redivis's
 * "name:owner.workflow.notebook" and "ref:nb01").  The update callback sets
 * them like any other field (it finds the current ones in r).  Contract:
 *  - Among the resources of one kind an alias names at most one resource
 *    (in either position); aliases and ids are separate namespaces.
 *  - An update (create or replace) whose new alias is already held by another
 *    resource of the kind fails with LC_EEXISTS and changes nothing; the same
 *    non-empty alias twice on one resource is APR_EINVAL.
 *  - Aliases change atomically with the rest of the resource (a crash mid-
 *    update rolls both back), are released when it is removed, and are
 *    journaled, snapshotted and restored with it.
 *  - get_alias finds the resource in O(1), with the same consistency as get. */

/* Called once per listed or due resource, store locked. */
typedef void lc_store_each_fn(const lc_resource_t *r, void *baton);

/* A change as the feed reads it back. */
typedef struct lc_change {
    uint64_t      seq;
    int           op;           /* lc_op_e */
    lc_resource_t r;            /* after the change; for deletes, before it */
} lc_change_t;

#define LC_HEAP_CLASSES 20   /* size classes of the attribute heap */

typedef struct lc_heap_class {
    uint32_t size;        /* bytes a block of this class takes, header included */
    uint32_t used;        /* blocks holding a resource's strings */
    uint32_t free;        /* blocks on the class's free list */
} lc_heap_class_t;

typedef struct lc_store_stats {
    uint32_t capacity;
    uint32_t used;
    uint64_t heap_bytes;  /* attribute memory (LifecycleAttributeMemory) */
    uint64_t heap_used;   /* in blocks holding resources */
    uint64_t heap_free;   /* in free blocks, reusable by their class only */
    lc_heap_class_t heap_class[LC_HEAP_CLASSES];
    uint64_t repairs;     /* updates rolled back after a holder died */
    uint64_t lock_waits;  /* mutex acquisitions */
    uint64_t lock_wait_usec;  /* total time spent waiting for the mutex */
} lc_store_stats_t;

typedef struct lc_store_ops {
    apr_status_t (*get)(lc_store_t *st, lc_kind_e kind, const char *id,
                        lc_resource_t *out);
    /* The resource of `kind` one of whose aliases is `alias`; LC_ENOTFOUND if none. */
    apr_status_t (*get_alias)(lc_store_t *st, lc_kind_e kind, const char *alias,
                              lc_resource_t *out);
    /* Read-modify-write.  `out` (may be NULL) receives the resulting record. */
    apr_status_t (*update)(lc_store_t *st, lc_kind_e kind, const char *id,
                           lc_store_update_fn *fn, void *baton, lc_resource_t *out);
    /* Remove; expect_version 0 = any.  `out` (may be NULL) gets the last record. */
    apr_status_t (*remove)(lc_store_t *st, lc_kind_e kind, const char *id,
                           uint64_t expect_version, lc_resource_t *out);
    /* Up to `limit` resources of `kind` with id > after (bytewise), in id
     * order; state < 0 = any.  *more is set when further ones exist. */
    apr_status_t (*list)(lc_store_t *st, lc_kind_e kind, int state,
                         const char *after, int limit, lc_resource_t *out,
                         int *n, int *more);
    /* Apply fn to up to `max` resources whose due time has passed, oldest
     * first; fn must clear or move r->due.  `done` gets each result. */
    apr_status_t (*take_due)(lc_store_t *st, apr_time_t now, int max,
                             lc_store_update_fn *fn, void *baton,
                             lc_store_each_fn *done, void *done_baton);
    void (*stats)(lc_store_t *st, lc_store_stats_t *out);
} lc_store_ops_t;

struct lc_store {
    const lc_store_ops_t *ops;
    void *impl;
};

#define lc_store_get(st, k, id, out)          (st)->ops->get((st), (k), (id), (out))
#define lc_store_get_alias(st, k, a, out)     (st)->ops->get_alias((st), (k), (a), (out))
#define lc_store_update(st, k, id, fn, b, o)  (st)->ops->update((st), (k), (id), (fn), (b), (o))
#define lc_store_remove(st, k, id, v, o)      (st)->ops->remove((st), (k), (id), (v), (o))
#define lc_store_list(st, k, s, a, l, o, n, m) (st)->ops->list((st), (k), (s), (a), (l), (o), (n), (m))
#define lc_store_take_due(st, now, max, fn, b, d, db) \
    (st)->ops->take_due((st), (now), (max), (fn), (b), (d), (db))
#define lc_store_stats(st, out)               (st)->ops->stats((st), (out))

#endif
