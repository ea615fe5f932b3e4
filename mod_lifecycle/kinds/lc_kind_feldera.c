/* lc_kind_feldera.c — the Feldera pipeline kind: its states,
 * rules, timeouts, runner reports and representation.  Pure: the dialect's
 * HTTP side is lc_dialect_feldera.c.
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
#include <stdio.h>
#include <apr_strings.h>
#include <sodium.h>

#include "lc_kind_feldera.h"
#include "lc_store.h"
#include "lc_time.h"

#define fd_states lc_feldera_states
#define fd_desired lc_feldera_desired

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
#define K_ERROR   FD_K_ERROR   /* lc_kind_feldera.h: the dialect's guards read it */
#define K_RUNNER  "r"
#define K_INITIAL "i"
#define K_DEPLOY  FD_K_DEPLOY

/* The record has no "desired status since" field; a pipeline is never
 * closed, so its `closed` timestamp keeps when the desired status last
 * changed (deployment_desired_status_since). */
#define FD_DESIRED_SINCE(r) ((r)->closed)

static void fd_derive(lc_resource_t *r, apr_time_t now);
static void fd_start(lc_resource_t *r, apr_time_t now);
static void fd_wanted(lc_resource_t *r, apr_time_t now);
static void fd_stop_now(lc_resource_t *r, apr_time_t now);
static void fd_checkpoint(lc_resource_t *r, apr_time_t now);
static void fd_dismiss(lc_resource_t *r, apr_time_t now);
static void fd_suspended(lc_resource_t *r, apr_time_t now);
static void fd_suspend_timed_out(lc_resource_t *r, apr_time_t now);
static void fd_clear(lc_resource_t *r, apr_time_t now);

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
    { "stop",           B(FD_PROVISIONING),  FD_STOPPING,     FDD_STOPPED,   LC_RULE_ADVANCE, fd_wanted, 0 },
    /* The graceful stop: only the desired status changes, to Suspended. */
    { "stop",           FD_RUNTIME,          LC_STATE_KEEP,   FDD_SUSPENDED, LC_RULE_ADVANCE, fd_wanted,   FDD_LIVE },
    /* stop while suspending (desired Suspended, or Suspended) or Stopping: no row. */
    { "stop_force",     B(FD_STOPPED) | B(FD_STOPPING), LC_STATE_KEEP, LC_STATE_KEEP, LC_RULE_NOOP, NULL, 0 },
    /* Cancels a suspend in progress; no checkpoint. */
    { "stop_force",     B(FD_PROVISIONING) | FD_DEPLOYED, FD_STOPPING, FDD_STOPPED, LC_RULE_ADVANCE, fd_wanted, 0 },
    { "checkpoint",     B(FD_PAUSED) | B(FD_RUNNING), LC_STATE_KEEP, LC_STATE_KEEP, 0,        fd_checkpoint, 0 },
    /* Only a fully stopped pipeline's error can go (the guard answers the rest). */
    { "dismiss_error",  B(FD_STOPPED),       LC_STATE_KEEP,   LC_STATE_KEEP, 0,               fd_dismiss,  B(FDD_STOPPED) },
    /* The pipeline process's own /pause, /start (the manager's /resume) and
     * /activate: a change of the runtime desired status, as its
     * may_transition_to allows (Running <-> Paused; Standby -> either by
     * /activate only); the status follows (fd_advances, or a runner).  Any
     * other desired status (Standby for pause/resume, Suspended) is the
     * process's InvalidTransition; not provisioned, it is not there at all. */
    { "pause",          FD_RUNTIME,          LC_STATE_KEEP,   LC_STATE_KEEP, LC_RULE_NOOP,    NULL,        B(FDD_PAUSED) },
    { "pause",          FD_RUNTIME,          LC_STATE_KEEP,   FDD_PAUSED,    LC_RULE_ADVANCE, fd_wanted,   B(FDD_RUNNING) },
    { "resume",         FD_RUNTIME,          LC_STATE_KEEP,   LC_STATE_KEEP, LC_RULE_NOOP,    NULL,        B(FDD_RUNNING) },
    { "resume",         FD_RUNTIME,          LC_STATE_KEEP,   FDD_RUNNING,   LC_RULE_ADVANCE, fd_wanted,   B(FDD_PAUSED) },
    { "activate",       FD_RUNTIME,          LC_STATE_KEEP,   LC_STATE_KEEP, LC_RULE_NOOP,    NULL,        B(FDD_RUNNING) },
    { "activate",       FD_RUNTIME,          LC_STATE_KEEP,   FDD_RUNNING,   LC_RULE_ADVANCE, fd_wanted,   B(FDD_PAUSED) | B(FDD_STANDBY) },
    { "activate_paused", FD_RUNTIME,         LC_STATE_KEEP,   LC_STATE_KEEP, LC_RULE_NOOP,    NULL,        B(FDD_PAUSED) },
    { "activate_paused", FD_RUNTIME,         LC_STATE_KEEP,   FDD_PAUSED,    LC_RULE_ADVANCE, fd_wanted,   B(FDD_RUNNING) | B(FDD_STANDBY) },
    /* /approve: a pipeline awaiting approval bootstraps, then runs (or
     * stays paused) as wanted; any other deployed pipeline answers 200 and
     * nothing changes (the process only records the bootstrap options). */
    { "approve",        B(FD_AWAITING),      FD_BOOTSTRAPPING, LC_STATE_KEEP, LC_RULE_ADVANCE, fd_derive,  B(FDD_RUNNING) | B(FDD_PAUSED) | B(FDD_STANDBY) },
    { "approve",        FD_DEPLOYED & ~B(FD_AWAITING), LC_STATE_KEEP,   LC_STATE_KEEP, LC_RULE_NOOP,    NULL,        0 },
    /* /clear: only a fully stopped pipeline's storage (the dialect's guard
     * makes a Cleared one a no-change). */
    { "clear",          B(FD_STOPPED),       LC_STATE_KEEP,   LC_STATE_KEEP, 0,               fd_clear,    B(FDD_STOPPED) },
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
    /* pause / resume / activate / approve: the runtime status follows the
     * runtime desired status. */
    { FD_RUNNING,      FD_PAUSED,       0,               fd_derive, B(FDD_PAUSED) },
    { FD_PAUSED,       FD_RUNNING,      0,               fd_derive, B(FDD_RUNNING) },
    { FD_STANDBY,      FD_RUNNING,      0,               fd_derive, B(FDD_RUNNING) },
    { FD_STANDBY,      FD_PAUSED,       0,               fd_derive, B(FDD_PAUSED) },
    { FD_BOOTSTRAPPING, FD_RUNNING,     0,               fd_derive, B(FDD_RUNNING) },
    { FD_BOOTSTRAPPING, FD_PAUSED,      0,               fd_derive, B(FDD_PAUSED) },
    { FD_BOOTSTRAPPING, FD_STANDBY,     0,               fd_derive, B(FDD_STANDBY) },
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

