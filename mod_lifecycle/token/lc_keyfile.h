/* lc_keyfile.h — key files: the public keys LifecycleTokenKey names, read
 * into a keyring (lc_keyring.h).
 *
 * Pure C (APR + libsodium + jansson); no httpd headers.  A key file is a
 * PASERK "k4.public.<b64url 32 bytes>" (whitespace around it OK; several,
 * separated by whitespace, are several keys), a JWK
 * {"kty":"OKP","crv":"Ed25519","x":...,"kid":...} or a JWKS {"keys":[...]}.
 * Public keys only: a JWK with "d", or a "k4.secret." file, is refused.
 * Every key of a JWKS must be OKP/Ed25519 ("use", when present, "sig";
 * "alg", when present, "EdDSA" or "Ed25519").  All-or-nothing: on error the
 * ring is unchanged.  The same public key loaded twice (e.g. from the .pub
 * and the .jwk of one issuer) is kept once with the ids of both; two
 * different keys may not share an id.
 */
#ifndef LC_KEYFILE_H
#define LC_KEYFILE_H

#include <stddef.h>
#include <apr_pools.h>
#include <apr_errno.h>
#include "lc_keyring.h"

#define LC_KEYFILE_MAX 65536         /* bytes; a longer file is refused */

/* Load the key file at path into kr.  Returns APR_SUCCESS, or an error with
 * *err a one-line human reason (naming the file; never key material). */
apr_status_t lc_keyfile_load(lc_keyring_t *kr, const char *path,
                             apr_pool_t *p, const char **err);

/* Same, from a string (file contents). `what` names the source in errors. */
apr_status_t lc_keyfile_load_string(lc_keyring_t *kr, const char *text,
                                    size_t len, const char *what,
                                    apr_pool_t *p, const char **err);

#endif
