/* make bench: start-up replay time for 1,000,000 journal records.
 * Writes a journal of 1,000,000 records (200,000 workstations, five changes
 * each) with the journal's own codec, then times lc_journal_recover() into a
 * fresh store of 1,000,000 slots, as the parent does at start-up. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sodium.h>
#include <apr_general.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <apr_global_mutex.h>

#include "lc_test_store.h"
#include "lc_journal.h"

#define RECORDS   1000000
#define RESOURCES 200000
#define CAPACITY  1000000

static lc_store_t *new_store(apr_pool_t *pool, uint32_t capacity)
{
    return lc_test_store(pool, capacity);
}

/* One buffered file of RECORDS records, fsync'd. */
static int write_journal(const char *path)
{
    static unsigned char buf[1 << 20];
    size_t used = 0;
    lc_resource_t r;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640), i;

    if (fd < 0) {
        return -1;
    }
    memset(&r, 0, sizeof(r));
    r.kind = LC_KIND_WORKSTATION;
    apr_cpystrn(r.owner, "bench", sizeof(r.owner));
    apr_cpystrn(r.data, "{\"configuration\":{\"cpuCores\":8,\"gpu\":null,\"memoryGB\":32,"
                "\"region\":\"us-west-2\",\"storageGB\":512},\"name\":\"bench\"}", sizeof(r.data));
    for (i = 0; i < RECORDS; i++) {
        snprintf(r.id, sizeof(r.id), "ws-%06d", i % RESOURCES);
        r.version = (uint64_t)(i / RESOURCES + 1);
        r.state = (uint8_t)(r.version % 4);
        r.seq = (uint64_t)i + 1;
        if (used + LC_RECORD_MAX > sizeof(buf)) {
            if (write(fd, buf, used) != (ssize_t)used) return -1;
            used = 0;
        }
        used += lc_record_encode(buf + used, r.seq, i < RESOURCES ? LC_OP_CREATE
                                                                 : LC_OP_TRANSITION, &r);
    }
    if (write(fd, buf, used) != (ssize_t)used || fsync(fd) != 0) {
        return -1;
    }
    return close(fd);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "build/bench/replay";
    lc_journal_opts_t o = { dir, -1, -1, NULL, NULL };
    lc_store_stats_t stats;
    lc_recovery_t rec;
    apr_pool_t *pool;
    lc_store_t *st;
    apr_time_t t0;

    apr_initialize();
    if (sodium_init() < 0) {
        return 2;
    }
    apr_pool_create(&pool, NULL);
    apr_dir_make_recursive(dir, APR_FPROT_OS_DEFAULT, pool);
    if (write_journal(apr_pstrcat(pool, dir, "/journal-00000001.log", NULL)) != 0) {
        perror("bench_replay: writing the journal");
        return 1;
    }
    st = new_store(pool, CAPACITY);
    t0 = apr_time_now();
    if (lc_journal_recover(st, &o, pool, &rec) != APR_SUCCESS) {
        fprintf(stderr, "bench_replay: recovery failed\n");
        return 1;
    }
    lc_store_stats(st, &stats);
    printf("replay: %llu journal records (%u resources) in %.2f s; store of %u slots uses %.0f MiB\n",
           (unsigned long long)rec.records, stats.used,
           (double)(apr_time_now() - t0) / APR_USEC_PER_SEC, CAPACITY,
           (double)lc_store_shm_size(CAPACITY) / (1024 * 1024));
    return rec.records == RECORDS ? 0 : 1;
}
