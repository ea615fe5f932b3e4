/* lc_dialect_act.c — what every dialect's handlers use to act on the store.
 * It names no dialect, so that the dialects depend on it and it on none.
 *
 * The audit line is written here only (audit()), by the three functions
 * through which a request changes the store. */
#include <string.h>
#include <httpd.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "lc_dialect_act.h"
#include "lc_audit.h"
#include "lc_http.h"

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

/* ---- audited changes -------------------------------------------------------------- */

static void audit(lc_req_t *q, const lc_kind_def_t *def, const char *id, const char *from,
                  const char *to)
{
    lc_audit_request(q->r, &q->actor, def->kind, id, from, to);
}

apr_status_t lc_dialect_engine_act(lc_req_t *q, const lc_act_t *act, lc_resource_t *before,
                                   lc_resource_t *after)
{
    apr_status_t rv = lc_engine_act(q->store, act, before, after);

    if (rv == APR_SUCCESS) {
        audit(q, act->def, act->id, lc_kind_state_name(act->def, before->state),
              lc_kind_state_name(act->def, after->state));
    }
    return rv;
}

typedef struct update_baton {
    lc_store_update_fn *fn;
    void               *baton;
    lc_resource_t      *before;
    int                 existed;
    uint8_t             from;
} update_baton_t;

/* Store locked: note what the record was, then the dialect's callback. */
static apr_status_t update_cb(lc_resource_t *r, int exists, void *baton)
{
    update_baton_t *b = baton;

    b->existed = exists;
    b->from = r->state;
    if (exists && b->before) {
        lc_resource_copy(b->before, r);
    }
    return b->fn(r, exists, b->baton);
}

apr_status_t lc_dialect_update(lc_req_t *q, const lc_kind_def_t *def, const char *id,
                               lc_store_update_fn *fn, void *baton, lc_resource_t *before,
                               lc_resource_t *after)
{
    update_baton_t b = { fn, baton, before, 0, 0 };
    apr_status_t rv = lc_store_update(q->store, def->kind, id, update_cb, &b, after, q->r->pool);

    if (rv == APR_SUCCESS) {
        audit(q, def, id, b.existed ? lc_kind_state_name(def, b.from) : "-",
              lc_kind_state_name(def, after->state));
    }
    return rv;
}

apr_status_t lc_dialect_remove(lc_req_t *q, const lc_kind_def_t *def, const char *id,
                               uint64_t expect_version, lc_resource_t *gone)
{
    apr_status_t rv = lc_store_remove(q->store, def->kind, id, expect_version, gone, q->r->pool);

    if (rv == APR_SUCCESS) {
        audit(q, def, id, lc_kind_state_name(def, gone->state), "-");
    }
    return rv;
}

/* ---- a store that failed ------------------------------------------------------------ */

/* LC_EUNAVAIL (the dbd store's database unreachable or failing, nothing
 * committed): 503 with `Retry-After: 1`, in the dialect's own error shape
 * (its `error` hook), so that each API's clients retry as they would
 * against the original service.  Anything else is the 500 the dialect
 * asked for. */
int lc_dialect_unavailable(lc_req_t *q, const char *code)
{
    apr_table_setn(q->r->headers_out, "Retry-After", LC_RETRY_AFTER);
    return q->dialect->error(q, HTTP_SERVICE_UNAVAILABLE, code,
                             "The resource store is unavailable (its database cannot be "
                             "reached); nothing was changed: retry shortly");
}

/* LC_EUNKNOWN: a write that may have been made (a 503 says what
 * is known).  The same 503 and code as LC_EUNAVAIL, another message. */
int lc_dialect_unknown(lc_req_t *q, const char *code)
{
    apr_table_setn(q->r->headers_out, "Retry-After", LC_RETRY_AFTER);
    return q->dialect->error(q, HTTP_SERVICE_UNAVAILABLE, code,
                             "The resource store lost its database during this change: "
                             "whether it was made is unknown; read the resource before "
                             "retrying");
}

int lc_dialect_store_failed(lc_req_t *q, apr_status_t rv, const char *code,
                            const char *message)
{
    if (rv == LC_EUNAVAIL) {
        return lc_dialect_unavailable(q, "unavailable");
    }
    if (rv == LC_EUNKNOWN) {
        return lc_dialect_unknown(q, "unavailable");
    }
    return q->dialect->error(q, HTTP_INTERNAL_SERVER_ERROR, code, message);
}

/* ---- one action, answered ------------------------------------------------------------ */

static lc_act_outcome_e outcome(apr_status_t rv)
{
    switch (rv) {
    case LC_ENOTFOUND:  return LC_ACT_NOTFOUND;
    case LC_EILLEGAL:   return LC_ACT_ILLEGAL;
    case LC_EFORBIDDEN: return LC_ACT_FORBIDDEN;
    case LC_EVERSION:   return LC_ACT_VERSION;
    case LC_EFULL:      return LC_ACT_FULL;
    default:            return LC_ACT_FAILED;
    }
}

