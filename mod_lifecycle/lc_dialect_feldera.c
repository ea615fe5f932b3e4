/* lc_dialect_feldera.c — Feldera pipelines (seed 004, SPEC §4.5), at /v0/pipelines and /v0/config.
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
 *
 * The 202/200 string bodies are the JSON strings Feldera's manager (and the
 * pipeline's /suspend, which it forwards) answer.  Errors are Feldera's
 * ErrorResponse {"message","error_code","details"}, with the manager's
 * messages and details.
 *
 * The status model is today's manager's: deployment_status is its
 * CombinedStatus, and there is no Suspending.  A graceful stop is a desired
 * status: the pipeline stays Running (or Paused, ...) with desired Suspended,
 * then takes its checkpoint and reports Suspended, then its resources go
 * (Stopping, desired Stopped), then Stopped.  The table below, run by the
 * shared engine, keys its rows on the status and, where it matters, the
 * desired status; the resources and runtime statuses follow from the two
 * (fd_derive, fd_to_json), as in Feldera, where the combined status is the
 * resources status refined by the runtime status once provisioned.
 */
#include <string.h>
#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <sodium.h>

#include "lc_dialect.h"
#include "lc_engine.h"
#include "lc_http.h"
#include "lc_audit.h"
#include "lc_util.h"

/* The Feldera release whose manager API this dialect follows (/v0/config's
 * "version", and every pipeline's platform_version). */
#define LC_FELDERA_VERSION "0.337.0"

/* ---- the kind: states, rules, representation ---------------------------- */

/* The numbering of the first eight is the one journals written before the
 * status model changed use (6 was Suspending, whose records now read as
 * Suspended with desired Suspended: the checkpoint then the stop). */
enum { FD_STOPPED, FD_PROVISIONING, FD_INITIALIZING, FD_PAUSED, FD_RUNNING, FD_UNAVAILABLE,
       FD_SUSPENDED, FD_STOPPING, FD_STANDBY, FD_AWAITING, FD_BOOTSTRAPPING, FD_REPLAYING,
       FD_NSTATES };
enum { FDD_STOPPED, FDD_PAUSED, FDD_RUNNING, FDD_SUSPENDED, FDD_STANDBY, FDD_UNAVAILABLE, FDD_N };
enum { FR_STOPPED, FR_PROVISIONING, FR_PROVISIONED, FR_STOPPING, FR_N };
enum { FRD_STOPPED, FRD_PROVISIONED, FRD_N };

static const char *const fd_states[FD_NSTATES] = {
    "Stopped", "Provisioning", "Initializing", "Paused", "Running", "Unavailable",
    "Suspended", "Stopping", "Standby", "AwaitingApproval", "Bootstrapping", "Replaying"
};
static const char *const fd_desired[FDD_N] = {
    "Stopped", "Paused", "Running", "Suspended", "Standby", "Unavailable"
};
static const char *const fd_res[FR_N] = { "Stopped", "Provisioning", "Provisioned", "Stopping" };
static const char *const fd_res_desired[FRD_N] = { "Stopped", "Provisioned" };
/* How Feldera's Display writes a resources status (in runner messages). */
static const char *const fd_res_lower[FR_N] = { "stopped", "provisioning", "provisioned",
                                                "stopping" };

#define B(s) LC_BIT(s)
/* The states a pipeline process runs in before it has suspended (the
 * manager's runtime statuses; resources Provisioned). */
#define FD_RUNTIME (B(FD_INITIALIZING) | B(FD_PAUSED) | B(FD_RUNNING) | B(FD_UNAVAILABLE) \
                    | B(FD_STANDBY) | B(FD_AWAITING) | B(FD_BOOTSTRAPPING) | B(FD_REPLAYING))
#define FD_DEPLOYED (FD_RUNTIME | B(FD_SUSPENDED))
/* Desired statuses a graceful stop may start from: all but Stopped and Suspended. */
#define FDD_LIVE (B(FDD_PAUSED) | B(FDD_RUNNING) | B(FDD_STANDBY) | B(FDD_UNAVAILABLE))

/* Attribute keys in r->data: the deployment error, "a runner drives this
 * pipeline" (the background task then finishes none of its states), the
 * initial desired status of the deployment and its id (32 hex digits). */
#define K_ERROR   "E"
#define K_RUNNER  "r"
#define K_INITIAL "i"
#define K_DEPLOY  "d"

