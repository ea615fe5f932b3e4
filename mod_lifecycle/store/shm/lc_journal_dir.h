/* lc_journal_dir.h — the state directory (lc_journal_dir.c): where the
 * journal's, the snapshots' and the recovery's files are, how they are
 * named, listed, read, synced and owned, and the directory's lock.
 */
#ifndef LC_JOURNAL_DIR_H
#define LC_JOURNAL_DIR_H

#include <apr_pools.h>
#include <apr_tables.h>
#include "lc_log.h"

/* Where messages go (warnings on replay, failures); may be NULL. */
typedef void lc_journal_log_fn(void *baton, int warning, const char *msg);

typedef struct lc_journal_opts {
    const char        *dir;
    long               uid, gid;    /* owner for files the parent creates; -1 = leave */
    lc_journal_log_fn *log;
    void              *log_baton;
    int                dry_run;     /* recover: change nothing on disk (lifecycle-journal check) */
} lc_journal_opts_t;

/* The state directory's lock (flock on DIR/lock): held by the server from
 * recovery until the last of its processes exits, so that the command-line
 * tool never salvages files a running server appends to.  Returns the fd,
 * or -1 with errno (EWOULDBLOCK: another process holds it). */
int lc_journal_lock(const char *dir);

/* Log through the options' callback (warning: 1). */
void lc_journal_dir_say(const lc_journal_opts_t *o, int warning, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
char *lc_journal_dir_seg_path(apr_pool_t *p, const char *dir, uint32_t seg);
char *lc_journal_dir_snap_path(apr_pool_t *p, const char *dir, uint64_t seq);
int lc_journal_dir_fsync(const char *dir);
/* Give a file the parent creates to the server's User (opts uid/gid). */
void lc_journal_dir_chown(const lc_journal_opts_t *o, const char *path);
/* A whole file into pool memory; 0 = read. */
int lc_journal_dir_read_file(apr_pool_t *p, const char *path, unsigned char **buf, apr_size_t *len);
/* A whole file mapped read-only until the pool goes (no copy, no fresh
 * memory to fault in: start-up replay reads hundreds of MiB); 0 = mapped.
 * Only for a file nobody truncates meanwhile. */
int lc_journal_dir_map_file(apr_pool_t *p, const char *path, const unsigned char **buf,
                            apr_size_t *len);
/* Segment numbers ascending, snapshot sequence numbers newest first. */
apr_status_t lc_journal_dir_list(apr_pool_t *p, const char *dir, apr_array_header_t **segs,
                             apr_array_header_t **snaps);
/* The first change a segment holds at offset 0 (0 if none). */
uint64_t lc_journal_dir_first_seq(apr_pool_t *p, const char *dir, uint32_t seg);
#endif
