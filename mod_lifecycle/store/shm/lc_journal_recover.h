/* lc_journal_recover.h — reading a state directory back
 * (lc_journal_recover.c): start-up recovery and the operator's salvage.
 */
#ifndef LC_JOURNAL_RECOVER_H
#define LC_JOURNAL_RECOVER_H

#include "lc_journal_dir.h"
#include "lc_store.h"

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

#endif
