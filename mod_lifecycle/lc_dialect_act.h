/* lc_dialect_act.h — what every dialect's handlers use to act on the store.
 * It knows no dialect (lc_dialect.c, the registry, knows them all). */
#ifndef LC_DIALECT_ACT_H
#define LC_DIALECT_ACT_H

#include "lc_dialect.h"

/* The engine's view of this request: action, If-Match, actor, ownership. */
void lc_dialect_act_init(lc_req_t *q, const lc_kind_def_t *def, const char *id,
                         const char *action, const lc_precond_t *if_match, lc_act_t *act);

/* The scope that refused this request (for bodies that name it), or NULL. */
const char *lc_dialect_refused_scope(lc_req_t *q);

#endif
