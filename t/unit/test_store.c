/* Unit tests of the shared-memory store and the table engine, with real APR
 * shared memory, a real global mutex and real child processes. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sodium.h>
#include <apr_general.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <apr_global_mutex.h>

#include "lc_test.h"
#include "lc_test_store.h"
#include "lc_store_shm.h"
#include "lc_engine.h"
#include "lc_kind.h"

/* A fixture kind: idle -(go)-> busy -(auto)-> done; stop: busy -> idle. */
enum { K_IDLE, K_BUSY, K_DONE, K_N };
static const char *const k_states[K_N] = { "idle", "busy", "done" };
static const lc_rule_t k_rules[] = {
    { "go",   LC_BIT(K_IDLE) | LC_BIT(K_DONE), K_BUSY, LC_STATE_KEEP, LC_RULE_ADVANCE, NULL },
    { "stop", LC_BIT(K_BUSY),                  K_IDLE, LC_STATE_KEEP, 0, NULL },
    { "stop", LC_BIT(K_IDLE),                  LC_STATE_KEEP, LC_STATE_KEEP, LC_RULE_NOOP, NULL },
    { NULL }
};
static const lc_advance_t k_adv[] = { { K_BUSY, K_DONE, 0 }, { LC_STATE_KEEP } };
static const lc_kind_def_t k_def = {
    LC_KIND_WORKSTATION, "fixture", k_states, K_N, k_rules, k_adv, NULL, NULL
};

static apr_pool_t *pool;

static lc_store_t *new_store(uint32_t capacity)
{
    apr_size_t size = lc_store_shm_size(capacity, lc_store_shm_default_heap(capacity));
    void *base;
    lc_store_t *st = lc_test_store_at(pool, capacity, &base);

    /* The segment says what it is: a wrong size is refused. */
    CHECK(lc_store_shm_check(base, size) == APR_SUCCESS);
    CHECK(lc_store_shm_check(base, size + 1) != APR_SUCCESS);
    return st;
}

typedef struct put { uint8_t state; const char *data; } put_t;

static apr_status_t put_cb(lc_resource_t *r, int exists, void *baton)
{
    put_t *p = baton;
    (void)exists;
    r->state = p->state;
    apr_cpystrn(r->data, p->data ? p->data : "", sizeof(r->data));
    return APR_SUCCESS;
}

static apr_status_t put(lc_store_t *st, const char *id, uint8_t state, lc_resource_t *out)
{
    put_t p = { state, "{\"n\":1}" };
    return lc_store_update(st, LC_KIND_WORKSTATION, id, put_cb, &p, out, pool);
}

static void test_crud(void)
{
    lc_store_t *st = new_store(64);
    lc_resource_t r, page[10];
    lc_store_shm_stats_t stats;
    char id[32];
    int i, n, more;

    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "a", &r, pool) == LC_ENOTFOUND);
    CHECK(put(st, "a", K_IDLE, &r) == APR_SUCCESS && r.version == 1);
    CHECK(put(st, "a", K_BUSY, &r) == APR_SUCCESS && r.version == 2);
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "a", &r, pool) == APR_SUCCESS);
    CHECK(r.state == K_BUSY && r.version == 2);
    CHECK_STR(r.id, "a");
    CHECK_STR(r.data, "{\"n\":1}");
    /* Same id, other kind: another resource. */
    CHECK(lc_store_get(st, LC_KIND_AGENT, "a", &r, pool) == LC_ENOTFOUND);
    /* Fill to capacity: the 65th create is refused, replacing still works. */
    for (i = 1; i < 64; i++) {
        snprintf(id, sizeof(id), "r%03d", i);
        CHECK(put(st, id, K_IDLE, NULL) == APR_SUCCESS);
    }
    CHECK(put(st, "overflow", K_IDLE, NULL) == LC_EFULL);
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "overflow", &r, pool) == LC_ENOTFOUND);
    CHECK(put(st, "r001", K_BUSY, NULL) == APR_SUCCESS);
    lc_store_shm_stats(st, &stats);
    CHECK(stats.used == 64 && stats.capacity == 64);
    /* Delete with a stale version fails; with the right one succeeds. */
    CHECK(lc_store_remove(st, LC_KIND_WORKSTATION, "a", 1, NULL, pool) == LC_EVERSION);
    CHECK(lc_store_remove(st, LC_KIND_WORKSTATION, "a", 2, &r, pool) == APR_SUCCESS);
    CHECK(r.version == 2);
    CHECK(lc_store_remove(st, LC_KIND_WORKSTATION, "a", 0, NULL, pool) == LC_ENOTFOUND);
    CHECK(put(st, "overflow", K_IDLE, NULL) == APR_SUCCESS);
    /* Listing: id order, paging, state filter. */
    CHECK(lc_store_list(st, LC_KIND_WORKSTATION, -1, NULL, 10, page, &n, &more, pool) == APR_SUCCESS);
    CHECK(n == 10 && more);
    CHECK_STR(page[0].id, "overflow");
    CHECK_STR(page[1].id, "r001");
    CHECK_STR(page[9].id, "r009");
    CHECK(lc_store_list(st, LC_KIND_WORKSTATION, -1, "r060", 10, page, &n, &more, pool) == APR_SUCCESS);
    CHECK(n == 3 && !more);
    CHECK_STR(page[2].id, "r063");
    CHECK(lc_store_list(st, LC_KIND_WORKSTATION, K_BUSY, NULL, 10, page, &n, &more, pool) == APR_SUCCESS);
    CHECK(n == 1 && !more);
    CHECK_STR(page[0].id, "r001");
}

