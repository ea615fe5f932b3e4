/* lc_b64.h — strict base64url (RFC 4648 §5, no padding), a thin layer over
 * libsodium's constant-time codec.  Pure C: APR + libsodium only. */
#ifndef LC_B64_H
#define LC_B64_H

#include <stddef.h>
#include <apr_pools.h>

/* Length of the base64url (no padding) text for n bytes, without the NUL. */
#define LC_B64URL_LEN(n) ((((n) / 3) * 4) + (((n) % 3) ? ((n) % 3) + 1 : 0))

/* Decode exactly `inlen` characters of `in`.  Refuses padding ('='), '+', '/',
 * whitespace, any other stray character, an impossible length and
 * non-canonical trailing bits.  Returns 0 and sets *outlen, or -1. */
int lc_b64url_decode(unsigned char *out, size_t outmax, const char *in,
                     size_t inlen, size_t *outlen);

/* Encode into `out`, which must hold LC_B64URL_LEN(len) + 1 bytes.
 * Returns out (NUL-terminated). */
char *lc_b64url_encode_buf(char *out, size_t outmax,
                           const unsigned char *in, size_t len);

/* Encode into a string allocated from p. */
char *lc_b64url_encode(apr_pool_t *p, const unsigned char *in, size_t len);

#endif
