/* lc_journal.c — the journal: append under the store mutex, flush outside it.
 *
 * Appending.  The store calls append() with its mutex held, inside the
 * undo-logged mutation: the record is pwrite()n into the page cache at the
 * offset the store reserved, so records are in sequence order with no holes,
 * and a process killed mid-write is rolled back (its torn bytes are
 * overwritten by the next record).  Nothing there waits for the disk.
 *
 * Flushing (group commit).  After the mutex is released, sync(seq) returns
 * once `durable` >= seq.  One flush is in flight at a time: the request that
 * claims the `flushing` word reads the last appended sequence number,
 * fdatasync()s the segment and raises `durable` to it, covering every request
 * whose record was appended before.  The others wait on a futex instead of
 * flushing again; when the flush ends, one of them leads the next, which
 * covers all that arrived meanwhile.  The claim is not a lock: a waiter that
 * sees a flush last longer than 200 ms (its process may have been killed)
 * takes the claim over.  The store mutex is never held across a flush.
 *
 * Segments and snapshots.  A snapshot rotates appends to a new segment at
 * change R, then copies the store chunk by chunk, leaving out what changed
 * after R (each journal record is a whole image, so the segments after the
 * rotation rebuild those), and is written atomically (write, fsync, rename,
 * fsync dir).  Replay loads the newest good snapshot and applies the
 * segments after its rotation; each resource keeps the sequence number of
 * its last change, so a record older than what is stored is skipped.  The two newest snapshots are kept, and
 * the segments the older one needs; the rest are removed.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <sodium.h>
#include <apr_strings.h>
#include <apr_file_info.h>
#include <apr_tables.h>
#include <apr_lib.h>
#include <apr_time.h>
#include <apr_file_info.h>

#include "lc_journal.h"
#include "lc_store_shm.h"

#define REC_MAGIC      0x324a434cu    /* "LCJ2": checksum SipHash-2-4-128 */
#define REC_MAGIC_V1   0x314a434cu    /* "LCJ1": checksum BLAKE2b-128 (still read) */
#define REC_HEAD       80             /* fixed part before id/owner/data */
#define REC_HASH       16             /* checksum over everything before it */
#define SNAP_MAGIC     "LCSNAP1"
#define SNAP_END       "LCSEND1"
#define SNAP_HEAD      32
#define SNAP_TAIL      (8 + 8 + 32)
#define SCAN_CHUNK     64             /* records copied per lock hold (each up to 17 KiB) */
#define FLUSH_PATIENCE apr_time_from_msec(200)
#define KEEP_SNAPSHOTS 2

/* The journal's words in the store's shared segment. */
typedef struct jshm {
    uint64_t durable;          /* every change <= durable is on disk */
    int64_t  flush_start;
    uint32_t wake;             /* futex word: bumped whenever `durable` rises */
    uint32_t rot_seg;          /* a segment being rotated away (its tail may be unsynced) */
    uint64_t snapshot_seq;
    int64_t  snapshot_time;
    uint64_t oldest_seq;       /* first change still in a retained segment */
    uint32_t snap_owner;       /* pid writing a snapshot, 0 = none */
    uint32_t flushing;         /* a flush is in flight (claimed by one request) */
    int64_t  snap_start;
    uint64_t flushes;
    uint64_t bytes;
} jshm_t;

_Static_assert(sizeof(jshm_t) <= LC_JOURNAL_AREA, "journal words fit the reserved area");

struct lc_journal {
    lc_store_t        *st;
    jshm_t            *sh;
    const char        *dir;
    lc_journal_log_fn *log;
    void              *log_baton;
    int                fd;          /* append fd, used only under the store mutex */
    uint32_t           fd_seg;
};

/* ---- small helpers ------------------------------------------------------ */

