/* lc_journal_recover.c — reading a state directory back.
 *
 * Recovery (start-up, in the parent, into a fresh store) must prove that
 * what it replays starts at change 1 or at a good snapshot and has no gap.
 * It loads the newest snapshot that is intact and that the journal
 * continues without a gap, replays the segments after it, and cuts only a
 * torn tail (a record cut short at the very end, which a crash can leave
 * and which was never acknowledged).  Anything else that cannot be read
 * refuses to start, with one line naming the file, the offset and the
 * changes, and changes nothing on disk.
 *
 * Salvage (lifecycle-journal salvage, server stopped) is the operator's way
 * out: every intact record, in sequence order, into a new snapshot; every
 * old file moved aside byte for byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sodium.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "lc_journal.h"
#include "lc_journal_int.h"
#include "lc_journal_recover.h"
#include "lc_helper.h"
#include "lc_snapshot.h"
#include "lc_time.h"

/* ---- snapshots, read back -------------------------------------------------------- */

/* A snapshot file, read whole. */
typedef struct snap_file {
    unsigned char *b;
    apr_size_t     len;
    uint32_t       first_seg;   /* the first segment to replay after it */
    uint64_t       count;       /* records it holds */
} snap_file_t;

/* Read a snapshot and check it whole: its frame, and the BLAKE2b-256 of
 * everything before the hash.  0 = intact; else *why. */
static int snap_read(apr_pool_t *p, const char *path, uint64_t seq, snap_file_t *f,
                     const char **why)
{
    unsigned char h[32];

    if (lc_journal_dir_read_file(p, path, &f->b, &f->len) != 0) {
        *why = "cannot be read";
        return -1;
    }
    if (f->len < SNAP_HEAD + SNAP_TAIL
        || lc_snapshot_frame(f->b, f->b + f->len - SNAP_TAIL, f->len, seq, &f->first_seg,
                      &f->count) != 0) {
        *why = "is truncated or not a snapshot";
        return -1;
    }
    crypto_generichash(h, sizeof(h), f->b, f->len - 32, NULL, 0);
    if (sodium_memcmp(h, f->b + f->len - 32, 32) != 0) {
        *why = "fails its checksum";
        return -1;
    }
    return 0;
}

/* Restore every record of an intact snapshot (taken at change `seq`: no
 * record in it can be newer). */
static apr_status_t snap_apply(lc_store_t *st, const lc_journal_opts_t *o, const char *path,
                               const snap_file_t *f, uint64_t seq)
{
    apr_size_t off, n;
    uint64_t k;
    lc_change_t c;

    for (off = SNAP_HEAD, k = 0; k < f->count; k++, off += n) {
        if (!lc_record_decode(f->b + off, f->len - SNAP_TAIL - off, &c, &n) || c.seq > seq) {
            lc_journal_dir_say(o, 1, LC_LOGNO(00055) "snapshot %s: bad record at offset %" APR_SIZE_T_FMT, path, off);
            return APR_EGENERAL;
        }
        if (lc_store_shm_restore(st, LC_OP_CREATE, &c.r) != APR_SUCCESS) {
            lc_journal_dir_say(o, 1, LC_LOGNO(00056) "snapshot %s does not fit in LifecycleCapacity", path);
            return APR_ENOSPC;
        }
    }
    return APR_SUCCESS;
}

/* ---- recovery ------------------------------------------------------------------------ */

/* The first intact record at or after `from` in b[0..len): its offset (and
 * *c), or len when there is none.  Only used past damage. */
static apr_size_t next_valid(const unsigned char *b, apr_size_t len, apr_size_t from,
                             lc_change_t *c)
{
    apr_size_t off, n;

    for (off = from; off + REC_HEAD + REC_HASH <= len; off++) {
        uint32_t magic = get32(b + off);
        if ((magic == REC_MAGIC || magic == REC_MAGIC_V1)
            && lc_record_decode(b + off, len - off, c, &n)) {
            return off;
        }
    }
    return len;
}

/* The sequence number of a segment's first intact record (0: none).  It is
 * normally at offset 0; a damaged start is searched past. */
