/* lc_token_mint.h — signed tokens made from a secret key: PASETO v4.public
 * and JWT/JWS with EdDSA, what lc_token.h verifies.
 *
 * For the lifecycle-token CLI, the unit tests and the fuzz targets only: the
 * module verifies tokens and never makes one, so this folder is not among
 * the module's sources (apxs.mk) and the server loads no code that signs.
 * Pure C (APR, libsodium, jansson). */
#ifndef LC_TOKEN_MINT_H
#define LC_TOKEN_MINT_H

#include <stddef.h>
#include <apr_pools.h>

/* sk is libsodium's 64-byte secret key.  Strings come from p; NULL on error
 * (claims_json is signed as given — it is not re-parsed). */
char *lc_token_mint_paseto(apr_pool_t *p, const unsigned char sk[64],
                           const char *claims_json, const char *footer /* NULL/"" = none */);
/* Same, with an implicit assertion (tests). */
char *lc_token_mint_paseto_ia(apr_pool_t *p, const unsigned char sk[64],
                              const char *claims_json, const char *footer,
                              const char *implicit_assertion);
/* Header {"alg":"EdDSA","typ":"JWT","kid":kid} (kid omitted when NULL). */
char *lc_token_mint_jwt(apr_pool_t *p, const unsigned char sk[64],
                        const char *kid /*NULL*/, const char *claims_json);
/* Any header, any payload bytes, signed with Ed25519 (tests: alg/typ/crit). */
char *lc_token_mint_jws(apr_pool_t *p, const unsigned char sk[64],
                        const char *header_json, const unsigned char *payload,
                        size_t payload_len);

#endif
