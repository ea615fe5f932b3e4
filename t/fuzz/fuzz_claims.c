/* fuzz_claims: the claims layer (lc_token_check_claims) on any bytes, as if
 * a signature had held, and the RFC 3339 parser of lc_time.h.
 *
 * The first byte: bit 0 PASETO (RFC 3339 times) or JWT (NumericDate), bit 1
 * an issuer and an audience required, bit 2 no leeway. */
#include "lc_fuzz_token.h"
#include "lc_time.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lc_token_policy_t pol;
    lc_token_claims_t c;
    lc_token_status_e st;
    apr_time_t t;
    char text[LC_TIME_TEXT_MAX];
    int i;

    if (size == 0) {
        return 0;
    }
    lc_fuzz_root();
    lc_token_policy_init(&pol, LC_FUZZ_NOW);
    if (data[0] & 2) {
        pol.issuer = LC_FUZZ_ISS;
        pol.audience = LC_FUZZ_AUD;
    }
    if (data[0] & 4) {
        pol.leeway = 0;
    }
    memset(&c, 0, sizeof(c));
    st = lc_token_check_claims((const char *)data + 1, size - 1, data[0] & 1, &pol, &c);
    LC_FUZZ_CHECK(lc_token_status_name(st) != NULL);
    LC_FUZZ_CHECK(c.nscopes >= 0 && c.nscopes <= LC_TOKEN_SCOPES_MAX);
    LC_FUZZ_CHECK(st == LC_TOKEN_OK || c.nscopes == 0);
    for (i = 0; i < c.nscopes; i++) {
        LC_FUZZ_CHECK(strnlen(c.scopes[i], sizeof(c.scopes[i])) <= LC_TOKEN_SCOPE_LEN_MAX);
    }
    if (st == LC_TOKEN_OK) {
        LC_FUZZ_CHECK(c.exp != 0);       /* exp is required */
    }

    /* RFC 3339: what parses formats back to a time that parses the same
     * (whole seconds), from 1970 to 9999. */
    if (lc_rfc3339_parse((const char *)data + 1, size - 1, &t) == 0
        && t >= 0
        && t < APR_INT64_C(253402300800) * APR_USEC_PER_SEC) {
        apr_time_t t2;

        lc_time_rfc3339_sec(text, t);
        LC_FUZZ_CHECK(lc_rfc3339_parse(text, strlen(text), &t2) == 0);
        LC_FUZZ_CHECK(t2 <= t && t - t2 < APR_USEC_PER_SEC);
    }
    return 0;
}
