/* lc_snapshot.h — snapshots (lc_snapshot.c): every resource as of a
 * rotation, written atomically, checked, pruned.
 */
#ifndef LC_SNAPSHOT_H
#define LC_SNAPSHOT_H

#include "lc_journal.h"

/* The file: a 32-byte header (magic, sequence number, first segment to
 * replay after it), records, and a trailer (end marker, count, BLAKE2b-256). */
#define SNAP_MAGIC     "LCSNAP1"
#define SNAP_END       "LCSEND1"
#define SNAP_HEAD      32
#define SNAP_TAIL      (8 + 8 + 32)

/* Write a snapshot now (rotate, copy the store, fsync, rename, prune).  Only
 * one process at a time does it; others return APR_EBUSY at once. */
apr_status_t lc_journal_snapshot(lc_journal_t *j, uint64_t *seq);

/* Whether a snapshot is due: changes since the last one, and `every` passed. */
int lc_journal_snapshot_due(lc_journal_t *j, apr_interval_time_t every);

/* Write every resource of st changed at or before seq as a snapshot into fd. */
int lc_snapshot_write(lc_store_t *st, int fd, uint64_t seq, uint32_t first_seg,
                          apr_pool_t *p);
/* A snapshot's frame from its first SNAP_HEAD and last SNAP_TAIL bytes (of
 * `size`): magic, sequence number `seq`, end marker; 0 = it is one, with
 * *first_seg and *count set. */
int lc_snapshot_frame(const unsigned char *head, const unsigned char *tail, apr_size_t size,
                      uint64_t seq, uint32_t *first_seg, uint64_t *count);
/* Whether a snapshot file passes its checks, read in chunks; *first_seg set. */
int lc_snapshot_intact(const char *path, uint64_t seq, uint32_t *first_seg);

#endif
