/* lc_paserk.h — PASERK (https://github.com/paseto-standard/paserk) keys and
 * key ids, version k4 only: the text forms of Ed25519 keys that key files,
 * PASETO footers and the lifecycle-token CLI use.
 *
 * Pure C (libsodium); no httpd headers. */
#ifndef LC_PASERK_H
#define LC_PASERK_H

#include <stddef.h>

#define LC_PASERK_PID_LEN 51         /* strlen("k4.pid.") + 44 */
#define LC_PASERK_PUBLIC_LEN 53      /* strlen("k4.public.") + 43 */
#define LC_PASERK_SECRET_LEN 96      /* strlen("k4.secret.") + 86 */

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

/* 1 when s (NUL-terminated) is a PASERK that is a key ("k4.public.",
 * "k4.secret.", "k4.local.", any version) rather than a key id ("k<n>.pid.",
 * ".lid.", ".sid."): PASERK forbids a key where a kid is expected. */
int lc_paserk_is_key(const char *s);

#endif
