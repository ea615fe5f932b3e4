/* lc_dialect.c — the dialect table (from lc_registry.h).  What the dialects
 * themselves use is in lc_dialect_act.c, which knows none of them. */
#include <string.h>

#include "lc_dialect.h"

/* Indexed by lc_dialect_e, which the same list numbers. */
static const lc_dialect_t *const dialects[LC_DIALECT_COUNT] = {
    NULL,
#define LC_REG_DIALECT(name) &lc_dialect_##name,
#include "lc_registry.h"
};

const lc_dialect_t *lc_dialect_get(lc_dialect_e which)
{
    return (which > LC_DIALECT_NONE && which < LC_DIALECT_COUNT) ? dialects[which] : NULL;
}

lc_dialect_e lc_dialect_by_name(const char *name)
{
    int d;

    for (d = 1; name && d < LC_DIALECT_COUNT; d++) {
        if (strcmp(dialects[d]->name, name) == 0) {
            return (lc_dialect_e)d;
        }
    }
    return LC_DIALECT_NONE;
}
