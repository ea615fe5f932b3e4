/* lc_dialect_feldera.c — Feldera pipelines, at /v0/pipelines and /v0/config.
 *
 *   GET  /v0/config                        the platform configuration (the client's constructor reads it)
 *   GET  /v0/pipelines?selector=all|status the list of pipelines
 *   GET  /{name}?selector=all|status       the pipeline
 *   POST /{name}/start?initial=running|paused|standby&dismiss_error=true|false
 *                                          202 "Pipeline is starting"
 *   POST /{name}/stop?force=false          202 "Pipeline is suspending" (desired Suspended)
 *   POST /{name}/stop?force=true           202 "Pipeline is forcefully stopping"
 *   POST /{name}/dismiss_error             200 "Pipeline deployment error has been dismissed"
 *   POST /{name}/checkpoint                200 {"checkpoint_sequence_number","incarnation_uuid"}
 *   GET  /{name}/checkpoint_status         200 {"success","failure"}
 *   POST /{name}/pause                     202 "Pipeline transitioning from Running to Paused"
 *   POST /{name}/resume                    202 (the process's /start: Paused -> Running)
 *   POST /{name}/activate?initial=running|paused   202 (Standby -> Running or Paused)
 *   POST /{name}/approve?silent_bootstrap=&concurrent_bootstrap=   200 "Bootstrap approved"
 *   POST /{name}/clear                     202 "Pipeline storage is being cleared"
 *   DELETE /{name}                         200, empty (fully stopped, storage Cleared)
 *   GET  /{name}/stats                     the process's ControllerStatus (global_metrics, ...)
 *   GET  /{name}/logs                      text/plain, the lines a runner reported
 *   GET  /{name}/events?selector=status|all  the status history, newest first
 *   GET  /{name}/events/{event_id|latest}  one of it
 *   GET  /{name}/checkpoints               the checkpoints taken (CheckpointMetadata)
 *
 * pause, resume, activate and approve are, in Feldera, the pipeline
 * process's own endpoints that the manager forwards: not provisioned, they
 * answer the manager's 503 PipelineInteractionNotDeployed; a runtime desired
 * status they may not leave, the process's 400 InvalidTransition.  The
 * state changes go through the kind's table like start and stop (audited,
 * If-Match honoured).  Without a runner, /clear makes the storage Cleared at
 * once (there is none but the record's); a runner-driven pipeline shows
 * Clearing until its runner reports storage_status Cleared.  /activate is
 * an enterprise feature of Feldera's manager; it is served here as the
 * enterprise manager forwards it.
 *
 * The 202/200 string bodies are the JSON strings Feldera's manager (and the
 * pipeline's /suspend, which it forwards) answer.  Errors are Feldera's
 * ErrorResponse {"message","error_code","details"}, with the manager's
 * messages and details.
 *
 * The kind (the status model, its table, runner reports, the pipeline's
 * representation) is lc_kind_feldera.c.
 */
#include <string.h>
#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <sodium.h>

#include "lc_dialect_act.h"
#include "lc_kind_feldera.h"
#include "lc_engine.h"
#include "lc_http.h"
#include "lc_util.h"
#include "lc_time.h"

/* ---- HTTP ------------------------------------------------------------------ */

/* How Feldera's Display writes a resources status (in runner messages). */
static const char *const fd_res_lower[FR_N] = { "stopped", "provisioning", "provisioned",
                                                "stopping" };

/* A name for each id, stable across calls (Feldera's pipeline id is a UUID;
 * here it is derived from the name, so the same pipeline keeps it). */
static json_t *fd_pipeline_id(const char *name)
{
    unsigned char h[16];
    char x[33];

    crypto_generichash(h, sizeof(h), (const unsigned char *)name, strlen(name), NULL, 0);
    h[6] = (unsigned char)((h[6] & 0x0f) | 0x40);       /* RFC 4122 version 4 layout */
    h[8] = (unsigned char)((h[8] & 0x3f) | 0x80);
    sodium_bin2hex(x, sizeof(x), h, sizeof(h));
    return json_sprintf("%.8s-%.4s-%.4s-%.4s-%.12s", x, x + 8, x + 12, x + 16, x + 20);
}

/* What the dialect's GET and list answer: the manager's object, "id" first. */
static json_t *fd_get_json(const lc_resource_t *r, int all)
{
    json_t *o = json_object(), *rest = lc_feldera_pipeline_json(r, all);

    json_object_set_new(o, "id", fd_pipeline_id(r->id));
    json_object_update(o, rest);
    json_decref(rest);
    return o;
}

#define FD_NAME_MAX 63
#define FD_LIST_CHUNK 512

/* Feldera's ErrorResponse; `details` is consumed (NULL = {}). */
static int fd_send_error(lc_req_t *q, int status, const char *code, const char *message,
                         json_t *details)
{
    return lc_http_json(q->r, status, json_pack("{s:s, s:s, s:o}", "message", message,
                                                "error_code", code,
                                                "details", details ? details : json_object()));
}

/* The dialect's error hook (authorization, ...). */
static int fd_error(lc_req_t *q, int status, const char *code, const char *message)
{
    return fd_send_error(q, status, code, message ? message : "", NULL);
}

/* ^([A-Za-z0-9][-A-Za-z0-9_]*)?[A-Za-z0-9]$, at most 63 characters
 * (Feldera's validate_pipeline_name: a Kubernetes label value). */
