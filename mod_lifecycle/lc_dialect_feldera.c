/* lc_dialect_feldera.c — Feldera pipelines (seed 004, SPEC §4.5), at /v0/pipelines.
 *
 *   POST /{name}/start                 202 "Pipeline is starting"
 *   POST /{name}/stop?force=false      202 "Pipeline is suspending"
 *   POST /{name}/stop?force=true       202 "Pipeline is forcefully stopping"
 *   POST /{name}/checkpoint            200 {"checkpoint_sequence_number": N}
 *   GET  /{name}                       the pipeline (deployment statuses, error, checkpoint)
 *
 * The 202 bodies are the JSON strings Feldera's manager (start, force stop)
 * and pipeline (/suspend, which the manager forwards) answer.  Errors are
 * Feldera's ErrorResponse {"message","error_code","details"}, with the
 * manager's messages and details.
 *
 * The desired/actual machine is the table below, run by the shared engine;
 * the resources status and desired status follow from the deployment status
 * and desired status (fd_derive), as in Feldera, where the resources status is
 * the deployment status without its runtime detail.
 */
#include <string.h>
#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "lc_dialect.h"
#include "lc_engine.h"
#include "lc_http.h"
#include "lc_audit.h"
#include "lc_util.h"

/* ---- the kind: states, rules, representation ---------------------------- */

enum { FD_STOPPED, FD_PROVISIONING, FD_INITIALIZING, FD_PAUSED, FD_RUNNING, FD_UNAVAILABLE,
       FD_SUSPENDING, FD_STOPPING, FD_NSTATES };
enum { FDD_STOPPED, FDD_PAUSED, FDD_RUNNING, FDD_SUSPENDED, FDD_N };
enum { FR_STOPPED, FR_PROVISIONING, FR_PROVISIONED, FR_STOPPING, FR_N };
enum { FRD_STOPPED, FRD_PROVISIONED, FRD_N };

static const char *const fd_states[FD_NSTATES] = {
    "Stopped", "Provisioning", "Initializing", "Paused", "Running", "Unavailable",
    "Suspending", "Stopping"
};
static const char *const fd_desired[FDD_N] = { "Stopped", "Paused", "Running", "Suspended" };
static const char *const fd_res[FR_N] = { "Stopped", "Provisioning", "Provisioned", "Stopping" };
static const char *const fd_res_desired[FRD_N] = { "Stopped", "Provisioned" };
/* How Feldera's Display writes a resources status (in runner messages). */
static const char *const fd_res_lower[FR_N] = { "stopped", "provisioning", "provisioned",
                                                "stopping" };

#define B(s) LC_BIT(s)
/* The states a running pipeline process exists in (resources Provisioned). */
#define FD_DEPLOYED (B(FD_INITIALIZING) | B(FD_PAUSED) | B(FD_RUNNING) | B(FD_UNAVAILABLE))

/* Attribute keys in r->data: the deployment error, and "a runner drives this
 * pipeline" (the background task then finishes none of its states). */
#define K_ERROR  "E"
#define K_RUNNER "r"

static void fd_derive(lc_resource_t *r, apr_time_t now);
static void fd_start(lc_resource_t *r, apr_time_t now);
static void fd_checkpoint(lc_resource_t *r, apr_time_t now);
static void fd_suspended(lc_resource_t *r, apr_time_t now);
static void fd_suspend_timed_out(lc_resource_t *r, apr_time_t now);

