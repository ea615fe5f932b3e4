/* lc_dbd_conn.c — running the backend's statements on a borrowed connection.
 *
 * Statements are prepared per connection on its first use by this module,
 * not registered with mod_dbd (DBDPrepareSQL / ap_dbd_prepare): PostgreSQL
 * checks at PREPARE that the tables exist, and mod_dbd prepares inside its
 * connection constructor, so a database that was empty or unreachable when
 * the server started would fail every connection until a restart.  Here
 * the schema is checked first (once per process), then the statements are
 * prepared into the connection's session.
 *
 * What is prepared belongs to one server process: the connection's table
 * (mod_dbd's ap_dbd_t.prepared) holds READY -> that process's id, set only
 * once every statement is prepared.  A preparation that stopped half-way
 * (a statement_timeout behind a lock) leaves no mark, and a session that
 * mod_dbd reset (PQreset: a new server process, nothing prepared) has
 * another id: either way the next use prepares them all again, never
 * runs on a half-prepared session.  A statement that still exists in the
 * session (42P05) is as good as prepared.
 *
 * Every call has a deadline (lc_dbd_call.c).  Telling failures apart:
 *   - a conflict the server rolled back (serialization, deadlock, unique
 *     key): run the operation again (LC_DBD_ERETRY);
 *   - 26000, a statement lost: prepare again, run once more;
 *   - 25006 (a read-only node: the statement was refused, nothing ran)
 *     and a lost connection (no SQLSTATE, 57P01..57P03): the session is
 *     closed and a new one taken, and a statement that cannot have written
 *     runs again, up to RECONNECTS times (more than one pooled connection
 *     may have died with the server);
 *   - a write whose connection was lost, whose deadline passed or whose
 *     commit's wait for the synchronous standby was cancelled may have
 *     committed: LC_DBD_EUNKNOWN (LC_DBD_EUNREPL for the cancelled wait,
 *     which reading the row cannot settle), never retried;
 *   - anything else is logged: LC_EUNAVAIL.
 */
#include <string.h>
#include <apr_strings.h>

#include "lc_dbd_int.h"
#include "lc_dbd_call.h"
#include "lc_dbd_schema.h"
#include "lc_dbd_timeline.h"

#define READY "lc:ready"        /* c->prepared: every statement, in this server process */
#define RECONNECTS 3            /* new sessions for one statement that cannot have written */

void lc_dbd_log(lc_dbd_t *d, int level, const char *msg)
{
    apr_time_t now = apr_time_now();

    /* A database that is down fails every request: one line a second says it. */
    if (level == 0 && now - d->logged < apr_time_from_sec(1)) {
        return;
    }
    if (level == 0) {
        d->logged = now;
    }
    if (d->src.log) {
        d->src.log(d->src.ctx, level, msg);
    }
}

static int prepared(lc_dbd_conn_t *c)
{
    int pid = lc_dbd_call_backend(c);

    return pid && (intptr_t)apr_hash_get(c->prepared, READY, APR_HASH_KEY_STRING) == pid;
}

static apr_status_t prepare_all(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p)
{
    lc_dbd_call_t call;
    const char *line;
    int q, pid;

    apr_hash_set(c->prepared, READY, APR_HASH_KEY_STRING, NULL);
    /* A new session: first, whether its node may be written to at all. */
    if (lc_dbd_timeline_check(d, c, p, &line) != APR_SUCCESS) {
        lc_dbd_log(d, 0, LC_TAGGED(line));
        return LC_EUNAVAIL;
    }
    if (line) {
        lc_dbd_log(d, 1, LC_TAGGED(line));
    }
    for (q = 0; q < LC_Q_COUNT; q++) {
        lc_dbd_call_prepare(c, p, lc_dbd_sql_label(q), lc_dbd_sql_text(q), &call);
        /* 42P05: still there from an earlier, interrupted preparation. */
        if (call.outcome != LC_CALL_OK
            && !(call.outcome == LC_CALL_ERROR && strcmp(call.sqlstate, "42P05") == 0)) {
            if (call.outcome == LC_CALL_TIMEOUT) {
                __atomic_add_fetch(&d->sh->timeouts, 1, __ATOMIC_RELAXED);
            }
            lc_dbd_log(d, 0, apr_psprintf(p, LC_LOGNO(00040) "cannot prepare %s: %s", lc_dbd_sql_label(q),
                                          call.message));
            return LC_EUNAVAIL;
        }
    }
    if ((pid = lc_dbd_call_backend(c)) != 0) {
        apr_hash_set(c->prepared, READY, APR_HASH_KEY_STRING, (void *)(intptr_t)pid);
    }
    return APR_SUCCESS;
}