static void test_engine(void)
{
    lc_store_t *st = new_store(64);
    lc_resource_t before, after;
    lc_precond_t pc;
    lc_act_t act = { &k_def, "e1", "go", NULL, apr_time_from_sec(1000), apr_time_from_sec(2) };

    lc_kind_register(&k_def);
    CHECK(lc_engine_act(st, &act, &before, &after) == LC_ENOTFOUND);
    CHECK(put(st, "e1", K_IDLE, NULL) == APR_SUCCESS);
    CHECK(lc_engine_act(st, &act, &before, &after) == APR_SUCCESS);
    CHECK(before.state == K_IDLE && after.state == K_BUSY && after.version == 2);
    CHECK(after.due == apr_time_from_sec(1002) && after.state_since == apr_time_from_sec(1000));
    CHECK(lc_engine_act(st, &act, &before, &after) == LC_EILLEGAL && after.version == 2);
    act.action = "fly";
    CHECK(lc_engine_act(st, &act, &before, &after) == APR_ENOENT);
    /* If-Match: a stale version changes nothing. */
    act.action = "stop";
    lc_precond_parse("\"1\"", &pc);
    act.if_match = &pc;
    CHECK(lc_engine_act(st, &act, &before, &after) == LC_EVERSION && after.version == 2);
    /* Nothing is due before its time; at its time it advances exactly once. */
    CHECK(lc_engine_advance_due(st, apr_time_from_sec(1001), 0, 10, NULL, NULL, pool) == APR_SUCCESS);
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "e1", &after, pool) == APR_SUCCESS
          && after.state == K_BUSY);
    lc_engine_advance_due(st, apr_time_from_sec(1002), 0, 10, NULL, NULL, pool);
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "e1", &after, pool) == APR_SUCCESS);
    CHECK(after.state == K_DONE && after.version == 3 && after.due == 0);
    lc_engine_advance_due(st, apr_time_from_sec(2000), 0, 10, NULL, NULL, pool);
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "e1", &after, pool) == APR_SUCCESS
          && after.version == 3);
    /* A stop before the due time takes it off the queue. */
    act.if_match = NULL;
    act.action = "go";
    CHECK(lc_engine_act(st, &act, &before, &after) == APR_SUCCESS && after.state == K_BUSY);
    act.action = "stop";
    CHECK(lc_engine_act(st, &act, &before, &after) == APR_SUCCESS && after.due == 0);
    CHECK(lc_engine_act(st, &act, &before, &after) == LC_NOCHANGE && after.version == 5);
    lc_engine_advance_due(st, apr_time_from_sec(3000), 0, 10, NULL, NULL, pool);
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "e1", &after, pool) == APR_SUCCESS);
    CHECK(after.state == K_IDLE && after.version == 5);
}

