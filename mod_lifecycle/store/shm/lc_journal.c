/* lc_journal.c — the journal: append under the store mutex, write and flush outside it.
 *
 * Appending.  The store calls append() with its mutex held, inside the
 * undo-logged mutation: the record is encoded and copied into the ring in
 * the shared segment (lc_journal_ring.c, which has the crash-safety
 * argument), bound for the offset the store reserved, so records are in
 * sequence order with no holes, and a process killed mid-copy is rolled
 * back with its mutation.  No system call there: the store mutex is never
 * held across I/O (except, as back-pressure, when the ring is full).
 *
 * Flushing (group commit).  After the mutex is released, sync(seq) returns
 * once `durable` >= seq.  One flush is in flight at a time: the request that
 * claims the `flushing` word reads the committed head of the ring and the
 * last change it holds, writes the ring's unwritten bytes to their segments,
 * fdatasync()s them and raises `durable`, covering every request whose
 * record was committed before.  The others wait on a futex instead of
 * flushing again; when the flush ends, one of them leads the next, which
 * covers all that arrived meanwhile.  Who is woken: each flush publishes
 * its generation and its last change (`flush_tag`), and a waiter sleeps on
 * the futex bit of the flush that covers it, this one or the next, so a
 * flush's end wakes the requests it made durable and one waiter of the next
 * flush to lead it, not every waiter (which cost a sixth of the journaled
 * server's CPU in wake-ups that found nothing to do, at 256 connections).
 * A waiter's wait is bounded (WAIT_SLICE), so a wake it missed only
 * delays it, and a dead flusher is noticed.
 * The claim is not a lock: a waiter that
 * sees a flush last longer than 200 ms (its process may have been killed)
 * takes the claim over.  The store mutex is never held across a flush.
 *
 * Snapshots are lc_snapshot.c, the record format lc_record.c, the state
 * directory's files lc_journal_dir.c, reading it all back at start-up
 * lc_journal_recover.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "lc_futex.h"
#include "lc_journal.h"
#include "lc_journal_int.h"

/* Who a wake is for: bit 31 the change feed's waiters, bits 0-30 the
 * commits waiting for the flush of that generation (mod 31). */
#define WAKE_FEED     (1u << 31)
#define GEN_BIT(g)    (1u << ((g) % 31))
#define TAG(seq, gen) ((seq) << 5 | (gen) % 31)
#define TAG_SEQ(t)    ((t) >> 5)
#define TAG_GEN(t)    ((t) & 31)
/* A commit's longest sleep between looks: longer than a slow fdatasync
 * (a shorter one woke every waiter of a 5 ms flush twice), well under
 * FLUSH_PATIENCE. */
#define WAIT_SLICE    apr_time_from_msec(50)

/* ---- appending and flushing ------------------------------------------------------ */

static apr_status_t j_append(void *ctx, uint32_t seg, uint64_t off, uint64_t ring, uint64_t seq,
                             int op, const lc_resource_t *r, uint64_t *len, uint64_t *rlen)
{
    lc_journal_t *j = ctx;
    unsigned char buf[LC_RECORD_MAX];
    apr_size_t n = lc_record_encode(buf, seq, op, r);

    lc_jring_put(j, ring, seg, off, buf, n, rlen);
    __atomic_add_fetch(&j->sh->bytes, n, __ATOMIC_RELAXED);
    *len = n;
    return APR_SUCCESS;
}

/* Full: lead or wait for the flush of everything committed (`seq`, whose
 * frames end at `ring`).  The flusher raises the ring's tail before
 * `durable`, so once `seq` is durable the tail has reached `ring`. */
