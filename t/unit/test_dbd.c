/* Unit tests of the dbd backend: its pure parts always (rows, SQLSTATEs,
 * statements), and the store contract against a real PostgreSQL when
 * LC_TEST_DBD_PARAMS holds apr_dbd pgsql parameters ("host=/tmp/x
 * dbname=lifecycle user=lifecycle"): the tables are dropped and made
 * anew, so give it a database of its own.  Connections come from APR
 * directly here, not mod_dbd: the backend needs no httpd. */
#include <stdlib.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sodium.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <apr_thread_mutex.h>

#include <libpq-fe.h>

#include "lc_test.h"
#include "lc_test_contract.h"
#include "lc_store_dbd.h"
#include "lc_dbd_schema.h"
#include "lc_dbd_int.h"

static apr_pool_t *pool;

/* ---- pure --------------------------------------------------------------------------- */

static void test_rows(void)
{
    const char *ok[LC_DBD_NCOLS] = { "3", "ws-1", "7", "42", "1", "2", "0", "0", "1", "9",
                                     "1000", "2000", "0", "3000", "alice", "a0", "", "{\"k\":1}" };
    const char *v[LC_DBD_NCOLS], *img[LC_DBD_NIMAGE];
    lc_resource_t r, back;
    char big[LC_DATA_MAX + 2];
    int i;

    CHECK(lc_dbd_row_parse(ok, &r) == APR_SUCCESS);
    CHECK(r.kind == 3 && r.version == 7 && r.seq == 42 && r.state == 1 && r.desired == 2);
    CHECK(r.due_class == 1 && r.ckpt_seq == 9 && r.created == 1000 && r.due == 3000);
    CHECK_STR(r.id, "ws-1");
    CHECK_STR(r.owner, "alice");
    CHECK_STR(r.alias[0], "a0");
    CHECK_STR(r.data, "{\"k\":1}");
    /* The image round-trips. */
    lc_dbd_row_image(&r, pool, img);
    memcpy(v, ok, sizeof(v));
    for (i = 0; i < LC_DBD_NIMAGE; i++) {
        v[4 + i] = img[i];
    }
    CHECK(lc_dbd_row_parse(v, &back) == APR_SUCCESS && lc_resource_same(&r, &back));
    /* Out of the schema's bounds: refused, never truncated. */
    memcpy(v, ok, sizeof(v));
    v[0] = "0";
    CHECK(lc_dbd_row_parse(v, &r) == APR_EGENERAL);
    v[0] = "3";
    v[4] = "256";
    CHECK(lc_dbd_row_parse(v, &r) == APR_EGENERAL);
    v[4] = "1x";
    CHECK(lc_dbd_row_parse(v, &r) == APR_EGENERAL);
    v[4] = "1";
    v[8] = "3";
    CHECK(lc_dbd_row_parse(v, &r) == APR_EGENERAL);
    v[8] = "1";
    v[1] = "";
    CHECK(lc_dbd_row_parse(v, &r) == APR_EGENERAL);
    v[1] = "ws-1";
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    v[17] = big;
    CHECK(lc_dbd_row_parse(v, &r) == APR_EGENERAL);
    big[LC_DATA_MAX] = '\0';
    CHECK(lc_dbd_row_parse(v, &r) == APR_SUCCESS && strlen(r.data) == LC_DATA_MAX);
    v[17] = ok[17];
    v[2] = "9223372036854775808";
    CHECK(lc_dbd_row_parse(v, &r) == APR_EGENERAL);
}

static void test_sqlstate(void)
{
    char s[6];

    CHECK(lc_dbd_sqlstate("ERROR:  40001: could not serialize access\nLOCATION: x", s));
    CHECK_STR(s, "40001");
    CHECK(lc_dbd_sqlstate("FATAL:  57P01: terminating connection", s));
    CHECK_STR(s, "57P01");
    CHECK(!lc_dbd_sqlstate("ERROR:  could not serialize access", s));
    CHECK(!lc_dbd_sqlstate("server closed the connection unexpectedly", s));
    CHECK(!lc_dbd_sqlstate(NULL, s));
    CHECK(lc_dbd_retryable("40001") && lc_dbd_retryable("40P01") && lc_dbd_retryable("23505"));
    CHECK(!lc_dbd_retryable("42601") && !lc_dbd_retryable(""));
}

/* Every statement has the parameters its callers pass, in apr_dbd's syntax. */
static void test_statements(void)
{
    static const int nargs[LC_Q_COUNT] = { 2, 2, 2, 18, 18, 20, 3, 4, 1, 2, 0, 0, 1, 1, 2, 1,
                                           18, 2, 0 };
    int q;

    for (q = 0; q < LC_Q_COUNT; q++) {
        const char *s = lc_dbd_sql_text(q);
        int n = 0;
        for (; *s; s++) {
            n += s[0] == '%' && s[1] >= 'a' && s[1] <= 'z';
        }
        if (n != nargs[q]) {
            fprintf(stderr, "%s: %d parameters\n", lc_dbd_sql_label(q), n);
        }
        CHECK(n == nargs[q]);
        CHECK(strncmp(lc_dbd_sql_label(q), "lc_", 3) == 0);
    }
}

/* ---- against PostgreSQL ------------------------------------------------------------- */

typedef struct src {
    const char             *params;
    const apr_dbd_driver_t *driver;
    apr_dbd_t              *handle;     /* one per process, kept */
    apr_pool_t             *pool;
    apr_hash_t             *prepared;
    int                     fail;       /* 1: refuse to open (a database that is down) */
} src_t;

static src_t src;

