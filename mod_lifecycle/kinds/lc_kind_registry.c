/* lc_kind_registry.c — the kinds this module is built with, from lc_registry.h. */
#include "lc_kind_registry.h"

#define LC_REG_KIND(name) extern const lc_kind_def_t lc_##name##_kind;
#include "lc_registry.h"

const lc_kind_def_t *const lc_kind_registry[] = {
#define LC_REG_KIND(name) &lc_##name##_kind,
#include "lc_registry.h"
    NULL
};

void lc_kind_registry_load(void)
{
    const lc_kind_def_t *const *k;

    for (k = lc_kind_registry; *k; k++) {
        lc_kind_register(*k);
    }
}
