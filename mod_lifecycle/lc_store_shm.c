/* lc_store_shm.c — resources in one shared-memory segment.
 *
 * Layout: header | buckets[nbuckets] | slots[capacity].
 *
 * - Lookup: SipHash (libsodium crypto_shorthash, random key per segment, so
 *   ids chosen by clients cannot flood one bucket) into chained buckets.
 * - Free slots form a list through `next`; creating pops, deleting pushes.
 * - Due queues: per class, a doubly linked list kept in due order, so the
 *   background task looks only at the heads, never scans the slots.
 * - Crash safety: every mutation runs under the global mutex and records in
 *   the header an undo log (old values of the words it changes, and the
 *   pre-image of the one slot it rewrites) before changing anything.  The
 *   mutation commits by clearing the log.  A process killed mid-mutation
 *   leaves the log non-empty; the next process to take the mutex (APR's
 *   robust pthread mutex hands it over) rolls the changes back.
 * - Reads (get) take no mutex: a sequence counter, odd while a mutation is
 *   in progress, tells a reader that its copy may be torn, and it retries;
 *   after a few failed tries (or a writer that died) it takes the mutex,
 *   which repairs first.  So a half-written slot is never seen, and GETs do
 *   not queue behind each other on the mutex.
 */
#include <string.h>
#include <signal.h>
#include <sodium.h>
#include <apr_strings.h>

#include "lc_store_shm.h"

#define LC_SHM_MAGIC   0x5453434cu  /* "LCST" */
#define LC_SHM_LAYOUT  2u          /* bump with every change to the structs below */
#define LC_UNDO_MAX    16
#define LC_SCAN_CHUNK  4096         /* slots examined per lock hold when listing */
#define LC_READ_TRIES  64           /* optimistic reads before taking the mutex */
#define LC_CHAIN_MAX   4096         /* a longer chain walk means a torn read */
#define NIL            0u           /* links are index + 1; 0 ends a list */

typedef struct lc_slot {
    uint32_t next;                  /* hash chain, or free list */
    uint32_t qprev, qnext;          /* due queue */
    uint8_t  kind, state, desired, res_state;
    uint8_t  res_desired, due_class, id_len, pad0;
    uint16_t data_len;
    uint16_t pad1;
    uint64_t version;
    uint64_t ckpt_seq;
    uint64_t seq;                   /* journal sequence of the last change */
    int64_t  created, state_since, closed, due;
    char     id[LC_ID_MAX];
    char     owner[LC_OWNER_MAX + 1];
    char     data[LC_DATA_MAX + 1];
} lc_slot_t;

_Static_assert(sizeof(lc_slot_t) == 512, "a slot is 512 bytes");

typedef struct lc_undo {
    uint32_t off;                   /* byte offset from the segment base */
    uint32_t width;                 /* 4 or 8; 0 = slot pre-image, `old` = index */
    uint64_t old;
} lc_undo_t;

typedef struct lc_shm_hdr {
    uint32_t  magic;
    uint32_t  layout;
    uint64_t  size;
    uint32_t  capacity;
    uint32_t  nbuckets;             /* a power of two */
    uint32_t  used;
    uint32_t  free_head;
    uint32_t  qhead[LC_DUE_CLASSES];
    uint32_t  qtail[LC_DUE_CLASSES];
    uint8_t   hash_key[crypto_shorthash_KEYBYTES];
    uint64_t  repairs;
    uint32_t  undo_n;               /* > 0: a mutation is in progress */
    uint32_t  jseg;                 /* journal: current segment number */
    uint64_t  gen;                  /* odd while a mutation is in progress */
    uint64_t  jseq;                 /* journal: last sequence number assigned */
    uint64_t  joff;                 /* journal: append offset in the segment */
    char      journal_area[LC_JOURNAL_AREA];   /* the journal's own shared words */
    uint64_t  lock_waits;           /* mutex acquisitions, and the time spent waiting */
    uint64_t  lock_wait_usec;
    char      metrics_area[LC_METRICS_AREA];   /* request counters (lc_metrics.c) */
    lc_undo_t undo[LC_UNDO_MAX];
    lc_slot_t undo_image;
} lc_shm_hdr_t;

