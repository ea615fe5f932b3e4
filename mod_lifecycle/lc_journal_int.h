/* lc_journal_int.h — what the journal's two files share; not an API.
 *
 * lc_journal.c writes (the record codec, appends, group commit, snapshots,
 * the change feed); lc_journal_recover.c reads a state directory back
 * (start-up recovery and the operator's salvage).  Both use the file
 * layout below and the small helpers declared here.
 */
#ifndef LC_JOURNAL_INT_H
#define LC_JOURNAL_INT_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>
#include "lc_journal.h"
#include "lc_store_shm.h"

#define REC_MAGIC      0x324a434cu    /* "LCJ2": checksum SipHash-2-4-128 */
#define REC_MAGIC_V1   0x314a434cu    /* "LCJ1": checksum BLAKE2b-128 (still read) */
#define REC_HEAD       80             /* fixed part before id/owner/data */
#define REC_HASH       16             /* checksum over everything before it */
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

/* Little-endian integers in records and snapshot headers. */
static inline void put64(unsigned char *p, uint64_t v)
{
    int i;
    for (i = 0; i < 8; i++) {
        p[i] = (unsigned char)(v >> (8 * i));
    }
}

static inline void put32(unsigned char *p, uint32_t v)
{
    int i;
    for (i = 0; i < 4; i++) {
        p[i] = (unsigned char)(v >> (8 * i));
    }
}

static inline uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    int i;
    for (i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

static inline uint32_t get32(const unsigned char *p)
{
    uint32_t v = 0;
    int i;
    for (i = 3; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

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
/* Whether a snapshot file passes its checks, read in chunks; *first_seg set. */
int lc_jnl_snap_intact(const char *path, uint64_t seq, uint32_t *first_seg);

#endif
