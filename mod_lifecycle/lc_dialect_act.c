/* lc_dialect_act.c — what every dialect's handlers use to act on the store.
 * It names no dialect, so that the dialects depend on it and it on none. */
#include <apr_tables.h>

#include "lc_dialect_act.h"

void lc_dialect_act_init(lc_req_t *q, const lc_kind_def_t *def, const char *id,
                         const char *action, const lc_precond_t *if_match, lc_act_t *act)
{
    act->def = def;
    act->id = id;
    act->action = action;
    act->if_match = if_match;
    act->now = q->now;
    act->advance_after = q->sc->auto_advance;
    act->actor = &q->actor;
    act->owner_check = q->dc->owner_check > 0;
    act->guard = NULL;
    act->guard_baton = NULL;
}

const char *lc_dialect_refused_scope(lc_req_t *q)
{
    return apr_table_get(q->r->notes, "lifecycle-scope");
}