/* The record has no "desired status since" field; a pipeline is never
 * closed, so its `closed` timestamp keeps when the desired status last
 * changed (deployment_desired_status_since). */
#define FD_DESIRED_SINCE(r) ((r)->closed)

static void fd_derive(lc_resource_t *r, apr_time_t now);
static void fd_start(lc_resource_t *r, apr_time_t now);
static void fd_suspend(lc_resource_t *r, apr_time_t now);
static void fd_stop_now(lc_resource_t *r, apr_time_t now);
static void fd_stop_asked(lc_resource_t *r, apr_time_t now);
static void fd_checkpoint(lc_resource_t *r, apr_time_t now);
static void fd_dismiss(lc_resource_t *r, apr_time_t now);
static void fd_suspended(lc_resource_t *r, apr_time_t now);
static void fd_suspend_timed_out(lc_resource_t *r, apr_time_t now);

/* Actions: "start_running" / "start_paused" / "start_standby" (start?initial=),
 * "stop" (force=false), "stop_force" (force=true), "checkpoint", "dismiss_error".
 * The last column is the desired statuses a row applies in (0 = any). */
static const lc_rule_t fd_rules[] = {
    /* action           from                 to               desired        flags            effect       desired */
    { "start_running",  B(FD_STOPPED),       FD_PROVISIONING, FDD_RUNNING,   LC_RULE_ADVANCE, fd_start,    0 },
    { "start_paused",   B(FD_STOPPED),       FD_PROVISIONING, FDD_PAUSED,    LC_RULE_ADVANCE, fd_start,    0 },
    { "start_standby",  B(FD_STOPPED),       FD_PROVISIONING, FDD_STANDBY,   LC_RULE_ADVANCE, fd_start,    0 },
    /* Already (being) started as asked: Feldera answers success and changes
     * nothing.  Another initial is InitialImmutableUnlessStopped; a start
     * while suspending or stopping is IllegalPipelineAction (no row). */
    { "start_running",  B(FD_PROVISIONING) | FD_RUNTIME, LC_STATE_KEEP, LC_STATE_KEEP, LC_RULE_NOOP, NULL, B(FDD_RUNNING) },
    { "start_paused",   B(FD_PROVISIONING) | FD_RUNTIME, LC_STATE_KEEP, LC_STATE_KEEP, LC_RULE_NOOP, NULL, B(FDD_PAUSED) },
    { "start_standby",  B(FD_PROVISIONING) | FD_RUNTIME, LC_STATE_KEEP, LC_STATE_KEEP, LC_RULE_NOOP, NULL, B(FDD_STANDBY) },
    { "stop",           B(FD_STOPPED),       LC_STATE_KEEP,   LC_STATE_KEEP, LC_RULE_NOOP,    NULL,        0 },
    /* Nothing runs yet, so nothing to checkpoint: Feldera stops it forcefully
     * (set_deployment_resources_desired_status_stopped_if_not_provisioned). */
    { "stop",           B(FD_PROVISIONING),  FD_STOPPING,     FDD_STOPPED,   LC_RULE_ADVANCE, fd_stop_asked, 0 },
    /* The graceful stop: only the desired status changes, to Suspended. */
    { "stop",           FD_RUNTIME,          LC_STATE_KEEP,   FDD_SUSPENDED, LC_RULE_ADVANCE, fd_suspend,  FDD_LIVE },
    /* stop while suspending (desired Suspended, or Suspended) or Stopping: no row. */
    { "stop_force",     B(FD_STOPPED) | B(FD_STOPPING), LC_STATE_KEEP, LC_STATE_KEEP, LC_RULE_NOOP, NULL, 0 },
    /* Cancels a suspend in progress; no checkpoint. */
    { "stop_force",     B(FD_PROVISIONING) | FD_DEPLOYED, FD_STOPPING, FDD_STOPPED, LC_RULE_ADVANCE, fd_stop_asked, 0 },
    { "checkpoint",     B(FD_PAUSED) | B(FD_RUNNING), LC_STATE_KEEP, LC_STATE_KEEP, 0,        fd_checkpoint, 0 },
    /* Only a fully stopped pipeline's error can go (the guard answers the rest). */
    { "dismiss_error",  B(FD_STOPPED),       LC_STATE_KEEP,   LC_STATE_KEEP, 0,               fd_dismiss,  B(FDD_STOPPED) },
    { NULL }
};

/* What the background task (LifecycleAutoAdvance) or a runner's report
 * finishes.  A pipeline wanted Suspended, in any runtime status, takes its
 * checkpoint and reports Suspended; then its resources go. */