/* Store data in r; should it not fit (a runner's long error), give up the
 * log, then the history, then (as before) all but the error and the runner
 * flag (the deployment's id and initial status are then shown as null). */
static void fd_data_store(lc_resource_t *r, json_t *data)
{
    int tries;

    for (tries = 0; tries < 12; tries++) {
        if (lc_kind_set_data(r, data) == APR_SUCCESS) {
            return;
        }
        lc_feldera_trim(data);
    }
    {
        json_t *only = json_pack("{s:O*, s:O*}", K_ERROR, json_object_get(data, K_ERROR),
                                 K_RUNNER, json_object_get(data, K_RUNNER));
        if (!only || lc_kind_set_data(r, only) != APR_SUCCESS) {
            r->data[0] = '\0';
        }
        json_decref(only);
    }
}

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
    fd_data_store(r, data);
    json_decref(data);
}

/* The history gets r's status as it is now (when it changed). */
static void fd_record(lc_resource_t *r, apr_time_t now)
{
    json_t *data = lc_kind_get_data(r);

    lc_feldera_event(data, r, now);
    fd_data_store(r, data);
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
    fd_record(r, now);
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
    /* A new process: its storage is in use, its metrics start afresh. */
    fd_data_set(r, FH_K_STORAGE, json_integer(FS_INUSE));
    fd_data_set(r, FH_K_STARTED, json_integer((json_int_t)apr_time_sec(now)));
    fd_data_set(r, FH_K_METRICS, NULL);
    FD_DESIRED_SINCE(r) = now;
    fd_derive(r, now);
}

