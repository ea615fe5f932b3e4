/* lc_store_dbd.c — lc_store.h on PostgreSQL: the resource operations.
 *
 * An update reads the row, runs the callback on that image, and writes the
 * result with one statement that succeeds only if the version is still the
 * one read (lc_dbd_sql.c).  Another writer in between (any process, any
 * host) makes it write nothing: the row is read again and the callback run
 * again, at most LC_DBD_TRIES times.  No lock is held while the callback
 * runs, nor across any wait but the statement's own.
 *
 * Every operation borrows one connection for its duration (lc_dbd_begin,
 * lc_dbd_end) and allocates in a subpool of the caller's pool, destroyed
 * before it returns.  r->seq is the change's position (lc_changes.pos):
 * unique per change and increasing per resource; the feed's own dense
 * numbers are the sequencer's (lc_dbd_feed.c).
 */
#include <string.h>
#include <stdlib.h>
#include <apr_strings.h>

#include "lc_store_dbd.h"
#include "lc_dbd_int.h"

/* Statement q on (kind, key): the row into out.  LC_ENOTFOUND when none. */
static apr_status_t read_row(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p, lc_dbd_q_e q,
                             lc_kind_e kind, const char *key, lc_resource_t *out)
{
    const char *args[2] = { apr_itoa(p, kind), key };
    const char *v[LC_DBD_NCOLS];
    lc_dbd_res_t *res = NULL;
    apr_status_t rv = lc_dbd_run(d, c, p, q, args, &res);

    if (rv != APR_SUCCESS) {
        return rv == LC_DBD_ERETRY ? LC_EUNAVAIL : rv;
    }
    if (lc_dbd_rows(c, res) < 1) {
        return LC_ENOTFOUND;
    }
    lc_dbd_row(c, p, res, 0, 0, LC_DBD_NCOLS, v);
    if (lc_dbd_row_parse(v, out) != APR_SUCCESS) {
        lc_dbd_log(d, 0, apr_psprintf(p, LC_LOGNO(00052) "a row of lc_resources does not fit this module "
                                      "(kind %d, id %s)", kind, key));
        return LC_EUNAVAIL;
    }
    return APR_SUCCESS;
}

/* The shape of an operation: a subpool and a connection around `body`. */
#define WITH_CONNECTION(d, p, sp, c, rv, body) do {                         \
        if (apr_pool_create(&(sp), (p)) != APR_SUCCESS) {                   \
            return APR_ENOMEM;                                              \
        }                                                                   \
        if (((rv) = lc_dbd_begin((d), (sp), &(c))) == APR_SUCCESS) {        \
            body;                                                           \
            lc_dbd_end((d), &(c));                                          \
        }                                                                   \
        apr_pool_destroy(sp);                                               \
    } while (0)

static apr_status_t lookup(lc_store_t *st, lc_dbd_q_e q, lc_kind_e kind, const char *key,
                           lc_resource_t *out, apr_pool_t *p)
{
    lc_dbd_t *d = st->impl;
    lc_dbd_conn_t c;
    apr_pool_t *sp;
    apr_status_t rv;

    WITH_CONNECTION(d, p, sp, c, rv, rv = read_row(d, &c, sp, q, kind, key, out));
    if (rv == LC_EUNAVAIL) {
        __atomic_add_fetch(&d->sh->unavailable, 1, __ATOMIC_RELAXED);
    }
    return rv;
}

static apr_status_t dbd_get(lc_store_t *st, lc_kind_e kind, const char *id,
                            lc_resource_t *out, apr_pool_t *p)
{
    return lc_store_valid_key(kind, id) ? lookup(st, LC_Q_GET, kind, id, out, p) : LC_ENOTFOUND;
}

static apr_status_t dbd_get_alias(lc_store_t *st, lc_kind_e kind, const char *alias,
                                  lc_resource_t *out, apr_pool_t *p)
{
    if (!lc_store_valid_alias(kind, alias)) {
        return LC_ENOTFOUND;
    }
    return lookup(st, LC_Q_GET_ALIAS, kind, alias, out, p);
}

/* ---- writes ------------------------------------------------------------------------ */

/* This host changed the queue: the cached next due time may be later than r's. */
static void note_due(lc_dbd_t *d, const lc_resource_t *r)
{
    int64_t cur = __atomic_load_n(&d->sh->due_at, __ATOMIC_ACQUIRE);

    while (r->due && (cur == 0 || r->due < cur)
           && !__atomic_compare_exchange_n(&d->sh->due_at, &cur, r->due, 0, __ATOMIC_ACQ_REL,
                                           __ATOMIC_ACQUIRE)) {
    }
}

