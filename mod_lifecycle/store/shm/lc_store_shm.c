/* lc_store_shm.c — resources in one shared-memory segment.
 *
 * Layout: header | buckets[nbuckets] | alias buckets[nbuckets] |
 *         slots[capacity] | heap | guard.
 *
 * - Lookup: SipHash (libsodium crypto_shorthash, random key per segment, so
 *   ids chosen by clients cannot flood one bucket) into chained buckets.
 *   Aliases have their own buckets, chained through the slots' `anext`.
 * - A slot holds the fixed fields; a heap block holds the strings.  Blocks
 *   come in size classes (32 B .. 24 KiB) with a free list each, carved from
 *   the heap's untouched end as needed (once it is used up, a free block of
 *   a larger class serves); a rewrite writes a new block, points the slot
 *   at it, and frees the old one, all in one undo-logged mutation.
 * - Free slots form a list through `next`; creating pops, deleting pushes.
 * - Due queues: per class, a doubly linked list kept in due order, so the
 *   background task looks only at the heads, never scans the slots.
 * - Crash safety: every mutation runs under the global mutex and records in
 *   the header an undo log (old values of the words it changes, and the
 *   pre-image of the one slot it rewrites; allocator words and free-list
 *   links are words like any other) before changing anything.  The
 *   mutation commits by clearing the log.  A process killed mid-mutation
 *   leaves the log non-empty; the kernel releases its lock (flock, the
 *   default, or APR's robust pthread mutex), and the next process to take
 *   the mutex rolls the changes back.
 * - The journal's ring (lc_journal_ring.c) follows the heap's guard: a
 *   mutation copies its record there, and the ring's head (`jring`) is an
 *   undo-logged word like `jseq` and `joff`, so a record becomes visible to
 *   the flusher exactly when its mutation commits (lc_store_shm_journal_pos
 *   reads the committed words, as a reader reads a slot).
 * - Reads (get) take no mutex: a sequence counter, odd while a mutation is
 *   in progress, tells a reader that its copy may be torn, and it retries;
 *   after a few failed tries (or a writer that died) it takes the mutex,
 *   which repairs first.  So a half-written slot is never seen, and GETs do
 *   not queue behind each other on the mutex.
 */
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sched.h>
#include <unistd.h>
#include <sodium.h>
#include <apr_strings.h>
#include <apr_shm.h>

#include "lc_store_shm.h"
#include "lc_shm_pages.h"
#include "lc_shm_gate.h"

#define LC_SHM_MAGIC   0x5453434cu  /* "LCST" */
#define LC_SHM_LAYOUT  7u          /* bump with every change to the structs below */
#define LC_UNDO_MAX    64
#define LC_SCAN_CHUNK  4096         /* slots examined per lock hold when listing */
#define LC_READ_TRIES  64           /* optimistic reads before taking the mutex */
#define LC_CHAIN_MAX   4096         /* a longer chain walk means a torn read */
#define NIL            0u           /* links are index + 1; 0 ends a list */
#define HEAP_UNIT      8            /* heap references count 8-byte units */

/* The hot, fixed part of a resource.  Its strings (id, owner, aliases,
 * attributes) live in one heap block, in that order, without NULs; `blob`
 * points at it and the lengths say where each one starts. */
typedef struct lc_slot {
    uint32_t next;                  /* id hash chain, or free list */
    uint32_t anext[LC_ALIASES];     /* alias hash chains */
    uint32_t qprev, qnext;          /* due queue */
    uint32_t blob;                  /* heap block reference, NIL = none */
    uint32_t tag;                   /* id hash bits: most chain misses skip the heap */
    uint8_t  kind, state, desired, res_state;
    uint8_t  res_desired, due_class, id_len, owner_len;
    uint8_t  alias_len[LC_ALIASES];
    uint16_t data_len;
    uint64_t version;
    uint64_t ckpt_seq;
    uint64_t seq;                   /* journal sequence of the last change */
    int64_t  created, state_since, closed, due;
} lc_slot_t;

_Static_assert(sizeof(lc_slot_t) == 96, "a slot is 96 bytes");
_Static_assert(LC_ALIASES == 2 && LC_ALIAS_MAX <= 255 && LC_ID_MAX <= 255
               && LC_DATA_MAX <= 65535, "the slot's length fields hold the limits");

/* A heap block's header; `cls` never changes once the block is carved out. */
typedef struct lc_block {
    uint32_t cls;
    uint32_t next;                  /* free list, while free */
} lc_block_t;

#define TEXT_MAX (LC_ID_MAX + LC_OWNER_MAX + LC_ALIASES * LC_ALIAS_MAX + LC_DATA_MAX)

typedef struct lc_undo {
    uint64_t off;                   /* byte offset from the segment base */
    uint32_t width;                 /* 4 or 8; 0 = slot pre-image, `old` = index */
    uint32_t pad;
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
    uint64_t  jring;                /* journal: bytes ever put in the ring (its head) */
    char      journal_area[LC_JOURNAL_AREA];   /* the journal's own shared words */
    uint64_t  lock_waits;           /* mutex acquisitions, and the time spent waiting */
    uint64_t  lock_wait_usec;
    uint64_t  lock_hold_usec;       /* time the mutex was held */
    int64_t   lock_since;           /* when the holder took it */
    /* In front of the mutex (lc_shm_gate.c), alone on its cache line
     * wherever the segment starts (every would-be holder spins on it): the
     * segment's base is only 8-byte aligned (APR's shm keeps its size in
     * front of it). */
    char      gate_before[56];
    lc_shm_gate_t gate;
    char      gate_after[56];
    char      metrics_area[LC_METRICS_AREA];   /* request counters (lc_metrics.c) */
    uint64_t  heap_size;            /* bytes of attribute heap */
    uint64_t  heap_top;             /* bytes carved into blocks so far */
    uint32_t  heap_free[LC_HEAP_CLASSES];      /* free list heads */
    uint32_t  heap_nfree[LC_HEAP_CLASSES];
    uint32_t  heap_nused[LC_HEAP_CLASSES];
    lc_undo_t undo[LC_UNDO_MAX];
    lc_slot_t undo_image;
} lc_shm_hdr_t;

typedef struct lc_shm {
    char               *base;
    lc_shm_hdr_t       *hdr;
    uint32_t           *buckets;
    uint32_t           *abuckets;      /* the alias index */
    lc_slot_t          *slots;
    char               *heap;
    apr_global_mutex_t *mutex;
    lc_journal_hook_t   journal;       /* append == NULL: memory only */
    lc_shm_ahead_t     *ahead;         /* mapping the heap ahead of a replay */
} lc_shm_t;

__thread int lc_store_die_midwrite;

/* Block sizes, header included: 32, 48, 64, 96, ... 16384, 24576 (steps of
 * 1.5x and 1.33x), so a block wastes a quarter of itself at most on average. */
static uint32_t class_size(unsigned c)
{
    return (c & 1 ? 48u : 32u) << (c / 2);
}

_Static_assert((48u << ((LC_HEAP_CLASSES - 1) / 2)) >= sizeof(lc_block_t) + TEXT_MAX,
               "the largest class holds the largest resource");

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

static apr_size_t index_size(uint32_t nbuckets)
{
    return APR_ALIGN((apr_size_t)nbuckets * sizeof(uint32_t), 64);
}

apr_size_t lc_store_shm_default_heap(uint32_t capacity)
{
    apr_size_t heap = (apr_size_t)capacity * LC_HEAP_PER_SLOT;

    return heap < ((apr_size_t)4 << 20) ? (apr_size_t)4 << 20 : heap;
}