static uint64_t seg_first_seq(apr_pool_t *p, const char *dir, uint32_t seg)
{
    uint64_t q = lc_journal_dir_first_seq(p, dir, seg);
    unsigned char *b;
    apr_size_t len;
    lc_change_t c;

    if (q || lc_journal_dir_read_file(p, lc_journal_dir_seg_path(p, dir, seg), &b, &len) != 0) {
        return q;
    }
    return next_valid(b, len, 0, &c) < len ? c.seq : 0;
}

/* Each segment's first change, read once: recovery and salvage look ahead
 * from every segment to the next one's first change. */
static uint64_t *seg_firsts(apr_pool_t *p, const char *dir, const apr_array_header_t *segs)
{
    uint64_t *firsts = apr_pcalloc(p, sizeof(uint64_t) * (apr_size_t)(segs->nelts + 1));
    int i;

    for (i = 0; i < segs->nelts; i++) {
        firsts[i] = seg_first_seq(p, dir, APR_ARRAY_IDX(segs, i, uint32_t));
    }
    return firsts;
}

/* The first change held by segments[from..] whose number is >= min_seg. */
static uint64_t first_seq_from(const apr_array_header_t *segs, const uint64_t *firsts,
                               int from, uint32_t min_seg)
{
    int i;

    for (i = from; i < segs->nelts; i++) {
        if (APR_ARRAY_IDX(segs, i, uint32_t) >= min_seg && firsts[i]) {
            return firsts[i];
        }
    }
    return 0;
}

typedef struct rec_ctx {
    lc_store_t              *st;
    const lc_journal_opts_t *o;
    apr_pool_t              *p;
    lc_recovery_t           *out;
    uint64_t                 last;     /* the last change applied (0: none) */
} rec_ctx_t;

