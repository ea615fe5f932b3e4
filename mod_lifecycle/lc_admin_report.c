/* lc_admin_report.c — POST /lifecycle/v1/resources/{kind}/{id}/report
 *
 * A runner reports what actually happened: {"status":"<state>"} moves the
 * resource to that state of its kind (journaled as a report, audited, with
 * If-Match honoured).  Reporting the state its transitional state advances
 * to finishes that state as the background task would (with the move's
 * bookkeeping, e.g. a pipeline's checkpoint); any other state is set as it
 * is.  A transitional state reported by hand advances like one reached by an
 * action.  Reporting the state it already has changes nothing.  A kind with
 * a report hook (pipelines) reads its own body instead.
 */
#include <string.h>
#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "lc_admin.h"
#include "lc_audit.h"
#include "lc_engine.h"
#include "lc_http.h"

typedef struct report_baton {
    const lc_kind_def_t *def;
    int                  state;
    json_t              *body;          /* the kind's own report body (the request
                                         * pool's), or NULL */
    const char          *field;         /* what the kind's hook refused */
    const lc_precond_t  *if_match;
    lc_req_t            *q;
    uint8_t              from;
} report_baton_t;

/* Store locked. */
static apr_status_t report_cb(lc_resource_t *r, int exists, void *baton)
{
    report_baton_t *b = baton;

    if (!exists) {
        return LC_ENOTFOUND;
    }
    b->from = r->state;
    if (!lc_precond_match(b->if_match, exists, r->version)) {
        return LC_EVERSION;
    }
    r->op = LC_OP_REPORT;
    if (b->body) {
        return b->def->report(b->def, r, b->body, b->q->now, b->q->sc->auto_advance, &b->field);
    }
    if (r->state == b->state) {
        return LC_NOCHANGE;
    }
    if (lc_kind_advance_target(b->def, r->state) == b->state) {
        return lc_kind_advance(b->def, r, b->q->now, b->q->sc->auto_advance);
    }
    r->state = (uint8_t)b->state;
    r->state_since = b->q->now;
    lc_kind_schedule(b->def, r, b->q->now, b->q->sc->auto_advance);
    return APR_SUCCESS;
}

/* The body: {"status": "<one of the kind's states>"}, nothing else; or any
 * JSON object for a kind that reads its own (*own gets it). */
static int report_body(lc_req_t *q, const lc_kind_def_t *def, int *state, json_t **own)
{
    const char *why = NULL, *k;
    json_t *body, *v;
    char *buf;
    apr_size_t len;
    int rc;

    if ((rc = lc_http_read_body(q->r, &buf, &len)) != OK) {
        return lc_admin_error(q, rc, "invalid_request", "the body is too large (64 KiB at most)");
    }
    /* The body is the request pool's, *own too: nothing here releases it. */
    if (!(body = lc_json_parse(q->r->pool, buf, len, 0, &why)) || !json_is_object(body)) {
        return lc_admin_error(q, HTTP_BAD_REQUEST, "invalid_request",
                              why ? why : "the body must be a JSON object {\"status\": ...}");
    }
    if (def->report) {
        *own = body;
        return LC_PROCEED;
    }
    json_object_foreach(body, k, v) {
        if (strcmp(k, "status") != 0) {
            return lc_admin_error(q, HTTP_BAD_REQUEST, "invalid_request",
                                  apr_psprintf(q->r->pool, "field '%s' is not part of a %s report",
                                               ap_escape_html(q->r->pool, k), def->name));
        }
    }
    v = json_object_get(body, "status");
    *state = json_is_string(v) ? lc_kind_state(def, json_string_value(v)) : -1;
    if (*state < 0) {
        return lc_admin_error(q, HTTP_BAD_REQUEST, "invalid_request",
                              apr_psprintf(q->r->pool, "field 'status' must be a %s state",
                                           def->name));
    }
    return LC_PROCEED;
}

int lc_admin_report(lc_req_t *q, const lc_kind_def_t *def, const char *id)
{
    lc_precond_t im;
    lc_resource_t after;
    report_baton_t b;
    apr_status_t rv;
    int rc;

    memset(&b, 0, sizeof(b));
    if (lc_precond_parse(apr_table_get(q->r->headers_in, "If-Match"), &im) != 0) {
        return lc_admin_error(q, HTTP_BAD_REQUEST, "invalid_request", "malformed If-Match header");
    }
    if ((rc = report_body(q, def, &b.state, &b.body)) != LC_PROCEED) {
        return rc;
    }
    b.def = def;
    b.if_match = &im;
    b.q = q;
    rv = lc_store_update(q->store, def->kind, id, report_cb, &b, &after, q->r->pool);
    switch (rv) {
    case APR_SUCCESS:
        lc_audit_request(q->r, &q->actor, def->kind, id, lc_kind_state_name(def, b.from),
                         lc_kind_state_name(def, after.state));
        return lc_admin_send(q, HTTP_OK, def, &after);
    case LC_NOCHANGE:
        return lc_admin_send(q, HTTP_OK, def, &after);
    case APR_EINVAL:
        return lc_admin_error(q, HTTP_BAD_REQUEST, "invalid_request",
                              apr_psprintf(q->r->pool, "field '%s' does not fit a %s report",
                                           b.field ? b.field : "?", def->name));
    case LC_EILLEGAL:
        return lc_admin_error(q, HTTP_CONFLICT, "conflict",
                              apr_psprintf(q->r->pool, "the report does not fit the %s's "
                                           "current state '%s'", def->name,
                                           lc_kind_state_name(def, after.state)));
    default:
        return lc_admin_store_error(q, def, id, rv);
    }
}