#define FD_SUSPENDS(s) { s, FD_SUSPENDED, LC_RULE_ADVANCE, fd_suspended, B(FDD_SUSPENDED) }
static const lc_advance_t fd_advances[] = {
    /* from            to               flags            effect     desired */
    { FD_PROVISIONING, FD_INITIALIZING, LC_RULE_ADVANCE, fd_derive, 0 },
    { FD_INITIALIZING, FD_RUNNING,      0,               fd_derive, B(FDD_RUNNING) },
    { FD_INITIALIZING, FD_PAUSED,       0,               fd_derive, B(FDD_PAUSED) },
    { FD_INITIALIZING, FD_STANDBY,      0,               fd_derive, B(FDD_STANDBY) },
    FD_SUSPENDS(FD_INITIALIZING), FD_SUSPENDS(FD_PAUSED), FD_SUSPENDS(FD_RUNNING),
    FD_SUSPENDS(FD_UNAVAILABLE), FD_SUSPENDS(FD_STANDBY), FD_SUSPENDS(FD_AWAITING),
    FD_SUSPENDS(FD_BOOTSTRAPPING), FD_SUSPENDS(FD_REPLAYING),
    { FD_SUSPENDED,    FD_STOPPING,     LC_RULE_ADVANCE, fd_stop_now, 0 },
    { FD_STOPPING,     FD_STOPPED,      0,               fd_derive, 0 },
    { LC_STATE_KEEP }
};

/* A pipeline still wanted Suspended, not yet Suspended, after
 * LifecycleSuspendTimeout: its checkpoint failed, so it is stopped
 * forcefully with the error set. */
#define FD_TIMES_OUT(s) { s, LC_TIMEOUT_SUSPEND, FD_STOPPING, LC_RULE_ADVANCE, \
                          fd_suspend_timed_out, B(FDD_SUSPENDED) }
static const lc_timeout_t fd_timeouts[] = {
    FD_TIMES_OUT(FD_INITIALIZING), FD_TIMES_OUT(FD_PAUSED), FD_TIMES_OUT(FD_RUNNING),
    FD_TIMES_OUT(FD_UNAVAILABLE), FD_TIMES_OUT(FD_STANDBY), FD_TIMES_OUT(FD_AWAITING),
    FD_TIMES_OUT(FD_BOOTSTRAPPING), FD_TIMES_OUT(FD_REPLAYING),
    { LC_STATE_KEEP }
};

extern const lc_kind_def_t lc_pipeline_kind;

/* Set (v consumed) or remove (v NULL) one attribute. */
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
        /* Our own errors are short; should a runner's overflow the record,
         * keep the error (what the user must see) and the runner flag, and
         * drop the deployment's id and initial status (shown as null). */
        json_t *only = json_pack("{s:O*, s:O*}", K_ERROR, json_object_get(data, K_ERROR),
                                 K_RUNNER, json_object_get(data, K_RUNNER));
        if (!only || lc_kind_set_data(r, only) != APR_SUCCESS) {
            r->data[0] = '\0';
        }
        json_decref(only);
    }
    json_decref(data);
}

/* The resources status is the combined status without its runtime detail;
 * the resources are wanted unless the pipeline is wanted Stopped (a
 * suspending pipeline keeps them until its checkpoint is taken). */
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
    r->res_desired = r->desired == FDD_STOPPED ? FRD_STOPPED : FRD_PROVISIONED;
    if (r->state == FD_STOPPED && (strstr(r->data, "\"" K_INITIAL "\"")
                                   || strstr(r->data, "\"" K_DEPLOY "\""))) {
        /* The deployment is over: no initial status, no deployment id. */
        fd_data_set(r, K_INITIAL, NULL);
        fd_data_set(r, K_DEPLOY, NULL);
    }
}

/* A new deployment: its initial status (the desired status the rule just
 * set), a new id, and no error (dismiss_error=true; with false the guard
 * already refused a pipeline that has one). */
static void fd_start(lc_resource_t *r, apr_time_t now)
{
    unsigned char id[16];
    char hex[33];

    randombytes_buf(id, sizeof(id));
    sodium_bin2hex(hex, sizeof(hex), id, sizeof(id));
    fd_data_set(r, K_ERROR, NULL);
    fd_data_set(r, K_INITIAL, json_integer(r->desired));
    fd_data_set(r, K_DEPLOY, json_string(hex));
    FD_DESIRED_SINCE(r) = now;
    fd_derive(r, now);
}

