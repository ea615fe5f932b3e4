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
#include "lc_journal_dir.h"

typedef struct lc_journal lc_journal_t;

/* In each process: a handle, and the store's journal hook set to it. */
lc_journal_t *lc_journal_attach(lc_store_t *st, const lc_journal_opts_t *o, apr_pool_t *p);

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