static int fd_name_check(lc_req_t *q, const char *name)
{
    size_t n = strlen(name), i;
    int ok = n > 0 && apr_isalnum(name[0]) && apr_isalnum(name[n - 1]);

    for (i = 0; ok && i < n; i++) {
        ok = (name[i] & 0x80) == 0 && (apr_isalnum(name[i]) || name[i] == '-' || name[i] == '_');
    }
    if (n == 0) {
        return fd_send_error(q, HTTP_BAD_REQUEST, "EmptyName", "Name cannot be be empty", NULL);
    }
    if (n > FD_NAME_MAX) {
        return fd_send_error(q, HTTP_BAD_REQUEST, "TooLongName",
            apr_psprintf(q->r->pool, "Name '%s' is longer (%" APR_SIZE_T_FMT ") than maximum "
                         "allowed (%d)", name, n, FD_NAME_MAX),
            json_pack("{s:s, s:I, s:i}", "name", name, "length", (json_int_t)n,
                      "maximum", FD_NAME_MAX));
    }
    if (!ok) {
        static const char pattern[] = "^([A-Za-z0-9][-A-Za-z0-9_]*)?[A-Za-z0-9]$";
        static const char desc[] = "be non-empty and only contain lowercase (a-z), uppercase "
            "(A-Z), number (0-9), underscore (_) or hyphen (-) characters, but cannot start or "
            "end with hyphen or underscore";
        /* The name may be any bytes the path decoded to: jansson needs UTF-8. */
        json_t *jn = json_string(name);
        int rc = fd_send_error(q, HTTP_BAD_REQUEST, "NameDoesNotMatchPattern",
            jn ? apr_psprintf(q->r->pool, "Name '%s' should %s (pattern: '%s')", name, desc, pattern)
               : apr_psprintf(q->r->pool, "Name should %s (pattern: '%s')", desc, pattern),
            json_pack("{s:o, s:s, s:s}", "name", jn ? jn : json_null(), "pattern", pattern,
                      "pattern_description", desc));
        return rc;
    }
    return LC_PROCEED;
}

static int fd_unknown(lc_req_t *q, const char *name)
{
    return fd_send_error(q, HTTP_NOT_FOUND, "UnknownPipelineName",
                         apr_psprintf(q->r->pool, "Unknown pipeline name '%s'", name),
                         json_pack("{s:s}", "pipeline_name", name));
}

static int fd_store_failed(lc_req_t *q, apr_status_t rv)
{
    if (rv == LC_EUNAVAIL) {
        return lc_dialect_unavailable(q, "StoreUnavailable");
    }
    if (rv == LC_EUNKNOWN) {
        return lc_dialect_unknown(q, "StoreUnavailable");
    }
    return fd_send_error(q, HTTP_INTERNAL_SERVER_ERROR, "StoreError",
                         apr_psprintf(q->r->pool, "The pipeline store failed (%d)", rv), NULL);
}

static int fd_bad_query(lc_req_t *q, const char *value, const char *error)
{
    return fd_send_error(q, HTTP_BAD_REQUEST, "InvalidQueryParam",
        apr_psprintf(q->r->pool, "Invalid query string '%s': %s", value, error),
        json_pack("{s:s, s:s}", "value", value, "error", error));
}

/* The endpoint's query parameters (`allowed`, NULL-terminated) into *args;
 * unknown, repeated or malformed ones are 400 InvalidQueryParam. */
static int fd_query(lc_req_t *q, const char *const *allowed, apr_table_t **args)
{
    const char *raw = q->r->args ? q->r->args : "";
    const char *bad;
    json_t *probe = json_string(raw);

    if (!probe) {                /* not UTF-8: answer without echoing it */
        raw = "";
    }
    json_decref(probe);
    if (lc_http_query(q->r, args) != 0) {
        return fd_bad_query(q, raw, "malformed query string, or a parameter given twice");
    }
    if ((bad = lc_http_query_unknown(*args, allowed)) != NULL) {
        return fd_bad_query(q, raw, apr_psprintf(q->r->pool, "unknown field `%s`", bad));
    }
    return LC_PROCEED;
}

/* A serde bool parameter: absent = dflt; "true"/"false" exactly, else 400. */
static int fd_query_bool(lc_req_t *q, apr_table_t *args, const char *key, int dflt, int *out)
{
    const char *v = apr_table_get(args, key);

    *out = dflt;
    if (v && strcmp(v, "true") && strcmp(v, "false")) {
        return fd_bad_query(q, q->r->args ? q->r->args : "",
            apr_psprintf(q->r->pool, "%s: provided string was not `true` or `false`", key));
    }
    if (v) {
        *out = strcmp(v, "true") == 0;
    }
    return LC_PROCEED;
}

/* ?selector=all|status|status_with_connectors (default all): 1 = all. */
static int fd_selector(lc_req_t *q, int *all)
{
    static const char *const allowed[] = { "selector", NULL };
    apr_table_t *args;
    const char *s;
    int rc;

    if ((rc = fd_query(q, allowed, &args)) != LC_PROCEED) {
        return rc;
    }
    s = apr_table_get(args, "selector");
    if (s && strcmp(s, "all") && strcmp(s, "status") && strcmp(s, "status_with_connectors")) {
        return fd_bad_query(q, q->r->args, apr_psprintf(q->r->pool, "selector: unknown "
            "variant `%s`, expected one of `all`, `status`, `status_with_connectors`",
            ap_escape_html(q->r->pool, s)));
    }
    *all = !s || strcmp(s, "all") == 0;
    return LC_PROCEED;
}

static int fd_get(lc_req_t *q, const char *name)
{
    lc_resource_t r;
    apr_status_t rv;
    int rc, all;

    if ((rc = fd_selector(q, &all)) != LC_PROCEED) {
        return rc;
    }
    rv = lc_store_get(q->store, LC_KIND_PIPELINE, name, &r, q->r->pool);
    if (rv == LC_ENOTFOUND) {
        return fd_unknown(q, name);
    }
    if (rv != APR_SUCCESS) {
        return fd_store_failed(q, rv);
    }
    lc_http_etag(q->r, r.version);
    return lc_http_json(q->r, HTTP_OK, fd_get_json(&r, all));
}

/* GET /v0/pipelines: every pipeline, in name (bytewise) order, as an array
 * (the manager's list has no paging). */