/* Statement q alone, for r; *wrote as write_row's. */
static apr_status_t write_alone(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p, lc_dbd_q_e q,
                                uint64_t expect, const lc_resource_t *old, lc_resource_t *r,
                                int *wrote)
{
    const char *args[LC_DBD_NWRITE], *v[LC_DBD_NCOLS];
    lc_dbd_res_t *res = NULL;
    apr_status_t rv;

    lc_dbd_write_args(q, p, expect, old, r, args);
    if ((rv = lc_dbd_run(d, c, p, q, args, &res)) != APR_SUCCESS || lc_dbd_rows(c, res) < 1) {
        return rv;
    }
    if (q == LC_Q_UPDATE) {
        /* The version and pos only: the rest of the row is r as sent. */
        lc_dbd_row(c, p, res, 0, 0, 2, v);
        return lc_dbd_written(v, wrote, &r->version, &r->seq);
    }
    lc_dbd_row(c, p, res, 0, 0, LC_DBD_NCOLS, v);
    if (lc_dbd_row_parse(v, r) != APR_SUCCESS) {
        return LC_EUNAVAIL;
    }
    *wrote = 1;
    return APR_SUCCESS;
}

/* Write r: create (exists 0) or update from version `expect` with aliases
 * `old`.  *wrote: 1 with r refreshed from the row written, 0 when the
 * statement matched nothing (a lost race, or a taken alias). */
static apr_status_t write_row(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p, int exists,
                              uint64_t expect, const lc_resource_t *old, lc_resource_t *r,
                              int *wrote)
{
    int aliases = !exists || strcmp(old->alias[0], r->alias[0]) != 0
                  || strcmp(old->alias[1], r->alias[1]) != 0;
    lc_dbd_q_e q = !exists ? LC_Q_CREATE : aliases ? LC_Q_UPDATE_ALIAS : LC_Q_UPDATE;
    uint8_t op = r->op;
    apr_status_t rv;

    *wrote = 0;
    rv = write_alone(d, c, p, q, expect, exists ? old : NULL, r, wrote);
    if (rv != APR_SUCCESS || !*wrote) {
        *wrote = 0;
        return rv;
    }
    r->op = op;
    note_due(d, r);
    return APR_SUCCESS;
}

/* After a write that matched nothing: is one of r's aliases another
 * resource's?  (Else the version moved: read again.) */
