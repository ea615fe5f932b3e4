/* lc_dialect_workstation.c — the cloud workstation API (seed 002, SPEC §4.1).
 *
 *   POST /{id}/stop     running -> stopped, synchronously
 *   POST /{id}/launch   stopped | error -> provisioning (-> running later)
 *   GET  /{id}          the workstation object
 *
 * Errors: {"status":<code>,"error":"<reason phrase>","message":"<what and why>"}.
 */
#include <string.h>
#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "lc_dialect.h"
#include "lc_engine.h"
#include "lc_http.h"
#include "lc_audit.h"
#include "lc_util.h"
#include "lc_repr_cache.h"

/* ---- the kind: states, rules, representation ---------------------------- */

enum { WS_STOPPED, WS_RUNNING, WS_PROVISIONING, WS_ERROR, WS_NSTATES };

static const char *const ws_states[WS_NSTATES] = {
    "stopped", "running", "provisioning", "error"
};

static const lc_rule_t ws_rules[] = {
    /* action    from                                   to               desired        flags */
    { "stop",   LC_BIT(WS_RUNNING),                     WS_STOPPED,      LC_STATE_KEEP, 0, NULL },
    { "launch", LC_BIT(WS_STOPPED) | LC_BIT(WS_ERROR),  WS_PROVISIONING, LC_STATE_KEEP,
      LC_RULE_ADVANCE, NULL },
    { NULL }
};

static const lc_advance_t ws_advances[] = {
    { WS_PROVISIONING, WS_RUNNING, 0 },
    { LC_STATE_KEEP }
};

extern const lc_kind_def_t lc_workstation_kind;

static const char *const ws_fields[] = { "id", "name", "status", "configuration", NULL };
static const char *const ws_config_fields[] = {
    "cpuCores", "memoryGB", "storageGB", "gpu", "region", NULL
};

/* Integer configuration fields, and how an error names each. */
static const char *const ws_config_ints[] = { "cpuCores", "memoryGB", "storageGB" };
static const char *const ws_config_int_fields[] = {
    "configuration.cpuCores", "configuration.memoryGB", "configuration.storageGB"
};

static json_t *ws_to_json(const lc_resource_t *r)
{
    json_t *data = lc_kind_get_data(r);
    json_t *name = json_object_get(data, "name");
    json_t *config = json_object_get(data, "configuration");
    json_t *o = json_pack("{s:s, s:O, s:s, s:O}", "id", r->id,
                          "name", name ? name : json_null(),
                          "status", ws_states[r->state < WS_NSTATES ? r->state : WS_ERROR],
                          "configuration", config ? config : json_null());

    json_decref(data);
    return o;
}