static int fd_list(lc_req_t *q)
{
    lc_resource_t *page = apr_palloc(q->r->pool, FD_LIST_CHUNK * sizeof(*page));
    json_t *list = json_array();
    const char *after = NULL;
    int rc, all, n, more = 1, i;
    apr_status_t rv;

    if ((rc = fd_selector(q, &all)) != LC_PROCEED) {
        json_decref(list);
        return rc;
    }
    while (more) {
        rv = lc_store_list(q->store, LC_KIND_PIPELINE, -1, after, FD_LIST_CHUNK, page, &n, &more, q->r->pool);
        if (rv != APR_SUCCESS) {
            json_decref(list);
            return fd_store_failed(q, rv);
        }
        for (i = 0; i < n; i++) {
            json_array_append_new(list, fd_get_json(&page[i], all));
        }
        after = n ? apr_pstrdup(q->r->pool, page[n - 1].id) : NULL;
        more = more && n > 0;
    }
    apr_table_setn(q->r->headers_out, "Cache-Control", "no-cache");
    return lc_http_json(q->r, HTTP_OK, list);
}

/* GET /v0/config: the manager's Configuration, with what the client reads
 * (edition, version, revision, changelog_url, license_validity, update_info). */
static int fd_config(lc_req_t *q)
{
    static const char *const allowed[] = { NULL };
    apr_table_t *args;
    int rc;

    if ((rc = fd_query(q, allowed, &args)) != LC_PROCEED) {
        return rc;
    }
    return lc_http_json(q->r, HTTP_OK, json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:n, s:s, s:n, s:n, "
        "s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}, s:s}",
        "posthog", "", "conceptualhq", "", "product_fruits", "",
        "edition", "Open source", "version", LC_FELDERA_VERSION,
        "revision", "mod_lifecycle", "runtime_revision", "mod_lifecycle",
        "unstable_features",
        "changelog_url", "https://github.com/feldera/feldera/releases/tag/v" LC_FELDERA_VERSION,
        "license_validity", "update_info",
        "build_info", "build_timestamp", "", "build_cpu", "", "build_os", "",
        "cargo_dependencies", "", "cargo_features", "", "cargo_debug", "",
        "cargo_opt_level", "", "cargo_target_triple", "", "rustc_version", "",
        "build_source", "source"));
}

/* Feldera's IllegalPipelineAction, over the resources statuses as its
 * manager checks them (validate_resources_desired_status_transition). */
static int fd_illegal(lc_req_t *q, const lc_resource_t *r, const char *new_desired,
                      const char *hint)
{
    const char *st = fd_name(lc_feldera_res, FR_N, r->res_state);
    const char *cur = fd_name(lc_feldera_res_desired, FRD_N, r->res_desired);

    return fd_send_error(q, HTTP_BAD_REQUEST, "IllegalPipelineAction",
        apr_psprintf(q->r->pool, "Deployment resources status (current: '%s', desired: '%s') "
                     "cannot have desired changed to '%s'. %s", st, cur, new_desired, hint),
        json_pack("{s:s, s:s, s:s, s:s}", "status", st, "current_desired_status", cur,
                  "new_desired_status", new_desired, "hint", hint));
}

/* Interacting with a pipeline whose process is not there: the runner's errors
 * (503 in Feldera; /checkpoint answers 400, as conf/API.md says). */
static int fd_not_deployed(lc_req_t *q, const lc_resource_t *r, int status)
{
    if (r->res_state != FR_PROVISIONED) {
        const char *st = fd_name(lc_feldera_res, FR_N, r->res_state);
        return fd_send_error(q, status, "PipelineInteractionNotDeployed",
            apr_psprintf(q->r->pool, "Unable to interact with pipeline because the deployment "
                         "status (%s) indicates it is not (yet) fully provisioned "
                         "pipeline-id=N/A pipeline-name=\"%s\"",
                         fd_name(fd_res_lower, FR_N, r->res_state), r->id),
            json_pack("{s:s, s:s, s:s}", "pipeline_name", r->id, "status", st,
                      "desired_status", fd_name(lc_feldera_res_desired, FRD_N, r->res_desired)));
    }
    return fd_send_error(q, status, "PipelineUnavailable",
        apr_psprintf(q->r->pool, "Unable to interact with pipeline because its status is "
                     "currently '%s' pipeline-id=N/A pipeline-name=\"%s\"",
                     fd_name(lc_pipeline_kind.states, FD_NSTATES, r->state), r->id),
        json_pack("{s:s}", "pipeline_name", r->id));
}

static int fd_is_start(const char *action)
{
    return strncmp(action, "start_", 6) == 0;
}

/* Wanted Suspended, or Suspended: the graceful stop is under way. */
static int fd_suspending(const lc_resource_t *r)
{
    return r->state == FD_SUSPENDED || (r->desired == FDD_SUSPENDED && r->state != FD_STOPPING);
}

static int fd_refused_start(lc_req_t *q, const lc_resource_t *r)
{
    if (r->state == FD_STOPPING) {
        return fd_illegal(q, r, "Provisioned",
            "Cannot restart the pipeline while it is stopping. Wait for it to stop before "
            "starting a new instance of the pipeline.");
    }
    if (fd_suspending(r)) {
        return fd_illegal(q, r, "Provisioned",
            "Cannot restart the pipeline while it is suspending. Wait for it to stop before "
            "starting a new instance of the pipeline.");
    }
    /* Started already, with another initial status. */
    return fd_send_error(q, HTTP_BAD_REQUEST, "InitialImmutableUnlessStopped",
        "Initial desired runtime status cannot be changed unless the pipeline is desired to "
        "become Stopped.", json_null());
}

/* The pipeline process's refusal of a runtime desired status change
 * (PipelineError::InvalidTransition; its details are serde's form of it). */
static int fd_invalid_transition(lc_req_t *q, const char *action, const lc_resource_t *r)
{
    const char *what = !strcmp(action, "resume") ? "start"
                       : !strncmp(action, "activate", 8) ? "activate" : action;
    const char *from = fd_name(lc_feldera_desired, FDD_N, r->desired);

    return fd_send_error(q, HTTP_BAD_REQUEST, "InvalidTransition",
        apr_psprintf(q->r->pool, "Cannot execute %s transition starting from %s", what, from),
        json_pack("{s:[s, s]}", "InvalidTransition", what, from));
}

static int fd_is_runtime_action(const char *action)
{
    return !strcmp(action, "pause") || !strcmp(action, "resume")
           || !strncmp(action, "activate", 8) || !strcmp(action, "approve");
}

