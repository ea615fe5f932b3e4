/* lc_snapshot.c — snapshots: every resource as of a rotation.
 *
 * A snapshot rotates appends to a new segment at change R, then copies the
 * store chunk by chunk, leaving out what changed after R (each journal
 * record is a whole image, so the segments after the rotation rebuild
 * those), and is written atomically (write, fsync, rename, fsync dir).  The
 * newest snapshot is kept, and the newest older one that passes its
 * checksum, with every segment from that one's first on; without an intact
 * older one nothing is pruned, so one damaged snapshot never costs a change.
 * Only one process writes a snapshot at a time (snap_owner in the shared
 * words); reading one back is lc_journal_recover.c.
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "lc_journal.h"
#include "lc_journal_int.h"
#include "lc_snapshot.h"

/* ---- snapshots, written ------------------------------------------------------------- */

static int write_all(int fd, const unsigned char *b, apr_size_t n, crypto_generichash_state *hs)
{
    crypto_generichash_update(hs, b, n);
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w <= 0) {
            return -1;
        }
        b += w;
        n -= (apr_size_t)w;
    }
    return 0;
}

/* Copy the store into fd: header, records, then a trailer with the count and
 * a BLAKE2b-256 hash of everything before the hash itself. */
int lc_snapshot_write(lc_store_t *st, int fd, uint64_t seq, uint32_t first_seg,
                          apr_pool_t *p)
{
    lc_resource_t *chunk = apr_palloc(p, sizeof(*chunk) * SCAN_CHUNK);
    unsigned char head[SNAP_HEAD], rec[LC_RECORD_MAX], tail[SNAP_TAIL];
    crypto_generichash_state hs;
    lc_store_shm_stats_t stats;
    uint32_t cursor = 0;
    uint64_t count = 0;
    int n, i;

    crypto_generichash_init(&hs, NULL, 0, 32);
    memset(head, 0, sizeof(head));
    memcpy(head, SNAP_MAGIC, 8);
    put64(head + 8, seq);
    put32(head + 16, first_seg);
    if (write_all(fd, head, SNAP_HEAD, &hs) != 0) {
        return -1;
    }
    lc_store_shm_stats(st, &stats);
    while (cursor < stats.capacity) {
        lc_store_shm_scan(st, &cursor, chunk, SCAN_CHUNK, &n);
        for (i = 0; i < n; i++) {
            apr_size_t len;
            /* Changed after the rotation: the journal after it holds its whole
             * image.  Leaving it out keeps the snapshot a subset of the state
             * at `seq`, so a replay never holds more than the store did. */
            if (chunk[i].seq > seq) {
                continue;
            }
            len = lc_record_encode(rec, chunk[i].seq, LC_OP_CREATE, &chunk[i]);
            if (write_all(fd, rec, len, &hs) != 0) {
                return -1;
            }
            count++;
        }
    }
    memcpy(tail, SNAP_END, 8);
    put64(tail + 8, count);
    crypto_generichash_update(&hs, tail, 16);
    crypto_generichash_final(&hs, tail + 16, 32);
    if (write(fd, tail, SNAP_TAIL) != SNAP_TAIL || fdatasync(fd) != 0) {
        return -1;
    }
    return 0;
}

/* ---- snapshot files, checked ---------------------------------------------------- */

/* A snapshot's frame: the header (magic, sequence number, first segment)
 * and the trailer's end marker and record count, from `size` bytes whose
 * first SNAP_HEAD and last SNAP_TAIL are given.  0 = it is one. */
int lc_snapshot_frame(const unsigned char *head, const unsigned char *tail, apr_size_t size,
                      uint64_t seq, uint32_t *first_seg, uint64_t *count)
{
    if (size < SNAP_HEAD + SNAP_TAIL || memcmp(head, SNAP_MAGIC, 8) != 0
        || get64(head + 8) != seq || memcmp(tail, SNAP_END, 8) != 0) {
        return -1;
    }
    *first_seg = get32(head + 16);
    *count = get64(tail + 8);
    return 0;
}

/* Whether a snapshot file is intact (its frame and its BLAKE2b-256), read
 * in chunks: prune runs in a child, and a snapshot of a million resources
 * is hundreds of MiB. */
int lc_snapshot_intact(const char *path, uint64_t seq, uint32_t *first_seg)
{
    unsigned char buf[65536], h[32], tail[SNAP_TAIL];
    crypto_generichash_state hs;
    struct stat sb;
    apr_size_t done = 0, body;
    uint64_t count;
    int fd = open(path, O_RDONLY | O_CLOEXEC), ok = 0;

    if (fd < 0) {
        return 0;
    }
    if (fstat(fd, &sb) == 0 && (apr_size_t)sb.st_size >= SNAP_HEAD + SNAP_TAIL
        && pread(fd, tail, SNAP_TAIL, sb.st_size - SNAP_TAIL) == SNAP_TAIL
        && pread(fd, buf, SNAP_HEAD, 0) == SNAP_HEAD
        && lc_snapshot_frame(buf, tail, (apr_size_t)sb.st_size, seq, first_seg, &count) == 0) {
        body = (apr_size_t)sb.st_size - 32;
        crypto_generichash_init(&hs, NULL, 0, 32);
        while (done < body) {
            apr_size_t want = body - done < sizeof(buf) ? body - done : sizeof(buf);
            ssize_t n = pread(fd, buf, want, (off_t)done);
            if (n <= 0) {
                break;
            }
            crypto_generichash_update(&hs, buf, (unsigned long long)n);
            done += (apr_size_t)n;
        }
        crypto_generichash_final(&hs, h, 32);
        ok = done == body && sodium_memcmp(h, tail + SNAP_TAIL - 32, 32) == 0;
    }
    close(fd);
    return ok;
}

