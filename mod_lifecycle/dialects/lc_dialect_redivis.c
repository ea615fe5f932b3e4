/* lc_dialect_redivis.c — Redivis notebooks, at /api/v1/notebooks.
 *
 *   POST /{ref}/stop    current job queued | running -> cancelled
 *   POST /{ref}/run     a new job, queued (-> running by runner or auto-advance)
 *   GET  /{ref}         the notebook's "get" representation (HEAD: no body)
 *
 * {ref} is a qualified reference, owner.workflow[:wfId].notebook[:nbId]
 * (lc_redivis_ref.c).  Errors: {"error","error_description","status"}
 * (+ "scope" on 403 insufficient_scope); on HEAD the same object, URL-encoded,
 * in X-REDIVIS-ERROR-PAYLOAD, as the official clients read it.
 *
 * Store id.  A notebook's store id is opaque: the admin API names it by any
 * id ("nb-4a9b"), or, as before opaque ids, by its canonical key
 * "owner.workflow.notebook".  Its names and reference ids live in its
 * attributes and are indexed by two store aliases, "name:" + canonical key
 * and "ref:" + notebook reference id (lc_redivis_ref.h), so every reference
 * form — names, names with ids, ids only — resolves with one or two alias
 * lookups whatever the count (lc_redivis_resolve, the same function the unit
 * bench times).  Two notebooks cannot share a name or a reference id: the
 * store refuses the second (LC_EEXISTS, the admin API's 409).
 *
 * The reference is parsed from the raw path (the dialect sets raw_path): a
 * display name's '/' arrives as %2F and counts as '_', where the dispatcher
 * refuses an encoded '/' for every other dialect.
 *
 * Workflows.  On a Location whose last component is "workflows" the same
 * dialect serves Redivis's workflows (lc_dialect_redivis_wf.c).
 *
 * State.  The kind's states are the current job's status, plus "none" before
 * any job: the notebook's own status derives from it.  The kind (states,
 * rules, representation) is lc_kind_redivis.c.
 */
#include <string.h>
#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "lc_dialect_act.h"
#include "lc_kind_redivis.h"
#include "lc_engine.h"
#include "lc_http.h"
#include "lc_util.h"
#include "lc_redivis_ref.h"
#include "lc_dialect_redivis_wf.h"

/* ---- HTTP ------------------------------------------------------------------ */

/* On HEAD the clients read the error from X-REDIVIS-ERROR-PAYLOAD, URL-encoded
 * JSON of the same object; the body is never sent. */
static int redivis_error(lc_req_t *q, int status, const char *code, const char *message)
{
    json_t *b = json_pack("{s:s, s:s, s:i}", "error", code, "error_description",
                          message ? message : "", "status", status);
    const char *scope = lc_dialect_refused_scope(q);

    if (status == HTTP_FORBIDDEN && scope && strcmp(code, "insufficient_scope") == 0) {
        json_object_set_new(b, "scope", json_string(scope));
    }
    if (q->r->header_only) {
        char *text = json_dumps(b, JSON_COMPACT);
        apr_size_t size = text ? 3 * strlen(text) + 1 : 1;
        char *enc = apr_palloc(q->r->pool, size);

        lc_redivis_url_encode(text ? text : "", enc, size);
        apr_table_setn(q->r->headers_out, "X-REDIVIS-ERROR-PAYLOAD", enc);
        free(text);
    }
    return lc_http_json(q->r, status, b);
}

static int nb_send(lc_req_t *q, const lc_resource_t *r)
{
    lc_http_etag(q->r, r->version);
    return lc_http_json(q->r, HTTP_OK, lc_notebook_kind.to_json(r));
}

/* A request: its reference, parsed, and as it came (still percent-encoded). */
typedef struct nb_call {
    lc_redivis_ref_t ref;
    const char *raw;
} nb_call_t;

static int nb_not_found(lc_req_t *q, const nb_call_t *c)
{
    return redivis_error(q, HTTP_NOT_FOUND, "not_found",
                         apr_psprintf(q->r->pool, "Couldn't find notebook with reference %s",
                                      c->raw));
}

static int nb_store_failed(lc_req_t *q, apr_status_t rv)
{
    return lc_dialect_store_failed(q, rv, "internal_error",
                         apr_psprintf(q->r->pool, "The store failed (error %d)", rv));
}

static int nb_get(lc_req_t *q, const nb_call_t *c)
{
    lc_resource_t r;
    apr_status_t rv = lc_redivis_resolve(q->store, &c->ref, &r, q->r->pool);

    if (rv == LC_ENOTFOUND) {
        return nb_not_found(q, c);
    }
    return rv == APR_SUCCESS ? nb_send(q, &r) : nb_store_failed(q, rv);
}

static const char *illegal_message(lc_req_t *q, const char *action, const lc_resource_t *cur)
{
    if (strcmp(action, "stop") == 0) {
        return apr_psprintf(q->r->pool, "Notebook %s cannot be stopped: its current job is "
                            "not queued or running (%s)", cur->id,
                            cur->state == NB_NONE ? "no job"
                                                  : lc_notebook_kind.states[cur->state]);
    }
    return apr_psprintf(q->r->pool, "Notebook %s is already running (job %s)", cur->id,
                        lc_notebook_kind.states[cur->state]);
}

