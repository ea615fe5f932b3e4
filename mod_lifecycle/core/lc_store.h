/* lc_store.h — where resources live, and the changes made to them.
 *
 * Dialects, the engine, the change feed, the metrics and the background
 * work see only this interface; which backend fills it is the httpd
 * layer's choice (lc_provider.h, `LifecycleStore`).  The shared-memory
 * store with its journal (lc_store_shm.c, lc_journal*.c) is the first.
 * Every operation is atomic with respect to every other, in every process.
 * Callbacks run while the store is locked: they must not block, allocate
 * from shared pools or do I/O.  A database backend (lc_store_dbd.c) runs
 * them on a row image it read instead, and runs them again on a fresh
 * image when another writer got there first: a callback may run more than
 * once per call, and only its last run counts.
 *
 * The rules every backend applies around that callback (the key checked
 * and kept, a duplicate alias refused, the due time normalised, the
 * change's operation worked out) are lc_store.c's, below: a backend only
 * finds and stores records.
 *
 * Changes.  Every update, remove and due move is one change with the next
 * sequence number, appended in the same atomic change as the resource (and
 * its r->seq is that number).  changes_read gives them back in order.
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
/* The store cannot answer now (its database is unreachable or a statement
 * failed, retries exhausted): nothing was changed, or nothing is known to
 * have been; the client may retry (503, Retry-After). */
#define LC_EUNAVAIL   (APR_OS_START_USERERR + 706)
/* A write whose outcome the store could not learn (its database connection
 * was lost, or its deadline passed, during the write or its commit, or the
 * commit may not have reached the synchronous standby): it may have been
 * made.  503 with Retry-After, saying so, never "nothing was changed". */
#define LC_EUNKNOWN   (APR_OS_START_USERERR + 707)

/* Shared bytes every backend reserves, kept across graceful restarts, for
 * the httpd layer's request counters (lc_provider.h's counters). */
#define LC_METRICS_AREA 2048

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

/* Called once per resource by each (store locked, the same rules); return
 * non-zero to end the walk there. */
typedef int lc_store_visit_fn(const lc_resource_t *r, void *baton);

/* A change as the feed reads it back. */
typedef struct lc_change {
    uint64_t      seq;
    int           op;           /* lc_op_e */
    lc_resource_t r;            /* after the change; for deletes, before it */
} lc_change_t;

/* One metric sample a backend reports (lc_metrics.c prints them). */
typedef struct lc_metric {
    const char *name;     /* lifecycle_store_slots */
    const char *type;     /* "gauge" or "counter" */
    const char *help;
    const char *labels;   /* state="used", or NULL */
    uint64_t    value;
    int         usec;     /* value is microseconds, shown as seconds */
} lc_metric_t;

typedef void lc_metric_fn(const lc_metric_t *m, void *baton);

/* Resources by kind and state (a state is a uint8_t, so 256 per kind), for
 * the status page: n[kind][state]. */
typedef struct lc_store_counts {
    uint64_t n[LC_KIND_COUNT][256];
} lc_store_counts_t;

typedef struct lc_store_ops {
    /* Every op takes the caller's pool `p` (a request's, or the tick's):
     * what a backend allocates per call (a database connection, rows) goes
     * there, never into shared or process pools. */
    apr_status_t (*get)(lc_store_t *st, lc_kind_e kind, const char *id,
                        lc_resource_t *out, apr_pool_t *p);
    /* The resource of `kind` one of whose aliases is `alias`; LC_ENOTFOUND if none. */
    apr_status_t (*get_alias)(lc_store_t *st, lc_kind_e kind, const char *alias,
                              lc_resource_t *out, apr_pool_t *p);
    /* Read-modify-write.  `out` (may be NULL) receives the resulting record. */
    apr_status_t (*update)(lc_store_t *st, lc_kind_e kind, const char *id,
                           lc_store_update_fn *fn, void *baton, lc_resource_t *out,
                           apr_pool_t *p);
    /* Remove; expect_version 0 = any.  `out` (may be NULL) gets the last record. */
    apr_status_t (*remove)(lc_store_t *st, lc_kind_e kind, const char *id,
                           uint64_t expect_version, lc_resource_t *out, apr_pool_t *p);
    /* Up to `limit` resources of `kind` with id > after (bytewise), in id
     * order; state < 0 = any.  *more is set when further ones exist. */
    apr_status_t (*list)(lc_store_t *st, lc_kind_e kind, int state,
                         const char *after, int limit, lc_resource_t *out,
                         int *n, int *more, apr_pool_t *p);
    /* Apply fn to up to `max` resources whose due time has passed, oldest
     * first; fn must clear or move r->due.  `done` gets each result. */
    apr_status_t (*take_due)(lc_store_t *st, apr_time_t now, int max,
                             lc_store_update_fn *fn, void *baton,
                             lc_store_each_fn *done, void *done_baton, apr_pool_t *p);
    /* Changes with seq > since that are durable, oldest first, up to max.
     * APR_EGENERAL with *oldest set when `since` is older than what is
     * retained; APR_ENOTIMPL when this store keeps no changes (memory only). */
    apr_status_t (*changes_read)(lc_store_t *st, uint64_t since, lc_change_t *out, int max,
                                 int *n, uint64_t *oldest, apr_pool_t *p);
    /* Return once a change newer than `since` is durable, after `timeout`,
     * or early when the process is stopping.  APR_ENOTIMPL as above. */
    apr_status_t (*changes_wait)(lc_store_t *st, uint64_t since, apr_interval_time_t timeout,
                                 apr_pool_t *p);
    /* When the earliest queued due move falls due; 0 when none is queued.
     * Cheap enough for every child's tick: background work asks this
     * before it takes anything. */
    apr_time_t (*next_due)(lc_store_t *st, apr_pool_t *p);
    /* Report the backend's gauges and counters, one emit per sample. */
    void (*metrics)(lc_store_t *st, lc_metric_fn *emit, void *baton, apr_pool_t *p);
    /* Optional (NULL = not available: the status page says so).  Every
     * resource counted once by kind and state; a resource changing during
     * the count is counted in its old or its new state. */
    apr_status_t (*count)(lc_store_t *st, lc_store_counts_t *out, apr_pool_t *p);
    /* Optional (NULL = not available: page through list instead).  fn for
     * every resource of `kind`, in no particular order, in one pass however
     * many there are (list costs a pass per page on a store without an
     * ordered index), the store locked in chunks: a resource changing during
     * the walk is seen once, as it was or as it became; one created or
     * removed meanwhile may or may not be seen.  Redivis's workflows find
     * their notebooks with it (lc_redivis_workflow.c). */
    apr_status_t (*each)(lc_store_t *st, lc_kind_e kind, lc_store_visit_fn *fn, void *baton,
                         apr_pool_t *p);
} lc_store_ops_t;

