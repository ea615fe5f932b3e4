/* lc_kind_registry.h — every kind this module is built with (lc_registry.h). */
#ifndef LC_KIND_REGISTRY_H
#define LC_KIND_REGISTRY_H
#include "lc_kind.h"

/* Every kind of lc_registry.h, NULL-terminated. */
extern const lc_kind_def_t *const lc_kind_registry[];

/* Register every kind of lc_kind_registry (once per process, before any lookup). */
void lc_kind_registry_load(void);

#endif