static apr_status_t src_open(void *ctx, apr_pool_t *p, lc_dbd_conn_t *c)
{
    src_t *s = ctx;
    const char *err = NULL;

    (void)p;
    if (s->fail) {
        return APR_EGENERAL;
    }
    if (!s->handle) {
        apr_pool_create(&s->pool, NULL);
        if (apr_dbd_open_ex(s->driver, s->pool, s->params, &s->handle, &err) != APR_SUCCESS) {
            fprintf(stderr, "cannot connect: %s\n", err ? err : "?");
            apr_pool_destroy(s->pool);
            s->handle = NULL;
            return APR_EGENERAL;
        }
        s->prepared = apr_hash_make(s->pool);
    }
    /* What mod_dbd does at each open: a connection gone bad is reset. */
    else if (apr_dbd_check_conn(s->driver, s->pool, s->handle) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    c->driver = s->driver;
    c->handle = s->handle;
    c->prepared = s->prepared;
    c->pool = s->pool;
    return APR_SUCCESS;
}

static void src_close(void *ctx, lc_dbd_conn_t *c)
{
    (void)ctx;
    (void)c;
}

static void src_log(void *ctx, int level, const char *msg)
{
    (void)ctx;
    if (getenv("LC_TEST_DBD_VERBOSE")) {
        fprintf(stderr, "log %d: %s\n", level, msg);
    }
}

static lc_dbd_shared_t *shared;

static lc_store_t *new_store(void)
{
    lc_dbd_source_t s = { src_open, src_close, src_log, NULL, &src };
    lc_dbd_options_t o = { apr_time_from_msec(20), 50, apr_time_from_msec(250), 0,
                           apr_time_from_sec(1) };     /* LifecycleDbdTimeout 1s */

    return lc_store_dbd_open(pool, &s, shared, &o);
}

static void sql(const char *q)
{
    lc_dbd_conn_t c;
    int n;

    CHECK(src_open(&src, pool, &c) == APR_SUCCESS);
    if (apr_dbd_query(c.driver, c.handle, &n, q) != 0) {
        fprintf(stderr, "%s: %s\n", q, apr_dbd_error(c.driver, c.handle, 0));
    }
}

/* Empty tables, and this process's connection forgets its statements. */
static void fresh(void)
{
    sql("DROP TABLE IF EXISTS lc_resources, lc_aliases, lc_changes, lc_feed_head, lc_meta");
    sql("DROP SEQUENCE IF EXISTS lc_pos");
    sql("DEALLOCATE ALL");
    src.prepared = apr_hash_make(src.pool);
    memset(shared, 0, sizeof(*shared));
}

typedef struct aput { const char *a0, *a1, *data; uint8_t state; } aput_t;

static apr_status_t aput_cb(lc_resource_t *r, int exists, void *baton)
{
    aput_t *a = baton;

    (void)exists;
    r->state = a->state;
    apr_cpystrn(r->alias[0], a->a0 ? a->a0 : "", sizeof(r->alias[0]));
    apr_cpystrn(r->alias[1], a->a1 ? a->a1 : "", sizeof(r->alias[1]));
    if (a->data) {
        apr_cpystrn(r->data, a->data, sizeof(r->data));
    }
    return APR_SUCCESS;
}

static apr_status_t put(lc_store_t *st, lc_kind_e k, const char *id, uint8_t state,
                        lc_resource_t *out)
{
    aput_t a = { NULL, NULL, "{\"n\":1}", state };
    lc_resource_t cur;

    /* Keep the aliases it has. */
    if (lc_store_get(st, k, id, &cur, pool) == APR_SUCCESS) {
        a.a0 = apr_pstrdup(pool, cur.alias[0]);
        a.a1 = apr_pstrdup(pool, cur.alias[1]);
    }
    return lc_store_update(st, k, id, aput_cb, &a, out, pool);
}

/* The contract's cases (lc_test_contract.h), each on empty tables. */
static lc_store_t *contract_store(const char *name, void *ctx)
{
    (void)name;
    (void)ctx;
    fresh();
    return new_store();
}

/* each here walks in id order (the list statement's): on what crud left,
 * B first, r063 last, and a stop after two is at overflow. */
typedef struct each_seen { int n, stop_at; char last[LC_ID_MAX + 1]; } each_seen_t;

static int each_count(const lc_resource_t *r, void *baton)
{
    each_seen_t *e = baton;

    snprintf(e->last, sizeof(e->last), "%s", r->id);
    return ++e->n == e->stop_at;
}

static void contract_after(const char *name, lc_store_t *st, void *ctx)
{
    each_seen_t all = { 0, 0, "" }, two = { 0, 2, "" };

    (void)ctx;
    if (strcmp(name, "crud") != 0) {
        return;
    }
    CHECK(lc_store_each(st, LC_KIND_WORKSTATION, each_count, &all, pool) == APR_SUCCESS);
    CHECK(all.n == 65);
    CHECK_STR(all.last, "r063");
    CHECK(lc_store_each(st, LC_KIND_WORKSTATION, each_count, &two, pool) == APR_SUCCESS);
    CHECK(two.n == 2);
    CHECK_STR(two.last, "overflow");
}

/* Every change in the feed once, densely, in order; retention then 410. */
static void test_feed(void)
{
    lc_store_t *st = new_store();
    lc_change_t *ch = malloc(sizeof(*ch) * 200);
    uint64_t oldest;
    int n, i, dense = 1;

    fresh();
    CHECK(lc_store_changes_wait(st, 0, 0, pool) == APR_SUCCESS);
    CHECK(lc_store_changes_read(st, 0, ch, 200, &n, &oldest, pool) == APR_SUCCESS && n == 0);
    CHECK(put(st, LC_KIND_WORKSTATION, "f1", K_IDLE, NULL) == APR_SUCCESS);
    CHECK(put(st, LC_KIND_WORKSTATION, "f1", K_BUSY, NULL) == APR_SUCCESS);
    CHECK(lc_store_remove(st, LC_KIND_WORKSTATION, "f1", 0, NULL, pool) == APR_SUCCESS);
    CHECK(lc_store_changes_wait(st, 0, apr_time_from_sec(1), pool) == APR_SUCCESS);
    CHECK(lc_store_changes_read(st, 0, ch, 200, &n, &oldest, pool) == APR_SUCCESS && n == 3);
    CHECK(ch[0].seq == 1 && ch[0].op == LC_OP_CREATE && ch[0].r.version == 1);
    CHECK(ch[1].seq == 2 && ch[1].op == LC_OP_REPLACE && ch[1].r.state == K_BUSY);
    CHECK(ch[2].seq == 3 && ch[2].op == LC_OP_DELETE && ch[2].r.version == 2);
    CHECK(lc_store_changes_read(st, 2, ch, 200, &n, &oldest, pool) == APR_SUCCESS && n == 1);
    /* Nothing new: the wait lasts its time. */
    {
        apr_time_t t0 = apr_time_now();
        CHECK(lc_store_changes_wait(st, 3, apr_time_from_msec(200), pool) == APR_SUCCESS);
        CHECK(apr_time_now() - t0 >= apr_time_from_msec(190));
    }
    /* Retention 50, trimmed in steps of 1000: past 1053 the first ones go. */
    for (i = 0; i < 1060; i++) {
        put(st, LC_KIND_WORKSTATION, "f2", (uint8_t)(i & 1), NULL);
    }
    CHECK(lc_store_dbd_sequence(st, 0, pool) == APR_SUCCESS);
    CHECK(lc_store_changes_read(st, 0, ch, 200, &n, &oldest, pool) == APR_EGENERAL);
    CHECK(oldest > 1 && oldest <= 1063 - 50 + 1);
    CHECK(lc_store_changes_read(st, oldest - 1, ch, 200, &n, &oldest, pool) == APR_SUCCESS);
    for (i = 1; i < n; i++) {
        dense &= ch[i].seq == ch[i - 1].seq + 1 && ch[i].r.version == ch[i - 1].r.version + 1;
    }
    CHECK(n > 0 && dense);
    free(ch);
}

/* Several processes race on one resource: exactly one wins each round;
 * and a sequencer in each process at once still numbers densely. */
static void test_race(void)
{
    lc_store_t *st = new_store();
    lc_change_t *ch = malloc(sizeof(*ch) * 1000);
    lc_resource_t r;
    uint64_t oldest;
    int i, status, wins = 0, n, ok = 1;
    pid_t pids[8];

    fresh();
    CHECK(put(st, LC_KIND_WORKSTATION, "hot", K_BUSY, NULL) == APR_SUCCESS);
    for (i = 0; i < 8; i++) {
        if ((pids[i] = fork()) == 0) {
            lc_act_t act = { &k_def, "hot", "stop", NULL, apr_time_now(), -1 };
            int k;
            src.handle = NULL;                  /* a connection of its own */
            act.pool = pool;
            for (k = 0; k < 20; k++) {
                put(st, LC_KIND_WORKSTATION, "w", K_IDLE, NULL);
                lc_store_dbd_sequence(st, 0, pool);
            }
            _exit(lc_engine_act(st, &act, NULL, NULL) == APR_SUCCESS ? 10 : 11);
        }
    }
    for (i = 0; i < 8; i++) {
        waitpid(pids[i], &status, 0);
        wins += WIFEXITED(status) && WEXITSTATUS(status) == 10;
    }
    CHECK(wins == 1);
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "hot", &r, pool) == APR_SUCCESS);
    CHECK(r.version == 2 && r.state == K_IDLE);
    CHECK(lc_store_dbd_sequence(st, 0, pool) == APR_SUCCESS);
    CHECK(lc_store_changes_read(st, 0, ch, 1000, &n, &oldest, pool) == APR_SUCCESS);
    if (n != 162) fprintf(stderr, "race: %d changes\n", n);
    CHECK(n == 1 + 160 + 1);
    for (i = 0; i < n; i++) {
        ok &= ch[i].seq == (uint64_t)i + 1;
    }
    CHECK(ok);
    free(ch);
}