/* Actions: "start", "stop" (force=false), "stop_force" (force=true), "checkpoint". */
static const lc_rule_t fd_rules[] = {
    /* action        from                             to               desired        flags */
    { "start",      B(FD_STOPPED),                    FD_PROVISIONING, FDD_RUNNING,   LC_RULE_ADVANCE, fd_start },
    /* Already (being) started: Feldera answers success and changes nothing. */
    { "start",      B(FD_PROVISIONING) | FD_DEPLOYED, LC_STATE_KEEP,   LC_STATE_KEEP, LC_RULE_NOOP, NULL },
    /* start in Suspending / Stopping: no rule, IllegalPipelineAction. */
    { "stop",       B(FD_STOPPED),                    LC_STATE_KEEP,   LC_STATE_KEEP, LC_RULE_NOOP, NULL },
    /* Nothing runs yet, so nothing to checkpoint: Feldera stops it forcefully
     * (set_deployment_resources_desired_status_stopped_if_not_provisioned). */
    { "stop",       B(FD_PROVISIONING),               FD_STOPPING,     FDD_STOPPED,   LC_RULE_ADVANCE, fd_derive },
    { "stop",       FD_DEPLOYED,                      FD_SUSPENDING,   FDD_SUSPENDED, LC_RULE_ADVANCE, fd_derive },
    /* stop in Suspending / Stopping: no rule, only a force stop is accepted. */
    { "stop_force", B(FD_STOPPED) | B(FD_STOPPING),   LC_STATE_KEEP,   LC_STATE_KEEP, LC_RULE_NOOP, NULL },
    /* Cancels a suspend in progress; no checkpoint. */
    { "stop_force", B(FD_PROVISIONING) | FD_DEPLOYED | B(FD_SUSPENDING),
                                                      FD_STOPPING,     FDD_STOPPED,   LC_RULE_ADVANCE, fd_derive },
    { "checkpoint", B(FD_PAUSED) | B(FD_RUNNING),     LC_STATE_KEEP,   LC_STATE_KEEP, 0, fd_checkpoint },
    { NULL }
};

/* What the background task (LifecycleAutoAdvance) or a runner's report finishes. */
static const lc_advance_t fd_advances[] = {
    { FD_PROVISIONING, FD_INITIALIZING, LC_RULE_ADVANCE, fd_derive },
    { FD_INITIALIZING, FD_RUNNING,      0,               fd_derive },
    /* The atomic checkpoint is taken; then the resources go. */
    { FD_SUSPENDING,   FD_STOPPING,     LC_RULE_ADVANCE, fd_suspended },
    { FD_STOPPING,     FD_STOPPED,      0,               fd_derive },
    { LC_STATE_KEEP }
};

/* A suspend that does not finish within LifecycleSuspendTimeout is a failed
 * checkpoint: the pipeline is stopped forcefully with the error set. */
static const lc_timeout_t fd_timeouts[] = {
    { FD_SUSPENDING, LC_TIMEOUT_SUSPEND, FD_STOPPING, LC_RULE_ADVANCE, fd_suspend_timed_out },
    { LC_STATE_KEEP }
};

extern const lc_kind_def_t lc_pipeline_kind;

/* The resources status is the deployment status without its runtime detail;
 * the resources are wanted while the pipeline is wanted Running or Paused.
 * (A suspending pipeline's resources are already wanted Stopped: they go as
 * soon as the checkpoint is taken, and a start must wait, as while stopping.) */
static void fd_derive(lc_resource_t *r, apr_time_t now)
{
    (void)now;
    switch (r->state) {
    case FD_STOPPED:      r->res_state = FR_STOPPED; break;
    case FD_PROVISIONING: r->res_state = FR_PROVISIONING; break;
    case FD_STOPPING:     r->res_state = FR_STOPPING; break;
    default:              r->res_state = FR_PROVISIONED; break;
    }
    if (r->state == FD_STOPPED || r->state == FD_STOPPING) {
        r->desired = FDD_STOPPED;
    }
    r->res_desired = (r->desired == FDD_RUNNING || r->desired == FDD_PAUSED) ? FRD_PROVISIONED
                                                                              : FRD_STOPPED;
}

