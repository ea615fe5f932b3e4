/* lc_runner_plan.c — the runner's table of what each kind's resources ask
 * of it, read off the kinds' own tables (lc_kind_*.c):
 *
 *   workstation  provisioning -> launch -> running (error)
 *                stopped, by a stop -> stop (error if it fails)
 *   wrapper      running -> execute -> completed (failed); its output may
 *                carry the checkpoint (water marks)
 *                stopped, by a stop -> stop
 *   notebook     queued -> start -> running (failed); running -> run ->
 *                completed (failed, with errorMessage)
 *                cancelled, by a stop -> stop
 *   agent        active -> run -> closed, success true (false); its output
 *                may carry the answer
 *                closed, by a stop -> stop
 *   session      active, when created -> start (error, with the message)
 *                closed, by a stop -> stop; timed_out, by its timeout -> stop
 *   pipeline     Provisioning -> provision -> Initializing
 *                Initializing -> initialize -> the desired Running / Paused / Standby
 *                any runtime status wanted Suspended -> suspend -> Suspended
 *                (the checkpoint; its output may carry checkpoint_sequence_number)
 *                Suspended -> (no command) -> Stopping
 *                Stopping -> stop -> Stopped
 *                Running wanted Paused -> pause -> Paused; Paused wanted Running
 *                -> resume -> Running; Standby wanted Running / Paused -> activate;
 *                Bootstrapping (after /approve) -> bootstrap -> the desired status
 *                a failure stops the pipeline with deployment_error set.
 *
 * A state waiting for a runner is acted on whatever change put it there (a
 * restarted runner re-listing finds it the same way); a teardown follows a
 * user's stop only (a transition op), once.
 */
#include <string.h>

#include "lc_runner_plan.h"

#define ANY      LC_RUN_OP_ANY
#define BY_STOP  LC_RUN_OP_TRANSITION
#define FOLLOWS  (LC_RUN_TEARDOWN | LC_RUN_CANCELS)

static const lc_runner_row_t ws_rows[] = {
    { "provisioning", NULL, ANY,     "launch", "running", "error", 0 },
    { "stopped",      NULL, BY_STOP, "stop",   NULL,      "error", FOLLOWS },
    { NULL }
};

static const lc_runner_row_t wr_rows[] = {
    { "running", NULL, ANY,     "execute", "completed", "failed", 0 },
    { "stopped", NULL, BY_STOP, "stop",    NULL,        NULL,     FOLLOWS },
    { NULL }
};

static const lc_runner_row_t nb_rows[] = {
    { "queued",    NULL, ANY,     "start", "running",   "failed", 0 },
    { "running",   NULL, ANY,     "run",   "completed", "failed", 0 },
    { "cancelled", NULL, BY_STOP, "stop",  NULL,        NULL,     FOLLOWS },
    { NULL }
};

static const lc_runner_row_t ag_rows[] = {
    { "active", NULL, ANY,     "run",  "closed", "closed", 0 },
    { "closed", NULL, BY_STOP, "stop", NULL,     NULL,     FOLLOWS },
    { NULL }
};

/* A session is open as soon as it is created: the command makes it real,
 * and only a failure is reported. */
static const lc_runner_row_t ss_rows[] = {
    { "active", NULL, LC_RUN_OP_CREATE, "start", NULL, "error", 0 },
    { "closed", NULL, BY_STOP,          "stop",  NULL, NULL,    FOLLOWS },
    /* Its max_duration_minutes or idle_timeout_minutes passed (the
     * background task's move, a transition like a stop). */
    { "timed_out", NULL, BY_STOP,       "stop",  NULL, NULL,    FOLLOWS },
    { NULL }
};

/* A pipeline wanted Suspended takes its checkpoint in whatever runtime
 * status it is in (lc_kind_feldera.c's FD_SUSPENDS). */