/* Due order across many resources scheduled out of order. */
static void count_moved(const lc_resource_t *b, const lc_resource_t *a, void *baton)
{
    int *order = baton;
    (void)b;
    order[order[0] + 1] = atoi(a->id + 1);
    order[0]++;
}

static void test_due_order(void)
{
    lc_store_t *st = new_store(64);
    int order[12] = { 0 };
    int i, sorted = 1;
    const int delays[10] = { 5, 3, 9, 1, 7, 2, 8, 4, 6, 0 };

    for (i = 0; i < 10; i++) {
        char id[8];
        lc_act_t act = { &k_def, id, "go", NULL, apr_time_from_sec(100), apr_time_from_sec(delays[i]) };
        snprintf(id, sizeof(id), "d%d", delays[i]);
        put(st, id, K_IDLE, NULL);
        CHECK(lc_engine_act(st, &act, NULL, NULL) == APR_SUCCESS);
    }
    lc_engine_advance_due(st, apr_time_from_sec(104), 0, 100, count_moved, order, pool);
    CHECK(order[0] == 5);
    lc_engine_advance_due(st, apr_time_from_sec(200), 0, 3, count_moved, order, pool);
    CHECK(order[0] == 8);
    lc_engine_advance_due(st, apr_time_from_sec(200), 0, 100, count_moved, order, pool);
    CHECK(order[0] == 10);
    for (i = 0; i < 10; i++) {
        sorted &= order[i + 1] == i;
    }
    CHECK(sorted);
}

/* A child killed with SIGKILL halfway through an update, holding the mutex:
 * the next locker rolls the update back; nothing half-written is visible. */
static void test_kill_midwrite(void)
{
    lc_store_t *st = new_store(64);
    lc_store_shm_stats_t stats;
    lc_resource_t r;
    int status, round;
    pid_t pid;

    CHECK(put(st, "victim", K_IDLE, NULL) == APR_SUCCESS);
    for (round = 0; round < 2; round++) {
        /* round 0: update an existing resource; round 1: create a new one */
        pid = fork();
        if (pid == 0) {
            put_t p = { K_BUSY, "{\"half\":\"written\"}" };
            lc_store_die_midwrite = 1;
            lc_store_update(st, LC_KIND_WORKSTATION, round ? "newborn" : "victim",
                            put_cb, &p, NULL, pool);
            _exit(0);                       /* not reached */
        }
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    }
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "victim", &r, pool) == APR_SUCCESS);
    CHECK(r.state == K_IDLE && r.version == 1);
    CHECK_STR(r.data, "{\"n\":1}");
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "newborn", &r, pool) == LC_ENOTFOUND);
    lc_store_shm_stats(st, &stats);
    CHECK(stats.repairs == 2 && stats.used == 1);
    /* And the store goes on working: the free list and index are intact. */
    CHECK(put(st, "newborn", K_BUSY, &r) == APR_SUCCESS && r.version == 1);
    CHECK(put(st, "victim", K_BUSY, &r) == APR_SUCCESS && r.version == 2);
    lc_store_shm_stats(st, &stats);
    CHECK(stats.used == 2);
}

/* Aliases: set by the callback, unique per kind, found in O(1), moved and
 * released with the resource. */
typedef struct aput { const char *a0, *a1, *data; } aput_t;

static apr_status_t aput_cb(lc_resource_t *r, int exists, void *baton)
{
    aput_t *p = baton;
    (void)exists;
    apr_cpystrn(r->alias[0], p->a0 ? p->a0 : "", sizeof(r->alias[0]));
    apr_cpystrn(r->alias[1], p->a1 ? p->a1 : "", sizeof(r->alias[1]));
    if (p->data) {
        apr_cpystrn(r->data, p->data, sizeof(r->data));
    }
    return APR_SUCCESS;
}

static apr_status_t aput(lc_store_t *st, const char *id, const char *a0, const char *a1,
                         const char *data)
{
    aput_t p = { a0, a1, data };
    return lc_store_update(st, LC_KIND_NOTEBOOK, id, aput_cb, &p, NULL, pool);
}

