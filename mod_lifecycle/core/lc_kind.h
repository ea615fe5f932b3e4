/* lc_kind.h — a kind's state machine as data, and the pure engine that runs it.
 *
 * Each kind file (lc_kind_*.c) declares its kind's states, the rules that
 * say which action leads where, what the background task finishes, and how
 * its resources look in JSON.  Nothing here knows any particular kind; the
 * kinds built are listed in lc_registry.h.
 */
#ifndef LC_KIND_H
#define LC_KIND_H

#include <jansson.h>
#include <apr_errno.h>
#include <apr_pools.h>
#include "lc_resource.h"

#define LC_BIT(state)   (1u << (state))

enum {
    LC_RULE_NOOP    = 1,   /* accepted, changes nothing (idempotent action) */
    LC_RULE_ADVANCE = 2,   /* schedule the kind's auto-advance from the new state */
    LC_RULE_CLOSE   = 4    /* sets the closed timestamp */
};

typedef struct lc_rule {
    const char *action;        /* "stop", "launch", ...; NULL ends the table */
    uint32_t    from;          /* LC_BIT() mask of the states it applies in */
    uint8_t     to;            /* new state, or LC_STATE_KEEP */
    uint8_t     desired_to;    /* new desired state, or LC_STATE_KEEP */
    uint8_t     flags;         /* LC_RULE_* */
    /* Kind-specific bookkeeping (new job, checkpoint, ...), may be NULL. */
    void      (*effect)(lc_resource_t *r, apr_time_t now);
    /* LC_BIT() mask of the desired states it applies in; 0 = any.  (A
     * pipeline's graceful stop is a desired status, not a state of its own.) */
    uint32_t    desired;
} lc_rule_t;

/* What the background task (or a runner) finishes: `from` moves to `to`. */
typedef struct lc_advance {
    uint8_t from;              /* LC_STATE_KEEP ends the table */
    uint8_t to;
    uint8_t flags;             /* LC_RULE_ADVANCE: the new state advances too */
    /* Bookkeeping of the move (a checkpoint taken, ...), may be NULL. */
    void  (*effect)(lc_resource_t *r, apr_time_t now);
    uint32_t desired;          /* LC_BIT() mask of desired states it applies in; 0 = any */
} lc_advance_t;

/* The configured timeouts a kind's table can name (LifecycleSuspendTimeout, ...). */
typedef enum {
    LC_TIMEOUT_SUSPEND = 0,
    /* No configured length: the resource's own deadline, the r->due its
     * kind's request path queued as LC_DUE_TIMEOUT (a Notte session's
     * max_duration_minutes / idle_timeout_minutes, lc_notte_timeout.c).
     * Entering the state queues nothing; a state left clears it. */
    LC_TIMEOUT_OWN,
    LC_TIMEOUTS
} lc_timeout_e;

/* A state that must not last longer than a configured timeout: when it
 * passes, the background task moves `state` to `to` (with `effect`).  The
 * timeout runs from entering the state; LC_DUE_TIMEOUT queues it. */
typedef struct lc_timeout {
    uint8_t state;             /* LC_STATE_KEEP ends the table */
    uint8_t which;             /* lc_timeout_e */
    uint8_t to;
    uint8_t flags;             /* LC_RULE_ADVANCE: the new state advances too */
    void  (*effect)(lc_resource_t *r, apr_time_t now);
    uint32_t desired;          /* LC_BIT() mask of desired states it applies in; 0 = any */
} lc_timeout_t;

typedef struct lc_kind_def lc_kind_def_t;