apr_status_t lc_dbd_begin(lc_dbd_t *d, apr_pool_t *p, lc_dbd_conn_t *c)
{
    const char *why = NULL;
    apr_status_t rv;

    memset(c, 0, sizeof(*c));
    if (d->src.open(d->src.ctx, p, c) != APR_SUCCESS || !c->handle) {
        c->handle = NULL;
        lc_dbd_log(d, 0, LC_LOGNO(00041) "no database connection (mod_dbd could not open one)");
        __atomic_add_fetch(&d->sh->unavailable, 1, __ATOMIC_RELAXED);
        return LC_EUNAVAIL;
    }
    c->timeout = d->opt.timeout;
    if (!d->schema_ok) {
        if ((rv = lc_dbd_schema_ensure(c, p, &why)) != APR_SUCCESS) {
            lc_dbd_log(d, 0, LC_TAGGED(why));
            lc_dbd_end(d, c);
            return LC_EUNAVAIL;
        }
        if (why) {
            lc_dbd_log(d, 1, LC_TAGGED(why));
        }
        d->schema_ok = 1;
    }
    if (!prepared(c) && prepare_all(d, c, p) != APR_SUCCESS) {
        lc_dbd_end(d, c);
        return LC_EUNAVAIL;
    }
    return APR_SUCCESS;
}

void lc_dbd_end(lc_dbd_t *d, lc_dbd_conn_t *c)
{
    if (c->handle) {
        d->src.close(d->src.ctx, c);
        c->handle = NULL;
    }
}

/* Statements that change nothing: run again on a new session, they cannot
 * do anything twice.  A statement that writes is never run again after its
 * connection was lost: it may have committed before the connection broke. */
static int read_only(lc_dbd_q_e q)
{
    return q == LC_Q_GET || q == LC_Q_GET_MANY || q == LC_Q_GET_ALIAS || q == LC_Q_LIST
        || q == LC_Q_NEXT_DUE || q == LC_Q_FEED_PEEK || q == LC_Q_FEED_READ || q == LC_Q_TALLY
        || q == LC_Q_SYNC_STANDBYS;
}

/* Give the broken connection back (mod_dbd makes a new session of it at
 * the next open) and take one again, prepared. */
static apr_status_t reconnect(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p)
{
    apr_interval_time_t t = c->timeout;

    __atomic_add_fetch(&d->sh->reconnects, 1, __ATOMIC_RELAXED);
    lc_dbd_call_break(c);
    lc_dbd_end(d, c);
    memset(c, 0, sizeof(*c));
    if (d->src.open(d->src.ctx, p, c) != APR_SUCCESS || !c->handle) {
        c->handle = NULL;
        return LC_EUNAVAIL;
    }
    c->timeout = t;
    return prepared(c) ? APR_SUCCESS : prepare_all(d, c, p);
}

/* What a failed call comes to: RUN_AGAIN (repaired), or the result. */
#define RUN_AGAIN (-1)

static apr_status_t failure(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p, lc_dbd_q_e q,
                            const lc_dbd_call_t *call, int *reconnects)
{
    const char *what = lc_dbd_sql_label(q);

    switch (call->outcome) {
    case LC_CALL_OK:
        return APR_SUCCESS;
    case LC_CALL_TIMEOUT:
        __atomic_add_fetch(&d->sh->timeouts, 1, __ATOMIC_RELAXED);
        lc_dbd_log(d, 0, apr_psprintf(p, LC_LOGNO(00042) "%s: %s (the connection was closed)", what,
                                      call->message));
        return read_only(q) || c->tx ? LC_EUNAVAIL : LC_DBD_EUNKNOWN;
    case LC_CALL_ERROR:
        if (strcmp(call->sqlstate, "26000") == 0 && !c->tx) {
            /* A reset lost the statements; the EXECUTE never ran. */
            __atomic_add_fetch(&d->sh->reprepared, 1, __ATOMIC_RELAXED);
            return prepare_all(d, c, p) == APR_SUCCESS ? RUN_AGAIN : LC_EUNAVAIL;
        }
        if (lc_dbd_retryable(call->sqlstate)) {
            __atomic_add_fetch(&d->sh->retries, 1, __ATOMIC_RELAXED);
            return LC_DBD_ERETRY;
        }
        if (strcmp(call->sqlstate, "25006") == 0 && !c->tx && *reconnects < RECONNECTS) {
            /* A read-only node (a standby since a failover): refused, nothing ran. */
            ++*reconnects;
            return reconnect(d, c, p) == APR_SUCCESS ? RUN_AGAIN : LC_EUNAVAIL;
        }
        lc_dbd_log(d, 0, apr_psprintf(p, LC_LOGNO(00043) "statement %s failed: %s", what, call->message));
        return LC_EUNAVAIL;
    case LC_CALL_LOST:
        if (read_only(q) && !c->tx && *reconnects < RECONNECTS) {
            ++*reconnects;
            return reconnect(d, c, p) == APR_SUCCESS ? RUN_AGAIN : LC_EUNAVAIL;
        }
        lc_dbd_log(d, 0, apr_psprintf(p, LC_LOGNO(00044) "database connection lost during %s: %s", what,
                                      call->message));
        /* In a transaction nothing commits before COMMIT: its loss rolled back. */
        return read_only(q) || c->tx ? LC_EUNAVAIL : LC_DBD_EUNKNOWN;
    }
    return LC_EUNAVAIL;
}