typedef struct lc_shm {
    char               *base;
    lc_shm_hdr_t       *hdr;
    uint32_t           *buckets;
    lc_slot_t          *slots;
    apr_global_mutex_t *mutex;
    lc_journal_hook_t   journal;       /* append == NULL: memory only */
} lc_shm_t;

__thread int lc_store_shm_die_midwrite;

static apr_size_t hdr_size(void)
{
    return APR_ALIGN(sizeof(lc_shm_hdr_t), 64);
}

static uint32_t buckets_for(uint32_t capacity)
{
    uint32_t n = 64;
    while (n < capacity) {
        n <<= 1;
    }
    return n;
}

apr_size_t lc_store_shm_size(uint32_t capacity)
{
    return hdr_size()
         + APR_ALIGN((apr_size_t)buckets_for(capacity) * sizeof(uint32_t), 64)
         + (apr_size_t)capacity * sizeof(lc_slot_t);
}

static void bind_layout(lc_shm_t *s, void *base)
{
    s->base = base;
    s->hdr = base;
    s->buckets = (uint32_t *)(s->base + hdr_size());
    s->slots = (lc_slot_t *)(s->base + hdr_size()
               + APR_ALIGN((apr_size_t)s->hdr->nbuckets * sizeof(uint32_t), 64));
}

apr_status_t lc_store_shm_format(void *base, apr_size_t size, uint32_t capacity)
{
    lc_shm_t s;
    uint32_t i;

    if (capacity < LC_CAPACITY_MIN || capacity > LC_CAPACITY_MAX
        || size < lc_store_shm_size(capacity)) {
        return APR_EINVAL;
    }
    memset(base, 0, hdr_size());
    s.hdr = base;
    s.hdr->capacity = capacity;
    s.hdr->nbuckets = buckets_for(capacity);
    s.hdr->size = size;
    bind_layout(&s, base);
    memset(s.buckets, 0, (size_t)s.hdr->nbuckets * sizeof(uint32_t));
    memset(s.slots, 0, (size_t)capacity * sizeof(lc_slot_t));
    for (i = 0; i < capacity; i++) {
        s.slots[i].next = (i + 1 < capacity) ? i + 2 : NIL;
    }
    s.hdr->free_head = 1;
    randombytes_buf(s.hdr->hash_key, sizeof(s.hdr->hash_key));
    s.hdr->layout = LC_SHM_LAYOUT;
    __atomic_store_n(&s.hdr->magic, LC_SHM_MAGIC, __ATOMIC_RELEASE);
    return APR_SUCCESS;
}

