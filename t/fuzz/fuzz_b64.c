/* fuzz_b64: strict base64url (lc_b64.c).  Decoding accepts only canonical
 * text, so whatever decodes must encode back to the same characters; and any
 * bytes encoded must decode back to themselves. */
#include "lc_fuzz.h"
#include "lc_b64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = lc_fuzz_pool();
    unsigned char *out = apr_palloc(p, size + 1);
    size_t outlen = 0;
    char *text;

    if (lc_b64url_decode(out, size, (const char *)data, size, &outlen) == 0) {
        LC_FUZZ_CHECK(outlen <= size);
        text = lc_b64url_encode(p, out, outlen);
        LC_FUZZ_CHECK(strlen(text) == size && memcmp(text, data, size) == 0);
    }
    /* A buffer one byte too small for what is encoded is refused. */
    if (size > 0 && lc_b64url_decode(out, 0, (const char *)data, size, &outlen) == 0) {
        LC_FUZZ_CHECK(outlen == 0);
    }

    text = lc_b64url_encode(p, data, size);
    LC_FUZZ_CHECK(strlen(text) == LC_B64URL_LEN(size));
    LC_FUZZ_CHECK(lc_b64url_decode(out, size, text, strlen(text), &outlen) == 0);
    LC_FUZZ_CHECK(outlen == size && memcmp(out, data, size) == 0);
    apr_pool_destroy(p);
    return 0;
}