/* Where the journal's ring starts: after the heap's guard. */
static apr_size_t ring_offset(uint32_t capacity, apr_size_t heap)
{
    return hdr_size() + 2 * index_size(buckets_for(capacity))
         + APR_ALIGN((apr_size_t)capacity * sizeof(lc_slot_t), 64) + APR_ALIGN(heap, 64)
         + APR_ALIGN(TEXT_MAX, 64);
}

apr_size_t lc_store_shm_size(uint32_t capacity, apr_size_t heap)
{
    /* After the heap, TEXT_MAX bytes never handed out: an optimistic reader
     * comparing a key against a block that changes under it stays inside
     * the segment whatever lengths it read. */
    return ring_offset(capacity, heap) + LC_JRING_BYTES;
}

static void bind_layout(lc_shm_t *s, void *base)
{
    apr_size_t index = index_size(((lc_shm_hdr_t *)base)->nbuckets);

    s->base = base;
    s->hdr = base;
    s->buckets = (uint32_t *)(s->base + hdr_size());
    s->abuckets = (uint32_t *)(s->base + hdr_size() + index);
    s->slots = (lc_slot_t *)(s->base + hdr_size() + 2 * index);
    s->heap = (char *)s->slots + APR_ALIGN((apr_size_t)s->hdr->capacity * sizeof(lc_slot_t), 64);
}