static apr_status_t refuse(rec_ctx_t *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static apr_status_t refuse(rec_ctx_t *x, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    apr_vsnprintf(x->out->problem, sizeof(x->out->problem), fmt, ap);
    va_end(ap);
    return APR_EGENERAL;
}

#define LC_WAY_OUT "nothing was changed on disk; restore the state directory from a backup, " \
                   "or run `lifecycle-journal salvage` on it (README: Journal damage)"

/* Unreadable bytes at `off` with an intact change `next` after them. */
static apr_status_t damaged(rec_ctx_t *x, const char *path, apr_size_t off, apr_size_t len,
                            uint64_t next)
{
    if (next > x->last + 1) {
        return refuse(x, "%s is damaged at offset %" APR_SIZE_T_FMT " of %" APR_SIZE_T_FMT
                      " bytes: changes %" APR_UINT64_T_FMT " to %" APR_UINT64_T_FMT
                      " cannot be read and later changes follow; " LC_WAY_OUT,
                      path, off, len, x->last + 1, next - 1);
    }
    return refuse(x, "%s is damaged at offset %" APR_SIZE_T_FMT " of %" APR_SIZE_T_FMT
                  " bytes, after change %" APR_UINT64_T_FMT " and before change %"
                  APR_UINT64_T_FMT "; " LC_WAY_OUT, path, off, len, x->last, next);
}

/* A record cut short at the very end: a crash can leave one, and it was
 * never acknowledged (acknowledged records are fdatasync'd whole). */
static apr_status_t cut_tail(rec_ctx_t *x, const char *path, apr_size_t off, apr_size_t len,
                             const char *what)
{
    lc_journal_dir_say(x->o, 1, LC_LOGNO(00057) "%s: %s at offset %" APR_SIZE_T_FMT " of %" APR_SIZE_T_FMT
               " bytes (never acknowledged): the segment is cut there", path, what, off, len);
    if (!x->o->dry_run && truncate(path, (off_t)off) != 0) {
        lc_journal_dir_say(x->o, 1, LC_LOGNO(00058) "cannot cut %s: %s", path, strerror(errno));
    }
    return APR_SUCCESS;
}

/* Have the next record's index bucket fetched while this one is restored
 * (a cache miss a record otherwise).  Its bytes are not checked yet: they
 * are only a hint. */
static void next_key_ahead(lc_store_t *st, const unsigned char *b, apr_size_t avail)
{
    const char *id;
    apr_size_t len;
    int kind;

    if (lc_record_key(b, avail, &kind, &id, &len)) {
        lc_store_shm_restore_next(st, kind, id, len);
    }
}

/* Have the segment's bytes up to READ_AHEAD past `to` fetched into the
 * cache, from *done on: the processor's own prefetch does not keep up
 * with a replay that misses the cache on every record's index bucket and
 * slot (measured: a tenth off a replay of 1,000,000 distinct resources). */
#define READ_AHEAD 1024
#define LINE       64
static void bytes_ahead(const unsigned char *b, apr_size_t len, apr_size_t to,
                        apr_size_t *done)
{
    apr_size_t end = to + READ_AHEAD < len ? to + READ_AHEAD : len;

    for (; *done < end; *done += LINE) {
        __builtin_prefetch(b + *done, 0, 0);
    }
}

/* A helper thread checks the segment's records ahead of the replay, which
 * then decodes each record below `upto` without computing its checksum
 * again: on two cores the checksums (a third of a replay's time) run
 * beside the rest.  It stops at the first record that fails; the replay
 * reaches that one itself, checks it and decides as it always did. */
typedef struct checked {
    const unsigned char *b;
    apr_size_t           len;
    apr_size_t           upto;    /* the records in [0, upto) passed */
    lc_helper_t         *helper;  /* NULL: none, or stopped */
} checked_t;

static void check_ahead(void *data, const int *stop)
{
    checked_t *k = data;
    apr_size_t off = 0, n;

    while (off < k->len && !__atomic_load_n(stop, __ATOMIC_ACQUIRE)
           && lc_record_check(k->b + off, k->len - off, &n)) {
        off += n;
        __atomic_store_n(&k->upto, off, __ATOMIC_RELEASE);
    }
}

/* Before the segment may be cut: the helper must not read a mapped page
 * that a truncation has taken away (SIGBUS). */
static void stop_checking(checked_t *k)
{
    lc_helper_stop(k->helper);
    k->helper = NULL;
}

/* Decode the record at off: checked already (both walk the same record
 * boundaries from 0), or checked now. */
static int decode_at(checked_t *k, apr_size_t off, lc_change_t *c, apr_size_t *n)
{
    return off < __atomic_load_n(&k->upto, __ATOMIC_ACQUIRE)
           ? lc_record_decode_checked(k->b + off, k->len - off, c, n)
           : lc_record_decode(k->b + off, k->len - off, c, n);
}

/* Apply the records of one mapped segment, in order.  next_first: the
 * first change of the segments after it (0: none), which tells a torn tail
 * from damage. */
static apr_status_t replay_records(rec_ctx_t *x, const char *path, checked_t *k,
                                   uint64_t next_first)
{
    const unsigned char *b = k->b;
    apr_size_t len = k->len, off = 0, n, fetched = 0;
    lc_change_t c;

    while (off < len) {
        bytes_ahead(b, len, off, &fetched);
        if (!decode_at(k, off, &c, &n)) {
            stop_checking(k);
            if (next_valid(b, len, off + 1, &c) < len && !(next_first && c.seq >= next_first)) {
                return damaged(x, path, off, len, c.seq);
            }
            if (next_first && next_first != x->last + 1) {
                return damaged(x, path, off, len, next_first);
            }
            return cut_tail(x, path, off, len, "torn tail");
        }
        if (next_first && c.seq >= next_first) {
            /* Written by a process killed before its change committed (the
             * store rolled it back), then appends moved to a new segment. */
            stop_checking(k);
            return cut_tail(x, path, off, len, "a change rolled back before a rotation");
        }
        if (c.seq != x->last + 1 || c.seq == 0) {     /* 0: the sequence wrapped */
            return refuse(x, "%s: change %" APR_UINT64_T_FMT " at offset %" APR_SIZE_T_FMT
                          " follows change %" APR_UINT64_T_FMT ": %s; " LC_WAY_OUT, path,
                          c.seq, off, x->last,
                          c.seq > x->last ? "the changes in between are missing"
                                          : "the sequence goes back");
        }
        next_key_ahead(x->st, b + off + n, len - off - n);
        if (lc_store_shm_restore(x->st, c.op, &c.r) != APR_SUCCESS) {
            refuse(x, "%s: change %" APR_UINT64_T_FMT " does not fit in LifecycleCapacity",
                   path, c.seq);
            return APR_ENOSPC;
        }
        x->last = c.seq;
        x->out->records++;
        off += n;
    }
    return APR_SUCCESS;
}

/* Apply one segment, its checksums checked ahead by a helper thread. */
static apr_status_t replay_segment(rec_ctx_t *x, uint32_t seg, uint64_t next_first)
{
    const char *path = lc_journal_dir_seg_path(x->p, x->o->dir, seg);
    checked_t k = { NULL, 0, 0, NULL };
    apr_status_t rv;

    if (lc_journal_dir_map_file(x->p, path, &k.b, &k.len) != 0) {
        return refuse(x, "cannot read %s: %s", path, strerror(errno));
    }
    k.helper = lc_helper_start(x->p, check_ahead, &k);
    rv = replay_records(x, path, &k, next_first);
    stop_checking(&k);
    return rv;
}

/* Load the newest snapshot that is intact and that the journal continues
 * without a gap (its first change after the snapshot is the next one).
 * Without one, the journal itself must start at change 1. */
static apr_status_t pick_snapshot(rec_ctx_t *x, apr_array_header_t *segs,
                                  const uint64_t *firsts, apr_array_header_t *snaps,
                                  uint32_t *first_seg)
{
    const char *bad = "";
    uint64_t next;
    apr_status_t rv;
    int i;

    for (i = 0; i < snaps->nelts; i++) {
        uint64_t seq = APR_ARRAY_IDX(snaps, i, uint64_t);
        const char *path = lc_journal_dir_snap_path(x->p, x->o->dir, seq), *why;
        snap_file_t f;
        if (snap_read(x->p, path, seq, &f, &why) != 0) {
            lc_journal_dir_say(x->o, 1, LC_LOGNO(00059) "snapshot %s %s: trying an older one", path, why);
            bad = apr_psprintf(x->p, "%s%s%s %s", bad, *bad ? ", " : "", path, why);
            continue;
        }
        next = first_seq_from(segs, firsts, 0, f.first_seg);
        if (next && next != seq + 1) {
            lc_journal_dir_say(x->o, 1, LC_LOGNO(00060) "snapshot %s: the journal after it starts at change %"
                       APR_UINT64_T_FMT ", not %" APR_UINT64_T_FMT ": trying an older one",
                       path, next, seq + 1);
            bad = apr_psprintf(x->p, "%s%s%s is not followed by change %" APR_UINT64_T_FMT,
                               bad, *bad ? ", " : "", path, seq + 1);
            continue;
        }
        if ((rv = snap_apply(x->st, x->o, path, &f, seq)) != APR_SUCCESS) {
            refuse(x, "snapshot %s is intact but could not be loaded (%s)", path,
                   rv == APR_ENOSPC ? "LifecycleCapacity is too small" : "a bad record");
            return rv;
        }
        x->out->snapshot_seq = x->last = seq;
        *first_seg = f.first_seg;
        return APR_SUCCESS;
    }
    *first_seg = 0;
    next = first_seq_from(segs, firsts, 0, 0);
    if (next > 1 || (next == 0 && snaps->nelts > 0)) {
        uint64_t upto = next ? next - 1 : APR_ARRAY_IDX(snaps, 0, uint64_t);
        return refuse(x, "no usable snapshot (%s) and the journal %s: changes 1 to %"
                      APR_UINT64_T_FMT " are only in those snapshots; " LC_WAY_OUT, bad,
                      next ? apr_psprintf(x->p, "starts at change %" APR_UINT64_T_FMT, next)
                           : "holds no change", upto);
    }
    return APR_SUCCESS;
}

/* Appends continue in a new segment, after everything on disk. */
static apr_status_t open_next_segment(lc_store_t *st, const lc_journal_opts_t *o, apr_pool_t *p,
                                      apr_array_header_t *segs, uint64_t last,
                                      uint64_t snapshot_seq, apr_time_t t0)
{
    jshm_t *sh = lc_store_shm_journal_area(st);
    uint32_t next_seg = segs->nelts ? APR_ARRAY_IDX(segs, segs->nelts - 1, uint32_t) + 1 : 1;
    const char *path = lc_journal_dir_seg_path(p, o->dir, next_seg);
    int i, fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);

    if (fd < 0) {
        lc_journal_dir_say(o, 1, LC_LOGNO(00061) "cannot create %s: %s", path, strerror(errno));
        return APR_FROM_OS_ERROR(errno);
    }
    close(fd);
    lc_journal_dir_chown(o, path);
    lc_journal_dir_fsync(o->dir);
    lc_store_shm_journal_set(st, next_seg, 0, last);
    memset(sh, 0, sizeof(*sh));
    sh->durable = last;
    sh->ring_tail = 0;          /* the ring starts empty (journal_set's head is 0) */
    sh->snapshot_seq = snapshot_seq;
    sh->snapshot_time = t0;
    for (i = 0; i < segs->nelts && !sh->oldest_seq; i++) {
        sh->oldest_seq = lc_journal_dir_first_seq(p, o->dir, APR_ARRAY_IDX(segs, i, uint32_t));
    }
    if (!sh->oldest_seq || sh->oldest_seq > last + 1) {
        sh->oldest_seq = last + 1;
    }
    return APR_SUCCESS;
}

