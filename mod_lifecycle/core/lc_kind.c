/* lc_kind.c — the kind registry and the table-driven state engine. */
#include <string.h>
#include <apr_strings.h>

#include "lc_json.h"
#include "lc_kind.h"
#include "lc_store.h"

/* Filled at start-up (lc_kind_registry_load; a unit test may register a fixture). */
static const lc_kind_def_t *registry[LC_KIND_COUNT];

void lc_kind_register(const lc_kind_def_t *def)
{
    if (def && def->kind > LC_KIND_NONE && def->kind < LC_KIND_COUNT) {
        registry[def->kind] = def;
    }
}

const lc_kind_def_t *lc_kind_def(lc_kind_e kind)
{
    return (kind > LC_KIND_NONE && kind < LC_KIND_COUNT) ? registry[kind] : NULL;
}

lc_kind_e lc_kind_by_name(const char *name)
{
    int k;

    for (k = 1; name && k < LC_KIND_COUNT; k++) {
        if (registry[k] && strcmp(registry[k]->name, name) == 0) {
            return (lc_kind_e)k;
        }
    }
    return LC_KIND_NONE;
}

const char *lc_kind_name(lc_kind_e kind)
{
    const lc_kind_def_t *def = lc_kind_def(kind);

    return def ? def->name : "?";
}