#define SUSPENDS(s) { s, "Suspended", ANY, "suspend", "Suspended", "Stopping", 0 }
static const lc_runner_row_t fd_rows[] = {
    { "Provisioning", "!Stopped", ANY, "provision",  "Initializing", "Stopping", 0 },
    { "Initializing", "Running",  ANY, "initialize", "Running",      "Stopping", 0 },
    { "Initializing", "Paused",   ANY, "initialize", "Paused",       "Stopping", 0 },
    { "Initializing", "Standby",  ANY, "initialize", "Standby",      "Stopping", 0 },
    SUSPENDS("Initializing"), SUSPENDS("Paused"), SUSPENDS("Running"),
    SUSPENDS("Unavailable"), SUSPENDS("Standby"), SUSPENDS("AwaitingApproval"),
    SUSPENDS("Bootstrapping"), SUSPENDS("Replaying"),
    /* pause / resume / activate / approve: the runtime status follows the
     * desired one (lc_kind_feldera.c's advances). */
    { "Running",      "Paused",   ANY, "pause",      "Paused",       "Stopping", 0 },
    { "Paused",       "Running",  ANY, "resume",     "Running",      "Stopping", 0 },
    { "Standby",      "Running",  ANY, "activate",   "Running",      "Stopping", 0 },
    { "Standby",      "Paused",   ANY, "activate",   "Paused",       "Stopping", 0 },
    { "Bootstrapping", "Running", ANY, "bootstrap",  "Running",      "Stopping", 0 },
    { "Bootstrapping", "Paused",  ANY, "bootstrap",  "Paused",       "Stopping", 0 },
    { "Bootstrapping", "Standby", ANY, "bootstrap",  "Standby",      "Stopping", 0 },
    /* The checkpoint is taken: the resources may go (the next row's command). */
    { "Suspended",    NULL,       ANY, NULL,         "Stopping",     NULL,       0 },
    { "Stopping",     NULL,       ANY, "stop",       "Stopped",      "Stopped",  LC_RUN_CANCELS },
    { NULL }
};

/* The GET form's fields an agent's admin PUT refuses. */
static const char *const ag_drop[] = { "created_at", NULL };

static const lc_runner_kind_t k_ws = {
    .name = "workstation", .id_key = "id", .status_key = "status", .rows = ws_rows
};
static const lc_runner_kind_t k_wr = {
    .name = "wrapper", .id_key = "wrapper_id", .status_key = "status", .rows = wr_rows
};
static const lc_runner_kind_t k_nb = {
    .name = "notebook", .id_key = "id", .status_obj = "currentJob", .status_key = "status",
    .error_key = "errorMessage", .rows = nb_rows
};
static const lc_runner_kind_t k_ag = {
    .name = "agent", .id_key = "agent_id", .status_key = "status", .outcome_key = "success",
    .drop = ag_drop, .rows = ag_rows
};
static const lc_runner_kind_t k_ss = {
    .name = "session", .id_key = "session_id", .status_key = "status", .error_key = "error",
    .rows = ss_rows
};
static const lc_runner_kind_t k_fd = {
    .name = "pipeline", .id_key = "name", .status_key = "deployment_status", .own_report = 1,
    .rows = fd_rows
};

const lc_runner_kind_t *const lc_runner_kinds[] = {
    &k_ws, &k_wr, &k_nb, &k_ag, &k_ss, &k_fd, NULL
};

/* A runner's message is short; the notebook's errorMessage takes 100 bytes. */
#define MESSAGE_MAX 100

const lc_runner_kind_t *lc_runner_kind(const char *name)
{
    int i;

    for (i = 0; name && lc_runner_kinds[i]; i++) {
        if (strcmp(lc_runner_kinds[i]->name, name) == 0) {
            return lc_runner_kinds[i];
        }
    }
    return NULL;
}

unsigned lc_runner_op(const char *op)
{
    static const char *const names[] = { "create", "replace", "transition", "report", "list" };
    unsigned i;

    for (i = 0; op && i < sizeof(names) / sizeof(*names); i++) {
        if (strcmp(names[i], op) == 0) {
            return 1u << i;
        }
    }
    return 0;
}

static json_t *status_holder(const lc_runner_kind_t *k, json_t *resource)
{
    return k->status_obj ? json_object_get(resource, k->status_obj) : resource;
}

