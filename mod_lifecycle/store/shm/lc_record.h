/* lc_record.h — one change as bytes (lc_record.c): the unit of the journal
 * segments and of the snapshots, and the little-endian helpers of their
 * file formats.
 */
#ifndef LC_RECORD_H
#define LC_RECORD_H

#include <apr_pools.h>
#include "lc_store.h"

/* One encoded record, bytes, at most: 80 fixed, the strings, a 16-byte hash. */
#define LC_RECORD_MAX (80 + LC_ID_MAX + LC_OWNER_MAX + LC_ALIASES * LC_ALIAS_MAX \
                       + LC_DATA_MAX + 16)

#define REC_MAGIC      0x324a434cu    /* "LCJ2": checksum SipHash-2-4-128 */
#define REC_MAGIC_V1   0x314a434cu    /* "LCJ1": checksum BLAKE2b-128 (still read) */
#define REC_HEAD       80             /* fixed part before id/owner/data */
#define REC_HASH       16             /* checksum over everything before it */

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

/* Encode change `seq` (op, r) into buf (LC_RECORD_MAX bytes); its length. */
apr_size_t lc_record_encode(unsigned char *buf, uint64_t seq, int op, const lc_resource_t *r);
/* 1 = a whole valid record (*len set), 0 = not one (torn, corrupt, or end). */
int lc_record_decode(const unsigned char *buf, apr_size_t avail, lc_change_t *out,
                     apr_size_t *len);
/* lc_record_decode for bytes that lc_record_check has passed: the same
 * checks of the head and the lengths, the checksum not computed again. */
int lc_record_decode_checked(const unsigned char *buf, apr_size_t avail, lc_change_t *out,
                             apr_size_t *len);
/* 1 = a record of *len bytes whose checksum holds, nothing decoded: what
 * merely checking a file costs (make bench sets replay against it). */
int lc_record_check(const unsigned char *buf, apr_size_t avail, apr_size_t *len);
/* 1 = buf starts with a record head whose key (*kind, the id at *id, *len
 * bytes, not NUL-terminated) lies within avail; nothing is checked: a
 * hint (replay's read-ahead), never data. */
int lc_record_key(const unsigned char *buf, apr_size_t avail, int *kind, const char **id,
                  apr_size_t *len);

#endif