static apr_status_t recover(lc_store_t *st, const lc_journal_opts_t *o, apr_pool_t *p,
                            lc_recovery_t *out, apr_time_t t0)
{
    rec_ctx_t x = { st, o, p, out, 0 };
    apr_array_header_t *segs, *snaps;
    uint64_t *firsts;
    uint32_t first_seg = 0;
    apr_status_t rv;
    int i;

    memset(out, 0, sizeof(*out));
    if ((rv = lc_journal_dir_list(p, o->dir, &segs, &snaps)) != APR_SUCCESS) {
        refuse(&x, "cannot read the state directory %s", o->dir);
        return rv;
    }
    firsts = seg_firsts(p, o->dir, segs);
    if ((rv = pick_snapshot(&x, segs, firsts, snaps, &first_seg)) != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < segs->nelts; i++) {
        uint32_t seg = APR_ARRAY_IDX(segs, i, uint32_t);
        if (seg >= first_seg
            && (rv = replay_segment(&x, seg, first_seq_from(segs, firsts, i + 1, 0)))
               != APR_SUCCESS) {
            return rv;
        }
    }
    out->last_seq = x.last;
    if (!o->dry_run
        && (rv = open_next_segment(st, o, p, segs, x.last, out->snapshot_seq, t0))
           != APR_SUCCESS) {
        return rv;
    }
    return APR_SUCCESS;
}

