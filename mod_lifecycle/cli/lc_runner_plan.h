/* lc_runner_plan.h — what lifecycle-runner does for a resource it sees in
 * the change feed: which command (kind.action), and what it reports after.
 *
 * Pure (jansson only): the runner's knowledge of the five kinds' tables
 * (mod_lifecycle/kinds/lc_kind_*.c) as the admin API shows them, seen from the
 * outside.  A row matches a resource by its status (and, for pipelines, its
 * desired status) and by the change's op. */
#ifndef LC_RUNNER_PLAN_H
#define LC_RUNNER_PLAN_H

#include <jansson.h>

/* The change feed's ops, plus "list" (a resource found by re-listing after
 * a 410), as bits. */
enum {
    LC_RUN_OP_CREATE     = 1,
    LC_RUN_OP_REPLACE    = 2,
    LC_RUN_OP_TRANSITION = 4,
    LC_RUN_OP_REPORT     = 8,
    LC_RUN_OP_LIST       = 16,
    LC_RUN_OP_ANY        = 31
};

/* Row flags. */
enum {
    /* The move already happened (a user's stop): the command follows it, and
     * nothing is reported unless it fails.  Run even when the resource has
     * changed since (the stop happened). */
    LC_RUN_TEARDOWN = 1,
    /* Cancels the resource's other commands in progress first (their
     * outcome is no longer wanted). */
    LC_RUN_CANCELS  = 2
};

/* The longest kind and action names (the job files are named after them). */
#define LC_RUN_NAME_MAX 16

typedef struct lc_runner_row {
    const char *state;      /* the status it applies in */
    const char *desired;    /* the desired status (pipelines): NULL any, "!X" any but X */
    unsigned    ops;        /* LC_RUN_OP_* it applies to */
    const char *action;     /* the configured command KIND.ACTION; NULL: none, report at once */
    const char *ok;         /* status reported on success, NULL: no report */
    const char *fail;       /* status reported on failure, NULL: no report */
    unsigned    flags;      /* LC_RUN_TEARDOWN, LC_RUN_CANCELS */
} lc_runner_row_t;

typedef struct lc_runner_kind {
    const char *name;           /* the admin API's kind name */
    const char *id_key;         /* the member holding the id, as the list shows it */
    const char *status_obj;     /* the member holding the status (NULL: the resource) */
    const char *status_key;     /* "status", "deployment_status" */
    const char *error_key;      /* a failure's message, in the status' object; NULL: none */
    const char *outcome_key;    /* true/false for success/failure (agents); NULL: none */
    const char *const *drop;    /* GET fields an admin PUT does not take; NULL */
    int         own_report;     /* the kind's own report body (pipelines) */
    const lc_runner_row_t *rows;
} lc_runner_kind_t;

/* Every kind the runner knows, NULL-terminated. */
extern const lc_runner_kind_t *const lc_runner_kinds[];

const lc_runner_kind_t *lc_runner_kind(const char *name);

/* The op's bit ("create", ..., "list"), 0 when unknown ("delete"). */
unsigned lc_runner_op(const char *op);

/* The resource's status, or NULL. */
const char *lc_runner_status(const lc_runner_kind_t *k, json_t *resource);

/* The row the resource (after a change `op`) matches, or NULL: nothing to do. */
const lc_runner_row_t *lc_runner_plan(const lc_runner_kind_t *k, unsigned op,
                                      json_t *resource);

/* Whether KIND.ACTION names a command some row runs. */
int lc_runner_action_known(const char *kind, const char *action);

/* What the runner sends after a command (or at once, for a row without
 * one).  `resource` is the representation the command was given; `out` the
 * JSON object the command printed (NULL: none), merged into the report;
 * `message` what went wrong (failure only).  Returns NULL when nothing is
 * reported, else a new reference to the body and *put: 1 = PUT the whole
 * representation (a richer report: water marks, answers, messages), 0 =
 * POST .../report. */
json_t *lc_runner_report(const lc_runner_kind_t *k, const lc_runner_row_t *row, int ok,
                         json_t *resource, json_t *out, const char *message, int *put);

#endif
