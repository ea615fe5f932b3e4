/* lc_resource.h — the resource record every backend stores and every dialect reads.
 *
 * A resource is (kind, id).  In process memory it is one fixed-size struct
 * whose attribute text comes last: backends keep only the bytes in use (a
 * shared-memory slot holds the hot fields, a heap block the strings), so
 * copy and clear records with lc_resource_copy / lc_resource_clear, which
 * stop at the text's end, never with a whole-struct memcpy or memset.
 */
#ifndef LC_RESOURCE_H
#define LC_RESOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <apr_time.h>

/* A kind's number is in every journal record and snapshot: append a new
 * kind (its table is listed in lc_registry.h), never renumber one. */
typedef enum {
    LC_KIND_NONE = 0,
    LC_KIND_NOTEBOOK,
    LC_KIND_AGENT,
    LC_KIND_WORKSTATION,
    LC_KIND_WRAPPER,
    LC_KIND_PIPELINE,
    LC_KIND_SESSION,
    LC_KIND_COUNT
} lc_kind_e;

#define LC_ID_MAX     128   /* longest id, bytes (the id grammar: 1 + 127) */
#define LC_OWNER_MAX   63   /* longest owner (token sub), bytes */
#define LC_DATA_MAX   16384 /* longest attribute JSON text, bytes (16 KiB) */
#define LC_ALIAS_MAX  128   /* longest secondary key, bytes */
#define LC_ALIASES    2     /* secondary keys a resource may carry */
#define LC_STATE_KEEP 0xff  /* in a rule: leave this state field as it is */

/* What a change was, for the journal and the change feed. */
typedef enum {
    LC_OP_NONE = 0,
    LC_OP_CREATE,
    LC_OP_REPLACE,
    LC_OP_TRANSITION,
    LC_OP_REPORT,
    LC_OP_DELETE
} lc_op_e;

/* Due-queue classes: the background task finishes what is due in each. */
typedef enum {
    LC_DUE_NONE = 0,
    LC_DUE_ADVANCE,      /* LifecycleAutoAdvance */
    LC_DUE_TIMEOUT,      /* LifecycleSuspendTimeout and the like */
    LC_DUE_CLASSES
} lc_due_e;

typedef struct lc_resource {
    uint8_t     kind;          /* lc_kind_e */
    uint8_t     state;         /* index into the kind's state names */
    uint8_t     desired;       /* desired state, for kinds that have one */
    uint8_t     res_state;     /* pipelines: resources status */
    uint8_t     res_desired;   /* pipelines: resources desired status */
    uint8_t     due_class;     /* lc_due_e */
    uint8_t     op;            /* lc_op_e: what the last change was (not stored) */
    uint64_t    version;       /* 1 on create, +1 on every change */
    uint64_t    seq;           /* journal sequence number of the last change (dbd: its
                                  position, unique per change; the feed numbers later) */
    uint64_t    ckpt_seq;      /* pipelines: checkpoint_sequence_number */
    apr_time_t  created;
    apr_time_t  state_since;
    apr_time_t  closed;        /* 0 = not closed */
    apr_time_t  due;           /* 0 = nothing scheduled */
    char        id[LC_ID_MAX + 1];
    char        owner[LC_OWNER_MAX + 1];
    char        alias[LC_ALIASES][LC_ALIAS_MAX + 1];  /* secondary keys, "" = none */
    char        data[LC_DATA_MAX + 1];   /* compact JSON object, "" = {}; keep last */
} lc_resource_t;

/* Every field empty; only the used part of `data` is touched. */
static inline void lc_resource_clear(lc_resource_t *r)
{
    memset(r, 0, offsetof(lc_resource_t, data));
    r->data[0] = '\0';
}

/* *dst = *src, copying the attribute text only up to its end. */
static inline void lc_resource_copy(lc_resource_t *dst, const lc_resource_t *src)
{
    if (dst != src) {
        memcpy(dst, src, offsetof(lc_resource_t, data));
        memcpy(dst->data, src->data, strnlen(src->data, LC_DATA_MAX) + 1);
        dst->data[LC_DATA_MAX] = '\0';
    }
}

/* Whether two records hold the same values (bytes after a string's end and
 * padding do not count). */
static inline int lc_resource_same(const lc_resource_t *a, const lc_resource_t *b)
{
    return a->kind == b->kind && a->state == b->state && a->desired == b->desired
        && a->res_state == b->res_state && a->res_desired == b->res_desired
        && a->due_class == b->due_class && a->op == b->op && a->version == b->version
        && a->seq == b->seq && a->ckpt_seq == b->ckpt_seq && a->created == b->created
        && a->state_since == b->state_since && a->closed == b->closed && a->due == b->due
        && strcmp(a->id, b->id) == 0 && strcmp(a->owner, b->owner) == 0
        && strcmp(a->alias[0], b->alias[0]) == 0 && strcmp(a->alias[1], b->alias[1]) == 0
        && strcmp(a->data, b->data) == 0;
}

#endif
