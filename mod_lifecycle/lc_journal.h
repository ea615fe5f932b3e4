/* lc_journal.h — every change on disk before it is acknowledged.
 *
 * Files in the state directory:
 *   journal-NNNNNNNN.log   append-only segments of checksummed, numbered records
 *   snapshot-<seq>.snap     every resource as of a rotation, for shorter replays
 *   lock                    flock'd by the server (and lifecycle-journal) using it
 *   salvaged-<time>/        what lifecycle-journal salvage set aside
 *
 * No httpd here (APR, libsodium and POSIX files, futexes and flock), so the
 * unit tests and the lifecycle-journal CLI use it as the server does; the
 * httpd layer (lc_state.c) decides when to recover, attach and snapshot,
 * and logs what this reports.  Together with lc_store_shm.c it is the
 * `LifecycleStore shm` backend; nothing outside that backend includes it.
 */
#ifndef LC_JOURNAL_H
#define LC_JOURNAL_H

#include <apr_pools.h>
#include <apr_file_io.h>
#include "lc_store.h"

typedef struct lc_journal lc_journal_t;

/* Where messages go (warnings on replay, failures); may be NULL. */
typedef void lc_journal_log_fn(void *baton, int warning, const char *msg);

typedef struct lc_journal_opts {
    const char        *dir;
    long               uid, gid;    /* owner for files the parent creates; -1 = leave */
    lc_journal_log_fn *log;
    void              *log_baton;
    int                dry_run;     /* recover: change nothing on disk (lifecycle-journal check) */
} lc_journal_opts_t;

typedef struct lc_recovery {
    uint64_t   snapshot_seq;   /* 0: no snapshot used */
    uint64_t   records;        /* journal records replayed */
    uint64_t   last_seq;
    apr_time_t elapsed;
    char       problem[512];   /* why recovery refused (one line), "" otherwise */
} lc_recovery_t;

/* Start-up, once, in the parent, into a freshly formatted store: load the
 * newest good snapshot, replay the journal after it, and open a new segment
 * for appends.  Only a torn tail (a record cut short at the very end, which
 * a crash can leave and which was never acknowledged) is cut.  Anything that
 * would lose an acknowledged change refuses with APR_EGENERAL and a one-line
 * out->problem naming the file, the offset and the changes affected, and
 * changes nothing on disk: damage followed by valid records, a gap in the
 * sequence, or a replay that cannot start at change 1 or at a good snapshot.
 * lc_journal_salvage() is the operator's way out. */
apr_status_t lc_journal_recover(lc_store_t *st, const lc_journal_opts_t *o, apr_pool_t *p,
                                lc_recovery_t *out);

/* The state directory's lock (flock on DIR/lock): held by the server from
 * recovery until the last of its processes exits, so that the command-line
 * tool never salvages files a running server appends to.  Returns the fd,
 * or -1 with errno (EWOULDBLOCK: another process holds it). */
int lc_journal_lock(const char *dir);

/* What lc_journal_salvage() did. */
typedef struct lc_salvage {
    uint64_t    base_seq;       /* the snapshot it started from (0: none) */
    uint64_t    last_seq;       /* the new snapshot's sequence number */
    uint64_t    records;        /* intact journal records applied */
    uint64_t    resources;      /* resources in the new snapshot */
    uint64_t    lost;           /* sequence numbers missing between base and last */
    uint64_t    damaged_bytes;  /* bytes skipped as unreadable, in all files */
    int         damaged_files;  /* files set aside as *.corrupt */
    const char *aside;          /* the folder every old file was moved to */
    const char *lost_ranges;    /* "51-51, 80-82" (at most the first few) */
} lc_salvage_t;

/* The operator's way out of a refused recovery (lifecycle-journal salvage):
 * every intact record of every snapshot and segment is applied, in sequence
 * order, into `st` (empty); a new snapshot of the result is written; every
 * old file is moved, byte for byte, into a new folder `salvaged-<time>` in
 * the state directory, the damaged ones renamed *.corrupt.  Nothing is
 * deleted.  The server then starts from the new snapshot. */
apr_status_t lc_journal_salvage(lc_store_t *st, const lc_journal_opts_t *o, apr_pool_t *p,
                                lc_salvage_t *out);

/* In each process: a handle, and the store's journal hook set to it. */
lc_journal_t *lc_journal_attach(lc_store_t *st, const lc_journal_opts_t *o, apr_pool_t *p);

/* Write a snapshot now (rotate, copy the store, fsync, rename, prune).  Only
 * one process at a time does it; others return APR_EBUSY at once. */
apr_status_t lc_journal_snapshot(lc_journal_t *j, uint64_t *seq);

/* Whether a snapshot is due: changes since the last one, and `every` passed. */
int lc_journal_snapshot_due(lc_journal_t *j, apr_interval_time_t every);

/* Durable changes with seq > since, oldest first, up to max.  APR_EGENERAL
 * with *oldest set when `since` is older than what is retained. */
apr_status_t lc_journal_read(lc_journal_t *j, uint64_t since, lc_change_t *out, int max,
                             int *n, uint64_t *oldest, apr_pool_t *p);

/* Block up to `timeout` until a change newer than `since` is durable. */
void lc_journal_wait(lc_journal_t *j, uint64_t since, apr_interval_time_t timeout);

/* lc_journal_wait also returns, within 250 ms, once `stopping()` is true (a
 * stop or graceful restart of this process), so that a long-poll never
 * holds a child that should exit.  Once per process; NULL = never. */
void lc_journal_wait_stop_check(int (*stopping)(void));

/* The last durable sequence number. */
uint64_t lc_journal_durable(lc_journal_t *j);

typedef struct lc_journal_stats {
    uint64_t flushes;
    uint64_t bytes;
    uint64_t durable_seq;
    uint64_t snapshot_seq;
    uint64_t oldest_seq;
} lc_journal_stats_t;

void lc_journal_stats(lc_journal_t *j, lc_journal_stats_t *out);

#endif
