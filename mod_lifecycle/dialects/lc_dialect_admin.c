/* lc_dialect_admin.c — the admin and runner API, at /lifecycle/v1.
 *
 *   PUT    /resources/{kind}/{id}   create (201) or replace (200)
 *   GET    /resources/{kind}/{id}   the kind's own representation
 *   DELETE /resources/{kind}/{id}   204
 *   GET    /resources/{kind}?status=&limit=&after=   a page, in id order
 *   GET    /metrics                 Prometheus text
 *
 * Errors: {"error":"<code>","message":"..."}.
 */
#include <string.h>
#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "lc_dialect_act.h"
#include "lc_engine.h"
#include "lc_http.h"
#include "lc_util.h"
#include "lc_admin.h"
#include "lc_metrics.h"

#define LIST_LIMIT_DEFAULT 100
#define LIST_LIMIT_MAX     1000
#define LIST_CHUNK         128    /* records fetched per store call */

static int method_not_allowed(lc_req_t *q, const char *allow)
{
    lc_http_allow(q->r, allow);
    return lc_admin_error(q, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                       apr_psprintf(q->r->pool, "%s is not allowed here; use %s",
                                    q->r->method, allow));
}

/* ---- PUT ----------------------------------------------------------------- */

typedef struct put_baton {
    const lc_kind_def_t *def;
    const lc_resource_t *tmpl;          /* what the body says */
    const char          *owner;         /* NULL: keep, or the actor's */
    const lc_precond_t  *if_match;
    const lc_precond_t  *if_none_match;
    lc_req_t            *q;
    int                  existed;
    int                  if_none_match_failed;  /* else LC_EEXISTS is an alias taken */
} put_baton_t;

/* Store locked. */
static apr_status_t put_cb(lc_resource_t *r, int exists, void *baton)
{
    put_baton_t *b = baton;
    const lc_resource_t *t = b->tmpl;
    int same_state = exists && r->state == t->state && r->desired == t->desired;

    b->existed = exists;
    if (b->if_none_match->present && (b->if_none_match->any
            ? exists : lc_precond_match(b->if_none_match, exists, r->version))) {
        b->if_none_match_failed = 1;
        return LC_EEXISTS;
    }
    if (!lc_precond_match(b->if_match, exists, r->version)) {
        return LC_EVERSION;
    }
    if (!exists) {
        r->created = b->q->now;
        apr_cpystrn(r->owner, b->owner ? b->owner
                    : strcmp(b->q->actor.sub, "-") ? b->q->actor.sub : "", sizeof(r->owner));
    }
    else if (b->owner) {
        apr_cpystrn(r->owner, b->owner, sizeof(r->owner));
    }
    if (!same_state) {
        r->state_since = b->q->now;
    }
    r->state = t->state;
    r->desired = t->desired;
    r->res_state = t->res_state;
    r->res_desired = t->res_desired;
    r->ckpt_seq = t->ckpt_seq;
    r->closed = t->closed ? t->closed : r->closed;
    apr_cpystrn(r->data, t->data, sizeof(r->data));
    /* Secondary keys too (Redivis's names): the store refuses one another
     * resource holds with LC_EEXISTS. */
    memcpy(r->alias, t->alias, sizeof(r->alias));
    /* A transitional state set by hand advances like one reached by an action;
     * an unchanged one keeps the time it was already due. */
    if (!same_state || !r->due) {
        lc_kind_schedule(b->def, r, b->q->now, b->q->sc->auto_advance);
    }
    return APR_SUCCESS;
}