apr_status_t lc_dbd_run(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p, lc_dbd_q_e q,
                        const char **args, lc_dbd_res_t **res)
{
    lc_dbd_call_t call;
    apr_status_t rv;
    int attempt, reconnects = 0;

    /* Bounded: each pass either succeeds, fails, or repaired something. */
    for (attempt = 0; attempt < RECONNECTS + 2; attempt++) {
        if (!c->handle || (!prepared(c) && !c->tx && prepare_all(d, c, p) != APR_SUCCESS)) {
            return LC_EUNAVAIL;
        }
        __atomic_add_fetch(&d->sh->statements, 1, __ATOMIC_RELAXED);
        lc_dbd_call_prepared(c, p, lc_dbd_sql_label(q), lc_dbd_sql_nargs(q), args, &call);
        if (call.outcome == LC_CALL_OK && call.unsure && !read_only(q) && !c->tx) {
            lc_dbd_log(d, 0, apr_psprintf(p, LC_LOGNO(00045) "%s: the wait for the synchronous standby was "
                                          "cancelled: the change may not be replicated",
                                          lc_dbd_sql_label(q)));
            return LC_DBD_EUNREPL;
        }
        if ((rv = failure(d, c, p, q, &call, &reconnects)) != RUN_AGAIN) {
            if (rv == APR_SUCCESS && res) {
                *res = call.res;
            }
            return rv;
        }
    }
    return LC_EUNAVAIL;
}

apr_status_t lc_dbd_exec(lc_dbd_t *d, lc_dbd_conn_t *c, const char *sql)
{
    int commit = strcmp(sql, "COMMIT") == 0, begin = strcmp(sql, "BEGIN") == 0;
    lc_dbd_call_t call;
    apr_pool_t *p;
    apr_status_t rv;

    if (!c->handle) {
        return LC_EUNAVAIL;
    }
    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return LC_EUNAVAIL;
    }
    __atomic_add_fetch(&d->sh->statements, 1, __ATOMIC_RELAXED);
    lc_dbd_call_sql(c, p, sql, &call);
    if (call.outcome == LC_CALL_OK) {
        rv = commit && call.unsure ? LC_DBD_EUNREPL : APR_SUCCESS;
        if (rv != APR_SUCCESS) {
            lc_dbd_log(d, 0, LC_LOGNO(00046) "COMMIT: the wait for the synchronous standby was cancelled: "
                             "the change may not be replicated");
        }
    }
    else if (call.outcome == LC_CALL_ERROR) {
        rv = lc_dbd_retryable(call.sqlstate) ? LC_DBD_ERETRY : LC_EUNAVAIL;
        if (rv == LC_DBD_ERETRY) {
            __atomic_add_fetch(&d->sh->retries, 1, __ATOMIC_RELAXED);
        }
        else {
            lc_dbd_log(d, 0, apr_psprintf(p, LC_LOGNO(00047) "%s failed: %s", sql, call.message));
        }
    }
    else {
        if (call.outcome == LC_CALL_TIMEOUT) {
            __atomic_add_fetch(&d->sh->timeouts, 1, __ATOMIC_RELAXED);
        }
        lc_dbd_log(d, 0, apr_psprintf(p, LC_LOGNO(00048) "%s: %s", sql, call.message));
        /* Only a COMMIT may have done something we cannot see. */
        rv = commit ? LC_DBD_EUNKNOWN : LC_EUNAVAIL;
    }
    /* BEGIN opens a transaction; COMMIT and ROLLBACK end it, even failing. */
    c->tx = begin && rv == APR_SUCCESS;
    apr_pool_destroy(p);
    return rv;
}

int lc_dbd_rows(lc_dbd_conn_t *c, lc_dbd_res_t *res)
{
    (void)c;
    return lc_dbd_res_rows(res);
}

void lc_dbd_row(lc_dbd_conn_t *c, apr_pool_t *p, lc_dbd_res_t *res, int i, int first,
                int n, const char **v)
{
    (void)c;
    (void)p;
    lc_dbd_res_row(res, i, first, n, v);
}