static apr_status_t alias_taken(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p,
                                const lc_resource_t *r)
{
    lc_resource_t *h = apr_palloc(p, sizeof(*h));
    apr_status_t rv;
    int k;

    for (k = 0; k < LC_ALIASES; k++) {
        if (!r->alias[k][0]) {
            continue;
        }
        rv = read_row(d, c, p, LC_Q_GET_ALIAS, (lc_kind_e)r->kind, r->alias[k], h);
        if (rv == APR_SUCCESS && strcmp(h->id, r->id) != 0) {
            return LC_EEXISTS;
        }
        if (rv != APR_SUCCESS && rv != LC_ENOTFOUND) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

typedef struct upd {
    lc_kind_e           kind;
    const char         *id;
    lc_store_update_fn *fn;
    void               *baton;
    lc_resource_t       cur, r;     /* the row read, and what the callback made of it */
    int                 exists;
} upd_t;

/* After the read (u->cur when u->exists): the callback under the contract,
 * on a copy, so that a lost race can run it again on a fresh read.
 * APR_SUCCESS with u->r what to write, or the update's result. */
static apr_status_t apply(upd_t *u)
{
    if (u->exists) {
        lc_resource_copy(&u->r, &u->cur);
    }
    return lc_store_apply(&u->r, u->exists, u->kind, u->id, u->fn, u->baton);
}

/* Write u->r over the row read: APR_SUCCESS (written), LC_DBD_ERETRY
 * (read again), or the result to return. */
static apr_status_t write_applied(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p, upd_t *u)
{
    apr_status_t rv;
    int wrote;

    if ((rv = write_row(d, c, p, u->exists, u->exists ? u->cur.version : 0, &u->cur, &u->r,
                        &wrote)) != APR_SUCCESS || wrote) {
        return rv;
    }
    rv = alias_taken(d, c, p, &u->r);
    return rv == APR_SUCCESS ? LC_DBD_ERETRY : rv;
}

/* One read-run-write round on c alone: APR_SUCCESS (written),
 * LC_DBD_ERETRY (read again), or the result to return.  `locked`: in a
 * transaction, reading with the row's lock. */
static apr_status_t update_once(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p, upd_t *u,
                                int locked)
{
    apr_status_t rv = read_row(d, c, p, locked ? LC_Q_GET_LOCK : LC_Q_GET, u->kind, u->id,
                               &u->cur);

    if (rv != APR_SUCCESS && rv != LC_ENOTFOUND) {
        return rv;
    }
    u->exists = rv == APR_SUCCESS;
    if ((rv = apply(u)) != APR_SUCCESS) {
        return rv;
    }
    return write_applied(d, c, p, u);
}

/* The batch's prepare: the callback, on whichever thread leads; a plain
 * update is written in the batch, the rest by the writer. */
static apr_status_t prepare(lc_dbd_job_t *job)
{
    upd_t *u = job->ctx;
    apr_status_t rv;

    u->exists = job->exists;
    if ((rv = apply(u)) != APR_SUCCESS) {
        return rv;
    }
    return u->exists && strcmp(u->cur.alias[0], u->r.alias[0]) == 0
           && strcmp(u->cur.alias[1], u->r.alias[1]) == 0 ? APR_SUCCESS : LC_DBD_ALONE;
}

/* The same round with this process's other writers (lc_dbd_batch.c). */
static apr_status_t update_batched(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p, upd_t *u)
{
    lc_dbd_job_t job = { u->kind, u->id, &u->cur, &u->r, 0, prepare, u,
                         APR_SUCCESS, 0, 0, 0, NULL };
    apr_status_t rv = lc_dbd_batch_update(d, c, p, &job);

    if (rv == LC_DBD_ALONE) {
        return write_applied(d, c, p, u);
    }
    if (rv == APR_SUCCESS) {
        note_due(d, &u->r);
    }
    return rv;
}

/* The same round in a transaction holding the row's lock: a resource many
 * writers race for (32 stops at once) still makes progress, where every
 * optimistic round could lose again. */
static apr_status_t update_locked(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p, upd_t *u)
{
    apr_status_t rv;

    if ((rv = lc_dbd_exec(d, c, "BEGIN")) != APR_SUCCESS) {
        return rv;
    }
    rv = update_once(d, c, p, u, 1);
    if (rv == APR_SUCCESS) {
        /* Unknown outcome when the commit is lost: never retried. */
        return lc_dbd_exec(d, c, "COMMIT");
    }
    lc_dbd_exec(d, c, "ROLLBACK");
    return rv;
}

/* Whether two records hold the same image (what a write sets). */
static int same_image(const lc_resource_t *a, const lc_resource_t *b, apr_pool_t *p)
{
    const char *x[LC_DBD_NIMAGE], *y[LC_DBD_NIMAGE];
    int i;

    lc_dbd_row_image(a, p, x);
    lc_dbd_row_image(b, p, y);
    for (i = 0; i < LC_DBD_NIMAGE; i++) {
        if (strcmp(x[i] ? x[i] : "", y[i] ? y[i] : "") != 0) {
            return 0;
        }
    }
    return strcmp(a->alias[0], b->alias[0]) == 0 && strcmp(a->alias[1], b->alias[1]) == 0;
}

/* A write of unknown outcome: on a connection taken anew, is
 * this write's row there, at the version after the one it was made from,
 * with its image?  Then it committed: APR_SUCCESS with u->r's version and
 * position, answered as if in time.  Else LC_EUNKNOWN: another version
 * (someone else wrote; ours may still have, before) or the old one (a
 * commit still waiting for a standby becomes visible when it ends). */
static apr_status_t verify(lc_dbd_t *d, upd_t *u, apr_pool_t *p)
{
    lc_resource_t *now;
    lc_dbd_conn_t c;
    apr_pool_t *sp;
    apr_status_t rv;

    if ((now = malloc(sizeof(*now))) == NULL) {
        return LC_EUNKNOWN;
    }
    WITH_CONNECTION(d, p, sp, c, rv, {
        rv = read_row(d, &c, sp, LC_Q_GET, u->kind, u->id, now);
        if (rv == APR_SUCCESS && now->version == (u->exists ? u->cur.version + 1 : 1)
            && same_image(now, &u->r, sp)) {
            u->r.version = now->version;
            u->r.seq = now->seq;
            u->r.created = now->created;
        }
        else {
            rv = LC_EUNKNOWN;
        }
    });
    free(now);
    if (rv == APR_SUCCESS) {
        __atomic_add_fetch(&d->sh->verified, 1, __ATOMIC_RELAXED);
        lc_dbd_log(d, 1, apr_psprintf(p, LC_LOGNO(00053) "an update of %s whose outcome was unknown was "
                                      "found committed: answered as made", u->id));
        return APR_SUCCESS;
    }
    return LC_EUNKNOWN;
}

static apr_status_t dbd_update(lc_store_t *st, lc_kind_e kind, const char *id,
                               lc_store_update_fn *fn, void *baton, lc_resource_t *out,
                               apr_pool_t *p)
{
    lc_dbd_t *d = st->impl;
    lc_dbd_conn_t c;
    apr_pool_t *sp;
    apr_status_t rv;
    upd_t *u;
    int tries;

    if (!lc_store_valid_key(kind, id)) {
        return APR_EINVAL;
    }
    /* Two records of up to 17 KiB: on the heap, not a thread's stack. */
    if ((u = malloc(sizeof(*u))) == NULL) {
        return APR_ENOMEM;
    }
    u->kind = kind;
    u->id = id;
    u->fn = fn;
    u->baton = baton;
    u->exists = 0;
    WITH_CONNECTION(d, p, sp, c, rv, {
        for (tries = 0, rv = LC_DBD_ERETRY; rv == LC_DBD_ERETRY && tries < LC_DBD_TRIES;
             tries++) {
            if (tries) {
                __atomic_add_fetch(&d->sh->retries, 1, __ATOMIC_RELAXED);
            }
            rv = tries >= LC_DBD_OPTIMISTIC ? update_locked(d, &c, sp, u)
                 : d->batch ? update_batched(d, &c, sp, u) : update_once(d, &c, sp, u, 0);
        }
    });
    if (rv == LC_DBD_ERETRY) {
        lc_dbd_log(d, 0, apr_psprintf(p, LC_LOGNO(00054) "an update of %s still lost its race after %d "
                                      "tries: answered 503", id, LC_DBD_TRIES));
    }
    if (rv == LC_DBD_EUNKNOWN) {
        rv = verify(d, u, p);
    }
    if (rv == LC_DBD_EUNREPL || rv == LC_EUNKNOWN) {
        rv = LC_EUNKNOWN;
        __atomic_add_fetch(&d->sh->unknown, 1, __ATOMIC_RELAXED);
    }
    if (rv == LC_DBD_ERETRY || rv == LC_EUNAVAIL) {
        rv = LC_EUNAVAIL;
        __atomic_add_fetch(&d->sh->unavailable, 1, __ATOMIC_RELAXED);
    }
    else if (out && (rv == APR_SUCCESS || rv == LC_NOCHANGE || u->exists)) {
        lc_resource_copy(out, &u->r);
    }
    free(u);
    return rv;
}

static apr_status_t remove_once(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p,
                                lc_kind_e kind, const char *id, uint64_t expect,
                                lc_resource_t *gone)
{
    const char *args[3] = { apr_itoa(p, kind), id, lc_dbd_i64(p, (int64_t)expect) };
    const char *v[LC_DBD_NCOLS];
    lc_dbd_res_t *res = NULL;
    apr_status_t rv = lc_dbd_run(d, c, p, LC_Q_REMOVE, args, &res);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (lc_dbd_rows(c, res) >= 1) {
        lc_dbd_row(c, p, res, 0, 0, LC_DBD_NCOLS, v);
        if (lc_dbd_row_parse(v, gone) != APR_SUCCESS) {
            return LC_EUNAVAIL;
        }
        gone->op = LC_OP_DELETE;
        return APR_SUCCESS;
    }
    /* Nothing removed: absent, another version, or gone and back meanwhile. */
    rv = read_row(d, c, p, LC_Q_GET, kind, id, gone);
    if (rv == APR_SUCCESS) {
        return expect && gone->version != expect ? LC_EVERSION : LC_DBD_ERETRY;
    }
    return rv;
}

static apr_status_t dbd_remove(lc_store_t *st, lc_kind_e kind, const char *id,
                               uint64_t expect_version, lc_resource_t *out, apr_pool_t *p)
{
    lc_dbd_t *d = st->impl;
    lc_resource_t *gone;
    lc_dbd_conn_t c;
    apr_pool_t *sp;
    apr_status_t rv;
    int tries;

    if (!lc_store_valid_key(kind, id)) {
        return LC_ENOTFOUND;
    }
    if ((gone = malloc(sizeof(*gone))) == NULL) {
        return APR_ENOMEM;
    }
    WITH_CONNECTION(d, p, sp, c, rv, {
        /* A read first: absent or stale answers without a write, and a
         * pooled connection that died idle is replaced by a read, which
         * may run again, not by the delete, which may not. */
        rv = read_row(d, &c, sp, LC_Q_GET, kind, id, gone);
        if (rv == APR_SUCCESS && expect_version && gone->version != expect_version) {
            rv = LC_EVERSION;
        }
        for (tries = 0, rv = rv == APR_SUCCESS ? LC_DBD_ERETRY : rv;
             rv == LC_DBD_ERETRY && tries < LC_DBD_TRIES; tries++) {
            rv = remove_once(d, &c, sp, kind, id, expect_version, gone);
        }
    });
    if (rv == LC_DBD_EUNKNOWN || rv == LC_DBD_EUNREPL) {
        /* A delete that may have been made: not read back (an absent row
         * does not say whose delete it was). */
        rv = LC_EUNKNOWN;
        __atomic_add_fetch(&d->sh->unknown, 1, __ATOMIC_RELAXED);
    }
    if (rv == LC_DBD_ERETRY || rv == LC_EUNAVAIL) {
        rv = LC_EUNAVAIL;
        __atomic_add_fetch(&d->sh->unavailable, 1, __ATOMIC_RELAXED);
    }
    else if (rv == APR_SUCCESS && out) {
        lc_resource_copy(out, gone);
    }
    free(gone);
    return rv;
}

/* ---- list ----------------------------------------------------------------------- */

static apr_status_t list_rows(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p, lc_kind_e kind,
                              int state, const char *after, int limit, lc_resource_t *out,
                              int *n, int *more)
{
    const char *args[4] = { apr_itoa(p, kind), apr_itoa(p, state < 0 ? -1 : state),
                            after ? after : "", apr_itoa(p, limit + 1) };
    const char *v[LC_DBD_NCOLS];
    lc_dbd_res_t *res = NULL;
    apr_status_t rv = lc_dbd_run(d, c, p, LC_Q_LIST, args, &res);
    int rows, i;

    if (rv != APR_SUCCESS) {
        return LC_EUNAVAIL;
    }
    rows = lc_dbd_rows(c, res);
    for (i = 0; i < rows && i < limit; i++) {
        lc_dbd_row(c, p, res, i, 0, LC_DBD_NCOLS, v);
        if (lc_dbd_row_parse(v, &out[i]) != APR_SUCCESS) {
            return LC_EUNAVAIL;
        }
    }
    *n = i;
    *more = rows > limit;
    return APR_SUCCESS;
}

static apr_status_t dbd_list(lc_store_t *st, lc_kind_e kind, int state, const char *after,
                             int limit, lc_resource_t *out, int *n, int *more, apr_pool_t *p)
{
    lc_dbd_t *d = st->impl;
    lc_dbd_conn_t c;
    apr_pool_t *sp;
    apr_status_t rv;

    *n = 0;
    *more = 0;
    if (limit <= 0) {
        return APR_EINVAL;
    }
    WITH_CONNECTION(d, p, sp, c, rv,
                    rv = list_rows(d, &c, sp, kind, state, after, limit, out, n, more));
    return rv;
}

/* `each` on the database: the list statement in large batches on one
 * connection (an index range each, in id order, so every id is seen at
 * most once), one record at a time for fn; each batch's rows in a pool of
 * their own, cleared before the next. */
#define LC_DBD_EACH_BATCH 1000

static apr_status_t each_rows(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p, lc_kind_e kind,
                              lc_store_visit_fn *fn, void *baton)
{
    const char *args[4] = { apr_itoa(p, kind), "-1", "", apr_itoa(p, LC_DBD_EACH_BATCH) };
    const char *v[LC_DBD_NCOLS];
    lc_resource_t *r = apr_palloc(p, sizeof(*r));
    char after[LC_ID_MAX + 1] = "";
    apr_pool_t *bp;
    apr_status_t rv = APR_SUCCESS;
    int rows = LC_DBD_EACH_BATCH, i, stop = 0;

    if (apr_pool_create(&bp, p) != APR_SUCCESS) {
        return APR_ENOMEM;
    }
    while (rv == APR_SUCCESS && !stop && rows == LC_DBD_EACH_BATCH) {
        lc_dbd_res_t *res = NULL;

        apr_pool_clear(bp);
        args[2] = after;
        if (lc_dbd_run(d, c, bp, LC_Q_LIST, args, &res) != APR_SUCCESS) {
            rv = LC_EUNAVAIL;
            break;
        }
        rows = lc_dbd_rows(c, res);
        for (i = 0; i < rows && !stop; i++) {
            lc_dbd_row(c, bp, res, i, 0, LC_DBD_NCOLS, v);
            if (lc_dbd_row_parse(v, r) != APR_SUCCESS) {
                rv = LC_EUNAVAIL;
                break;
            }
            stop = fn(r, baton);
            apr_cpystrn(after, r->id, sizeof(after));
        }
    }
    apr_pool_destroy(bp);
    return rv;
}

static apr_status_t dbd_each(lc_store_t *st, lc_kind_e kind, lc_store_visit_fn *fn,
                             void *baton, apr_pool_t *p)
{
    lc_dbd_t *d = st->impl;
    lc_dbd_conn_t c;
    apr_pool_t *sp;
    apr_status_t rv;

    WITH_CONNECTION(d, p, sp, c, rv, rv = each_rows(d, &c, sp, kind, fn, baton));
    return rv;
}

/* ---- background work: the due queue ------------------------------------------------- */

/* One due move in its own short transaction: claim the oldest due row no
 * other host holds (FOR UPDATE SKIP LOCKED), run fn on it, write it, commit.
 * *moved: 1 moved (r the new record), 0 taken off the queue, -1 none due. */
static apr_status_t due_once(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p, apr_time_t now,
                             lc_store_update_fn *fn, void *baton, upd_t *u, int *moved)
{
    const char *args[2] = { lc_dbd_i64(p, now), NULL };
    const char *v[LC_DBD_NCOLS];
    lc_dbd_res_t *res = NULL;
    apr_status_t rv;
    int wrote = 0;

    *moved = -1;
    if ((rv = lc_dbd_exec(d, c, "BEGIN")) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = lc_dbd_run(d, c, p, LC_Q_DUE_CLAIM, args, &res)) == APR_SUCCESS
        && lc_dbd_rows(c, res) >= 1) {
        lc_dbd_row(c, p, res, 0, 0, LC_DBD_NCOLS, v);
        rv = lc_dbd_row_parse(v, &u->cur) == APR_SUCCESS ? APR_SUCCESS : LC_EUNAVAIL;
    }
    else if (rv == APR_SUCCESS) {
        return lc_dbd_exec(d, c, "COMMIT");
    }
    if (rv == APR_SUCCESS) {
        lc_resource_copy(&u->r, &u->cur);
        if (lc_store_apply_due(&u->r, fn, baton) == APR_SUCCESS) {
            rv = write_row(d, c, p, 1, u->cur.version, &u->cur, &u->r, &wrote);
        }
        if (rv == APR_SUCCESS && !wrote) {
            /* Nothing to do after all (or it could not be written): off the queue. */
            args[0] = apr_itoa(p, u->cur.kind);
            args[1] = u->cur.id;
            rv = lc_dbd_run(d, c, p, LC_Q_DUE_CLEAR, args, NULL);
        }
    }
    if (rv != APR_SUCCESS) {
        lc_dbd_exec(d, c, "ROLLBACK");
        return rv == LC_DBD_ERETRY ? APR_SUCCESS : rv;     /* retried next tick */
    }
    if ((rv = lc_dbd_exec(d, c, "COMMIT")) == APR_SUCCESS) {
        *moved = wrote;
    }
    return rv;
}

static apr_status_t dbd_take_due(lc_store_t *st, apr_time_t now, int max,
                                 lc_store_update_fn *fn, void *baton,
                                 lc_store_each_fn *done, void *done_baton, apr_pool_t *p)
{
    lc_dbd_t *d = st->impl;
    lc_dbd_conn_t c;
    apr_pool_t *sp;
    apr_status_t rv;
    upd_t *u;
    int k, moved = 0;

    if ((u = malloc(sizeof(*u))) == NULL) {
        return APR_ENOMEM;
    }
    WITH_CONNECTION(d, p, sp, c, rv, {
        for (k = 0; k < max; k++) {
            rv = due_once(d, &c, sp, now, fn, baton, u, &moved);
            if (rv != APR_SUCCESS || moved < 0) {
                break;
            }
            if (moved) {
                __atomic_add_fetch(&d->sh->moved, 1, __ATOMIC_RELAXED);
                if (done) {
                    done(&u->r, done_baton);      /* after the commit, paired with fn */
                }
            }
        }
    });
    /* Read the next due time again at the next tick. */
    __atomic_store_n(&d->sh->due_read, 0, __ATOMIC_RELEASE);
    free(u);
    return rv == LC_DBD_EUNKNOWN || rv == LC_DBD_EUNREPL ? LC_EUNAVAIL : rv;
}

/* Every child of every host asks at every tick (100 ms): answered from the
 * host's shared cache, which one process reads again from the database at
 * most every LC_DBD_DUE_REFRESH (and at once after this host took due
 * moves).  This host's own writes lower it as they commit; another host's
 * show within the refresh. */
static apr_time_t dbd_next_due(lc_store_t *st, apr_pool_t *p)
{
    lc_dbd_t *d = st->impl;
    apr_time_t now = apr_time_now();
    int64_t read = __atomic_load_n(&d->sh->due_read, __ATOMIC_ACQUIRE);
    const char *v[1];
    lc_dbd_res_t *res = NULL;
    lc_dbd_conn_t c;
    apr_pool_t *sp;
    apr_status_t rv;

    if (now - read < d->opt.due_refresh
        || !__atomic_compare_exchange_n(&d->sh->due_read, &read, now, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
        return __atomic_load_n(&d->sh->due_at, __ATOMIC_ACQUIRE);
    }
    __atomic_add_fetch(&d->sh->due_polls, 1, __ATOMIC_RELAXED);
    WITH_CONNECTION(d, p, sp, c, rv, {
        if ((rv = lc_dbd_run(d, &c, sp, LC_Q_NEXT_DUE, NULL, &res)) == APR_SUCCESS
            && lc_dbd_rows(&c, res) == 1) {
            lc_dbd_row(&c, sp, res, 0, 0, 1, v);
            __atomic_store_n(&d->sh->due_at, v[0] ? apr_atoi64(v[0]) : 0, __ATOMIC_RELEASE);
        }
    });
    (void)rv;
    return __atomic_load_n(&d->sh->due_at, __ATOMIC_ACQUIRE);
}

/* ---- metrics ----------------------------------------------------------------------- */

#define COUNTER(name_, help_, field_) do { \
        lc_metric_t m_ = { name_, "counter", help_, NULL, \
                           __atomic_load_n(&d->sh->field_, __ATOMIC_RELAXED), 0 }; \
        emit(&m_, baton); \
    } while (0)

/* The synchronous standbys the database streams to now, as it says at this
 * scrape: -1 when it does not answer or will not say (LC_Q_SYNC_STANDBYS). */
static apr_status_t sync_standbys(lc_dbd_t *d, apr_pool_t *p, int64_t *n)
{
    lc_dbd_res_t *res = NULL;
    const char *v[1] = { NULL };
    lc_dbd_conn_t c;
    apr_pool_t *sp;
    apr_status_t rv;

    *n = -1;
    WITH_CONNECTION(d, p, sp, c, rv, {
        if ((rv = lc_dbd_run(d, &c, sp, LC_Q_SYNC_STANDBYS, NULL, &res)) == APR_SUCCESS
            && lc_dbd_rows(&c, res) == 1) {
            lc_dbd_row(&c, sp, res, 0, 0, 1, v);
            *n = v[0] ? apr_atoi64(v[0]) : -1;
        }
    });
    return rv;
}

static void dbd_metrics(lc_store_t *st, lc_metric_fn *emit, void *baton, apr_pool_t *p)
{
    lc_dbd_t *d = st->impl;
    lc_metric_t head = { "lifecycle_feed_last_seq", "gauge", "The change feed's last sequence "
                         "number this server has seen.", NULL, 0, 0 };
    lc_metric_t sync = { "lifecycle_dbd_sync_standbys", "gauge", "Synchronous standbys the "
                         "database streams to now (pg_stat_replication; absent when it does "
                         "not answer or the role lacks pg_read_all_stats).", NULL, 0, 0 };
    int64_t n;

    COUNTER("lifecycle_dbd_statements_total", "Database statements run by this server.",
            statements);
    COUNTER("lifecycle_dbd_retries_total", "Lost races and conflicts the database rolled "
            "back, run again.", retries);
    COUNTER("lifecycle_dbd_unavailable_total", "Operations answered 503: the database "
            "unreachable or failing.", unavailable);
    COUNTER("lifecycle_dbd_reprepared_total", "Connections whose prepared statements a "
            "reconnection had lost.", reprepared);
    COUNTER("lifecycle_dbd_sequenced_total", "Changes this server's sequencer numbered.",
            sequenced);
    COUNTER("lifecycle_dbd_due_polls_total", "Reads of the next due time from the database.",
            due_polls);
    COUNTER("lifecycle_dbd_batches_total", "Update statements that wrote several "
            "transitions at once (made by this server's threads at the same time).", batches);
    COUNTER("lifecycle_dbd_batched_total", "Transitions written by those statements.",
            batched);
    COUNTER("lifecycle_dbd_due_moves_total", "Due moves (auto-advance, timeouts) this "
            "server made.", moved);
    COUNTER("lifecycle_dbd_timeouts_total", "Database calls that passed LifecycleDbdTimeout "
            "(their connection closed).", timeouts);
    COUNTER("lifecycle_dbd_reconnects_total", "Sessions replaced after a lost connection or "
            "a read-only node.", reconnects);
    COUNTER("lifecycle_dbd_unknown_outcomes_total", "Writes answered 503 with their outcome "
            "unknown (may have committed).", unknown);
    COUNTER("lifecycle_dbd_verified_total", "Writes of unknown outcome found committed by "
            "reading the row again (answered as if in time).", verified);
    COUNTER("lifecycle_dbd_timeline_refusals_total", "Database sessions refused: a node on "
            "an older timeline than one written to, or another cluster.", tl_refused);
    head.value = __atomic_load_n(&d->sh->head, __ATOMIC_RELAXED);
    emit(&head, baton);
    if (sync_standbys(d, p, &n) == APR_SUCCESS && n >= 0) {
        sync.value = (uint64_t)n;
        emit(&sync, baton);
    }
}

/* ---- the status page's count ---------------------------------------------------- */

static apr_status_t tally(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p, lc_store_counts_t *out)
{
    lc_dbd_res_t *res = NULL;
    const char *v[3];
    apr_status_t rv = lc_dbd_run(d, c, p, LC_Q_TALLY, NULL, &res);
    int rows, i;

    if (rv != APR_SUCCESS) {
        return LC_EUNAVAIL;
    }
    rows = lc_dbd_rows(c, res);
    for (i = 0; i < rows; i++) {
        int kind, state;
        lc_dbd_row(c, p, res, i, 0, 3, v);
        kind = v[0] ? atoi(v[0]) : 0;
        state = v[1] ? atoi(v[1]) : -1;
        /* A row this module cannot read (lc_dbd_row_parse refuses it) is not counted. */
        if (kind > LC_KIND_NONE && kind < LC_KIND_COUNT && state >= 0 && state < 256 && v[2]) {
            out->n[kind][state] = (uint64_t)apr_atoi64(v[2]);
        }
    }
    return APR_SUCCESS;
}

/* One statement: the database counts, whatever the number of resources. */
static apr_status_t dbd_count(lc_store_t *st, lc_store_counts_t *out, apr_pool_t *p)
{
    lc_dbd_t *d = st->impl;
    lc_dbd_conn_t c;
    apr_pool_t *sp;
    apr_status_t rv;

    memset(out, 0, sizeof(*out));
    WITH_CONNECTION(d, p, sp, c, rv, rv = tally(d, &c, sp, out));
    return rv;
}

/* ---- the store ------------------------------------------------------------------- */

static const lc_store_ops_t dbd_ops = {
    .get          = dbd_get,
    .get_alias    = dbd_get_alias,
    .update       = dbd_update,
    .remove       = dbd_remove,
    .list         = dbd_list,
    .take_due     = dbd_take_due,
    .changes_read = lc_dbd_changes_read,
    .changes_wait = lc_dbd_changes_wait,
    .next_due     = dbd_next_due,
    .metrics      = dbd_metrics,
    .count        = dbd_count,
    .each         = dbd_each,
};

lc_store_t *lc_store_dbd_open(apr_pool_t *p, const lc_dbd_source_t *src, lc_dbd_shared_t *sh,
                              const lc_dbd_options_t *opt)
{
    lc_store_t *st = apr_pcalloc(p, sizeof(*st));
    lc_dbd_t *d = apr_pcalloc(p, sizeof(*d));

    d->src = *src;
    d->sh = sh;
    d->opt = *opt;
    d->schema_ok = opt->schema_ok;
    if (d->opt.feed_poll <= 0) {
        d->opt.feed_poll = LC_DBD_FEED_POLL_DEFAULT;
    }
    if (d->opt.due_refresh <= 0) {
        d->opt.due_refresh = LC_DBD_DUE_REFRESH;
    }
    if (d->opt.timeout <= 0) {
        d->opt.timeout = LC_DBD_TIMEOUT_DEFAULT;
    }
    d->batch = lc_dbd_batch_create(p);
    st->ops = &dbd_ops;
    st->impl = d;
    return st;
}

#define WARM_MAX 8             /* connections made ready at a process's start */

int lc_store_dbd_warm(lc_store_t *st, int n, apr_pool_t *p)
{
    lc_dbd_t *d = st->impl;
    lc_dbd_conn_t c[WARM_MAX];
    apr_pool_t *sp;
    int i, ready = 0;

    if (n > WARM_MAX) {
        n = WARM_MAX;
    }
    if (apr_pool_create(&sp, p) != APR_SUCCESS) {
        return 0;
    }
    while (ready < n && lc_dbd_begin(d, sp, &c[ready]) == APR_SUCCESS) {
        ready++;
    }
    for (i = 0; i < ready; i++) {
        lc_dbd_end(d, &c[i]);
    }
    apr_pool_destroy(sp);
    return ready;
}

lc_dbd_shared_t *lc_store_dbd_shared(lc_store_t *st)
{
    return ((lc_dbd_t *)st->impl)->sh;
}