apr_status_t lc_store_shm_format(void *base, apr_size_t size, uint32_t capacity,
                                 apr_size_t heap)
{
    lc_shm_t s;
    uint32_t i;

    if (capacity < LC_CAPACITY_MIN || capacity > LC_CAPACITY_MAX
        || heap < LC_HEAP_MIN || heap > LC_HEAP_MAX
        || size < lc_store_shm_size(capacity, heap)) {
        return APR_EINVAL;
    }
    memset(base, 0, hdr_size());
    s.hdr = base;
    s.hdr->capacity = capacity;
    s.hdr->nbuckets = buckets_for(capacity);
    s.hdr->size = size;
    s.hdr->heap_size = APR_ALIGN(heap, 64);
    bind_layout(&s, base);
    memset(s.buckets, 0, 2 * index_size(s.hdr->nbuckets));
    memset(s.slots, 0, (size_t)capacity * sizeof(lc_slot_t));
    for (i = 0; i < capacity; i++) {
        s.slots[i].next = (i + 1 < capacity) ? i + 2 : NIL;
    }
    /* The heap is not touched: blocks are carved from it as they are needed. */
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
        || h->size != size || lc_store_shm_size(h->capacity, h->heap_size) > size) {
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

uint32_t lc_store_shm_capacity(const void *base)
{
    return ((const lc_shm_hdr_t *)base)->capacity;
}

apr_size_t lc_store_shm_heap(const void *base)
{
    return (apr_size_t)((const lc_shm_hdr_t *)base)->heap_size;
}

/* ---- the undo log ------------------------------------------------------ */

/* Make the log entry durable (in shared memory) before the change it covers. */
static void undo_push(lc_shm_t *s, uint64_t off, uint32_t width, uint64_t old)
{
    lc_shm_hdr_t *h = s->hdr;

    if (h->undo_n >= LC_UNDO_MAX) {
        abort();                    /* a mutation larger than the log: a bug */
    }
    h->undo[h->undo_n].off = off;
    h->undo[h->undo_n].width = width;
    h->undo[h->undo_n].old = old;
    __atomic_store_n(&h->undo_n, h->undo_n + 1, __ATOMIC_RELEASE);
}

static void set32(lc_shm_t *s, uint32_t *word, uint32_t value)
{
    undo_push(s, (uint64_t)((char *)word - s->base), 4, *word);
    __atomic_store_n(word, value, __ATOMIC_RELEASE);
}

static void set64(lc_shm_t *s, uint64_t *word, uint64_t value)
{
    undo_push(s, (uint64_t)((char *)word - s->base), 8, *word);
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

/* Undo every change the log records, newest first, and close the mutation.
 * Heap blocks need no pre-image: a mutation only writes blocks it took off
 * a free list or carved anew, which the restored allocator words free again. */
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

/* The gate first, then the mutex: the mutex excludes, the gate keeps all
 * but one thread off it (lc_shm_gate.c says why). */
static apr_status_t lock(lc_shm_t *s)
{
    apr_time_t t0 = apr_time_now();
    apr_status_t rv;

    lc_shm_gate_enter(&s->hdr->gate);
    if ((rv = apr_global_mutex_lock(s->mutex)) != APR_SUCCESS) {
        lc_shm_gate_leave(&s->hdr->gate);
        return rv;
    }
    /* Under the mutex now: plain adds are safe. */
    s->hdr->lock_waits++;
    s->hdr->lock_since = apr_time_now();
    s->hdr->lock_wait_usec += (uint64_t)(s->hdr->lock_since - t0);

    /* A holder died mid-mutation: its log is not empty, or it had emptied
     * the log but not yet closed the sequence. */
    if (s->hdr->undo_n || (s->hdr->gen & 1)) {
        repair(s);
    }
    return APR_SUCCESS;
}

static void unlock(lc_shm_t *s)
{
    s->hdr->lock_hold_usec += (uint64_t)(apr_time_now() - s->hdr->lock_since);
    apr_global_mutex_unlock(s->mutex);
    lc_shm_gate_leave(&s->hdr->gate);
}

/* ---- the attribute heap -------------------------------------------------- */

static lc_block_t *block_at(lc_shm_t *s, uint32_t ref)
{
    return (lc_block_t *)(s->heap + (apr_size_t)(ref - 1) * HEAP_UNIT);
}

/* The slot's strings, or NULL when its lengths or reference point outside
 * the heap (a torn optimistic read: the caller retries). */
static const char *slot_text(lc_shm_t *s, const lc_slot_t *sl)
{
    uint64_t len = (uint64_t)sl->id_len + sl->owner_len + sl->alias_len[0]
                 + sl->alias_len[1] + sl->data_len;
    uint64_t off = (uint64_t)(sl->blob - 1) * HEAP_UNIT + sizeof(lc_block_t);

    if (sl->blob == NIL || off + len > s->hdr->heap_size) {
        return NULL;
    }
    return s->heap + off;
}

/* Take the head of class c's free list. */
static uint32_t heap_pop(lc_shm_t *s, unsigned c)
{
    lc_shm_hdr_t *h = s->hdr;
    uint32_t ref = h->heap_free[c];

    /* The block's own `next` is left alone: a rollback relinks it as it was. */
    set32(s, &h->heap_free[c], block_at(s, ref)->next);
    set32(s, &h->heap_nfree[c], h->heap_nfree[c] - 1);
    return ref;
}

/* A block for `len` bytes of strings: reused from its class's free list, or
 * carved from the untouched end, or else a free block of a larger class (it
 * keeps its class).  NIL when the heap is full. */
static uint32_t heap_alloc(lc_shm_t *s, apr_size_t len)
{
    lc_shm_hdr_t *h = s->hdr;
    unsigned c = 0, b;
    uint32_t ref;

    while (class_size(c) < len + sizeof(lc_block_t)) {
        c++;
    }
    if (h->heap_free[c] != NIL) {
        ref = heap_pop(s, c);
    }
    else if (h->heap_top + class_size(c) <= h->heap_size) {
        ref = (uint32_t)(h->heap_top / HEAP_UNIT) + 1;
        set64(s, &h->heap_top, h->heap_top + class_size(c));
        block_at(s, ref)->cls = c;      /* above the old top: nothing to undo */
    }
    else {
        for (b = c + 1; b < LC_HEAP_CLASSES && h->heap_free[b] == NIL; b++) {
        }
        if (b == LC_HEAP_CLASSES) {
            return NIL;
        }
        ref = heap_pop(s, c = b);
    }
    set32(s, &h->heap_nused[c], h->heap_nused[c] + 1);
    return ref;
}

static void heap_free(lc_shm_t *s, uint32_t ref)
{
    lc_shm_hdr_t *h = s->hdr;
    lc_block_t *b = block_at(s, ref);
    unsigned c = b->cls;

    set32(s, &b->next, h->heap_free[c]);
    set32(s, &h->heap_free[c], ref);
    set32(s, &h->heap_nfree[c], h->heap_nfree[c] + 1);
    set32(s, &h->heap_nused[c], h->heap_nused[c] - 1);
}

/* ---- a record's strings ---------------------------------------------------- */

typedef struct lc_lens {
    size_t id, owner, alias[LC_ALIASES], data, total;
} lc_lens_t;

static void record_lens(const lc_resource_t *r, lc_lens_t *l)
{
    l->id = strnlen(r->id, LC_ID_MAX);
    l->owner = strnlen(r->owner, LC_OWNER_MAX);
    l->alias[0] = strnlen(r->alias[0], LC_ALIAS_MAX);
    l->alias[1] = strnlen(r->alias[1], LC_ALIAS_MAX);
    l->data = strnlen(r->data, LC_DATA_MAX);
    l->total = l->id + l->owner + l->alias[0] + l->alias[1] + l->data;
}

/* id | owner | alias 0 | alias 1 | data, without separators. */
static void pack_text(const lc_resource_t *r, const lc_lens_t *l, char *p)
{
    memcpy(p, r->id, l->id);
    p += l->id;
    memcpy(p, r->owner, l->owner);
    p += l->owner;
    memcpy(p, r->alias[0], l->alias[0]);
    p += l->alias[0];
    memcpy(p, r->alias[1], l->alias[1]);
    p += l->alias[1];
    memcpy(p, r->data, l->data);
}

/* Whether the slot's strings already are r's (then its block is kept). */
static int same_text(lc_shm_t *s, const lc_slot_t *sl, const lc_resource_t *r,
                     const lc_lens_t *l)
{
    const char *t = slot_text(s, sl);

    if (!t || sl->id_len != l->id || sl->owner_len != l->owner
        || sl->alias_len[0] != l->alias[0] || sl->alias_len[1] != l->alias[1]
        || sl->data_len != l->data) {
        return 0;
    }
    return memcmp(t, r->id, l->id) == 0
        && memcmp(t + l->id, r->owner, l->owner) == 0
        && memcmp(t + l->id + l->owner, r->alias[0], l->alias[0]) == 0
        && memcmp(t + l->id + l->owner + l->alias[0], r->alias[1], l->alias[1]) == 0
        && memcmp(t + l->total - l->data, r->data, l->data) == 0;
}

static const char *alias_text(const lc_slot_t *sl, const char *t, unsigned k)
{
    return t + sl->id_len + sl->owner_len + (k ? sl->alias_len[0] : 0);
}

/* ---- index ------------------------------------------------------------- */

static uint64_t key_hash(lc_shm_t *s, unsigned ns, lc_kind_e kind, const char *key,
                         size_t len)
{
    unsigned char in[1 + LC_ID_MAX + LC_ALIAS_MAX], out[crypto_shorthash_BYTES];
    uint64_t h;

    in[0] = (unsigned char)(kind | ns);
    memcpy(in + 1, key, len);
    crypto_shorthash(out, in, len + 1, s->hdr->hash_key);
    memcpy(&h, out, sizeof(h));
    return h;
}

/* The id index: h's low bits pick the bucket, its high bits are the tag. */
static uint32_t *bucket_of(lc_shm_t *s, uint64_t h)
{
    return &s->buckets[h & (s->hdr->nbuckets - 1)];
}

static int slot_is(lc_shm_t *s, const lc_slot_t *sl, lc_kind_e kind, const char *id,
                   size_t len, uint32_t tag)
{
    const char *t;

    return sl->kind == kind && sl->id_len == len && sl->tag == tag
        && (t = slot_text(s, sl)) != NULL && memcmp(t, id, len) == 0;
}

/* The link that points at (kind, id): a bucket head or a slot's `next`.
 * Returns NULL when absent; *bucket then is the bucket head. */
static uint32_t *find_link(lc_shm_t *s, lc_kind_e kind, const char *id,
                           uint32_t **bucket)
{
    size_t len = strlen(id);
    uint64_t h = key_hash(s, 0, kind, id, len);
    uint32_t *link = bucket_of(s, h);

    *bucket = link;
    while (*link != NIL) {
        lc_slot_t *sl = &s->slots[*link - 1];
        if (slot_is(s, sl, kind, id, len, (uint32_t)(h >> 32))) {
            return link;
        }
        link = &sl->next;
    }
    return NULL;
}

/* Alias links name a slot and which of its aliases: ((index << 1) | k) + 1. */
#define ALIAS_LINK(idx, k) ((((uint32_t)(idx)) << 1 | (k)) + 1)
#define ALIAS_SLOT(v)      (((v) - 1) >> 1)
#define ALIAS_K(v)         (((v) - 1) & 1)

static uint32_t *alias_bucket(lc_shm_t *s, lc_kind_e kind, const char *a, size_t len)
{
    return &s->abuckets[key_hash(s, 0x80, kind, a, len) & (s->hdr->nbuckets - 1)];
}

static uint32_t *alias_next(lc_shm_t *s, uint32_t v)
{
    return &s->slots[ALIAS_SLOT(v)].anext[ALIAS_K(v)];
}

/* The link that points at the alias entry (kind, a), or NULL. */
static uint32_t *find_alias(lc_shm_t *s, lc_kind_e kind, const char *a, size_t len)
{
    uint32_t *link = alias_bucket(s, kind, a, len);

    while (*link != NIL) {
        const lc_slot_t *sl = &s->slots[ALIAS_SLOT(*link)];
        unsigned k = ALIAS_K(*link);
        const char *t = slot_text(s, sl);
        if (sl->kind == kind && sl->alias_len[k] == len && t
            && memcmp(alias_text(sl, t, k), a, len) == 0) {
            return link;
        }
        link = alias_next(s, *link);
    }
    return NULL;
}

/* Take the slot's alias k (as its block holds it) out of the alias index. */
static void alias_unlink(lc_shm_t *s, uint32_t idx, unsigned k)
{
    lc_slot_t *sl = &s->slots[idx];
    const char *t = slot_text(s, sl);
    uint32_t *link = alias_bucket(s, (lc_kind_e)sl->kind, alias_text(sl, t, k),
                                  sl->alias_len[k]);

    while (*link != NIL && *link != ALIAS_LINK(idx, k)) {
        link = alias_next(s, *link);
    }
    if (*link != NIL) {
        set32(s, link, sl->anext[k]);
        set32(s, &sl->anext[k], NIL);
    }
}

static void alias_link(lc_shm_t *s, uint32_t idx, unsigned k)
{
    lc_slot_t *sl = &s->slots[idx];
    uint32_t *bucket = alias_bucket(s, (lc_kind_e)sl->kind,
                                    alias_text(sl, slot_text(s, sl), k), sl->alias_len[k]);

    set32(s, &sl->anext[k], *bucket);
    set32(s, bucket, ALIAS_LINK(idx, k));
}

/* Whether r's aliases may be stored in slot `idx` (capacity = a new slot):
 * LC_EEXISTS when another resource of the kind holds one of them.  (The
 * same alias twice on r was refused by lc_store_apply already.) */
static apr_status_t aliases_free(lc_shm_t *s, const lc_resource_t *r, uint32_t idx)
{
    unsigned k;

    for (k = 0; k < LC_ALIASES; k++) {
        size_t len = strnlen(r->alias[k], LC_ALIAS_MAX);
        uint32_t *link = len ? find_alias(s, (lc_kind_e)r->kind, r->alias[k], len) : NULL;
        if (link && ALIAS_SLOT(*link) != idx) {
            return LC_EEXISTS;
        }
    }
    return APR_SUCCESS;
}

/* ---- slot <-> record ---------------------------------------------------- */

static void copy_str(char *dst, const char *src, size_t len)
{
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* Fills every field of r; `t` is the slot's strings (slot_text). */
static void slot_to_record(const lc_slot_t *sl, const char *t, lc_resource_t *r)
{
    r->kind = sl->kind;
    r->state = sl->state;
    r->desired = sl->desired;
    r->res_state = sl->res_state;
    r->res_desired = sl->res_desired;
    r->due_class = sl->due_class;
    r->op = LC_OP_NONE;
    r->version = sl->version;
    r->seq = sl->seq;
    r->ckpt_seq = sl->ckpt_seq;
    r->created = sl->created;
    r->state_since = sl->state_since;
    r->closed = sl->closed;
    r->due = sl->due;
    copy_str(r->id, t, sl->id_len);
    t += sl->id_len;
    copy_str(r->owner, t, sl->owner_len);
    t += sl->owner_len;
    copy_str(r->alias[0], t, sl->alias_len[0]);
    t += sl->alias_len[0];
    copy_str(r->alias[1], t, sl->alias_len[1]);
    t += sl->alias_len[1];
    copy_str(r->data, t, sl->data_len);
}

/* A slot under the mutex: its block is whole. */
static void load_record(lc_shm_t *s, uint32_t idx, lc_resource_t *r)
{
    slot_to_record(&s->slots[idx], slot_text(s, &s->slots[idx]), r);
}

/* Writes the record fields of a slot saved with save_slot(), pointing it at
 * block `blob` (which holds r's strings); links are the caller's business.
 * Fault injection stops here, halfway through. */
static void record_to_slot(const lc_resource_t *r, const lc_lens_t *l, uint32_t blob,
                           uint32_t tag, lc_slot_t *sl)
{
    sl->kind = r->kind;
    sl->state = r->state;
    sl->desired = r->desired;
    sl->res_state = r->res_state;
    sl->res_desired = r->res_desired;
    sl->version = r->version;
    sl->seq = r->seq;
    sl->ckpt_seq = r->ckpt_seq;
    if (lc_store_die_midwrite) {
        raise(SIGKILL);
    }
    sl->created = r->created;
    sl->state_since = r->state_since;
    sl->closed = r->closed;
    sl->tag = tag;
    sl->blob = blob;
    sl->id_len = (uint8_t)l->id;
    sl->owner_len = (uint8_t)l->owner;
    sl->alias_len[0] = (uint8_t)l->alias[0];
    sl->alias_len[1] = (uint8_t)l->alias[1];
    sl->data_len = (uint16_t)l->data;
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

/* Whether the slot's alias k differs from r's. */
static int alias_changed(lc_shm_t *s, const lc_slot_t *sl, const lc_resource_t *r,
                         const lc_lens_t *l, unsigned k)
{
    const char *t = sl->alias_len[k] ? slot_text(s, sl) : NULL;

    return sl->alias_len[k] != l->alias[k]
        || (t && memcmp(alias_text(sl, t, k), r->alias[k], l->alias[k]) != 0);
}

/* Rewrite slot idx with r, moving it between due queues and alias chains as
 * needed.  r's strings go to a new block, written before the slot points at
 * it; the old block is freed in the same mutation.  LC_EFULL (nothing of
 * its own changed) when the heap has no block for them. */
static apr_status_t write_slot(lc_shm_t *s, uint32_t idx, const lc_resource_t *r,
                               uint32_t tag)
{
    lc_slot_t *sl = &s->slots[idx];
    unsigned c = (r->due && r->due_class < LC_DUE_CLASSES) ? r->due_class : LC_DUE_NONE;
    int requeue = (c != sl->due_class || (c != LC_DUE_NONE && sl->due != r->due));
    uint32_t old = sl->blob, blob = old;
    int relink[LC_ALIASES];
    lc_lens_t l;
    unsigned k;

    record_lens(r, &l);
    if (!old || !same_text(s, sl, r, &l)) {
        if ((blob = heap_alloc(s, l.total)) == NIL) {
            return LC_EFULL;
        }
        pack_text(r, &l, (char *)(block_at(s, blob) + 1));
    }
    for (k = 0; k < LC_ALIASES; k++) {
        relink[k] = alias_changed(s, sl, r, &l, k);
        if (relink[k] && sl->alias_len[k]) {
            alias_unlink(s, idx, k);
        }
    }
    if (requeue) {
        queue_unlink(s, idx);
    }
    save_slot(s, idx);
    record_to_slot(r, &l, blob, tag, sl);
    sl->due = c ? r->due : 0;
    if (requeue) {
        sl->due_class = (uint8_t)c;
        if (c != LC_DUE_NONE) {
            queue_insert(s, idx, c, r->due);
        }
    }
    for (k = 0; k < LC_ALIASES; k++) {
        if (relink[k] && l.alias[k]) {
            alias_link(s, idx, k);
        }
    }
    if (old && old != blob) {
        heap_free(s, old);
    }
    return APR_SUCCESS;
}

static uint32_t id_tag(lc_shm_t *s, const lc_resource_t *r)
{
    return (uint32_t)(key_hash(s, 0, (lc_kind_e)r->kind, r->id, strnlen(r->id, LC_ID_MAX))
                      >> 32);
}

/* ---- journal -------------------------------------------------------------- */

/* Mutex held, mutation begun: number the change r (already written to its
 * slot with r->seq = jseq + 1) and hand it to the journal.  A failed append
 * rolls the whole mutation back, so memory never gets ahead of the disk. */
static apr_status_t journal_change(lc_shm_t *s, const lc_resource_t *r, int op)
{
    uint64_t len = 0, rlen = 0;
    apr_status_t rv;

    if (s->journal.append) {
        rv = s->journal.append(s->journal.ctx, s->hdr->jseg, s->hdr->joff, s->hdr->jring,
                               r->seq, op, r, &len, &rlen);
        if (rv != APR_SUCCESS) {
            rollback(s);
            return rv;
        }
    }
    set64(s, &s->hdr->jseq, r->seq);
    set64(s, &s->hdr->joff, s->hdr->joff + len);
    set64(s, &s->hdr->jring, s->hdr->jring + rlen);
    return APR_SUCCESS;
}

/* Mutex held, no mutation begun (so a flusher reads committed words at
 * once): room in the journal's ring for one more record. */
static apr_status_t journal_reserve(lc_shm_t *s)
{
    return s->journal.reserve ? s->journal.reserve(s->journal.ctx, s->hdr->jring, s->hdr->jseq)
                              : APR_SUCCESS;
}

/* Mutex released: wait until the change numbered seq is durable. */
static apr_status_t journal_sync(lc_shm_t *s, uint64_t seq)
{
    return s->journal.sync ? s->journal.sync(s->journal.ctx, seq) : APR_SUCCESS;
}

/* ---- operations ------------------------------------------------------------ */

/* Optimistic reads: the slot `v` (index + 1) leads to, copied with its
 * strings.  1 = copied, -1 = torn (a reference or length out of bounds). */
static int copy_slot(lc_shm_t *s, uint32_t i, lc_resource_t *out)
{
    lc_slot_t copy;
    const char *t;

    memcpy(&copy, &s->slots[i - 1], sizeof(copy));
    if ((t = slot_text(s, &copy)) == NULL || copy.id_len > LC_ID_MAX
        || copy.owner_len > LC_OWNER_MAX || copy.alias_len[0] > LC_ALIAS_MAX
        || copy.alias_len[1] > LC_ALIAS_MAX || copy.data_len > LC_DATA_MAX) {
        return -1;
    }
    slot_to_record(&copy, t, out);
    return 1;
}

/* One optimistic lookup by id (alias = 0) or by alias (1): 1 = found (copied
 * to *out), 0 = absent, -1 = torn. */
static int read_once(lc_shm_t *s, lc_kind_e kind, const char *key, size_t len, int alias,
                     lc_resource_t *out)
{
    uint64_t gen = __atomic_load_n(&s->hdr->gen, __ATOMIC_ACQUIRE);
    uint64_t h = key_hash(s, alias ? 0x80 : 0, kind, key, len);
    uint32_t *head = alias ? &s->abuckets[h & (s->hdr->nbuckets - 1)] : bucket_of(s, h);
    uint32_t i = __atomic_load_n(head, __ATOMIC_RELAXED), cap = s->hdr->capacity;
    int steps = 0, found = 0;

    if (gen & 1) {
        return -1;
    }
    while (i != NIL && steps++ < LC_CHAIN_MAX) {
        const lc_slot_t *sl;
        const char *t;
        if ((alias ? ALIAS_SLOT(i) : i - 1) >= cap) {
            return -1;
        }
        sl = &s->slots[alias ? ALIAS_SLOT(i) : i - 1];
        t = slot_text(s, sl);
        if (alias ? (sl->kind == kind && sl->alias_len[ALIAS_K(i)] == len && t
                     && memcmp(alias_text(sl, t, ALIAS_K(i)), key, len) == 0)
                  : slot_is(s, sl, kind, key, len, (uint32_t)(h >> 32))) {
            found = copy_slot(s, (uint32_t)(sl - s->slots) + 1, out);
            break;
        }
        i = __atomic_load_n(alias ? &sl->anext[ALIAS_K(i)] : &sl->next, __ATOMIC_RELAXED);
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&s->hdr->gen, __ATOMIC_RELAXED) != gen
        || found < 0 || (!found && i != NIL)) {
        return -1;
    }
    return found;
}

/* get and get_alias: optimistic tries, then the mutex (which repairs first). */
static apr_status_t lookup(lc_shm_t *s, lc_kind_e kind, const char *key, int alias,
                           lc_resource_t *out)
{
    size_t len = strlen(key);
    uint32_t *bucket, *link;
    apr_status_t rv;
    int tries;

    for (tries = 0; tries < LC_READ_TRIES; tries++) {
        int got = read_once(s, kind, key, len, alias, out);
        if (got >= 0) {
            return got ? APR_SUCCESS : LC_ENOTFOUND;
        }
    }
    if ((rv = lock(s)) != APR_SUCCESS) {
        return rv;
    }
    link = alias ? find_alias(s, kind, key, len) : find_link(s, kind, key, &bucket);
    if (link) {
        load_record(s, alias ? ALIAS_SLOT(*link) : *link - 1, out);
    }
    unlock(s);
    return link ? APR_SUCCESS : LC_ENOTFOUND;
}

static apr_status_t shm_get(lc_store_t *st, lc_kind_e kind, const char *id,
                            lc_resource_t *out, apr_pool_t *p)
{
    (void)p;                    /* shared memory: nothing to allocate per call */
    if (!lc_store_valid_key(kind, id)) {
        return LC_ENOTFOUND;
    }
    return lookup(st->impl, kind, id, 0, out);
}

static apr_status_t shm_get_alias(lc_store_t *st, lc_kind_e kind, const char *alias,
                                  lc_resource_t *out, apr_pool_t *p)
{
    (void)p;                    /* shared memory: nothing to allocate per call */
    if (!lc_store_valid_alias(kind, alias)) {
        return LC_ENOTFOUND;
    }
    return lookup(st->impl, kind, alias, 1, out);
}

static apr_status_t create_locked(lc_shm_t *s, uint32_t *bucket, const lc_resource_t *r)
{
    uint32_t idx;
    apr_status_t rv;

    if (s->hdr->free_head == NIL) {
        return LC_EFULL;
    }
    idx = s->hdr->free_head - 1;
    set32(s, &s->hdr->free_head, s->slots[idx].next);
    if ((rv = write_slot(s, idx, r, id_tag(s, r))) != APR_SUCCESS) {
        return rv;
    }
    set32(s, &s->slots[idx].next, *bucket);
    set32(s, bucket, idx + 1);
    set32(s, &s->hdr->used, s->hdr->used + 1);
    return APR_SUCCESS;
}

/* Unlink the slot *link points at from its chains and due queue, and free it
 * and its block. */
static void delete_locked(lc_shm_t *s, uint32_t *link)
{
    uint32_t idx = *link - 1, blob = s->slots[idx].blob;
    unsigned k;

    queue_unlink(s, idx);
    for (k = 0; k < LC_ALIASES; k++) {
        if (s->slots[idx].alias_len[k]) {
            alias_unlink(s, idx, k);
        }
    }
    set32(s, link, s->slots[idx].next);
    save_slot(s, idx);
    memset(&s->slots[idx], 0, sizeof(lc_slot_t));
    s->slots[idx].next = s->hdr->free_head;
    set32(s, &s->hdr->free_head, idx + 1);
    set32(s, &s->hdr->used, s->hdr->used - 1);
    if (blob) {
        heap_free(s, blob);
    }
}

/* Mutex held, mutation begun: store r (new when !link) and journal it.
 * Anything short of success leaves the store as it was. */
static apr_status_t store_locked(lc_shm_t *s, uint32_t *link, uint32_t *bucket,
                                 const lc_resource_t *r)
{
    apr_status_t rv = link ? write_slot(s, *link - 1, r, s->slots[*link - 1].tag)
                           : create_locked(s, bucket, r);

    if (rv != APR_SUCCESS) {
        rollback(s);
        return rv;
    }
    return journal_change(s, r, r->op);
}

static apr_status_t shm_update(lc_store_t *st, lc_kind_e kind, const char *id,
                               lc_store_update_fn *fn, void *baton, lc_resource_t *out,
                               apr_pool_t *p)
{
    lc_shm_t *s = st->impl;
    uint32_t *bucket, *link;
    lc_resource_t rec, *r = &rec;     /* on the stack: only its used part is touched */
    uint64_t version;
    apr_status_t rv;

    (void)p;                    /* shared memory: nothing to allocate per call */
    if (!lc_store_valid_key(kind, id)) {
        return APR_EINVAL;
    }
    if ((rv = lock(s)) != APR_SUCCESS) {
        return rv;
    }
    link = find_link(s, kind, id, &bucket);
    if (link) {
        load_record(s, *link - 1, r);
    }
    version = link ? r->version : 0;
    rv = lc_store_apply(r, link != NULL, kind, id, fn, baton);
    if (rv == APR_SUCCESS) {
        rv = aliases_free(s, r, link ? *link - 1 : s->hdr->capacity);
    }
    if (rv == APR_SUCCESS) {
        rv = journal_reserve(s);
    }
    if (rv == APR_SUCCESS) {
        r->version = version + 1;
        r->seq = s->hdr->jseq + 1;
        begin(s);
        if ((rv = store_locked(s, link, bucket, r)) == APR_SUCCESS) {
            commit(s);
        }
    }
    unlock(s);
    if (rv == APR_SUCCESS) {
        rv = journal_sync(s, r->seq);
    }
    if (out && (rv == APR_SUCCESS || rv == LC_NOCHANGE || link)) {
        lc_resource_copy(out, r);
    }
    return rv;
}

static apr_status_t shm_remove(lc_store_t *st, lc_kind_e kind, const char *id,
                               uint64_t expect_version, lc_resource_t *out, apr_pool_t *p)
{
    lc_shm_t *s = st->impl;
    uint32_t *bucket, *link, idx;
    lc_resource_t rec, *gone = &rec;
    apr_status_t rv;

    (void)p;                    /* shared memory: nothing to allocate per call */
    if (!lc_store_valid_key(kind, id)) {
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
    else if ((rv = journal_reserve(s)) == APR_SUCCESS) {
        idx = *link - 1;
        load_record(s, idx, gone);
        gone->seq = s->hdr->jseq + 1;
        gone->op = LC_OP_DELETE;
        begin(s);
        delete_locked(s, link);
        if ((rv = journal_change(s, gone, LC_OP_DELETE)) == APR_SUCCESS) {
            commit(s);
        }
    }
    unlock(s);
    if (rv == APR_SUCCESS) {
        rv = journal_sync(s, gone->seq);
    }
    if (out && rv == APR_SUCCESS) {
        lc_resource_copy(out, gone);
    }
    return rv;
}

/* Bytewise order of an id of `len` bytes and a C string. */
static int cmp_id(const char *a, size_t len, const char *b)
{
    size_t blen = strlen(b);
    int c = memcmp(a, b, len < blen ? len : blen);

    return c ? c : (len > blen) - (len < blen);
}

/* A page being collected: the records sit in out[] in arrival order, and
 * ord[] keeps their positions sorted by id, so keeping the smallest `limit`
 * moves small integers, never records. */
typedef struct lc_page {
    lc_resource_t *out;
    int           *ord;
    int            limit, n, more;
} lc_page_t;

static void keep_smallest(lc_shm_t *s, uint32_t idx, const char *id, size_t len,
                          lc_page_t *pg)
{
    int pos, cell;

    if (pg->n == pg->limit) {
        pg->more = 1;
        if (cmp_id(id, len, pg->out[pg->ord[pg->limit - 1]].id) > 0) {
            return;
        }
        cell = pg->ord[--pg->n];          /* the largest makes room */
    }
    else {
        cell = pg->n;
    }
    for (pos = pg->n; pos > 0 && cmp_id(id, len, pg->out[pg->ord[pos - 1]].id) < 0; pos--) {
        pg->ord[pos] = pg->ord[pos - 1];
    }
    pg->ord[pos] = cell;
    load_record(s, idx, &pg->out[cell]);
    pg->n++;
}

/* Put out[] in ord[] order, cycle by cycle, through one spare record. */
static void sort_page(lc_page_t *pg, lc_resource_t *spare)
{
    int i, j, k;

    for (i = 0; i < pg->n; i++) {
        if (pg->ord[i] == i) {
            continue;
        }
        lc_resource_copy(spare, &pg->out[i]);
        for (j = i; pg->ord[j] != i; j = k) {
            k = pg->ord[j];
            lc_resource_copy(&pg->out[j], &pg->out[k]);
            pg->ord[j] = j;
        }
        lc_resource_copy(&pg->out[j], spare);
        pg->ord[j] = j;
    }
}

static apr_status_t shm_list(lc_store_t *st, lc_kind_e kind, int state,
                             const char *after, int limit, lc_resource_t *out,
                             int *n, int *more, apr_pool_t *p)
{
    lc_shm_t *s = st->impl;
    uint32_t i = 0, cap = s->hdr->capacity, end;
    lc_page_t pg = { out, NULL, limit, 0, 0 };
    lc_resource_t *spare;
    apr_status_t rv = APR_SUCCESS;

    (void)p;                    /* shared memory: nothing to allocate per call */
    *n = 0;
    *more = 0;
    if (limit <= 0) {
        return APR_EINVAL;
    }
    pg.ord = malloc(sizeof(int) * (size_t)limit);
    spare = malloc(sizeof(*spare));
    if (!pg.ord || !spare) {
        free(pg.ord);
        free(spare);
        return APR_ENOMEM;
    }
    /* Chunked so that a long scan never holds the mutex for long. */
    while (i < cap && rv == APR_SUCCESS) {
        if ((rv = lock(s)) != APR_SUCCESS) {
            break;
        }
        for (end = i + LC_SCAN_CHUNK > cap ? cap : i + LC_SCAN_CHUNK; i < end; i++) {
            const lc_slot_t *sl = &s->slots[i];
            const char *t;
            if (sl->kind != kind || (state >= 0 && sl->state != state)) {
                continue;
            }
            t = slot_text(s, sl);
            if (after && cmp_id(t, sl->id_len, after) <= 0) {
                continue;
            }
            keep_smallest(s, i, t, sl->id_len, &pg);
        }
        unlock(s);
    }
    sort_page(&pg, spare);
    free(pg.ord);
    free(spare);
    *n = pg.n;
    *more = pg.more;
    return rv;
}

/* Resources by kind and state: one pass over the slots (a free slot's kind
 * is 0), chunked like list's so that the count never holds the mutex for
 * long.  A resource never changes slot, so each is counted once. */
static apr_status_t shm_count(lc_store_t *st, lc_store_counts_t *out, apr_pool_t *p)
{
    lc_shm_t *s = st->impl;
    uint32_t i = 0, cap = s->hdr->capacity, end;
    apr_status_t rv;

    (void)p;                    /* shared memory: nothing to allocate per call */
    memset(out, 0, sizeof(*out));
    while (i < cap) {
        if ((rv = lock(s)) != APR_SUCCESS) {
            return rv;
        }
        for (end = i + LC_SCAN_CHUNK > cap ? cap : i + LC_SCAN_CHUNK; i < end; i++) {
            const lc_slot_t *sl = &s->slots[i];
            if (sl->kind > LC_KIND_NONE && sl->kind < LC_KIND_COUNT) {
                out->n[sl->kind][sl->state]++;
            }
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
                                 lc_store_each_fn *done, void *done_baton, apr_pool_t *p)
{
    lc_shm_t *s = st->impl;
    uint64_t last = 0;
    apr_status_t rv;
    uint32_t h;
    int k;

    (void)p;                    /* shared memory: nothing to allocate per call */
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

        if ((rv = journal_reserve(s)) != APR_SUCCESS) {
            break;
        }
        load_record(s, h - 1, &r);
        version = r.version;
        moved = lc_store_apply_due(&r, fn, baton) == APR_SUCCESS
                && aliases_free(s, &r, h - 1) == APR_SUCCESS;
        if (moved) {
            r.version = version + 1;
            r.seq = s->hdr->jseq + 1;
        }
        else {
            /* Nothing to do after all: just take it off the queue. */
            load_record(s, h - 1, &r);
            r.due = 0;
        }
        begin(s);
        if ((rv = write_slot(s, h - 1, &r, s->slots[h - 1].tag)) != APR_SUCCESS) {
            rollback(s);
            break;                       /* the heap is full: retried next tick */
        }
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

/* A moment's figures, read without the mutex: each word is exact, their sum
 * may be off by a mutation in progress. */
static void heap_stats(lc_shm_t *s, lc_store_shm_stats_t *out)
{
    unsigned c;

    out->heap_bytes = s->hdr->heap_size;
    out->heap_used = out->heap_free = 0;
    for (c = 0; c < LC_HEAP_CLASSES; c++) {
        lc_heap_class_t *hc = &out->heap_class[c];
        hc->size = class_size(c);
        hc->used = __atomic_load_n(&s->hdr->heap_nused[c], __ATOMIC_RELAXED);
        hc->free = __atomic_load_n(&s->hdr->heap_nfree[c], __ATOMIC_RELAXED);
        out->heap_used += (uint64_t)hc->used * hc->size;
        out->heap_free += (uint64_t)hc->free * hc->size;
    }
}

void lc_store_shm_stats(lc_store_t *st, lc_store_shm_stats_t *out)
{
    lc_shm_t *s = st->impl;

    out->capacity = s->hdr->capacity;
    out->used = __atomic_load_n(&s->hdr->used, __ATOMIC_RELAXED);
    out->repairs = __atomic_load_n(&s->hdr->repairs, __ATOMIC_RELAXED);
    out->lock_waits = __atomic_load_n(&s->hdr->lock_waits, __ATOMIC_RELAXED);
    out->lock_wait_usec = __atomic_load_n(&s->hdr->lock_wait_usec, __ATOMIC_RELAXED);
    out->lock_hold_usec = __atomic_load_n(&s->hdr->lock_hold_usec, __ATOMIC_RELAXED);
    heap_stats(s, out);
}

/* ---- what lc_store.h reports: metrics, due times, changes ------------------- */

#define M(name_, type_, help_, labels_, value_) \
    do { lc_metric_t m_ = { name_, type_, help_, labels_, value_, 0 }; emit(&m_, baton); } while (0)

static void heap_metrics(const lc_store_shm_stats_t *st, lc_metric_fn *emit, void *baton)
{
    static const char mem[] = "Shared memory for resources' ids and attributes "
        "(LifecycleAttributeMemory): in blocks in use, in free blocks (reused by their "
        "size class), never used yet.";
    static const char blocks[] = "Attribute memory blocks by size class.";
    char labels[64];
    int c;

    M("lifecycle_attribute_memory_bytes", "gauge", mem, "state=\"used\"", st->heap_used);
    M("lifecycle_attribute_memory_bytes", "gauge", mem, "state=\"free\"", st->heap_free);
    M("lifecycle_attribute_memory_bytes", "gauge", mem, "state=\"unused\"",
      st->heap_bytes - st->heap_used - st->heap_free);
    for (c = 0; c < LC_HEAP_CLASSES; c++) {
        const lc_heap_class_t *hc = &st->heap_class[c];
        if (hc->used || hc->free) {
            apr_snprintf(labels, sizeof(labels), "size=\"%u\",state=\"used\"", hc->size);
            M("lifecycle_attribute_blocks", "gauge", blocks, labels, hc->used);
            apr_snprintf(labels, sizeof(labels), "size=\"%u\",state=\"free\"", hc->size);
            M("lifecycle_attribute_blocks", "gauge", blocks, labels, hc->free);
        }
    }
}

static void shm_metrics(lc_store_t *st, lc_metric_fn *emit, void *baton, apr_pool_t *p)
{
    lc_shm_t *s = st->impl;
    lc_store_shm_stats_t x;
    lc_metric_t wait = { "lifecycle_mutex_wait_seconds_total", "counter",
                         "Time spent waiting for the store mutex.", NULL, 0, 1 };
    lc_metric_t hold = { "lifecycle_mutex_hold_seconds_total", "counter",
                         "Time the store mutex was held.", NULL, 0, 1 };

    (void)p;                    /* shared memory: nothing to allocate per call */
    lc_store_shm_stats(st, &x);
    M("lifecycle_store_slots", "gauge", "Resource slots in shared memory.",
      "state=\"used\"", x.used);
    M("lifecycle_store_slots", "gauge", "Resource slots in shared memory.",
      "state=\"free\"", x.capacity - x.used);
    M("lifecycle_store_repairs_total", "counter", "Updates rolled back after a process "
      "died holding the store mutex.", NULL, x.repairs);
    M("lifecycle_mutex_acquisitions_total", "counter", "Store mutex acquisitions.", NULL,
      x.lock_waits);
    wait.value = x.lock_wait_usec;
    emit(&wait, baton);
    hold.value = x.lock_hold_usec;
    emit(&hold, baton);
    heap_metrics(&x, emit, baton);
    if (s->journal.metrics) {
        s->journal.metrics(s->journal.ctx, emit, baton);
    }
}

/* Read without the mutex, like take_due's peek: a stale head costs one
 * useless lock or one tick's delay, never a missed move. */
static apr_time_t shm_next_due(lc_store_t *st, apr_pool_t *p)
{
    lc_shm_t *s = st->impl;
    apr_time_t best = 0;
    unsigned c;

    (void)p;                    /* shared memory: nothing to allocate per call */
    for (c = 1; c < LC_DUE_CLASSES; c++) {
        uint32_t h = __atomic_load_n(&s->hdr->qhead[c], __ATOMIC_ACQUIRE);
        if (h && (best == 0 || s->slots[h - 1].due < best)) {
            best = s->slots[h - 1].due;
        }
    }
    return best;
}

/* Changes are the journal's: memory only, there are none to read. */
static apr_status_t shm_changes_read(lc_store_t *st, uint64_t since, lc_change_t *out,
                                     int max, int *n, uint64_t *oldest, apr_pool_t *p)
{
    lc_shm_t *s = st->impl;

    *n = 0;
    *oldest = 0;
    return s->journal.read ? s->journal.read(s->journal.ctx, since, out, max, n, oldest, p)
                           : APR_ENOTIMPL;
}

static apr_status_t shm_changes_wait(lc_store_t *st, uint64_t since,
                                     apr_interval_time_t timeout, apr_pool_t *p)
{
    lc_shm_t *s = st->impl;

    (void)p;                    /* shared memory: nothing to allocate per call */
    if (!s->journal.wait) {
        return APR_ENOTIMPL;
    }
    s->journal.wait(s->journal.ctx, since, timeout);
    return APR_SUCCESS;
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

/* One read of the journal's words between mutations: 1 = consistent. */
static int journal_pos_once(lc_shm_t *s, lc_journal_pos_t *pos)
{
    uint64_t gen = __atomic_load_n(&s->hdr->gen, __ATOMIC_ACQUIRE);

    if (gen & 1) {
        return 0;
    }
    pos->seg = __atomic_load_n(&s->hdr->jseg, __ATOMIC_RELAXED);
    pos->off = __atomic_load_n(&s->hdr->joff, __ATOMIC_RELAXED);
    pos->seq = __atomic_load_n(&s->hdr->jseq, __ATOMIC_RELAXED);
    pos->ring = __atomic_load_n(&s->hdr->jring, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return __atomic_load_n(&s->hdr->gen, __ATOMIC_RELAXED) == gen;
}

/* Committed words only, read like a slot: a mutation in progress may still
 * be rolled back, and its record must not reach the disk.  A holder that
 * died mid-mutation is repaired by taking the mutex (never held here: the
 * store calls the journal's reserve between mutations, when this succeeds
 * at the first try). */
void lc_store_shm_journal_pos(lc_store_t *st, lc_journal_pos_t *pos)
{
    lc_shm_t *s = st->impl;
    int tries;

    for (tries = 0; tries < LC_READ_TRIES * 16; tries++) {
        if (journal_pos_once(s, pos)) {
            return;
        }
        if (tries >= LC_READ_TRIES) {
            sched_yield();
        }
    }
    if (lock(s) == APR_SUCCESS) {
        journal_pos_once(s, pos);
        unlock(s);
    }
}

void lc_store_shm_journal_set(lc_store_t *st, uint32_t seg, uint64_t off, uint64_t seq)
{
    lc_shm_t *s = st->impl;

    s->hdr->jseg = seg;
    s->hdr->joff = off;
    s->hdr->jseq = seq;
    s->hdr->jring = 0;
}

void *lc_store_shm_journal_ring(lc_store_t *st)
{
    lc_shm_t *s = st->impl;

    return s->base + ring_offset(s->hdr->capacity, s->hdr->heap_size);
}

void lc_store_shm_map_ring(lc_store_t *st)
{
    lc_shm_pages_map(lc_store_shm_journal_ring(st), LC_JRING_BYTES);
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

/* Replay: r carries an alias another resource holds.  Records come in change
 * order, so r is the newer and the holder loses it (a committed mutation of
 * its own); a holder newer than r (a snapshot loaded before a fallback
 * replay) keeps it, and *use becomes a copy of r without it. */
static apr_status_t restore_aliases(lc_shm_t *s, const lc_resource_t *r, uint32_t idx,
                                    lc_resource_t **use, lc_resource_t *spare)
{
    apr_status_t rv = APR_SUCCESS;
    unsigned k;

    *use = (lc_resource_t *)r;
    for (k = 0; k < LC_ALIASES && rv == APR_SUCCESS; k++) {
        size_t len = strnlen(r->alias[k], LC_ALIAS_MAX);
        uint32_t *link = len ? find_alias(s, (lc_kind_e)r->kind, r->alias[k], len) : NULL;
        uint32_t holder;
        if (!link || (holder = ALIAS_SLOT(*link)) == idx) {
            continue;
        }
        if (s->slots[holder].seq > r->seq) {
            if (*use == r) {
                lc_resource_copy(spare, r);
                *use = spare;
            }
            spare->alias[k][0] = '\0';
            continue;
        }
        {
            lc_resource_t *h = malloc(sizeof(*h));
            if (!h) {
                return APR_ENOMEM;
            }
            load_record(s, holder, h);
            h->alias[ALIAS_K(*link)][0] = '\0';
            begin(s);
            if ((rv = write_slot(s, holder, h, s->slots[holder].tag)) == APR_SUCCESS) {
                commit(s);
            }
            else {
                rollback(s);
            }
            free(h);
        }
    }
    return rv;
}

/* Replay fills the heap from the front: a thread maps it ahead of the
 * blocks carved so far (lc_shm_pages.c). */
void lc_store_shm_restore_begin(lc_store_t *st, apr_pool_t *p)
{
    lc_shm_t *s = st->impl;

    s->ahead = lc_shm_ahead_start(p, s->heap, (apr_size_t)s->hdr->heap_size,
                                  &s->hdr->heap_top);
}

void lc_store_shm_restore_end(lc_store_t *st)
{
    lc_shm_t *s = st->impl;

    lc_shm_ahead_stop(s->ahead);
    s->ahead = NULL;
}

void lc_store_shm_restore_next(lc_store_t *st, int kind, const char *id, apr_size_t len)
{
    lc_shm_t *s = st->impl;

    if (len <= LC_ID_MAX) {
        __builtin_prefetch(bucket_of(s, key_hash(s, 0, (lc_kind_e)kind, id, len)), 0, 1);
    }
}

apr_status_t lc_store_shm_restore(lc_store_t *st, int op, const lc_resource_t *r)
{
    lc_shm_t *s = st->impl;
    uint32_t *bucket, *link;
    lc_resource_t *use = (lc_resource_t *)r, *spare = NULL;
    apr_status_t rv = APR_SUCCESS;

    if (!lc_store_valid_key((lc_kind_e)r->kind, r->id)) {
        return APR_EINVAL;
    }
    /* Start-up only, no other process yet: no mutex (see lc_store_shm.h). */
    link = find_link(s, (lc_kind_e)r->kind, r->id, &bucket);
    if (link && s->slots[*link - 1].seq >= r->seq) {
        return APR_SUCCESS;              /* what is stored is newer: keep it */
    }
    if (op != LC_OP_DELETE && (r->alias[0][0] || r->alias[1][0])) {
        spare = malloc(sizeof(*spare));
        rv = spare ? restore_aliases(s, r, link ? *link - 1 : s->hdr->capacity, &use, spare)
                   : APR_ENOMEM;
    }
    if (rv == APR_SUCCESS) {
        begin(s);
        if (op == LC_OP_DELETE) {
            if (link) {
                delete_locked(s, link);
            }
        }
        else if (link) {
            rv = write_slot(s, *link - 1, use, s->slots[*link - 1].tag);
        }
        else {
            rv = create_locked(s, bucket, use);
        }
        if (rv == APR_SUCCESS && r->seq > s->hdr->jseq) {
            set64(s, &s->hdr->jseq, r->seq);
        }
        if (rv == APR_SUCCESS) {
            commit(s);
        }
        else {
            rollback(s);
        }
    }
    free(spare);
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
            load_record(s, *cursor, &out[(*n)++]);
        }
    }
    unlock(s);
    return APR_SUCCESS;
}

/* Every resource of a kind in one pass over the slots, chunked like list's;
 * a resource never changes slot, so each is seen once.  The record is
 * copied out of the slot for fn, under the mutex. */
static apr_status_t shm_each(lc_store_t *st, lc_kind_e kind, lc_store_visit_fn *fn,
                             void *baton, apr_pool_t *p)
{
    lc_shm_t *s = st->impl;
    uint32_t i = 0, cap = s->hdr->capacity, end;
    lc_resource_t *r = malloc(sizeof(*r));
    apr_status_t rv = APR_SUCCESS;
    int stop = 0;

    (void)p;                    /* shared memory: nothing to allocate per call */
    if (!r) {
        return APR_ENOMEM;
    }
    while (i < cap && !stop) {
        if ((rv = lock(s)) != APR_SUCCESS) {
            break;
        }
        for (end = i + LC_SCAN_CHUNK > cap ? cap : i + LC_SCAN_CHUNK; i < end && !stop; i++) {
            if (s->slots[i].kind == kind) {
                load_record(s, i, r);
                stop = fn(r, baton);
            }
        }
        unlock(s);
    }
    free(r);
    return rv;
}

static const lc_store_ops_t shm_ops = {
    .get          = shm_get,
    .get_alias    = shm_get_alias,
    .update       = shm_update,
    .remove       = shm_remove,
    .list         = shm_list,
    .take_due     = shm_take_due,
    .changes_read = shm_changes_read,
    .changes_wait = shm_changes_wait,
    .next_due     = shm_next_due,
    .metrics      = shm_metrics,
    .count        = shm_count,
    .each         = shm_each,
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

lc_store_t *lc_store_shm_local(apr_pool_t *p, uint32_t capacity, apr_size_t heap,
                               apr_lockmech_e mech, void **base)
{
    apr_size_t size = lc_store_shm_size(capacity, heap);
    apr_global_mutex_t *m;
    apr_shm_t *shm;

    if (apr_shm_create(&shm, size, NULL, p) != APR_SUCCESS
        || apr_global_mutex_create(&m, NULL, mech, p) != APR_SUCCESS
        || lc_store_shm_format(apr_shm_baseaddr_get(shm), size, capacity, heap) != APR_SUCCESS) {
        return NULL;
    }
    if (base) {
        *base = apr_shm_baseaddr_get(shm);
    }
    return lc_store_shm_open(p, apr_shm_baseaddr_get(shm), m);
}
