/* lc_b64.c — strict base64url over libsodium. */
#include <sodium.h>
#include <apr_strings.h>

#include "lc_b64.h"

/* The base64url alphabet, checked by us: libsodium 1.0.18 decodes every
 * byte from 0x80 to 0xFF as if it were '_', so a key or token with such a
 * byte would otherwise be accepted. */
static int is_b64url_alphabet(const char *in, size_t inlen)
{
    size_t i;

    for (i = 0; i < inlen; i++) {
        unsigned char c = (unsigned char)in[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
            return 0;
        }
    }
    return 1;
}

int lc_b64url_decode(unsigned char *out, size_t outmax, const char *in,
                     size_t inlen, size_t *outlen)
{
    const char *end = NULL;
    size_t n = 0;

    *outlen = 0;
    if (inlen == 0) {
        return 0;
    }
    if (in == NULL || inlen % 4 == 1 || !is_b64url_alphabet(in, inlen)) {
        return -1;
    }
    /* ignore=NULL: no character is skipped; b64_end lets us check that the
     * whole input was consumed (libsodium stops early, without failing, at
     * the first character outside the alphabet when b64_end is given). */
    if (sodium_base642bin(out, outmax, in, inlen, NULL, &n, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
        return -1;
    }
    if (end != in + inlen) {
        return -1;
    }
    *outlen = n;
    return 0;
}

char *lc_b64url_encode_buf(char *out, size_t outmax,
                           const unsigned char *in, size_t len)
{
    size_t need = sodium_base64_ENCODED_LEN(len,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING);

    if (outmax < need) {
        if (outmax) {
            out[0] = '\0';
        }
        return out;
    }
    return sodium_bin2base64(out, outmax, in, len,
                             sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

char *lc_b64url_encode(apr_pool_t *p, const unsigned char *in, size_t len)
{
    size_t need = sodium_base64_ENCODED_LEN(len,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *out = apr_palloc(p, need);

    return lc_b64url_encode_buf(out, need, in, len);
}
