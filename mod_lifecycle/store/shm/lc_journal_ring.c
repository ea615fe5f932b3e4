/* lc_journal_ring.c — the journal's ring: records leave the store mutex as
 * a memcpy, and reach the disk in the flusher.
 *
 * Why.  A pwrite() under the store mutex can wait: an append lands on the
 * page the concurrent fdatasync() is writing back, and the writer sleeps
 * until the writeback ends, holding the mutex, so every flush stalled every
 * writer (measured: 14 ms average mutex wait at 256 connections, and a
 * batch that stayed at 12 changes a flush however many waited).
 *
 * How.  LC_JRING_BYTES of the shared segment (lc_store_shm.c places it)
 * hold a byte stream of frames, each {segment, length, file offset} then
 * the encoded record.  Positions count bytes ever put, so the slot of
 * position p is p % LC_JRING_BYTES and a frame may wrap.
 *   head  the store's `jring`, an undo-logged word: the mutation that puts
 *         a record advances it, and commits or rolls back with it.
 *   tail  `ring_tail` (the journal's shared words): everything before it
 *         is written to its segment and fdatasync'd.
 * Under the store mutex a change copies its frame at the head (put); the
 * flusher of the group commit (lc_journal.c) reads the committed head, the
 * last change it covers and nothing else, writes [tail, head) to the
 * segments, fdatasyncs them, then raises the tail and `durable`.
 *
 * Crash safety.
 * - A child killed mid-copy (or anywhere in its mutation): the mutation is
 *   rolled back by the next holder of the mutex, `jring` with it, so the
 *   torn frame lies past the head, where no flusher looks, and the next
 *   record overwrites it.  Flushers read the head only between mutations
 *   (lc_store_shm_journal_pos reads the committed words, as a reader reads
 *   a slot), so no record of a mutation that may yet be rolled back is
 *   ever written.
 * - Server crash with records in the ring: they are lost with the memory
 *   that held them, and none was acknowledged (a 2xx waits for `durable`
 *   to reach its change, which needs its frame written and fdatasync'd).
 *   What the flusher had already written past the last fdatasync is a
 *   tail that recovery checks by checksum and cuts, as before: records
 *   reach each segment in order, without holes, at the offsets the store
 *   assigned under the mutex.
 * - A flusher killed mid-write: the tail did not move, so the next flusher
 *   (lc_journal.c takes a dead flusher's claim over) writes the same bytes
 *   at the same offsets again.  The tail moves only after the fdatasync.
 * - Two flushers at once (a slow one whose claim was taken over): each
 *   copies its range out of the ring, then checks the tail has not moved
 *   past its start; if it has, appenders may have reused that room and it
 *   starts again.  Otherwise its copy is what the store committed, and
 *   both write the same bytes to the same offsets.
 * - The ring full: a change waits (holding the store mutex, the only wait
 *   under it) until a flush has made room; counted in
 *   lifecycle_journal_ring_full_total.
 *
 * Size.  LC_JRING_BYTES is 1 MiB: every flush empties the ring, so it only
 * holds what arrives during one flush (about 17 KiB at 256 connections
 * here, 70 changes of 240 bytes; a 100 ms flush at that rate, 300 KiB), or
 * sixty of the largest records.  Smaller is faster: the copy under the
 * mutex writes where the ring was written a lap before, and an 8 MiB lap
 * no longer in the caches made that 226-byte copy take 1.2-4.7 us against
 * 0.03-0.05 us in 1 MiB (build/BENCH.md, "The ring's size").
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <apr_strings.h>

#include "lc_journal_int.h"

typedef struct lc_jframe {
    uint32_t seg;
    uint32_t len;         /* record bytes after this header */
    uint64_t off;         /* where they go in the segment */
} lc_jframe_t;

#define RING_NEED      (sizeof(lc_jframe_t) + LC_RECORD_MAX)  /* one record, framed */

static void ring_in(unsigned char *ring, uint64_t pos, const void *src, apr_size_t n)
{
    apr_size_t at = (apr_size_t)(pos % LC_JRING_BYTES);
    apr_size_t first = n < LC_JRING_BYTES - at ? n : LC_JRING_BYTES - at;

    memcpy(ring + at, src, first);
    memcpy(ring, (const unsigned char *)src + first, n - first);
}

static void ring_out(const unsigned char *ring, uint64_t pos, void *dst, apr_size_t n)
{
    apr_size_t at = (apr_size_t)(pos % LC_JRING_BYTES);
    apr_size_t first = n < LC_JRING_BYTES - at ? n : LC_JRING_BYTES - at;

    memcpy(dst, ring + at, first);
    memcpy((unsigned char *)dst + first, ring, n - first);
}

