/* lc_keyring.c — a ring of Ed25519 public keys, each with its ids. */
#include <string.h>
#include <sodium.h>
#include <apr_strings.h>

#include "lc_paserk.h"
#include "lc_keyring.h"

typedef struct lc_key {
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    char kid[LC_KID_MAX + 1];               /* "" when none */
    char pid[LC_PASERK_PID_LEN + 1];
} lc_key_t;

struct lc_keyring {
    int n;
    lc_key_t keys[LC_KEYRING_MAX];
};

lc_keyring_t *lc_keyring_create(apr_pool_t *p)
{
    /* Idempotent and thread-safe; keyrings are made at configuration time,
     * before any verification. */
    if (sodium_init() < 0) {
        return NULL;
    }
    return apr_pcalloc(p, sizeof(lc_keyring_t));
}

int lc_keyring_count(const lc_keyring_t *kr)
{
    return kr ? kr->n : 0;
}

lc_keyring_t *lc_keyring_dup(apr_pool_t *p, const lc_keyring_t *kr)
{
    return apr_pmemdup(p, kr, sizeof(*kr));
}

void lc_keyring_copy(lc_keyring_t *kr, const lc_keyring_t *from)
{
    memcpy(kr, from, sizeof(*kr));
}

const char *lc_keyring_kid(const lc_keyring_t *kr, int i)
{
    return (kr && i >= 0 && i < kr->n) ? kr->keys[i].kid : NULL;
}

const char *lc_keyring_pid(const lc_keyring_t *kr, int i)
{
    return (kr && i >= 0 && i < kr->n) ? kr->keys[i].pid : NULL;
}

static int key_has_id(const lc_key_t *k, const char *id)
{
    return (k->kid[0] && strcmp(k->kid, id) == 0) || strcmp(k->pid, id) == 0;
}

int lc_keyring_pk_usable(const unsigned char pk[32])
{
    unsigned char x[crypto_scalarmult_curve25519_BYTES];

    return crypto_sign_ed25519_pk_to_curve25519(x, pk) == 0;
}

/* Where pk with kid/pid would go: 1 when the ring already has it with that
 * kid, -1 when an id of it names a different key, else 0 with *same the
 * entry of pk that has no kid yet (NULL when none: a new entry). */
static int ring_place(lc_keyring_t *kr, const unsigned char pk[32], const char *kid,
                      const char *pid, lc_key_t **same)
{
    int i;

    *same = NULL;
    for (i = 0; i < kr->n; i++) {
        lc_key_t *k = &kr->keys[i];

        if (memcmp(k->pk, pk, 32) == 0) {
            if (!kid || strcmp(k->kid, kid) == 0) {
                return 1;
            }
            if (!k->kid[0] && !*same) {
                *same = k;
            }
            continue;
        }
        if ((kid && key_has_id(k, kid)) || (k->kid[0] && strcmp(k->kid, pid) == 0)) {
            return -1;
        }
    }
    return 0;
}

apr_status_t lc_keyring_add_raw(lc_keyring_t *kr, const unsigned char pk[32],
                                const char *kid)
{
    char pid[LC_PASERK_PID_LEN + 1];
    lc_key_t *same, *k;
    int placed;

    if (kr == NULL || pk == NULL) {
        return APR_EINVAL;
    }
    if (kid && kid[0] == '\0') {
        kid = NULL;
    }
    if ((kid && strlen(kid) > LC_KID_MAX) || !lc_keyring_pk_usable(pk)) {
        return APR_EINVAL;
    }
    lc_paserk_pid(pk, pid);
    placed = ring_place(kr, pk, kid, pid, &same);
    if (placed != 0) {
        return placed > 0 ? APR_SUCCESS : APR_EINVAL;
    }
    if (same) {
        apr_cpystrn(same->kid, kid, sizeof(same->kid));
        return APR_SUCCESS;
    }
    if (kr->n >= LC_KEYRING_MAX) {
        return APR_ENOSPC;
    }
    k = &kr->keys[kr->n++];
    memset(k, 0, sizeof(*k));
    memcpy(k->pk, pk, 32);
    if (kid) {
        apr_cpystrn(k->kid, kid, sizeof(k->kid));
    }
    memcpy(k->pid, pid, sizeof(pid));
    return APR_SUCCESS;
}

int lc_keyring_verify(const lc_keyring_t *kr, const char *kid, const unsigned char sig[64],
                      const unsigned char *msg, size_t mlen)
{
    int i, matched = 0;

    for (i = 0; kr && i < kr->n; i++) {
        if (kid && !key_has_id(&kr->keys[i], kid)) {
            continue;
        }
        matched++;
        if (crypto_sign_verify_detached(sig, msg, mlen, kr->keys[i].pk) == 0) {
            return i;
        }
    }
    return (kid && !matched) ? LC_KEYRING_UNKNOWN_KID : LC_KEYRING_BAD_SIGNATURE;
}
