/* lc_dialect.c — the dialect registry.  What the dialects themselves use is
 * in lc_dialect_act.c, which knows none of them. */
#include "lc_dialect.h"

static const lc_dialect_t *const dialects[LC_DIALECT_COUNT] = {
    NULL,
    &lc_dialect_redivis,
    &lc_dialect_notte,
    &lc_dialect_workstation,
    &lc_dialect_wrapper,
    &lc_dialect_feldera,
    &lc_dialect_admin
};

const lc_dialect_t *lc_dialect_get(lc_dialect_e which)
{
    return (which > LC_DIALECT_NONE && which < LC_DIALECT_COUNT) ? dialects[which] : NULL;
}

void lc_dialect_register_kinds(void)
{
    const lc_kind_def_t *const *more;
    int d;

    for (d = 1; d < LC_DIALECT_COUNT; d++) {
        if (dialects[d]->kind_def) {
            lc_kind_register(dialects[d]->kind_def);
        }
        for (more = dialects[d]->more_kinds; more && *more; more++) {
            lc_kind_register(*more);
        }
    }
}