void lc_jring_put(lc_journal_t *j, uint64_t pos, uint32_t seg, uint64_t off,
                  const unsigned char *rec, apr_size_t n, uint64_t *rlen)
{
    lc_jframe_t f = { seg, (uint32_t)n, off };

    ring_in(j->ring, pos, &f, sizeof(f));
    ring_in(j->ring, pos + sizeof(f), rec, n);
    *rlen = sizeof(f) + n;
}

int lc_jring_has_room(const lc_journal_t *j, uint64_t head)
{
    uint64_t tail = __atomic_load_n(&j->sh->ring_tail, __ATOMIC_ACQUIRE);

    return head - tail + RING_NEED <= LC_JRING_BYTES;
}

/* ---- the flusher's side ----------------------------------------------------------------- */

/* One segment's contiguous run of records, in the flusher's copy. */
typedef struct run {
    uint32_t seg;
    uint64_t off;
    apr_size_t at, len;
} run_t;

static int open_seg(lc_journal_t *j, uint32_t seg)
{
    char path[PATH_MAX];

    /* The segment exists (start-up or the rotation made it); O_CREAT costs nothing. */
    apr_snprintf(path, sizeof(path), "%s/journal-%08u.log", j->dir, seg);
    return open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
}

static int sync_close(lc_journal_t *j, int fd)
{
    int rc = fdatasync(fd);

    close(fd);
    if (rc == 0) {
        __atomic_add_fetch(&j->sh->flushes, 1, __ATOMIC_RELAXED);
    }
    return rc;
}

/* Write the runs in order, one open and one fdatasync per segment. */
static apr_status_t write_runs(lc_journal_t *j, const unsigned char *buf, const run_t *r, int nr)
{
    int i, fd = -1;
    uint32_t seg = 0;

    for (i = 0; i < nr; i++) {
        if (fd < 0 || r[i].seg != seg) {
            if (fd >= 0 && sync_close(j, fd) != 0) {
                return APR_FROM_OS_ERROR(errno);
            }
            if ((fd = open_seg(j, r[i].seg)) < 0) {
                return APR_FROM_OS_ERROR(errno);
            }
            seg = r[i].seg;
        }
        if (pwrite(fd, buf + r[i].at, r[i].len, (off_t)r[i].off) != (ssize_t)r[i].len) {
            apr_status_t rv = errno ? APR_FROM_OS_ERROR(errno) : APR_EGENERAL;
            close(fd);
            return rv;
        }
    }
    return fd >= 0 && sync_close(j, fd) != 0 ? APR_FROM_OS_ERROR(errno) : APR_SUCCESS;
}

/* Squeeze the frame headers out of buf (n bytes of frames), leaving the
 * records contiguous, and list the runs they form.  -1: a frame that the
 * store cannot have committed (the segment is damaged). */
static int frames_to_runs(unsigned char *buf, apr_size_t n, run_t *runs, int max)
{
    apr_size_t rd = 0, wr = 0;
    int nr = 0;

    while (rd < n) {
        lc_jframe_t f;
        if (n - rd < sizeof(f)) {
            return -1;
        }
        memcpy(&f, buf + rd, sizeof(f));
        rd += sizeof(f);
        if (f.len > LC_RECORD_MAX || f.len > n - rd) {
            return -1;
        }
        memmove(buf + wr, buf + rd, f.len);
        if (nr && runs[nr - 1].seg == f.seg && runs[nr - 1].off + runs[nr - 1].len == f.off) {
            runs[nr - 1].len += f.len;
        }
        else if (nr < max) {
            runs[nr++] = (run_t){ f.seg, f.off, wr, f.len };
        }
        else {
            return -1;
        }
        rd += f.len;
        wr += f.len;
    }
    return nr;
}

#define MAX_RUNS 64    /* a run breaks only at a rotation */

apr_status_t lc_jring_drain(lc_journal_t *j, uint64_t head)
{
    for (;;) {
        uint64_t tail = __atomic_load_n(&j->sh->ring_tail, __ATOMIC_ACQUIRE);
        run_t runs[MAX_RUNS];
        unsigned char *buf;
        apr_status_t rv;
        int nr;

        if (tail >= head) {
            return APR_SUCCESS;       /* another flusher wrote it all */
        }
        if (head - tail > LC_JRING_BYTES || !(buf = malloc(head - tail))) {
            return APR_ENOMEM;
        }
        ring_out(j->ring, tail, buf, head - tail);
        /* Still ours?  A tail moved past our start means the room may be reused. */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (__atomic_load_n(&j->sh->ring_tail, __ATOMIC_ACQUIRE) != tail) {
            free(buf);
            continue;
        }
        nr = frames_to_runs(buf, head - tail, runs, MAX_RUNS);
        rv = nr < 0 ? APR_EGENERAL : write_runs(j, buf, runs, nr);
        free(buf);
        if (rv == APR_SUCCESS) {
            lc_journal_cas_max(&j->sh->ring_tail, head);
        }
        return rv;
    }
}
