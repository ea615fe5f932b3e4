/* lc_dialect_act.h — what every dialect's handlers use to act on the store.
 * It knows no dialect (mod_lifecycle.c, the dispatcher, knows them all).
 *
 * Every change a request makes goes through lc_dialect_engine_act,
 * lc_dialect_update or lc_dialect_remove, which write its audit line
 * when, and only when, something changed (APR_SUCCESS): no
 * dialect can forget it, or write it on a no-change.  An action on one
 * resource, answered, is lc_dialect_act: If-Match, the engine, the audit
 * line, and the answer to every outcome in the dialect's own words.
 */
#ifndef LC_DIALECT_ACT_H
#define LC_DIALECT_ACT_H

#include "lc_dialect.h"

/* The engine's view of this request: action, If-Match, actor, ownership. */
void lc_dialect_act_init(lc_req_t *q, const lc_kind_def_t *def, const char *id,
                         const char *action, const lc_precond_t *if_match, lc_act_t *act);

/* The scope that refused this request (for bodies that name it), or NULL. */
const char *lc_dialect_refused_scope(lc_req_t *q);

/* ---- audited changes -------------------------------------------------------------- */

/* lc_engine_act, audited from before's state to after's (neither may be NULL). */
apr_status_t lc_dialect_engine_act(lc_req_t *q, const lc_act_t *act, lc_resource_t *before,
                                   lc_resource_t *after);

/* lc_store_update with a callback of the dialect's own (a create, a replace,
 * a report), audited from the state the record had, "-" when it is new.
 * `before` (may be NULL) gets the record as it was when there was one. */
apr_status_t lc_dialect_update(lc_req_t *q, const lc_kind_def_t *def, const char *id,
                               lc_store_update_fn *fn, void *baton, lc_resource_t *before,
                               lc_resource_t *after);

/* lc_store_remove, audited from the state it had to "-" (gone not NULL). */
apr_status_t lc_dialect_remove(lc_req_t *q, const lc_kind_def_t *def, const char *id,
                               uint64_t expect_version, lc_resource_t *gone);

/* ---- one action, answered in the dialect's own terms ----------------------------------- */

/* What an action can come to, short of a success or a no-change. */
typedef enum {
    LC_ACT_MALFORMED,   /* the If-Match header does not parse */
    LC_ACT_NOTFOUND,    /* LC_ENOTFOUND */
    LC_ACT_ILLEGAL,     /* LC_EILLEGAL: no rule from the current state */
    LC_ACT_FORBIDDEN,   /* LC_EFORBIDDEN: another owner's (LifecycleOwnerCheck) */
    LC_ACT_VERSION,     /* LC_EVERSION: If-Match is stale */
    LC_ACT_FULL,        /* LC_EFULL */
    LC_ACT_UNAVAILABLE, /* LC_EUNAVAIL: the store's database is out of reach (503, Retry-After);
                           status 0: lc_dialect_unavailable's code "unavailable" */
    LC_ACT_FAILED,      /* anything else: an unknown action (APR_ENOENT), the store failing */
    LC_ACT_OUTCOMES
} lc_act_outcome_e;

/* How a dialect answers one outcome, through its `error` callback.  In the
 * message, {id} is the resource's id, {name} how the request named it,
 * {action}, {kind} the kind's name, {version} the current version and {rv}
 * the result's number. */
typedef struct lc_act_refusal {
    int         status;     /* 0: answered as LC_ACT_FAILED */
    const char *code;
    const char *message;
    int         etag;       /* 1: with the current version's ETag */
} lc_act_refusal_t;

typedef struct lc_act_refusals {
    lc_act_refusal_t on[LC_ACT_OUTCOMES];
} lc_act_refusals_t;

typedef struct lc_dialect_call lc_dialect_call_t;

/* One action on one resource, as a dialect asks for it. */
struct lc_dialect_call {
    const lc_kind_def_t  *def;
    const char           *id;           /* `prepare` may set it */
    const char           *action;
    const char           *name;         /* {name}; NULL: the id */
    /* lc_act_t's guard (a dialect's own precondition, store locked), may be NULL. */
    apr_status_t        (*guard)(const lc_resource_t *r, void *baton);
    void                 *guard_baton;
    const lc_act_refusals_t *refusals;
    /* The answer to a success or a no-change (its ETag is the hook's to set). */
    int                 (*answer)(lc_req_t *q, const lc_dialect_call_t *c,
                                const lc_resource_t *before, const lc_resource_t *after);
    /* Optional.  Checks between If-Match and the action: LC_PROCEED, or the
     * answer sent.  (Redivis resolves the reference to the id here.) */
    int                 (*prepare)(lc_req_t *q, lc_dialect_call_t *c);
    /* Optional.  The dialect's own answer to a result its refusals cannot say
     * (a guard's code, an error with details), or LC_PROCEED for theirs.
     * `cur` is the current record where the store gave one. */
    int                 (*refuse)(lc_req_t *q, const lc_dialect_call_t *c, apr_status_t rv,
                               const lc_resource_t *cur);
    /* Optional.  Instead of the kind's action, this store callback (the admin
     * report), handed the call with `act` filled. */
    lc_store_update_fn   *apply;
    void                 *baton;        /* the dialect's, for its hooks */
    /* Filled by lc_dialect_act; its if_match lives only during the call. */
    lc_act_t              act;
};

/* Parse If-Match (LC_ACT_MALFORMED), run `prepare`, fill c->act, act (audited),
 * and answer: `answer` on APR_SUCCESS and LC_NOCHANGE, lc_dialect_refuse on
 * anything else. */
int lc_dialect_act(lc_req_t *q, lc_dialect_call_t *c);

/* The answer to a result that is not a success: c->refuse's, else c->refusals'.
 * `cur` may be NULL. */
int lc_dialect_refuse(lc_req_t *q, const lc_dialect_call_t *c, apr_status_t rv,
                      const lc_resource_t *cur);

/* A store that failed: `Retry-After` of a 503. */
#define LC_RETRY_AFTER "1"

/* A store call failed with rv: LC_EUNAVAIL and LC_EUNKNOWN are 503 with
 * Retry-After in the dialect's error shape (code "unavailable"); anything
 * else 500 with `code` and `message`.  Returns the handler's result. */
int lc_dialect_store_failed(lc_req_t *q, apr_status_t rv, const char *code,
                            const char *message);

/* The 503 itself, with the dialect's own code for it. */
int lc_dialect_unavailable(lc_req_t *q, const char *code);

/* The 503 of LC_EUNKNOWN (a write that may have been made), same code. */
int lc_dialect_unknown(lc_req_t *q, const char *code);

#endif
