/* lc_token.h — bearer token verification: PASETO v4.public and JWT/EdDSA,
 * and the checks of the claims a verified token carries.
 *
 * Pure C (APR + libsodium + jansson; no httpd headers), shared by the module,
 * the unit tests and the lifecycle-token CLI.  The keys are a keyring
 * (lc_keyring.h, filled from key files: lc_keyfile.h); tokens are made by
 * mint/lc_token_mint.h, which the module does not contain.
 *
 * Both formats are Ed25519 only, verified with crypto_sign_verify_detached
 * against the keys of a keyring.  The algorithm is never taken from the
 * token.  Verification is two layers:
 *   1. lc_token_verify_signature(): structure, header/footer, key selection
 *      and the signature; yields the signed payload bytes (not interpreted);
 *   2. lc_token_check_claims(): the JSON claims of a verified payload against
 *      a policy (time window, iss, aud) and extraction of sub/jti/scopes.
 * lc_token_verify() is the two in sequence: no claim is looked at before a
 * configured key verified the signature.
 *
 * Key ids (kid): a JWT header "kid", or a PASETO footer {"kid": "..."}.
 * Every key in a ring answers to two ids: its JWK "kid" (when it came from a
 * JWK with one) and its PASERK id "k4.pid.…".  A token with a kid is checked
 * against that key only (UNKNOWN_KID if no key has that id); a token without
 * a kid is tried against each key.  A PASETO footer is either empty or a JSON
 * object (a non-JSON, non-empty footer is MALFORMED); its "kid", when present,
 * must be a string, and must not be a PASERK that is itself a key
 * ("k4.public.", "k4.secret.", "k4.local.", ...: MALFORMED, per PASERK).
 */
#ifndef LC_TOKEN_H
#define LC_TOKEN_H

#include <stddef.h>
#include <apr_pools.h>
#include <apr_time.h>
#include "lc_keyring.h"

#define LC_TOKEN_MAX 8192            /* longer tokens are refused before any decoding */
#define LC_TOKEN_LEEWAY_DEFAULT apr_time_from_sec(60)

/* ---- verification ----------------------------------------------------- */

typedef enum {
    LC_TOKEN_OK = 0,
    LC_TOKEN_MALFORMED,      /* structure, base64url, JSON, duplicate claims, wrong claim types */
    LC_TOKEN_TOO_LONG,
    LC_TOKEN_UNSUPPORTED,    /* alg not EdDSA/Ed25519, typ not JWT/at+jwt/application/at+jwt, PASETO not v4.public (v4.local, v3.public, ...), crit header */
    LC_TOKEN_UNKNOWN_KID,    /* kid given, no such key */
    LC_TOKEN_BAD_SIGNATURE,  /* no configured key verifies it */
    LC_TOKEN_EXPIRED,
    LC_TOKEN_NOT_YET_VALID,  /* nbf (or iat) in the future beyond leeway */
    LC_TOKEN_NO_EXP,         /* exp missing */
    LC_TOKEN_WRONG_ISSUER,
    LC_TOKEN_WRONG_AUDIENCE
} lc_token_status_e;

/* "ok", "malformed", "too_long", "unsupported", "unknown_kid",
 * "bad_signature", "expired", "not_yet_valid", "no_exp", "wrong_issuer",
 * "wrong_audience" — for logs and metrics. */
const char *lc_token_status_name(lc_token_status_e s);

typedef struct lc_token_policy {
    apr_time_t now;            /* apr_time_t microseconds */
    apr_interval_time_t leeway;/* default 60 s (lc_token_policy_init); negative = 0 */
    const char *issuer;        /* NULL = not checked */
    const char *audience;      /* NULL = not checked; else aud (string or array) must contain it */
    const char *implicit_assertion; /* PASETO only; NULL = "" (the module always uses ""; tests use the vectors') */
} lc_token_policy_t;

/* now, 60 s leeway, no iss/aud, empty implicit assertion. */
void lc_token_policy_init(lc_token_policy_t *pol, apr_time_t now);

#define LC_TOKEN_SCOPES_MAX 32
#define LC_TOKEN_SCOPE_LEN_MAX 128
typedef struct lc_token_claims {
    char sub[64];              /* "" if absent; a sub longer than 63 bytes => MALFORMED */
    char jti[128];             /* "" if absent; longer => MALFORMED */
    apr_time_t exp, nbf, iat;  /* 0 if absent */
    int nscopes;
    char scopes[LC_TOKEN_SCOPES_MAX][LC_TOKEN_SCOPE_LEN_MAX + 1];  /* from "scope" (space-separated, RFC 9068) or "scp" (array of strings); union, no duplicates */
    int is_paseto;
    int key_index;             /* which ring key verified it */
} lc_token_claims_t;

/* Full verification: lc_token_verify_signature() then lc_token_check_claims().
 * Format by prefix: "v4.public." => PASETO; "v<digits>." => PASETO of an
 * unsupported version/purpose (UNSUPPORTED); anything else => JWT compact
 * serialization with exactly 3 parts.  `out` may be NULL; `pol` NULL means
 * lc_token_policy_init(now).  When the result is not OK, out->nscopes is 0
 * (sub/jti may be filled when the signature held, for the audit line). */
lc_token_status_e lc_token_verify(const lc_keyring_t *kr, const char *token, size_t len,
                                  const lc_token_policy_t *pol, lc_token_claims_t *out);

/* Signature layer.  On LC_TOKEN_OK, raw->payload holds the signed payload
 * (PASETO message m / JWT payload, base64url-decoded, NUL-terminated) and
 * raw->header the PASETO footer (decoded) or the JWT header JSON. */
typedef struct lc_token_raw {
    int is_paseto;
    int key_index;
    size_t payload_len, header_len;
    unsigned char payload[LC_TOKEN_MAX];
    unsigned char header[LC_TOKEN_MAX];
} lc_token_raw_t;

lc_token_status_e lc_token_verify_signature(const lc_keyring_t *kr, const char *token,
                                            size_t len, const char *implicit_assertion,
                                            lc_token_raw_t *raw);

/* Claims layer: `json` is a verified payload. */
lc_token_status_e lc_token_check_claims(const char *json, size_t len, int is_paseto,
                                        const lc_token_policy_t *pol, lc_token_claims_t *out);

/* PASETO's exp/nbf/iat are RFC 3339 strings: lc_time.h reads and writes them. */

/* The checks a cached or freshly verified token passes at each use
 * (lc_token_cache.c, lc_auth.c): within exp/nbf at now, give or take
 * leeway; holding scope. */
int lc_token_claims_current(const lc_token_claims_t *c, apr_time_t now,
                            apr_interval_time_t leeway);
int lc_token_claims_has_scope(const lc_token_claims_t *c, const char *scope);

#endif
