/* lc_keyring.h — the Ed25519 public keys tokens are verified against.
 *
 * Pure C (APR + libsodium); no httpd headers.  Keys come from key files
 * (lc_keyfile.h) or are added raw (tests, CLI).  Every key answers to two
 * ids: its JWK "kid" (when it came from a JWK with one) and its PASERK id
 * "k4.pid.…" (lc_paserk.h).
 */
#ifndef LC_KEYRING_H
#define LC_KEYRING_H

#include <stddef.h>
#include <apr_pools.h>
#include <apr_errno.h>

#define LC_KEYRING_MAX 32            /* keys in one ring */
#define LC_KID_MAX 127               /* longest accepted kid (bytes) */

typedef struct lc_keyring lc_keyring_t;          /* opaque; up to LC_KEYRING_MAX Ed25519 public keys */

/* Calls sodium_init() (idempotent); NULL only if that fails. */
lc_keyring_t *lc_keyring_create(apr_pool_t *p);

/* Add one key.  kid may be NULL.  APR_EINVAL for a kid that is too long or
 * already names another key, or a key libsodium would never verify with
 * (small order, not canonical); APR_ENOSPC when the ring is full.  The same
 * public key added twice is kept once with the ids of both. */
apr_status_t lc_keyring_add_raw(lc_keyring_t *kr, const unsigned char pk[32],
                                const char *kid);
int lc_keyring_count(const lc_keyring_t *kr);
/* A copy of kr in p, and kr overwritten by a copy: what lets a key file be
 * loaded all-or-nothing (into the copy, kept only when every key went in). */
lc_keyring_t *lc_keyring_dup(apr_pool_t *p, const lc_keyring_t *kr);
void lc_keyring_copy(lc_keyring_t *kr, const lc_keyring_t *from);
/* The i-th key's ids (tests, logs): the JWK kid ("" if none) and k4.pid. */
const char *lc_keyring_kid(const lc_keyring_t *kr, int i);
const char *lc_keyring_pid(const lc_keyring_t *kr, int i);

/* 1 when libsodium will verify against pk: canonical, on the curve, in the
 * prime-order subgroup, not of small order. */
int lc_keyring_pk_usable(const unsigned char pk[32]);

/* What lc_keyring_verify() returns when no key verified the signature. */
#define LC_KEYRING_BAD_SIGNATURE (-1)   /* no key (of that id) verifies it */
#define LC_KEYRING_UNKNOWN_KID   (-2)   /* kid given, no key has that id */

/* Check an Ed25519 signature over msg with the key named by kid, or, kid
 * NULL, with each key in turn: the index of the key that verifies it, or
 * one of the two codes above.  kr may be NULL (no keys). */
int lc_keyring_verify(const lc_keyring_t *kr, const char *kid, const unsigned char sig[64],
                      const unsigned char *msg, size_t mlen);

#endif
