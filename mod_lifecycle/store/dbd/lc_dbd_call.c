/* lc_dbd_call.c — one statement on a borrowed connection, never waiting
 * past a deadline (LifecycleDbdTimeout).
 *
 * apr_dbd runs everything with libpq's blocking calls, which wait as long
 * as the server does: a primary frozen (SIGSTOP) or a commit waiting for
 * a synchronous standby that is gone (PostgreSQL's statement_timeout does
 * not bound that wait) held every request for the whole outage.  So the
 * statements go through libpq's asynchronous calls on the driver's own
 * PGconn (apr_dbd_native_handle): send, then poll(2) its socket until the
 * result is in or the deadline passes.
 *
 * Past the deadline the connection is broken, not cancelled: PQcancel
 * opens a second connection and waits for the server's answer without a
 * bound, which a frozen server never gives.  Breaking it (shutdown(2) on
 * its socket, then letting libpq see the end) keeps the handle the
 * driver owns but turns its status bad, so mod_dbd's check at the next
 * open makes a new session (PQreset) rather than handing the stuck one
 * out again.  The server's side of a commit stuck waiting for a standby
 * stays until the standby is back: the operator's synchronous_standby_names
 * decides that, not us.
 *
 * A commit whose wait for the synchronous standby was cancelled
 * (pg_cancel_backend, or the server shutting down) still succeeds, with a
 * WARNING: "canceling wait for synchronous replication ... the transaction
 * has already committed locally, but might not have been replicated".  A
 * notice receiver of our own sees it (the driver installs an empty notice
 * processor); the call says `unsure`, which a write turns into an unknown
 * outcome, never a 2xx.  It is recognised by severity and SQLSTATE
 * (01000 or 57P01..57P03), not by its text, which the server translates.
 *
 * A failure without a SQLSTATE is the connection's (libpq reports the
 * first failure after a crash with the status still OK): LC_CALL_LOST.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <libpq-fe.h>
#include <apr_strings.h>

#include "lc_dbd_call.h"

#define MSG_MAX 300             /* bytes of a database message kept */
#define ARGS_MAX 64             /* parameters of one statement */
#define BREAK_READS 256         /* reads to reach the end of a broken connection */

static PGconn *native(lc_dbd_conn_t *c)
{
    return c->handle ? apr_dbd_native_handle(c->driver, c->handle) : NULL;
}

int lc_dbd_call_up(lc_dbd_conn_t *c)
{
    PGconn *pc = native(c);

    return pc && PQstatus(pc) == CONNECTION_OK;
}

int lc_dbd_call_backend(lc_dbd_conn_t *c)
{
    PGconn *pc = native(c);

    return pc && PQstatus(pc) == CONNECTION_OK ? PQbackendPID(pc) : 0;
}

void lc_dbd_call_break(lc_dbd_conn_t *c)
{
    PGconn *pc = native(c);
    int fd, i;

    if (!pc || (fd = PQsocket(pc)) < 0) {
        return;
    }
    shutdown(fd, SHUT_RDWR);
    /* libpq reads what was still buffered, then the end, and marks the
     * connection bad (its socket is non-blocking: this never waits).
     * Bounded: whatever libpq thinks, the socket is shut. */
    for (i = 0; i < BREAK_READS && PQstatus(pc) == CONNECTION_OK; i++) {
        if (!PQconsumeInput(pc)) {
            break;
        }
    }
}

static apr_status_t clear_result(void *r)
{
    PQclear(r);
    return APR_SUCCESS;
}

static const char *first_line(apr_pool_t *p, const char *m)
{
    size_t n;

    if (!m || !*m) {
        return "(no message)";
    }
    n = strcspn(m, "\n");
    return apr_pstrmemdup(p, m, n > MSG_MAX ? MSG_MAX : n);
}

/* The notices of one call (see the top comment). */
static void on_notice(void *arg, const PGresult *r)
{
    lc_dbd_call_t *out = arg;
    const char *sev = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);

    if (sev && strcmp(sev, "WARNING") == 0 && st
        && (strcmp(st, "01000") == 0 || strncmp(st, "57P0", 4) == 0)) {
        out->unsure = 1;
    }
}