apr_status_t lc_journal_recover(lc_store_t *st, const lc_journal_opts_t *o, apr_pool_t *p,
                                lc_recovery_t *out)
{
    apr_time_t t0 = apr_time_now();
    apr_status_t rv;

    lc_store_shm_restore_begin(st, p);
    rv = recover(st, o, p, out, t0);
    lc_store_shm_restore_end(st);
    out->elapsed = apr_time_now() - t0;
    return rv;
}

/* ---- salvage: the operator's way out of a refused recovery -------------------------- */

typedef struct salv_ctx {
    lc_store_t              *st;
    const lc_journal_opts_t *o;
    apr_pool_t              *p;
    lc_salvage_t            *out;
    uint64_t                 expect;    /* the next change in sequence */
    apr_table_t             *damaged;   /* file name -> "" for files to set aside as *.corrupt */
    int                      ranges;
} salv_ctx_t;

static void note_lost(salv_ctx_t *x, uint64_t from, uint64_t to)
{
    x->out->lost += to - from + 1;
    if (x->ranges++ < 8) {
        x->out->lost_ranges = apr_psprintf(x->p, "%s%s%" APR_UINT64_T_FMT "-%" APR_UINT64_T_FMT,
                                           x->out->lost_ranges ? x->out->lost_ranges : "",
                                           x->out->lost_ranges ? ", " : "", from, to);
    }
}

