/* make bench: start-up replay time and shared memory for 1,000,000 resources.
 *
 * 1. Replay: a journal of 1,000,000 records (200,000 workstations, five
 *    changes each) written with the journal's own codec, then timed through
 *    lc_journal_recover() into a fresh store of 1,000,000 slots, as the
 *    parent does at start-up.
 * 2. Memory: 1,000,000 distinct resources with 200 bytes of
 *    attributes each, replayed the same way into a store sized as the server
 *    sizes it (LifecycleCapacity 1000000, LifecycleAttributeMemory default):
 *    the segment's size, and the attribute memory the resources take.
 * Beside each replay, the time to merely read the same file and check every
 * record's checksum, in the same run: replay's target (build/BENCH.md) is a ratio
 * to it, so that it holds on any machine. */
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
#include "lc_record.h"
#include "lc_snapshot.h"
#include "lc_journal_recover.h"

#define RECORDS   1000000
#define CAPACITY  1000000
#define ATTR_LEN  200
#define MIB(x)    ((double)(x) / (1024 * 1024))

/* Workstation attributes of exactly ATTR_LEN bytes, in the API's key order. */
static void attributes(char *data)
{
    const char *head = "{\"name\":\"bench\",\"configuration\":{\"cpuCores\":8,\"memoryGB\":32,"
                       "\"gpu\":null,\"storageGB\":512,\"region\":\"us-west-2\"},\"labels\":\"";
    size_t n = strlen(head);

    memcpy(data, head, n);
    memset(data + n, 'l', ATTR_LEN - n - 2);
    memcpy(data + ATTR_LEN - 2, "\"}", 3);
}

/* One buffered file of RECORDS records over `resources` ids, fsync'd. */
static int write_journal(const char *path, int resources)
{
    static unsigned char buf[1 << 20];
    size_t used = 0;
    lc_resource_t *r = malloc(sizeof(*r));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640), i;

    if (fd < 0 || !r) {
        return -1;
    }
    lc_resource_clear(r);
    r->kind = LC_KIND_WORKSTATION;
    apr_cpystrn(r->owner, "bench", sizeof(r->owner));
    attributes(r->data);
    for (i = 0; i < RECORDS; i++) {
        snprintf(r->id, sizeof(r->id), "ws-%07d", i % resources);
        r->version = (uint64_t)(i / resources + 1);
        r->state = (uint8_t)(r->version % 4);
        r->seq = (uint64_t)i + 1;
        if (used + LC_RECORD_MAX > sizeof(buf)) {
            if (write(fd, buf, used) != (ssize_t)used) return -1;
            used = 0;
        }
        used += lc_record_encode(buf + used, r->seq, i < resources ? LC_OP_CREATE
                                                                   : LC_OP_TRANSITION, r);
    }
    free(r);
    if (write(fd, buf, used) != (ssize_t)used || fsync(fd) != 0) {
        return -1;
    }
    return close(fd);
}

/* Read the journal at `path` (mapped, as the replay reads it) and check
 * each record's checksum: seconds, or -1 when it does not hold `RECORDS`
 * intact records. */
static double read_and_check(apr_pool_t *pool, const char *path)
{
    apr_time_t t0 = apr_time_now();
    const unsigned char *b;
    apr_size_t len, off = 0, n;
    int k = 0;

    if (lc_journal_dir_map_file(pool, path, &b, &len) != 0) {
        return -1;
    }
    while (off < len && lc_record_check(b + off, len - off, &n)) {
        off += n;
        k++;
    }
    return k == RECORDS ? (double)(apr_time_now() - t0) / APR_USEC_PER_SEC : -1;
}

/* Replays a fresh journal of RECORDS records over `resources` ids. */
static int replay(apr_pool_t *pool, const char *dir, int resources, lc_store_shm_stats_t *stats,
                  double *secs, double *check)
{
    lc_journal_opts_t o = { dir, -1, -1, NULL, NULL };
    lc_recovery_t rec;
    lc_store_t *st;
    apr_time_t t0;

    apr_dir_make_recursive(dir, APR_FPROT_OS_DEFAULT, pool);
    unlink(apr_pstrcat(pool, dir, "/journal-00000002.log", NULL));
    if (write_journal(apr_pstrcat(pool, dir, "/journal-00000001.log", NULL), resources) != 0) {
        perror("bench_replay: writing the journal");
        return -1;
    }
    /* httpd's default mutex for the store is flock (lc_segment.c). */
    st = lc_test_store_mech(pool, CAPACITY, lc_store_shm_default_heap(CAPACITY), APR_LOCK_FLOCK,
                            NULL);
    t0 = apr_time_now();
    if (lc_journal_recover(st, &o, pool, &rec) != APR_SUCCESS || rec.records != RECORDS) {
        fprintf(stderr, "bench_replay: recovery failed\n");
        return -1;
    }
    *secs = (double)(apr_time_now() - t0) / APR_USEC_PER_SEC;
    lc_store_shm_stats(st, stats);
    /* The file is in the page cache for both, as it was just written. */
    if ((*check = read_and_check(pool, apr_pstrcat(pool, dir, "/journal-00000001.log", NULL)))
        < 0) {
        fprintf(stderr, "bench_replay: the journal does not read back\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "build/bench/replay";
    apr_size_t heap = lc_store_shm_default_heap(CAPACITY);
    lc_store_shm_stats_t stats;
    apr_pool_t *pool;
    double secs, check;

    apr_initialize();
    if (sodium_init() < 0) {
        return 2;
    }
    apr_pool_create(&pool, NULL);
    if (replay(pool, dir, RECORDS / 5, &stats, &secs, &check) != 0) {
        return 1;
    }
    printf("replay: %d journal records (%u resources, %d-byte attributes) in %.2f s; "
           "reading and checksumming them %.2f s (%.1fx)\n",
           RECORDS, stats.used, ATTR_LEN, secs, check, secs / check);
    apr_pool_clear(pool);
    if (replay(pool, dir, CAPACITY, &stats, &secs, &check) != 0) {
        return 1;
    }
    printf("replay: %d journal records (%u distinct resources) in %.2f s; "
           "reading and checksumming them %.2f s (%.1fx)\n",
           RECORDS, stats.used, secs, check, secs / check);
    printf("memory: %u resources with %d-byte attributes in a segment of %.0f MiB "
           "(LifecycleCapacity %d: %.0f MiB of slots and index; LifecycleAttributeMemory "
           "%.0f MiB, %.0f MiB of it used)\n", stats.used, ATTR_LEN,
           MIB(lc_store_shm_size(CAPACITY, heap)), CAPACITY,
           MIB(lc_store_shm_size(CAPACITY, heap) - heap), MIB(heap), MIB(stats.heap_used));
    apr_pool_destroy(pool);             /* removes the flock mutex's file */
    apr_terminate();
    return stats.used == CAPACITY ? 0 : 1;
}