struct lc_kind_def {
    lc_kind_e            kind;
    const char          *name;       /* the admin API's name: "workstation" */
    const char *const   *states;     /* state names, index = state value */
    unsigned             nstates;
    const lc_rule_t     *rules;
    const lc_advance_t  *advances;
    /* The dialect's own representation (its GET body). */
    json_t            *(*to_json)(const lc_resource_t *r);
    /* Fill r from an admin PUT body; on error *field names the culprit
     * (allocated from p when it has to be built). */
    apr_status_t       (*from_json)(json_t *body, lc_resource_t *r, const char **field,
                                    apr_pool_t *p);
    /* Optional (NULL = none / always / the generic report): */
    const lc_timeout_t  *timeouts;
    /* May the background task finish r's transitional state, or does a
     * runner have to report it?  (Timeouts are enforced either way.) */
    int                (*may_auto_advance)(const lc_resource_t *r);
    /* A runner's report body for this kind, applied to r with the store
     * locked: APR_SUCCESS (r changed), LC_NOCHANGE, APR_EINVAL with *field
     * naming the culprit, or LC_EILLEGAL (it does not fit r's state). */
    apr_status_t       (*report)(const lc_kind_def_t *def, lc_resource_t *r, json_t *body,
                                 apr_time_t now, apr_interval_time_t advance_after,
                                 const char **field);
};

/* Registered kinds, by number and by name (their def->name). */
void                 lc_kind_register(const lc_kind_def_t *def);
const lc_kind_def_t *lc_kind_def(lc_kind_e kind);       /* NULL: not registered */
lc_kind_e            lc_kind_by_name(const char *name); /* LC_KIND_NONE if unknown */
const char          *lc_kind_name(lc_kind_e kind);      /* "?" if unknown */
int                  lc_kind_state(const lc_kind_def_t *def, const char *name); /* -1 */
const char          *lc_kind_state_name(const lc_kind_def_t *def, unsigned state);

/* Apply `action` to r: APR_SUCCESS (r changed), LC_NOCHANGE, LC_EILLEGAL (no
 * rule for this state), APR_ENOENT (the kind has no such action).
 * `advance_after` < 0 means nothing is scheduled (auto-advance off). */
apr_status_t lc_kind_apply(const lc_kind_def_t *def, lc_resource_t *r,
                           const char *action, apr_time_t now,
                           apr_interval_time_t advance_after);

/* Finish r's transitional state: APR_SUCCESS, or LC_NOCHANGE when its state
 * has nothing to finish. */
apr_status_t lc_kind_advance(const lc_kind_def_t *def, lc_resource_t *r,
                             apr_time_t now, apr_interval_time_t advance_after);

/* Schedule the auto-advance of r's current state if it is transitional
 * (e.g. after an admin PUT put it there); clear it otherwise. */
void lc_kind_schedule(const lc_kind_def_t *def, lc_resource_t *r, apr_time_t now,
                      apr_interval_time_t advance_after);

/* The due entry of r fell due (store locked): an LC_DUE_ADVANCE entry
 * finishes its transitional state (dropped when auto-advance is off, e.g.
 * after a restart that turned it off), an LC_DUE_TIMEOUT entry applies the
 * kind's timeout for its state.  APR_SUCCESS or LC_NOCHANGE. */
apr_status_t lc_kind_due(const lc_kind_def_t *def, lc_resource_t *r, apr_time_t now,
                         apr_interval_time_t advance_after);

/* The configured length of a timeout (< 0: none); server-wide, set from the
 * configuration in every process before any request or tick. */
void                lc_kind_set_timeout(lc_timeout_e which, apr_interval_time_t after);
apr_interval_time_t lc_kind_timeout(lc_timeout_e which);

/* The state a transitional `state` advances to, or -1 when none (the first
 * move the table lists for it, whatever the desired state). */
int lc_kind_advance_target(const lc_kind_def_t *def, unsigned state);

/* The state r advances to from where it is, given its desired state, or -1. */
int lc_kind_next_state(const lc_kind_def_t *def, const lc_resource_t *r);

/* Whether the kind finishes `state` by itself (an lc_advance_t names it). */
int lc_kind_is_transitional(const lc_kind_def_t *def, unsigned state);

/* The first key of obj not in `known` (NULL-terminated), or NULL: how
 * from_json finds the field of an admin PUT body that does not fit. */
const char *lc_kind_unknown_field(json_t *obj, const char *const *known);

/* Encode / decode the attribute JSON kept in r->data (bounded, compact). */
apr_status_t lc_kind_set_data(lc_resource_t *r, json_t *attrs);
json_t      *lc_kind_get_data(const lc_resource_t *r);

#endif