/* ---- one process's threads at once: batched updates (lc_dbd_batch.c) ----------- */

#define B_THREADS 8
#define B_ROUNDS 100
#define B_KEYS 16

/* A connection per thread, as mod_dbd's reslist lends them. */
typedef struct tsrc {
    apr_thread_mutex_t *mu;
    apr_dbd_t          *handle[B_THREADS + 1];
    apr_hash_t         *prepared[B_THREADS + 1];
    int                 busy[B_THREADS + 1];
} tsrc_t;

static tsrc_t tsrc;

static apr_status_t tsrc_open(void *ctx, apr_pool_t *p, lc_dbd_conn_t *c)
{
    tsrc_t *t = ctx;
    const char *err = NULL;
    int i;

    (void)p;
    apr_thread_mutex_lock(t->mu);
    for (i = 0; i <= B_THREADS && t->busy[i]; i++) {
    }
    if (i > B_THREADS) {
        apr_thread_mutex_unlock(t->mu);
        return APR_EGENERAL;
    }
    t->busy[i] = 1;
    /* What mod_dbd does at each open: a connection gone bad is reset. */
    if (t->handle[i] && apr_dbd_check_conn(src.driver, pool, t->handle[i]) != APR_SUCCESS) {
        t->busy[i] = 0;
        apr_thread_mutex_unlock(t->mu);
        return APR_EGENERAL;
    }
    if (!t->handle[i]) {
        if (apr_dbd_open_ex(src.driver, pool, src.params, &t->handle[i], &err) != APR_SUCCESS) {
            t->busy[i] = 0;
            apr_thread_mutex_unlock(t->mu);
            return APR_EGENERAL;
        }
        t->prepared[i] = apr_hash_make(pool);
    }
    apr_thread_mutex_unlock(t->mu);
    c->driver = src.driver;
    c->handle = t->handle[i];
    c->prepared = t->prepared[i];
    c->pool = pool;
    c->token = &t->busy[i];
    return APR_SUCCESS;
}

