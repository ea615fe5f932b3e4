/* lc_kind_workstation.h — what lc_dialect_workstation.c needs of its kind
 * (lc_kind_workstation.c). */
#ifndef LC_KIND_WORKSTATION_H
#define LC_KIND_WORKSTATION_H

#include "lc_kind.h"

enum { WS_STOPPED, WS_RUNNING, WS_PROVISIONING, WS_ERROR, WS_NSTATES };

extern const lc_kind_def_t lc_workstation_kind;

#endif
