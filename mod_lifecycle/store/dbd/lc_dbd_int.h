/* lc_dbd_int.h — what the files of the dbd backend share (not its users).
 *
 *   lc_dbd_row.c     a row's text <-> lc_resource_t (pure)
 *   lc_dbd_sql.c     the statements' text
 *   lc_dbd_call.c    one call to the database, with a deadline (libpq)
 *   lc_dbd_conn.c    preparing them per connection, running them, and
 *                    telling a lost race from a lost database
 *   lc_dbd_schema.c  creating and upgrading the schema
 *   lc_store_dbd.c   the store operations
 *   lc_dbd_feed.c    the change feed: sequencer, reads, long-polls
 *   lc_dbd_batch.c   one statement for the updates a process makes at once
 */
#ifndef LC_DBD_INT_H
#define LC_DBD_INT_H

#include "lc_dbd.h"
#include "lc_dbd_call.h"
#include "lc_log.h"

/* The columns of a resource row, in the order every statement returns
 * them: LC_DBD_COLS("u.") names them in CTE u.  The image (what a change
 * writes) is everything after the key, version and position. */
#define LC_DBD_IMAGE(x) x "state, " x "desired, " x "res_state, " x "res_desired, " \
    x "due_class, " x "ckpt_seq, " x "created, " x "state_since, " x "closed, " x "due, " \
    x "owner, " x "alias0, " x "alias1, " x "data"
#define LC_DBD_COLS(x) x "kind, " x "id, " x "version, " x "pos, " LC_DBD_IMAGE(x)
#define LC_DBD_NCOLS   18
#define LC_DBD_NIMAGE  14

/* Results of lc_dbd_run beyond APR's and lc_store.h's. */
/* Never a value an update callback may return (those pass through the store:
 * lc_store.h 701-706, the dialects' guard codes such as Feldera's 790-791). */
#define LC_DBD_ERETRY (APR_OS_START_USERERR + 900)  /* rolled back by the server: run again */

#define LC_DBD_ALONE (APR_OS_START_USERERR + 901)   /* lc_dbd_batch: the writer writes it */

/* A write that may or may not have committed (its connection lost, its
 * deadline passed, its wait for the synchronous standby cancelled): the
 * store finds out by reading the row again when it can. */
#define LC_DBD_EUNKNOWN (APR_OS_START_USERERR + 902)
/* A commit whose wait for the synchronous standby was cancelled: visible
 * here, perhaps not on the standby: unknown, and reading cannot tell. */
#define LC_DBD_EUNREPL (APR_OS_START_USERERR + 903)

#define LC_DBD_TRIES 8          /* lost races and retried errors per operation */
#define LC_DBD_OPTIMISTIC 2     /* lost races before an update takes the row's lock */

typedef enum {
    LC_Q_GET, LC_Q_GET_ALIAS, LC_Q_GET_LOCK, LC_Q_CREATE, LC_Q_UPDATE, LC_Q_UPDATE_ALIAS, LC_Q_REMOVE,
    LC_Q_LIST, LC_Q_DUE_CLAIM, LC_Q_DUE_CLEAR, LC_Q_NEXT_DUE,
    LC_Q_FEED_PEEK, LC_Q_FEED_LOCK, LC_Q_FEED_NUMBER, LC_Q_FEED_READ, LC_Q_FEED_TRIM,
    LC_Q_UPDATE_MANY, LC_Q_GET_MANY, LC_Q_TALLY, LC_Q_SYNC_STANDBYS, LC_Q_COUNT
} lc_dbd_q_e;

typedef struct lc_dbd_batch lc_dbd_batch_t;

/* The backend's per-process state (lc_store_t.impl). */
typedef struct lc_dbd {
    lc_dbd_source_t   src;
    lc_dbd_shared_t  *sh;
    lc_dbd_options_t  opt;
    int               schema_ok;   /* this process saw the schema in place */
    apr_time_t        logged;      /* last failure logged (one line a second at most) */
    lc_dbd_batch_t   *batch;       /* this process's writers at once (lc_dbd_batch.c) */
} lc_dbd_t;

/* ---- rows (lc_dbd_row.c) ---------------------------------------------------------- */

/* Fill r from a row's LC_DBD_NCOLS texts (v[0] = kind ... v[17] = data);
 * r->seq gets the row's position.  APR_EGENERAL when a value is not what
 * the schema allows (a number out of range, a string too long). */
apr_status_t lc_dbd_row_parse(const char *const *v, lc_resource_t *r);

/* r's LC_DBD_NIMAGE image values as statement parameters (text). */
void lc_dbd_row_image(const lc_resource_t *r, apr_pool_t *p, const char **v);

/* The parameters of write statement q (LC_Q_CREATE, LC_Q_UPDATE,
 * LC_Q_UPDATE_ALIAS) for r made from version `expect` (aliases `old`, may
 * be NULL), in the order q names them: LC_Q_UPDATE the image first, then
 * kind, id, expect, op; the others kind, id, expect, op, the image, then
 * old's aliases.  args holds LC_DBD_NWRITE. */
#define LC_DBD_NWRITE (4 + LC_DBD_NIMAGE + 2)
void lc_dbd_write_args(lc_dbd_q_e q, apr_pool_t *p, uint64_t expect, const lc_resource_t *old,
                       const lc_resource_t *r, const char **args);