static void tsrc_close(void *ctx, lc_dbd_conn_t *c)
{
    tsrc_t *t = ctx;

    apr_thread_mutex_lock(t->mu);
    *(int *)c->token = 0;
    apr_thread_mutex_unlock(t->mu);
}

/* Each write puts the version it was made from in the data, with a quote
 * and a backslash (the array literal's special characters) around it. */
static apr_status_t bump_cb(lc_resource_t *r, int exists, void *baton)
{
    (void)baton;
    if (!exists) {
        return LC_ENOTFOUND;
    }
    r->state = r->state == K_IDLE ? K_BUSY : K_IDLE;
    snprintf(r->data, sizeof(r->data), "{\"from\":%" APR_UINT64_T_FMT ",\"q\":\"\\\"\\\\\"}",
             r->version);
    return APR_SUCCESS;
}

typedef struct bthread { lc_store_t *st; int no, ok; } bthread_t;

static void *APR_THREAD_FUNC bump_thread(apr_thread_t *th, void *data)
{
    bthread_t *b = data;
    apr_pool_t *tp;
    char id[16];
    int k;

    (void)th;
    apr_pool_create(&tp, NULL);
    for (k = 0; k < B_ROUNDS; k++) {
        snprintf(id, sizeof(id), "b%02d", (b->no * 5 + k) % B_KEYS);
        b->ok += lc_store_update(b->st, LC_KIND_WORKSTATION, id, bump_cb, NULL, NULL, tp)
                 == APR_SUCCESS;
    }
    apr_pool_destroy(tp);
    return NULL;
}

static void test_batch(void)
{
    lc_dbd_source_t s = { tsrc_open, tsrc_close, src_log, NULL, &tsrc };
    lc_dbd_options_t o = { apr_time_from_msec(20), 0, apr_time_from_msec(250), 0 };
    lc_store_t *st, *plain = new_store();
    apr_thread_t *th[B_THREADS];
    bthread_t bt[B_THREADS];
    lc_change_t *ch = malloc(sizeof(*ch) * 1000);
    uint64_t total = 0, oldest, last[B_KEYS] = { 0 };
    lc_resource_t r;
    char id[16], want[64];
    apr_status_t trv;
    int i, n, ok = 0, data_ok = 1, order_ok = 1;

    fresh();
    CHECK(apr_thread_mutex_create(&tsrc.mu, APR_THREAD_MUTEX_DEFAULT, pool) == APR_SUCCESS);
    st = lc_store_dbd_open(pool, &s, shared, &o);
    for (i = 0; i < B_KEYS; i++) {
        snprintf(id, sizeof(id), "b%02d", i);
        CHECK(put(plain, LC_KIND_WORKSTATION, id, K_IDLE, NULL) == APR_SUCCESS);
    }
    for (i = 0; i < B_THREADS; i++) {
        bt[i].st = st;
        bt[i].no = i;
        bt[i].ok = 0;
        CHECK(apr_thread_create(&th[i], NULL, bump_thread, &bt[i], pool) == APR_SUCCESS);
    }
    for (i = 0; i < B_THREADS; i++) {
        apr_thread_join(&trv, th[i]);
        ok += bt[i].ok;
    }
    /* Every update made it, each exactly over the version it read. */
    CHECK(ok == B_THREADS * B_ROUNDS);
    for (i = 0; i < B_KEYS; i++) {
        snprintf(id, sizeof(id), "b%02d", i);
        CHECK(lc_store_get(plain, LC_KIND_WORKSTATION, id, &r, pool) == APR_SUCCESS);
        total += r.version - 1;
        snprintf(want, sizeof(want), "{\"from\":%" APR_UINT64_T_FMT ",\"q\":\"\\\"\\\\\"}",
                 r.version - 1);
        data_ok &= strcmp(r.data, want) == 0;
    }
    CHECK(total == B_THREADS * B_ROUNDS);
    CHECK(data_ok);
    /* Several went in one statement. */
    if (shared->batches == 0) fprintf(stderr, "batch: no statement wrote several rows\n");
    CHECK(shared->batches > 0 && shared->batched >= 2 * shared->batches);
    /* The feed: every write once, each resource's versions in order. */
    CHECK(lc_store_dbd_sequence(plain, 0, pool) == APR_SUCCESS);
    CHECK(lc_store_changes_read(plain, 0, ch, 1000, &n, &oldest, pool) == APR_SUCCESS);
    CHECK(n == B_KEYS + B_THREADS * B_ROUNDS);
    for (i = 0; i < n; i++) {
        int k = atoi(ch[i].r.id + 1);
        order_ok &= k >= 0 && k < B_KEYS && ch[i].r.version == last[k] + 1;
        last[k] = ch[i].r.version;
    }
    CHECK(order_ok);
    /* The status page's count: one statement, by kind and state. */
    {
        lc_store_counts_t *cn = calloc(1, sizeof(*cn));
        CHECK(lc_store_count(plain, cn, pool) == APR_SUCCESS);
        CHECK(cn->n[LC_KIND_WORKSTATION][K_IDLE] + cn->n[LC_KIND_WORKSTATION][K_BUSY] == B_KEYS);
        CHECK(cn->n[LC_KIND_WORKSTATION][K_DONE] == 0 && cn->n[LC_KIND_NOTEBOOK][K_IDLE] == 0);
        free(cn);
    }
    /* A row this module cannot read fails its own update only. */
    sql("UPDATE lc_resources SET state = 300 WHERE id = 'b00'");
    CHECK(lc_store_update(st, LC_KIND_WORKSTATION, "b00", bump_cb, NULL, NULL, pool)
          == LC_EUNAVAIL);
    CHECK(lc_store_update(st, LC_KIND_WORKSTATION, "b01", bump_cb, NULL, NULL, pool)
          == APR_SUCCESS);
    free(ch);
}