static int is(const char *f, size_t n, const char *name)
{
    return strlen(name) == n && memcmp(f, name, n) == 0;
}

/* The value of {f} (n bytes), or NULL when f is no field: then it stays as written. */
static const char *field(apr_pool_t *p, const char *f, size_t n, const lc_dialect_call_t *c,
                         apr_status_t rv, const lc_resource_t *cur)
{
    const char *id = c->id ? c->id : "";

    if (is(f, n, "id")) {
        return id;
    }
    if (is(f, n, "name")) {
        return c->name ? c->name : id;
    }
    if (is(f, n, "action")) {
        return c->action ? c->action : "";
    }
    if (is(f, n, "kind")) {
        return c->def ? c->def->name : "resource";
    }
    if (is(f, n, "version")) {
        return cur ? apr_psprintf(p, "%" APR_UINT64_T_FMT, cur->version) : "";
    }
    return is(f, n, "rv") ? apr_psprintf(p, "%d", rv) : NULL;
}

/* The message with its {fields} filled in.  Values are inserted as they
 * are, never read as a message again. */
static const char *fill(apr_pool_t *p, const char *message, const lc_dialect_call_t *c,
                        apr_status_t rv, const lc_resource_t *cur)
{
    const char *s = message ? message : "", *out = "", *from, *to, *v;

    while ((from = strchr(s, '{')) != NULL && (to = strchr(from, '}')) != NULL) {
        v = field(p, from + 1, (size_t)(to - from - 1), c, rv, cur);
        out = apr_pstrcat(p, out, apr_pstrmemdup(p, s, (apr_size_t)(from - s)),
                          v ? v : apr_pstrmemdup(p, from, (apr_size_t)(to + 1 - from)), NULL);
        s = to + 1;
    }
    return apr_pstrcat(p, out, s, NULL);
}

static int say(lc_req_t *q, const lc_dialect_call_t *c, lc_act_outcome_e o, apr_status_t rv,
               const lc_resource_t *cur)
{
    const lc_act_refusal_t *w = &c->refusals->on[o];

    if (!w->status) {
        w = &c->refusals->on[LC_ACT_FAILED];
    }
    if (w->etag && cur) {
        lc_http_etag(q->r, cur->version);
    }
    return q->dialect->error(q, w->status, w->code, fill(q->r->pool, w->message, c, rv, cur));
}

int lc_dialect_refuse(lc_req_t *q, const lc_dialect_call_t *c, apr_status_t rv,
                      const lc_resource_t *cur)
{
    int rc;

    /* Before the dialect's own answers: nothing happened, and a client
     * retries a 503 as it would against the vendor's service. */
    if (rv == LC_EUNKNOWN) {
        return lc_dialect_unknown(q, c->refusals->on[LC_ACT_UNAVAILABLE].status
                                     ? c->refusals->on[LC_ACT_UNAVAILABLE].code : "unavailable");
    }
    if (rv == LC_EUNAVAIL) {
        if (!c->refusals->on[LC_ACT_UNAVAILABLE].status) {
            return lc_dialect_unavailable(q, "unavailable");
        }
        apr_table_setn(q->r->headers_out, "Retry-After", LC_RETRY_AFTER);
        return say(q, c, LC_ACT_UNAVAILABLE, rv, cur);
    }
    if (c->refuse && (rc = c->refuse(q, c, rv, cur)) != LC_PROCEED) {
        return rc;
    }
    return say(q, c, outcome(rv), rv, cur);
}

int lc_dialect_act(lc_req_t *q, lc_dialect_call_t *c)
{
    lc_precond_t if_match;
    lc_resource_t before, after;
    apr_status_t rv;
    int rc;

    if (lc_precond_parse(apr_table_get(q->r->headers_in, "If-Match"), &if_match) != 0) {
        return say(q, c, LC_ACT_MALFORMED, APR_SUCCESS, NULL);
    }
    if (c->prepare && (rc = c->prepare(q, c)) != LC_PROCEED) {
        return rc;
    }
    lc_dialect_act_init(q, c->def, c->id, c->action, &if_match, &c->act);
    c->act.guard = c->guard;
    c->act.guard_baton = c->guard_baton;
    rv = c->apply ? lc_dialect_update(q, c->def, c->id, c->apply, c, &before, &after)
                  : lc_dialect_engine_act(q, &c->act, &before, &after);
    if (rv == APR_SUCCESS || rv == LC_NOCHANGE) {
        return c->answer(q, c, &before, &after);
    }
    return lc_dialect_refuse(q, c, rv, &after);
}
