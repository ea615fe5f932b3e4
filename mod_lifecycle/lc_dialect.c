/* lc_dialect.c — the dialect registry. */
#include "lc_dialect.h"

const lc_dialect_t *lc_dialect_get(lc_dialect_e which)
{
    switch (which) {
    case LC_DIALECT_REDIVIS:     return &lc_dialect_redivis;
    case LC_DIALECT_NOTTE:       return &lc_dialect_notte;
    case LC_DIALECT_WORKSTATION: return &lc_dialect_workstation;
    case LC_DIALECT_WRAPPER:     return &lc_dialect_wrapper;
    case LC_DIALECT_FELDERA:     return &lc_dialect_feldera;
    case LC_DIALECT_ADMIN:       return &lc_dialect_admin;
    default:                     return NULL;
    }
}

void lc_dialect_register_kinds(void)
{
    extern const lc_kind_def_t lc_workstation_kind;

    lc_kind_register(&lc_workstation_kind);
}