static void fd_data_set(lc_resource_t *r, const char *key, json_t *v)
{
    json_t *data = lc_kind_get_data(r);

    if (v) {
        json_object_set_new(data, key, v);
    }
    else {
        json_object_del(data, key);
    }
    if (lc_kind_set_data(r, data) != APR_SUCCESS) {
        /* Our own errors are short; should a runner's and the flag overflow,
         * keep the error (what the user must see) and drop the rest. */
        json_t *only = json_pack("{s:O}", K_ERROR, json_object_get(data, K_ERROR));
        if (!only || lc_kind_set_data(r, only) != APR_SUCCESS) {
            r->data[0] = '\0';
        }
        json_decref(only);
    }
    json_decref(data);
}

/* A later start clears the deployment error (Feldera: dismiss_error=true). */
static void fd_start(lc_resource_t *r, apr_time_t now)
{
    fd_data_set(r, K_ERROR, NULL);
    fd_derive(r, now);
}

static void fd_checkpoint(lc_resource_t *r, apr_time_t now)
{
    (void)now;
    r->ckpt_seq++;
}

/* Past Suspending: the checkpoint is taken and the desired status is Stopped too. */
static void fd_suspended(lc_resource_t *r, apr_time_t now)
{
    r->ckpt_seq++;
    r->desired = FDD_STOPPED;
    fd_derive(r, now);
}

static void fd_suspend_timed_out(lc_resource_t *r, apr_time_t now)
{
    apr_interval_time_t t = lc_kind_timeout(LC_TIMEOUT_SUSPEND);
    char msg[128];

    /* Feldera's runner error for a suspend that does not finish in time; its
     * details are the serde form of a Rust Duration. */
    snprintf(msg, sizeof(msg), "The pipeline could not suspend within the timeout of %gs, "
             "so it was stopped without a checkpoint.", (double)t / APR_USEC_PER_SEC);
    fd_data_set(r, K_ERROR, json_pack("{s:s, s:s, s:{s:{s:I, s:i}}}", "m", msg,
        "c", "AutomatonSuspendingComputeTimeout", "d", "timeout",
        "secs", (json_int_t)apr_time_sec(t), "nanos", (int)((t % APR_USEC_PER_SEC) * 1000)));
    r->desired = FDD_STOPPED;
    fd_derive(r, now);
}

/* A runner drives this pipeline: auto-advance finishes none of its states
 * (so a test can hold a pipeline in Suspending until its timeout). */
static int fd_may_auto_advance(const lc_resource_t *r)
{
    json_t *data = lc_kind_get_data(r);
    int runner = json_is_true(json_object_get(data, K_RUNNER));

    json_decref(data);
    return !runner;
}

/* RFC 3339 as chrono prints a DateTime<Utc>: fraction only when non-zero. */
static json_t *fd_time(apr_time_t t)
{
    apr_time_exp_t e;
    char buf[48];
    int n;

    apr_time_exp_gmt(&e, t);
    n = snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d", e.tm_year + 1900,
                 e.tm_mon + 1, e.tm_mday, e.tm_hour, e.tm_min, e.tm_sec);
    if (e.tm_usec) {
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, ".%06d", e.tm_usec);
    }
    snprintf(buf + n, sizeof(buf) - (size_t)n, "Z");
    return json_string(buf);
}

static json_t *fd_error_json(json_t *data)
{
    json_t *e = json_object_get(data, K_ERROR);

    if (!json_is_object(e)) {
        return json_null();
    }
    return json_pack("{s:O, s:O, s:O}", "message", json_object_get(e, "m"),
                     "error_code", json_object_get(e, "c"), "details", json_object_get(e, "d"));
}

static const char *fd_name(const char *const *names, unsigned n, unsigned v)
{
    return v < n ? names[v] : names[0];
}