/* No database: every operation is LC_EUNAVAIL, and a newer schema is refused. */
static void test_unavailable(void)
{
    lc_store_t *st = new_store();
    lc_dbd_conn_t c;
    lc_resource_t r;
    const char *why;

    fresh();
    src.fail = 1;
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "a", &r, pool) == LC_EUNAVAIL);
    CHECK(put(st, LC_KIND_WORKSTATION, "a", K_IDLE, NULL) == LC_EUNAVAIL);
    CHECK(lc_store_changes_wait(st, 0, 0, pool) == LC_EUNAVAIL);
    src.fail = 0;
    CHECK(put(st, LC_KIND_WORKSTATION, "a", K_IDLE, NULL) == APR_SUCCESS);
    sql("UPDATE lc_meta SET value = '99' WHERE key = 'schema'");
    src_open(&src, pool, &c);
    CHECK(lc_dbd_schema_ensure(&c, pool, &why) == APR_EINVAL);
    CHECK(why && strstr(why, "version 99") != NULL);
    /* A reset loses the prepared statements: prepared again, run once more. */
    sql("DEALLOCATE ALL");
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "a", &r, pool) == APR_SUCCESS);
    CHECK(shared->reprepared == 1);
}

/* ---- database faults --------------------------------------------------- */

/* A second session of its own (what another host or an operator does). */
static apr_dbd_t *other_session(const char *params)
{
    apr_dbd_t *h = NULL;
    const char *err = NULL;

    CHECK(apr_dbd_open_ex(src.driver, pool, params, &h, &err) == APR_SUCCESS);
    return h;
}

static int other_sql(apr_dbd_t *h, const char *q)
{
    int n = 0, rv = apr_dbd_query(src.driver, h, &n, q);

    if (rv != 0) {
        fprintf(stderr, "%s: %s\n", q, apr_dbd_error(src.driver, h, rv));
    }
    return rv;
}

typedef struct later { apr_dbd_t *h; const char *sql; apr_interval_time_t after; } later_t;

static void *APR_THREAD_FUNC later_thread(apr_thread_t *th, void *data)
{
    later_t *l = data;

    apr_sleep(l->after);
    other_sql(l->h, l->sql);
    apr_thread_exit(th, APR_SUCCESS);
    return NULL;
}

/* Run sql on h after a delay, on a thread of its own. */
static apr_thread_t *later(later_t *l)
{
    apr_thread_t *th = NULL;

    CHECK(apr_thread_create(&th, NULL, later_thread, l, pool) == APR_SUCCESS);
    return th;
}

static double secs_since(apr_time_t t0)
{
    return (double)(apr_time_now() - t0) / APR_USEC_PER_SEC;
}

/* A database that does not answer holds no request past
 * LifecycleDbdTimeout (1 s here): a table locked by another session (as a
 * frozen primary or a commit waiting for a lost standby would hold it)
 * answers LC_EUNAVAIL within the deadline, the connection is replaced,
 * and the next operation works.  The lock is let go after 4 s, so that the
 * code before the fix answers (late) instead of hanging the test. */
static void test_deadline(void)
{
    lc_store_t *st = new_store();
    apr_dbd_t *h = other_session(src.params);
    later_t undo = { h, "ROLLBACK", apr_time_from_sec(4) };
    apr_thread_t *th;
    apr_status_t trv;
    lc_resource_t r;
    apr_time_t t0;
    double took;

    fresh();
    CHECK(put(st, LC_KIND_WORKSTATION, "d1", K_IDLE, NULL) == APR_SUCCESS);
    /* A read behind a table lock. */
    other_sql(h, "BEGIN");
    other_sql(h, "LOCK TABLE lc_resources IN ACCESS EXCLUSIVE MODE");
    th = later(&undo);
    t0 = apr_time_now();
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "d1", &r, pool) == LC_EUNAVAIL);
    took = secs_since(t0);
    if (took >= 2.5) {
        fprintf(stderr, "test_deadline: a read answered after %.1f s\n", took);
    }
    CHECK(took >= 0.9 && took < 2.5);
    CHECK(shared->timeouts == 1);
    apr_thread_join(&trv, th);
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "d1", &r, pool) == APR_SUCCESS);
    /* A write behind the row's lock: may have committed, never a 2xx. */
    other_sql(h, "BEGIN");
    other_sql(h, "SELECT 1 FROM lc_resources WHERE id = 'd1' FOR UPDATE");
    undo.after = apr_time_from_sec(4);
    th = later(&undo);
    t0 = apr_time_now();
    CHECK(put(st, LC_KIND_WORKSTATION, "d1", K_BUSY, NULL) == LC_EUNKNOWN);
    took = secs_since(t0);
    CHECK(took >= 0.9 && took < 2.5);
    CHECK(shared->timeouts == 2 && shared->unknown == 1);
    apr_thread_join(&trv, th);
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "d1", &r, pool) == APR_SUCCESS);
    apr_dbd_close(src.driver, h);
}

/* The store's own session (the test's source keeps one). */
static int own_pid(void)
{
    return PQbackendPID(apr_dbd_native_handle(src.driver, src.handle));
}

/* A session killed under the store (an immediate stop,
 * pg_terminate_backend: 57P01, or no SQLSTATE at all) and a session on a
 * read-only node (25006) are replaced and the statement runs again. */