struct lc_store {
    const lc_store_ops_t *ops;
    void *impl;
};

#define lc_store_get(st, k, id, out, p)          (st)->ops->get((st), (k), (id), (out), (p))
#define lc_store_get_alias(st, k, a, out, p)     (st)->ops->get_alias((st), (k), (a), (out), (p))
#define lc_store_update(st, k, id, fn, b, o, p)  (st)->ops->update((st), (k), (id), (fn), (b), (o), (p))
#define lc_store_remove(st, k, id, v, o, p)      (st)->ops->remove((st), (k), (id), (v), (o), (p))
#define lc_store_list(st, k, s, a, l, o, n, m, p) \
    (st)->ops->list((st), (k), (s), (a), (l), (o), (n), (m), (p))
#define lc_store_take_due(st, now, max, fn, b, d, db, p) \
    (st)->ops->take_due((st), (now), (max), (fn), (b), (d), (db), (p))
#define lc_store_changes_read(st, s, o, m, n, old, p) \
    (st)->ops->changes_read((st), (s), (o), (m), (n), (old), (p))
#define lc_store_changes_wait(st, s, t, p)       (st)->ops->changes_wait((st), (s), (t), (p))
#define lc_store_next_due(st, p)                 (st)->ops->next_due((st), (p))
#define lc_store_metrics(st, e, b, p)            (st)->ops->metrics((st), (e), (b), (p))
/* APR_ENOTIMPL when the backend has no each op. */
#define lc_store_each(st, k, fn, b, p) \
    ((st)->ops->each ? (st)->ops->each((st), (k), (fn), (b), (p)) : APR_ENOTIMPL)
/* APR_ENOTIMPL when the backend has no count op. */
#define lc_store_count(st, o, p) \
    ((st)->ops->count ? (st)->ops->count((st), (o), (p)) : APR_ENOTIMPL)

/* ---- the contract's common steps (lc_store.c), for backends ---------------- */

/* Whether (kind, id) may name a resource: a known kind and 1 to LC_ID_MAX
 * bytes.  An update of another key is APR_EINVAL; a get or remove of one
 * finds nothing (LC_ENOTFOUND). */
int lc_store_valid_key(lc_kind_e kind, const char *id);

/* The same for an alias looked up by get_alias (1 to LC_ALIAS_MAX bytes). */
int lc_store_valid_alias(lc_kind_e kind, const char *alias);

/* Run an update's callback under the contract.  r holds the stored record
 * when `exists`; otherwise it is made here, holding only (kind, id).
 * Returns what the callback returned when that is not APR_SUCCESS (r as it
 * left it: an LC_NOCHANGE caller answers with it); APR_EINVAL when the
 * same alias is set twice; else APR_SUCCESS with r ready to store: its key
 * put back, its due time and class both set or both cleared, r->op
 * LC_OP_CREATE for a new resource, else the callback's or LC_OP_REPLACE.
 * Version, created and seq are left to the backend.  Refusing an alias
 * another resource holds (LC_EEXISTS) is too: only it can see them. */
apr_status_t lc_store_apply(lc_resource_t *r, int exists, lc_kind_e kind, const char *id,
                            lc_store_update_fn *fn, void *baton);

/* The same for a due move (take_due): r holds the due record.  APR_SUCCESS
 * with r ready to store as an LC_OP_TRANSITION; anything else means
 * "nothing to move": take it off the queue unchanged. */
apr_status_t lc_store_apply_due(lc_resource_t *r, lc_store_update_fn *fn, void *baton);

/* Fault injection for crash tests (LifecycleFaultInjection): when set
 * non-zero in a thread, the next update in that thread kills its own
 * process with SIGKILL halfway through writing, with the store locked.
 * Defined by the shared-memory backend, which honours it. */
extern __thread int lc_store_die_midwrite;

#endif