static void test_aliases(void)
{
    lc_store_t *st = new_store(64);
    lc_resource_t r;
    char longa[LC_ALIAS_MAX + 1];

    CHECK(aput(st, "o.w.a", "name:o.w.a", "ref:nb01", "{\"b\":\"nb01\"}") == APR_SUCCESS);
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "ref:nb01", &r, pool) == APR_SUCCESS);
    CHECK_STR(r.id, "o.w.a");
    CHECK_STR(r.alias[0], "name:o.w.a");
    CHECK_STR(r.alias[1], "ref:nb01");
    CHECK_STR(r.data, "{\"b\":\"nb01\"}");
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "name:o.w.a", &r, pool) == APR_SUCCESS);
    CHECK(lc_store_get_alias(st, LC_KIND_AGENT, "ref:nb01", &r, pool) == LC_ENOTFOUND);
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "o.w.a", &r, pool) == LC_ENOTFOUND);
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "", &r, pool) == LC_ENOTFOUND);
    /* Taken by another resource: refused, nothing created or changed. */
    CHECK(aput(st, "o.w.b", "ref:nb01", NULL, NULL) == LC_EEXISTS);
    CHECK(lc_store_get(st, LC_KIND_NOTEBOOK, "o.w.b", &r, pool) == LC_ENOTFOUND);
    CHECK(aput(st, "o.w.b", NULL, "name:o.w.a", NULL) == LC_EEXISTS);
    CHECK(aput(st, "o.w.b", "ref:nb02", NULL, NULL) == APR_SUCCESS);
    CHECK(aput(st, "o.w.b", "ref:nb02", "ref:nb01", NULL) == LC_EEXISTS);
    CHECK(lc_store_get(st, LC_KIND_NOTEBOOK, "o.w.b", &r, pool) == APR_SUCCESS && r.version == 1);
    CHECK(aput(st, "o.w.b", "x", "x", NULL) == APR_EINVAL);
    /* Another kind has aliases of its own. */
    {
        aput_t ap = { "ref:nb01", NULL, NULL };
        CHECK(lc_store_update(st, LC_KIND_AGENT, "o.w.b", aput_cb, &ap, NULL, pool) == APR_SUCCESS);
    }
    /* A replace moves an alias; the old one is free again; swapping is fine. */
    CHECK(aput(st, "o.w.a", "name:o.w.a", "ref:nb03", NULL) == APR_SUCCESS);
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "ref:nb01", &r, pool) == LC_ENOTFOUND);
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "ref:nb03", &r, pool) == APR_SUCCESS);
    CHECK_STR(r.id, "o.w.a");
    CHECK_STR(r.data, "{\"b\":\"nb01\"}");
    CHECK(aput(st, "o.w.b", "ref:nb01", "ref:nb02", NULL) == APR_SUCCESS);
    CHECK(aput(st, "o.w.a", "ref:nb03", "name:o.w.a", NULL) == APR_SUCCESS);
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "name:o.w.a", &r, pool) == APR_SUCCESS);
    CHECK_STR(r.alias[1], "name:o.w.a");
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "ref:nb01", &r, pool) == APR_SUCCESS);
    CHECK_STR(r.id, "o.w.b");
    /* The longest alias; a remove releases both. */
    memset(longa, 'q', LC_ALIAS_MAX);
    longa[LC_ALIAS_MAX] = '\0';
    CHECK(aput(st, "o.w.c", longa, NULL, NULL) == APR_SUCCESS);
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, longa, &r, pool) == APR_SUCCESS);
    CHECK_STR(r.id, "o.w.c");
    CHECK(lc_store_remove(st, LC_KIND_NOTEBOOK, "o.w.a", 0, NULL, pool) == APR_SUCCESS);
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "ref:nb03", &r, pool) == LC_ENOTFOUND);
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "name:o.w.a", &r, pool) == LC_ENOTFOUND);
    CHECK(aput(st, "o.w.d", "name:o.w.a", NULL, NULL) == APR_SUCCESS);
    /* A plain update keeps the aliases the callback found. */
    CHECK(put(st, "plain", K_IDLE, NULL) == APR_SUCCESS);
    CHECK(lc_store_get(st, LC_KIND_NOTEBOOK, "o.w.d", &r, pool) == APR_SUCCESS);
    CHECK_STR(r.alias[0], "name:o.w.a");
}

/* Replay: a record carrying an alias another resource holds takes it when
 * it is the newer, and goes without it when the holder is newer. */