static void fd_suspend(lc_resource_t *r, apr_time_t now)
{
    FD_DESIRED_SINCE(r) = now;
    fd_derive(r, now);
}

/* Into Stopping on its own (the suspend done, a timeout, a runner): the
 * resources go, and the pipeline is wanted Stopped. */
static void fd_stop_now(lc_resource_t *r, apr_time_t now)
{
    if (r->desired != FDD_STOPPED) {
        r->desired = FDD_STOPPED;
        FD_DESIRED_SINCE(r) = now;
    }
    fd_derive(r, now);
}

/* A user's stop: the rule has just set desired Stopped. */
static void fd_stop_asked(lc_resource_t *r, apr_time_t now)
{
    FD_DESIRED_SINCE(r) = now;
    fd_derive(r, now);
}

/* The pipeline's own checkpoint (POST /checkpoint): taken at once, so its
 * /checkpoint_status reports it done on the next poll. */
static void fd_checkpoint(lc_resource_t *r, apr_time_t now)
{
    (void)now;
    r->ckpt_seq++;
}

static void fd_dismiss(lc_resource_t *r, apr_time_t now)
{
    (void)now;
    fd_data_set(r, K_ERROR, NULL);
}

/* The suspend's atomic checkpoint is taken: status Suspended, still wanted
 * Suspended until the resources go. */
static void fd_suspended(lc_resource_t *r, apr_time_t now)
{
    r->ckpt_seq++;
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
    fd_stop_now(r, now);
}

/* A runner drives this pipeline: auto-advance finishes none of its states
 * (so a test can hold a pipeline wanted Suspended until its timeout). */
static int fd_may_auto_advance(const lc_resource_t *r)
{
    json_t *data = lc_kind_get_data(r);
    int runner = json_is_true(json_object_get(data, K_RUNNER));

    json_decref(data);
    return !runner;
}

/* RFC 3339 as chrono's serde writes a DateTime<Utc> (SecondsFormat::AutoSi):
 * no fraction when whole, else 3 or 6 digits, whichever is exact. */
