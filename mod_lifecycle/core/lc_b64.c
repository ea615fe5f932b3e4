/* lc_b64.c — strict base64url over libsodium. */
#include <sodium.h>
#include <apr_strings.h>

#include "lc_b64.h"

/* 1 when lo <= c <= hi (all in 0..255), without a branch on c. */
static unsigned in_range(unsigned c, unsigned lo, unsigned hi)
{
    return ((lo - 1 - c) & (c - hi - 1)) >> 31;
}

/* Whether in[0..inlen) is all base64url alphabet.  libsodium 1.0.18
 * (Debian 12) decodes every byte from 0x80 up as '_', so it cannot be left
 * to check this (found by t/fuzz/fuzz_b64.c). */
static int b64url_alphabet(const char *in, size_t inlen)
{
    unsigned bad = 0, c;
    size_t i;

    for (i = 0; i < inlen; i++) {
        c = (unsigned char)in[i];
        bad |= 1u ^ (in_range(c, 'A', 'Z') | in_range(c, 'a', 'z') | in_range(c, '0', '9')
                     | in_range(c, '-', '-') | in_range(c, '_', '_'));
    }
    return bad == 0;
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
    if (in == NULL || inlen % 4 == 1 || !b64url_alphabet(in, inlen)) {
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