/* /clear of a pipeline not fully stopped (the manager's
 * StorageStatusImmutableUnlessStopped). */
static int fd_clear_refused(lc_req_t *q, const lc_resource_t *r)
{
    static const char *const lower[FS_N] = { "cleared", "in_use", "clearing" };
    const char *st = fd_name(lc_feldera_res, FR_N, r->res_state);
    const char *de = fd_name(lc_feldera_res_desired, FRD_N, r->res_desired);
    json_t *data = lc_kind_get_data(r);
    int cur = lc_feldera_storage_status(r, data);

    json_decref(data);
    return fd_send_error(q, HTTP_BAD_REQUEST, "StorageStatusImmutableUnlessStopped",
        apr_psprintf(q->r->pool, "Cannot transition storage status from '%s' to 'clearing' with "
                     "resources status '%s' and desired status '%s'. Storage status cannot be "
                     "changed unless the pipeline is fully stopped.", lower[cur],
                     fd_name(fd_res_lower, FR_N, r->res_state),
                     r->res_desired == FRD_STOPPED ? "stopped" : "provisioned"),
        json_pack("{s:s, s:s, s:s, s:s}", "resources_status", st,
                  "resources_desired_status", de, "current_status", lc_feldera_storage[cur],
                  "new_status", "Clearing"));
}

static int fd_refused(lc_req_t *q, const char *action, const lc_resource_t *r)
{
    const char *doing = r->state == FD_STOPPING ? "stopping" : "suspending";

    if (fd_is_start(action)) {
        return fd_refused_start(q, r);
    }
    if (strcmp(action, "clear") == 0) {
        return fd_clear_refused(q, r);
    }
    if (fd_is_runtime_action(action)) {
        return r->res_state != FR_PROVISIONED ? fd_not_deployed(q, r, HTTP_SERVICE_UNAVAILABLE)
                                              : fd_invalid_transition(q, action, r);
    }
    if (strcmp(action, "stop") == 0) {
        return fd_illegal(q, r, "Stopped", apr_psprintf(q->r->pool,
            "Cannot suspend the pipeline while it is %s. A pipeline which is in the process of "
            "suspending or stopping can only be forcefully stopped (/stop?force=true).", doing));
    }
    return fd_not_deployed(q, r, HTTP_BAD_REQUEST);
}

/* The 2xx of an accepted action: the manager's strings and checkpoint body.
 * A stop?force=false of a pipeline not provisioned is a forceful stop, and
 * the manager says so. */
static int fd_accepted(lc_req_t *q, const char *action, const lc_resource_t *before,
                       const lc_resource_t *after)
{
    json_t *data;
    json_t *body;

    if (strcmp(action, "checkpoint") == 0) {
        data = lc_kind_get_data(after);
        body = json_pack("{s:I, s:o}", "checkpoint_sequence_number", (json_int_t)after->ckpt_seq,
                         "incarnation_uuid", lc_feldera_deployment_id(data));
        json_decref(data);
        return lc_http_json(q->r, HTTP_OK, body);
    }
    if (strcmp(action, "dismiss_error") == 0) {
        return lc_http_json(q->r, HTTP_OK,
                            json_string("Pipeline deployment error has been dismissed"));
    }
    if (strcmp(action, "approve") == 0) {
        return lc_http_json(q->r, HTTP_OK, json_string("Bootstrap approved"));
    }
    if (strcmp(action, "clear") == 0) {
        return lc_http_json(q->r, HTTP_ACCEPTED, json_string("Pipeline storage is being cleared"));
    }
    if (fd_is_runtime_action(action)) {
        return lc_http_json(q->r, HTTP_ACCEPTED, json_sprintf(
            "Pipeline transitioning from %s to %s", fd_name(lc_feldera_desired, FDD_N, before->desired),
            fd_name(lc_feldera_desired, FDD_N, after->desired)));
    }
    return lc_http_json(q->r, HTTP_ACCEPTED, json_string(
        fd_is_start(action) ? "Pipeline is starting"
        : strcmp(action, "stop") == 0 && before->res_state == FR_PROVISIONED
          ? "Pipeline is suspending" : "Pipeline is forcefully stopping"));
}

/* Guard codes (store locked, nothing changed). */
#define FD_EUNDISMISSED (APR_OS_START_USERERR + 790)   /* start?dismiss_error=false */
#define FD_EDISMISS     (APR_OS_START_USERERR + 791)   /* dismiss_error not fully stopped */

/* What the refusals of an action that did not happen can say; the rest, with
 * details, is fd_refuse's. */
static const lc_act_refusals_t fd_refusals = {{
    [LC_ACT_MALFORMED] = { HTTP_BAD_REQUEST, "InvalidIfMatch", "Malformed If-Match header" },
    [LC_ACT_FORBIDDEN] = { HTTP_FORBIDDEN, "Forbidden",
                           "The pipeline belongs to another user (LifecycleOwnerCheck)" },
    [LC_ACT_UNAVAILABLE] = { HTTP_SERVICE_UNAVAILABLE, "StoreUnavailable",
                             "The resource store is unavailable (its database cannot be "
                             "reached); nothing was changed: retry shortly" },
    [LC_ACT_FAILED]    = { HTTP_INTERNAL_SERVER_ERROR, "StoreError",
                           "The pipeline store failed ({rv})" }
}};

/* Done, or nothing to do: the manager's 2xx. */
static int fd_acted(lc_req_t *q, const lc_dialect_call_t *c, const lc_resource_t *before,
                    const lc_resource_t *after)
{
    lc_http_etag(q->r, after->version);
    return fd_accepted(q, c->action, before, after);
}

