/* lc_kind_wrapper.h — what lc_dialect_wrapper.c needs of its kind
 * (lc_kind_wrapper.c). */
#ifndef LC_KIND_WRAPPER_H
#define LC_KIND_WRAPPER_H

#include "lc_kind.h"

enum { WR_IDLE, WR_RUNNING, WR_STOPPED, WR_COMPLETED, WR_FAILED, WR_NSTATES };

/* The runner's "cannot stop" flag in r->data (true, or absent). */
#define WR_K_FAIL "f"

extern const lc_kind_def_t lc_wrapper_kind;

#endif
