/* lc_journal_int.h — what the journal's two files share; not an API.
 *
 * lc_journal.c appends, flushes (group commit) and reads the change feed
 * back; lc_snapshot.c writes snapshots; lc_journal_recover.c reads a state
 * directory back (start-up recovery and the operator's salvage);
 * lc_journal_dir.c holds the file helpers all of them use.
 */
#ifndef LC_JOURNAL_INT_H
#define LC_JOURNAL_INT_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include "lc_journal.h"
#include "lc_store_shm.h"
#include "lc_record.h"

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

/* One process's handle on the journal. */
struct lc_journal {
    lc_store_t        *st;
    jshm_t            *sh;
    const char        *dir;
    lc_journal_log_fn *log;
    void              *log_baton;
    int                fd;          /* append fd, used only under the store mutex */
    uint32_t           fd_seg;
};

/* Make everything appended so far durable (group commit's one flush). */
apr_status_t lc_jnl_flush(lc_journal_t *j);
/* Wake every waiter of lc_journal_wait / the group commit: `durable` rose. */
void lc_jnl_wake(jshm_t *sh);
/* Log through the options' callback (warning: 1). */
void lc_jnl_say(const lc_journal_opts_t *o, int warning, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
char *lc_jnl_seg_path(apr_pool_t *p, const char *dir, uint32_t seg);
char *lc_jnl_snap_path(apr_pool_t *p, const char *dir, uint64_t seq);
int lc_jnl_fsync_dir(const char *dir);
/* Give a file the parent creates to the server's User (opts uid/gid). */
void lc_jnl_chown(const lc_journal_opts_t *o, const char *path);
/* A whole file into pool memory; 0 = read. */
int lc_jnl_read_file(apr_pool_t *p, const char *path, unsigned char **buf, apr_size_t *len);
/* Segment numbers ascending, snapshot sequence numbers newest first. */
apr_status_t lc_jnl_list_dir(apr_pool_t *p, const char *dir, apr_array_header_t **segs,
                             apr_array_header_t **snaps);
/* The first change a segment holds at offset 0 (0 if none). */
uint64_t lc_jnl_first_seq(apr_pool_t *p, const char *dir, uint32_t seg);
/* Write every resource of st changed at or before seq as a snapshot into fd. */
int lc_jnl_write_snapshot(lc_store_t *st, int fd, uint64_t seq, uint32_t first_seg,
                          apr_pool_t *p);
/* A snapshot's frame from its first SNAP_HEAD and last SNAP_TAIL bytes (of
 * `size`): magic, sequence number `seq`, end marker; 0 = it is one, with
 * *first_seg and *count set. */
int lc_jnl_snap_frame(const unsigned char *head, const unsigned char *tail, apr_size_t size,
                      uint64_t seq, uint32_t *first_seg, uint64_t *count);
/* Whether a snapshot file passes its checks, read in chunks; *first_seg set. */
int lc_jnl_snap_intact(const char *path, uint64_t seq, uint32_t *first_seg);

#endif