static void test_lost_session(void)
{
    lc_store_t *st = new_store();
    apr_dbd_t *h = other_session(src.params);
    lc_resource_t r;
    int pid, i, gone = 0;
    char q[96];

    fresh();
    CHECK(put(st, LC_KIND_WORKSTATION, "k1", K_IDLE, NULL) == APR_SUCCESS);
    pid = own_pid();
    snprintf(q, sizeof(q), "SELECT pg_terminate_backend(%d)", pid);
    other_sql(h, q);
    /* Until the server process is gone (bounded). */
    snprintf(q, sizeof(q), "SELECT 1/(count(*) = 0)::int FROM pg_stat_activity WHERE pid = %d",
             pid);
    for (i = 0; i < 100 && !gone; i++) {
        gone = other_sql(h, q) == 0;
        if (!gone) {
            apr_sleep(apr_time_from_msec(50));
        }
    }
    CHECK(gone);
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "k1", &r, pool) == APR_SUCCESS);
    CHECK(shared->reconnects == 1);
    CHECK(own_pid() != pid);
    /* A read-only session (a standby since a failover): the write was refused. */
    sql("SET default_transaction_read_only = on");
    CHECK(put(st, LC_KIND_WORKSTATION, "k2", K_IDLE, NULL) == APR_SUCCESS);
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "k2", &r, pool) == APR_SUCCESS);
    CHECK(shared->reconnects == 2);
    sql("RESET default_transaction_read_only");
    apr_dbd_close(src.driver, h);
}

/* A pool of R_CONNS sessions handed out in turn, checked at each open as
 * mod_dbd does (a bad one is reset). */
#define R_CONNS 3
static apr_dbd_t *rr_handle[R_CONNS];
static apr_hash_t *rr_prepared[R_CONNS];
static int rr_next;

static apr_status_t rr_open(void *ctx, apr_pool_t *p, lc_dbd_conn_t *c)
{
    int i = rr_next++ % R_CONNS;

    (void)ctx;
    (void)p;
    if (apr_dbd_check_conn(src.driver, pool, rr_handle[i]) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    c->driver = src.driver;
    c->handle = rr_handle[i];
    c->prepared = rr_prepared[i];
    c->pool = pool;
    return APR_SUCCESS;
}

static void rr_close(void *ctx, lc_dbd_conn_t *c)
{
    (void)ctx;
    (void)c;
}

/* The database restarted while several pooled sessions sat
 * idle: each of them is dead, and a read goes through them all to a new
 * session instead of answering 503 after the second. */
static void test_dead_pool(void)
{
    lc_dbd_source_t s = { rr_open, rr_close, src_log, NULL, NULL };
    lc_dbd_options_t o = { apr_time_from_msec(20), 50, apr_time_from_msec(250), 1,
                           apr_time_from_sec(1) };
    lc_store_t *st, *mk = new_store();
    apr_dbd_t *h = other_session(src.params);
    lc_resource_t r;
    char q[96];
    const char *pids = "0";
    int i, n = 0;

    fresh();
    CHECK(put(mk, LC_KIND_WORKSTATION, "p1", K_IDLE, NULL) == APR_SUCCESS);
    st = lc_store_dbd_open(pool, &s, shared, &o);
    for (i = 0; i < R_CONNS; i++) {
        rr_handle[i] = other_session(src.params);
        rr_prepared[i] = apr_hash_make(pool);
        CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "p1", &r, pool) == APR_SUCCESS);
    }
    for (i = 0; i < R_CONNS; i++) {
        int pid = PQbackendPID(apr_dbd_native_handle(src.driver, rr_handle[i]));
        snprintf(q, sizeof(q), "SELECT pg_terminate_backend(%d)", pid);
        other_sql(h, q);
        pids = apr_psprintf(pool, "%s, %d", pids, pid);
    }
    /* Until they are all gone (bounded). */
    q[0] = '\0';
    for (i = 0; i < 100 && n != 1; i++) {
        apr_dbd_results_t *res = NULL;
        apr_dbd_row_t *row = NULL;
        const char *v;
        n = apr_dbd_select(src.driver, pool, h, &res, apr_psprintf(pool, "SELECT count(*) = 0 "
                           "FROM pg_stat_activity WHERE pid IN (%s)", pids), 1) == 0
            && apr_dbd_get_row(src.driver, pool, res, &row, 1) == 0
            && (v = apr_dbd_get_entry(src.driver, row, 0)) != NULL && strcmp(v, "t") == 0;
        if (n != 1) {
            apr_sleep(apr_time_from_msec(50));
        }
    }
    CHECK(n == 1);
    shared->reconnects = 0;
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "p1", &r, pool) == APR_SUCCESS);
    CHECK(shared->reconnects == R_CONNS);
    /* A process's connections made ready before it serves. */
    for (i = 0; i < R_CONNS; i++) {
        apr_dbd_close(src.driver, rr_handle[i]);
        rr_handle[i] = other_session(src.params);
        rr_prepared[i] = apr_hash_make(pool);
    }
    CHECK(lc_store_dbd_warm(st, R_CONNS, pool) == R_CONNS);
    for (i = 0; i < R_CONNS; i++) {
        CHECK(apr_hash_get(rr_prepared[i], "lc:ready", APR_HASH_KEY_STRING) != NULL);
    }
    for (i = 0; i < R_CONNS; i++) {
        apr_dbd_close(src.driver, rr_handle[i]);
    }
    apr_dbd_close(src.driver, h);
}

/* A preparation cut short (statement_timeout 0.5 s behind another
 * session's lock of lc_changes) is done again at the next use, never
 * left half-prepared: the statements after the first all work. */