/* Apply an intact record found in a file, in sequence order. */
static apr_status_t salv_apply(salv_ctx_t *x, const lc_change_t *c, int from_snapshot)
{
    if (!from_snapshot) {
        if (c->seq < x->expect) {
            return APR_SUCCESS;              /* already in the base snapshot */
        }
        if (c->seq > x->expect) {
            note_lost(x, x->expect, c->seq - 1);
        }
        x->expect = c->seq + 1;
        x->out->records++;
    }
    return lc_store_shm_restore(x->st, from_snapshot ? LC_OP_CREATE : c->op, &c->r);
}

/* Every intact record of b[from..end), skipping unreadable bytes.  Stops at
 * a record numbered `stop` or later (0: no stop). */
static apr_status_t salv_scan(salv_ctx_t *x, const char *name, const unsigned char *b,
                              apr_size_t from, apr_size_t end, uint64_t stop, int snapshot)
{
    apr_size_t off = from, n, at;
    lc_change_t c;
    apr_status_t rv;

    while (off < end) {
        if (lc_record_decode(b + off, end - off, &c, &n)
            && !(snapshot && c.seq > x->out->base_seq)) {
            if (stop && c.seq >= stop) {
                return APR_SUCCESS;
            }
            if ((rv = salv_apply(x, &c, snapshot)) != APR_SUCCESS) {
                return rv;
            }
            off += n;
            continue;
        }
        at = next_valid(b, end, off + 1, &c);
        if (at < end || snapshot) {
            apr_table_setn(x->damaged, name, "");     /* damage, not a torn tail */
        }
        x->out->damaged_bytes += at - off;
        off = at;
    }
    return APR_SUCCESS;
}

/* The base: the newest intact snapshot, or what can be read of the newest. */
static apr_status_t salv_base(salv_ctx_t *x, apr_array_header_t *snaps)
{
    int i;

    for (i = 0; i < snaps->nelts; i++) {
        uint64_t seq = APR_ARRAY_IDX(snaps, i, uint64_t);
        const char *path = lc_journal_dir_snap_path(x->p, x->o->dir, seq), *why;
        snap_file_t f;
        if (snap_read(x->p, path, seq, &f, &why) == 0) {
            x->out->base_seq = seq;
            x->expect = seq + 1;
            return snap_apply(x->st, x->o, path, &f, seq);
        }
        apr_table_setn(x->damaged, apr_filepath_name_get(path), "");
    }
    for (i = 0; i < snaps->nelts; i++) {
        uint64_t seq = APR_ARRAY_IDX(snaps, i, uint64_t);
        const char *path = lc_journal_dir_snap_path(x->p, x->o->dir, seq);
        unsigned char *b;
        apr_size_t len;
        if (lc_journal_dir_read_file(x->p, path, &b, &len) == 0 && len > SNAP_HEAD + SNAP_TAIL) {
            x->out->base_seq = seq;
            x->expect = seq + 1;
            return salv_scan(x, apr_filepath_name_get(path), b, SNAP_HEAD, len - SNAP_TAIL, 0, 1);
        }
    }
    x->expect = 1;
    return APR_SUCCESS;
}

