/* lc_journal.h — every change on disk before it is acknowledged.
 *
 * Files in the state directory:
 *   journal-NNNNNNNN.log   append-only segments of checksummed, numbered records
 *   snapshot-<seq>.snap     every resource as of a rotation, for shorter replays
 *
 * Pure APR + libsodium: the httpd layer (lc_state.c) decides when to recover,
 * attach and snapshot, and logs what this reports.
 */
#ifndef LC_JOURNAL_H
#define LC_JOURNAL_H

#include <apr_pools.h>
#include <apr_file_io.h>
#include "lc_store.h"

/* One encoded record, bytes, at most: 80 fixed, the strings, a 16-byte hash. */
#define LC_RECORD_MAX (80 + LC_ID_MAX + LC_OWNER_MAX + LC_ALIASES * LC_ALIAS_MAX \
                       + LC_DATA_MAX + 16)

typedef struct lc_journal lc_journal_t;

/* Where messages go (warnings on replay, failures); may be NULL. */
typedef void lc_journal_log_fn(void *baton, int warning, const char *msg);

typedef struct lc_journal_opts {
    const char        *dir;
    long               uid, gid;    /* owner for files the parent creates; -1 = leave */
    lc_journal_log_fn *log;
    void              *log_baton;
} lc_journal_opts_t;

typedef struct lc_recovery {
    uint64_t   snapshot_seq;   /* 0: no snapshot used */
    uint64_t   records;        /* journal records replayed */
    uint64_t   last_seq;
    apr_time_t elapsed;
} lc_recovery_t;

/* Start-up, once, in the parent, into a freshly formatted store: load the
 * newest good snapshot, replay the journal after it (cutting a torn tail),
 * and open a new segment for appends. */
apr_status_t lc_journal_recover(lc_store_t *st, const lc_journal_opts_t *o, apr_pool_t *p,
                                lc_recovery_t *out);

/* In each process: a handle, and the store's journal hook set to it. */
lc_journal_t *lc_journal_attach(lc_store_t *st, const lc_journal_opts_t *o, apr_pool_t *p);

/* Write a snapshot now (rotate, copy the store, fsync, rename, prune).  Only
 * one process at a time does it; others return APR_EBUSY at once. */
apr_status_t lc_journal_snapshot(lc_journal_t *j, uint64_t *seq);

/* Whether a snapshot is due: changes since the last one, and `every` passed. */
int lc_journal_snapshot_due(lc_journal_t *j, apr_interval_time_t every);

/* A change as the feed reads it back. */
typedef struct lc_change {
    uint64_t      seq;
    int           op;           /* lc_op_e */
    lc_resource_t r;            /* after the change; for deletes, before it */
} lc_change_t;

/* Durable changes with seq > since, oldest first, up to max.  APR_EGENERAL
 * with *oldest set when `since` is older than what is retained. */
apr_status_t lc_journal_read(lc_journal_t *j, uint64_t since, lc_change_t *out, int max,
                             int *n, uint64_t *oldest, apr_pool_t *p);

/* Block up to `timeout` until a change newer than `since` is durable. */
void lc_journal_wait(lc_journal_t *j, uint64_t since, apr_interval_time_t timeout);

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

/* Record codec, exposed for the unit tests. */
apr_size_t lc_record_encode(unsigned char *buf, uint64_t seq, int op, const lc_resource_t *r);
/* 1 = a whole valid record (*len set), 0 = not one (torn, corrupt, or end). */
int lc_record_decode(const unsigned char *buf, apr_size_t avail, lc_change_t *out,
                     apr_size_t *len);

#endif