static json_t *fd_time(apr_time_t t)
{
    apr_time_exp_t e;
    char buf[48];
    int n;

    apr_time_exp_gmt(&e, t);
    n = snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d", e.tm_year + 1900,
                 e.tm_mon + 1, e.tm_mday, e.tm_hour, e.tm_min, e.tm_sec);
    if (e.tm_usec % 1000 == 0 && e.tm_usec) {
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, ".%03d", e.tm_usec / 1000);
    }
    else if (e.tm_usec) {
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

/* The deployment id (a UUID) from its 32 hex digits, or null. */
static json_t *fd_deployment_id(json_t *data)
{
    const char *h = json_string_value(json_object_get(data, K_DEPLOY));

    if (!h || strlen(h) != 32) {
        return json_null();
    }
    return json_sprintf("%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

/* The name of a desired status, or null (v NULL or out of range). */
static json_t *fd_desired_json(json_t *v)
{
    json_int_t i = json_is_integer(v) ? json_integer_value(v) : -1;

    return i >= 0 && i < FDD_N ? json_string(fd_desired[i]) : json_null();
}

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

/* The deployment fields of the manager's PipelineSelectedInfo.  The runtime
 * status and desired status are what the combined ones refine once the
 * resources are provisioned, null before. */
static void fd_deployment_json(json_t *o, const lc_resource_t *r, json_t *data)
{
    int provisioned = r->res_state == FR_PROVISIONED;
    int runtime_wanted = r->res_desired == FRD_PROVISIONED && provisioned;

    json_object_set_new(o, "deployment_error", fd_error_json(data));
    json_object_set_new(o, "deployment_id", fd_deployment_id(data));
    json_object_set_new(o, "deployment_initial", fd_desired_json(json_object_get(data, K_INITIAL)));
    json_object_set_new(o, "deployment_status", json_string(fd_name(fd_states, FD_NSTATES, r->state)));
    json_object_set_new(o, "deployment_status_since", fd_time(r->state_since));
    json_object_set_new(o, "deployment_desired_status", json_string(fd_name(fd_desired, FDD_N, r->desired)));
    json_object_set_new(o, "deployment_desired_status_since",
                        fd_time(FD_DESIRED_SINCE(r) ? FD_DESIRED_SINCE(r) : r->created));
    json_object_set_new(o, "deployment_resources_status", json_string(fd_name(fd_res, FR_N, r->res_state)));
    json_object_set_new(o, "deployment_resources_status_since", fd_time(r->state_since));
    json_object_set_new(o, "deployment_resources_desired_status",
                        json_string(fd_name(fd_res_desired, FRD_N, r->res_desired)));
    json_object_set_new(o, "deployment_resources_desired_status_since",
                        fd_time(FD_DESIRED_SINCE(r) ? FD_DESIRED_SINCE(r) : r->created));
    json_object_set_new(o, "deployment_runtime_status",
                        provisioned ? json_string(fd_states[r->state]) : json_null());
    json_object_set_new(o, "deployment_runtime_status_details", json_null());
    json_object_set_new(o, "deployment_runtime_status_since",
                        provisioned ? fd_time(r->state_since) : json_null());
    json_object_set_new(o, "deployment_runtime_desired_status",
                        runtime_wanted ? json_string(fd_desired[r->desired]) : json_null());
    json_object_set_new(o, "deployment_runtime_desired_status_since",
                        runtime_wanted ? fd_time(FD_DESIRED_SINCE(r)) : json_null());
}

/* The pipeline as the manager's GET answers it (PipelineSelectedInfo):
 * `all` adds the program and runtime configuration fields.  This server
 * keeps no SQL program, so the program is an empty one that compiled
 * (program_status Success), the platform version this module reports in
 * /v0/config, and storage is InUse once the pipeline was ever started. */
static json_t *fd_pipeline_json(const lc_resource_t *r, int all)
{
    json_t *data = lc_kind_get_data(r);
    json_t *o = json_object();

    json_object_set_new(o, "name", json_string(r->id));
    json_object_set_new(o, "description", json_string(""));
    json_object_set_new(o, "tags", json_array());
    json_object_set_new(o, "created_at", fd_time(r->created));
    json_object_set_new(o, "version", json_integer((json_int_t)r->version));
    json_object_set_new(o, "platform_version", json_string(LC_FELDERA_VERSION));
    if (all) {
        json_object_set_new(o, "runtime_config", json_object());
        json_object_set_new(o, "program_code", json_string(""));
        json_object_set_new(o, "udf_rust", json_string(""));
        json_object_set_new(o, "udf_toml", json_string(""));
    }
    json_object_set_new(o, "program_config", json_object());
    json_object_set_new(o, "program_version", json_integer(1));
    json_object_set_new(o, "program_status", json_string("Success"));
    json_object_set_new(o, "program_status_since", fd_time(r->created));
    if (all) {
        json_object_set_new(o, "program_error", json_pack("{s:n, s:n, s:n}", "sql_compilation",
                                                          "rust_compilation", "system_error"));
        json_object_set_new(o, "program_info", json_null());
    }
    json_object_set_new(o, "refresh_version", json_integer((json_int_t)r->version));
    json_object_set_new(o, "storage_status",
                        json_string(r->state == FD_STOPPED && r->ckpt_seq == 0
                                    && !json_object_get(data, K_ERROR) ? "Cleared" : "InUse"));
    json_object_set_new(o, "storage_status_details", json_null());
    fd_deployment_json(o, r, data);
    json_object_set_new(o, "bootstrap_policy", json_object_get(data, K_INITIAL)
                                               ? json_string("await_approval") : json_null());
    json_object_set_new(o, "silent_bootstrap", json_false());
    json_object_set_new(o, "concurrent_bootstrap", json_false());
    json_object_set_new(o, "checkpoint_sequence_number", json_integer((json_int_t)r->ckpt_seq));
    json_decref(data);
    return o;
}

/* The admin API's form: the GET form (selector=all) without "id", which the
 * admin API reads as the resource id (the pipeline's name). */
static json_t *fd_to_json(const lc_resource_t *r)
{
    return fd_pipeline_json(r, 1);
}

/* What the dialect's GET and list answer: the manager's object, "id" first. */
static json_t *fd_get_json(const lc_resource_t *r, int all)
{
    json_t *o = json_object(), *rest = fd_pipeline_json(r, all);

    json_object_set_new(o, "id", fd_pipeline_id(r->id));
    json_object_update(o, rest);
    json_decref(rest);
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

/* The desired status a combined status implies when an admin PUT gives none. */
static int fd_implied_desired(int state)
{
    switch (state) {
    case FD_STOPPED: case FD_STOPPING: return FDD_STOPPED;
    case FD_PAUSED:    return FDD_PAUSED;
    case FD_STANDBY:   return FDD_STANDBY;
    case FD_SUSPENDED: return FDD_SUSPENDED;
    default:           return FDD_RUNNING;
    }
}

/* The GET form's fields the server derives or owns: accepted, not kept. */
static const char *const fd_owned[] = {
    "id", "description", "tags", "created_at", "version", "platform_version", "runtime_config",
    "program_code", "udf_rust", "udf_toml", "program_config", "program_version",
    "program_status", "program_status_since", "program_error", "program_info",
    "refresh_version", "storage_status", "storage_status_details", "deployment_id",
    "deployment_status_since", "deployment_desired_status_since",
    "deployment_resources_status", "deployment_resources_status_since",
    "deployment_resources_desired_status", "deployment_resources_desired_status_since",
    "deployment_runtime_status", "deployment_runtime_status_details",
    "deployment_runtime_status_since", "deployment_runtime_desired_status",
    "deployment_runtime_desired_status_since", "bootstrap_policy", "silent_bootstrap",
    "concurrent_bootstrap", NULL
};

/* An admin PUT field outside the GET form (and runner_driven), or NULL. */
static const char *fd_foreign_field(json_t *body)
{
    static const char *const mine[] = {
        "name", "deployment_status", "deployment_desired_status", "deployment_initial",
        "deployment_error", "checkpoint_sequence_number", "runner_driven", NULL
    };
    const char *k;
    json_t *v;
    int i;

    json_object_foreach(body, k, v) {
        for (i = 0; mine[i] && strcmp(mine[i], k); i++) {
        }
        if (mine[i]) {
            continue;
        }
        for (i = 0; fd_owned[i] && strcmp(fd_owned[i], k); i++) {
        }
        if (!fd_owned[i]) {
            return k;
        }
    }
    return NULL;
}

/* The stored attributes of an admin PUT: error, runner flag, initial. */
static apr_status_t fd_put_data(lc_resource_t *r, json_t *err, int runner, int initial,
                                const char **field)
{
    json_t *data = json_object();
    apr_status_t rv;

    if (err) {
        json_object_set_new(data, K_ERROR, err);
    }
    if (runner) {
        json_object_set_new(data, K_RUNNER, json_true());
    }
    if (initial >= 0) {
        json_object_set_new(data, K_INITIAL, json_integer(initial));
    }
    if ((rv = lc_kind_set_data(r, data)) != APR_SUCCESS) {
        *field = "deployment_error";
    }
    json_decref(data);
    return rv;
}

/* The admin PUT body: the GET form, plus "runner_driven".  The derived and
 * server-owned fields are accepted and not kept (resources and runtime
 * statuses follow from deployment_status and deployment_desired_status);
 * the desired status defaults to what the status implies. */
static apr_status_t fd_from_json(json_t *body, lc_resource_t *r, const char **field,
                                 apr_pool_t *p)
{
    json_t *v, *err = NULL, *runner;
    const char *k;
    int state, desired, initial = -1;

    (void)p;
    if ((k = fd_foreign_field(body)) != NULL) {
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
    desired = v ? fd_index(fd_desired, FDD_N, v) : fd_implied_desired(state);
    if (desired < 0) {
        return fd_fail(field, "deployment_desired_status");
    }
    v = json_object_get(body, "deployment_initial");
    if (v && !json_is_null(v)) {
        initial = fd_index(fd_desired, FDD_N, v);
        if (initial != FDD_RUNNING && initial != FDD_PAUSED && initial != FDD_STANDBY) {
            return fd_fail(field, "deployment_initial");
        }
    }
    else if (state != FD_STOPPED && desired != FDD_STOPPED && desired != FDD_SUSPENDED) {
        initial = desired;
    }
    v = json_object_get(body, "checkpoint_sequence_number");
    if (v && (!json_is_integer(v) || json_integer_value(v) < 0)) {
        return fd_fail(field, "checkpoint_sequence_number");
    }
    r->ckpt_seq = v ? (uint64_t)json_integer_value(v) : 0;
    if ((runner = json_object_get(body, "runner_driven")) && !json_is_boolean(runner)) {
        return fd_fail(field, "runner_driven");
    }
    if (fd_parse_error(json_object_get(body, "deployment_error"), &err) != APR_SUCCESS) {
        return fd_fail(field, "deployment_error");
    }
    if (fd_put_data(r, err, json_is_true(runner), state == FD_STOPPED ? -1 : initial,
                    field) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    r->state = (uint8_t)state;
    r->desired = (uint8_t)desired;
    FD_DESIRED_SINCE(r) = apr_time_now();
    fd_derive(r, 0);
    return APR_SUCCESS;
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
    fd_stop_now(r, now);
    lc_kind_schedule(def, r, now, after);
}

/* A reported status that is neither the advance of the current one nor a
 * stop: set as it is.  Stopped -> anything else is a new deployment the
 * runner started itself; the desired status stays as the user set it. */
static void fd_report_status(const lc_kind_def_t *def, lc_resource_t *r, int state,
                             apr_time_t now, apr_interval_time_t after)
{
    r->state = (uint8_t)state;
    r->state_since = now;
    if (r->desired == FDD_STOPPED) {
        r->desired = (uint8_t)fd_implied_desired(state);
        FD_DESIRED_SINCE(r) = now;
    }
    fd_derive(r, now);
    lc_kind_schedule(def, r, now, after);
}

/* Store locked.  {"deployment_status"?, "deployment_error"?, "checkpoint_sequence_number"?}
 * (any CombinedStatus):
 * - an error (a failed checkpoint while suspending, or any fatal error) stops
 *   the pipeline forcefully with the error set (Stopping, or the Stopped given);
 * - the status r advances to (given its desired status) finishes that move
 *   as auto-advance would (Running wanted Suspended -> Suspended takes the
 *   checkpoint); any other status is set as it is (Stopping and Stopped
 *   make desired Stopped);
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
        if (lc_kind_next_state(def, r) == in.state) {
            lc_kind_advance(def, r, now, after);
        }
        else if (in.state == FD_STOPPING || in.state == FD_STOPPED) {
            fd_force_to(def, r, in.state, now, after);
        }
        else {
            fd_report_status(def, r, in.state, now, after);
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
    const char *st = fd_name(fd_res, FR_N, r->res_state);
    const char *cur = fd_name(fd_res_desired, FRD_N, r->res_desired);

    return fd_send_error(q, HTTP_BAD_REQUEST, "IllegalPipelineAction",
        apr_psprintf(q->r->pool, "Deployment resources status (current: '%s', desired: '%s') "
                     "cannot have desired changed to '%s'. %s", st, cur, new_desired, hint),
        json_pack("{s:s, s:s, s:s, s:s}", "status", st, "current_desired_status", cur,
                  "new_desired_status", new_desired, "hint", hint));
}

/* Interacting with a pipeline whose process is not there: the runner's errors
 * (503 in Feldera; /checkpoint answers 400, as SPEC §4.5 says). */
static int fd_not_deployed(lc_req_t *q, const lc_resource_t *r, int status)
{
    if (r->res_state != FR_PROVISIONED) {
        const char *st = fd_name(fd_res, FR_N, r->res_state);
        return fd_send_error(q, status, "PipelineInteractionNotDeployed",
            apr_psprintf(q->r->pool, "Unable to interact with pipeline because the deployment "
                         "status (%s) indicates it is not (yet) fully provisioned "
                         "pipeline-id=N/A pipeline-name=\"%s\"",
                         fd_name(fd_res_lower, FR_N, r->res_state), r->id),
            json_pack("{s:s, s:s, s:s}", "pipeline_name", r->id, "status", st,
                      "desired_status", fd_name(fd_res_desired, FRD_N, r->res_desired)));
    }
    return fd_send_error(q, status, "PipelineUnavailable",
        apr_psprintf(q->r->pool, "Unable to interact with pipeline because its status is "
                     "currently '%s' pipeline-id=N/A pipeline-name=\"%s\"",
                     fd_name(fd_states, FD_NSTATES, r->state), r->id),
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

static int fd_refused(lc_req_t *q, const char *action, const lc_resource_t *r)
{
    const char *doing = r->state == FD_STOPPING ? "stopping" : "suspending";

    if (fd_is_start(action)) {
        return fd_refused_start(q, r);
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
                         "incarnation_uuid", fd_deployment_id(data));
        json_decref(data);
        return lc_http_json(q->r, HTTP_OK, body);
    }
    if (strcmp(action, "dismiss_error") == 0) {
        return lc_http_json(q->r, HTTP_OK,
                            json_string("Pipeline deployment error has been dismissed"));
    }
    return lc_http_json(q->r, HTTP_ACCEPTED, json_string(
        fd_is_start(action) ? "Pipeline is starting"
        : strcmp(action, "stop") == 0 && before->res_state == FR_PROVISIONED
          ? "Pipeline is suspending" : "Pipeline is forcefully stopping"));
}

/* Guard codes (store locked, nothing changed). */
#define FD_EUNDISMISSED (APR_OS_START_USERERR + 790)   /* start?dismiss_error=false */
#define FD_EDISMISS     (APR_OS_START_USERERR + 791)   /* dismiss_error not fully stopped */

static int fd_answer(lc_req_t *q, const char *name, const char *action, apr_status_t rv,
                     const lc_resource_t *before, const lc_resource_t *after)
{
    switch (rv) {
    case APR_SUCCESS:
    case LC_NOCHANGE:
        lc_http_etag(q->r, after->version);
        return fd_accepted(q, action, before, after);
    case LC_EILLEGAL:
        lc_http_etag(q->r, after->version);
        return fd_refused(q, action, after);
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

static int fd_has_error(const lc_resource_t *r)
{
    return strstr(r->data, "\"" K_ERROR "\"") != NULL;
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
static int fd_action(lc_req_t *q, const char *verb, lc_act_t *act)
{
    static const char *const none[] = { NULL };
    static const char *const force_only[] = { "force", NULL };
    apr_table_t *args;
    int rc, flag;

    act->action = verb;
    if (strcmp(verb, "start") == 0) {
        if ((rc = fd_start_query(q, &act->action, &flag)) != LC_PROCEED) {
            return rc;
        }
        act->guard = flag ? NULL : fd_undismissed_guard;
        return LC_PROCEED;
    }
    if (strcmp(verb, "stop") == 0) {
        if ((rc = fd_query(q, force_only, &args)) != LC_PROCEED
            || (rc = fd_query_bool(q, args, "force", 0, &flag)) != LC_PROCEED) {
            return rc;
        }
        act->action = flag ? "stop_force" : "stop";
        return LC_PROCEED;
    }
    if (strcmp(verb, "dismiss_error") == 0) {
        act->guard = fd_dismiss_guard;
    }
    return fd_query(q, none, &args);
}

static int fd_act(lc_req_t *q, const char *name, const char *verb)
{
    lc_resource_t before, after;
    lc_precond_t if_match;
    lc_act_t act;
    apr_status_t rv;
    int rc, big;

    lc_dialect_act_init(q, &lc_pipeline_kind, name, verb, NULL, &act);
    if ((rc = fd_action(q, verb, &act)) != LC_PROCEED) {
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
    act.if_match = &if_match;
    rv = lc_engine_act(q->store, &act, &before, &after);
    if (rv == APR_SUCCESS) {
        lc_audit_request(q->r, &q->actor, LC_KIND_PIPELINE, name, fd_states[before.state],
                         fd_states[after.state]);
    }
    return fd_answer(q, name, act.action, rv, &before, &after);
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
    mine = fd_deployment_id(data);
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
        "No such endpoint: this server serves GET /v0/config, GET /v0/pipelines, "
        "GET /v0/pipelines/{name}, GET /v0/pipelines/{name}/checkpoint_status and POST "
        "/v0/pipelines/{name}/start, /stop, /checkpoint and /dismiss_error", NULL);
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
    return !strcmp(verb, "start") || !strcmp(verb, "stop") || !strcmp(verb, "checkpoint")
           || !strcmp(verb, "dismiss_error");
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
    if (q->nseg < 1 || q->nseg > 2 || strcmp(q->collection ? q->collection : "", "pipelines")
        || (verb && !fd_is_action(verb) && strcmp(verb, "checkpoint_status"))) {
        return fd_not_found(q);
    }
    if ((rc = fd_name_check(q, name)) != LC_PROCEED) {
        return rc;
    }
    if (!verb || !strcmp(verb, "checkpoint_status")) {
        if (q->r->method_number != M_GET) {
            return fd_method_not_allowed(q, "GET, HEAD");
        }
        return verb ? fd_checkpoint_status(q, name) : fd_get(q, name);
    }
    if (q->r->method_number != M_POST) {
        return fd_method_not_allowed(q, "POST");
    }
    return fd_act(q, name, verb);
}

const lc_dialect_t lc_dialect_feldera = {
    "feldera", LC_KIND_PIPELINE, &lc_pipeline_kind, "pipelines.read", "pipelines.write",
    fd_handle, fd_error, fd_method_not_allowed, "GET, HEAD, POST"
};