/* Parse and check the body into tmpl; returns OK or the error already sent. */
static int put_template(lc_req_t *q, const lc_kind_def_t *def, const char *id,
                        lc_resource_t *tmpl, const char **owner)
{
    static const char *const server_owned[] = {
        "version", "etag", "created", "created_at", "updated_at", "state_since", NULL
    };
    const char *why = NULL, *field = NULL;
    json_t *body, *jid, *jowner;
    char *buf;
    apr_size_t len;
    int rc, i;

    if ((rc = lc_http_read_body(q->r, &buf, &len)) != OK) {
        return lc_admin_error(q, rc, "invalid_request", "the body is too large (64 KiB at most)");
    }
    if (len == 0) {
        return lc_admin_error(q, HTTP_BAD_REQUEST, "invalid_request",
                           apr_psprintf(q->r->pool, "the body must be the %s representation",
                                        def->name));
    }
    /* The body is the request pool's: no path below releases it. */
    if (!(body = lc_json_parse(q->r->pool, buf, len, 0, &why)) || !json_is_object(body)) {
        return lc_admin_error(q, HTTP_BAD_REQUEST, "invalid_request",
                           why ? why : "the body must be a JSON object");
    }
    jid = json_object_get(body, "id");
    if (jid && (!json_is_string(jid) || strcmp(json_string_value(jid), id) != 0)) {
        return lc_admin_error(q, HTTP_BAD_REQUEST, "invalid_request",
                           "field 'id' does not match the id in the path");
    }
    /* A string "owner" is the resource's owner (a token sub); any other
     * "owner" is the kind's own field (the notebook's {"name"}) for from_json. */
    jowner = json_object_get(body, "owner");
    if (json_is_string(jowner)) {
        if (json_string_length(jowner) > LC_OWNER_MAX) {
            return lc_admin_error(q, HTTP_BAD_REQUEST, "invalid_request",
                               "field 'owner' must be a string of at most 63 bytes");
        }
        *owner = apr_pstrdup(q->r->pool, json_string_value(jowner));
        json_object_del(body, "owner");
    }
    /* Fields the server owns are ignored, as the representation a GET returned may
     * be sent back as it is. */
    for (i = 0; server_owned[i]; i++) {
        json_object_del(body, server_owned[i]);
    }
    lc_resource_clear(tmpl);
    /* Kinds whose ids have a grammar check it; from_json may also compare an id
     * field of its own ("agent_id") with the path's. */
    apr_cpystrn(tmpl->id, id, sizeof(tmpl->id));
    if (def->from_json(body, tmpl, &field, q->r->pool) != APR_SUCCESS) {
        return lc_admin_error(q, HTTP_BAD_REQUEST, "invalid_request",
                              apr_psprintf(q->r->pool, "field '%s' does not fit a %s", field,
                                           def->name));
    }
    return LC_PROCEED;
}

static int parse_preconds(lc_req_t *q, lc_precond_t *im, lc_precond_t *inm)
{
    if (lc_precond_parse(apr_table_get(q->r->headers_in, "If-Match"), im) != 0
        || lc_precond_parse(apr_table_get(q->r->headers_in, "If-None-Match"), inm) != 0) {
        return lc_admin_error(q, HTTP_BAD_REQUEST, "invalid_request",
                           "malformed If-Match or If-None-Match header");
    }
    return LC_PROCEED;
}

static int put_resource(lc_req_t *q, const lc_kind_def_t *def, const char *id)
{
    lc_precond_t im, inm;
    lc_resource_t tmpl, after;
    put_baton_t b;
    apr_status_t rv;
    int rc;

    memset(&b, 0, sizeof(b));
    if ((rc = parse_preconds(q, &im, &inm)) != LC_PROCEED
        || (rc = put_template(q, def, id, &tmpl, &b.owner)) != LC_PROCEED) {
        return rc;
    }
    b.def = def;
    b.tmpl = &tmpl;
    b.if_match = &im;
    b.if_none_match = &inm;
    b.q = q;
    rv = lc_dialect_update(q, def, id, put_cb, &b, NULL, &after);
    switch (rv) {
    case APR_SUCCESS:
        return lc_admin_send(q, b.existed ? HTTP_OK : HTTP_CREATED, def, &after);
    case LC_EEXISTS:
        if (!b.if_none_match_failed) {
            return lc_admin_error(q, HTTP_CONFLICT, "conflict", apr_psprintf(q->r->pool,
                                  "another %s already has the name or reference id this one "
                                  "would take (%s%s%s)", def->name, tmpl.alias[0],
                                  tmpl.alias[1][0] ? ", " : "", tmpl.alias[1]));
        }
        return lc_admin_error(q, HTTP_PRECONDITION_FAILED, "precondition_failed",
                              "the resource exists (If-None-Match)");
    default:
        return lc_admin_store_error(q, def, id, rv);
    }
}