apr_status_t lc_store_shm_check(const void *base, apr_size_t size)
{
    const lc_shm_hdr_t *h = base;

    if (h->magic != LC_SHM_MAGIC || h->layout != LC_SHM_LAYOUT
        || h->size != size || lc_store_shm_size(h->capacity) > size) {
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

uint32_t lc_store_shm_capacity(const void *base)
{
    return ((const lc_shm_hdr_t *)base)->capacity;
}

/* ---- the undo log ------------------------------------------------------ */

/* Make the log entry durable (in shared memory) before the change it covers. */
static void undo_push(lc_shm_t *s, uint32_t off, uint32_t width, uint64_t old)
{
    lc_shm_hdr_t *h = s->hdr;

    h->undo[h->undo_n].off = off;
    h->undo[h->undo_n].width = width;
    h->undo[h->undo_n].old = old;
    __atomic_store_n(&h->undo_n, h->undo_n + 1, __ATOMIC_RELEASE);
}

static void set32(lc_shm_t *s, uint32_t *word, uint32_t value)
{
    undo_push(s, (uint32_t)((char *)word - s->base), 4, *word);
    __atomic_store_n(word, value, __ATOMIC_RELEASE);
}

static void set64(lc_shm_t *s, uint64_t *word, uint64_t value)
{
    undo_push(s, (uint32_t)((char *)word - s->base), 8, *word);
    __atomic_store_n(word, value, __ATOMIC_RELEASE);
}

static void save_slot(lc_shm_t *s, uint32_t idx)
{
    memcpy(&s->hdr->undo_image, &s->slots[idx], sizeof(lc_slot_t));
    undo_push(s, 0, 0, idx);
}

/* Before the first change of a mutation: readers now retry. */
static void begin(lc_shm_t *s)
{
    __atomic_store_n(&s->hdr->gen, s->hdr->gen + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

static void commit(lc_shm_t *s)
{
    __atomic_store_n(&s->hdr->undo_n, 0, __ATOMIC_RELEASE);
    if (s->hdr->gen & 1) {
        __atomic_store_n(&s->hdr->gen, s->hdr->gen + 1, __ATOMIC_RELEASE);
    }
}

/* Undo every change the log records, newest first, and close the mutation. */
static void rollback(lc_shm_t *s)
{
    lc_shm_hdr_t *h = s->hdr;
    uint32_t k = h->undo_n;

    while (k-- > 0) {
        lc_undo_t *u = &h->undo[k];
        if (u->width == 0) {
            memcpy(&s->slots[u->old], &h->undo_image, sizeof(lc_slot_t));
        }
        else if (u->width == 8) {
            *(uint64_t *)(s->base + u->off) = u->old;
        }
        else {
            *(uint32_t *)(s->base + u->off) = (uint32_t)u->old;
        }
    }
    commit(s);
}

/* Roll back a mutation whose process died holding the mutex. */
static void repair(lc_shm_t *s)
{
    rollback(s);
    s->hdr->repairs++;
}

static apr_status_t lock(lc_shm_t *s)
{
    apr_time_t t0 = apr_time_now();
    apr_status_t rv = apr_global_mutex_lock(s->mutex);

    /* Under the mutex now: plain adds are safe. */
    s->hdr->lock_waits++;
    s->hdr->lock_wait_usec += (uint64_t)(apr_time_now() - t0);

    /* A holder died mid-mutation: its log is not empty, or it had emptied
     * the log but not yet closed the sequence. */
    if (rv == APR_SUCCESS && (s->hdr->undo_n || (s->hdr->gen & 1))) {
        repair(s);
    }
    return rv;
}

static void unlock(lc_shm_t *s)
{
    apr_global_mutex_unlock(s->mutex);
}

/* ---- index ------------------------------------------------------------- */

static uint32_t *bucket_of(lc_shm_t *s, lc_kind_e kind, const char *id, size_t len)
{
    unsigned char in[1 + LC_ID_MAX], out[crypto_shorthash_BYTES];
    uint64_t h;

    in[0] = (unsigned char)kind;
    memcpy(in + 1, id, len);
    crypto_shorthash(out, in, len + 1, s->hdr->hash_key);
    memcpy(&h, out, sizeof(h));
    return &s->buckets[h & (s->hdr->nbuckets - 1)];
}

/* The link that points at (kind, id): a bucket head or a slot's `next`.
 * Returns NULL when absent; *link then is the bucket head. */
static uint32_t *find_link(lc_shm_t *s, lc_kind_e kind, const char *id,
                           uint32_t **bucket)
{
    size_t len = strlen(id);
    uint32_t *link = bucket_of(s, kind, id, len);

    *bucket = link;
    while (*link != NIL) {
        lc_slot_t *sl = &s->slots[*link - 1];
        if (sl->kind == kind && sl->id_len == len && memcmp(sl->id, id, len) == 0) {
            return link;
        }
        link = &sl->next;
    }
    return NULL;
}

static int valid_key(lc_kind_e kind, const char *id)
{
    size_t len = id ? strlen(id) : 0;
    return kind > LC_KIND_NONE && kind < LC_KIND_COUNT && len > 0 && len <= LC_ID_MAX;
}

/* ---- slot <-> record ---------------------------------------------------- */

static void slot_to_record(const lc_slot_t *sl, lc_resource_t *r)
{
    memset(r, 0, sizeof(*r));
    r->kind = sl->kind;
    r->state = sl->state;
    r->desired = sl->desired;
    r->res_state = sl->res_state;
    r->res_desired = sl->res_desired;
    r->due_class = sl->due_class;
    r->version = sl->version;
    r->seq = sl->seq;
    r->ckpt_seq = sl->ckpt_seq;
    r->created = sl->created;
    r->state_since = sl->state_since;
    r->closed = sl->closed;
    r->due = sl->due;
    memcpy(r->id, sl->id, sl->id_len);
    memcpy(r->owner, sl->owner, sizeof(sl->owner));
    memcpy(r->data, sl->data, sl->data_len);
}

/* Writes the record fields of a slot saved with save_slot(); links are the
 * caller's business.  Fault injection stops here, halfway through. */
static void record_to_slot(const lc_resource_t *r, lc_slot_t *sl)
{
    sl->kind = r->kind;
    sl->state = r->state;
    sl->desired = r->desired;
    sl->res_state = r->res_state;
    sl->res_desired = r->res_desired;
    sl->version = r->version;
    sl->seq = r->seq;
    sl->ckpt_seq = r->ckpt_seq;
    if (lc_store_shm_die_midwrite) {
        raise(SIGKILL);
    }
    sl->created = r->created;
    sl->state_since = r->state_since;
    sl->closed = r->closed;
    sl->id_len = (uint8_t)strnlen(r->id, LC_ID_MAX);
    memcpy(sl->id, r->id, sl->id_len);
    memcpy(sl->owner, r->owner, sizeof(sl->owner));
    sl->owner[LC_OWNER_MAX] = '\0';
    sl->data_len = (uint16_t)strnlen(r->data, LC_DATA_MAX);
    memcpy(sl->data, r->data, sl->data_len);
    sl->data[sl->data_len] = '\0';
}

/* ---- due queues ---------------------------------------------------------- */

static void queue_unlink(lc_shm_t *s, uint32_t idx)
{
    lc_slot_t *sl = &s->slots[idx];
    unsigned c = sl->due_class;

    if (c == LC_DUE_NONE) {
        return;
    }
    set32(s, sl->qprev ? &s->slots[sl->qprev - 1].qnext : &s->hdr->qhead[c], sl->qnext);
    set32(s, sl->qnext ? &s->slots[sl->qnext - 1].qprev : &s->hdr->qtail[c], sl->qprev);
    set32(s, &sl->qprev, NIL);
    set32(s, &sl->qnext, NIL);
}

/* Insert in due order, searching from the tail: most entries are newest. */
static void queue_insert(lc_shm_t *s, uint32_t idx, unsigned c, apr_time_t due)
{
    uint32_t after = s->hdr->qtail[c];
    uint32_t before;

    while (after != NIL && s->slots[after - 1].due > due) {
        after = s->slots[after - 1].qprev;
    }
    before = after ? s->slots[after - 1].qnext : s->hdr->qhead[c];
    set32(s, &s->slots[idx].qprev, after);
    set32(s, &s->slots[idx].qnext, before);
    set32(s, after ? &s->slots[after - 1].qnext : &s->hdr->qhead[c], idx + 1);
    set32(s, before ? &s->slots[before - 1].qprev : &s->hdr->qtail[c], idx + 1);
}

/* Rewrite slot idx with r, moving it between due queues as needed. */
static void write_slot(lc_shm_t *s, uint32_t idx, const lc_resource_t *r)
{
    lc_slot_t *sl = &s->slots[idx];
    unsigned c = (r->due && r->due_class < LC_DUE_CLASSES) ? r->due_class : LC_DUE_NONE;
    int requeue = (c != sl->due_class || (c != LC_DUE_NONE && sl->due != r->due));

    if (requeue) {
        queue_unlink(s, idx);
    }
    save_slot(s, idx);
    record_to_slot(r, sl);
    sl->due = c ? r->due : 0;
    if (requeue) {
        sl->due_class = (uint8_t)c;
        if (c != LC_DUE_NONE) {
            queue_insert(s, idx, c, r->due);
        }
    }
}

/* ---- journal -------------------------------------------------------------- */

/* Mutex held, mutation begun: number the change r (already written to its
 * slot with r->seq = jseq + 1) and hand it to the journal.  A failed append
 * rolls the whole mutation back, so memory never gets ahead of the disk. */
static apr_status_t journal_change(lc_shm_t *s, const lc_resource_t *r, int op)
{
    uint64_t len = 0;
    apr_status_t rv;

    if (s->journal.append) {
        rv = s->journal.append(s->journal.ctx, s->hdr->jseg, s->hdr->joff, r->seq, op, r, &len);
        if (rv != APR_SUCCESS) {
            rollback(s);
            return rv;
        }
    }
    set64(s, &s->hdr->jseq, r->seq);
    set64(s, &s->hdr->joff, s->hdr->joff + len);
    return APR_SUCCESS;
}

/* Mutex released: wait until the change numbered seq is durable. */
static apr_status_t journal_sync(lc_shm_t *s, uint64_t seq)
{
    return s->journal.sync ? s->journal.sync(s->journal.ctx, seq) : APR_SUCCESS;
}

/* ---- operations ------------------------------------------------------------ */

/* One optimistic lookup: 1 = found (copied to *out), 0 = absent, -1 = torn. */
static int read_once(lc_shm_t *s, lc_kind_e kind, const char *id, size_t len,
                     lc_slot_t *out)
{
    uint64_t gen = __atomic_load_n(&s->hdr->gen, __ATOMIC_ACQUIRE);
    uint32_t i = __atomic_load_n(bucket_of(s, kind, id, len), __ATOMIC_RELAXED);
    int steps = 0, found = 0;

    if (gen & 1) {
        return -1;
    }
    while (i != NIL && i <= s->hdr->capacity && steps++ < LC_CHAIN_MAX) {
        const lc_slot_t *sl = &s->slots[i - 1];
        if (sl->kind == kind && sl->id_len == len && memcmp(sl->id, id, len) == 0) {
            memcpy(out, sl, sizeof(*out));
            found = 1;
            break;
        }
        i = __atomic_load_n(&sl->next, __ATOMIC_RELAXED);
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&s->hdr->gen, __ATOMIC_RELAXED) != gen
        || (!found && i != NIL)) {
        return -1;
    }
    return found;
}

static apr_status_t shm_get(lc_store_t *st, lc_kind_e kind, const char *id,
                            lc_resource_t *out)
{
    lc_shm_t *s = st->impl;
    uint32_t *bucket, *link;
    lc_slot_t copy;
    apr_status_t rv;
    int tries;

    if (!valid_key(kind, id)) {
        return LC_ENOTFOUND;
    }
    for (tries = 0; tries < LC_READ_TRIES; tries++) {
        int got = read_once(s, kind, id, strlen(id), &copy);
        if (got >= 0) {
            if (got) {
                slot_to_record(&copy, out);
            }
            return got ? APR_SUCCESS : LC_ENOTFOUND;
        }
    }
    if ((rv = lock(s)) != APR_SUCCESS) {
        return rv;
    }
    link = find_link(s, kind, id, &bucket);
    if (link) {
        slot_to_record(&s->slots[*link - 1], out);
    }
    unlock(s);
    return link ? APR_SUCCESS : LC_ENOTFOUND;
}

static apr_status_t create_locked(lc_shm_t *s, uint32_t *bucket, const lc_resource_t *r)
{
    uint32_t idx;

    if (s->hdr->free_head == NIL) {
        return LC_EFULL;
    }
    idx = s->hdr->free_head - 1;
    set32(s, &s->hdr->free_head, s->slots[idx].next);
    write_slot(s, idx, r);
    set32(s, &s->slots[idx].next, *bucket);
    set32(s, bucket, idx + 1);
    set32(s, &s->hdr->used, s->hdr->used + 1);
    return APR_SUCCESS;
}

/* Unlink the slot *link points at from its chain and due queue, and free it. */
static void delete_locked(lc_shm_t *s, uint32_t *link)
{
    uint32_t idx = *link - 1;

    queue_unlink(s, idx);
    set32(s, link, s->slots[idx].next);
    save_slot(s, idx);
    memset(&s->slots[idx], 0, sizeof(lc_slot_t));
    s->slots[idx].next = s->hdr->free_head;
    set32(s, &s->hdr->free_head, idx + 1);
    set32(s, &s->hdr->used, s->hdr->used - 1);
}

static apr_status_t shm_update(lc_store_t *st, lc_kind_e kind, const char *id,
                               lc_store_update_fn *fn, void *baton, lc_resource_t *out)
{
    lc_shm_t *s = st->impl;
    uint32_t *bucket, *link;
    lc_resource_t r;
    uint64_t version;
    apr_status_t rv;

    if (!valid_key(kind, id)) {
        return APR_EINVAL;
    }
    if ((rv = lock(s)) != APR_SUCCESS) {
        return rv;
    }
    link = find_link(s, kind, id, &bucket);
    if (link) {
        slot_to_record(&s->slots[*link - 1], &r);
    }
    else {
        memset(&r, 0, sizeof(r));
        r.kind = (uint8_t)kind;
        apr_cpystrn(r.id, id, sizeof(r.id));
    }
    version = r.version;
    r.op = LC_OP_NONE;
    rv = fn(&r, link != NULL, baton);
    if (rv == APR_SUCCESS) {
        r.kind = (uint8_t)kind;          /* the key is not the callback's to change */
        apr_cpystrn(r.id, id, sizeof(r.id));
        r.version = version + 1;
        r.seq = s->hdr->jseq + 1;
        r.op = !link ? LC_OP_CREATE : r.op ? r.op : LC_OP_REPLACE;
        begin(s);
        if (link) {
            write_slot(s, *link - 1, &r);
        }
        else {
            rv = create_locked(s, bucket, &r);
        }
        if (rv == APR_SUCCESS) {
            rv = journal_change(s, &r, r.op);
        }
        commit(s);
    }
    unlock(s);
    if (rv == APR_SUCCESS) {
        rv = journal_sync(s, r.seq);
    }
    if (out && (rv == APR_SUCCESS || rv == LC_NOCHANGE || link)) {
        *out = r;
    }
    return rv;
}

static apr_status_t shm_remove(lc_store_t *st, lc_kind_e kind, const char *id,
                               uint64_t expect_version, lc_resource_t *out)
{
    lc_shm_t *s = st->impl;
    uint32_t *bucket, *link, idx;
    lc_resource_t gone;
    apr_status_t rv;

    if (!valid_key(kind, id)) {
        return LC_ENOTFOUND;
    }
    if ((rv = lock(s)) != APR_SUCCESS) {
        return rv;
    }
    link = find_link(s, kind, id, &bucket);
    if (!link) {
        rv = LC_ENOTFOUND;
    }
    else if (expect_version && s->slots[*link - 1].version != expect_version) {
        rv = LC_EVERSION;
    }
    else {
        idx = *link - 1;
        slot_to_record(&s->slots[idx], &gone);
        gone.seq = s->hdr->jseq + 1;
        gone.op = LC_OP_DELETE;
        begin(s);
        delete_locked(s, link);
        rv = journal_change(s, &gone, LC_OP_DELETE);
        commit(s);
    }
    unlock(s);
    if (rv == APR_SUCCESS) {
        rv = journal_sync(s, gone.seq);
    }
    if (out && rv == APR_SUCCESS) {
        *out = gone;
    }
    return rv;
}

/* Keep out[0..*n) sorted by id, at most `limit` entries; *more counts drops. */
static void keep_smallest(const lc_slot_t *sl, lc_resource_t *out, int limit,
                          int *n, int *more)
{
    char id[LC_ID_MAX + 1];
    int pos;

    memcpy(id, sl->id, sl->id_len);
    id[sl->id_len] = '\0';
    if (*n == limit && strcmp(id, out[limit - 1].id) > 0) {
        *more = 1;
        return;
    }
    if (*n == limit) {
        *more = 1;
        (*n)--;
    }
    for (pos = *n; pos > 0 && strcmp(id, out[pos - 1].id) < 0; pos--) {
        out[pos] = out[pos - 1];
    }
    slot_to_record(sl, &out[pos]);
    (*n)++;
}

static apr_status_t shm_list(lc_store_t *st, lc_kind_e kind, int state,
                             const char *after, int limit, lc_resource_t *out,
                             int *n, int *more)
{
    lc_shm_t *s = st->impl;
    uint32_t i = 0, cap = s->hdr->capacity, end;
    char id[LC_ID_MAX + 1];
    apr_status_t rv;

    *n = 0;
    *more = 0;
    if (limit <= 0) {
        return APR_EINVAL;
    }
    /* Chunked so that a long scan never holds the mutex for long. */
    while (i < cap) {
        if ((rv = lock(s)) != APR_SUCCESS) {
            return rv;
        }
        for (end = i + LC_SCAN_CHUNK > cap ? cap : i + LC_SCAN_CHUNK; i < end; i++) {
            const lc_slot_t *sl = &s->slots[i];
            if (sl->kind != kind || (state >= 0 && sl->state != state)) {
                continue;
            }
            memcpy(id, sl->id, sl->id_len);
            id[sl->id_len] = '\0';
            if (after && strcmp(id, after) <= 0) {
                continue;
            }
            keep_smallest(sl, out, limit, n, more);
        }
        unlock(s);
    }
    return APR_SUCCESS;
}

/* The oldest head among the due queues, or NIL. */
static uint32_t earliest_due(lc_shm_t *s, apr_time_t now)
{
    uint32_t best = NIL;
    unsigned c;

    for (c = 1; c < LC_DUE_CLASSES; c++) {
        uint32_t h = __atomic_load_n(&s->hdr->qhead[c], __ATOMIC_ACQUIRE);
        if (h && s->slots[h - 1].due <= now
            && (best == NIL || s->slots[h - 1].due < s->slots[best - 1].due)) {
            best = h;
        }
    }
    return best;
}

static apr_status_t shm_take_due(lc_store_t *st, apr_time_t now, int max,
                                 lc_store_update_fn *fn, void *baton,
                                 lc_store_each_fn *done, void *done_baton)
{
    lc_shm_t *s = st->impl;
    uint64_t last = 0;
    apr_status_t rv;
    uint32_t h;
    int k;

    /* Every child ticks; most ticks find nothing due.  Peek without the
     * mutex first: a stale read costs one useless lock or one tick's delay. */
    if (earliest_due(s, now) == NIL) {
        return APR_SUCCESS;
    }
    if ((rv = lock(s)) != APR_SUCCESS) {
        return rv;
    }
    for (k = 0; k < max && (h = earliest_due(s, now)) != NIL; k++) {
        lc_resource_t r;
        uint64_t version;
        int moved;

        slot_to_record(&s->slots[h - 1], &r);
        version = r.version;
        r.op = LC_OP_TRANSITION;
        moved = fn(&r, 1, baton) == APR_SUCCESS;
        if (moved) {
            r.version = version + 1;
            r.seq = s->hdr->jseq + 1;
        }
        else {
            /* Nothing to do after all: just take it off the queue. */
            slot_to_record(&s->slots[h - 1], &r);
            r.due = 0;
        }
        begin(s);
        write_slot(s, h - 1, &r);
        if (moved && (rv = journal_change(s, &r, LC_OP_TRANSITION)) != APR_SUCCESS) {
            break;                       /* rolled back; retried next tick */
        }
        commit(s);
        if (moved) {
            last = r.seq;
            if (done) {
                done(&r, done_baton);
            }
        }
    }
    unlock(s);
    return last ? journal_sync(s, last) : rv;
}

static void shm_stats(lc_store_t *st, lc_store_stats_t *out)
{
    lc_shm_t *s = st->impl;

    out->capacity = s->hdr->capacity;
    out->used = __atomic_load_n(&s->hdr->used, __ATOMIC_RELAXED);
    out->repairs = __atomic_load_n(&s->hdr->repairs, __ATOMIC_RELAXED);
    out->lock_waits = __atomic_load_n(&s->hdr->lock_waits, __ATOMIC_RELAXED);
    out->lock_wait_usec = __atomic_load_n(&s->hdr->lock_wait_usec, __ATOMIC_RELAXED);
}

/* ---- journal support -------------------------------------------------------- */

void lc_store_shm_set_journal(lc_store_t *st, const lc_journal_hook_t *hook)
{
    lc_shm_t *s = st->impl;

    if (hook) {
        s->journal = *hook;
    }
    else {
        memset(&s->journal, 0, sizeof(s->journal));
    }
}

void *lc_store_shm_metrics_area(lc_store_t *st)
{
    return ((lc_shm_t *)st->impl)->hdr->metrics_area;
}

void *lc_store_shm_journal_area(lc_store_t *st)
{
    return ((lc_shm_t *)st->impl)->hdr->journal_area;
}

void lc_store_shm_journal_pos(lc_store_t *st, uint32_t *seg, uint64_t *off, uint64_t *seq)
{
    lc_shm_t *s = st->impl;

    *seg = __atomic_load_n(&s->hdr->jseg, __ATOMIC_ACQUIRE);
    *off = __atomic_load_n(&s->hdr->joff, __ATOMIC_ACQUIRE);
    *seq = __atomic_load_n(&s->hdr->jseq, __ATOMIC_ACQUIRE);
}

void lc_store_shm_journal_set(lc_store_t *st, uint32_t seg, uint64_t off, uint64_t seq)
{
    lc_shm_t *s = st->impl;

    s->hdr->jseg = seg;
    s->hdr->joff = off;
    s->hdr->jseq = seq;
}

apr_status_t lc_store_shm_rotate(lc_store_t *st, uint32_t *seg, uint64_t *last_seq)
{
    lc_shm_t *s = st->impl;
    apr_status_t rv;

    if ((rv = lock(s)) != APR_SUCCESS) {
        return rv;
    }
    *seg = s->hdr->jseg;
    *last_seq = s->hdr->jseq;
    begin(s);
    set32(s, &s->hdr->jseg, s->hdr->jseg + 1);
    set64(s, &s->hdr->joff, 0);
    commit(s);
    unlock(s);
    return APR_SUCCESS;
}

apr_status_t lc_store_shm_restore(lc_store_t *st, int op, const lc_resource_t *r)
{
    lc_shm_t *s = st->impl;
    uint32_t *bucket, *link;
    apr_status_t rv = APR_SUCCESS;

    if (!valid_key((lc_kind_e)r->kind, r->id)) {
        return APR_EINVAL;
    }
    if ((rv = lock(s)) != APR_SUCCESS) {
        return rv;
    }
    link = find_link(s, (lc_kind_e)r->kind, r->id, &bucket);
    begin(s);
    if (link && s->slots[*link - 1].seq >= r->seq) {
        /* what is stored is newer: keep it */
    }
    else if (op == LC_OP_DELETE) {
        if (link) {
            delete_locked(s, link);
        }
    }
    else if (link) {
        write_slot(s, *link - 1, r);
    }
    else {
        rv = create_locked(s, bucket, r);
    }
    if (rv == APR_SUCCESS && r->seq > s->hdr->jseq) {
        set64(s, &s->hdr->jseq, r->seq);
    }
    commit(s);
    unlock(s);
    return rv;
}

apr_status_t lc_store_shm_scan(lc_store_t *st, uint32_t *cursor, lc_resource_t *out,
                               int max, int *n)
{
    lc_shm_t *s = st->impl;
    uint32_t cap = s->hdr->capacity;
    apr_status_t rv;

    *n = 0;
    if ((rv = lock(s)) != APR_SUCCESS) {
        return rv;
    }
    for (; *cursor < cap && *n < max; (*cursor)++) {
        if (s->slots[*cursor].kind != LC_KIND_NONE) {
            slot_to_record(&s->slots[*cursor], &out[(*n)++]);
        }
    }
    unlock(s);
    return APR_SUCCESS;
}

static const lc_store_ops_t shm_ops = {
    shm_get, shm_update, shm_remove, shm_list, shm_take_due, shm_stats
};

lc_store_t *lc_store_shm_open(apr_pool_t *p, void *base, apr_global_mutex_t *mutex)
{
    lc_store_t *st = apr_pcalloc(p, sizeof(*st));
    lc_shm_t *s = apr_pcalloc(p, sizeof(*s));

    bind_layout(s, base);
    s->mutex = mutex;
    st->ops = &shm_ops;
    st->impl = s;
    return st;
}