/* What an action that did not happen answers (the illegal one: nb_refused). */
static const lc_act_refusals_t nb_refusals = {{
    [LC_ACT_MALFORMED] = { HTTP_BAD_REQUEST, "invalid_request", "Malformed If-Match header" },
    /* Removed since it was resolved. */
    [LC_ACT_NOTFOUND]  = { HTTP_NOT_FOUND, "not_found",
                           "Couldn't find notebook with reference {name}" },
    /* Not insufficient_scope: the clients answer that one by asking for a
     * new token with more scope, which would not help here. */
    [LC_ACT_FORBIDDEN] = { HTTP_FORBIDDEN, "forbidden", "Notebook {id} belongs to another user; "
                           "you may read it but not {action} it" },
    [LC_ACT_VERSION]   = { HTTP_PRECONDITION_FAILED, "precondition_failed",
                           "If-Match does not match the current version {version}", 1 },
    [LC_ACT_FAILED]    = { HTTP_INTERNAL_SERVER_ERROR, "internal_error",
                           "The store failed (error {rv})" }
}};

/* After If-Match: the reference, resolved to the notebook's store id. */
static int nb_act_prepare(lc_req_t *q, lc_dialect_call_t *call)
{
    const nb_call_t *c = call->baton;
    lc_resource_t cur;
    apr_status_t rv;

    if ((rv = lc_redivis_resolve(q->store, &c->ref, &cur, q->r->pool)) != APR_SUCCESS) {
        return rv == LC_ENOTFOUND ? nb_not_found(q, c) : nb_store_failed(q, rv);
    }
    call->id = apr_pstrdup(q->r->pool, cur.id);
    return LC_PROCEED;
}

/* The message of an illegal action names the job's status. */
static int nb_refused(lc_req_t *q, const lc_dialect_call_t *call, apr_status_t rv,
                      const lc_resource_t *cur)
{
    if (rv != LC_EILLEGAL) {
        return LC_PROCEED;
    }
    return redivis_error(q, HTTP_BAD_REQUEST, "invalid_request",
                         illegal_message(q, call->action, cur));
}

/* Done, or nothing to do: the notebook as it is now. */
static int nb_acted(lc_req_t *q, const lc_dialect_call_t *call, const lc_resource_t *before,
                    const lc_resource_t *after)
{
    (void)call;
    (void)before;
    return nb_send(q, after);
}

static int nb_act(lc_req_t *q, nb_call_t *c, const char *action)
{
    lc_dialect_call_t call = { .def = &lc_notebook_kind, .action = action, .name = c->raw,
                               .refusals = &nb_refusals, .answer = nb_acted, .prepare = nb_act_prepare,
                               .refuse = nb_refused, .baton = c };
    int rc, big;

    /* Empty body only. */
    if ((rc = lc_http_refuse_body(q->r, &big)) != 0) {
        return redivis_error(q, rc, "invalid_request",
                             big ? "The request body is too large"
                                 : "The request body for this endpoint should be empty");
    }
    return lc_dialect_act(q, &call);
}

static int nb_method_not_allowed(lc_req_t *q, const char *allow)
{
    lc_http_allow(q->r, allow);
    return redivis_error(q, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                         apr_psprintf(q->r->pool, "%s is not allowed here; use %s",
                                      q->r->method, allow));
}

/* The route, from the raw path: the first segment is the reference, which
 * lc_redivis_ref_parse decodes itself ('.' and ':' may come encoded or not,
 * %2F is a '_'); what follows decodes as usual.  *action is NULL for GET.
 * LC_PROCEED, or the error sent. */
static int nb_route(lc_req_t *q, nb_call_t *c, const char **action)
{
    const char *raw = q->path + (q->path[0] == '/');
    const char *end = strchr(raw, '/');
    const char *rest[LC_MAX_SEGMENTS];
    const char *why = "";
    int n = end ? lc_path_split(q->r->pool, end + 1, rest, LC_MAX_SEGMENTS) : 0;

    if (n < 0) {
        return redivis_error(q, HTTP_BAD_REQUEST, "invalid_request",
                             "the path is not valid: bad percent-encoding, an encoded '/', "
                             "non-UTF-8 bytes or too many segments");
    }
    if (!raw[0] || (end && (n != 1 || end[1] == '/')) || (n == 1 && strcmp(rest[0], "stop")
                                       && strcmp(rest[0], "run"))) {
        return redivis_error(q, HTTP_NOT_FOUND, "not_found", "No such route");
    }
    *action = n ? rest[0] : NULL;
    c->raw = end ? apr_pstrmemdup(q->r->pool, raw, (apr_size_t)(end - raw)) : raw;
    if (lc_redivis_ref_parse(q->r->pool, c->raw, strlen(c->raw), &c->ref, &why)
        != APR_SUCCESS) {
        return redivis_error(q, HTTP_BAD_REQUEST, "invalid_request",
                             apr_pstrcat(q->r->pool, "Invalid notebook reference: ", why,
                                         NULL));
    }
    return LC_PROCEED;
}

static int redivis_handle(lc_req_t *q)
{
    const char *action = NULL;
    nb_call_t c;
    int rc;

    /* The second collection: a Location ending in "workflows". */
    if (strcmp(q->collection, "workflows") == 0) {
        return lc_redivis_workflows_handle(q);
    }
    if ((rc = nb_route(q, &c, &action)) != LC_PROCEED) {
        return rc;
    }
    if (!action) {
        return q->r->method_number == M_GET ? nb_get(q, &c)
                                            : nb_method_not_allowed(q, "GET, HEAD");
    }
    if (q->r->method_number != M_POST) {
        return nb_method_not_allowed(q, "POST");
    }
    return nb_act(q, &c, action);
}

const lc_dialect_t lc_dialect_redivis = {
    .name               = "redivis",
    .kind               = LC_KIND_NOTEBOOK,
    .kind_def           = &lc_notebook_kind,
    .scope_read         = "workflow.read",
    .scope_write        = "workflow.write",
    .handle             = redivis_handle,
    .error              = redivis_error,
    .method_not_allowed = nb_method_not_allowed,
    .methods            = "GET, HEAD, POST",
    .raw_path           = 1,        /* %2F in a reference is a '_' */
};