static void test_restore_aliases(void)
{
    lc_store_t *st = new_store(64);
    lc_resource_t r;

    lc_resource_clear(&r);
    r.kind = LC_KIND_NOTEBOOK;
    apr_cpystrn(r.id, "a", sizeof(r.id));
    apr_cpystrn(r.alias[0], "ref:x", sizeof(r.alias[0]));
    r.seq = 5;
    CHECK(lc_store_shm_restore(st, LC_OP_CREATE, &r) == APR_SUCCESS);
    apr_cpystrn(r.id, "old", sizeof(r.id));
    r.seq = 3;
    CHECK(lc_store_shm_restore(st, LC_OP_CREATE, &r) == APR_SUCCESS);
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "ref:x", &r, pool) == APR_SUCCESS);
    CHECK_STR(r.id, "a");
    CHECK(lc_store_get(st, LC_KIND_NOTEBOOK, "old", &r, pool) == APR_SUCCESS && r.alias[0][0] == 0);
    apr_cpystrn(r.id, "new", sizeof(r.id));
    apr_cpystrn(r.alias[1], "ref:x", sizeof(r.alias[1]));
    r.seq = 7;
    CHECK(lc_store_shm_restore(st, LC_OP_CREATE, &r) == APR_SUCCESS);
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "ref:x", &r, pool) == APR_SUCCESS);
    CHECK_STR(r.id, "new");
    CHECK(lc_store_get(st, LC_KIND_NOTEBOOK, "a", &r, pool) == APR_SUCCESS && r.alias[0][0] == 0);
    CHECK(r.seq == 5);
}

/* Attributes of 16 KiB round-trip; the heap reuses blocks; when it is full a
 * create or a growing replace is LC_EFULL and changes nothing. */
static void test_heap(void)
{
    lc_store_t *st = lc_test_store_heap(pool, 64, LC_HEAP_MIN, NULL);
    char *big = malloc(LC_DATA_MAX + 1);
    lc_store_shm_stats_t before, after;
    lc_resource_t *r = malloc(sizeof(*r));
    put_t p = { K_IDLE, big };
    int i, made = 0;

    memset(big, 'x', LC_DATA_MAX);
    big[0] = '"';
    big[LC_DATA_MAX - 1] = '"';
    big[LC_DATA_MAX] = '\0';
    CHECK(lc_store_update(st, LC_KIND_WORKSTATION, "big", put_cb, &p, r, pool) == APR_SUCCESS);
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "big", r, pool) == APR_SUCCESS);
    CHECK(strlen(r->data) == LC_DATA_MAX && memcmp(r->data, big, LC_DATA_MAX) == 0);
    /* 64 KiB hold two of the largest blocks and some small ones. */
    for (i = 0; i < 40 && put(st, apr_psprintf(pool, "s%02d", i), K_IDLE, NULL)
                          == APR_SUCCESS; i++) {
        made++;
    }
    CHECK(made == 40);
    CHECK(lc_store_update(st, LC_KIND_WORKSTATION, "big2", put_cb, &p, NULL, pool) == APR_SUCCESS);
    lc_store_shm_stats(st, &before);
    CHECK(before.heap_bytes == LC_HEAP_MIN && before.heap_used > 2 * LC_DATA_MAX);
    CHECK(lc_store_update(st, LC_KIND_WORKSTATION, "big3", put_cb, &p, NULL, pool) == LC_EFULL);
    /* A replace needs the new block before it frees the old one. */
    big[1] = 'y';
    CHECK(lc_store_update(st, LC_KIND_WORKSTATION, "big", put_cb, &p, NULL, pool) == LC_EFULL);
    lc_store_shm_stats(st, &after);
    CHECK(after.used == before.used && after.heap_used == before.heap_used
          && after.heap_free == before.heap_free);
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "big3", r, pool) == LC_ENOTFOUND);
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "big", r, pool) == APR_SUCCESS && r->version == 1);
    CHECK(r->data[1] == 'x');
    /* A state change with the same strings keeps its block: no room needed. */
    p.state = K_BUSY;
    big[1] = 'x';
    CHECK(lc_store_update(st, LC_KIND_WORKSTATION, "big", put_cb, &p, NULL, pool) == APR_SUCCESS);
    /* Freed blocks are reused by their class. */
    CHECK(lc_store_remove(st, LC_KIND_WORKSTATION, "big2", 0, NULL, pool) == APR_SUCCESS);
    lc_store_shm_stats(st, &after);
    CHECK(after.heap_free == 24576);
    CHECK(lc_store_update(st, LC_KIND_WORKSTATION, "big3", put_cb, &p, NULL, pool) == APR_SUCCESS);
    lc_store_shm_stats(st, &after);
    CHECK(after.heap_free == 0 && after.heap_used == before.heap_used);
    free(big);
    free(r);
}