static void put64(unsigned char *p, uint64_t v) { int i; for (i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static void put32(unsigned char *p, uint32_t v) { int i; for (i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static uint64_t get64(const unsigned char *p) { uint64_t v = 0; int i; for (i = 7; i >= 0; i--) v = (v << 8) | p[i]; return v; }
static uint32_t get32(const unsigned char *p) { uint32_t v = 0; int i; for (i = 3; i >= 0; i--) v = (v << 8) | p[i]; return v; }

static void say(const lc_journal_opts_t *o, int warning, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(const lc_journal_opts_t *o, int warning, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (!o->log) {
        return;
    }
    va_start(ap, fmt);
    apr_vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    o->log(o->log_baton, warning, msg);
}

static char *seg_path(apr_pool_t *p, const char *dir, uint32_t seg)
{
    return apr_psprintf(p, "%s/journal-%08u.log", dir, seg);
}

static char *snap_path(apr_pool_t *p, const char *dir, uint64_t seq)
{
    return apr_psprintf(p, "%s/snapshot-%016" APR_UINT64_T_HEX_FMT ".snap", dir, seq);
}

static void cas_max(uint64_t *word, uint64_t v)
{
    uint64_t cur = __atomic_load_n(word, __ATOMIC_ACQUIRE);

    while (cur < v && !__atomic_compare_exchange_n(word, &cur, v, 0, __ATOMIC_ACQ_REL,
                                                   __ATOMIC_ACQUIRE)) {
    }
}

static void futex_wait(uint32_t *word, uint32_t seen, apr_interval_time_t t)
{
    struct timespec ts = { (time_t)(t / APR_USEC_PER_SEC), (long)(t % APR_USEC_PER_SEC) * 1000 };

    syscall(SYS_futex, word, FUTEX_WAIT, seen, &ts, NULL, 0);
}

static void futex_wake(uint32_t *word)
{
    syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;

    if (fd < 0) {
        return -1;
    }
    rc = fsync(fd);
    close(fd);
    return rc;
}

static void chown_opt(const lc_journal_opts_t *o, const char *path)
{
    if (o->uid >= 0 && chown(path, (uid_t)o->uid, (gid_t)o->gid) != 0) {
        say(o, 1, "cannot give %s to the server's User: %s", path, strerror(errno));
    }
}

/* ---- the record codec ----------------------------------------------------- */

/* A record's checksum.  It guards against torn and corrupt writes, not
 * forgery (the journal is the server's own file), so LCJ2 uses SipHash-2-4
 * with a fixed key, which replays 1,000,000 records several times faster
 * than BLAKE2b; LCJ1 records, written before, keep BLAKE2b. */
static void rec_sum(unsigned char *out, const unsigned char *b, apr_size_t n, uint32_t magic)
{
    static const unsigned char key[crypto_shorthash_siphashx24_KEYBYTES] = "lifecycle-record";

    if (magic == REC_MAGIC_V1) {
        crypto_generichash(out, REC_HASH, b, n, NULL, 0);
    }
    else {
        crypto_shorthash_siphashx24(out, b, n, key);
    }
}

apr_size_t lc_record_encode(unsigned char *b, uint64_t seq, int op, const lc_resource_t *r)
{
    size_t idl = strnlen(r->id, LC_ID_MAX), owl = strnlen(r->owner, LC_OWNER_MAX);
    size_t dl = strnlen(r->data, LC_DATA_MAX);
    size_t a0 = strnlen(r->alias[0], LC_ALIAS_MAX), a1 = strnlen(r->alias[1], LC_ALIAS_MAX);
    apr_size_t len = REC_HEAD + idl + owl + dl + a0 + a1 + REC_HASH;

    put32(b, REC_MAGIC);
    put32(b + 4, (uint32_t)len);
    put64(b + 8, seq);
    b[16] = (unsigned char)op;      b[17] = r->kind;
    b[18] = r->state;               b[19] = r->desired;
    b[20] = r->res_state;           b[21] = r->res_desired;
    b[22] = r->due_class;           b[23] = (unsigned char)idl;
    b[24] = (unsigned char)owl;     b[25] = (unsigned char)a0;
    b[26] = (unsigned char)(dl & 0xff); b[27] = (unsigned char)(dl >> 8);
    put32(b + 28, (uint32_t)a1);    /* zero in records older than aliases */
    put64(b + 32, r->version);
    put64(b + 40, r->ckpt_seq);
    put64(b + 48, (uint64_t)r->created);
    put64(b + 56, (uint64_t)r->state_since);
    put64(b + 64, (uint64_t)r->closed);
    put64(b + 72, (uint64_t)r->due);
    memcpy(b + REC_HEAD, r->id, idl);
    memcpy(b + REC_HEAD + idl, r->owner, owl);
    memcpy(b + REC_HEAD + idl + owl, r->data, dl);
    memcpy(b + REC_HEAD + idl + owl + dl, r->alias[0], a0);
    memcpy(b + REC_HEAD + idl + owl + dl + a0, r->alias[1], a1);
    rec_sum(b + len - REC_HASH, b, len - REC_HASH, REC_MAGIC);
    return len;
}

static void get_str(char *dst, const unsigned char *src, size_t len)
{
    memcpy(dst, src, len);
    dst[len] = '\0';
}

int lc_record_decode(const unsigned char *b, apr_size_t avail, lc_change_t *c, apr_size_t *len)
{
    unsigned char h[REC_HASH];
    apr_size_t n;
    size_t idl, owl, dl, a0, a1;

    if (avail < REC_HEAD + REC_HASH
        || (get32(b) != REC_MAGIC && get32(b) != REC_MAGIC_V1)) {
        return 0;
    }
    n = get32(b + 4);
    idl = b[23];
    owl = b[24];
    dl = (size_t)b[26] | ((size_t)b[27] << 8);
    a0 = b[25];
    a1 = get32(b + 28);
    if (n > avail || n > LC_RECORD_MAX || idl == 0 || idl > LC_ID_MAX || owl > LC_OWNER_MAX
        || dl > LC_DATA_MAX || a0 > LC_ALIAS_MAX || a1 > LC_ALIAS_MAX
        || n != REC_HEAD + idl + owl + dl + a0 + a1 + REC_HASH) {
        return 0;
    }
    rec_sum(h, b, n - REC_HASH, get32(b));
    if (sodium_memcmp(h, b + n - REC_HASH, REC_HASH) != 0) {
        return 0;
    }
    /* Every field is set below: no clearing of the (large) record first. */
    c->seq = get64(b + 8);
    c->op = b[16];
    c->r.kind = b[17];          c->r.state = b[18];
    c->r.desired = b[19];       c->r.res_state = b[20];
    c->r.res_desired = b[21];   c->r.due_class = b[22];
    c->r.version = get64(b + 32);
    c->r.ckpt_seq = get64(b + 40);
    c->r.created = (apr_time_t)get64(b + 48);
    c->r.state_since = (apr_time_t)get64(b + 56);
    c->r.closed = (apr_time_t)get64(b + 64);
    c->r.due = (apr_time_t)get64(b + 72);
    c->r.seq = c->seq;
    c->r.op = (uint8_t)c->op;
    b += REC_HEAD;
    get_str(c->r.id, b, idl);
    get_str(c->r.owner, b += idl, owl);
    get_str(c->r.data, b += owl, dl);
    get_str(c->r.alias[0], b += dl, a0);
    get_str(c->r.alias[1], b + a0, a1);
    *len = n;
    return c->op >= LC_OP_CREATE && c->op <= LC_OP_DELETE
           && c->r.kind > LC_KIND_NONE && c->r.kind < LC_KIND_COUNT;
}

/* ---- reading files -------------------------------------------------------------- */

static int read_file(apr_pool_t *p, const char *path, unsigned char **buf, apr_size_t *len)
{
    struct stat sb;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    apr_size_t got = 0;

    if (fd < 0 || fstat(fd, &sb) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    *buf = apr_palloc(p, (apr_size_t)sb.st_size + 1);
    while (got < (apr_size_t)sb.st_size) {
        ssize_t n = read(fd, *buf + got, (size_t)sb.st_size - got);
        if (n <= 0) {
            close(fd);
            return -1;
        }
        got += (apr_size_t)n;
    }
    close(fd);
    *len = got;
    return 0;
}

static int cmp_u64_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

static int cmp_u32_asc(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

/* The segment numbers and snapshot sequence numbers in dir, sorted
 * (segments ascending, snapshots newest first). */
static apr_status_t list_dir(apr_pool_t *p, const char *dir, apr_array_header_t **segs,
                             apr_array_header_t **snaps)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    apr_status_t rv = apr_dir_open(&d, dir, p);

    *segs = apr_array_make(p, 16, sizeof(uint32_t));
    *snaps = apr_array_make(p, 4, sizeof(uint64_t));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    while (apr_dir_read(&fi, APR_FINFO_NAME, d) == APR_SUCCESS) {
        unsigned u;
        unsigned long long q;
        char tail[8];
        if (sscanf(fi.name, "journal-%8u.lo%1s", &u, tail) == 2 && strlen(fi.name) == 20
            && tail[0] == 'g') {
            APR_ARRAY_PUSH(*segs, uint32_t) = (uint32_t)u;
        }
        else if (sscanf(fi.name, "snapshot-%16llx.sna%1s", &q, tail) == 2
                 && strlen(fi.name) == 30 && tail[0] == 'p') {
            APR_ARRAY_PUSH(*snaps, uint64_t) = (uint64_t)q;
        }
    }
    apr_dir_close(d);
    qsort((*segs)->elts, (size_t)(*segs)->nelts, sizeof(uint32_t), cmp_u32_asc);
    qsort((*snaps)->elts, (size_t)(*snaps)->nelts, sizeof(uint64_t), cmp_u64_desc);
    return APR_SUCCESS;
}

/* The first change a segment holds (0 if none). */
static uint64_t first_seq_of(apr_pool_t *p, const char *dir, uint32_t seg)
{
    unsigned char buf[LC_RECORD_MAX];
    lc_change_t c;
    apr_size_t len;
    int fd = open(seg_path(p, dir, seg), O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0) {
        return 0;
    }
    n = pread(fd, buf, sizeof(buf), 0);
    close(fd);
    return (n > 0 && lc_record_decode(buf, (apr_size_t)n, &c, &len)) ? c.seq : 0;
}

/* ---- snapshots, read back -------------------------------------------------------- */

/* A snapshot file, read whole. */
typedef struct snap_file {
    unsigned char *b;
    apr_size_t     len;
    uint32_t       first_seg;   /* the first segment to replay after it */
    uint64_t       count;       /* records it holds */
} snap_file_t;

/* Read a snapshot and check it whole: magic, sequence number, trailer, and
 * the BLAKE2b-256 of everything before the hash.  0 = intact; else *why. */
static int snap_read(apr_pool_t *p, const char *path, uint64_t seq, snap_file_t *f,
                     const char **why)
{
    unsigned char h[32];

    if (read_file(p, path, &f->b, &f->len) != 0) {
        *why = "cannot be read";
        return -1;
    }
    if (f->len < SNAP_HEAD + SNAP_TAIL || memcmp(f->b, SNAP_MAGIC, 8) != 0
        || get64(f->b + 8) != seq || memcmp(f->b + f->len - SNAP_TAIL, SNAP_END, 8) != 0) {
        *why = "is truncated or not a snapshot";
        return -1;
    }
    crypto_generichash(h, sizeof(h), f->b, f->len - 32, NULL, 0);
    if (sodium_memcmp(h, f->b + f->len - 32, 32) != 0) {
        *why = "fails its checksum";
        return -1;
    }
    f->first_seg = get32(f->b + 16);
    f->count = get64(f->b + f->len - SNAP_TAIL + 8);
    return 0;
}

/* The same check without holding the file in memory (prune runs in a child
 * and a snapshot of a million resources is hundreds of MiB). */
static int snap_intact(const char *path, uint64_t seq, uint32_t *first_seg)
{
    unsigned char buf[65536], h[32], tail[SNAP_TAIL];
    crypto_generichash_state hs;
    struct stat sb;
    apr_size_t done = 0, body;
    int fd = open(path, O_RDONLY | O_CLOEXEC), ok = 0;

    if (fd < 0) {
        return 0;
    }
    if (fstat(fd, &sb) == 0 && (apr_size_t)sb.st_size >= SNAP_HEAD + SNAP_TAIL
        && pread(fd, tail, SNAP_TAIL, sb.st_size - SNAP_TAIL) == SNAP_TAIL
        && pread(fd, buf, SNAP_HEAD, 0) == SNAP_HEAD
        && memcmp(buf, SNAP_MAGIC, 8) == 0 && get64(buf + 8) == seq
        && memcmp(tail, SNAP_END, 8) == 0) {
        *first_seg = get32(buf + 16);
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
            say(o, 1, "snapshot %s: bad record at offset %" APR_SIZE_T_FMT, path, off);
            return APR_EGENERAL;
        }
        if (lc_store_shm_restore(st, LC_OP_CREATE, &c.r) != APR_SUCCESS) {
            say(o, 1, "snapshot %s does not fit in LifecycleCapacity", path);
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
    uint64_t q = first_seq_of(p, dir, seg);
    unsigned char *b;
    apr_size_t len;
    lc_change_t c;

    if (q || read_file(p, seg_path(p, dir, seg), &b, &len) != 0) {
        return q;
    }
    return next_valid(b, len, 0, &c) < len ? c.seq : 0;
}

/* The first change held by segments[from..] whose number is >= min_seg. */
static uint64_t first_seq_from(apr_pool_t *p, const char *dir, apr_array_header_t *segs,
                               int from, uint32_t min_seg)
{
    uint64_t q = 0;
    int i;

    for (i = from; i < segs->nelts && !q; i++) {
        uint32_t seg = APR_ARRAY_IDX(segs, i, uint32_t);
        if (seg >= min_seg) {
            q = seg_first_seq(p, dir, seg);
        }
    }
    return q;
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
    say(x->o, 1, "%s: %s at offset %" APR_SIZE_T_FMT " of %" APR_SIZE_T_FMT " bytes (never "
        "acknowledged): the segment is cut there", path, what, off, len);
    if (!x->o->dry_run && truncate(path, (off_t)off) != 0) {
        say(x->o, 1, "cannot cut %s: %s", path, strerror(errno));
    }
    return APR_SUCCESS;
}

/* Apply one segment.  next_first: the first change of the segments after it
 * (0: none), which tells a torn tail from damage. */
static apr_status_t replay_segment(rec_ctx_t *x, uint32_t seg, uint64_t next_first)
{
    const char *path = seg_path(x->p, x->o->dir, seg);
    unsigned char *b;
    apr_size_t len, off = 0, n;
    lc_change_t c;

    if (read_file(x->p, path, &b, &len) != 0) {
        return refuse(x, "cannot read %s: %s", path, strerror(errno));
    }
    while (off < len) {
        if (!lc_record_decode(b + off, len - off, &c, &n)) {
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
            return cut_tail(x, path, off, len, "a change rolled back before a rotation");
        }
        if (c.seq != x->last + 1 || c.seq == 0) {     /* 0: the sequence wrapped */
            return refuse(x, "%s: change %" APR_UINT64_T_FMT " at offset %" APR_SIZE_T_FMT
                          " follows change %" APR_UINT64_T_FMT ": %s; " LC_WAY_OUT, path,
                          c.seq, off, x->last,
                          c.seq > x->last ? "the changes in between are missing"
                                          : "the sequence goes back");
        }
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

/* Load the newest snapshot that is intact and that the journal continues
 * without a gap (its first change after the snapshot is the next one).
 * Without one, the journal itself must start at change 1. */
static apr_status_t pick_snapshot(rec_ctx_t *x, apr_array_header_t *segs,
                                  apr_array_header_t *snaps, uint32_t *first_seg)
{
    const char *bad = "";
    uint64_t next;
    apr_status_t rv;
    int i;

    for (i = 0; i < snaps->nelts; i++) {
        uint64_t seq = APR_ARRAY_IDX(snaps, i, uint64_t);
        const char *path = snap_path(x->p, x->o->dir, seq), *why;
        snap_file_t f;
        if (snap_read(x->p, path, seq, &f, &why) != 0) {
            say(x->o, 1, "snapshot %s %s: trying an older one", path, why);
            bad = apr_psprintf(x->p, "%s%s%s %s", bad, *bad ? ", " : "", path, why);
            continue;
        }
        next = first_seq_from(x->p, x->o->dir, segs, 0, f.first_seg);
        if (next && next != seq + 1) {
            say(x->o, 1, "snapshot %s: the journal after it starts at change %" APR_UINT64_T_FMT
                ", not %" APR_UINT64_T_FMT ": trying an older one", path, next, seq + 1);
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
    next = first_seq_from(x->p, x->o->dir, segs, 0, 0);
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
    const char *path = seg_path(p, o->dir, next_seg);
    int i, fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);

    if (fd < 0) {
        say(o, 1, "cannot create %s: %s", path, strerror(errno));
        return APR_FROM_OS_ERROR(errno);
    }
    close(fd);
    chown_opt(o, path);
    fsync_dir(o->dir);
    lc_store_shm_journal_set(st, next_seg, 0, last);
    memset(sh, 0, sizeof(*sh));
    sh->durable = last;
    sh->snapshot_seq = snapshot_seq;
    sh->snapshot_time = t0;
    for (i = 0; i < segs->nelts && !sh->oldest_seq; i++) {
        sh->oldest_seq = first_seq_of(p, o->dir, APR_ARRAY_IDX(segs, i, uint32_t));
    }
    if (!sh->oldest_seq || sh->oldest_seq > last + 1) {
        sh->oldest_seq = last + 1;
    }
    return APR_SUCCESS;
}

apr_status_t lc_journal_recover(lc_store_t *st, const lc_journal_opts_t *o, apr_pool_t *p,
                                lc_recovery_t *out)
{
    apr_time_t t0 = apr_time_now();
    rec_ctx_t x = { st, o, p, out, 0 };
    apr_array_header_t *segs, *snaps;
    uint32_t first_seg = 0;
    apr_status_t rv;
    int i;

    memset(out, 0, sizeof(*out));
    if ((rv = list_dir(p, o->dir, &segs, &snaps)) != APR_SUCCESS) {
        refuse(&x, "cannot read the state directory %s", o->dir);
        return rv;
    }
    if ((rv = pick_snapshot(&x, segs, snaps, &first_seg)) != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < segs->nelts; i++) {
        uint32_t seg = APR_ARRAY_IDX(segs, i, uint32_t);
        if (seg >= first_seg
            && (rv = replay_segment(&x, seg, first_seq_from(p, o->dir, segs, i + 1, 0)))
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
    out->elapsed = apr_time_now() - t0;
    return APR_SUCCESS;
}

/* ---- appending and flushing ------------------------------------------------------ */

static apr_status_t j_append(void *ctx, uint32_t seg, uint64_t off, uint64_t seq, int op,
                             const lc_resource_t *r, uint64_t *len)
{
    lc_journal_t *j = ctx;
    unsigned char buf[LC_RECORD_MAX];
    apr_size_t n;

    if (j->fd_seg != seg) {
        /* Once per process per rotation: the file exists (the rotation made it).
         * No pool here: worker threads share the process's pools. */
        char path[PATH_MAX];
        apr_snprintf(path, sizeof(path), "%s/journal-%08u.log", j->dir, seg);
        if (j->fd >= 0) {
            close(j->fd);
        }
        j->fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
        j->fd_seg = j->fd >= 0 ? seg : 0;
        if (j->fd < 0) {
            return APR_FROM_OS_ERROR(errno);
        }
    }
    n = lc_record_encode(buf, seq, op, r);
    if (pwrite(j->fd, buf, n, (off_t)off) != (ssize_t)n) {
        return errno ? APR_FROM_OS_ERROR(errno) : APR_EGENERAL;
    }
    __atomic_add_fetch(&j->sh->bytes, n, __ATOMIC_RELAXED);
    *len = n;
    return APR_SUCCESS;
}

static int datasync_seg(lc_journal_t *j, uint32_t seg)
{
    char path[PATH_MAX];
    int fd, rc;

    apr_snprintf(path, sizeof(path), "%s/journal-%08u.log", j->dir, seg);
    if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0) {
        return -1;
    }
    rc = fdatasync(fd);
    close(fd);
    return rc;
}

/* Make everything appended so far durable. */
static apr_status_t flush(lc_journal_t *j)
{
    uint32_t seg, seg2, rot;
    uint64_t off, target;

    /* Segment and last sequence from one moment: no rotation in between. */
    do {
        lc_store_shm_journal_pos(j->st, &seg, &off, &target);
        lc_store_shm_journal_pos(j->st, &seg2, &off, &target);
    } while (seg != seg2);
    /* Read after the position: a rotation that moved `seg` on had set it. */
    rot = __atomic_load_n(&j->sh->rot_seg, __ATOMIC_ACQUIRE);
    __atomic_store_n(&j->sh->flush_start, apr_time_now(), __ATOMIC_RELEASE);
    if (datasync_seg(j, seg) != 0 || (rot && rot != seg && datasync_seg(j, rot) != 0)) {
        return APR_FROM_OS_ERROR(errno);
    }
    cas_max(&j->sh->durable, target);
    __atomic_add_fetch(&j->sh->flushes, 1, __ATOMIC_RELAXED);
    return APR_SUCCESS;
}

/* One wake per flush, once its claim is released: the waiters it covered
 * return, and one of the others claims the next flush at once.  (Waking
 * before the release too woke every waiter twice, measured at 8% of the
 * durable cycle.) */
static void wake_waiters(jshm_t *sh)
{
    __atomic_add_fetch(&sh->wake, 1, __ATOMIC_RELEASE);
    futex_wake(&sh->wake);
}

static apr_status_t j_sync(void *ctx, uint64_t seq)
{
    lc_journal_t *j = ctx;
    jshm_t *sh = j->sh;

    for (;;) {
        uint32_t seen = __atomic_load_n(&sh->wake, __ATOMIC_ACQUIRE), free_ = 0;
        apr_status_t rv;

        if (__atomic_load_n(&sh->durable, __ATOMIC_ACQUIRE) >= seq) {
            return APR_SUCCESS;
        }
        if (!__atomic_compare_exchange_n(&sh->flushing, &free_, 1, 0, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE)) {
            /* A flush is in flight: wait for it, then see whether it covered us. */
            if (apr_time_now() - __atomic_load_n(&sh->flush_start, __ATOMIC_ACQUIRE)
                < FLUSH_PATIENCE) {
                futex_wait(&sh->wake, seen, apr_time_from_msec(5));
                continue;
            }
            /* Its flusher looks dead: take the claim over. */
            __atomic_store_n(&sh->flush_start, apr_time_now(), __ATOMIC_RELEASE);
        }
        rv = flush(j);
        __atomic_store_n(&sh->flushing, 0, __ATOMIC_RELEASE);
        wake_waiters(sh);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
}

lc_journal_t *lc_journal_attach(lc_store_t *st, const lc_journal_opts_t *o, apr_pool_t *p)
{
    lc_journal_t *j = apr_pcalloc(p, sizeof(*j));
    lc_journal_hook_t hook = { j_append, j_sync, j };

    j->st = st;
    j->sh = lc_store_shm_journal_area(st);
    j->dir = apr_pstrdup(p, o->dir);
    j->log = o->log;
    j->log_baton = o->log_baton;
    j->fd = -1;
    lc_store_shm_set_journal(st, &hook);
    return j;
}

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
static int write_snapshot(lc_store_t *st, int fd, uint64_t seq, uint32_t first_seg,
                          apr_pool_t *p)
{
    lc_resource_t *chunk = apr_palloc(p, sizeof(*chunk) * SCAN_CHUNK);
    unsigned char head[SNAP_HEAD], rec[LC_RECORD_MAX], tail[SNAP_TAIL];
    crypto_generichash_state hs;
    lc_store_stats_t stats;
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
    lc_store_stats(st, &stats);
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

/* Keep the newest snapshot and the newest older one that is intact, with
 * every segment from that older one's first on, so that a damaged newest
 * snapshot still leaves a whole replay.  Without an intact older snapshot
 * nothing is pruned. */
static void prune(lc_journal_t *j, apr_pool_t *p)
{
    apr_array_header_t *segs, *snaps;
    uint32_t keep_from = 0;
    int i, k;

    if (list_dir(p, j->dir, &segs, &snaps) != APR_SUCCESS || snaps->nelts < KEEP_SNAPSHOTS) {
        return;
    }
    for (i = 1; i < snaps->nelts; i++) {
        uint64_t seq = APR_ARRAY_IDX(snaps, i, uint64_t);
        if (snap_intact(snap_path(p, j->dir, seq), seq, &keep_from)) {
            break;
        }
    }
    if (i == snaps->nelts) {
        return;
    }
    for (k = i + 1; k < snaps->nelts; k++) {
        unlink(snap_path(p, j->dir, APR_ARRAY_IDX(snaps, k, uint64_t)));
    }
    for (k = 0; k < segs->nelts; k++) {
        uint32_t seg = APR_ARRAY_IDX(segs, k, uint32_t);
        if (seg < keep_from) {
            unlink(seg_path(p, j->dir, seg));
        }
        else {
            uint64_t first = first_seq_of(p, j->dir, seg);
            if (first) {
                __atomic_store_n(&j->sh->oldest_seq, first, __ATOMIC_RELEASE);
            }
            break;
        }
    }
    fsync_dir(j->dir);
}

apr_status_t lc_journal_snapshot(lc_journal_t *j, uint64_t *seq_out)
{
    jshm_t *sh = j->sh;
    uint32_t me = (uint32_t)getpid(), none = 0, seg, old;
    uint64_t off, last;
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
    lc_store_shm_journal_pos(j->st, &seg, &off, &last);
    fd = open(seg_path(p, j->dir, seg + 1), O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        rv = APR_FROM_OS_ERROR(errno);
        goto done;
    }
    close(fd);
    fsync_dir(j->dir);
    __atomic_store_n(&sh->rot_seg, seg, __ATOMIC_RELEASE);
    if ((rv = lc_store_shm_rotate(j->st, &old, &last)) != APR_SUCCESS
        || (rv = flush(j)) != APR_SUCCESS) {
        goto done;
    }
    wake_waiters(sh);       /* its flush may have covered requests waiting in j_sync */
    __atomic_store_n(&sh->rot_seg, 0, __ATOMIC_RELEASE);
    /* 2. Copy the store (it may hold changes after `last`: replay skips them). */
    final = snap_path(p, j->dir, last);
    tmp = apr_psprintf(p, "%s/snapshot.tmp.%u", j->dir, me);
    fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        rv = APR_FROM_OS_ERROR(errno);
        goto done;
    }
    if (write_snapshot(j->st, fd, last, old + 1, p) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
        close(fd);
        unlink(tmp);
        goto done;
    }
    close(fd);
    if (rename(tmp, final) != 0 || fsync_dir(j->dir) != 0) {
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

int lc_journal_lock(const char *dir)
{
    char path[PATH_MAX];
    int fd;

    apr_snprintf(path, sizeof(path), "%s/lock", dir);
    if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) < 0) {
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
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
        const char *path = snap_path(x->p, x->o->dir, seq), *why;
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
        const char *path = snap_path(x->p, x->o->dir, seq);
        unsigned char *b;
        apr_size_t len;
        if (read_file(x->p, path, &b, &len) == 0 && len > SNAP_HEAD + SNAP_TAIL) {
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
            ? seg_path(x->p, x->o->dir, APR_ARRAY_IDX(segs, i, uint32_t))
            : snap_path(x->p, x->o->dir, APR_ARRAY_IDX(snaps, i - segs->nelts, uint64_t));
        const char *name = apr_filepath_name_get(path);
        int bad = apr_table_get(x->damaged, name) != NULL;
        if (rename(path, apr_pstrcat(x->p, aside, "/", name, bad ? ".corrupt" : "", NULL))
            != 0) {
            say(x->o, 1, "cannot move %s into %s: %s", path, aside, strerror(errno));
            return APR_FROM_OS_ERROR(errno);
        }
        x->out->damaged_files += bad;
    }
    return fsync_dir(aside) == 0 ? APR_SUCCESS : APR_FROM_OS_ERROR(errno);
}

/* Write the new snapshot beside the old files, then swap them. */
static apr_status_t salv_commit(salv_ctx_t *x, apr_array_header_t *segs,
                                apr_array_header_t *snaps)
{
    const char *tmp = apr_pstrcat(x->p, x->o->dir, "/snapshot.tmp.salvage", NULL);
    const char *final = snap_path(x->p, x->o->dir, x->out->last_seq);
    char when[APR_CTIME_LEN];
    apr_time_exp_t t;
    apr_size_t got;
    struct stat sb;
    apr_status_t rv;
    int fd;

    apr_time_exp_lt(&t, apr_time_now());
    apr_strftime(when, &got, sizeof(when), "%Y%m%d-%H%M%S", &t);
    x->out->aside = apr_psprintf(x->p, "%s/salvaged-%s", x->o->dir, when);
    fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0 || write_snapshot(x->st, fd, x->out->last_seq, 1, x->p) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
        if (fd >= 0) close(fd);
        unlink(tmp);
        return rv;
    }
    close(fd);
    /* The server's User owns the directory: give it the new snapshot too. */
    if (stat(x->o->dir, &sb) == 0 && geteuid() == 0 && chown(tmp, sb.st_uid, sb.st_gid) != 0) {
        say(x->o, 1, "cannot give %s to the directory's owner: %s", tmp, strerror(errno));
    }
    if (mkdir(x->out->aside, 0750) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
        unlink(tmp);
        return rv;
    }
    if ((rv = salv_move_aside(x, segs, snaps)) != APR_SUCCESS) {
        return rv;                           /* the new snapshot stays as a .tmp */
    }
    if (rename(tmp, final) != 0 || fsync_dir(x->o->dir) != 0) {
        return APR_FROM_OS_ERROR(errno);
    }
    return APR_SUCCESS;
}

apr_status_t lc_journal_salvage(lc_store_t *st, const lc_journal_opts_t *o, apr_pool_t *p,
                                lc_salvage_t *out)
{
    salv_ctx_t x = { st, o, p, out, 1, apr_table_make(p, 4), 0 };
    apr_array_header_t *segs, *snaps;
    lc_store_stats_t stats;
    apr_status_t rv;
    int i;

    memset(out, 0, sizeof(*out));
    if ((rv = list_dir(p, o->dir, &segs, &snaps)) != APR_SUCCESS
        || (rv = salv_base(&x, snaps)) != APR_SUCCESS) {
        return rv;
    }
    for (i = 0; i < segs->nelts; i++) {
        const char *path = seg_path(p, o->dir, APR_ARRAY_IDX(segs, i, uint32_t));
        unsigned char *b;
        apr_size_t len;
        if (read_file(p, path, &b, &len) != 0) {
            say(o, 1, "cannot read %s: %s", path, strerror(errno));
            return APR_FROM_OS_ERROR(errno);
        }
        rv = salv_scan(&x, apr_filepath_name_get(path), b, 0, len,
                       first_seq_from(p, o->dir, segs, i + 1, 0), 0);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    out->last_seq = x.expect - 1;
    lc_store_stats(st, &stats);
    out->resources = stats.used;
    return salv_commit(&x, segs, snaps);
}

int lc_journal_snapshot_due(lc_journal_t *j, apr_interval_time_t every)
{
    return __atomic_load_n(&j->sh->durable, __ATOMIC_ACQUIRE)
               > __atomic_load_n(&j->sh->snapshot_seq, __ATOMIC_ACQUIRE)
           && apr_time_now() - __atomic_load_n(&j->sh->snapshot_time, __ATOMIC_ACQUIRE)
               >= every
           && __atomic_load_n(&j->sh->snap_owner, __ATOMIC_ACQUIRE) == 0;
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
    if (since >= durable || list_dir(p, j->dir, &segs, &snaps) != APR_SUCCESS) {
        return APR_SUCCESS;
    }
    /* The last segment whose first change is at or before since + 1. */
    for (i = 0; i < segs->nelts; i++) {
        uint64_t first = first_seq_of(p, j->dir, APR_ARRAY_IDX(segs, i, uint32_t));
        if (first && first <= since + 1) {
            start = i;
        }
    }
    for (i = start < 0 ? 0 : start; i < segs->nelts && *n < max; i++) {
        unsigned char *b;
        apr_size_t len, off = 0, rl;
        if (read_file(p, seg_path(p, j->dir, APR_ARRAY_IDX(segs, i, uint32_t)), &b, &len) != 0) {
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
        futex_wait(&j->sh->wake, seen, end - now < apr_time_from_msec(250)
                                        ? end - now : apr_time_from_msec(250));
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