static json_t *fd_to_json(const lc_resource_t *r)
{
    json_t *data = lc_kind_get_data(r);
    json_t *o = json_pack("{s:s, s:s, s:o, s:s, s:s, s:s, s:o, s:I, s:I}",
        "name", r->id,
        "deployment_status", fd_name(fd_states, FD_NSTATES, r->state),
        "deployment_status_since", fd_time(r->state_since),
        "deployment_desired_status", fd_name(fd_desired, FDD_N, r->desired),
        "deployment_resources_status", fd_name(fd_res, FR_N, r->res_state),
        "deployment_resources_desired_status", fd_name(fd_res_desired, FRD_N, r->res_desired),
        "deployment_error", fd_error_json(data),
        "checkpoint_sequence_number", (json_int_t)r->ckpt_seq,
        "version", (json_int_t)r->version);

    json_decref(data);
    return o;
}

static int fd_index(const char *const *names, unsigned n, json_t *v)
{
    unsigned i;

    for (i = 0; json_is_string(v) && i < n; i++) {
        if (strcmp(names[i], json_string_value(v)) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* deployment_error: null, or Feldera's ErrorResponse; stored compactly. */
static apr_status_t fd_parse_error(json_t *v, json_t **out)
{
    json_t *m = json_object_get(v, "message"), *c = json_object_get(v, "error_code");
    json_t *d = json_object_get(v, "details");

    *out = NULL;
    if (!v || json_is_null(v)) {
        return APR_SUCCESS;
    }
    if (!json_is_object(v) || json_object_size(v) != 3 || !json_is_string(m)
        || !json_is_string(c) || !json_string_length(c) || !d) {
        return APR_EINVAL;
    }
    *out = json_pack("{s:O, s:O, s:O}", "m", m, "c", c, "d", d);
    return APR_SUCCESS;
}

static apr_status_t fd_fail(const char **field, const char *name)
{
    *field = name;
    return APR_EINVAL;
}

/* The admin PUT body: the GET form, plus "runner_driven".  The resources
 * statuses follow from the deployment statuses (they are checked, not kept);
 * the desired status defaults to what the deployment status implies. */
static apr_status_t fd_from_json(json_t *body, lc_resource_t *r, const char **field,
                                 apr_pool_t *p)
{
    static const char *const known[] = {
        "name", "deployment_status", "deployment_status_since", "deployment_desired_status",
        "deployment_resources_status", "deployment_resources_desired_status",
        "deployment_error", "checkpoint_sequence_number", "runner_driven", NULL
    };
    json_t *v, *err = NULL, *data;
    const char *k;
    int state, desired;
    apr_status_t rv;

    (void)p;
    if ((k = lc_kind_unknown_field(body, known)) != NULL) {
        return fd_fail(field, k);
    }
    v = json_object_get(body, "name");
    if (v && (!json_is_string(v) || strcmp(json_string_value(v), r->id) != 0)) {
        return fd_fail(field, "name");
    }
    if ((state = fd_index(fd_states, FD_NSTATES, json_object_get(body, "deployment_status"))) < 0) {
        return fd_fail(field, "deployment_status");
    }
    v = json_object_get(body, "deployment_desired_status");
    desired = v ? fd_index(fd_desired, FDD_N, v)
                : state == FD_SUSPENDING ? FDD_SUSPENDED
                : state == FD_PAUSED ? FDD_PAUSED
                : (state == FD_STOPPED || state == FD_STOPPING) ? FDD_STOPPED : FDD_RUNNING;
    if (desired < 0) {
        return fd_fail(field, "deployment_desired_status");
    }
    if ((v = json_object_get(body, "deployment_resources_status"))
        && fd_index(fd_res, FR_N, v) < 0) {
        return fd_fail(field, "deployment_resources_status");
    }
    if ((v = json_object_get(body, "deployment_resources_desired_status"))
        && fd_index(fd_res_desired, FRD_N, v) < 0) {
        return fd_fail(field, "deployment_resources_desired_status");
    }
    if ((v = json_object_get(body, "deployment_status_since")) && !json_is_string(v)) {
        return fd_fail(field, "deployment_status_since");
    }
    v = json_object_get(body, "checkpoint_sequence_number");
    if (v && (!json_is_integer(v) || json_integer_value(v) < 0)) {
        return fd_fail(field, "checkpoint_sequence_number");
    }
    r->ckpt_seq = v ? (uint64_t)json_integer_value(v) : 0;
    if ((v = json_object_get(body, "runner_driven")) && !json_is_boolean(v)) {
        return fd_fail(field, "runner_driven");
    }
    if (fd_parse_error(json_object_get(body, "deployment_error"), &err) != APR_SUCCESS) {
        return fd_fail(field, "deployment_error");
    }
    data = json_object();
    if (err) {
        json_object_set_new(data, K_ERROR, err);
    }
    if (json_is_true(v)) {
        json_object_set_new(data, K_RUNNER, json_true());
    }
    if ((rv = lc_kind_set_data(r, data)) != APR_SUCCESS) {
        *field = "deployment_error";
    }
    json_decref(data);
    r->state = (uint8_t)state;
    r->desired = (uint8_t)desired;
    fd_derive(r, 0);
    return rv;
}

/* ---- runner reports ----------------------------------------------------------- */

typedef struct fd_report_in {
    int     state;        /* -1: not reported */
    int     has_error;    /* deployment_error given (err NULL = cleared) */
    json_t *err;
    int     has_ckpt;
    uint64_t ckpt;
} fd_report_in_t;

static apr_status_t fd_report_parse(json_t *body, fd_report_in_t *in, const char **field)
{
    const char *k;
    json_t *v;

    memset(in, 0, sizeof(*in));
    in->state = -1;
    json_object_foreach(body, k, v) {
        if (strcmp(k, "deployment_status") == 0) {
            if ((in->state = fd_index(fd_states, FD_NSTATES, v)) < 0) {
                return fd_fail(field, k);
            }
        }
        else if (strcmp(k, "deployment_error") == 0) {
            in->has_error = 1;
            if (fd_parse_error(v, &in->err) != APR_SUCCESS) {
                return fd_fail(field, k);
            }
        }
        else if (strcmp(k, "checkpoint_sequence_number") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 0) {
                return fd_fail(field, k);
            }
            in->has_ckpt = 1;
            in->ckpt = (uint64_t)json_integer_value(v);
        }
        else {
            return fd_fail(field, k);
        }
    }
    /* An error stops the pipeline: it can only come with a stopping status. */
    if (in->err && in->state >= 0 && in->state != FD_STOPPING && in->state != FD_STOPPED) {
        return fd_fail(field, "deployment_status");
    }
    return APR_SUCCESS;
}

/* The pipeline is going down on its own (an error, or the runner says so). */
static void fd_force_to(const lc_kind_def_t *def, lc_resource_t *r, int state, apr_time_t now,
                        apr_interval_time_t after)
{
    if (r->state != state) {
        r->state = (uint8_t)state;
        r->state_since = now;
    }
    r->desired = FDD_STOPPED;
    fd_derive(r, now);
    lc_kind_schedule(def, r, now, after);
}

/* Store locked.  {"deployment_status"?, "deployment_error"?, "checkpoint_sequence_number"?}:
 * - an error (a failed checkpoint while Suspending, or any fatal error) stops
 *   the pipeline forcefully with the error set (Stopping, or the Stopped given);
 * - the status its transitional state advances to finishes that state as
 *   auto-advance would (Suspending -> Stopping takes the checkpoint); any
 *   other status is set as it is (Stopping and Stopped make desired Stopped);
 * - a checkpoint sequence number is the runner's own count, and wins. */
static apr_status_t fd_report(const lc_kind_def_t *def, lc_resource_t *r, json_t *body,
                              apr_time_t now, apr_interval_time_t after, const char **field)
{
    lc_resource_t before;
    fd_report_in_t in;
    apr_status_t rv;

    lc_resource_copy(&before, r);
    if ((rv = fd_report_parse(body, &in, field)) != APR_SUCCESS) {
        json_decref(in.err);
        return rv;
    }
    if (in.has_error) {
        fd_data_set(r, K_ERROR, in.err);       /* consumes it */
    }
    if (in.err && r->state != FD_STOPPED && r->state != FD_STOPPING) {
        fd_force_to(def, r, in.state >= 0 ? in.state : FD_STOPPING, now, after);
    }
    else if (in.state >= 0 && in.state != r->state) {
        if (lc_kind_advance_target(def, r->state) == in.state) {
            lc_kind_advance(def, r, now, after);
        }
        else if (in.state == FD_STOPPING || in.state == FD_STOPPED) {
            fd_force_to(def, r, in.state, now, after);
        }
        else {
            r->state = (uint8_t)in.state;
            r->state_since = now;
            fd_derive(r, now);
            lc_kind_schedule(def, r, now, after);
        }
    }
    if (in.has_ckpt) {
        r->ckpt_seq = in.ckpt;
    }
    return lc_resource_same(&before, r) ? LC_NOCHANGE : APR_SUCCESS;
}

const lc_kind_def_t lc_pipeline_kind = {
    LC_KIND_PIPELINE, "pipeline", fd_states, FD_NSTATES,
    fd_rules, fd_advances, fd_to_json, fd_from_json,
    fd_timeouts, fd_may_auto_advance, fd_report
};

/* ---- HTTP ------------------------------------------------------------------ */

#define FD_NAME_MAX 63

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
    return fd_send_error(q, HTTP_INTERNAL_SERVER_ERROR, "StoreError",
                         apr_psprintf(q->r->pool, "The pipeline store failed (%d)", rv), NULL);
}

static int fd_get(lc_req_t *q, const char *name)
{
    lc_resource_t r;
    apr_status_t rv = lc_store_get(q->store, LC_KIND_PIPELINE, name, &r);

    if (rv == LC_ENOTFOUND) {
        return fd_unknown(q, name);
    }
    if (rv != APR_SUCCESS) {
        return fd_store_failed(q, rv);
    }
    lc_http_etag(q->r, r.version);
    return lc_http_json(q->r, HTTP_OK, fd_to_json(&r));
}

/* Feldera's IllegalPipelineAction, over the resources statuses as its
 * manager checks them (validate_resources_desired_status_transition). */
static int fd_illegal(lc_req_t *q, const lc_resource_t *r, const char *new_desired,
                      const char *hint)
{
    const char *st = fd_name(fd_res, FR_N, r->res_state);
    const char *cur = fd_name(fd_res_desired, FRD_N, r->res_desired);

    return fd_send_error(q, HTTP_BAD_REQUEST, "IllegalPipelineAction",
        apr_psprintf(q->r->pool, "Deployment resources status (current: '%s', desired: '%s') "
                     "cannot have desired changed to '%s'. %s", st, cur, new_desired, hint),
        json_pack("{s:s, s:s, s:s, s:s}", "status", st, "current_desired_status", cur,
                  "new_desired_status", new_desired, "hint", hint));
}

/* /checkpoint outside Running / Paused: the runner's interaction errors. */
static int fd_not_deployed(lc_req_t *q, const lc_resource_t *r)
{
    if (r->res_state != FR_PROVISIONED) {
        const char *st = fd_name(fd_res, FR_N, r->res_state);
        return fd_send_error(q, HTTP_BAD_REQUEST, "PipelineInteractionNotDeployed",
            apr_psprintf(q->r->pool, "Unable to interact with pipeline because the deployment "
                         "status (%s) indicates it is not (yet) fully provisioned "
                         "pipeline-id=N/A pipeline-name=\"%s\"",
                         fd_name(fd_res_lower, FR_N, r->res_state), r->id),
            json_pack("{s:s, s:s, s:s}", "pipeline_name", r->id, "status", st,
                      "desired_status", fd_name(fd_res_desired, FRD_N, r->res_desired)));
    }
    return fd_send_error(q, HTTP_BAD_REQUEST, "PipelineUnavailable",
        apr_psprintf(q->r->pool, "Unable to interact with pipeline because its status is "
                     "currently '%s' pipeline-id=N/A pipeline-name=\"%s\"",
                     fd_name(fd_states, FD_NSTATES, r->state), r->id),
        json_pack("{s:s}", "pipeline_name", r->id));
}

static int fd_refused(lc_req_t *q, const char *action, const lc_resource_t *r)
{
    int stopping = r->state == FD_STOPPING;

    if (strcmp(action, "start") == 0) {
        return fd_illegal(q, r, "Provisioned", stopping
            ? "Cannot restart the pipeline while it is stopping. Wait for it to stop before "
              "starting a new instance of the pipeline."
            : "Cannot restart the pipeline while it is suspending. Wait for it to stop before "
              "starting a new instance of the pipeline.");
    }
    if (strcmp(action, "stop") == 0) {
        return fd_illegal(q, r, "Stopped", stopping
            ? "Cannot suspend the pipeline while it is stopping. A pipeline which is in the "
              "process of suspending or stopping can only be forcefully stopped (/stop?force=true)."
            : "Cannot suspend the pipeline while it is suspending. A pipeline which is in the "
              "process of suspending or stopping can only be forcefully stopped (/stop?force=true).");
    }
    return fd_not_deployed(q, r);
}

static const char *fd_accepted(const char *action)
{
    return strcmp(action, "start") == 0 ? "Pipeline is starting"
         : strcmp(action, "stop") == 0 ? "Pipeline is suspending"
         : "Pipeline is forcefully stopping";
}

static int fd_answer(lc_req_t *q, const char *name, const char *action, apr_status_t rv,
                     const lc_resource_t *after)
{
    switch (rv) {
    case APR_SUCCESS:
    case LC_NOCHANGE:
        lc_http_etag(q->r, after->version);
        if (strcmp(action, "checkpoint") == 0) {
            return lc_http_json(q->r, HTTP_OK, json_pack("{s:I}", "checkpoint_sequence_number",
                                                         (json_int_t)after->ckpt_seq));
        }
        return lc_http_json(q->r, HTTP_ACCEPTED, json_string(fd_accepted(action)));
    case LC_EILLEGAL:
        lc_http_etag(q->r, after->version);
        return fd_refused(q, action, after);
    case LC_ENOTFOUND:
        return fd_unknown(q, name);
    case LC_EFORBIDDEN:
        return fd_send_error(q, HTTP_FORBIDDEN, "Forbidden",
            "The pipeline belongs to another user (LifecycleOwnerCheck)", NULL);
    case LC_EVERSION:
        lc_http_etag(q->r, after->version);
        return fd_send_error(q, HTTP_PRECONDITION_FAILED, "OutdatedPipelineVersion",
            apr_psprintf(q->r->pool, "Pipeline version (If-Match) is outdated by latest (%"
                         APR_UINT64_T_FMT ")", after->version),
            json_pack("{s:I}", "latest_version", (json_int_t)after->version));
    default:
        return fd_store_failed(q, rv);
    }
}

static int fd_bad_query(lc_req_t *q, const char *value, const char *error)
{
    return fd_send_error(q, HTTP_BAD_REQUEST, "InvalidQueryParam",
        apr_psprintf(q->r->pool, "Invalid query string '%s': %s", value, error),
        json_pack("{s:s, s:s}", "value", value, "error", error));
}

/* stop takes force=true|false (default false); start and checkpoint take none. */
static int fd_query(lc_req_t *q, const char *verb, const char **action)
{
    const char *raw = q->r->args ? q->r->args : "";
    const apr_table_entry_t *e;
    apr_table_t *args;
    const char *force;
    int i;
    json_t *probe = json_string(raw);

    if (!probe) {                /* not UTF-8: answer without echoing it */
        raw = "";
    }
    json_decref(probe);
    if (lc_http_query(q->r, &args) != 0) {
        return fd_bad_query(q, raw, "malformed query string, or a parameter given twice");
    }
    e = (const apr_table_entry_t *)apr_table_elts(args)->elts;
    for (i = 0; i < apr_table_elts(args)->nelts; i++) {
        if (strcmp(verb, "stop") || strcmp(e[i].key, "force")) {
            return fd_bad_query(q, raw, apr_psprintf(q->r->pool, "unknown field `%s`",
                                                      e[i].key));
        }
    }
    *action = verb;
    force = apr_table_get(args, "force");
    if (force && strcmp(force, "true") == 0) {
        *action = "stop_force";
    }
    else if (force && strcmp(force, "false") != 0) {
        return fd_bad_query(q, raw, "force: provided string was not `true` or `false`");
    }
    return LC_PROCEED;
}

static int fd_act(lc_req_t *q, const char *name, const char *verb)
{
    lc_resource_t before, after;
    lc_precond_t if_match;
    const char *action = verb;
    lc_act_t act;
    apr_status_t rv;
    int rc, big;

    if ((rc = fd_query(q, verb, &action)) != LC_PROCEED) {
        return rc;
    }
    if ((rc = lc_http_refuse_body(q->r, &big)) != 0) {
        return fd_send_error(q, rc, "InvalidRequestBody",
                             big ? "The request body is too large"
                                 : "This endpoint does not take a request body", NULL);
    }
    if (lc_precond_parse(apr_table_get(q->r->headers_in, "If-Match"), &if_match) != 0) {
        return fd_send_error(q, HTTP_BAD_REQUEST, "InvalidIfMatch", "Malformed If-Match header",
                             NULL);
    }
    lc_dialect_act_init(q, &lc_pipeline_kind, name, action, &if_match, &act);
    rv = lc_engine_act(q->store, &act, &before, &after);
    if (rv == APR_SUCCESS) {
        lc_audit_request(q->r, &q->actor, LC_KIND_PIPELINE, name, fd_states[before.state],
                         fd_states[after.state]);
    }
    return fd_answer(q, name, action, rv, &after);
}

static int fd_method_not_allowed(lc_req_t *q, const char *allow)
{
    lc_http_allow(q->r, allow);
    return fd_send_error(q, HTTP_METHOD_NOT_ALLOWED, "MethodNotAllowed",
                         apr_psprintf(q->r->pool, "Method %s is not allowed; use %s",
                                      q->r->method, allow), NULL);
}

static int fd_handle(lc_req_t *q)
{
    const char *name = q->nseg > 0 ? q->seg[0] : "";
    const char *verb = q->nseg == 2 ? q->seg[1] : NULL;
    int rc;

    if (q->nseg < 1 || q->nseg > 2 || (verb && strcmp(verb, "start") && strcmp(verb, "stop")
                                       && strcmp(verb, "checkpoint"))) {
        return fd_send_error(q, HTTP_NOT_FOUND, "NotFound",
                             "No such endpoint: this server serves POST /v0/pipelines/{name}/"
                             "start, /stop and /checkpoint, and GET /v0/pipelines/{name}", NULL);
    }
    if ((rc = fd_name_check(q, name)) != LC_PROCEED) {
        return rc;
    }
    if (!verb) {
        return q->r->method_number == M_GET ? fd_get(q, name)
                                            : fd_method_not_allowed(q, "GET, HEAD");
    }
    if (q->r->method_number != M_POST) {
        return fd_method_not_allowed(q, "POST");
    }
    return fd_act(q, name, verb);
}

const lc_dialect_t lc_dialect_feldera = {
    "feldera", LC_KIND_PIPELINE, &lc_pipeline_kind, "pipelines.read", "pipelines.write",
    fd_handle, fd_error
};