/* With the untouched end used up and its own class empty, a record takes a
 * free block of a larger class rather than failing. */
static void test_heap_larger_class(void)
{
    lc_store_t *st = lc_test_store_heap(pool, 64, LC_HEAP_MIN, NULL);
    char *big = malloc(LC_DATA_MAX + 1);
    lc_store_shm_stats_t stats;
    put_t p = { K_IDLE, big };

    memset(big, 'x', LC_DATA_MAX);
    big[LC_DATA_MAX] = '\0';
    CHECK(lc_store_update(st, LC_KIND_WORKSTATION, "b1", put_cb, &p, NULL, pool) == APR_SUCCESS);
    CHECK(lc_store_update(st, LC_KIND_WORKSTATION, "b2", put_cb, &p, NULL, pool) == APR_SUCCESS);
    big[16384 - 8 - 2 - 1] = '\0';      /* id "b3" and the header fill a 16 KiB block */
    CHECK(lc_store_update(st, LC_KIND_WORKSTATION, "b3", put_cb, &p, NULL, pool) == APR_SUCCESS);
    CHECK(put(st, "small", K_IDLE, NULL) == LC_EFULL);
    CHECK(lc_store_remove(st, LC_KIND_WORKSTATION, "b1", 0, NULL, pool) == APR_SUCCESS);
    CHECK(put(st, "small", K_IDLE, NULL) == APR_SUCCESS);
    lc_store_shm_stats(st, &stats);
    CHECK(stats.heap_free == 0 && stats.heap_used == LC_HEAP_MIN);
    CHECK(stats.heap_class[LC_HEAP_CLASSES - 1].used == 2);
    /* Freed, it goes back to its own class. */
    CHECK(lc_store_remove(st, LC_KIND_WORKSTATION, "small", 0, NULL, pool) == APR_SUCCESS);
    lc_store_shm_stats(st, &stats);
    CHECK(stats.heap_class[LC_HEAP_CLASSES - 1].free == 1);
    free(big);
}

/* Attribute text keeps the key order it was given. */
static void test_key_order(void)
{
    lc_resource_t *r = malloc(sizeof(*r));
    json_t *o = json_pack("{s:i, s:i, s:i}", "zeta", 1, "alpha", 2, "mid", 3);

    lc_resource_clear(r);
    CHECK(lc_kind_set_data(r, o) == APR_SUCCESS);
    CHECK_STR(r->data, "{\"zeta\":1,\"alpha\":2,\"mid\":3}");
    json_decref(o);
    free(r);
}

/* A child SIGKILLed halfway through an update that takes a new heap block,
 * frees the old one and moves an alias: all of it is rolled back. */
static void test_kill_midwrite_heap(void)
{
    lc_store_t *st = new_store(64);
    lc_store_shm_stats_t before, after;
    lc_resource_t r;
    int status, c;
    pid_t pid;

    CHECK(aput(st, "victim", "ref:old", NULL, "{\"n\":1}") == APR_SUCCESS);
    CHECK(aput(st, "other", "ref:other", NULL, "{}") == APR_SUCCESS);
    lc_store_shm_stats(st, &before);
    pid = fork();
    if (pid == 0) {
        lc_store_die_midwrite = 1;
        aput(st, "victim", "ref:new", NULL, "{\"a much longer attribute\":\"text that "
             "needs a larger block than the one it had before\"}");
        _exit(0);                       /* not reached */
    }
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "ref:old", &r, pool) == APR_SUCCESS);
    CHECK_STR(r.id, "victim");
    CHECK_STR(r.data, "{\"n\":1}");
    CHECK(r.version == 1);
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "ref:new", &r, pool) == LC_ENOTFOUND);
    lc_store_shm_stats(st, &after);
    CHECK(after.repairs == 1 && after.heap_used == before.heap_used
          && after.heap_free == before.heap_free);
    for (c = 0; c < LC_HEAP_CLASSES; c++) {
        CHECK(after.heap_class[c].used == before.heap_class[c].used
              && after.heap_class[c].free == before.heap_class[c].free);
    }
    /* And it goes on: the same update now lands whole. */
    CHECK(aput(st, "victim", "ref:new", NULL, "{\"n\":2}") == APR_SUCCESS);
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "ref:new", &r, pool) == APR_SUCCESS);
    CHECK_STR(r.data, "{\"n\":2}");
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "ref:old", &r, pool) == LC_ENOTFOUND);
}

