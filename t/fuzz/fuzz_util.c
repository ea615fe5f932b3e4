/* fuzz_util: the pure helpers of lc_util.c that read request input: path
 * splitting and segment decoding, the id grammar, strict decimals, UTF-8;
 * RFC 3339 times (lc_time.c); and If-Match / If-None-Match parsing
 * (lc_engine.c).
 *
 * Decoded segments hold neither '/' nor NUL and are valid UTF-8
 * (lc_util.h); a valid id is 1..128 bytes; a time that parses formats back
 * to the same time (years 1970..9999); a parsed number is within its bounds;
 * a parsed precondition holds at most LC_PRECOND_MAX versions. */
#include <limits.h>
#include "lc_fuzz.h"
#include "lc_util.h"
#include "lc_time.h"
#include "lc_engine.h"

#define MAX_SEGS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = lc_fuzz_pool();
    const char *segs[MAX_SEGS], *s = apr_pstrmemdup(p, (const char *)data, size);
    char *dec, text[LC_TIME_TEXT_MAX];
    apr_time_t t, t2;
    lc_precond_t pc;
    long v;
    int n, i;

    dec = lc_segment_decode(p, (const char *)data, size);
    if (dec) {
        LC_FUZZ_CHECK(strchr(dec, '/') == NULL && lc_utf8_valid(dec, strlen(dec)));
        LC_FUZZ_CHECK(strlen(dec) <= size);
    }
    /* The rest reads C strings, as the handlers get them. */
    n = lc_path_split(p, s, segs, MAX_SEGS);
    LC_FUZZ_CHECK(n >= -1 && n <= MAX_SEGS);
    for (i = 0; i < n; i++) {
        LC_FUZZ_CHECK(segs[i] && strchr(segs[i], '/') == NULL
                      && lc_utf8_valid(segs[i], strlen(segs[i])));
    }
    if (lc_id_valid(s)) {
        LC_FUZZ_CHECK(strlen(s) >= 1 && strlen(s) <= 128 && strstr(s, "..") == NULL);
    }
    if (lc_time_parse_rfc3339(s, &t) == 0 && t >= 0
        && t < APR_INT64_C(253402300800) * APR_USEC_PER_SEC) {
        LC_FUZZ_CHECK(lc_time_parse_rfc3339(lc_time_rfc3339_usec(text, t), &t2) == 0 && t2 == t);
    }
    if (lc_parse_uint(s, 0, LONG_MAX, &v) == 0) {
        LC_FUZZ_CHECK(v >= 0);
    }
    if (lc_parse_uint(s, 1, 1000, &v) == 0) {
        LC_FUZZ_CHECK(v >= 1 && v <= 1000);
    }
    if (lc_utf8_valid((const char *)data, size) && memchr(data, '\0', size) == NULL) {
        LC_FUZZ_CHECK(lc_utf8_chars(s) <= size);
    }
    memset(&pc, 0, sizeof(pc));
    if (lc_precond_parse(s, &pc) == 0) {
        LC_FUZZ_CHECK(pc.n >= 0 && pc.n <= LC_PRECOND_MAX);
        (void)lc_precond_match(&pc, 1, 7);
        (void)lc_precond_match(&pc, 0, 0);
    }
    apr_pool_destroy(p);
    return 0;
}
