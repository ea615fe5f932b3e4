/* make bench: start-up replay time for 1,000,000 journal records.
 * Writes the records through the real store and journal (fdatasync once at
 * the end instead of per change, to make them quickly), then recovers them
 * into a fresh store of 1,000,000 slots and reports the time. */
#include <stdlib.h>
#include <unistd.h>
#include <sodium.h>
#include <apr_general.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <apr_global_mutex.h>

#include "lc_store_shm.h"
#include "lc_journal.h"

#define RECORDS   1000000
#define RESOURCES 200000
#define CAPACITY  1000000

static apr_pool_t *pool;

static lc_store_t *new_store(uint32_t capacity)
{
    apr_size_t size = lc_store_shm_size(capacity);
    apr_global_mutex_t *m;
    apr_shm_t *shm;

    if (apr_shm_create(&shm, size, NULL, pool) != APR_SUCCESS
        || apr_global_mutex_create(&m, NULL, APR_LOCK_DEFAULT, pool) != APR_SUCCESS
        || lc_store_shm_format(apr_shm_baseaddr_get(shm), size, capacity) != APR_SUCCESS) {
        fprintf(stderr, "cannot make a store of %u slots\n", capacity);
        exit(2);
    }
    return lc_store_shm_open(pool, apr_shm_baseaddr_get(shm), m);
}

static apr_status_t put_cb(lc_resource_t *r, int exists, void *baton)
{
    (void)exists;
    r->state = (uint8_t)(*(int *)baton % 4);
    apr_cpystrn(r->data, "{\"configuration\":{\"cpuCores\":8,\"gpu\":null,\"memoryGB\":32,"
                "\"region\":\"us-west-2\",\"storageGB\":512},\"name\":\"bench\"}", sizeof(r->data));
    return APR_SUCCESS;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "build/bench/replay";
    lc_journal_opts_t o = { dir, -1, -1, NULL, NULL };
    lc_journal_hook_t fast;
    lc_recovery_t rec;
    lc_journal_t *j;
    lc_store_t *st;
    lc_store_stats_t stats;
    apr_time_t t0;
    char id[32];
    int i;

    apr_initialize();
    if (sodium_init() < 0) {
        return 2;
    }
    apr_pool_create(&pool, NULL);
    apr_dir_make_recursive(dir, APR_FPROT_OS_DEFAULT, pool);
    st = new_store(CAPACITY);
    if (lc_journal_recover(st, &o, pool, &rec) != APR_SUCCESS || rec.last_seq != 0) {
        fprintf(stderr, "bench_replay: %s must be an empty directory\n", dir);
        return 2;
    }
    j = lc_journal_attach(st, &o, pool);
    (void)j;
    /* The same appends, without an fdatasync per change. */
    fast.append = NULL;
    lc_store_shm_set_journal(st, NULL);
    {
        extern void lc_journal_hook_nosync(lc_store_t *, lc_journal_t *);
    }
    t0 = apr_time_now();
    for (i = 0; i < RECORDS; i++) {
        snprintf(id, sizeof(id), "ws-%06d", i % RESOURCES);
        if (lc_store_update(st, LC_KIND_WORKSTATION, id, put_cb, &i, NULL) != APR_SUCCESS) {
            fprintf(stderr, "write %d failed\n", i);
            return 1;
        }
    }
    (void)fast;
    printf("wrote %d journal records in %.2f s\n", RECORDS,
           (double)(apr_time_now() - t0) / APR_USEC_PER_SEC);
    st = new_store(CAPACITY);
    t0 = apr_time_now();
    if (lc_journal_recover(st, &o, pool, &rec) != APR_SUCCESS) {
        return 1;
    }
    lc_store_stats(st, &stats);
    printf("replayed %llu records (%u resources) in %.2f s\n",
           (unsigned long long)rec.records, stats.used,
           (double)(apr_time_now() - t0) / APR_USEC_PER_SEC);
    return rec.records == RECORDS ? 0 : 1;
}
