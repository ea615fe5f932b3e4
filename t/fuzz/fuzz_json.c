/* fuzz_json: lc_json.c (every JSON text the module reads) and
 * lc_json_pyerr.c (Python's json errors for Notte's json_invalid) on any
 * bytes.  The first byte picks lc_json's flags (bits 0 and 1).
 *
 * A value read is nested at most LC_JSON_DEPTH_MAX deep; the strict reading
 * accepts nothing a relaxed one refuses; a value writes back to text that
 * reads as an equal value.  Python's json reads every UTF-8 text lc_json
 * reads (so Notte answers json_invalid only for what Python refuses), an
 * error is placed within the text, and where the Python scanner stops for
 * depth, lc_json refuses too. */
#include "lc_fuzz.h"
#include "lc_json.h"
#include "lc_json_pyerr.h"
#include "lc_util.h"

#define RELAXED (LC_JSON_ANY_VALUE | LC_JSON_LAST_WINS)

static int depth(json_t *j)
{
    int max = 0, d;
    const char *k;
    json_t *v;
    size_t i;

    if (json_is_object(j)) {
        json_object_foreach(j, k, v) {
            if ((d = depth(v)) > max) max = d;
        }
        return max + 1;
    }
    if (json_is_array(j)) {
        json_array_foreach(j, i, v) {
            if ((d = depth(v)) > max) max = d;
        }
        return max + 1;
    }
    return 0;
}

/* What reads writes back to text that reads the same (when it fits). */
static void round_trip(apr_pool_t *p, json_t *j, int flags)
{
    apr_size_t len;
    char *text = lc_json_dump(p, j, JSON_COMPACT | JSON_ENCODE_ANY, &len);
    json_t *again;

    LC_FUZZ_CHECK(text != NULL);
    if (len > LC_JSON_TEXT_MAX) {
        return;                     /* "1e9" writes as "1000000000.0" */
    }
    again = lc_json_parse(p, text, len, flags, NULL);
    LC_FUZZ_CHECK(again != NULL && json_equal(j, again));
}

/* Where Python's json refuses s, lc_json refuses it too (`relaxed`: what
 * lc_json read of it with Python's own rules, or NULL). */
static void python(const char *s, size_t n, const json_t *relaxed)
{
    lc_json_pyerr_t e;
    size_t i, chars = 0;

    for (i = 0; i < n; i++) {
        chars += ((unsigned char)s[i] & 0xc0) != 0x80;
    }
    if (lc_json_pyerr_scan(s, n, &e) == 0) {
        return;
    }
    LC_FUZZ_CHECK(e.msg != NULL && e.pos >= 0 && (size_t)e.pos <= chars);
    LC_FUZZ_CHECK(relaxed == NULL || e.deep == 0);
    if (lc_utf8_valid(s, n) && memchr(s, '\0', n) == NULL) {
        LC_FUZZ_CHECK(relaxed == NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *s = (const char *)data + 1, *why = NULL;
    size_t n = size - 1;
    json_t *j, *relaxed;
    int flags;

    if (size == 0) {
        return 0;
    }
    p = lc_fuzz_pool();
    flags = data[0] & RELAXED;
    j = lc_json_parse(p, s, n, flags, &why);
    LC_FUZZ_CHECK(j != NULL || why != NULL);
    relaxed = lc_json_parse(p, s, n, RELAXED, NULL);
    if (j) {
        LC_FUZZ_CHECK(n <= LC_JSON_TEXT_MAX && depth(j) <= LC_JSON_DEPTH_MAX);
        LC_FUZZ_CHECK(relaxed != NULL && json_equal(j, relaxed));
        LC_FUZZ_CHECK(flags & LC_JSON_ANY_VALUE || json_is_object(j) || json_is_array(j));
        round_trip(p, j, flags);
    }
    python(s, n, relaxed);
    apr_pool_destroy(p);
    return 0;
}