/* Wait for the socket until the deadline: 1 ready, 0 the deadline passed, -1 failed. */
static int wait_socket(PGconn *pc, short events, apr_time_t deadline)
{
    struct pollfd pfd;
    apr_time_t left;
    int rc;

    for (;;) {
        left = deadline - apr_time_now();
        if (left <= 0) {
            return 0;
        }
        pfd.fd = PQsocket(pc);
        pfd.events = events;
        pfd.revents = 0;
        if (pfd.fd < 0) {
            return -1;
        }
        /* Rounded up: a deadline 0.4 ms away is not "now". */
        rc = poll(&pfd, 1, (int)((left + 999) / 1000));
        if (rc > 0) {
            return 1;
        }
        if (rc < 0 && errno != EINTR) {
            return -1;
        }
    }
}

/* Send what libpq buffered: 1 done, 0 deadline, -1 failed. */
static int flush(PGconn *pc, apr_time_t deadline)
{
    int rc, w;

    while ((rc = PQflush(pc)) == 1) {
        if ((w = wait_socket(pc, POLLOUT | POLLIN, deadline)) <= 0) {
            return w;
        }
        /* The server may be sending (notices) while we write: read it, or it stalls. */
        if (!PQconsumeInput(pc)) {
            return -1;
        }
    }
    return rc == 0 ? 1 : -1;
}

/* The call's outcome from a failed result (or none). */
static void failed(lc_dbd_call_t *out, PGconn *pc, apr_pool_t *p, const PGresult *r)
{
    const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

    out->message = first_line(p, r && *PQresultErrorMessage(r) ? PQresultErrorMessage(r)
                                                                : PQerrorMessage(pc));
    apr_cpystrn(out->sqlstate, st ? st : "", sizeof(out->sqlstate));
    /* No SQLSTATE: libpq's own failure (the connection).  57P01..57P03: the
     * server is shutting down or refusing: the session is gone either way. */
    out->outcome = !st || PQstatus(pc) != CONNECTION_OK || strncmp(st, "57P0", 4) == 0
                   ? LC_CALL_LOST : LC_CALL_ERROR;
}

/* Collect the results until none is left or the deadline passes. */
static void collect(lc_dbd_conn_t *c, PGconn *pc, apr_pool_t *p, apr_time_t deadline,
                    lc_dbd_call_t *out)
{
    PGresult *r, *bad = NULL, *last = NULL;
    int w;

    for (;;) {
        while (!PQisBusy(pc)) {
            if ((r = PQgetResult(pc)) == NULL) {
                goto done;
            }
            if (PQresultStatus(r) == PGRES_FATAL_ERROR || PQresultStatus(r) == PGRES_BAD_RESPONSE) {
                if (bad) {
                    PQclear(bad);
                }
                bad = r;
            }
            else {
                if (last) {
                    PQclear(last);
                }
                last = r;
            }
        }
        if ((w = wait_socket(pc, POLLIN, deadline)) == 0) {
            out->outcome = LC_CALL_TIMEOUT;
            out->message = "the database did not answer within LifecycleDbdTimeout";
            lc_dbd_call_break(c);
            break;
        }
        if (w < 0 || !PQconsumeInput(pc)) {
            failed(out, pc, p, NULL);
            out->outcome = LC_CALL_LOST;
            break;
        }
    }
    if (bad) {
        PQclear(bad);
    }
    if (last) {
        PQclear(last);
    }
    return;
done:
    if (bad) {
        failed(out, pc, p, bad);
        PQclear(bad);
        if (last) {
            PQclear(last);
        }
        return;
    }
    out->outcome = LC_CALL_OK;
    out->res = last;
    if (last) {
        apr_pool_cleanup_register(p, last, clear_result, apr_pool_cleanup_null);
    }
}

typedef enum { SEND_SQL, SEND_PREPARED, SEND_PREPARE } send_e;

typedef struct send {
    send_e             how;
    const char        *name;    /* SQL, or the statement's label */
    const char        *sql;     /* SEND_PREPARE: the statement */
    int                n;
    const char *const *args;
    const Oid         *types;
} send_t;