/* The manager's refusals that carry details, or come from a guard. */
static int fd_refuse(lc_req_t *q, const lc_dialect_call_t *c, apr_status_t rv,
                     const lc_resource_t *cur)
{
    switch (rv) {
    case LC_EILLEGAL:
        lc_http_etag(q->r, cur->version);
        return fd_refused(q, c->action, cur);
    case FD_EUNDISMISSED:
        return fd_send_error(q, HTTP_BAD_REQUEST, "CannotStartWithUndismissedError",
            "Cannot process `/start?dismiss_error=false` if the `deployment_error` is set. You "
            "can dismiss the error by calling `/start?dismiss_error=true`, or alternatively "
            "first call `/dismiss_error`, after which `/start?dismiss_error=false` is again "
            "possible.", json_null());
    case FD_EDISMISS:
        return fd_send_error(q, HTTP_BAD_REQUEST, "DismissErrorRestrictedToFullyStopped",
            "The pipeline must have both status `Stopped` and desired status `Stopped` to "
            "dismiss the `deployment_error` if it is set.", json_null());
    case LC_ENOTFOUND:
        return fd_unknown(q, c->id);
    case LC_EVERSION:
        lc_http_etag(q->r, cur->version);
        return fd_send_error(q, HTTP_PRECONDITION_FAILED, "OutdatedPipelineVersion",
            apr_psprintf(q->r->pool, "Pipeline version (If-Match) is outdated by latest (%"
                         APR_UINT64_T_FMT ")", cur->version),
            json_pack("{s:I}", "latest_version", (json_int_t)cur->version));
    default:
        return LC_PROCEED;
    }
}

static int fd_has_error(const lc_resource_t *r)
{
    json_t *data;
    int has;

    if (!strstr(r->data, "\"" FD_K_ERROR "\"")) {
        return 0;                  /* the common case, without parsing */
    }
    data = lc_kind_get_data(r);    /* a log line may hold the same text */
    has = json_object_get(data, FD_K_ERROR) != NULL;
    json_decref(data);
    return has;
}

/* start?dismiss_error=false: refused while an error is set, unless the start
 * is illegal anyway (desired Stopped but not yet Stopped), which the manager
 * checks first. */
static apr_status_t fd_undismissed_guard(const lc_resource_t *r, void *baton)
{
    (void)baton;
    if (fd_has_error(r) && !(r->res_desired == FRD_STOPPED && r->state != FD_STOPPED)) {
        return FD_EUNDISMISSED;
    }
    return APR_SUCCESS;
}

/* dismiss_error: nothing to dismiss is a success that changes nothing; an
 * error is dismissed only when fully stopped (the rule). */
static apr_status_t fd_dismiss_guard(const lc_resource_t *r, void *baton)
{
    (void)baton;
    if (!fd_has_error(r)) {
        return LC_NOCHANGE;
    }
    return r->state == FD_STOPPED && r->desired == FDD_STOPPED ? APR_SUCCESS : FD_EDISMISS;
}

/* clear: storage already Cleared (or being cleared) is a success that
 * changes nothing, whatever the status (the manager checks it first). */
static apr_status_t fd_clear_guard(const lc_resource_t *r, void *baton)
{
    json_t *data = lc_kind_get_data(r);
    int st = lc_feldera_storage_status(r, data);

    (void)baton;
    json_decref(data);
    return st == FS_INUSE ? APR_SUCCESS : LC_NOCHANGE;
}

/* approve's query: the bootstrap options, which may not both be set. */
static int fd_approve_query(lc_req_t *q)
{
    static const char *const allowed[] = { "silent_bootstrap", "concurrent_bootstrap", NULL };
    apr_table_t *args;
    int rc, silent, concurrent;

    if ((rc = fd_query(q, allowed, &args)) != LC_PROCEED
        || (rc = fd_query_bool(q, args, "silent_bootstrap", 0, &silent)) != LC_PROCEED
        || (rc = fd_query_bool(q, args, "concurrent_bootstrap", 0, &concurrent)) != LC_PROCEED) {
        return rc;
    }
    if (silent && concurrent) {
        static const char why[] = "silent_bootstrap and concurrent_bootstrap are mutually "
                                  "exclusive";
        return fd_send_error(q, HTTP_BAD_REQUEST, "InvalidBootstrapConfig",
            apr_psprintf(q->r->pool, "Invalid bootstrap configuration: %s", why),
            json_pack("{s:s}", "reason", why));
    }
    return LC_PROCEED;
}

/* activate's query: initial=running (default) | paused. */
static int fd_activate_query(lc_req_t *q, const char **action)
{
    static const char *const allowed[] = { "initial", NULL };
    apr_table_t *args;
    const char *initial;
    int rc;

    if ((rc = fd_query(q, allowed, &args)) != LC_PROCEED) {
        return rc;
    }
    initial = apr_table_get(args, "initial");
    if (!initial || !strcmp(initial, "running")) {
        *action = "activate";
    }
    else if (!strcmp(initial, "paused")) {
        *action = "activate_paused";
    }
    else {
        json_t *ji = json_string(initial);
        if (!ji) {
            return fd_bad_query(q, "", "initial: not UTF-8");
        }
        return fd_send_error(q, HTTP_BAD_REQUEST, "InvalidActivateStatus",
            apr_psprintf(q->r->pool, "Invalid activation status %s (only running and paused "
                         "are valid)", initial), json_pack("{s:o}", "InvalidActivateStatus", ji));
    }
    return LC_PROCEED;
}

/* start's query: initial=running|paused|standby (default running) picks the
 * action; dismiss_error (default true); the bootstrap parameters are
 * checked and ignored (this server bootstraps nothing). */
