/* lc_dbd_batch.c — one read and one write for the updates a process's threads make at once.
 *
 * A transition on PostgreSQL costs the database far more per statement
 * and per commit than per row: on the 2-core bench machine one update
 * with its change row took about 100 us of PostgreSQL's CPU as its own
 * statement, about 20 us as one row of sixteen (pgbench, fsync on), and
 * a read before it cost nearly as much again as its own statement.  So
 * the updates of one process (the event MPM's threads) are run the way
 * the shm journal groups its flushes: the first writer to arrive runs its
 * update at once; whoever arrives while it runs waits, and the next one
 * woken runs everything that waited: one statement reads all their rows
 * (LC_Q_GET_MANY), each writer's callback runs on its row, and one
 * statement writes them all (LC_Q_UPDATE_MANY), one commit.  Nobody waits
 * for a batch to fill: a lone writer (prefork, a quiet server) runs the
 * single-row statements as before.
 *
 * Each row keeps its own optimistic check (its version), so a batch is
 * exactly the sum of its rows: a row whose version moved is left out and
 * its writer reads again, as after a lost race alone.  Two updates of one
 * resource never share a batch (the later one waits for the next): one
 * statement cannot write a row twice.  Rows go in key order, so that
 * batches of two processes or hosts lock shared rows in one order.  A
 * statement that fails fails every row of it the same way: rolled back
 * (run again) or unknown (503), as it would have failed each alone.
 *
 * Waiting is bounded: every call the leader makes has its deadline
 * (LifecycleDbdTimeout), and a writer still queued when its own deadline
 * passes takes itself out and answers LC_EUNAVAIL (nothing of it was
 * sent).  A writer whose job a leader took waits for that leader, whose
 * calls are bounded: the leader holds the job's memory until it is done.
 *
 * A callback runs on the leading thread, never on two threads at once:
 * its writer stays blocked, its memory untouched, until the result is set.
 * What is not a plain update (a create, new aliases) goes back to its
 * writer to be written alone.
 */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <apr_thread_cond.h>

#include "lc_dbd_int.h"

#define BATCH_MAX 64                    /* rows in one statement */

typedef lc_dbd_job_t item_t;

struct lc_dbd_batch {
    apr_thread_mutex_t *mu;
    apr_thread_cond_t  *cv;
    lc_dbd_job_t       *head;           /* waiting, in arrival order */
    int                 leading;        /* a writer is running a statement */
};

