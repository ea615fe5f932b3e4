/* Unit tests of the shared-memory store, with real APR shared memory, a real
 * global mutex and real child processes: the store contract
 * (lc_test_contract.h), then what this backend adds to it (a capacity,
 * crash repair, lock-free reads, the attribute heap, replay). */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sodium.h>
#include <apr_general.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <apr_global_mutex.h>

#include "lc_test.h"
#include "lc_test_contract.h"
#include "lc_test_store.h"
#include "lc_store_shm.h"

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

/* The contract's cases, each on a store of its own with room for them all. */
static lc_store_t *contract_store(const char *name, void *ctx)
{
    (void)name;
    (void)ctx;
    return new_store(128);
}

static apr_status_t put(lc_store_t *st, const char *id, uint8_t state, lc_resource_t *out)
{
    return lc_contract_put(st, LC_KIND_WORKSTATION, id, state, out, pool);
}

static apr_status_t aput(lc_store_t *st, const char *id, const char *a0, const char *a1,
                         const char *data)
{
    return lc_contract_aput(st, id, a0, a1, data, pool);
}

/* The status page's count: test_capacity's store holds 63 idle and 1 busy
 * workstations, and an agent added here. */
static void test_count(lc_store_t *st)
{
    lc_store_counts_t *c = apr_palloc(pool, sizeof(*c));
    lc_contract_put_t done = { K_DONE, NULL };

    CHECK(lc_store_update(st, LC_KIND_AGENT, "x", lc_contract_put_cb, &done, NULL, pool) == LC_EFULL);
    CHECK(lc_store_remove(st, LC_KIND_WORKSTATION, "r063", 0, NULL, pool) == APR_SUCCESS);
    CHECK(lc_store_update(st, LC_KIND_AGENT, "x", lc_contract_put_cb, &done, NULL, pool) == APR_SUCCESS);
    CHECK(lc_store_count(st, c, pool) == APR_SUCCESS);
    CHECK(c->n[LC_KIND_WORKSTATION][K_IDLE] == 62 && c->n[LC_KIND_WORKSTATION][K_BUSY] == 1);
    CHECK(c->n[LC_KIND_AGENT][K_DONE] == 1 && c->n[LC_KIND_AGENT][K_IDLE] == 0);
    CHECK(c->n[LC_KIND_NONE][0] == 0 && c->n[LC_KIND_PIPELINE][K_IDLE] == 0);
}

