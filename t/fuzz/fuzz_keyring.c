/* fuzz_keyring: key files (lc_keyfile_load_string): PASERK k4.public lines,
 * a JWK, a JWKS.  All-or-nothing: a refused file leaves the ring as it was,
 * and the error says why. */
#include "lc_fuzz.h"
#include "lc_keyfile.h"
#include "lc_paserk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = lc_fuzz_pool();
    lc_keyring_t *kr = lc_keyring_create(p);
    const char *err = NULL;
    int i, n;

    LC_FUZZ_CHECK(kr != NULL);
    if (lc_keyfile_load_string(kr, (const char *)data, size, "fuzz", p, &err) == APR_SUCCESS) {
        n = lc_keyring_count(kr);
        LC_FUZZ_CHECK(n >= 1 && n <= LC_KEYRING_MAX);
        for (i = 0; i < n; i++) {
            LC_FUZZ_CHECK(strlen(lc_keyring_pid(kr, i)) == LC_PASERK_PID_LEN);
            LC_FUZZ_CHECK(strlen(lc_keyring_kid(kr, i)) <= LC_KID_MAX);
        }
    }
    else {
        LC_FUZZ_CHECK(err != NULL && lc_keyring_count(kr) == 0);
    }
    apr_pool_destroy(p);
    return 0;
}
