/* fuzz_token: bearer token verification (lc_token_verify: PASETO v4.public
 * and JWT/EdDSA, then the claims) against a keyring of one fixed key.
 *
 * The first byte chooses what the rest is:
 *   0 (mod 3)  a token, verified as it is (structure, base64url, header,
 *              footer, kid, signature: a mutated token rarely verifies);
 *   1          FOOTER '\n' CLAIMS: signed as a PASETO v4.public with the fixed
 *              key, then verified, so the fuzzer reaches the footer and
 *              claims checks behind a good signature;
 *   2          HEADER '\n' PAYLOAD: signed as a JWS (any header) likewise.
 * Whatever the result, a refused token has no scopes (lc_token.h) and every
 * scope fits its bounds. */
#include "lc_fuzz_token.h"

static void check(lc_token_status_e st, const lc_token_claims_t *c)
{
    int i;

    LC_FUZZ_CHECK(lc_token_status_name(st) != NULL);
    LC_FUZZ_CHECK(c->nscopes >= 0 && c->nscopes <= LC_TOKEN_SCOPES_MAX);
    LC_FUZZ_CHECK(st == LC_TOKEN_OK || c->nscopes == 0);
    LC_FUZZ_CHECK(strnlen(c->sub, sizeof(c->sub)) < sizeof(c->sub));
    LC_FUZZ_CHECK(strnlen(c->jti, sizeof(c->jti)) < sizeof(c->jti));
    for (i = 0; i < c->nscopes; i++) {
        size_t n = strnlen(c->scopes[i], sizeof(c->scopes[i]));
        LC_FUZZ_CHECK(n > 0 && n <= LC_TOKEN_SCOPE_LEN_MAX);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const lc_keyring_t *kr = lc_fuzz_keyring();
    apr_pool_t *p;
    lc_token_policy_t pol;
    lc_token_claims_t c;
    const char *tok, *nl;
    const char *rest = (const char *)data + 1;
    size_t restlen = size ? size - 1 : 0;
    lc_token_status_e st;

    if (size == 0) {
        return 0;
    }
    p = lc_fuzz_pool();
    lc_fuzz_policy(&pol);
    if (data[0] % 3 == 0) {
        tok = rest;
        memset(&c, 0, sizeof(c));
        st = lc_token_verify(kr, tok, restlen, &pol, &c);
        check(st, &c);
    }
    else {
        nl = memchr(rest, '\n', restlen);
        const char *head = apr_pstrmemdup(p, rest, nl ? (apr_size_t)(nl - rest) : 0);
        const char *body = nl ? nl + 1 : rest;
        size_t bodylen = restlen - (size_t)(body - rest);

        tok = data[0] % 3 == 1
              ? lc_token_mint_paseto(p, lc_fuzz_sk, apr_pstrmemdup(p, body, bodylen), head)
              : lc_token_mint_jws(p, lc_fuzz_sk, head, (const unsigned char *)body, bodylen);
        if (tok != NULL) {
            memset(&c, 0, sizeof(c));
            st = lc_token_verify(kr, tok, strlen(tok), &pol, &c);
            check(st, &c);
            /* Without a policy: only the time window is checked (now). */
            memset(&c, 0, sizeof(c));
            check(lc_token_verify(kr, tok, strlen(tok), NULL, &c), &c);
        }
    }
    apr_pool_destroy(p);
    return 0;
}
