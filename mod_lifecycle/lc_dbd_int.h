/* lc_dbd_int.h — what the files of the dbd backend share (not its users).
 *
 *   lc_dbd_row.c     a row's text <-> lc_resource_t (pure)
 *   lc_dbd_stmt.c    the statements' text
 *   lc_dbd_sql.c     preparing them per connection, running them, and
 *                    telling a lost race from a lost database
 *   lc_dbd_schema.c  creating and upgrading the schema
 *   lc_store_dbd.c   the store operations
 *   lc_dbd_feed.c    the change feed: sequencer, reads, long-polls
 */
#ifndef LC_DBD_INT_H
#define LC_DBD_INT_H

#include "lc_dbd.h"

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

#define LC_DBD_TRIES 8          /* lost races and retried errors per operation */
#define LC_DBD_OPTIMISTIC 2     /* lost races before an update takes the row's lock */

typedef enum {
    LC_Q_GET, LC_Q_GET_ALIAS, LC_Q_GET_LOCK, LC_Q_CREATE, LC_Q_UPDATE, LC_Q_UPDATE_ALIAS, LC_Q_REMOVE,
    LC_Q_LIST, LC_Q_DUE_CLAIM, LC_Q_DUE_CLEAR, LC_Q_NEXT_DUE,
    LC_Q_FEED_PEEK, LC_Q_FEED_LOCK, LC_Q_FEED_NUMBER, LC_Q_FEED_READ, LC_Q_FEED_TRIM,
    LC_Q_COUNT
} lc_dbd_q_e;

/* The backend's per-process state (lc_store_t.impl). */
typedef struct lc_dbd {
    lc_dbd_source_t   src;
    lc_dbd_shared_t  *sh;
    lc_dbd_options_t  opt;
    int               schema_ok;   /* this process saw the schema in place */
    apr_time_t        logged;      /* last failure logged (one line a second at most) */
} lc_dbd_t;

/* ---- rows (lc_dbd_row.c) ---------------------------------------------------------- */

/* Fill r from a row's LC_DBD_NCOLS texts (v[0] = kind ... v[17] = data);
 * r->seq gets the row's position.  APR_EGENERAL when a value is not what
 * the schema allows (a number out of range, a string too long). */
apr_status_t lc_dbd_row_parse(const char *const *v, lc_resource_t *r);

/* r's LC_DBD_NIMAGE image values as statement parameters (text). */
void lc_dbd_row_image(const lc_resource_t *r, apr_pool_t *p, const char **v);

/* "%" APR_INT64_T_FMT of v as the signed bigint the schema holds. */
const char *lc_dbd_i64(apr_pool_t *p, int64_t v);

/* The SQLSTATE in a verbose libpq message ("ERROR:  40001: could not ...")
 * into out (6 bytes); 0 when there is none. */
int lc_dbd_sqlstate(const char *msg, char *out);

/* Whether a SQLSTATE means "rolled back by a conflict: run it again"
 * (serialization failure, deadlock, a unique key taken by a racing insert). */
int lc_dbd_retryable(const char *sqlstate);

/* ---- statements (lc_dbd_sql.c) ----------------------------------------------------- */

/* Get a connection and make it ready (schema checked once per process,
 * statements prepared once per connection).  LC_EUNAVAIL when it cannot. */
apr_status_t lc_dbd_begin(lc_dbd_t *d, apr_pool_t *p, lc_dbd_conn_t *c);
void lc_dbd_end(lc_dbd_t *d, lc_dbd_conn_t *c);

/* Run statement q with its parameters (as many as it has).  *res gets its
 * rows (may be NULL when none are wanted).  APR_SUCCESS, LC_DBD_ERETRY or
 * LC_EUNAVAIL (logged).  A statement a connection reset lost is prepared
 * again and run once more. */
apr_status_t lc_dbd_run(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p, lc_dbd_q_e q,
                        const char **args, apr_dbd_results_t **res);

/* Plain SQL without parameters (BEGIN, COMMIT, ROLLBACK, the schema). */
apr_status_t lc_dbd_exec(lc_dbd_t *d, lc_dbd_conn_t *c, const char *sql);

/* How many rows res holds (0 for NULL). */
int lc_dbd_rows(lc_dbd_conn_t *c, apr_dbd_results_t *res);

/* Row i's n texts from column `first` (NULLs past the end). */
void lc_dbd_row(lc_dbd_conn_t *c, apr_pool_t *p, apr_dbd_results_t *res, int i, int first,
                int n, const char **v);

/* One failure line, at most one a second per process. */
void lc_dbd_log(lc_dbd_t *d, int level, const char *msg);

/* ---- the feed (lc_dbd_feed.c): lc_store.h's changes_read and changes_wait ----------- */

apr_status_t lc_dbd_changes_read(lc_store_t *st, uint64_t since, lc_change_t *out, int max,
                                 int *n, uint64_t *oldest, apr_pool_t *p);
apr_status_t lc_dbd_changes_wait(lc_store_t *st, uint64_t since, apr_interval_time_t timeout,
                                 apr_pool_t *p);

/* ---- statements' text (lc_dbd_stmt.c) ---------------------------------------------- */

/* Text and label of statement q; label "sql" for q = LC_Q_COUNT (plain SQL). */
const char *lc_dbd_sql_text(lc_dbd_q_e q);
const char *lc_dbd_sql_label(lc_dbd_q_e q);

#endif
