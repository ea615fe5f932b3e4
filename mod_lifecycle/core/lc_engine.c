/* lc_engine.c — applies a kind's rule table through the store, atomically. */
#include <string.h>
#include <stdlib.h>
#include <apr_lib.h>

#include "lc_engine.h"

int lc_precond_parse(const char *h, lc_precond_t *pc)
{
    memset(pc, 0, sizeof(*pc));
    if (!h) {
        return 0;
    }
    pc->present = 1;
    while (apr_isspace(*h)) h++;
    if (h[0] == '*') {
        pc->any = 1;
        for (h++; apr_isspace(*h); h++);
        return *h ? -1 : 0;
    }
    for (;;) {
        int weak = 0;
        uint64_t v = 0;
        const char *d;

        while (apr_isspace(*h)) h++;
        if (h[0] == 'W' && h[1] == '/') {
            weak = 1;
            h += 2;
        }
        if (*h++ != '"') {
            return -1;
        }
        for (d = h; *h && *h != '"'; h++) {
            /* An opaque tag that is not one of ours simply never matches. */
            v = (apr_isdigit(*h) && v < UINT64_MAX / 10) ? v * 10 + (uint64_t)(*h - '0')
                                                          : UINT64_MAX;
        }
        if (*h++ != '"') {
            return -1;
        }
        if (!weak && h - 1 > d && v != UINT64_MAX && pc->n < LC_PRECOND_MAX) {
            pc->versions[pc->n++] = v;
        }
        while (apr_isspace(*h)) h++;
        if (*h == '\0') {
            return 0;
        }
        if (*h++ != ',') {
            return -1;
        }
    }
}

int lc_precond_match(const lc_precond_t *pc, int exists, uint64_t version)
{
    int i;

    if (!pc || !pc->present) {
        return 1;
    }
    if (!exists) {
        return 0;
    }
    if (pc->any) {
        return 1;
    }
    for (i = 0; i < pc->n; i++) {
        if (pc->versions[i] == version) {
            return 1;
        }
    }
    return 0;
}

int lc_engine_may_act(const lc_act_t *act, const lc_resource_t *r)
{
    /* Resources without an owner (made before tokens, or by the admin API
     * without one) are anyone's with the write scope. */
    return !act->owner_check || !r->owner[0] || !act->actor || act->actor->admin
           || strcmp(r->owner, act->actor->sub) == 0;
}

typedef struct act_baton {
    const lc_act_t *act;
    lc_resource_t  *before;
} act_baton_t;

/* Runs with the store locked. */
static apr_status_t act_cb(lc_resource_t *r, int exists, void *baton)
{
    act_baton_t *b = baton;
    const lc_act_t *act = b->act;

    if (!exists) {
        return LC_ENOTFOUND;
    }
    if (b->before) {
        lc_resource_copy(b->before, r);
    }
    if (!lc_precond_match(act->if_match, exists, r->version)) {
        return LC_EVERSION;
    }
    if (!lc_engine_may_act(act, r)) {
        return LC_EFORBIDDEN;
    }
    if (act->guard) {
        apr_status_t rv = act->guard(r, act->guard_baton);
        if (rv != APR_SUCCESS) {
            return rv;
        }
    }
    r->op = LC_OP_TRANSITION;
    return lc_kind_apply(act->def, r, act->action, act->now, act->advance_after);
}

apr_status_t lc_engine_act(lc_store_t *st, const lc_act_t *act,
                           lc_resource_t *before, lc_resource_t *after)
{
    act_baton_t b = { act, before };
    lc_resource_t tmp;

    return lc_store_update(st, act->def->kind, act->id, act_cb, &b, after ? after : &tmp, act->pool);
}

typedef struct due_baton {
    apr_time_t          now;
    apr_interval_time_t after;
    lc_resource_t       before;
    lc_engine_moved_fn *moved;
    void               *baton;
} due_baton_t;

static apr_status_t due_cb(lc_resource_t *r, int exists, void *baton)
{
    due_baton_t *b = baton;
    const lc_kind_def_t *def = lc_kind_def((lc_kind_e)r->kind);

    (void)exists;
    lc_resource_copy(&b->before, r);
    if (!def) {
        return LC_NOCHANGE;
    }
    return lc_kind_due(def, r, b->now, b->after);
}

static void due_done(const lc_resource_t *after, void *baton)
{
    due_baton_t *b = baton;

    if (b->moved) {
        b->moved(&b->before, after, b->baton);
    }
}

apr_status_t lc_engine_advance_due(lc_store_t *st, apr_time_t now,
                                   apr_interval_time_t advance_after, int max,
                                   lc_engine_moved_fn *moved, void *baton, apr_pool_t *p)
{
    due_baton_t b = { now, advance_after, { 0 }, moved, baton };

    return lc_store_take_due(st, now, max, due_cb, &b, due_done, &b, p);
}