/* ---- GET, DELETE -------------------------------------------------------------- */

static int get_resource(lc_req_t *q, const lc_kind_def_t *def, const char *id)
{
    lc_resource_t r;
    apr_status_t rv = lc_store_get(q->store, def->kind, id, &r, q->r->pool);

    return rv == APR_SUCCESS ? lc_admin_send(q, HTTP_OK, def, &r)
                             : lc_admin_store_error(q, def, id, rv);
}

static int delete_resource(lc_req_t *q, const lc_kind_def_t *def, const char *id)
{
    lc_precond_t im, inm;
    lc_resource_t cur, gone;
    uint64_t expect = 0;
    apr_status_t rv;
    int rc, big;

    if ((rc = parse_preconds(q, &im, &inm)) != LC_PROCEED) {
        return rc;
    }
    if ((rc = lc_http_refuse_body(q->r, &big)) != 0) {
        return lc_admin_error(q, rc, "invalid_request", big ? "the body is too large"
                                                            : "DELETE takes no body");
    }
    if (im.present && !im.any) {
        /* Pick the listed version that is current, if any; remove() re-checks it. */
        rv = lc_store_get(q->store, def->kind, id, &cur, q->r->pool);
        if (rv == APR_SUCCESS && !lc_precond_match(&im, 1, cur.version)) {
            return lc_admin_error(q, HTTP_PRECONDITION_FAILED, "precondition_failed",
                               "If-Match does not match the current version");
        }
        expect = rv == APR_SUCCESS ? cur.version : 0;
    }
    rv = lc_dialect_remove(q, def, id, expect, &gone);
    switch (rv) {
    case APR_SUCCESS:
        q->r->status = HTTP_NO_CONTENT;
        return OK;
    default:
        return lc_admin_store_error(q, def, id, rv);
    }
}

/* ---- list ------------------------------------------------------------------- */

static int list_params(lc_req_t *q, const lc_kind_def_t *def, int *state, long *limit,
                       const char **after)
{
    static const char *const allowed[] = { "status", "limit", "after", NULL };
    apr_table_t *args;
    int rc;

    if ((rc = lc_admin_query(q, allowed, &args)) != LC_PROCEED) {
        return rc;
    }
    *state = -1;
    if (apr_table_get(args, "status")
        && (*state = lc_kind_state(def, apr_table_get(args, "status"))) < 0) {
        return lc_admin_error(q, HTTP_BAD_REQUEST, "invalid_request",
                           apr_psprintf(q->r->pool, "status is not a %s state", def->name));
    }
    *limit = LIST_LIMIT_DEFAULT;
    if (apr_table_get(args, "limit")
        && lc_parse_uint(apr_table_get(args, "limit"), 1, LIST_LIMIT_MAX, limit) != 0) {
        return lc_admin_error(q, HTTP_BAD_REQUEST, "invalid_request",
                           "limit must be a whole number from 1 to 1000");
    }
    *after = apr_table_get(args, "after");
    if (*after && strlen(*after) > LC_ID_MAX) {
        return lc_admin_error(q, HTTP_BAD_REQUEST, "invalid_request", "after is too long");
    }
    return LC_PROCEED;
}

static int list_resources(lc_req_t *q, const lc_kind_def_t *def)
{
    const char *after = NULL;
    lc_resource_t *page;
    json_t *items, *body;
    long limit = LIST_LIMIT_DEFAULT, left;
    int state = -1, n = 0, more = 1, i, rc;
    apr_status_t rv;

    if ((rc = list_params(q, def, &state, &limit, &after)) != LC_PROCEED) {
        return rc;
    }
    /* Fetched LIST_CHUNK at a time: a record takes up to 17 KiB in memory. */
    page = apr_palloc(q->r->pool, sizeof(*page) * LIST_CHUNK);
    items = json_array();
    for (left = limit; left > 0 && more; left -= n) {
        rv = lc_store_list(q->store, def->kind, state, after,
                           (int)(left < LIST_CHUNK ? left : LIST_CHUNK), page, &n, &more, q->r->pool);
        if (rv != APR_SUCCESS) {
            json_decref(items);
            return lc_admin_store_error(q, def, NULL, rv);
        }
        for (i = 0; i < n; i++) {
            json_array_append_new(items, def->to_json(&page[i]));
        }
        if (n == 0) {
            break;
        }
        after = apr_pstrdup(q->r->pool, page[n - 1].id);
    }
    body = json_pack("{s:s, s:o, s:o}", "kind", def->name, "resources", items,
                     "next_after", more && json_array_size(items) ? json_string(after)
                                                                  : json_null());
    return lc_http_json(q->r, HTTP_OK, body);
}