static void call(lc_dbd_conn_t *c, apr_pool_t *p, const send_t *s, lc_dbd_call_t *out)
{
    PGconn *pc = native(c);
    apr_interval_time_t t = c->timeout > 0 ? c->timeout : LC_DBD_TIMEOUT_DEFAULT;
    apr_time_t deadline = apr_time_now() + t;
    PQnoticeReceiver was;
    int ok, f;

    memset(out, 0, sizeof(*out));
    out->message = "";
    if (!pc || PQstatus(pc) != CONNECTION_OK) {
        out->outcome = LC_CALL_LOST;
        out->message = pc ? first_line(p, PQerrorMessage(pc)) : "no connection";
        return;
    }
    was = PQsetNoticeReceiver(pc, on_notice, out);
    PQsetnonblocking(pc, 1);
    ok = s->how == SEND_SQL ? PQsendQuery(pc, s->name)
       : s->how == SEND_PREPARED ? PQsendQueryPrepared(pc, s->name, s->n, s->args, NULL, NULL, 0)
       : PQsendPrepare(pc, s->name, s->sql, s->n, s->types);
    if (!ok) {
        failed(out, pc, p, NULL);
        out->outcome = LC_CALL_LOST;
    }
    else if ((f = flush(pc, deadline)) <= 0) {
        if (f == 0) {
            out->outcome = LC_CALL_TIMEOUT;
            out->message = "the database did not take the statement within LifecycleDbdTimeout";
            lc_dbd_call_break(c);
        }
        else {
            failed(out, pc, p, NULL);
            out->outcome = LC_CALL_LOST;
        }
    }
    else {
        collect(c, pc, p, deadline, out);
    }
    if (out->outcome == LC_CALL_LOST) {
        /* Whatever libpq's status says: the next open must make a new session. */
        lc_dbd_call_break(c);
    }
    /* Back to blocking for apr_dbd's other users of this connection. */
    PQsetnonblocking(pc, 0);
    /* The driver's receiver is libpq's default, which ignores its argument
     * (it hands the text to the notice processor); no notice after this
     * call may reach `out`. */
    PQsetNoticeReceiver(pc, was, NULL);
}

void lc_dbd_call_prepared(lc_dbd_conn_t *c, apr_pool_t *p, const char *label, int n,
                          const char *const *args, lc_dbd_call_t *out)
{
    send_t s = { SEND_PREPARED, label, NULL, n, args, NULL };

    call(c, p, &s, out);
}

void lc_dbd_call_sql(lc_dbd_conn_t *c, apr_pool_t *p, const char *sql, lc_dbd_call_t *out)
{
    send_t s = { SEND_SQL, sql, NULL, 0, NULL, NULL };

    call(c, p, &s, out);
}

/* apr_dbd's notation into PostgreSQL's: each %<conversion> becomes $n, its
 * type the conversion's (%hd int2, %d int4, %lld int8, %pDt text);
 * %% stays a %.  -1 when there are too many. */
static int translate(apr_pool_t *p, const char *sql, char **text, Oid *types)
{
    char *o = apr_palloc(p, strlen(sql) * 2 + 1);
    int n = 0;

    *text = o;
    while (*sql) {
        if (sql[0] == '%' && sql[1] == '%') {
            *o++ = '%';
            sql += 2;
            continue;
        }
        if (sql[0] != '%') {
            *o++ = *sql++;
            continue;
        }
        if (n == ARGS_MAX) {
            return -1;
        }
        types[n] = strncmp(sql, "%hd", 3) == 0 ? 21 : strncmp(sql, "%lld", 4) == 0 ? 20
                 : strncmp(sql, "%d", 2) == 0 ? 23 : 25;
        sql += strncmp(sql, "%pDt", 4) == 0 || strncmp(sql, "%lld", 4) == 0 ? 4
             : strncmp(sql, "%hd", 3) == 0 ? 3 : 2;
        o += sprintf(o, "$%d", ++n);
    }
    *o = '\0';
    return n;
}

void lc_dbd_call_prepare(lc_dbd_conn_t *c, apr_pool_t *p, const char *label, const char *sql,
                         lc_dbd_call_t *out)
{
    Oid types[ARGS_MAX];
    char *text;
    int n = translate(p, sql, &text, types);
    send_t s = { SEND_PREPARE, label, text, n, NULL, types };

    if (n < 0) {
        memset(out, 0, sizeof(*out));
        out->outcome = LC_CALL_ERROR;
        out->message = "too many parameters";
        return;
    }
    call(c, p, &s, out);
}

int lc_dbd_res_rows(const lc_dbd_res_t *res)
{
    return res ? PQntuples(res) : 0;
}

void lc_dbd_res_row(const lc_dbd_res_t *res, int i, int first, int n, const char **v)
{
    int k, cols = res ? PQnfields(res) : 0;

    for (k = 0; k < n; k++) {
        v[k] = res && i < PQntuples(res) && first + k < cols && !PQgetisnull(res, i, first + k)
               ? PQgetvalue(res, i, first + k) : NULL;
    }
}
