/* lc_engine.h — one engine applies every kind's table to the store. */
#ifndef LC_ENGINE_H
#define LC_ENGINE_H

#include "lc_store.h"
#include "lc_kind.h"
#include "lc_actor.h"

#define LC_PRECOND_MAX 8

/* An If-Match / If-None-Match precondition, parsed from its header. */
typedef struct lc_precond {
    int      present;
    int      any;                   /* "*" */
    int      n;
    uint64_t versions[LC_PRECOND_MAX];
} lc_precond_t;

/* Parse an entity-tag list of "<version>" values (weak tags never match
 * If-Match: they are parsed and dropped).  Returns 0, or -1 when malformed. */
int lc_precond_parse(const char *header, lc_precond_t *pc);

/* If-Match semantics: does a resource (exists, version) satisfy it? */
int lc_precond_match(const lc_precond_t *pc, int exists, uint64_t version);

typedef struct lc_act {
    const lc_kind_def_t *def;
    const char          *id;
    const char          *action;
    const lc_precond_t  *if_match;       /* may be NULL */
    apr_time_t           now;
    apr_interval_time_t  advance_after;  /* < 0: auto-advance off */
    const lc_actor_t    *actor;          /* may be NULL */
    int                  owner_check;    /* LifecycleOwnerCheck: only the owner acts */
    /* A dialect's own precondition (Notte's session_id, a wrapper whose process
     * cannot be signalled), checked with the store locked after If-Match and
     * the owner check, so that it cannot race a concurrent change.  Anything
     * but APR_SUCCESS aborts the action with that status.  May be NULL. */
    apr_status_t       (*guard)(const lc_resource_t *r, void *baton);
    void                *guard_baton;
    apr_pool_t          *pool;           /* the caller's: the store's per-call allocations */
} lc_act_t;

/* LifecycleOwnerCheck: may this actor transition r?  (The owner, or a holder
 * of lifecycle.admin; anyone when the check is off or r has no owner.) */
int lc_engine_may_act(const lc_act_t *act, const lc_resource_t *r);

/* Apply an action atomically.  `before` and `after` (each may be NULL) get
 * the record before and after; on LC_NOCHANGE / LC_EILLEGAL / LC_EVERSION /
 * LC_EFORBIDDEN both get the current record.  Returns APR_SUCCESS,
 * LC_NOCHANGE, LC_ENOTFOUND, LC_EILLEGAL, LC_EVERSION, LC_EFORBIDDEN (owner
 * check), APR_ENOENT (unknown action) or a store failure. */
apr_status_t lc_engine_act(lc_store_t *st, const lc_act_t *act,
                           lc_resource_t *before, lc_resource_t *after);

/* Told of each move the background step made (store locked: copy, do not log). */
typedef void lc_engine_moved_fn(const lc_resource_t *before,
                                const lc_resource_t *after, void *baton);

/* Background step: finish up to `max` due transitional states and apply the
 * timeouts that passed (lc_kind_due), oldest first. */
apr_status_t lc_engine_advance_due(lc_store_t *st, apr_time_t now,
                                   apr_interval_time_t advance_after, int max,
                                   lc_engine_moved_fn *moved, void *baton, apr_pool_t *p);

#endif