static int fd_start_query(lc_req_t *q, const char **action, int *dismiss)
{
    static const char *const allowed[] = { "initial", "dismiss_error", "bootstrap_policy",
                                           "silent_bootstrap", "concurrent_bootstrap", NULL };
    apr_table_t *args;
    const char *initial, *bp;
    int rc, ignored;

    if ((rc = fd_query(q, allowed, &args)) != LC_PROCEED
        || (rc = fd_query_bool(q, args, "dismiss_error", 1, dismiss)) != LC_PROCEED
        || (rc = fd_query_bool(q, args, "silent_bootstrap", 0, &ignored)) != LC_PROCEED
        || (rc = fd_query_bool(q, args, "concurrent_bootstrap", 0, &ignored)) != LC_PROCEED) {
        return rc;
    }
    bp = apr_table_get(args, "bootstrap_policy");
    if (bp && strcmp(bp, "allow") && strcmp(bp, "reject") && strcmp(bp, "await_approval")) {
        return fd_bad_query(q, q->r->args, apr_psprintf(q->r->pool, "bootstrap_policy: "
            "unknown variant `%s`, expected one of `allow`, `reject`, `await_approval`",
            ap_escape_html(q->r->pool, bp)));
    }
    initial = apr_table_get(args, "initial");
    if (!initial || strcmp(initial, "running") == 0) {
        *action = "start_running";
    }
    else if (strcmp(initial, "paused") == 0 || strcmp(initial, "standby") == 0) {
        *action = strcmp(initial, "paused") == 0 ? "start_paused" : "start_standby";
    }
    else {
        /* The manager's answer: UnsupportedPipelineAction, 405. */
        const char *a = apr_psprintf(q->r->pool, "/start?initial=%s", initial);
        const char *why = apr_psprintf(q->r->pool, "unknown initial runtime desired status: %s",
                                       initial);
        json_t *ja = json_string(a), *jw = json_string(why);
        if (!ja || !jw) {
            json_decref(ja);
            json_decref(jw);
            return fd_bad_query(q, "", "initial: not UTF-8");
        }
        return fd_send_error(q, HTTP_METHOD_NOT_ALLOWED, "UnsupportedPipelineAction",
            apr_psprintf(q->r->pool, "Unsupported pipeline action '%s': %s", a, why),
            json_pack("{s:o, s:o}", "action", ja, "reason", jw));
    }
    return LC_PROCEED;
}

/* The action and guard an endpoint's query asks for. */
static int fd_action(lc_req_t *q, const char *verb, lc_dialect_call_t *c)
{
    static const char *const none[] = { NULL };
    static const char *const force_only[] = { "force", NULL };
    apr_table_t *args;
    int rc, flag;

    c->action = verb;
    if (strcmp(verb, "start") == 0) {
        if ((rc = fd_start_query(q, &c->action, &flag)) != LC_PROCEED) {
            return rc;
        }
        c->guard = flag ? NULL : fd_undismissed_guard;
        return LC_PROCEED;
    }
    if (strcmp(verb, "stop") == 0) {
        if ((rc = fd_query(q, force_only, &args)) != LC_PROCEED
            || (rc = fd_query_bool(q, args, "force", 0, &flag)) != LC_PROCEED) {
            return rc;
        }
        c->action = flag ? "stop_force" : "stop";
        return LC_PROCEED;
    }
    if (strcmp(verb, "dismiss_error") == 0) {
        c->guard = fd_dismiss_guard;
    }
    if (strcmp(verb, "clear") == 0) {
        c->guard = fd_clear_guard;
    }
    if (strcmp(verb, "approve") == 0) {
        return fd_approve_query(q);
    }
    if (strcmp(verb, "activate") == 0) {
        return fd_activate_query(q, &c->action);
    }
    return fd_query(q, none, &args);
}

static int fd_act(lc_req_t *q, const char *name, const char *verb)
{
    lc_dialect_call_t c = { .def = &lc_pipeline_kind, .id = name, .action = verb,
                            .refusals = &fd_refusals, .answer = fd_acted, .refuse = fd_refuse };
    int rc, big;

    if ((rc = fd_action(q, verb, &c)) != LC_PROCEED) {
        return rc;
    }
    if ((rc = lc_http_refuse_body(q->r, &big)) != 0) {
        return fd_send_error(q, rc, "InvalidRequestBody",
                             big ? "The request body is too large"
                                 : "This endpoint does not take a request body", NULL);
    }
    return lc_dialect_act(q, &c);
}

/* GET /{name}/checkpoint_status: the pipeline's CheckpointStatus.  A
 * checkpoint is taken when asked, so `success` is the latest sequence
 * number and there are no failures.  incarnation_uuid, when given, must be
 * this deployment's (the id /checkpoint answered). */
static int fd_checkpoint_status(lc_req_t *q, const char *name)
{
    static const char *const allowed[] = { "incarnation_uuid", NULL };
    const char *asked;
    apr_table_t *args;
    lc_resource_t r;
    json_t *data, *mine;
    apr_status_t rv;
    int rc;

    if ((rc = fd_query(q, allowed, &args)) != LC_PROCEED) {
        return rc;
    }
    if ((rv = lc_store_get(q->store, LC_KIND_PIPELINE, name, &r, q->r->pool)) != APR_SUCCESS) {
        return rv == LC_ENOTFOUND ? fd_unknown(q, name) : fd_store_failed(q, rv);
    }
    if (r.res_state != FR_PROVISIONED) {
        return fd_not_deployed(q, &r, HTTP_SERVICE_UNAVAILABLE);
    }
    data = lc_kind_get_data(&r);
    mine = lc_feldera_deployment_id(data);
    json_decref(data);
    asked = apr_table_get(args, "incarnation_uuid");
    if (asked && (!json_is_string(mine) || strcasecmp(asked, json_string_value(mine)))) {
        json_t *ja = json_string(asked);
        rc = fd_send_error(q, HTTP_BAD_REQUEST, "IncarnationUuidMismatch",
            apr_psprintf(q->r->pool, "Incarnation UUID mismatch (%s in request, expected %s)",
                         ja ? asked : "?", json_is_string(mine) ? json_string_value(mine) : "none"),
            json_pack("{s:o, s:O}", "requested", ja ? ja : json_null(), "expected", mine));
        json_decref(mine);
        return rc;
    }
    json_decref(mine);
    return lc_http_json(q->r, HTTP_OK, json_pack("{s:o, s:n}", "success",
        r.ckpt_seq ? json_integer((json_int_t)r.ckpt_seq) : json_null(), "failure"));
}

static int fd_method_not_allowed(lc_req_t *q, const char *allow)
{
    lc_http_allow(q->r, allow);
    return fd_send_error(q, HTTP_METHOD_NOT_ALLOWED, "MethodNotAllowed",
                         apr_psprintf(q->r->pool, "Method %s is not allowed; use %s",
                                      q->r->method, allow), NULL);
}