/* All five fields, of their types (gpu may be null: no GPU). */
static apr_status_t ws_config_valid(json_t *c, const char **field, apr_pool_t *p)
{
    const char *k;
    json_t *v;
    unsigned i;

    if (!json_is_object(c)) {
        *field = "configuration";
        return APR_EINVAL;
    }
    if ((k = lc_kind_unknown_field(c, ws_config_fields)) != NULL) {
        *field = apr_pstrcat(p, "configuration.", k, NULL);
        return APR_EINVAL;
    }
    for (i = 0; i < sizeof(ws_config_ints) / sizeof(*ws_config_ints); i++) {
        v = json_object_get(c, ws_config_ints[i]);
        if (!json_is_integer(v) || json_integer_value(v) < 0
            || json_integer_value(v) > 1048576) {
            *field = ws_config_int_fields[i];
            return APR_EINVAL;
        }
    }
    v = json_object_get(c, "gpu");
    if (!v || (!json_is_string(v) && !json_is_null(v))) {
        *field = "configuration.gpu";
        return APR_EINVAL;
    }
    if (!json_is_string(json_object_get(c, "region"))) {
        *field = "configuration.region";
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* The admin PUT body: the workstation object itself. */
static apr_status_t ws_from_json(json_t *body, lc_resource_t *r, const char **field,
                                 apr_pool_t *p)
{
    json_t *name = json_object_get(body, "name");
    json_t *status = json_object_get(body, "status");
    json_t *config = json_object_get(body, "configuration");
    json_t *data;
    int state;
    apr_status_t rv;

    if ((*field = lc_kind_unknown_field(body, ws_fields)) != NULL) {
        return APR_EINVAL;
    }
    if (!json_is_string(name) || json_string_length(name) == 0
        || json_string_length(name) > 128) {
        *field = "name";
        return APR_EINVAL;
    }
    if (!json_is_string(status) || (state = lc_kind_state(&lc_workstation_kind,
                                                          json_string_value(status))) < 0) {
        *field = "status";
        return APR_EINVAL;
    }
    if (!config) {
        *field = "configuration";
        return APR_EINVAL;
    }
    if ((rv = ws_config_valid(config, field, p)) != APR_SUCCESS) {
        return rv;
    }
    r->state = (uint8_t)state;
    data = json_pack("{s:O, s:O}", "name", name, "configuration", config);
    rv = lc_kind_set_data(r, data);
    json_decref(data);
    if (rv != APR_SUCCESS) {
        *field = "configuration";
    }
    return rv;
}

const lc_kind_def_t lc_workstation_kind = {
    LC_KIND_WORKSTATION, "workstation", ws_states, WS_NSTATES,
    ws_rules, ws_advances, ws_to_json, ws_from_json
};

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
    const char *state = ws_states[cur->state < WS_NSTATES ? cur->state : WS_ERROR];

    if (strcmp(action, "stop") == 0) {
        return apr_psprintf(r->pool, "Workstation %s is not in a running state "
                            "(status: %s)", cur->id, state);
    }
    return apr_psprintf(r->pool, "Workstation %s cannot be launched: it is %s",
                        cur->id, state);
}

static int ws_act(lc_req_t *q, const char *id, const char *action)
{
    lc_resource_t before, after;
    lc_precond_t if_match;
    lc_act_t act;
    apr_status_t rv;
    int rc, big;

    if ((rc = lc_http_refuse_body(q->r, &big)) != 0) {
        return ws_error(q, rc, "invalid_request", big ? "The request body is too large"
                                                      : "This endpoint does not take a request body");
    }
    if (lc_precond_parse(apr_table_get(q->r->headers_in, "If-Match"), &if_match) != 0) {
        return ws_error(q, HTTP_BAD_REQUEST, "invalid_request", "Malformed If-Match header");
    }
    lc_dialect_act_init(q, &lc_workstation_kind, id, action, &if_match, &act);
    rv = lc_engine_act(q->store, &act, &before, &after);
    switch (rv) {
    case APR_SUCCESS:
        lc_audit_request(q->r, &q->actor, LC_KIND_WORKSTATION, id,
                         ws_states[before.state], ws_states[after.state]);
        return ws_send(q, &after);
    case LC_NOCHANGE:
        return ws_send(q, &after);
    case LC_ENOTFOUND:
        return ws_error(q, HTTP_NOT_FOUND, "not_found",
                        apr_psprintf(q->r->pool, "Workstation %s does not exist", id));
    case LC_EILLEGAL:
        return ws_error(q, HTTP_BAD_REQUEST, "invalid_state",
                        illegal_message(q->r, action, &after));
    case LC_EFORBIDDEN:
        return ws_error(q, HTTP_FORBIDDEN, "forbidden",
                        apr_psprintf(q->r->pool, "Workstation %s belongs to another user", id));
    case LC_EVERSION:
        lc_http_etag(q->r, after.version);
        return ws_error(q, HTTP_PRECONDITION_FAILED, "precondition_failed",
                        apr_psprintf(q->r->pool, "If-Match does not match the current "
                                     "version %" APR_UINT64_T_FMT, after.version));
    default:
        return lc_dialect_store_failed(q, rv, "internal",
                        apr_psprintf(q->r->pool, "Failed to %s the workstation: store error %d",
                                     action, rv));
    }
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
    "workstation", LC_KIND_WORKSTATION, &lc_workstation_kind, "workstations.read",
    "workstations.write", ws_handle, ws_error, ws_method_not_allowed, "GET, HEAD, POST"
};