/* ---- metrics ---------------------------------------------------------------------- */

static int metrics(lc_req_t *q)
{
    lc_metrics_write(q->r, q->store);
    return OK;
}

/* ---- routing -------------------------------------------------------------------- */

/* "no such route; kinds are a, b, c": every kind, in their numbers' order. */
static const char *no_such_kind(apr_pool_t *p)
{
    const char *msg = "no such route; kinds are ";
    int k, first = 1;

    for (k = LC_KIND_NONE + 1; k < LC_KIND_COUNT; k++) {
        if (lc_kind_def((lc_kind_e)k)) {
            msg = apr_pstrcat(p, msg, first ? "" : ", ", lc_kind_name((lc_kind_e)k), NULL);
            first = 0;
        }
    }
    return msg;
}

static int resources(lc_req_t *q)
{
    lc_kind_e kind = q->nseg > 1 ? lc_kind_by_name(q->seg[1]) : LC_KIND_NONE;
    const lc_kind_def_t *def = lc_kind_def(kind);
    const char *id = q->nseg > 2 ? q->seg[2] : NULL;
    int m = q->r->method_number;

    /* A kind has a name only once registered: a name found has its def. */
    if (!def || q->nseg > 4) {
        return lc_admin_error(q, HTTP_NOT_FOUND, "not_found", no_such_kind(q->r->pool));
    }
    if (!id) {
        return m == M_GET ? list_resources(q, def) : method_not_allowed(q, "GET, HEAD");
    }
    if (!lc_id_valid(id)) {
        return lc_admin_error(q, HTTP_BAD_REQUEST, "invalid_request",
                           "invalid id: 1 to 128 characters of [A-Za-z0-9._-], starting "
                           "with a letter or digit");
    }
    if (q->nseg == 4) {
        if (strcmp(q->seg[3], "report") != 0) {
            return lc_admin_error(q, HTTP_NOT_FOUND, "not_found", "no such route");
        }
        return m != M_POST ? method_not_allowed(q, "POST") : lc_admin_report(q, def, id);
    }
    switch (m) {
    case M_GET:    return get_resource(q, def, id);
    case M_PUT:    return put_resource(q, def, id);
    case M_DELETE: return delete_resource(q, def, id);
    default:       return method_not_allowed(q, "GET, HEAD, PUT, DELETE");
    }
}

static int admin_handle(lc_req_t *q)
{
    const char *top = q->nseg > 0 ? q->seg[0] : "";

    if (strcmp(top, "resources") == 0 && q->nseg >= 2) {
        return resources(q);
    }
    if (strcmp(top, "metrics") == 0 && q->nseg == 1) {
        return q->r->method_number == M_GET ? metrics(q) : method_not_allowed(q, "GET, HEAD");
    }
    if (strcmp(top, "changes") == 0 && q->nseg == 1) {
        return q->r->method_number != M_GET ? method_not_allowed(q, "GET, HEAD")
                                            : lc_admin_changes(q);
    }
    return lc_admin_error(q, HTTP_NOT_FOUND, "not_found", "no such route");
}

const lc_dialect_t lc_dialect_admin = {
    .name               = "admin",
    .kind               = LC_KIND_NONE,
    .scope_read         = "lifecycle.admin",
    .scope_write        = "lifecycle.admin",
    .handle             = admin_handle,
    .error              = lc_admin_error,
    .method_not_allowed = method_not_allowed,
    .methods            = "GET, HEAD, PUT, POST, DELETE",
};
