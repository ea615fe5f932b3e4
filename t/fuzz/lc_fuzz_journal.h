/* lc_fuzz_journal.h — journal records for the record and recovery targets
 * (and the seed generator): the record layout of lc_journal.c, enough to
 * walk records and fix their checksums. */
#ifndef LC_FUZZ_JOURNAL_H
#define LC_FUZZ_JOURNAL_H

#include "lc_fuzz.h"
#include "lc_journal.h"
#include "lc_record.h"
#include "lc_snapshot.h"
#include "lc_journal_recover.h"

#define LC_FUZZ_REC_HEAD 80     /* lc_journal.c REC_HEAD */
#define LC_FUZZ_REC_HASH 16     /* lc_journal.c REC_HASH: BLAKE2b-128 of what precedes */
#define LC_FUZZ_SNAP_HEAD 32    /* lc_journal.c SNAP_HEAD */
#define LC_FUZZ_SNAP_TAIL 48    /* lc_journal.c SNAP_TAIL: "LCSEND1\0", count, BLAKE2b-256 */

static inline uint32_t lc_fuzz_get32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t lc_fuzz_get64(const unsigned char *p)
{
    return (uint64_t)lc_fuzz_get32(p) | ((uint64_t)lc_fuzz_get32(p + 4) << 32);
}

/* Give every record of buf (len bytes), as far as their length words walk,
 * a correct checksum: a mutated record then gets past the checksum to the
 * checks behind it. */
static inline void lc_fuzz_fix_checksums(unsigned char *buf, size_t len)
{
    size_t off = 0, n;

    while (off + LC_FUZZ_REC_HEAD + LC_FUZZ_REC_HASH <= len) {
        n = lc_fuzz_get32(buf + off + 4);
        if (n < LC_FUZZ_REC_HEAD + LC_FUZZ_REC_HASH || n > LC_RECORD_MAX || n > len - off) {
            return;
        }
        crypto_generichash(buf + off + n - LC_FUZZ_REC_HASH, LC_FUZZ_REC_HASH,
                           buf + off, n - LC_FUZZ_REC_HASH, NULL, 0);
        off += n;
    }
}

#endif