int lc_kind_state(const lc_kind_def_t *def, const char *name)
{
    unsigned i;

    for (i = 0; name && i < def->nstates; i++) {
        if (strcmp(def->states[i], name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

const char *lc_kind_state_name(const lc_kind_def_t *def, unsigned state)
{
    return state < def->nstates ? def->states[state] : "unknown";
}

/* Does a table row's desired mask (0 = any) cover r's desired state? */
static int desired_in(uint32_t mask, const lc_resource_t *r)
{
    return mask == 0 || (r->desired < 32 && (mask & LC_BIT(r->desired)));
}

static const lc_advance_t *advance_for_state(const lc_kind_def_t *def, unsigned state)
{
    const lc_advance_t *a;

    for (a = def->advances; a && a->from != LC_STATE_KEEP; a++) {
        if (a->from == state) {
            return a;
        }
    }
    return NULL;
}

/* The move that finishes r's state, given its desired state. */
static const lc_advance_t *advance_for(const lc_kind_def_t *def, const lc_resource_t *r)
{
    const lc_advance_t *a;

    for (a = def->advances; a && a->from != LC_STATE_KEEP; a++) {
        if (a->from == r->state && desired_in(a->desired, r)) {
            return a;
        }
    }
    return NULL;
}

int lc_kind_is_transitional(const lc_kind_def_t *def, unsigned state)
{
    return advance_for_state(def, state) != NULL;
}

/* Server-wide lengths of the timeouts kinds name; < 0 = none. */
static apr_interval_time_t timeouts[LC_TIMEOUTS] = { -1 };

void lc_kind_set_timeout(lc_timeout_e which, apr_interval_time_t after)
{
    if ((unsigned)which < LC_TIMEOUTS) {
        timeouts[which] = after;
    }
}

apr_interval_time_t lc_kind_timeout(lc_timeout_e which)
{
    return (unsigned)which < LC_TIMEOUTS ? timeouts[which] : -1;
}

static const lc_timeout_t *timeout_for(const lc_kind_def_t *def, const lc_resource_t *r)
{
    const lc_timeout_t *t;

    for (t = def->timeouts; t && t->state != LC_STATE_KEEP; t++) {
        if (t->state == r->state && desired_in(t->desired, r) && t->which < LC_TIMEOUTS
            && (t->which == LC_TIMEOUT_OWN || timeouts[t->which] >= 0)) {
            return t;
        }
    }
    return NULL;
}

int lc_kind_advance_target(const lc_kind_def_t *def, unsigned state)
{
    const lc_advance_t *a = advance_for_state(def, state);

    return a ? a->to : -1;
}

int lc_kind_next_state(const lc_kind_def_t *def, const lc_resource_t *r)
{
    const lc_advance_t *a = advance_for(def, r);

    return a ? a->to : -1;
}

/* Schedule (or clear) what is due for r's current state.  A resource sits in
 * one due queue at a time, so when its state has both an auto-advance and a
 * timeout, the earlier of the two is queued: an advance that comes first
 * leaves the state (the timeout is moot); a timeout that comes first fires
 * (the advance never would have in time).  `entered`: r has just entered its
 * state; otherwise a timeout already running keeps its time, so staying in a
 * state never extends it. */
static void schedule(const lc_kind_def_t *def, lc_resource_t *r, apr_time_t now,
                     apr_interval_time_t after, int wanted, int entered)
{
    const lc_timeout_t *t = timeout_for(def, r);
    int adv = wanted && after >= 0 && advance_for(def, r)
              && (!def->may_auto_advance || def->may_auto_advance(r));
    apr_time_t tmo = 0;

    if (t && t->which == LC_TIMEOUT_OWN) {
        /* The resource's own deadline, as its request path queued it. */
        tmo = (r->due_class == LC_DUE_TIMEOUT) ? r->due : 0;
        t = tmo ? t : NULL;
    }
    else if (t) {
        tmo = (!entered && r->due_class == LC_DUE_TIMEOUT && r->due) ? r->due
                                                                     : now + timeouts[t->which];
    }
    if (adv && (!t || now + after <= tmo)) {
        r->due = now + after;
        r->due_class = LC_DUE_ADVANCE;
    }
    else if (t) {
        r->due = tmo;
        r->due_class = LC_DUE_TIMEOUT;
    }
    else if (r->due_class == LC_DUE_ADVANCE || r->due_class == LC_DUE_TIMEOUT) {
        r->due = 0;
        r->due_class = LC_DUE_NONE;
    }
}

void lc_kind_schedule(const lc_kind_def_t *def, lc_resource_t *r, apr_time_t now,
                      apr_interval_time_t advance_after)
{
    schedule(def, r, now, advance_after, 1, 1);
}

static void enter_state(lc_resource_t *r, uint8_t to, apr_time_t now)
{
    if (to != LC_STATE_KEEP && to != r->state) {
        r->state = to;
        r->state_since = now;
    }
}

apr_status_t lc_kind_apply(const lc_kind_def_t *def, lc_resource_t *r,
                           const char *action, apr_time_t now,
                           apr_interval_time_t advance_after)
{
    const lc_rule_t *rule;
    int known = 0, entered;

    for (rule = def->rules; rule->action; rule++) {
        if (strcmp(rule->action, action) != 0) {
            continue;
        }
        known = 1;
        if (!(rule->from & LC_BIT(r->state)) || !desired_in(rule->desired, r)) {
            continue;
        }
        if (rule->flags & LC_RULE_NOOP) {
            return LC_NOCHANGE;
        }
        entered = rule->to != LC_STATE_KEEP && rule->to != r->state;
        enter_state(r, rule->to, now);
        if (rule->desired_to != LC_STATE_KEEP) {
            r->desired = rule->desired_to;
        }
        if (rule->flags & LC_RULE_CLOSE) {
            r->closed = now;
        }
        if (rule->effect) {
            rule->effect(r, now);
        }
        schedule(def, r, now, advance_after, rule->flags & LC_RULE_ADVANCE, entered);
        return APR_SUCCESS;
    }
    return known ? LC_EILLEGAL : APR_ENOENT;
}

/* Move r to `to` (with the move's effect and whether the new state advances
 * too), or, when its state has no such move (found 0), only unqueue it. */
static apr_status_t move(const lc_kind_def_t *def, lc_resource_t *r, apr_time_t now,
                         apr_interval_time_t advance_after, int found, uint8_t to,
                         void (*effect)(lc_resource_t *, apr_time_t), uint8_t flags)
{
    if (!found) {
        schedule(def, r, now, -1, 0, 0);
        return LC_NOCHANGE;
    }
    enter_state(r, to, now);
    if (effect) {
        effect(r, now);
    }
    schedule(def, r, now, advance_after, flags & LC_RULE_ADVANCE, 1);
    return APR_SUCCESS;
}

apr_status_t lc_kind_advance(const lc_kind_def_t *def, lc_resource_t *r,
                             apr_time_t now, apr_interval_time_t advance_after)
{
    const lc_advance_t *a = advance_for(def, r);

    return a ? move(def, r, now, advance_after, 1, a->to, a->effect, a->flags)
             : move(def, r, now, advance_after, 0, 0, NULL, 0);
}

/* A timeout passed: apply it if r is still in its state. */
static apr_status_t expire(const lc_kind_def_t *def, lc_resource_t *r, apr_time_t now,
                           apr_interval_time_t advance_after)
{
    const lc_timeout_t *t = timeout_for(def, r);

    return t ? move(def, r, now, advance_after, 1, t->to, t->effect, t->flags)
             : move(def, r, now, advance_after, 0, 0, NULL, 0);
}

apr_status_t lc_kind_due(const lc_kind_def_t *def, lc_resource_t *r, apr_time_t now,
                         apr_interval_time_t advance_after)
{
    if (r->due_class == LC_DUE_TIMEOUT) {
        return expire(def, r, now, advance_after);
    }
    if (advance_after < 0 || (def->may_auto_advance && !def->may_auto_advance(r))) {
        /* Queued before auto-advance was turned off (or the resource was
         * handed to a runner): a timeout of the state may still apply, and
         * must then be kept (a change, so that the journal has it too). */
        schedule(def, r, now, -1, 0, 1);
        return r->due ? APR_SUCCESS : LC_NOCHANGE;
    }
    return lc_kind_advance(def, r, now, advance_after);
}

const char *lc_kind_unknown_field(json_t *obj, const char *const *known)
{
    const char *k;
    json_t *v;
    int i;

    json_object_foreach(obj, k, v) {
        for (i = 0; known[i] && strcmp(known[i], k) != 0; i++) {
        }
        if (!known[i]) {
            return k;
        }
    }
    return NULL;
}

apr_status_t lc_kind_set_data(lc_resource_t *r, json_t *attrs)
{
    /* In the order given: jansson keeps insertion order. */
    char *text = json_dumps(attrs, JSON_COMPACT);
    size_t len;

    if (!text) {
        return APR_ENOMEM;
    }
    len = strlen(text);
    if (len > LC_DATA_MAX) {
        free(text);
        return APR_ENOSPC;
    }
    memcpy(r->data, text, len + 1);
    free(text);
    return APR_SUCCESS;
}

json_t *lc_kind_get_data(const lc_resource_t *r)
{
    /* A new reference: the callers change the attributes and store them back. */
    json_t *j = r->data[0] ? lc_json_load(r->data, strnlen(r->data, LC_DATA_MAX), 0) : NULL;

    return json_is_object(j) ? j : (json_decref(j), json_object());
}
