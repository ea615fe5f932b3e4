/* lc_dbd_sql.c — running the backend's statements on a borrowed connection.
 *
 * Statements are prepared per connection on its first use by this module,
 * not registered with mod_dbd (DBDPrepareSQL / ap_dbd_prepare): PostgreSQL
 * checks at PREPARE that the tables exist, and mod_dbd prepares inside its
 * connection constructor, so a database that was empty or unreachable when
 * the server started would fail every connection until a restart.  Here
 * the schema is checked first (once per process), then the statements are
 * prepared into the connection's own table (mod_dbd's ap_dbd_t.prepared).
 *
 * mod_dbd repairs a broken connection with PQreset, which keeps the handle
 * but loses every prepared statement: its next EXECUTE fails with 26000
 * (invalid_sql_statement_name).  The statement never ran, so they are all
 * prepared again and it runs once more.
 *
 * Telling failures apart needs two things apr_dbd does not give: whether
 * the connection is still up (a statement lost in flight may or may not
 * have committed: never retried, LC_EUNAVAIL) and the SQLSTATE (a conflict
 * the server rolled back is retried).  Both come from libpq itself through
 * the driver's native handle: PQstatus, and PQsetErrorVerbosity(VERBOSE),
 * which puts the SQLSTATE in the message apr_dbd_error returns.  libpq is
 * the driver's (apr_dbd_pgsql links it); looking the two functions up in
 * the already loaded library keeps the module itself free of a libpq
 * dependency, so a server on the shm store needs neither.
 */
#include <string.h>
#include <dlfcn.h>
#include <apr_strings.h>

#include "lc_dbd_int.h"
#include "lc_dbd_schema.h"

#define PQ_CONNECTION_OK 0      /* libpq's ConnStatusType CONNECTION_OK */
#define PQ_ERRORS_VERBOSE 2     /* libpq's PGVerbosity PQERRORS_VERBOSE */
#define LOG_MSG_MAX 300         /* bytes of a database message in a log line */

typedef int pq_status_fn(const void *conn);
typedef int pq_verbosity_fn(void *conn, int verbosity);

static pq_status_fn *pq_status;
static pq_verbosity_fn *pq_verbosity;

/* Once the pgsql driver is loaded (it is, when a connection exists). */
static void pq_bind(void)
{
    void *lib;

    if (pq_status) {
        return;
    }
    if ((lib = dlopen("libpq.so.5", RTLD_LAZY | RTLD_NOLOAD)) == NULL) {
        return;
    }
    pq_verbosity = (pq_verbosity_fn *)dlsym(lib, "PQsetErrorVerbosity");
    __atomic_store_n(&pq_status, (pq_status_fn *)dlsym(lib, "PQstatus"), __ATOMIC_RELEASE);
}

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

/* The database's message: its first line, bounded. */
static const char *db_message(lc_dbd_conn_t *c, apr_pool_t *p, int rv)
{
    const char *m = apr_dbd_error(c->driver, c->handle, rv);
    size_t n = m ? strcspn(m, "\n") : 0;

    return m ? apr_pstrmemdup(p, m, n > LOG_MSG_MAX ? LOG_MSG_MAX : n) : "(no message)";
}

static int conn_up(lc_dbd_conn_t *c)
{
    void *native = apr_dbd_native_handle(c->driver, c->handle);

    return pq_status && native && pq_status(native) == PQ_CONNECTION_OK;
}

static apr_status_t prepare_all(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p)
{
    void *native = apr_dbd_native_handle(c->driver, c->handle);
    int q;

    pq_bind();
    if (pq_verbosity && native) {
        pq_verbosity(native, PQ_ERRORS_VERBOSE);
    }
    for (q = 0; q < LC_Q_COUNT; q++) {
        apr_dbd_prepared_t *stmt = NULL;
        /* The connection's pool: the statement lives as long as it does. */
        int rv = apr_dbd_prepare(c->driver, c->pool, c->handle, lc_dbd_sql_text(q),
                                 lc_dbd_sql_label(q), &stmt);
        char state[6];
        if (rv != 0) {
            const char *m = db_message(c, p, rv);
            /* 42P05: still there (only some were lost): keep using it. */
            if (!(lc_dbd_sqlstate(m, state) && strcmp(state, "42P05") == 0)) {
                lc_dbd_log(d, 0, apr_psprintf(p, "cannot prepare %s: %s",
                                              lc_dbd_sql_label(q), m));
                return LC_EUNAVAIL;
            }
        }
        apr_hash_set(c->prepared, lc_dbd_sql_label(q), APR_HASH_KEY_STRING, stmt);
    }
    return APR_SUCCESS;
}

