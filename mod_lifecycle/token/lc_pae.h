/* lc_pae.h — PASETO's pre-authentication encoding (PAE), what a v4.public
 * token's Ed25519 signature covers: verification (lc_token.c) and minting
 * (mint/lc_token_mint.c) build the same bytes from here.
 *
 * Pure C; no httpd headers. */
#ifndef LC_PAE_H
#define LC_PAE_H

#include <stddef.h>

/* The one PASETO version and purpose accepted, as a token starts with it. */
#define LC_PAE_V4_PUBLIC "v4.public."
#define LC_PAE_V4_PUBLIC_LEN (sizeof(LC_PAE_V4_PUBLIC) - 1)

/* The encoding of n pieces into out (which may be NULL to learn the size):
 * LE64(n) || (LE64(len) || piece)*.  Returns the encoded length. */
size_t lc_pae(unsigned char *out, int n, const unsigned char *const *pieces,
              const size_t *lens);

/* PAE(LC_PAE_V4_PUBLIC, m, f, ia) in a buffer the caller free()s; ia NULL
 * is "".  NULL when out of memory. */
unsigned char *lc_pae_v4_public(const unsigned char *m, size_t ml,
                                const unsigned char *f, size_t fl,
                                const char *ia, size_t *outlen);

#endif
