/* lc_dbd_call.h — one statement on a borrowed connection, with a deadline
 * (lc_dbd_call.c).  Used by the dbd backend's files only. */
#ifndef LC_DBD_CALL_H
#define LC_DBD_CALL_H

#include "lc_dbd.h"

#define LC_DBD_TIMEOUT_DEFAULT apr_time_from_sec(5)   /* LifecycleDbdTimeout */

typedef struct pg_result lc_dbd_res_t;      /* libpq's PGresult */

typedef enum {
    LC_CALL_OK,         /* done; res holds the last result */
    LC_CALL_ERROR,      /* the server refused it; the connection is fine; sqlstate set */
    LC_CALL_LOST,       /* the connection is gone (no SQLSTATE, 57P01..57P03, closed) */
    LC_CALL_TIMEOUT     /* the deadline passed: the connection has been closed */
} lc_dbd_outcome_e;

typedef struct lc_dbd_call {
    lc_dbd_outcome_e outcome;
    char             sqlstate[6];  /* "" when none */
    const char      *message;      /* the database's first line, bounded (never NULL) */
    int              unsure;       /* a warning said a commit may not have reached the
                                    * synchronous standby (its wait was cancelled) */
    lc_dbd_res_t    *res;          /* LC_CALL_OK: freed with the call's pool */
} lc_dbd_call_t;

/* Prepared statement `label` with n text parameters. */
void lc_dbd_call_prepared(lc_dbd_conn_t *c, apr_pool_t *p, const char *label, int n,
                          const char *const *args, lc_dbd_call_t *out);

/* Plain SQL without parameters. */
void lc_dbd_call_sql(lc_dbd_conn_t *c, apr_pool_t *p, const char *sql, lc_dbd_call_t *out);

/* PREPARE label AS sql, sql in apr_dbd's notation (%hd smallint, %d
 * integer, %lld bigint, %pDt text, numbered in order of appearance). */
void lc_dbd_call_prepare(lc_dbd_conn_t *c, apr_pool_t *p, const char *label, const char *sql,
                         lc_dbd_call_t *out);

/* Close the connection's socket, keeping libpq's handle (the pool owns
 * it): its status turns bad, so mod_dbd's check at the next open resets
 * it into a new session instead of handing out the old one. */
void lc_dbd_call_break(lc_dbd_conn_t *c);

/* Whether the connection is up, and its server process (0 when none):
 * prepared statements belong to one server process. */
int lc_dbd_call_up(lc_dbd_conn_t *c);
int lc_dbd_call_backend(lc_dbd_conn_t *c);

/* Rows of a result, and row i's n texts from column `first` (NULL for SQL NULL). */
int lc_dbd_res_rows(const lc_dbd_res_t *res);
void lc_dbd_res_row(const lc_dbd_res_t *res, int i, int first, int n, const char **v);

#endif