/* Readers never see a half-written record: a writer process alternates a
 * resource between two versions whose strings take blocks of different
 * classes (so blocks are freed and reused under the readers), while this
 * process reads it without the mutex, by id and by alias. */
static void test_readers_see_whole_records(void)
{
    static const char *const data[2] = {
        "{\"v\":\"short\"}",
        "{\"v\":\"a much longer value, so that its block is of another size class\"}"
    };
    static const char *const alias[2] = { "ref:short", "ref:long-alias" };
    lc_store_t *st = new_store(64);
    lc_resource_t r;
    int i, status, torn = 0, seen[2] = { 0, 0 };
    apr_time_t until;
    pid_t pid;

    CHECK(aput(st, "rw", alias[0], NULL, data[0]) == APR_SUCCESS);
    pid = fork();
    if (pid == 0) {
        /* Until told to stop: a writer that finished before the reader got
         * the CPU (a busy machine) would leave it nothing to race with. */
        for (i = 1;; i++) {
            aput(st, "rw", alias[i & 1], NULL, data[i & 1]);
        }
    }
    until = apr_time_now() + apr_time_from_sec(20);
    for (i = 0; (i < 200000 || !seen[0] || !seen[1]) && apr_time_now() < until; i++) {
        int k;
        if (lc_store_get(st, LC_KIND_NOTEBOOK, "rw", &r, pool) != APR_SUCCESS) {
            torn++;
            continue;
        }
        k = strcmp(r.data, data[1]) == 0;
        torn += strcmp(r.data, data[k]) != 0 || strcmp(r.alias[0], alias[k]) != 0
                || strcmp(r.id, "rw") != 0 || (r.version & 1) != (uint64_t)(k == 0);
        seen[k]++;
        if ((i & 7) == 0 && lc_store_get_alias(st, LC_KIND_NOTEBOOK, alias[k], &r, pool) == APR_SUCCESS) {
            torn += strcmp(r.id, "rw") != 0;
        }
    }
    kill(pid, SIGTERM);
    CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status));
    CHECK(torn == 0);
    CHECK(seen[0] > 0 && seen[1] > 0);
}

/* Many processes hammering one resource: every update lands exactly once. */
static void test_concurrent_processes(void)
{
    lc_store_t *st = new_store(64);
    lc_resource_t r;
    int i, k, status, ok = 1;

    put(st, "shared", K_IDLE, NULL);
    for (i = 0; i < 8; i++) {
        if (fork() == 0) {
            for (k = 0; k < 500; k++) {
                put(st, "shared", (uint8_t)(k % 3), NULL);
            }
            _exit(0);
        }
    }
    for (i = 0; i < 8; i++) {
        wait(&status);
        ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    CHECK(ok);
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "shared", &r, pool) == APR_SUCCESS);
    CHECK(r.version == 1 + 8 * 500);
}

/* A state with both an auto-advance and a timeout: the earlier is queued;
 * with auto-advance off or refused, only the timeout; it fires once. */
static const lc_timeout_t t_tmo[] = {
    { K_BUSY, LC_TIMEOUT_SUSPEND, K_IDLE, 0, NULL }, { LC_STATE_KEEP }
};
static int t_refuse;
static int t_may(const lc_resource_t *r) { (void)r; return !t_refuse; }
static const lc_kind_def_t t_def = {
    LC_KIND_PIPELINE, "timed", k_states, K_N, k_rules, k_adv, NULL, NULL, t_tmo, t_may, NULL
};