/* The answer of an update statement, its new version and position
 * (v[0], v[1]): *wrote 1.  LC_EUNAVAIL when they are not numbers. */
apr_status_t lc_dbd_written(const char *const *v, int *wrote, uint64_t *version,
                            uint64_t *pos);

/* A PostgreSQL array literal of n texts, vals[0], vals[stride], ...: every
 * element quoted, so that it reads back as the same text (or number). */
const char *lc_dbd_array_literal(apr_pool_t *p, const char *const *vals, int stride, int n);

/* "%" APR_INT64_T_FMT of v as the signed bigint the schema holds. */
const char *lc_dbd_i64(apr_pool_t *p, int64_t v);

/* The SQLSTATE in a verbose libpq message ("ERROR:  40001: could not ...")
 * into out (6 bytes); 0 when there is none. */
int lc_dbd_sqlstate(const char *msg, char *out);

/* Whether a SQLSTATE means "rolled back by a conflict: run it again"
 * (serialization failure, deadlock, a unique key taken by a racing insert). */
int lc_dbd_retryable(const char *sqlstate);

/* ---- statements (lc_dbd_conn.c) ----------------------------------------------------- */

/* Get a connection and make it ready (schema checked once per process,
 * statements prepared once per connection).  LC_EUNAVAIL when it cannot. */
apr_status_t lc_dbd_begin(lc_dbd_t *d, apr_pool_t *p, lc_dbd_conn_t *c);
void lc_dbd_end(lc_dbd_t *d, lc_dbd_conn_t *c);

/* Run statement q with its parameters (as many as it has).  *res gets its
 * rows (may be NULL when none are wanted).  APR_SUCCESS, LC_DBD_ERETRY or
 * LC_EUNAVAIL (logged).  A statement a connection reset lost is prepared
 * again and run once more. */
apr_status_t lc_dbd_run(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p, lc_dbd_q_e q,
                        const char **args, lc_dbd_res_t **res);

/* Plain SQL without parameters (BEGIN, COMMIT, ROLLBACK, the schema). */
apr_status_t lc_dbd_exec(lc_dbd_t *d, lc_dbd_conn_t *c, const char *sql);

/* How many rows res holds (0 for NULL). */
int lc_dbd_rows(lc_dbd_conn_t *c, lc_dbd_res_t *res);

/* Row i's n texts from column `first` (NULLs past the end). */
void lc_dbd_row(lc_dbd_conn_t *c, apr_pool_t *p, lc_dbd_res_t *res, int i, int first,
                int n, const char **v);

/* One failure line, at most one a second per process. */
void lc_dbd_log(lc_dbd_t *d, int level, const char *msg);

/* ---- batched updates (lc_dbd_batch.c) ---------------------------------------------- */

/* NULL when the process cannot make a mutex (then every update runs alone). */
lc_dbd_batch_t *lc_dbd_batch_create(apr_pool_t *p);

/* One update as the batch runs it.  The writer fills kind, id, cur, r,
 * prepare and ctx; the batch reads the row into *cur (exists), calls
 * prepare on whichever thread leads, and writes r over cur's version
 * when prepare says APR_SUCCESS (a plain update, aliases as they were). */
typedef struct lc_dbd_job lc_dbd_job_t;
struct lc_dbd_job {
    lc_kind_e      kind;
    const char    *id;
    lc_resource_t *cur;         /* the row read (when exists) */
    lc_resource_t *r;           /* what prepare made of it; version and seq set when written */
    int            exists;      /* 1 read, 0 none, -1 a row this module cannot read */
    /* After the read: APR_SUCCESS to have r written here, LC_DBD_ALONE to
     * have the writer write it itself, else the update's result. */
    apr_status_t (*prepare)(lc_dbd_job_t *job);
    void          *ctx;
    /* the batch's own */
    apr_status_t   rv;
    int            wrote, done, taken;
    lc_dbd_job_t  *next;
};

/* Run job, alone or with the updates this process's other threads make at
 * the same time, on c or on theirs.  APR_SUCCESS (r written),
 * LC_DBD_ERETRY (the version moved: run it again), LC_DBD_ALONE (prepare
 * said so; cur, exists and r are set), LC_EUNAVAIL, or prepare's result. */
apr_status_t lc_dbd_batch_update(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p,
                                 lc_dbd_job_t *job);

/* ---- the feed (lc_dbd_feed.c): lc_store.h's changes_read and changes_wait ----------- */

apr_status_t lc_dbd_changes_read(lc_store_t *st, uint64_t since, lc_change_t *out, int max,
                                 int *n, uint64_t *oldest, apr_pool_t *p);
apr_status_t lc_dbd_changes_wait(lc_store_t *st, uint64_t since, apr_interval_time_t timeout,
                                 apr_pool_t *p);

/* ---- statements' text (lc_dbd_sql.c) ---------------------------------------------- */

/* Text and label of statement q; label "sql" for q = LC_Q_COUNT (plain SQL). */
const char *lc_dbd_sql_text(lc_dbd_q_e q);
const char *lc_dbd_sql_label(lc_dbd_q_e q);

/* How many parameters statement q takes. */
int lc_dbd_sql_nargs(lc_dbd_q_e q);

#endif