#define RESERVE_TRIES 64
static apr_status_t j_reserve(void *ctx, uint64_t ring, uint64_t seq)
{
    lc_journal_t *j = ctx;
    apr_status_t rv;
    int tries;

    for (tries = 0; tries < RESERVE_TRIES; tries++) {
        if (lc_jring_has_room(j, ring)) {
            return APR_SUCCESS;
        }
        if (tries == 0) {
            __atomic_add_fetch(&j->sh->ring_full, 1, __ATOMIC_RELAXED);
        }
        if ((rv = lc_journal_sync(j, seq)) != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_ENOSPC;
}

/* Make everything committed so far durable.  Safe beside another flush
 * (lc_jring_drain says why); the claim only saves doing it twice. */
apr_status_t lc_journal_flush(lc_journal_t *j, uint64_t *gen)
{
    uint64_t g = __atomic_add_fetch(&j->sh->flush_gen, 1, __ATOMIC_ACQ_REL);
    lc_journal_pos_t pos;
    apr_status_t rv;

    lc_store_shm_journal_pos(j->st, &pos);
    __atomic_store_n(&j->sh->flush_tag, TAG(pos.seq, g), __ATOMIC_RELEASE);
    if (gen) {
        *gen = g;
    }
    __atomic_store_n(&j->sh->flush_start, apr_time_now(), __ATOMIC_RELEASE);
    if ((rv = lc_jring_drain(j, pos.ring)) != APR_SUCCESS) {
        return rv;
    }
    lc_journal_cas_max(&j->sh->durable, pos.seq);
    return APR_SUCCESS;
}

/* One wake per flush, once its claim is released: the waiters it covered
 * return, and one of the others claims the next flush at once.  (Waking
 * before the release too woke every waiter twice, measured at 8% of the
 * durable cycle.) */
void lc_journal_wake(jshm_t *sh)
{
    __atomic_add_fetch(&sh->wake, 1, __ATOMIC_RELEASE);
    lc_futex_wake(&sh->wake, INT_MAX, LC_FUTEX_ANY);
}

void lc_journal_wake_flush(jshm_t *sh, uint64_t gen)
{
    __atomic_add_fetch(&sh->wake, 1, __ATOMIC_RELEASE);
    lc_futex_wake(&sh->wake, INT_MAX, GEN_BIT(gen) | WAKE_FEED);
    /* Any commit it did not cover: a snapshot's flush may have moved the
     * generation on, so not only those waiting for gen + 1. */
    lc_futex_wake(&sh->wake, 1, ~(GEN_BIT(gen) | WAKE_FEED));
}

/* The bit of the flush that covers change `seq`: the newest one if it
 * read the head after `seq` was committed, else the one after it. */
static uint32_t covering_bit(const jshm_t *sh, uint64_t seq)
{
    uint64_t tag = __atomic_load_n(&sh->flush_tag, __ATOMIC_ACQUIRE);

    return GEN_BIT(TAG_GEN(tag) + (seq > TAG_SEQ(tag)));
}

apr_status_t lc_journal_sync(lc_journal_t *j, uint64_t seq)
{
    jshm_t *sh = j->sh;

    for (;;) {
        uint32_t seen = __atomic_load_n(&sh->wake, __ATOMIC_ACQUIRE), free_ = 0;
        uint64_t gen;
        apr_status_t rv;

        if (__atomic_load_n(&sh->durable, __ATOMIC_ACQUIRE) >= seq) {
            return APR_SUCCESS;
        }
        if (!__atomic_compare_exchange_n(&sh->flushing, &free_, 1, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE)) {
            /* A flush is in flight: wait for it, then see whether it covered us. */
            if (apr_time_now() - __atomic_load_n(&sh->flush_start, __ATOMIC_ACQUIRE)
                < FLUSH_PATIENCE) {
                lc_futex_wait(&sh->wake, seen, WAIT_SLICE, covering_bit(sh, seq));
                continue;
            }
            /* Its flusher looks dead: take the claim over. */
            __atomic_store_n(&sh->flush_start, apr_time_now(), __ATOMIC_RELEASE);
        }
        rv = lc_journal_flush(j, &gen);
        __atomic_store_n(&sh->flushing, 0, __ATOMIC_RELEASE);
        lc_journal_wake_flush(sh, gen);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
}

static apr_status_t j_sync(void *ctx, uint64_t seq)
{
    return lc_journal_sync(ctx, seq);
}

static apr_status_t j_read(void *ctx, uint64_t since, lc_change_t *out, int max, int *n,
                           uint64_t *oldest, apr_pool_t *p)
{
    return lc_journal_read(ctx, since, out, max, n, oldest, p);
}

static void j_wait(void *ctx, uint64_t since, apr_interval_time_t timeout)
{
    lc_journal_wait(ctx, since, timeout);
}

static void j_metrics(void *ctx, lc_metric_fn *emit, void *baton)
{
    lc_journal_stats_t js;
    lc_metric_t m[] = {
        { "lifecycle_journal_flushes_total", "counter", "fdatasync calls on the journal." },
        { "lifecycle_journal_bytes_total", "counter", "Bytes appended to the journal." },
        { "lifecycle_journal_durable_seq", "gauge", "Last change on disk." },
        { "lifecycle_journal_snapshot_seq", "gauge",
          "Last change the newest snapshot covers." },
        { "lifecycle_journal_ring_full_total", "counter",
          "Changes that waited for room in the journal's ring (a flush)." },
    };
    unsigned i;

    lc_journal_stats(ctx, &js);
    m[0].value = js.flushes;
    m[1].value = js.bytes;
    m[2].value = js.durable_seq;
    m[3].value = js.snapshot_seq;
    m[4].value = __atomic_load_n(&((lc_journal_t *)ctx)->sh->ring_full, __ATOMIC_RELAXED);
    for (i = 0; i < sizeof(m) / sizeof(*m); i++) {
        emit(&m[i], baton);
    }
}

lc_journal_t *lc_journal_attach(lc_store_t *st, const lc_journal_opts_t *o, apr_pool_t *p)
{
    lc_journal_t *j = apr_pcalloc(p, sizeof(*j));
    lc_journal_hook_t hook = { j_append, j_reserve, j_sync, j_read, j_wait, j_metrics, j };

    j->st = st;
    j->sh = lc_store_shm_journal_area(st);
    j->dir = apr_pstrdup(p, o->dir);
    j->log = o->log;
    j->log_baton = o->log_baton;
    j->ring = lc_store_shm_journal_ring(st);
    /* Each process would otherwise take a page fault on its first write to
     * each of the ring's pages, under the store mutex: measured at three
     * quarters of a record's copy into the ring over a server's first laps. */
    lc_store_shm_map_ring(st);
    lc_store_shm_set_journal(st, &hook);
    return j;
}
/* ---- the change feed ------------------------------------------------------------------- */

apr_status_t lc_journal_read(lc_journal_t *j, uint64_t since, lc_change_t *out, int max,
                             int *n, uint64_t *oldest, apr_pool_t *p)
{
    uint64_t durable = __atomic_load_n(&j->sh->durable, __ATOMIC_ACQUIRE);
    apr_array_header_t *segs, *snaps;
    int i, start = -1;

    *n = 0;
    *oldest = __atomic_load_n(&j->sh->oldest_seq, __ATOMIC_ACQUIRE);
    if (since + 1 < *oldest) {
        return APR_EGENERAL;
    }
    if (since >= durable || lc_journal_dir_list(p, j->dir, &segs, &snaps) != APR_SUCCESS) {
        return APR_SUCCESS;
    }
    /* The last segment whose first change is at or before since + 1. */
    for (i = 0; i < segs->nelts; i++) {
        uint64_t first = lc_journal_dir_first_seq(p, j->dir, APR_ARRAY_IDX(segs, i, uint32_t));
        if (first && first <= since + 1) {
            start = i;
        }
    }
    for (i = start < 0 ? 0 : start; i < segs->nelts && *n < max; i++) {
        unsigned char *b;
        apr_size_t len, off = 0, rl;
        const char *path = lc_journal_dir_seg_path(p, j->dir, APR_ARRAY_IDX(segs, i, uint32_t));
        if (lc_journal_dir_read_file(p, path, &b, &len) != 0) {
            continue;
        }
        /* Decoded in place: a record is up to 17 KiB, not worth a copy. */
        while (off < len && *n < max && lc_record_decode(b + off, len - off, &out[*n], &rl)) {
            if (out[*n].seq > durable) {
                return APR_SUCCESS;
            }
            if (out[*n].seq > since) {
                (*n)++;
            }
            off += rl;
        }
    }
    return APR_SUCCESS;
}

/* The httpd layer's "this process is stopping" (lc_stopping.c); NULL in
 * the unit tests.  Polled at every wake-up of the wait below. */
static int (*wait_stopping)(void);

void lc_journal_wait_stop_check(int (*stopping)(void))
{
    wait_stopping = stopping;
}

void lc_journal_wait(lc_journal_t *j, uint64_t since, apr_interval_time_t timeout)
{
    apr_time_t end = apr_time_now() + timeout;

    for (;;) {
        uint32_t seen = __atomic_load_n(&j->sh->wake, __ATOMIC_ACQUIRE);
        apr_time_t now = apr_time_now();
        if (__atomic_load_n(&j->sh->durable, __ATOMIC_ACQUIRE) > since || now >= end
            || (wait_stopping && wait_stopping())) {
            return;
        }
        lc_futex_wait(&j->sh->wake, seen,
                      end - now < apr_time_from_msec(250) ? end - now : apr_time_from_msec(250),
                      WAKE_FEED);
    }
}

uint64_t lc_journal_durable(lc_journal_t *j)
{
    return __atomic_load_n(&j->sh->durable, __ATOMIC_ACQUIRE);
}

void lc_journal_stats(lc_journal_t *j, lc_journal_stats_t *out)
{
    out->flushes = __atomic_load_n(&j->sh->flushes, __ATOMIC_RELAXED);
    out->bytes = __atomic_load_n(&j->sh->bytes, __ATOMIC_RELAXED);
    out->durable_seq = __atomic_load_n(&j->sh->durable, __ATOMIC_RELAXED);
    out->snapshot_seq = __atomic_load_n(&j->sh->snapshot_seq, __ATOMIC_RELAXED);
    out->oldest_seq = __atomic_load_n(&j->sh->oldest_seq, __ATOMIC_RELAXED);
}