/* A user's stop or graceful stop: the rule has just set the desired
 * status (Stopped, or Suspended), so it is wanted since now. */
static void fd_wanted(lc_resource_t *r, apr_time_t now)
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

/* The pipeline's own checkpoint (POST /checkpoint): taken at once, so its
 * /checkpoint_status reports it done on the next poll. */
static void fd_checkpoint(lc_resource_t *r, apr_time_t now)
{
    json_t *data;

    (void)now;
    r->ckpt_seq++;
    data = lc_kind_get_data(r);
    lc_feldera_checkpoint_taken(data, r->ckpt_seq);
    fd_data_store(r, data);
    json_decref(data);
}

static void fd_dismiss(lc_resource_t *r, apr_time_t now)
{
    fd_data_set(r, K_ERROR, NULL);
    fd_record(r, now);
}

/* /clear: the storage goes, and with it the checkpoints.  A runner-driven
 * pipeline shows Clearing until its runner reports storage_status Cleared;
 * otherwise there is no storage but this record's, so it is Cleared at once
 * (the client's clear_storage() polls for Cleared either way). */
static void fd_clear(lc_resource_t *r, apr_time_t now)
{
    json_t *data = lc_kind_get_data(r);
    int runner = json_is_true(json_object_get(data, K_RUNNER));

    json_object_set_new(data, FH_K_STORAGE, json_integer(runner ? FS_CLEARING : FS_CLEARED));
    json_object_del(data, FH_K_CKPTS);
    lc_feldera_event(data, r, now);
    fd_data_store(r, data);
    json_decref(data);
}

/* The suspend's atomic checkpoint is taken: status Suspended, still wanted
 * Suspended until the resources go. */