static int fd_not_found(lc_req_t *q)
{
    return fd_send_error(q, HTTP_NOT_FOUND, "NotFound",
        "No such endpoint: this server serves GET /v0/config, GET /v0/pipelines, GET and DELETE "
        "/v0/pipelines/{name}, GET /v0/pipelines/{name}/checkpoint_status, /stats, /logs, "
        "/events, /checkpoints and POST /v0/pipelines/{name}/start, /stop, /pause, /resume, "
        "/activate, /approve, /checkpoint, /clear and /dismiss_error", NULL);
}

/* ---- what a pipeline keeps (lc_kind_feldera_hist.c) ----------------------------- */

/* The pipeline named, read; LC_PROCEED or the answer sent. */
static int fd_read(lc_req_t *q, const char *name, const char *const *allowed,
                   apr_table_t **args, lc_resource_t *r)
{
    apr_status_t rv;
    int rc;

    if ((rc = fd_query(q, allowed, args)) != LC_PROCEED) {
        return rc;
    }
    if ((rv = lc_store_get(q->store, LC_KIND_PIPELINE, name, r, q->r->pool)) != APR_SUCCESS) {
        return rv == LC_ENOTFOUND ? fd_unknown(q, name) : fd_store_failed(q, rv);
    }
    return LC_PROCEED;
}

/* GET /stats and /checkpoints: the process's, so only while provisioned. */
static int fd_process_get(lc_req_t *q, const char *name, int stats)
{
    static const char *const none[] = { NULL };
    apr_table_t *args;
    lc_resource_t r;
    int rc;

    if ((rc = fd_read(q, name, none, &args, &r)) != LC_PROCEED) {
        return rc;
    }
    if (r.res_state != FR_PROVISIONED) {
        return fd_not_deployed(q, &r, HTTP_SERVICE_UNAVAILABLE);
    }
    return lc_http_json(q->r, HTTP_OK, stats ? lc_feldera_stats_json(&r, apr_time_now())
                                             : lc_feldera_checkpoints_json(&r));
}

/* GET /events/{event_id|latest}: one event of the list (404 when it is no
 * longer kept, as the manager's retention drops them too). */
static int fd_event_one(lc_req_t *q, json_t *list, const char *want)
{
    json_t *e, *hit = NULL;
    size_t i;

    json_array_foreach(list, i, e) {
        if (!strcmp(want, "latest") ? i == 0
            : !strcasecmp(want, json_string_value(json_object_get(e, "event_id")))) {
            hit = json_incref(e);
            break;
        }
    }
    if (!hit) {
        int latest = !strcmp(want, "latest");
        json_t *jw = json_string(want);
        json_decref(list);
        if (latest || !jw) {
            json_decref(jw);
            return fd_send_error(q, HTTP_NOT_FOUND, latest ? "NoPipelineMonitorEventsAvailable"
                                                           : "UnknownPipelineMonitorEvent",
                                 latest ? "There are no pipeline monitor events available"
                                        : "Pipeline monitor event does not exist", json_null());
        }
        return fd_send_error(q, HTTP_NOT_FOUND, "UnknownPipelineMonitorEvent",
            apr_psprintf(q->r->pool, "Pipeline monitor event with identifier '%s' does not exist "
                         "-- it might have been deleted as only a limited number of events are "
                         "retained", want), json_pack("{s:o}", "event_id", jw));
    }
    json_decref(list);
    return lc_http_json(q->r, HTTP_OK, hit);
}

/* GET /events?selector=status|all (default status): newest first; with an
 * event id (or `latest`), that one. */
static int fd_events(lc_req_t *q, const char *name, const char *one)
{
    static const char *const allowed[] = { "selector", NULL };
    apr_table_t *args;
    lc_resource_t r;
    const char *s;
    int rc;

    if ((rc = fd_read(q, name, allowed, &args, &r)) != LC_PROCEED) {
        return rc;
    }
    s = apr_table_get(args, "selector");
    if (s && strcmp(s, "all") && strcmp(s, "status")) {
        return fd_bad_query(q, q->r->args, apr_psprintf(q->r->pool, "selector: unknown "
            "variant `%s`, expected `all` or `status`", ap_escape_html(q->r->pool, s)));
    }
    apr_table_setn(q->r->headers_out, "Cache-Control", "no-cache");
    if (one) {
        return fd_event_one(q, lc_feldera_events_json(&r, s && !strcmp(s, "all")), one);
    }
    return lc_http_json(q->r, HTTP_OK, lc_feldera_events_json(&r, s && !strcmp(s, "all")));
}

/* GET /logs: the manager streams the runner's circular buffer as text; here
 * it is the lines runners reported (bounded), one per line, then the end. */
static int fd_logs(lc_req_t *q, const char *name)
{
    static const char *const none[] = { NULL };
    apr_table_t *args;
    lc_resource_t r;
    json_t *lines, *v;
    size_t i;
    int rc;

    if ((rc = fd_read(q, name, none, &args, &r)) != LC_PROCEED) {
        return rc;
    }
    lines = lc_feldera_log_lines(&r);
    q->r->status = HTTP_OK;
    ap_set_content_type(q->r, "text/plain; charset=utf-8");
    json_array_foreach(lines, i, v) {
        if (!q->r->header_only) {
            ap_rwrite(json_string_value(v), (int)json_string_length(v), q->r);
            ap_rputc('\n', q->r);
        }
    }
    json_decref(lines);
    return OK;
}

/* DELETE /{name}: as the manager, only fully stopped with its storage
 * cleared; If-Match and LifecycleOwnerCheck honoured (as an action's).  A change between the checks and the removal
 * (the version moved) is checked again. */
