/* lc_token_mint.c — PASETO v4.public and EdDSA JWS/JWT minting (CLI, tests,
 * fuzz targets; not in the module). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <jansson.h>
#include <apr_strings.h>

#include "lc_b64.h"
#include "lc_json.h"
#include "lc_pae.h"
#include "lc_token_mint.h"

char *lc_token_mint_paseto_ia(apr_pool_t *p, const unsigned char sk[64],
                              const char *claims_json, const char *footer,
                              const char *implicit_assertion)
{
    size_t ml = strlen(claims_json), fl = footer ? strlen(footer) : 0, pl;
    unsigned char *pae, *body;
    char *tok;

    pae = lc_pae_v4_public((const unsigned char *)claims_json, ml,
                           (const unsigned char *)(footer ? footer : ""), fl,
                           implicit_assertion, &pl);
    if (pae == NULL) {
        return NULL;
    }
    body = apr_palloc(p, ml + 64);
    memcpy(body, claims_json, ml);
    crypto_sign_detached(body + ml, NULL, pae, pl, sk);
    free(pae);
    tok = apr_pstrcat(p, LC_PAE_V4_PUBLIC, lc_b64url_encode(p, body, ml + 64),
                      fl ? "." : "",
                      fl ? lc_b64url_encode(p, (const unsigned char *)footer, fl) : "",
                      NULL);
    return tok;
}

char *lc_token_mint_paseto(apr_pool_t *p, const unsigned char sk[64],
                           const char *claims_json, const char *footer)
{
    return lc_token_mint_paseto_ia(p, sk, claims_json, footer, "");
}

char *lc_token_mint_jws(apr_pool_t *p, const unsigned char sk[64],
                        const char *header_json, const unsigned char *payload,
                        size_t payload_len)
{
    unsigned char sig[64];
    char *input;

    input = apr_pstrcat(p,
                        lc_b64url_encode(p, (const unsigned char *)header_json,
                                         strlen(header_json)),
                        ".", lc_b64url_encode(p, payload, payload_len), NULL);
    crypto_sign_detached(sig, NULL, (const unsigned char *)input, strlen(input), sk);
    return apr_pstrcat(p, input, ".", lc_b64url_encode(p, sig, sizeof(sig)), NULL);
}

char *lc_token_mint_jwt(apr_pool_t *p, const unsigned char sk[64],
                        const char *kid, const char *claims_json)
{
    json_t *h = json_object();
    char *hs, *tok = NULL;

    if (h == NULL) {
        return NULL;
    }
    json_object_set_new(h, "alg", json_string("EdDSA"));
    json_object_set_new(h, "typ", json_string("JWT"));
    if (kid) {
        json_object_set_new(h, "kid", json_string(kid));
    }
    hs = lc_json_dump(p, h, JSON_COMPACT | JSON_PRESERVE_ORDER, NULL);
    json_decref(h);
    if (hs) {
        tok = lc_token_mint_jws(p, sk, hs, (const unsigned char *)claims_json,
                                strlen(claims_json));
    }
    return tok;
}
