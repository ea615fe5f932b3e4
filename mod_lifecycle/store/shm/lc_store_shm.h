/* lc_store_shm.h — the shared-memory backend of lc_store.h.
 *
 * One segment: a header (with a small undo log), a hash index by id and one
 * by alias, 96-byte slots, and a heap of size-classed blocks holding each
 * resource's strings.
 * The server creates the segment and the global mutex (the Apache way, in
 * lc_segment.c); this file only formats, checks and uses them, so it is
 * testable with plain APR.  lc_store_shm_local() makes both in one process,
 * for the lifecycle-journal tool and the unit tests.
 */
#ifndef LC_STORE_SHM_H
#define LC_STORE_SHM_H

#include <apr_global_mutex.h>
#include "lc_store.h"

#define LC_CAPACITY_MIN 64u
#define LC_CAPACITY_MAX 4000000u
#define LC_JOURNAL_AREA 256     /* shared bytes reserved for the journal's own words */
/* The journal's ring of unwritten records (lc_journal_ring.c says why 1 MiB). */
#define LC_JRING_BYTES  ((apr_size_t)1 << 20)
/* The attribute heap: at least one largest resource, at most what 32-bit
 * references in 8-byte units reach; by default LC_HEAP_PER_SLOT a slot. */
#define LC_HEAP_MIN      ((apr_size_t)64 << 10)
#define LC_HEAP_MAX      ((apr_size_t)31 << 30)
#define LC_HEAP_PER_SLOT 256

#define LC_HEAP_CLASSES 20   /* size classes of the attribute heap */

typedef struct lc_heap_class {
    uint32_t size;        /* bytes a block of this class takes, header included */
    uint32_t used;        /* blocks holding a resource's strings */
    uint32_t free;        /* blocks on the class's free list */
} lc_heap_class_t;

/* The shared-memory store's own figures (its metrics, the tests, the bench). */
typedef struct lc_store_shm_stats {
    uint32_t capacity;
    uint32_t used;
    uint64_t heap_bytes;  /* attribute memory (LifecycleAttributeMemory) */
    uint64_t heap_used;   /* in blocks holding resources */
    uint64_t heap_free;   /* in free blocks, reusable by their class only */
    lc_heap_class_t heap_class[LC_HEAP_CLASSES];
    uint64_t repairs;     /* updates rolled back after a holder died */
    uint64_t lock_waits;  /* mutex acquisitions */
    uint64_t lock_wait_usec;  /* total time spent waiting for the mutex */
    uint64_t lock_hold_usec;  /* total time the mutex was held */
} lc_store_shm_stats_t;

void lc_store_shm_stats(lc_store_t *st, lc_store_shm_stats_t *out);

/* How the store hands its changes to a journal (lc_journal.c), and reads
 * them back for lc_store.h's changes interface. */
typedef struct lc_journal_hook {
    /* Store mutex held, mutation begun: put change `seq` (op, record r),
     * bound for offset `off` of segment `seg`, in the ring at position
     * `ring`; *len gets its bytes in the file, *rlen in the ring.  No I/O. */
    apr_status_t (*append)(void *ctx, uint32_t seg, uint64_t off, uint64_t ring, uint64_t seq,
                           int op, const lc_resource_t *r, uint64_t *len, uint64_t *rlen);
    /* Store mutex held, between mutations: return once the ring, whose head
     * is `ring` (the last change `seq`), has room for one more record.
     * Waits for a flush only when the ring is full. */
    apr_status_t (*reserve)(void *ctx, uint64_t ring, uint64_t seq);
    /* Store mutex released: return once change `seq` is durable. */
    apr_status_t (*sync)(void *ctx, uint64_t seq);
    /* changes_read and changes_wait of lc_store.h. */
    apr_status_t (*read)(void *ctx, uint64_t since, lc_change_t *out, int max, int *n,
                         uint64_t *oldest, apr_pool_t *p);
    void (*wait)(void *ctx, uint64_t since, apr_interval_time_t timeout);
    /* Its own metric samples. */
    void (*metrics)(void *ctx, lc_metric_fn *emit, void *baton);
    void *ctx;
} lc_journal_hook_t;

/* LifecycleAttributeMemory's default: LC_HEAP_PER_SLOT a slot, at least 4 MiB. */
apr_size_t lc_store_shm_default_heap(uint32_t capacity);

