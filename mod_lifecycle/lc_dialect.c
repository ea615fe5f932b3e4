/* lc_dialect.c — the dialect registry, and helpers every dialect uses. */
#include <apr_tables.h>

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
    act->pool = q->r->pool;
}

const char *lc_dialect_refused_scope(lc_req_t *q)
{
    return apr_table_get(q->r->notes, "lifecycle-scope");
}