/* ---- taking a snapshot ------------------------------------------------------------ */

/* Keep the newest snapshot and the newest older one that is intact, with
 * every segment from that older one's first on, so that a damaged newest
 * snapshot still leaves a whole replay.  Without an intact older snapshot
 * nothing is pruned. */
static void prune(lc_journal_t *j, apr_pool_t *p)
{
    apr_array_header_t *segs, *snaps;
    uint32_t keep_from = 0;
    int i, k;

    if (lc_journal_dir_list(p, j->dir, &segs, &snaps) != APR_SUCCESS || snaps->nelts < KEEP_SNAPSHOTS) {
        return;
    }
    for (i = 1; i < snaps->nelts; i++) {
        uint64_t seq = APR_ARRAY_IDX(snaps, i, uint64_t);
        if (lc_snapshot_intact(lc_journal_dir_snap_path(p, j->dir, seq), seq, &keep_from)) {
            break;
        }
    }
    if (i == snaps->nelts) {
        return;
    }
    for (k = i + 1; k < snaps->nelts; k++) {
        unlink(lc_journal_dir_snap_path(p, j->dir, APR_ARRAY_IDX(snaps, k, uint64_t)));
    }
    for (k = 0; k < segs->nelts; k++) {
        uint32_t seg = APR_ARRAY_IDX(segs, k, uint32_t);
        if (seg < keep_from) {
            unlink(lc_journal_dir_seg_path(p, j->dir, seg));
        }
        else {
            uint64_t first = lc_journal_dir_first_seq(p, j->dir, seg);
            if (first) {
                __atomic_store_n(&j->sh->oldest_seq, first, __ATOMIC_RELEASE);
            }
            break;
        }
    }
    lc_journal_dir_fsync(j->dir);
}

apr_status_t lc_journal_snapshot(lc_journal_t *j, uint64_t *seq_out)
{
    jshm_t *sh = j->sh;
    uint32_t me = (uint32_t)getpid(), none = 0, seg, old;
    uint64_t last;
    lc_journal_pos_t pos;
    apr_pool_t *p;
    const char *tmp, *final;
    apr_status_t rv = APR_SUCCESS;
    int fd;

    if (!__atomic_compare_exchange_n(&sh->snap_owner, &none, me, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        /* Someone is at it, unless it died: then take over. */
        if (none == me || (kill((pid_t)none, 0) == 0 || errno != ESRCH)
            || !__atomic_compare_exchange_n(&sh->snap_owner, &none, me, 0,
                                            __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            return APR_EBUSY;
        }
    }
    /* A pool of its own: the watchdog thread must not allocate from the
     * process's pools, which the worker threads use. */
    apr_pool_create(&p, NULL);
    sh->snap_start = apr_time_now();
    /* Counted from the attempt: a failing snapshot is retried at the next interval. */
    __atomic_store_n(&sh->snapshot_time, sh->snap_start, __ATOMIC_RELEASE);
    /* 1. Rotate: the next segment exists before appends move to it. */
    lc_store_shm_journal_pos(j->st, &pos);
    seg = pos.seg;
    fd = open(lc_journal_dir_seg_path(p, j->dir, seg + 1), O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        rv = APR_FROM_OS_ERROR(errno);
        goto done;
    }
    close(fd);
    lc_journal_dir_fsync(j->dir);
    __atomic_store_n(&sh->rot_seg, seg, __ATOMIC_RELEASE);
    if ((rv = lc_store_shm_rotate(j->st, &old, &last)) != APR_SUCCESS
        || (rv = lc_journal_flush(j, NULL)) != APR_SUCCESS) {
        goto done;
    }
    lc_journal_wake(sh);       /* its flush may have covered requests waiting in j_sync */
    __atomic_store_n(&sh->rot_seg, 0, __ATOMIC_RELEASE);
    /* 2. Copy the store (it may hold changes after `last`: replay skips them). */
    final = lc_journal_dir_snap_path(p, j->dir, last);
    tmp = apr_psprintf(p, "%s/snapshot.tmp.%u", j->dir, me);
    fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        rv = APR_FROM_OS_ERROR(errno);
        goto done;
    }
    if (lc_snapshot_write(j->st, fd, last, old + 1, p) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
        close(fd);
        unlink(tmp);
        goto done;
    }
    close(fd);
    if (rename(tmp, final) != 0 || lc_journal_dir_fsync(j->dir) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
        goto done;
    }
    __atomic_store_n(&sh->snapshot_seq, last, __ATOMIC_RELEASE);
    __atomic_store_n(&sh->snapshot_time, apr_time_now(), __ATOMIC_RELEASE);
    prune(j, p);
    if (seq_out) {
        *seq_out = last;
    }
done:
    __atomic_store_n(&sh->rot_seg, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&sh->snap_owner, 0, __ATOMIC_RELEASE);
    apr_pool_destroy(p);
    return rv;
}
int lc_journal_snapshot_due(lc_journal_t *j, apr_interval_time_t every)
{
    return __atomic_load_n(&j->sh->durable, __ATOMIC_ACQUIRE)
               > __atomic_load_n(&j->sh->snapshot_seq, __ATOMIC_ACQUIRE)
           && apr_time_now() - __atomic_load_n(&j->sh->snapshot_time, __ATOMIC_ACQUIRE)
               >= every
           && __atomic_load_n(&j->sh->snap_owner, __ATOMIC_ACQUIRE) == 0;
}