static void test_half_prepared(void)
{
    src_t keep = src;
    lc_store_t *st;
    apr_dbd_t *h = other_session(keep.params);
    lc_resource_t r;

    fresh();
    st = new_store();
    CHECK(put(st, LC_KIND_WORKSTATION, "h1", K_IDLE, NULL) == APR_SUCCESS);
    /* A session of its own with statement_timeout 0.5 s, nothing prepared. */
    src.handle = NULL;
    src.params = apr_pstrcat(pool, keep.params, " options='-c statement_timeout=500'", NULL);
    other_sql(h, "BEGIN");
    other_sql(h, "LOCK TABLE lc_changes IN ACCESS EXCLUSIVE MODE");
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "h1", &r, pool) == LC_EUNAVAIL);
    other_sql(h, "ROLLBACK");
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "h1", &r, pool) == APR_SUCCESS);
    CHECK(put(st, LC_KIND_WORKSTATION, "h2", K_IDLE, NULL) == APR_SUCCESS);
    CHECK(put(st, LC_KIND_WORKSTATION, "h1", K_BUSY, NULL) == APR_SUCCESS);
    apr_dbd_close(src.driver, src.handle);
    apr_pool_destroy(src.pool);
    src = keep;
    apr_dbd_close(src.driver, h);
}

/* A commit whose wait for the synchronous standby was cancelled
 * succeeds with a WARNING (01000, "canceling wait for synchronous
 * replication ... committed locally, but might not have been
 * replicated"): never a 2xx.  A trigger raises that warning here (a
 * standby of its own is more than this test needs): the write answers
 * LC_EUNKNOWN, although it committed. */
static void test_unreplicated(void)
{
    lc_store_t *st = new_store();
    lc_resource_t r;

    fresh();
    CHECK(put(st, LC_KIND_WORKSTATION, "u1", K_IDLE, NULL) == APR_SUCCESS);
    sql("CREATE OR REPLACE FUNCTION lc_test_warn() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE WARNING USING ERRCODE = '01000', MESSAGE = 'canceling wait for "
        "synchronous replication due to user request'; RETURN NULL; END $$");
    sql("CREATE TRIGGER lc_test_warn AFTER INSERT ON lc_changes "
        "FOR EACH STATEMENT EXECUTE FUNCTION lc_test_warn()");
    shared->unknown = 0;
    CHECK(put(st, LC_KIND_WORKSTATION, "u1", K_BUSY, NULL) == LC_EUNKNOWN);
    CHECK(shared->unknown == 1);
    sql("DROP TRIGGER lc_test_warn ON lc_changes");
    /* It did commit: an unknown outcome, not "nothing was changed". */
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "u1", &r, pool) == APR_SUCCESS);
    CHECK(r.state == K_BUSY && r.version == 2);
}

/* The first column of the first row of q on h into out (bounded), "" when none. */
static void other_value(apr_dbd_t *h, apr_pool_t *p, const char *q, char *out, size_t n)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *v = NULL;

    if (apr_dbd_select(src.driver, p, h, &res, q, 1) == 0
        && apr_dbd_get_row(src.driver, p, res, &row, 1) == 0) {
        v = apr_dbd_get_entry(src.driver, row, 0);
    }
    apr_cpystrn(out, v ? v : "", n);
}

/* synchronous_standby_names for the whole cluster, in effect for commits.
 * Whether a commit waits is a flag the checkpointer sets when it reloads, not
 * the session's setting: once the store's session sees NAMES, every process
 * has been signalled, and a CHECKPOINT cannot start before the checkpointer
 * has handled that signal (build/pg.sh syncnames does the same). */
static void standby_names(apr_dbd_t *h, const char *names)
{
    char v[64];
    int i;

    other_sql(h, apr_psprintf(pool, "ALTER SYSTEM SET synchronous_standby_names = '%s'", names));
    other_sql(h, "SELECT pg_reload_conf()");
    for (i = 0; i < 100; i++) {
        other_value(src.handle, pool, "SELECT current_setting('synchronous_standby_names')",
                    v, sizeof(v));
        if (strcmp(v, names) == 0) {
            CHECK(other_sql(h, "CHECKPOINT") == 0);
            return;
        }
        apr_sleep(apr_time_from_msec(50));
    }
    CHECK(!"the setting reached the store's session");
}

typedef struct bg_put { lc_store_t *st; apr_pool_t *p; apr_status_t rv; } bg_put_t;

static void *APR_THREAD_FUNC bg_put_thread(apr_thread_t *th, void *data)
{
    bg_put_t *b = data;
    aput_t a = { NULL, NULL, "{\"n\":2}", K_BUSY };

    b->rv = lc_store_update(b->st, LC_KIND_WORKSTATION, "s2", aput_cb, &a, NULL, b->p);
    apr_thread_exit(th, APR_SUCCESS);
    return NULL;
}

/* The synchronous standby gone (synchronous_standby_names
 * naming one that never connects: every commit waits for it, and
 * statement_timeout does not end that wait).  A write answers within the
 * deadline, its outcome unknown (it committed locally and waits).  A write
 * whose waiting session is then terminated (pg_terminate_backend: the
 * commit stands, the client sees only the connection close) is read back,
 * found committed, and answered as made. */
