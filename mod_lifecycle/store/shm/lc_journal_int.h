/* lc_journal_int.h — what the journal's files share; not an API.
 *
 * lc_journal.c appends, flushes (group commit) and reads the change feed
 * back; lc_snapshot.c writes snapshots, with the journal's flush;
 * lc_journal_recover.c sets the journal's shared words after a replay.
 * (lc_journal_dir.c, the file helpers all of them use, needs none of it.)
 */
#ifndef LC_JOURNAL_INT_H
#define LC_JOURNAL_INT_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
/* Not lc_journal.h: its typedef is enough here, so the ring
 * (lc_journal_ring.c), which lc_journal.c calls, does not depend on
 * lc_journal (build/layers.pl). */
#include "lc_store.h"
typedef struct lc_journal lc_journal_t;
#include "lc_store_shm.h"
#include "lc_record.h"
#include "lc_journal_dir.h"

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
    uint64_t ring_tail;        /* ring bytes written and fdatasync'd (lc_journal_ring.c) */
    uint64_t ring_full;        /* times a change waited for room in the ring */
    uint64_t flush_gen;        /* flushes started (lc_journal.c: who a wake is for) */
    uint64_t flush_tag;        /* the newest flush: its last change << 5 | its gen % 31 */
} jshm_t;

_Static_assert(sizeof(jshm_t) <= LC_JOURNAL_AREA, "journal words fit the reserved area");

/* One process's handle on the journal. */
struct lc_journal {
    lc_store_t        *st;
    jshm_t            *sh;
    const char        *dir;
    lc_journal_log_fn *log;
    void              *log_baton;
    unsigned char     *ring;        /* LC_JRING_BYTES in the shared segment */
};

/* Make everything appended so far durable (group commit's one flush);
 * *gen (may be NULL): the flush's generation, for lc_journal_wake_flush. */
apr_status_t lc_journal_flush(lc_journal_t *j, uint64_t *gen);
/* *word = max(*word, v), atomically.  Inline: the journal and its ring both
 * use it, and neither may depend on the other's object (build/layers.pl). */
static inline void lc_journal_cas_max(uint64_t *word, uint64_t v)
{
    uint64_t cur = __atomic_load_n(word, __ATOMIC_ACQUIRE);

    while (cur < v && !__atomic_compare_exchange_n(word, &cur, v, 0, __ATOMIC_ACQ_REL,
                                                   __ATOMIC_ACQUIRE)) {
    }
}
/* Make change `seq` durable: lead a flush or wait for one (group commit). */
apr_status_t lc_journal_sync(lc_journal_t *j, uint64_t seq);

/* The ring (lc_journal_ring.c).  Store mutex held: put one encoded record,
 * bound for (seg, off), at ring position `pos`; *rlen its bytes there. */
void lc_jring_put(lc_journal_t *j, uint64_t pos, uint32_t seg, uint64_t off,
                  const unsigned char *rec, apr_size_t n, uint64_t *rlen);
/* Store mutex held, between mutations: whether the ring has room for one
 * more record after `head` (when not, the journal flushes and asks again). */
int lc_jring_has_room(const lc_journal_t *j, uint64_t head);
/* The flusher: write ring bytes [ring_tail, head) to their segments and
 * fdatasync them; ring_tail then reaches head. */
apr_status_t lc_jring_drain(lc_journal_t *j, uint64_t head);
/* Wake every waiter of lc_journal_wait / the group commit: `durable` rose. */
void lc_journal_wake(jshm_t *sh);
/* `durable` rose by flush `gen`: wake the commits it covered, the feed's
 * waiters and one commit waiting for the next flush, to lead it. */
void lc_journal_wake_flush(jshm_t *sh, uint64_t gen);
#endif
