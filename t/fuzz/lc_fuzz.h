/* lc_fuzz.h — what the libFuzzer targets of t/fuzz/ share.
 *
 * Each fuzz_*.c is one target: LLVMFuzzerTestOneInput() gets one input and
 * must neither crash, leak, nor trip ASan/UBSan, whatever the bytes.  A
 * broken invariant (a property the code promises, checked with LC_FUZZ_CHECK)
 * aborts, which libFuzzer reports like a crash. */
#ifndef LC_FUZZ_H
#define LC_FUZZ_H

#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <sodium.h>

/* The fixed "now" of the targets: 2023-11-14T22:13:20Z, as the unit tests. */
#define LC_FUZZ_NOW (APR_INT64_C(1700000000) * APR_USEC_PER_SEC)

#define LC_FUZZ_CHECK(cond) do {                                              \
        if (!(cond)) {                                                        \
            fprintf(stderr, "fuzz invariant broken at %s:%d: %s\n",           \
                    __FILE__, __LINE__, #cond);                               \
            abort();                                                          \
        }                                                                     \
    } while (0)

/* APR and libsodium, once per process; the pool every input's pool hangs from. */
static inline apr_pool_t *lc_fuzz_root(void)
{
    static apr_pool_t *root;

    if (root == NULL) {
        if (apr_initialize() != APR_SUCCESS || sodium_init() < 0
            || apr_pool_create(&root, NULL) != APR_SUCCESS) {
            abort();
        }
    }
    return root;
}

/* A pool for one input (destroy it at the end). */
static inline apr_pool_t *lc_fuzz_pool(void)
{
    apr_pool_t *p;

    if (apr_pool_create(&p, lc_fuzz_root()) != APR_SUCCESS) {
        abort();
    }
    return p;
}

#endif
