/* lc_test.h — a minimal harness for the C unit tests of the pure core. */
#ifndef LC_TEST_H
#define LC_TEST_H

#include <stdio.h>
#include <string.h>

static int lc_test_pass, lc_test_fail;

#define CHECK(cond) do {                                                     \
        if (cond) { lc_test_pass++; }                                        \
        else { lc_test_fail++;                                               \
               fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } \
    } while (0)

#define CHECK_STR(a, b) do {                                                 \
        const char *a_ = (a), *b_ = (b);                                     \
        if (a_ && b_ && strcmp(a_, b_) == 0) { lc_test_pass++; }             \
        else { lc_test_fail++;                                               \
               fprintf(stderr, "FAIL %s:%d: %s == \"%s\", expected \"%s\"\n", \
                       __FILE__, __LINE__, #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } \
    } while (0)

/* The plain closing line CI reads. */
static int lc_test_done(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, lc_test_pass, lc_test_fail);
    return lc_test_fail ? 1 : 0;
}

#endif