const char *lc_runner_status(const lc_runner_kind_t *k, json_t *resource)
{
    return json_string_value(json_object_get(status_holder(k, resource), k->status_key));
}

static int desired_matches(const char *want, json_t *resource)
{
    const char *d = json_string_value(json_object_get(resource, "deployment_desired_status"));

    if (!want) {
        return 1;
    }
    if (!d) {
        return 0;
    }
    return want[0] == '!' ? strcmp(want + 1, d) != 0 : strcmp(want, d) == 0;
}

const lc_runner_row_t *lc_runner_plan(const lc_runner_kind_t *k, unsigned op,
                                      json_t *resource)
{
    const char *st = lc_runner_status(k, resource);
    const lc_runner_row_t *row;

    for (row = k->rows; st && row->state; row++) {
        if ((row->ops & op) && strcmp(row->state, st) == 0
            && desired_matches(row->desired, resource)) {
            return row;
        }
    }
    return NULL;
}

int lc_runner_action_known(const char *kind, const char *action)
{
    const lc_runner_kind_t *k = lc_runner_kind(kind);
    const lc_runner_row_t *row;

    for (row = k ? k->rows : NULL; row && row->state; row++) {
        if (row->action && strcmp(row->action, action) == 0) {
            return 1;
        }
    }
    return 0;
}

/* message, cut to MESSAGE_MAX bytes at a character boundary. */
static json_t *short_message(const char *message)
{
    size_t n = strlen(message);

    if (n > MESSAGE_MAX) {
        n = MESSAGE_MAX;
        while (n > 0 && ((unsigned char)message[n] & 0xC0) == 0x80) {
            n--;
        }
    }
    return json_stringn(message, n);
}

/* Feldera's own report: {"deployment_status", "deployment_error"?, ...}. */
static json_t *pipeline_report(const lc_runner_row_t *row, const char *st, int ok, json_t *out,
                               const char *message)
{
    json_t *body = json_pack("{s:s}", "deployment_status", st);

    if (ok && out) {
        json_object_update(body, out);
        json_object_set_new(body, "deployment_status", json_string(st));
    }
    if (!ok) {
        json_object_set_new(body, "deployment_error", json_pack(
            "{s:s, s:s, s:{s:s?}}", "message", message ? message : "the runner's command failed",
            "error_code", "RunnerCommandFailed", "details", "action", row->action));
    }
    return body;
}

/* The representation with the outcome written in: what a PUT sends. */
static json_t *whole_report(const lc_runner_kind_t *k, const char *st, int ok, json_t *resource,
                            json_t *out, const char *message)
{
    json_t *body = json_deep_copy(resource), *holder;
    int i;

    for (i = 0; k->drop && k->drop[i]; i++) {
        json_object_del(body, k->drop[i]);
    }
    if (!json_is_object(holder = status_holder(k, body))) {
        json_decref(body);
        return NULL;
    }
    if (out) {
        json_object_update(holder, out);
    }
    json_object_set_new(holder, k->status_key, json_string(st));
    if (!ok && k->error_key && message) {
        json_object_set_new(holder, k->error_key, short_message(message));
    }
    if (k->outcome_key) {
        json_object_set_new(body, k->outcome_key, json_boolean(ok));
    }
    return body;
}

json_t *lc_runner_report(const lc_runner_kind_t *k, const lc_runner_row_t *row, int ok,
                         json_t *resource, json_t *out, const char *message, int *put)
{
    const char *st = ok ? row->ok : row->fail;

    *put = 0;
    if (!st) {
        return NULL;
    }
    if (out && json_object_size(out) == 0) {
        out = NULL;
    }
    if (k->own_report) {
        return pipeline_report(row, st, ok, out, message);
    }
    /* The generic report carries a status only: anything more is a PUT of
     * the whole representation (README: "Richer reports ... are made with a
     * PUT"), with the same If-Match. */
    if (!out && !k->outcome_key && (ok || !k->error_key || !message)) {
        return json_pack("{s:s}", "status", st);
    }
    *put = 1;
    return whole_report(k, st, ok, resource, out, message);
}
