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
 * fsync dir).  The newest snapshot is kept, and the newest older one that
 * passes its checksum, with every segment from that one's first on; without
 * an intact older one nothing is pruned, so one damaged snapshot never
 * costs a change.  Reading all of it back (recovery, salvage) is
 * lc_journal_recover.c.
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

#include "lc_journal_int.h"

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

void lc_jnl_say(const lc_journal_opts_t *o, int warning, const char *fmt, ...)
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

char *lc_jnl_seg_path(apr_pool_t *p, const char *dir, uint32_t seg)
{
    return apr_psprintf(p, "%s/journal-%08u.log", dir, seg);
}

char *lc_jnl_snap_path(apr_pool_t *p, const char *dir, uint64_t seq)
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

int lc_jnl_fsync_dir(const char *dir)
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

void lc_jnl_chown(const lc_journal_opts_t *o, const char *path)
{
    if (o->uid >= 0 && chown(path, (uid_t)o->uid, (gid_t)o->gid) != 0) {
        lc_jnl_say(o, 1, "cannot give %s to the server's User: %s", path, strerror(errno));
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

int lc_jnl_read_file(apr_pool_t *p, const char *path, unsigned char **buf, apr_size_t *len)
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
apr_status_t lc_jnl_list_dir(apr_pool_t *p, const char *dir, apr_array_header_t **segs,
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
uint64_t lc_jnl_first_seq(apr_pool_t *p, const char *dir, uint32_t seg)
{
    unsigned char buf[LC_RECORD_MAX];
    lc_change_t c;
    apr_size_t len;
    int fd = open(lc_jnl_seg_path(p, dir, seg), O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0) {
        return 0;
    }
    n = pread(fd, buf, sizeof(buf), 0);
    close(fd);
    return (n > 0 && lc_record_decode(buf, (apr_size_t)n, &c, &len)) ? c.seq : 0;
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
int lc_jnl_write_snapshot(lc_store_t *st, int fd, uint64_t seq, uint32_t first_seg,
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

    if (lc_jnl_list_dir(p, j->dir, &segs, &snaps) != APR_SUCCESS || snaps->nelts < KEEP_SNAPSHOTS) {
        return;
    }
    for (i = 1; i < snaps->nelts; i++) {
        uint64_t seq = APR_ARRAY_IDX(snaps, i, uint64_t);
        if (lc_jnl_snap_intact(lc_jnl_snap_path(p, j->dir, seq), seq, &keep_from)) {
            break;
        }
    }
    if (i == snaps->nelts) {
        return;
    }
    for (k = i + 1; k < snaps->nelts; k++) {
        unlink(lc_jnl_snap_path(p, j->dir, APR_ARRAY_IDX(snaps, k, uint64_t)));
    }
    for (k = 0; k < segs->nelts; k++) {
        uint32_t seg = APR_ARRAY_IDX(segs, k, uint32_t);
        if (seg < keep_from) {
            unlink(lc_jnl_seg_path(p, j->dir, seg));
        }
        else {
            uint64_t first = lc_jnl_first_seq(p, j->dir, seg);
            if (first) {
                __atomic_store_n(&j->sh->oldest_seq, first, __ATOMIC_RELEASE);
            }
            break;
        }
    }
    lc_jnl_fsync_dir(j->dir);
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
    fd = open(lc_jnl_seg_path(p, j->dir, seg + 1), O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        rv = APR_FROM_OS_ERROR(errno);
        goto done;
    }
    close(fd);
    lc_jnl_fsync_dir(j->dir);
    __atomic_store_n(&sh->rot_seg, seg, __ATOMIC_RELEASE);
    if ((rv = lc_store_shm_rotate(j->st, &old, &last)) != APR_SUCCESS
        || (rv = flush(j)) != APR_SUCCESS) {
        goto done;
    }
    wake_waiters(sh);       /* its flush may have covered requests waiting in j_sync */
    __atomic_store_n(&sh->rot_seg, 0, __ATOMIC_RELEASE);
    /* 2. Copy the store (it may hold changes after `last`: replay skips them). */
    final = lc_jnl_snap_path(p, j->dir, last);
    tmp = apr_psprintf(p, "%s/snapshot.tmp.%u", j->dir, me);
    fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        rv = APR_FROM_OS_ERROR(errno);
        goto done;
    }
    if (lc_jnl_write_snapshot(j->st, fd, last, old + 1, p) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
        close(fd);
        unlink(tmp);
        goto done;
    }
    close(fd);
    if (rename(tmp, final) != 0 || lc_jnl_fsync_dir(j->dir) != 0) {
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
    if (since >= durable || lc_jnl_list_dir(p, j->dir, &segs, &snaps) != APR_SUCCESS) {
        return APR_SUCCESS;
    }
    /* The last segment whose first change is at or before since + 1. */
    for (i = 0; i < segs->nelts; i++) {
        uint64_t first = lc_jnl_first_seq(p, j->dir, APR_ARRAY_IDX(segs, i, uint32_t));
        if (first && first <= since + 1) {
            start = i;
        }
    }
    for (i = start < 0 ? 0 : start; i < segs->nelts && *n < max; i++) {
        unsigned char *b;
        apr_size_t len, off = 0, rl;
        const char *path = lc_jnl_seg_path(p, j->dir, APR_ARRAY_IDX(segs, i, uint32_t));
        if (lc_jnl_read_file(p, path, &b, &len) != 0) {
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