/* Bytes the segment needs for `capacity` resources whose strings (id, owner,
 * aliases, attributes) share `heap` bytes (LifecycleAttributeMemory). */
apr_size_t lc_store_shm_size(uint32_t capacity, apr_size_t heap);

/* Lay out a new, empty store in `base` (size from lc_store_shm_size). */
apr_status_t lc_store_shm_format(void *base, apr_size_t size, uint32_t capacity,
                                 apr_size_t heap);

/* APR_SUCCESS when `base` holds a store of this layout and size. */
apr_status_t lc_store_shm_check(const void *base, apr_size_t size);

/* The capacity and heap bytes a formatted segment was made with. */
uint32_t lc_store_shm_capacity(const void *base);
apr_size_t lc_store_shm_heap(const void *base);

/* A store made in this process only, for the command-line tool and the
 * tests: anonymous APR shared memory and an APR global mutex of mechanism
 * `mech`, as httpd makes them; NULL when either cannot be made.  *base (if
 * not NULL) gets the segment's address. */
lc_store_t *lc_store_shm_local(apr_pool_t *p, uint32_t capacity, apr_size_t heap,
                               apr_lockmech_e mech, void **base);

/* A store over a formatted segment, locked by `mutex` (process-local handle). */
lc_store_t *lc_store_shm_open(apr_pool_t *p, void *base, apr_global_mutex_t *mutex);

/* Journal every later change through `hook` (copied); NULL: memory only. */
void lc_store_shm_set_journal(lc_store_t *st, const lc_journal_hook_t *hook);

/* The request counters' reserved shared bytes (LC_METRICS_AREA of lc_store.h,
 * zeroed at format). */
void *lc_store_shm_metrics_area(lc_store_t *st);

/* The journal's reserved shared words (LC_JOURNAL_AREA bytes, zeroed at format). */
void *lc_store_shm_journal_area(lc_store_t *st);

/* Where the journal stands, as of the last committed mutation. */
typedef struct lc_journal_pos {
    uint32_t seg;         /* segment appends go to */
    uint64_t off;         /* the next append's offset in it */
    uint64_t seq;         /* the last change numbered */
    uint64_t ring;        /* bytes ever put in the ring: its head */
} lc_journal_pos_t;

void lc_store_shm_journal_pos(lc_store_t *st, lc_journal_pos_t *pos);

/* The journal's ring: LC_JRING_BYTES of shared memory, zeroed at creation. */
void *lc_store_shm_journal_ring(lc_store_t *st);
/* Map the whole ring into this process (a child, as it starts). */
void lc_store_shm_map_ring(lc_store_t *st);

/* Start-up only (no concurrency): set where the journal stands after replay. */
void lc_store_shm_journal_set(lc_store_t *st, uint32_t seg, uint64_t off, uint64_t seq);

/* Switch appends to segment *seg + 1 at offset 0, under the mutex.  *seg gets
 * the old segment, *last_seq the last change it holds. */
apr_status_t lc_store_shm_rotate(lc_store_t *st, uint32_t *seg, uint64_t *last_seq);

/* Start-up only, before any other process or thread uses the store (the
 * parent's recovery): it takes no mutex, which would cost a million replayed
 * records a million lock round trips (two flock calls each with httpd's
 * default mechanism).  Each record is still one undo-logged mutation.
 * Replay one journal or snapshot record: the record replaces what is stored
 * unless what is stored is newer (higher seq); LC_OP_DELETE removes.  No
 * journal, no new version.  Returns LC_EFULL when there is no slot or heap
 * block left.  An alias another resource holds moves to the newer one. */
apr_status_t lc_store_shm_restore(lc_store_t *st, int op, const lc_resource_t *r);
/* Around a replay's restores: a thread maps the attribute heap ahead of
 * them (pool p outlives the replay). */
void lc_store_shm_restore_begin(lc_store_t *st, apr_pool_t *p);
void lc_store_shm_restore_end(lc_store_t *st);
/* Replay's read-ahead: the next record's key (not NUL-terminated), whose
 * index bucket is fetched into the cache while this one is restored. */
void lc_store_shm_restore_next(lc_store_t *st, int kind, const char *id, apr_size_t len);

/* Copy up to `max` resources from slot *cursor on (one lock hold); *cursor
 * advances, reaching the capacity at the end. */
apr_status_t lc_store_shm_scan(lc_store_t *st, uint32_t *cursor, lc_resource_t *out,
                               int max, int *n);

#endif
