/* lc_dialect.c — the dialect table (from lc_registry.h), and helpers every
 * dialect uses. */
#include <string.h>
#include <apr_tables.h>

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