static void test_timeouts(void)
{
    lc_store_t *st = new_store(64);
    lc_resource_t after;
    lc_act_t act = { &t_def, "t1", "go", NULL, apr_time_from_sec(100), apr_time_from_sec(2) };
    put_t p = { K_IDLE, NULL };

    lc_kind_register(&t_def);
    lc_kind_set_timeout(LC_TIMEOUT_SUSPEND, apr_time_from_sec(5));
    /* Advance (2 s) before timeout (5 s): the advance is queued and wins. */
    CHECK(lc_store_update(st, LC_KIND_PIPELINE, "t1", put_cb, &p, NULL, pool) == APR_SUCCESS);
    CHECK(lc_engine_act(st, &act, NULL, &after) == APR_SUCCESS);
    CHECK(after.due_class == LC_DUE_ADVANCE && after.due == apr_time_from_sec(102));
    lc_engine_advance_due(st, apr_time_from_sec(102), apr_time_from_sec(2), 10, NULL, NULL, pool);
    CHECK(lc_store_get(st, LC_KIND_PIPELINE, "t1", &after, pool) == APR_SUCCESS
          && after.state == K_DONE && after.due == 0);
    /* Advance refused (a runner drives it): only the timeout, which fires once. */
    t_refuse = 1;
    act.now = apr_time_from_sec(200);
    CHECK(lc_engine_act(st, &act, NULL, &after) == APR_SUCCESS);
    CHECK(after.due_class == LC_DUE_TIMEOUT && after.due == apr_time_from_sec(205));
    lc_engine_advance_due(st, apr_time_from_sec(204), apr_time_from_sec(2), 10, NULL, NULL, pool);
    CHECK(lc_store_get(st, LC_KIND_PIPELINE, "t1", &after, pool) == APR_SUCCESS && after.state == K_BUSY);
    lc_engine_advance_due(st, apr_time_from_sec(205), apr_time_from_sec(2), 10, NULL, NULL, pool);
    CHECK(lc_store_get(st, LC_KIND_PIPELINE, "t1", &after, pool) == APR_SUCCESS
          && after.state == K_IDLE && after.due == 0);
    /* Auto-advance longer than the timeout: the timeout is queued. */
    t_refuse = 0;
    act.now = apr_time_from_sec(300);
    act.advance_after = apr_time_from_sec(9);
    CHECK(lc_engine_act(st, &act, NULL, &after) == APR_SUCCESS);
    CHECK(after.due_class == LC_DUE_TIMEOUT && after.due == apr_time_from_sec(305));
    /* An advance queued when auto-advance is now off is dropped. */
    lc_kind_set_timeout(LC_TIMEOUT_SUSPEND, -1);
    act.now = apr_time_from_sec(400);
    act.action = "stop";
    lc_engine_act(st, &act, NULL, NULL);
    act.action = "go";
    act.advance_after = apr_time_from_sec(1);
    CHECK(lc_engine_act(st, &act, NULL, &after) == APR_SUCCESS && after.due_class == LC_DUE_ADVANCE);
    lc_engine_advance_due(st, apr_time_from_sec(401), -1, 10, NULL, NULL, pool);
    CHECK(lc_store_get(st, LC_KIND_PIPELINE, "t1", &after, pool) == APR_SUCCESS
          && after.state == K_BUSY && after.due == 0);
}

int main(void)
{
    apr_initialize();
    if (sodium_init() < 0) {
        return 2;
    }
    apr_pool_create(&pool, NULL);
    /* SPEC §7: 1,000,000 resources with ~200 bytes of attributes in 512 MiB. */
    CHECK(lc_store_shm_size(1000000, lc_store_shm_default_heap(1000000))
          <= (apr_size_t)512 * 1024 * 1024);
    test_crud();
    test_engine();
    test_due_order();
    test_timeouts();
    test_kill_midwrite();
    test_aliases();
    test_restore_aliases();
    test_heap();
    test_heap_larger_class();
    test_key_order();
    test_kill_midwrite_heap();
    test_readers_see_whole_records();
    test_concurrent_processes();
    return lc_test_done("test_store");
}