lc_dbd_batch_t *lc_dbd_batch_create(apr_pool_t *p)
{
    lc_dbd_batch_t *b = apr_pcalloc(p, sizeof(*b));

    if (apr_thread_mutex_create(&b->mu, APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS
        || apr_thread_cond_create(&b->cv, p) != APR_SUCCESS) {
        return NULL;
    }
    return b;
}

static int key_cmp(const item_t *a, const item_t *b)
{
    return a->kind != b->kind ? (int)a->kind - (int)b->kind : strcmp(a->id, b->id);
}

/* Take the waiting rows a statement can hold: distinct keys, at most
 * BATCH_MAX; the rest stay queued in order.  Answers them sorted by key. */
static int take(lc_dbd_batch_t *b, item_t **out)
{
    item_t **pp = &b->head, *it;
    int n = 0, i, dup;

    while ((it = *pp) != NULL && n < BATCH_MAX) {
        for (dup = 0, i = 0; i < n && !dup; i++) {
            dup = key_cmp(out[i], it) == 0;
        }
        if (dup) {
            pp = &it->next;
            continue;
        }
        *pp = it->next;
        it->taken = 1;
        /* Insertion into key order: n is small. */
        for (i = n++; i > 0 && key_cmp(out[i - 1], it) > 0; i--) {
            out[i] = out[i - 1];
        }
        out[i] = it;
    }
    return n;
}

/* Read the rows of it[0..n): each job's cur and exists.  One job: the
 * single-row statement (cheaper to plan than the arrays). */
static apr_status_t read_rows(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p, item_t **it,
                              int n)
{
    const char **keys = apr_palloc(p, sizeof(*keys) * 2 * n), *args[2], *v[LC_DBD_NCOLS];
    lc_dbd_res_t *res = NULL;
    lc_resource_t *row = apr_palloc(p, sizeof(*row));
    apr_status_t rv;
    int i, k, rows;

    for (i = 0; i < n; i++) {
        keys[2 * i] = apr_itoa(p, it[i]->kind);
        keys[2 * i + 1] = it[i]->id;
        it[i]->exists = 0;
    }
    for (k = 0; k < 2; k++) {
        args[k] = n == 1 ? keys[k] : lc_dbd_array_literal(p, keys + k, 2, n);
    }
    if ((rv = lc_dbd_run(d, c, p, n == 1 ? LC_Q_GET : LC_Q_GET_MANY, args, &res))
        != APR_SUCCESS) {
        return rv == LC_DBD_ERETRY ? LC_EUNAVAIL : rv;
    }
    rows = lc_dbd_rows(c, res);
    for (i = 0; i < rows; i++) {
        int bad;
        lc_dbd_row(c, p, res, i, 0, LC_DBD_NCOLS, v);
        if ((bad = lc_dbd_row_parse(v, row) != APR_SUCCESS)) {
            lc_dbd_log(d, 0, apr_psprintf(p, LC_LOGNO(00034) "a row of lc_resources does not fit this module "
                                          "(kind %s, id %s)", v[0], v[1]));
        }
        for (k = 0; k < n; k++) {
            /* A row that does not fit fails its own update only (LC_EUNAVAIL). */
            if (bad && v[0] && v[1] && atoi(v[0]) == (int)it[k]->kind
                && strcmp(it[k]->id, v[1]) == 0) {
                it[k]->exists = -1;
            }
            else if (!bad && it[k]->kind == row->kind && strcmp(it[k]->id, row->id) == 0) {
                lc_resource_copy(it[k]->cur, row);
                it[k]->exists = 1;
            }
        }
    }
    return APR_SUCCESS;
}

/* One row alone: LC_Q_UPDATE. */
static apr_status_t write_one(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p, item_t *it)
{
    const char *args[LC_DBD_NWRITE], *v[2];
    lc_dbd_res_t *res = NULL;
    apr_status_t rv;

    lc_dbd_write_args(LC_Q_UPDATE, p, it->cur->version, NULL, it->r, args);
    if ((rv = lc_dbd_run(d, c, p, LC_Q_UPDATE, args, &res)) != APR_SUCCESS) {
        return rv;
    }
    if (lc_dbd_rows(c, res) < 1) {
        it->rv = LC_DBD_ERETRY;             /* the version moved: read again */
        return APR_SUCCESS;
    }
    lc_dbd_row(c, p, res, 0, 0, 2, v);
    return lc_dbd_written(v, &it->wrote, &it->r->version, &it->r->seq);
}

/* Several rows: LC_Q_UPDATE_MANY's parameters are one array per column
 * of a row's LC_Q_CREATE parameters (key, expected version, op, then the
 * image; not the aliases), each row's n-th element. */
static apr_status_t write_many(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p, item_t **it,
                               int n)
{
    const char **rows_in = apr_palloc(p, sizeof(*rows_in) * LC_DBD_NWRITE * n);
    const char *args[LC_DBD_NWRITE - 2], *v[3];
    lc_dbd_res_t *res = NULL;
    apr_status_t rv;
    int i, k, rows;

    for (i = 0; i < n; i++) {
        lc_dbd_write_args(LC_Q_CREATE, p, it[i]->cur->version, NULL, it[i]->r,
                          rows_in + (size_t)i * LC_DBD_NWRITE);
        it[i]->rv = LC_DBD_ERETRY;          /* unless the statement wrote it */
    }
    for (k = 0; k < LC_DBD_NWRITE - 2; k++) {
        args[k] = lc_dbd_array_literal(p, rows_in + k, LC_DBD_NWRITE, n);
    }
    if ((rv = lc_dbd_run(d, c, p, LC_Q_UPDATE_MANY, args, &res)) != APR_SUCCESS) {
        return rv;
    }
    rows = lc_dbd_rows(c, res);
    for (i = 0; i < rows; i++) {
        char *end;
        long at;
        lc_dbd_row(c, p, res, i, 0, 3, v);
        at = v[0] ? strtol(v[0], &end, 10) : 0;
        /* The row's ordinal in the arrays, 1-based. */
        if (at < 1 || at > n || *end
            || lc_dbd_written(v + 1, &it[at - 1]->wrote, &it[at - 1]->r->version,
                              &it[at - 1]->r->seq) != APR_SUCCESS) {
            return LC_EUNAVAIL;
        }
        it[at - 1]->rv = APR_SUCCESS;
    }
    return APR_SUCCESS;
}

/* Read, prepare and write the jobs taken, outside the lock; each job's
 * rv says how it went. */
static void lead(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p, item_t **it, int n)
{
    item_t *w[BATCH_MAX];
    apr_status_t rv;
    int i, nw = 0;

    rv = read_rows(d, c, p, it, n);
    for (i = 0; i < n; i++) {
        it[i]->wrote = 0;
        it[i]->rv = rv != APR_SUCCESS ? rv : it[i]->exists < 0 ? LC_EUNAVAIL
                  : it[i]->prepare(it[i]);
        if (it[i]->rv == APR_SUCCESS) {
            w[nw++] = it[i];                /* a plain update: written here */
        }
    }
    if (nw == 0) {
        return;
    }
    rv = nw == 1 ? write_one(d, c, p, w[0]) : write_many(d, c, p, w, nw);
    if (nw > 1) {
        __atomic_add_fetch(&d->sh->batches, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&d->sh->batched, (uint64_t)nw, __ATOMIC_RELAXED);
    }
    for (i = 0; i < nw && rv != APR_SUCCESS; i++) {
        w[i]->rv = rv;
        w[i]->wrote = 0;
    }
}

/* Take a job still queued out of the queue (under the lock). */
static void withdraw(lc_dbd_batch_t *b, item_t *job)
{
    item_t **pp;

    for (pp = &b->head; *pp && *pp != job; pp = &(*pp)->next) {
    }
    if (*pp) {
        *pp = job->next;
    }
}

apr_status_t lc_dbd_batch_update(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p,
                                 lc_dbd_job_t *job)
{
    lc_dbd_batch_t *b = d->batch;
    item_t **tail, *taken[BATCH_MAX];
    apr_time_t deadline = apr_time_now() + d->opt.timeout, now;
    apr_pool_t *sp;
    int n, i;

    job->done = 0;
    job->taken = 0;
    job->next = NULL;
    apr_thread_mutex_lock(b->mu);
    for (tail = &b->head; *tail; tail = &(*tail)->next) {
    }
    *tail = job;
    while (!job->done) {
        if (b->leading && !job->taken && (now = apr_time_now()) >= deadline) {
            withdraw(b, job);
            apr_thread_mutex_unlock(b->mu);
            lc_dbd_log(d, 0, LC_LOGNO(00035) "an update waited LifecycleDbdTimeout behind another "
                             "thread's batch: answered 503, nothing changed");
            __atomic_add_fetch(&d->sh->timeouts, 1, __ATOMIC_RELAXED);
            return LC_EUNAVAIL;
        }
        if (b->leading) {
            /* Taken: the leader's calls are bounded; else up to our own deadline. */
            apr_thread_cond_timedwait(b->cv, b->mu, job->taken ? apr_time_from_sec(1)
                                                     : deadline - apr_time_now());
            continue;
        }
        b->leading = 1;
        n = take(b, taken);
        apr_thread_mutex_unlock(b->mu);
        if (apr_pool_create(&sp, p) == APR_SUCCESS) {
            lead(d, c, sp, taken, n);
            apr_pool_destroy(sp);
        }
        else {
            for (i = 0; i < n; i++) {
                taken[i]->rv = APR_ENOMEM;
            }
        }
        apr_thread_mutex_lock(b->mu);
        for (i = 0; i < n; i++) {
            taken[i]->done = 1;
        }
        b->leading = 0;
        apr_thread_cond_broadcast(b->cv);
    }
    apr_thread_mutex_unlock(b->mu);
    return job->rv;
}