static int fd_delete(lc_req_t *q, const char *name)
{
    static const char *const none[] = { NULL };
    const char *h = apr_table_get(q->r->headers_in, "If-Match");
    lc_precond_t im = { 0 };
    apr_table_t *args;
    lc_resource_t r, gone;
    lc_act_t act;
    apr_status_t rv = LC_EVERSION;
    int rc, big, tries;

    if (h && lc_precond_parse(h, &im) != 0) {
        return fd_send_error(q, HTTP_BAD_REQUEST, "InvalidIfMatch", "Malformed If-Match header",
                             NULL);
    }
    if ((rc = lc_http_refuse_body(q->r, &big)) != 0) {
        return fd_send_error(q, rc, "InvalidRequestBody",
                             big ? "The request body is too large"
                                 : "This endpoint does not take a request body", NULL);
    }
    for (tries = 0; rv == LC_EVERSION && tries < 8; tries++) {
        json_t *data;
        int storage;

        if ((rc = fd_read(q, name, none, &args, &r)) != LC_PROCEED) {
            return rc;
        }
        if (im.present && !lc_precond_match(&im, 1, r.version)) {
            lc_http_etag(q->r, r.version);
            return fd_send_error(q, HTTP_PRECONDITION_FAILED, "OutdatedPipelineVersion",
                apr_psprintf(q->r->pool, "Pipeline version (If-Match) is outdated by latest (%"
                             APR_UINT64_T_FMT ")", r.version),
                json_pack("{s:I}", "latest_version", (json_int_t)r.version));
        }
        lc_dialect_act_init(q, &lc_pipeline_kind, name, "delete", &im, &act);
        if (!lc_engine_may_act(&act, &r)) {
            return fd_send_error(q, HTTP_FORBIDDEN, "Forbidden",
                                 "The pipeline belongs to another user (LifecycleOwnerCheck)", NULL);
        }
        if (r.res_state != FR_STOPPED || r.res_desired != FRD_STOPPED) {
            return fd_send_error(q, HTTP_BAD_REQUEST, "DeleteRestrictedToFullyStopped",
                "Cannot delete a pipeline which is not fully stopped. Stop the pipeline first "
                "fully by invoking the '/stop' endpoint.", json_null());
        }
        data = lc_kind_get_data(&r);
        storage = lc_feldera_storage_status(&r, data);
        json_decref(data);
        if (storage != FS_CLEARED) {
            return fd_send_error(q, HTTP_BAD_REQUEST, "DeleteRestrictedToClearedStorage",
                "Cannot delete pipeline unless its storage is cleared. Clear storage first "
                "using `/clear`.", json_null());
        }
        rv = lc_dialect_remove(q, &lc_pipeline_kind, name, r.version, &gone);
    }
    if (rv == LC_ENOTFOUND) {
        return fd_unknown(q, name);
    }
    if (rv != APR_SUCCESS) {
        return fd_store_failed(q, rv);
    }
    q->r->status = HTTP_OK;
    ap_set_content_length(q->r, 0);
    return OK;
}

/* The collection-level routes: /v0/config and /v0/pipelines. */
static int fd_collection(lc_req_t *q)
{
    if (q->r->method_number != M_GET) {
        return fd_method_not_allowed(q, "GET, HEAD");
    }
    return strcmp(q->collection, "config") == 0 ? fd_config(q) : fd_list(q);
}

static int fd_is_action(const char *verb)
{
    static const char *const verbs[] = { "start", "stop", "checkpoint", "dismiss_error", "pause",
                                         "resume", "activate", "approve", "clear", NULL };
    int i;

    for (i = 0; verbs[i] && strcmp(verbs[i], verb); i++) {
    }
    return verbs[i] != NULL;
}

static int fd_is_view(const char *verb)
{
    return !strcmp(verb, "checkpoint_status") || !strcmp(verb, "stats") || !strcmp(verb, "logs")
           || !strcmp(verb, "events") || !strcmp(verb, "checkpoints");
}

/* GET /{name}/<verb>. */
static int fd_view(lc_req_t *q, const char *name, const char *verb)
{
    if (q->r->method_number != M_GET) {
        return fd_method_not_allowed(q, "GET, HEAD");
    }
    switch (verb[0]) {
    case 's': return fd_process_get(q, name, 1);
    case 'l': return fd_logs(q, name);
    case 'e': return fd_events(q, name, q->nseg == 3 ? q->seg[2] : NULL);
    default:
        return strcmp(verb, "checkpoints") == 0 ? fd_process_get(q, name, 0)
                                                : fd_checkpoint_status(q, name);
    }
}

static int fd_handle(lc_req_t *q)
{
    const char *name = q->nseg > 0 ? q->seg[0] : "";
    const char *verb = q->nseg == 2 ? q->seg[1] : NULL;
    int rc;

    if (q->nseg == 0 && q->collection
        && (!strcmp(q->collection, "config") || !strcmp(q->collection, "pipelines"))) {
        return fd_collection(q);
    }
    if (q->nseg == 3 && !strcmp(q->seg[1], "events")
        && !strcmp(q->collection ? q->collection : "", "pipelines")) {
        verb = "events";           /* GET /{name}/events/{event_id|latest} */
    }
    else if (q->nseg < 1 || q->nseg > 2
             || strcmp(q->collection ? q->collection : "", "pipelines")
        || (verb && !fd_is_action(verb) && !fd_is_view(verb))) {
        return fd_not_found(q);
    }
    if ((rc = fd_name_check(q, name)) != LC_PROCEED) {
        return rc;
    }
    if (verb && fd_is_view(verb)) {
        return fd_view(q, name, verb);
    }
    if (!verb) {
        if (q->r->method_number == M_DELETE) {
            return fd_delete(q, name);
        }
        if (q->r->method_number != M_GET) {
            return fd_method_not_allowed(q, "GET, HEAD, DELETE");
        }
        return fd_get(q, name);
    }
    if (q->r->method_number != M_POST) {
        return fd_method_not_allowed(q, "POST");
    }
    return fd_act(q, name, verb);
}

const lc_dialect_t lc_dialect_feldera = {
    .name               = "feldera",
    .kind               = LC_KIND_PIPELINE,
    .kind_def           = &lc_pipeline_kind,
    .scope_read         = "pipelines.read",
    .scope_write        = "pipelines.write",
    .handle             = fd_handle,
    .error              = fd_error,
    .method_not_allowed = fd_method_not_allowed,
    .methods            = "GET, HEAD, POST, DELETE",
};