/* A store of 64 slots: the 65th create is refused, replacing still works. */
static void test_capacity(void)
{
    lc_store_t *st = new_store(64);
    lc_resource_t r;
    lc_store_shm_stats_t stats;
    char id[32];
    int i;

    CHECK(put(st, "a", K_IDLE, &r) == APR_SUCCESS && r.version == 1);
    for (i = 1; i < 64; i++) {
        snprintf(id, sizeof(id), "r%03d", i);
        CHECK(put(st, id, K_IDLE, NULL) == APR_SUCCESS);
    }
    CHECK(put(st, "overflow", K_IDLE, NULL) == LC_EFULL);
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "overflow", &r, pool) == LC_ENOTFOUND);
    CHECK(put(st, "r001", K_BUSY, NULL) == APR_SUCCESS);
    lc_store_shm_stats(st, &stats);
    CHECK(stats.used == 64 && stats.capacity == 64);
    CHECK(lc_store_remove(st, LC_KIND_WORKSTATION, "a", 0, NULL, pool) == APR_SUCCESS);
    CHECK(put(st, "overflow", K_IDLE, NULL) == APR_SUCCESS);
    test_count(st);
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
            lc_contract_put_t p = { K_BUSY, "{\"half\":\"written\"}" };
            lc_store_die_midwrite = 1;
            lc_store_update(st, LC_KIND_WORKSTATION, round ? "newborn" : "victim",
                            lc_contract_put_cb, &p, NULL, pool);
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
    lc_contract_put_t p = { K_IDLE, big };
    int i, made = 0;

    memset(big, 'x', LC_DATA_MAX);
    big[0] = '"';
    big[LC_DATA_MAX - 1] = '"';
    big[LC_DATA_MAX] = '\0';
    CHECK(lc_store_update(st, LC_KIND_WORKSTATION, "big", lc_contract_put_cb, &p, r, pool) == APR_SUCCESS);
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "big", r, pool) == APR_SUCCESS);
    CHECK(strlen(r->data) == LC_DATA_MAX && memcmp(r->data, big, LC_DATA_MAX) == 0);
    /* 64 KiB hold two of the largest blocks and some small ones. */
    for (i = 0; i < 40 && put(st, apr_psprintf(pool, "s%02d", i), K_IDLE, NULL)
                          == APR_SUCCESS; i++) {
        made++;
    }
    CHECK(made == 40);
    CHECK(lc_store_update(st, LC_KIND_WORKSTATION, "big2", lc_contract_put_cb, &p, NULL, pool) == APR_SUCCESS);
    lc_store_shm_stats(st, &before);
    CHECK(before.heap_bytes == LC_HEAP_MIN && before.heap_used > 2 * LC_DATA_MAX);
    CHECK(lc_store_update(st, LC_KIND_WORKSTATION, "big3", lc_contract_put_cb, &p, NULL, pool) == LC_EFULL);
    /* A replace needs the new block before it frees the old one. */
    big[1] = 'y';
    CHECK(lc_store_update(st, LC_KIND_WORKSTATION, "big", lc_contract_put_cb, &p, NULL, pool) == LC_EFULL);
    lc_store_shm_stats(st, &after);
    CHECK(after.used == before.used && after.heap_used == before.heap_used
          && after.heap_free == before.heap_free);
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "big3", r, pool) == LC_ENOTFOUND);
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "big", r, pool) == APR_SUCCESS && r->version == 1);
    CHECK(r->data[1] == 'x');
    /* A state change with the same strings keeps its block: no room needed. */
    p.state = K_BUSY;
    big[1] = 'x';
    CHECK(lc_store_update(st, LC_KIND_WORKSTATION, "big", lc_contract_put_cb, &p, NULL, pool) == APR_SUCCESS);
    /* Freed blocks are reused by their class. */
    CHECK(lc_store_remove(st, LC_KIND_WORKSTATION, "big2", 0, NULL, pool) == APR_SUCCESS);
    lc_store_shm_stats(st, &after);
    CHECK(after.heap_free == 24576);
    CHECK(lc_store_update(st, LC_KIND_WORKSTATION, "big3", lc_contract_put_cb, &p, NULL, pool) == APR_SUCCESS);
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
    lc_contract_put_t p = { K_IDLE, big };

    memset(big, 'x', LC_DATA_MAX);
    big[LC_DATA_MAX] = '\0';
    CHECK(lc_store_update(st, LC_KIND_WORKSTATION, "b1", lc_contract_put_cb, &p, NULL, pool) == APR_SUCCESS);
    CHECK(lc_store_update(st, LC_KIND_WORKSTATION, "b2", lc_contract_put_cb, &p, NULL, pool) == APR_SUCCESS);
    big[16384 - 8 - 2 - 1] = '\0';      /* id "b3" and the header fill a 16 KiB block */
    CHECK(lc_store_update(st, LC_KIND_WORKSTATION, "b3", lc_contract_put_cb, &p, NULL, pool) == APR_SUCCESS);
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

int main(void)
{
    apr_initialize();
    if (sodium_init() < 0) {
        return 2;
    }
    apr_pool_create(&pool, NULL);
    /* As conf/DIRECTIVES.md promises (LifecycleAttributeMemory): 1,000,000
     * resources with ~200 bytes of attributes fit in 512 MiB. */
    CHECK(lc_store_shm_size(1000000, lc_store_shm_default_heap(1000000))
          <= (apr_size_t)512 * 1024 * 1024);
    lc_contract_run("shm", contract_store, NULL, NULL, pool);
    test_capacity();
    test_kill_midwrite();
    test_restore_aliases();
    test_heap();
    test_heap_larger_class();
    test_key_order();
    test_kill_midwrite_heap();
    test_readers_see_whole_records();
    test_concurrent_processes();
    return lc_test_done("test_store");
}