/* Move every journal file into `aside`, damaged ones as *.corrupt. */
static apr_status_t salv_move_aside(salv_ctx_t *x, apr_array_header_t *segs,
                                    apr_array_header_t *snaps)
{
    const char *aside = x->out->aside;
    int i;

    for (i = 0; i < segs->nelts + snaps->nelts; i++) {
        const char *path = i < segs->nelts
            ? lc_journal_dir_seg_path(x->p, x->o->dir, APR_ARRAY_IDX(segs, i, uint32_t))
            : lc_journal_dir_snap_path(x->p, x->o->dir, APR_ARRAY_IDX(snaps, i - segs->nelts, uint64_t));
        const char *name = apr_filepath_name_get(path);
        int bad = apr_table_get(x->damaged, name) != NULL;
        if (rename(path, apr_pstrcat(x->p, aside, "/", name, bad ? ".corrupt" : "", NULL))
            != 0) {
            lc_journal_dir_say(x->o, 1, LC_LOGNO(00062) "cannot move %s into %s: %s", path, aside, strerror(errno));
            return APR_FROM_OS_ERROR(errno);
        }
        x->out->damaged_files += bad;
    }
    return lc_journal_dir_fsync(aside) == 0 ? APR_SUCCESS : APR_FROM_OS_ERROR(errno);
}

/* Write the new snapshot beside the old files, then swap them. */
static apr_status_t salv_commit(salv_ctx_t *x, apr_array_header_t *segs,
                                apr_array_header_t *snaps)
{
    const char *tmp = apr_pstrcat(x->p, x->o->dir, "/snapshot.tmp.salvage", NULL);
    const char *final = lc_journal_dir_snap_path(x->p, x->o->dir, x->out->last_seq);
    char when[LC_TIME_TEXT_MAX];
    struct stat sb;
    apr_status_t rv;
    int fd;

    x->out->aside = apr_psprintf(x->p, "%s/salvaged-%s", x->o->dir,
                                 lc_time_stamp_local(when, apr_time_now()));
    fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0 || lc_snapshot_write(x->st, fd, x->out->last_seq, 1, x->p) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
        if (fd >= 0) close(fd);
        unlink(tmp);
        return rv;
    }
    close(fd);
    /* The server's User owns the directory: give it the new snapshot too. */
    if (stat(x->o->dir, &sb) == 0 && geteuid() == 0 && chown(tmp, sb.st_uid, sb.st_gid) != 0) {
        lc_journal_dir_say(x->o, 1, LC_LOGNO(00063) "cannot give %s to the directory's owner: %s", tmp, strerror(errno));
    }
    if (mkdir(x->out->aside, 0750) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
        unlink(tmp);
        return rv;
    }
    if ((rv = salv_move_aside(x, segs, snaps)) != APR_SUCCESS) {
        return rv;                           /* the new snapshot stays as a .tmp */
    }
    if (rename(tmp, final) != 0 || lc_journal_dir_fsync(x->o->dir) != 0) {
        return APR_FROM_OS_ERROR(errno);
    }
    return APR_SUCCESS;
}

apr_status_t lc_journal_salvage(lc_store_t *st, const lc_journal_opts_t *o, apr_pool_t *p,
                                lc_salvage_t *out)
{
    salv_ctx_t x = { st, o, p, out, 1, apr_table_make(p, 4), 0 };
    apr_array_header_t *segs, *snaps;
    const uint64_t *firsts;
    lc_store_shm_stats_t stats;
    apr_status_t rv;
    int i;

    memset(out, 0, sizeof(*out));
    if ((rv = lc_journal_dir_list(p, o->dir, &segs, &snaps)) != APR_SUCCESS
        || (rv = salv_base(&x, snaps)) != APR_SUCCESS) {
        return rv;
    }
    firsts = seg_firsts(p, o->dir, segs);
    for (i = 0; i < segs->nelts; i++) {
        const char *path = lc_journal_dir_seg_path(p, o->dir, APR_ARRAY_IDX(segs, i, uint32_t));
        unsigned char *b;
        apr_size_t len;
        if (lc_journal_dir_read_file(p, path, &b, &len) != 0) {
            lc_journal_dir_say(o, 1, LC_LOGNO(00064) "cannot read %s: %s", path, strerror(errno));
            return APR_FROM_OS_ERROR(errno);
        }
        rv = salv_scan(&x, apr_filepath_name_get(path), b, 0, len,
                       first_seq_from(segs, firsts, i + 1, 0), 0);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    out->last_seq = x.expect - 1;
    lc_store_shm_stats(st, &stats);
    out->resources = stats.used;
    return salv_commit(&x, segs, snaps);
}