apr_status_t lc_dbd_begin(lc_dbd_t *d, apr_pool_t *p, lc_dbd_conn_t *c)
{
    const char *why = NULL;
    apr_status_t rv;

    memset(c, 0, sizeof(*c));
    if (d->src.open(d->src.ctx, p, c) != APR_SUCCESS || !c->handle) {
        lc_dbd_log(d, 0, "no database connection (mod_dbd could not open one)");
        __atomic_add_fetch(&d->sh->unavailable, 1, __ATOMIC_RELAXED);
        return LC_EUNAVAIL;
    }
    pq_bind();
    if (!d->schema_ok) {
        if ((rv = lc_dbd_schema_ensure(c, p, &why)) != APR_SUCCESS) {
            lc_dbd_log(d, 0, why);
            lc_dbd_end(d, c);
            return LC_EUNAVAIL;
        }
        if (why) {
            lc_dbd_log(d, 1, why);
        }
        d->schema_ok = 1;
    }
    if (!apr_hash_get(c->prepared, lc_dbd_sql_label(0), APR_HASH_KEY_STRING)
        && prepare_all(d, c, p) != APR_SUCCESS) {
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

#define LOST 2       /* classify: the connection is gone */
#define RESET 1      /* classify: a reset lost the prepared statements */

/* A failed statement: LC_DBD_ERETRY when the server rolled it back on a
 * conflict, RESET when a reset lost the statements, LOST when the
 * connection is gone, else LC_EUNAVAIL (logged). */
static apr_status_t classify(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p, lc_dbd_q_e q,
                             int rv)
{
    const char *m = db_message(c, p, rv);
    char state[6] = "";

    if (!conn_up(c)) {
        return LOST;
    }
    lc_dbd_sqlstate(m, state);
    if (strcmp(state, "26000") == 0) {
        return RESET;
    }
    if (lc_dbd_retryable(state)) {
        __atomic_add_fetch(&d->sh->retries, 1, __ATOMIC_RELAXED);
        return LC_DBD_ERETRY;
    }
    lc_dbd_log(d, 0, apr_psprintf(p, "statement %s failed: %s", lc_dbd_sql_label(q), m));
    return LC_EUNAVAIL;
}

/* Statements that change nothing: when the connection turns out dead
 * (the database restarted while it sat in the pool), running them again
 * on another one cannot do anything twice.  A statement that writes is
 * never run again: it may have committed before the connection broke. */
static int read_only(lc_dbd_q_e q)
{
    return q == LC_Q_GET || q == LC_Q_GET_MANY || q == LC_Q_GET_ALIAS || q == LC_Q_LIST
        || q == LC_Q_NEXT_DUE || q == LC_Q_FEED_PEEK || q == LC_Q_FEED_READ || q == LC_Q_TALLY;
}

/* Give the dead connection back (mod_dbd resets it at the next open) and take one again. */
static apr_status_t reconnect(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p)
{
    lc_dbd_end(d, c);
    memset(c, 0, sizeof(*c));
    if (d->src.open(d->src.ctx, p, c) != APR_SUCCESS || !c->handle) {
        c->handle = NULL;
        return LC_EUNAVAIL;
    }
    if (!apr_hash_get(c->prepared, lc_dbd_sql_label(0), APR_HASH_KEY_STRING)) {
        return prepare_all(d, c, p);
    }
    return APR_SUCCESS;
}

/* What to do after a failure: APR_SUCCESS to run the statement again
 * (its connection repaired), else the result. */
static apr_status_t recover(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p, lc_dbd_q_e q,
                            apr_status_t why, int *reconnected)
{
    if (why == RESET) {
        /* The EXECUTE never ran. */
        __atomic_add_fetch(&d->sh->reprepared, 1, __ATOMIC_RELAXED);
        return prepare_all(d, c, p) == APR_SUCCESS ? APR_SUCCESS : LC_EUNAVAIL;
    }
    if (why == LOST && read_only(q) && !c->tx && !*reconnected) {
        *reconnected = 1;
        return reconnect(d, c, p) == APR_SUCCESS ? APR_SUCCESS : LC_EUNAVAIL;
    }
    if (why == LOST) {
        lc_dbd_log(d, 0, apr_psprintf(p, "database connection lost during %s: %s",
                                      lc_dbd_sql_label(q), db_message(c, p, 0)));
        return LC_EUNAVAIL;
    }
    return why;
}

apr_status_t lc_dbd_run(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p, lc_dbd_q_e q,
                        const char **args, apr_dbd_results_t **res)
{
    apr_status_t why = LC_EUNAVAIL;
    int attempt, rv, reconnected = 0;

    for (attempt = 0; attempt < 3; attempt++) {
        apr_dbd_prepared_t *stmt = c->handle ? apr_hash_get(c->prepared, lc_dbd_sql_label(q),
                                                            APR_HASH_KEY_STRING) : NULL;
        apr_dbd_results_t *tmp = NULL;
        if (!stmt) {
            return LC_EUNAVAIL;
        }
        __atomic_add_fetch(&d->sh->statements, 1, __ATOMIC_RELAXED);
        /* random = 1: the whole result at once (sequential access sleeps
         * 100 ms on an empty result, apr_dbd_pgsql.c's get_row). */
        rv = apr_dbd_pselect(c->driver, p, c->handle, &tmp, stmt, 1, 0, args);
        if (rv == 0) {
            if (res) {
                *res = tmp;
            }
            return APR_SUCCESS;
        }
        why = classify(d, c, p, q, rv);
        if ((why = recover(d, c, p, q, why, &reconnected)) != APR_SUCCESS) {
            return why;
        }
    }
    return LC_EUNAVAIL;
}

apr_status_t lc_dbd_exec(lc_dbd_t *d, lc_dbd_conn_t *c, const char *sql)
{
    int nrows = 0;
    int rv = apr_dbd_query(c->driver, c->handle, &nrows, sql);
    apr_pool_t *p;
    apr_status_t why;

    __atomic_add_fetch(&d->sh->statements, 1, __ATOMIC_RELAXED);
    /* BEGIN opens a transaction; COMMIT and ROLLBACK end it, even failing. */
    c->tx = strcmp(sql, "BEGIN") == 0 && rv == 0;
    if (rv == 0) {
        return APR_SUCCESS;
    }
    if (apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return LC_EUNAVAIL;
    }
    why = classify(d, c, p, LC_Q_COUNT, rv);
    if (why == LOST) {
        lc_dbd_log(d, 0, apr_psprintf(p, "database connection lost during %s: %s", sql,
                                      db_message(c, p, 0)));
    }
    apr_pool_destroy(p);
    return why == RESET || why == LOST ? LC_EUNAVAIL : why;
}

int lc_dbd_rows(lc_dbd_conn_t *c, apr_dbd_results_t *res)
{
    return res ? apr_dbd_num_tuples(c->driver, res) : 0;
}

void lc_dbd_row(lc_dbd_conn_t *c, apr_pool_t *p, apr_dbd_results_t *res, int i, int first,
                int n, const char **v)
{
    apr_dbd_row_t *row = NULL;
    int k;

    /* Random access (the results are whole): row i + 1, 1-based. */
    if (apr_dbd_get_row(c->driver, p, res, &row, i + 1) != 0) {
        for (k = 0; k < n; k++) {
            v[k] = NULL;
        }
        return;
    }
    for (k = 0; k < n; k++) {
        v[k] = apr_dbd_get_entry(c->driver, row, first + k);
    }
}
