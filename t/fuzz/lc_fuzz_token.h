/* lc_fuzz_token.h — the fixed key of the token targets (and of the seed
 * corpus generator): an Ed25519 key pair from a constant seed, in a keyring
 * under the kid "fuzz-key". */
#ifndef LC_FUZZ_TOKEN_H
#define LC_FUZZ_TOKEN_H

#include "lc_fuzz.h"
#include "lc_token.h"
#include "lc_token_mint.h"

#define LC_FUZZ_KID "fuzz-key"
#define LC_FUZZ_ISS "https://issuer.test"
#define LC_FUZZ_AUD "lifecycle-test"

static unsigned char lc_fuzz_sk[64];

static inline lc_keyring_t *lc_fuzz_keyring(void)
{
    static lc_keyring_t *kr;
    unsigned char seed[32], pk[32];

    if (kr == NULL) {
        memset(seed, 'L', sizeof(seed));
        crypto_sign_seed_keypair(pk, lc_fuzz_sk, seed);
        kr = lc_keyring_create(lc_fuzz_root());
        if (kr == NULL || lc_keyring_add_raw(kr, pk, LC_FUZZ_KID) != APR_SUCCESS) {
            abort();
        }
    }
    return kr;
}

/* The policy the module applies: issuer and audience set, 60 s leeway. */
static inline void lc_fuzz_policy(lc_token_policy_t *pol)
{
    lc_token_policy_init(pol, LC_FUZZ_NOW);
    pol->issuer = LC_FUZZ_ISS;
    pol->audience = LC_FUZZ_AUD;
}

#endif