static void test_standby_gone(void)
{
    lc_store_t *st = new_store();
    lc_dbd_source_t s = { src_open, src_close, src_log, NULL, &src };
    lc_dbd_options_t o = { apr_time_from_msec(20), 50, apr_time_from_msec(250), 1,
                           apr_time_from_sec(20) };
    lc_store_t *slow = lc_store_dbd_open(pool, &s, shared, &o);
    apr_dbd_t *h = other_session(src.params);
    bg_put_t b = { slow, NULL, APR_EGENERAL };
    apr_pool_t *mine;
    apr_thread_t *th = NULL;
    apr_status_t trv;
    lc_resource_t r;
    apr_time_t t0;
    double took;
    char n[16] = "0";
    int i;

    fresh();
    CHECK(put(st, LC_KIND_WORKSTATION, "s1", K_IDLE, NULL) == APR_SUCCESS);
    CHECK(put(st, LC_KIND_WORKSTATION, "s2", K_IDLE, NULL) == APR_SUCCESS);
    standby_names(h, "lc_absent_standby");
    shared->unknown = shared->verified = 0;
    t0 = apr_time_now();
    CHECK(put(st, LC_KIND_WORKSTATION, "s1", K_BUSY, NULL) == LC_EUNKNOWN);
    took = secs_since(t0);
    printf("test_dbd: a write with the synchronous standby gone answered in %.2f s "
           "(LifecycleDbdTimeout 1 s)\n", took);
    CHECK(took >= 0.9 && took < 2.5);
    CHECK(shared->unknown == 1);
    /* The same, with a long deadline and the waiting session terminated. */
    apr_pool_create(&b.p, NULL);
    apr_pool_create(&mine, NULL);
    CHECK(apr_thread_create(&th, NULL, bg_put_thread, &b, pool) == APR_SUCCESS);
    for (i = 0; i < 200 && strcmp(n, "2") != 0; i++) {
        apr_sleep(apr_time_from_msec(50));
        other_value(h, mine, "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'",
                    n, sizeof(n));
    }
    CHECK(strcmp(n, "2") == 0);         /* the first write's session, and the second's */
    other_sql(h, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                 "WHERE wait_event = 'SyncRep'");
    apr_thread_join(&trv, th);
    CHECK(b.rv == APR_SUCCESS);
    CHECK(shared->verified == 1 && shared->unknown == 1);
    standby_names(h, "");
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "s2", &r, pool) == APR_SUCCESS);
    CHECK(r.state == K_BUSY && r.version == 2);
    apr_pool_destroy(b.p);
    apr_pool_destroy(mine);
    apr_dbd_close(src.driver, h);
}

typedef struct timed_upd {
    lc_store_t  *st;
    const char  *id;
    apr_pool_t  *p;
    apr_status_t rv;
    double       took;
} timed_upd_t;

static void *APR_THREAD_FUNC timed_upd_thread(apr_thread_t *th, void *data)
{
    timed_upd_t *u = data;
    apr_time_t t0 = apr_time_now();

    u->rv = lc_store_update(u->st, LC_KIND_WORKSTATION, u->id, bump_cb, NULL, NULL, u->p);
    u->took = secs_since(t0);
    apr_thread_exit(th, APR_SUCCESS);
    return NULL;
}

/* A writer queued behind a batch leader whose statement does not
 * come back (another session holds the leader's row for 4 s) is answered
 * within the deadline (1 s), not when the leader's row is let go: the
 * leader's call ends at its deadline, and a writer still queued at its own
 * leaves.  The leader's write answers LC_EUNKNOWN. */
static void test_batch_stuck(void)
{
    lc_dbd_source_t s = { tsrc_open, tsrc_close, src_log, NULL, &tsrc };
    lc_dbd_options_t o = { apr_time_from_msec(20), 0, apr_time_from_msec(250), 1,
                           apr_time_from_sec(1) };
    lc_store_t *st, *plain = new_store();
    apr_dbd_t *h = other_session(src.params);
    later_t undo = { h, "ROLLBACK", apr_time_from_sec(4) };
    timed_upd_t a = { NULL, "q1", NULL, APR_EGENERAL, 0 }, b = { NULL, "q2", NULL, APR_EGENERAL, 0 };
    apr_thread_t *ta = NULL, *tb = NULL, *tu;
    apr_status_t trv;

    fresh();
    CHECK(put(plain, LC_KIND_WORKSTATION, "q1", K_IDLE, NULL) == APR_SUCCESS);
    CHECK(put(plain, LC_KIND_WORKSTATION, "q2", K_IDLE, NULL) == APR_SUCCESS);
    st = lc_store_dbd_open(pool, &s, shared, &o);
    a.st = b.st = st;
    apr_pool_create(&a.p, NULL);
    apr_pool_create(&b.p, NULL);
    other_sql(h, "BEGIN");
    other_sql(h, "SELECT 1 FROM lc_resources WHERE id = 'q1' FOR UPDATE");
    tu = later(&undo);
    CHECK(apr_thread_create(&ta, NULL, timed_upd_thread, &a, pool) == APR_SUCCESS);
    apr_sleep(apr_time_from_msec(300));     /* a leads, its write waits on the row */
    CHECK(apr_thread_create(&tb, NULL, timed_upd_thread, &b, pool) == APR_SUCCESS);
    apr_thread_join(&trv, tb);
    apr_thread_join(&trv, ta);
    apr_thread_join(&trv, tu);
    if (b.took >= 2.5) {
        fprintf(stderr, "test_batch_stuck: the queued writer answered after %.1f s\n", b.took);
    }
    CHECK(b.rv == APR_SUCCESS && b.took < 2.5);
    CHECK(a.rv == LC_EUNKNOWN && a.took < 2.5);
    apr_pool_destroy(a.p);
    apr_pool_destroy(b.p);
    apr_dbd_close(src.driver, h);
}

static void test_live(void)
{
    lc_contract_run("dbd", contract_store, contract_after, NULL, pool);
    test_feed();
    test_race();
    test_batch();
    test_unavailable();
    test_deadline();
    test_lost_session();
    test_dead_pool();
    test_half_prepared();
    test_unreplicated();
    test_standby_gone();
    test_batch_stuck();
}

int main(void)
{
    const char *params = getenv("LC_TEST_DBD_PARAMS");

    apr_initialize();
    if (sodium_init() < 0) {
        return 2;
    }
    apr_pool_create(&pool, NULL);
    test_rows();
    test_sqlstate();
    test_statements();
    if (params && *params) {
        apr_dbd_init(pool);
        if (apr_dbd_get_driver(pool, "pgsql", &src.driver) != APR_SUCCESS) {
            fprintf(stderr, "no apr_dbd pgsql driver (libaprutil1-dbd-pgsql)\n");
            return 2;
        }
        src.params = params;
        shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        lc_kind_register(&k_def);
        test_live();
    }
    else {
        printf("test_dbd: LC_TEST_DBD_PARAMS unset: PostgreSQL tests skipped\n");
    }
    return lc_test_done("test_dbd");
}
