/* lc_token.h — bearer token verification: PASETO v4.public and JWT/EdDSA.
 *
 * Pure C (APR + libsodium + jansson; no httpd headers), shared by the module,
 * the unit tests and the lifecycle-token CLI.
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

#define LC_TOKEN_MAX 8192            /* longer tokens are refused before any decoding */
#define LC_KEYRING_MAX 32            /* keys in one ring */
#define LC_KID_MAX 127               /* longest accepted kid (bytes) */
#define LC_PASERK_PID_LEN 51         /* strlen("k4.pid.") + 44 */
#define LC_PASERK_PUBLIC_LEN 53      /* strlen("k4.public.") + 43 */
#define LC_PASERK_SECRET_LEN 96      /* strlen("k4.secret.") + 86 */
#define LC_TOKEN_LEEWAY_DEFAULT apr_time_from_sec(60)

/* ---- keys ------------------------------------------------------------- */

typedef struct lc_keyring lc_keyring_t;          /* opaque; up to LC_KEYRING_MAX Ed25519 public keys */

/* Calls sodium_init() (idempotent); NULL only if that fails. */
lc_keyring_t *lc_keyring_create(apr_pool_t *p);

/* Load FILE: a PASERK "k4.public.<b64url 32 bytes>" (whitespace around it
 * OK; several, separated by whitespace, are several keys), a JWK {"kty":"OKP","crv":"Ed25519","x":...,"kid":...} or a JWKS
 * {"keys":[...]}.  Public keys only: a JWK with "d", or a "k4.secret." file,
 * is refused.  Every key of a JWKS must be OKP/Ed25519 ("use", when present,
 * "sig"; "alg", when present, "EdDSA" or "Ed25519").  All-or-nothing: on error
 * the ring is unchanged.  The same public key loaded twice (e.g. from the
 * .pub and the .jwk of one issuer) is kept once with the ids of both; two
 * different keys may not share an id.
 * Returns APR_SUCCESS, or an error with *err a one-line human reason
 * (naming the file; never key material). */
apr_status_t lc_keyring_load_file(lc_keyring_t *kr, const char *path,
                                  apr_pool_t *p, const char **err);

/* Same, from a string (file contents). `what` names the source in errors. */
apr_status_t lc_keyring_load_string(lc_keyring_t *kr, const char *text,
                                    size_t len, const char *what,
                                    apr_pool_t *p, const char **err);

/* Add one key (tests, CLI).  kid may be NULL.  APR_EINVAL for a kid that is
 * too long or already names another key, or a key libsodium would never
 * verify with (small order, not canonical); APR_ENOSPC when the ring is full. */
apr_status_t lc_keyring_add_raw(lc_keyring_t *kr, const unsigned char pk[32],
                                const char *kid);
int lc_keyring_count(const lc_keyring_t *kr);
/* The i-th key's ids (tests, logs): the JWK kid ("" if none) and k4.pid. */
const char *lc_keyring_kid(const lc_keyring_t *kr, int i);
const char *lc_keyring_pid(const lc_keyring_t *kr, int i);

/* PASERK (https://github.com/paseto-standard/paserk), version k4 only. */
/* "k4.pid." + b64url(BLAKE2b-264("k4.pid." || "k4.public." || b64url(pk))).
 * out must hold LC_PASERK_PID_LEN + 1 bytes. */
void lc_paserk_pid(const unsigned char pk[32], char out[/*>= 60*/]);
/* Same, for a key of any length: -1 (out = "") unless len == 32. */
int lc_paserk_pid_bytes(const unsigned char *pk, size_t len, char *out, size_t outmax);
/* "k4.public." + b64url(pk); -1 unless len == 32 and outmax is enough. */
int lc_paserk_public_encode(const unsigned char *pk, size_t len, char *out, size_t outmax);
/* Parse exactly "k4.public.<43 chars>" (no whitespace); 0 or -1. */
int lc_paserk_public_decode(const char *s, size_t len, unsigned char pk[32]);
/* "k4.secret." + b64url(sk) for libsodium's 64-byte secret key (seed || pk). */
int lc_paserk_secret_encode(const unsigned char *sk, size_t len, char *out, size_t outmax);
/* Parse exactly "k4.secret.<86 chars>"; the public half must match the seed.
 * 0 or -1. */
int lc_paserk_secret_decode(const char *s, size_t len, unsigned char sk[64]);

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

/* PASETO's pre-authentication encoding of n pieces into out (which may be
 * NULL to learn the size).  Returns the encoded length. */
size_t lc_paseto_pae(unsigned char *out, int n, const unsigned char *const *pieces,
                     const size_t *lens);

/* PASETO's exp/nbf/iat are RFC 3339 strings: lc_time.h reads and writes them. */

/* ---- minting (CLI and tests) ------------------------------------------ */

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
