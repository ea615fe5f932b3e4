/* fuzz_record: the journal record decoder (lc_record_decode, lc_record.c).
 *
 * The first byte: odd = fix the checksums first (lc_fuzz_journal.h), so the
 * length, kind and op checks behind the checksum are reached.  A decoded
 * record is whole and inside the input, and its resource, encoded again,
 * decodes to the same resource. */
#include "lc_fuzz_journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *buf, again[LC_RECORD_MAX];
    lc_change_t c, d;
    apr_size_t len = 0, len2 = 0, n;

    if (size == 0) {
        return 0;
    }
    lc_fuzz_root();
    /* An exact-size copy, so ASan sees any read past the input. */
    buf = malloc(size - 1 ? size - 1 : 1);
    memcpy(buf, data + 1, size - 1);
    if (data[0] & 1) {
        lc_fuzz_fix_checksums(buf, size - 1);
    }
    if (lc_record_decode(buf, size - 1, &c, &len)) {
        LC_FUZZ_CHECK(len >= LC_FUZZ_REC_HEAD + LC_FUZZ_REC_HASH && len <= size - 1
                      && len <= LC_RECORD_MAX);
        /* Each text ends inside its field (the decoder clears nothing else). */
        LC_FUZZ_CHECK(strnlen(c.r.id, LC_ID_MAX + 1) <= LC_ID_MAX
                      && strnlen(c.r.owner, LC_OWNER_MAX + 1) <= LC_OWNER_MAX
                      && strnlen(c.r.data, LC_DATA_MAX + 1) <= LC_DATA_MAX);
        if (c.r.id[0] != '\0') {
            n = lc_record_encode(again, c.seq, c.op, &c.r);
            LC_FUZZ_CHECK(n <= len);
            LC_FUZZ_CHECK(lc_record_decode(again, n, &d, &len2) && len2 == n);
            LC_FUZZ_CHECK(d.seq == c.seq && d.op == c.op && d.r.kind == c.r.kind
                          && d.r.state == c.r.state && d.r.desired == c.r.desired
                          && d.r.version == c.r.version && d.r.due == c.r.due
                          && strcmp(d.r.id, c.r.id) == 0 && strcmp(d.r.owner, c.r.owner) == 0
                          && strcmp(d.r.data, c.r.data) == 0);
        }
    }
    free(buf);
    return 0;
}
