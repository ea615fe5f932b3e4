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
#include "lc_engine.h"
#include "lc_http.h"

typedef struct report_baton {
    int                  state;
    json_t              *body;          /* the kind's own report body (the request
                                         * pool's), or NULL */
    const char          *field;         /* what the kind's hook refused */
} report_baton_t;

/* Store locked; the baton is the call (lc_dialect_act filled its act). */
static apr_status_t report_cb(lc_resource_t *r, int exists, void *baton)
{
    const lc_dialect_call_t *c = baton;
    const lc_act_t *act = &c->act;
    report_baton_t *b = c->baton;

    if (!exists) {
        return LC_ENOTFOUND;
    }
    if (!lc_precond_match(act->if_match, exists, r->version)) {
        return LC_EVERSION;
    }
    r->op = LC_OP_REPORT;
    if (b->body) {
        return c->def->report(c->def, r, b->body, act->now, act->advance_after, &b->field);
    }
    if (r->state == b->state) {
        return LC_NOCHANGE;
    }
    if (lc_kind_advance_target(c->def, r->state) == b->state) {
        return lc_kind_advance(c->def, r, act->now, act->advance_after);
    }
    r->state = (uint8_t)b->state;
    r->state_since = act->now;
    lc_kind_schedule(c->def, r, act->now, act->advance_after);
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

/* After If-Match: the body (the request pool's, like every parsed body). */
static int report_prepare(lc_req_t *q, lc_dialect_call_t *c)
{
    report_baton_t *b = c->baton;

    return report_body(q, c->def, &b->state, &b->body);
}

/* Applied, or the state it already had: the resource as it is now. */
static int report_sent(lc_req_t *q, const lc_dialect_call_t *c, const lc_resource_t *before,
                       const lc_resource_t *after)
{
    (void)before;
    return lc_admin_send(q, HTTP_OK, c->def, after);
}

/* What a report can be refused for beyond the store's answers. */
static int report_refused(lc_req_t *q, const lc_dialect_call_t *c, apr_status_t rv,
                          const lc_resource_t *cur)
{
    const report_baton_t *b = c->baton;

    switch (rv) {
    case APR_EINVAL:
        return lc_admin_error(q, HTTP_BAD_REQUEST, "invalid_request",
                              apr_psprintf(q->r->pool, "field '%s' does not fit a %s report",
                                           b->field ? b->field : "?", c->def->name));
    case LC_EILLEGAL:
        return lc_admin_error(q, HTTP_CONFLICT, "conflict",
                              apr_psprintf(q->r->pool, "the report does not fit the %s's "
                                           "current state '%s'", c->def->name,
                                           lc_kind_state_name(c->def, cur->state)));
    default:
        return LC_PROCEED;
    }
}

int lc_admin_report(lc_req_t *q, const lc_kind_def_t *def, const char *id)
{
    report_baton_t b = { 0, NULL, NULL };
    lc_dialect_call_t c = { .def = def, .id = id, .action = "report", .refusals = &lc_admin_refusals,
                            .answer = report_sent, .prepare = report_prepare, .refuse = report_refused,
                            .apply = report_cb, .baton = &b };

    return lc_dialect_act(q, &c);
}
