/* lc_dialect_workstation.c — the cloud workstation API.
 *
 *   POST /{id}/stop     running -> stopped, synchronously
 *   POST /{id}/launch   stopped | error -> provisioning (-> running later)
 *   GET  /{id}          the workstation object
 *
 * Errors: {"status":<code>,"error":"<reason phrase>","message":"<what and why>"}.
 * The kind (states, rules, representation) is lc_kind_workstation.c.
 */
#include <string.h>
#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "lc_dialect_act.h"
#include "lc_kind_workstation.h"
#include "lc_engine.h"
#include "lc_http.h"
#include "lc_util.h"
#include "lc_repr_cache.h"

/* ---- HTTP ------------------------------------------------------------------ */

static int ws_error(lc_req_t *q, int status, const char *code, const char *message)
{
    const char *line = ap_get_status_line(status);   /* "404 Not Found" */
    json_t *b;

    (void)code;
    b = json_pack("{s:i, s:s, s:s}", "status", status,
                  "error", strlen(line) > 4 ? line + 4 : line,
                  "message", message ? message : "");
    return lc_http_json(q->r, status, b);
}

static int ws_send(lc_req_t *q, const lc_resource_t *r)
{
    apr_size_t len;
    const char *text = lc_repr_json(q->r->pool, &lc_workstation_kind, r, &len);

    lc_http_etag(q->r, r->version);
    return lc_http_json_text(q->r, HTTP_OK, text, len);
}

static int ws_get(lc_req_t *q, const char *id)
{
    lc_resource_t r;
    apr_status_t rv = lc_store_get(q->store, LC_KIND_WORKSTATION, id, &r, q->r->pool);

    if (rv == LC_ENOTFOUND) {
        return ws_error(q, HTTP_NOT_FOUND, "not_found",
                        apr_psprintf(q->r->pool, "Workstation %s does not exist", id));
    }
    if (rv != APR_SUCCESS) {
        return lc_dialect_store_failed(q, rv, "internal", "the store failed");
    }
    return ws_send(q, &r);
}

static const char *illegal_message(request_rec *r, const char *action,
                                   const lc_resource_t *cur)
{
    const char *state = lc_workstation_kind.states[cur->state < WS_NSTATES ? cur->state
                                                                           : WS_ERROR];

    if (strcmp(action, "stop") == 0) {
        return apr_psprintf(r->pool, "Workstation %s is not in a running state "
                            "(status: %s)", cur->id, state);
    }
    return apr_psprintf(r->pool, "Workstation %s cannot be launched: it is %s",
                        cur->id, state);
}

/* What an action that did not happen answers (the illegal one: ws_refused). */
static const lc_act_refusals_t ws_refusals = {{
    [LC_ACT_MALFORMED] = { HTTP_BAD_REQUEST, "invalid_request", "Malformed If-Match header" },
    [LC_ACT_NOTFOUND]  = { HTTP_NOT_FOUND, "not_found", "Workstation {id} does not exist" },
    [LC_ACT_FORBIDDEN] = { HTTP_FORBIDDEN, "forbidden",
                           "Workstation {id} belongs to another user" },
    [LC_ACT_VERSION]   = { HTTP_PRECONDITION_FAILED, "precondition_failed",
                           "If-Match does not match the current version {version}", 1 },
    [LC_ACT_FAILED]    = { HTTP_INTERNAL_SERVER_ERROR, "internal",
                           "Failed to {action} the workstation: store error {rv}" }
}};

/* The message of an illegal action names what the action needed. */
static int ws_refused(lc_req_t *q, const lc_dialect_call_t *c, apr_status_t rv,
                      const lc_resource_t *cur)
{
    if (rv != LC_EILLEGAL) {
        return LC_PROCEED;
    }
    return ws_error(q, HTTP_BAD_REQUEST, "invalid_state", illegal_message(q->r, c->action, cur));
}

/* Done, or nothing to do: the workstation as it is now. */
static int ws_acted(lc_req_t *q, const lc_dialect_call_t *c, const lc_resource_t *before,
                    const lc_resource_t *after)
{
    (void)c;
    (void)before;
    return ws_send(q, after);
}

static int ws_act(lc_req_t *q, const char *id, const char *action)
{
    lc_dialect_call_t c = { .def = &lc_workstation_kind, .id = id, .action = action,
                            .refusals = &ws_refusals, .answer = ws_acted, .refuse = ws_refused };
    int rc, big;

    if ((rc = lc_http_refuse_body(q->r, &big)) != 0) {
        return ws_error(q, rc, "invalid_request", big ? "The request body is too large"
                                                      : "This endpoint does not take a request body");
    }
    return lc_dialect_act(q, &c);
}

static int ws_method_not_allowed(lc_req_t *q, const char *allow)
{
    lc_http_allow(q->r, allow);
    return ws_error(q, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                    apr_psprintf(q->r->pool, "%s is not allowed here; use %s",
                                 q->r->method, allow));
}

static int ws_handle(lc_req_t *q)
{
    const char *id = q->nseg > 0 ? q->seg[0] : "";

    if (q->nseg == 0 || q->nseg > 2 || (q->nseg == 2 && strcmp(q->seg[1], "stop")
                                        && strcmp(q->seg[1], "launch"))) {
        return ws_error(q, HTTP_NOT_FOUND, "not_found", "No such route");
    }
    if (!lc_id_valid(id)) {
        return ws_error(q, HTTP_BAD_REQUEST, "invalid_request",
                        "Invalid workstation ID: 1 to 128 characters of [A-Za-z0-9._-], "
                        "starting with a letter or digit");
    }
    if (q->nseg == 1) {
        return q->r->method_number == M_GET ? ws_get(q, id)
                                            : ws_method_not_allowed(q, "GET, HEAD");
    }
    if (q->r->method_number != M_POST) {
        return ws_method_not_allowed(q, "POST");
    }
    return ws_act(q, id, q->seg[1]);
}

const lc_dialect_t lc_dialect_workstation = {
    .name               = "workstation",
    .kind               = LC_KIND_WORKSTATION,
    .kind_def           = &lc_workstation_kind,
    .scope_read         = "workstations.read",
    .scope_write        = "workstations.write",
    .handle             = ws_handle,
    .error              = ws_error,
    .method_not_allowed = ws_method_not_allowed,
    .methods            = "GET, HEAD, POST",
};