static void fd_suspended(lc_resource_t *r, apr_time_t now)
{
    fd_checkpoint(r, now);
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

/* RFC 3339 as chrono's serde writes a DateTime<Utc> (lc_time_rfc3339_auto). */
static json_t *fd_time(apr_time_t t)
{
    char buf[LC_TIME_TEXT_MAX];

    return json_string(lc_time_rfc3339_auto(buf, t));
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

/* The name of a desired status, or null (v NULL or out of range). */
static json_t *fd_desired_json(json_t *v)
{
    json_int_t i = json_is_integer(v) ? json_integer_value(v) : -1;

    return i >= 0 && i < FDD_N ? json_string(fd_desired[i]) : json_null();
}

/* The deployment fields of the manager's PipelineSelectedInfo.  The runtime
 * status and desired status are what the combined ones refine once the
 * resources are provisioned, null before. */
static void fd_deployment_json(json_t *o, const lc_resource_t *r, json_t *data)
{
    int provisioned = r->res_state == FR_PROVISIONED;
    int runtime_wanted = r->res_desired == FRD_PROVISIONED && provisioned;

    json_object_set_new(o, "deployment_error", fd_error_json(data));
    json_object_set_new(o, "deployment_id", lc_feldera_deployment_id(data));
    json_object_set_new(o, "deployment_initial", fd_desired_json(json_object_get(data, K_INITIAL)));
    json_object_set_new(o, "deployment_status", json_string(fd_name(fd_states, FD_NSTATES, r->state)));
    json_object_set_new(o, "deployment_status_since", fd_time(r->state_since));
    json_object_set_new(o, "deployment_desired_status", json_string(fd_name(fd_desired, FDD_N, r->desired)));
    json_object_set_new(o, "deployment_desired_status_since",
                        fd_time(FD_DESIRED_SINCE(r) ? FD_DESIRED_SINCE(r) : r->created));
    json_object_set_new(o, "deployment_resources_status", json_string(fd_name(lc_feldera_res, FR_N, r->res_state)));
    json_object_set_new(o, "deployment_resources_status_since", fd_time(r->state_since));
    json_object_set_new(o, "deployment_resources_desired_status",
                        json_string(fd_name(lc_feldera_res_desired, FRD_N, r->res_desired)));
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

json_t *lc_feldera_pipeline_json(const lc_resource_t *r, int all)
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
                        json_string(lc_feldera_storage[lc_feldera_storage_status(r, data)]));
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
    return lc_feldera_pipeline_json(r, 1);
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
    int     storage;      /* storage_status reported, or -1 */
    json_t *log;          /* `log` (borrowed), or NULL */
    json_t *metrics;      /* global_metrics fields, checked (owned) */
} fd_report_in_t;

/* A global_metrics field (top level, or inside "global_metrics"), checked
 * on a scratch object so that a bad one changes nothing. */
static apr_status_t fd_report_metric(fd_report_in_t *in, const char *k, json_t *v)
{
    if (!in->metrics) {
        in->metrics = json_object();
    }
    return lc_feldera_metrics_set(in->metrics, k, v);
}

/* What a report may carry beside the status: storage_status, log lines,
 * global metrics. */
static apr_status_t fd_report_extra(fd_report_in_t *in, const char *k, json_t *v,
                                    const char **field)
{
    const char *mk;
    json_t *mv, *probe;

    if (strcmp(k, "storage_status") == 0) {
        if ((in->storage = fd_index(lc_feldera_storage, FS_N, v)) < 0) {
            return fd_fail(field, k);
        }
        return APR_SUCCESS;
    }
    if (strcmp(k, "log") == 0) {
        probe = json_object();
        if (lc_feldera_log_append(probe, v) != APR_SUCCESS) {
            json_decref(probe);
            return fd_fail(field, k);
        }
        json_decref(probe);
        in->log = v;
        return APR_SUCCESS;
    }
    if (strcmp(k, "global_metrics") == 0) {
        if (!json_is_object(v)) {
            return fd_fail(field, k);
        }
        json_object_foreach(v, mk, mv) {
            if (fd_report_metric(in, mk, mv) != APR_SUCCESS) {
                return fd_fail(field, "global_metrics");
            }
        }
        return APR_SUCCESS;
    }
    if (lc_feldera_is_metric(k) && fd_report_metric(in, k, v) == APR_SUCCESS) {
        return APR_SUCCESS;
    }
    return fd_fail(field, k);
}

/* Keep what fd_report_extra checked. */
static void fd_report_keep(lc_resource_t *r, const fd_report_in_t *in, apr_time_t now)
{
    json_t *data, *g;
    const char *k;
    json_t *v;

    if (in->storage < 0 && !in->log && !in->metrics) {
        return;
    }
    data = lc_kind_get_data(r);
    if (in->storage >= 0) {
        json_object_set_new(data, FH_K_STORAGE, json_integer(in->storage));
        if (in->storage != FS_INUSE) {
            json_object_del(data, FH_K_CKPTS);
        }
        lc_feldera_event(data, r, now);
    }
    if (in->log) {
        lc_feldera_log_append(data, in->log);
    }
    if (in->metrics) {
        if (!json_is_object(g = json_object_get(data, FH_K_METRICS))) {
            json_object_set_new(data, FH_K_METRICS, g = json_object());
        }
        json_object_foreach(json_object_get(in->metrics, FH_K_METRICS), k, v) {
            json_object_set(g, k, v);
        }
    }
    fd_data_store(r, data);
    json_decref(data);
}

static apr_status_t fd_report_parse(json_t *body, fd_report_in_t *in, const char **field)
{
    const char *k;
    json_t *v;

    memset(in, 0, sizeof(*in));
    in->state = -1;
    in->storage = -1;
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
        else if (fd_report_extra(in, k, v, field) != APR_SUCCESS) {
            return APR_EINVAL;
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
        json_decref(in.metrics);
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
    fd_report_keep(r, &in, now);
    json_decref(in.metrics);
    return lc_resource_same(&before, r) ? LC_NOCHANGE : APR_SUCCESS;
}

const lc_kind_def_t lc_pipeline_kind = {
    .kind             = LC_KIND_PIPELINE,
    .name             = "pipeline",
    .states           = fd_states,
    .nstates          = FD_NSTATES,
    .rules            = fd_rules,
    .advances         = fd_advances,
    .to_json          = fd_to_json,
    .from_json        = fd_from_json,
    .timeouts         = fd_timeouts,
    .may_auto_advance = fd_may_auto_advance,
    .report           = fd_report,
};
