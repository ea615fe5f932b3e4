/* lc_kind_notte.c — the Notte agent kind: its states, rules and
 * representation (AgentResponse, AgentStatusResponse).  Pure: the dialect's
 * HTTP side is lc_dialect_notte.c; the session kind is lc_kind_notte_session.c.
 *
 *   stop   active -> closed (a closed agent: success, no change)
 */
#include <string.h>

#include "lc_kind_notte.h"
#include "lc_notte_pydantic.h"
#include "lc_util.h"
#include "lc_time.h"
#include "lc_store.h"

static const char *const ag_states[AG_NSTATES] = { "active", "closed" };

static const lc_rule_t ag_rules[] = {
    /* action  from               to          desired        flags */
    { "stop", LC_BIT(AG_ACTIVE), AG_CLOSED,   LC_STATE_KEEP, LC_RULE_CLOSE, NULL },
    /* Stopping a closed agent answers it as it is: no new version, no audit. */
    { "stop", LC_BIT(AG_CLOSED), LC_STATE_KEEP, LC_STATE_KEEP, LC_RULE_NOOP, NULL },
    { NULL }
};

/* An agent runs until it stops or a runner reports it closed. */
static const lc_advance_t ag_advances[] = {
    { LC_STATE_KEEP }
};

/* Attribute keys in r->data, short because records were once 239 bytes. */
#define K_SESSION AG_K_SESSION   /* these three: lc_kind_notte.h, POST /start sets them */
#define K_TASK    AG_K_TASK
#define K_URL     AG_K_URL
#define K_SUCCESS AG_K_SUCCESS  /* the runner's outcome; absent: none reported */
#define K_ANSWER  AG_K_ANSWER
#define K_SAVED   "sv"

static json_t *ag_str_or_null(json_t *data, const char *key)
{
    json_t *v = json_object_get(data, key);

    return json_is_string(v) ? json_incref(v) : json_null();
}

/* A closed agent without a recorded closing time (closed by a runner's
 * report) closed when it entered that state. */
static json_t *ag_closed_at(const lc_resource_t *r)
{
    if (r->state != AG_CLOSED) {
        return json_null();
    }
    return lc_notte_time(r->closed ? r->closed : r->state_since);
}

/* success: what a runner reported; else false once closed, null while active. */
static json_t *ag_success(const lc_resource_t *r, json_t *data)
{
    json_t *v = json_object_get(data, K_SUCCESS);

    if (json_is_boolean(v)) {
        return json_incref(v);
    }
    return r->state == AG_CLOSED ? json_false() : json_null();
}

/* The steps a runner reported (below), as given. */
static json_t *ag_steps(json_t *data)
{
    json_t *v = json_object_get(data, AG_K_STEPS);

    return json_is_array(v) ? json_incref(v) : json_array();
}

json_t *lc_notte_agent_json(const lc_resource_t *r, int full)
{
    json_t *data = lc_kind_get_data(r), *o;

    o = json_pack("{s:s, s:o, s:s, s:s, s:o, s:b}", "agent_id", r->id,
                  "created_at", lc_notte_time(r->created),
                  "session_id", ag_str(data, K_SESSION),
                  "status", ag_states[r->state < AG_NSTATES ? r->state : AG_CLOSED],
                  "closed_at", ag_closed_at(r),
                  "saved", json_is_true(json_object_get(data, K_SAVED)));
    if (full) {
        json_object_set_new(o, "task", json_string(ag_str(data, K_TASK)));
        json_object_set_new(o, "url", ag_str_or_null(data, K_URL));
        json_object_set_new(o, "success", ag_success(r, data));
        json_object_set_new(o, "answer", ag_str_or_null(data, K_ANSWER));
        json_object_set_new(o, "steps", ag_steps(data));
    }
    json_decref(data);
    return o;
}

static json_t *ag_to_json(const lc_resource_t *r)
{
    return lc_notte_agent_json(r, 1);
}

static const char *const ag_fields[] = {
    "agent_id", "session_id", "status", "closed_at", "saved", "task", "url",
    "success", "answer", "steps", NULL
};

/* Copy body[name] into data[key] when it is a string (or null, if allowed). */
static int ag_put_str(json_t *body, const char *name, json_t *data, const char *key,
                      int required, int nullable)
{
    json_t *v = json_object_get(body, name);

    if (!v || json_is_null(v)) {
        return (v ? nullable : !required);
    }
    if (!json_is_string(v)) {
        return 0;
    }
    json_object_set(data, key, v);
    return 1;
}

static int ag_put_bool(json_t *body, const char *name, json_t *data, const char *key)
{
    json_t *v = json_object_get(body, name);

    if (json_is_boolean(v)) {
        json_object_set(data, key, v);
    }
    return !v || json_is_null(v) || json_is_boolean(v);
}

/* The closing time an admin PUT gives (the server keeps its own when null). */
static int ag_put_closed(json_t *body, lc_resource_t *r)
{
    json_t *v = json_object_get(body, "closed_at");

    if (!v || json_is_null(v)) {
        return 1;
    }
    return json_is_string(v) && lc_time_parse_rfc3339(json_string_value(v), &r->closed) == 0;
}

/* The steps of an admin PUT replace those kept.  The representation's
 * steps are the SDK's list[dict[str, Any]]: any objects (a runner's report
 * is stricter: each an AgentCompletion). */
static int ag_put_steps(json_t *steps, json_t *data)
{
    size_t i;

    if (!json_is_array(steps)) {
        return 0;
    }
    for (i = 0; i < json_array_size(steps); i++) {
        if (!json_is_object(json_array_get(steps, i))) {
            return 0;
        }
    }
    if (json_array_size(steps) > 0) {
        json_object_set(data, AG_K_STEPS, steps);
        json_object_set_new(data, AG_K_NSTEPS, json_integer((json_int_t)json_array_size(steps)));
    }
    return 1;
}

/* Fill data (and r->closed) from an AgentStatusResponse; the field that does
 * not fit, or NULL. */
static const char *ag_fill(json_t *body, lc_resource_t *r, json_t *data)
{
    json_t *id = json_object_get(body, "agent_id"), *steps = json_object_get(body, "steps");
    json_t *session = json_object_get(body, "session_id");
    const char *k;

    if ((k = lc_kind_unknown_field(body, ag_fields)) != NULL) {
        return k;
    }
    if (id && (!json_is_string(id) || strcmp(json_string_value(id), r->id) != 0)) {
        return "agent_id";
    }
    if (!json_is_string(session) || json_string_length(session) == 0) {
        return "session_id";
    }
    json_object_set(data, K_SESSION, session);
    if (!ag_put_str(body, "task", data, K_TASK, 1, 0)) return "task";
    if (!ag_put_str(body, "url", data, K_URL, 0, 1)) return "url";
    if (!ag_put_str(body, "answer", data, K_ANSWER, 0, 1)) return "answer";
    if (!ag_put_bool(body, "success", data, K_SUCCESS)) return "success";
    if (!ag_put_bool(body, "saved", data, K_SAVED)) return "saved";
    if (!ag_put_closed(body, r)) return "closed_at";
    if (steps && !ag_put_steps(steps, data)) return "steps";
    if (!json_is_true(json_object_get(data, K_SAVED))) {
        json_object_del(data, K_SAVED);
    }
    return NULL;
}

/* The admin PUT body: an AgentStatusResponse.  Its "steps" replace those
 * kept (the oldest dropped when the attributes would pass 16 KiB), so that
 * a runner's full PUT of what it read keeps them. */
static apr_status_t ag_from_json(json_t *body, lc_resource_t *r, const char **field,
                                 apr_pool_t *p)
{
    json_t *data = json_object();
    int state = lc_kind_state(&lc_agent_kind, json_string_value(json_object_get(body, "status")));
    apr_status_t rv = APR_EINVAL;

    (void)p;
    if ((*field = ag_fill(body, r, data)) == NULL) {
        if (state < 0) {
            *field = "status";
        }
        else if ((rv = lc_notte_agent_fit(r, data)) != APR_SUCCESS) {
            *field = json_object_get(data, K_ANSWER) ? "answer" : "task";
        }
        r->state = (uint8_t)(state < 0 ? 0 : state);
    }
    json_decref(data);
    return rv;
}

/* ---- a runner's report: steps, answer, outcome, status ------------------------- */

/* What a runner reports of a Notte agent:
 *
 *   POST /lifecycle/v1/resources/agent/{id}/report
 *   {"status"?: "active"|"closed", "steps"?: [step, ...], "answer"?: str|null,
 *    "success"?: bool|null}
 *
 * Steps are appended.  Each is what the SDK's watcher parses as a step
 * (notte_core's AgentCompletion: an object with "state" and "action"
 * objects; started_at / ended_at and anything else kept as given).  They
 * live in the agent's attributes, so both stores keep them; the attributes
 * are 16 KiB at most, with the task in them too, so when steps
 * would overflow them the OLDEST are dropped (GET /agents/{id} shows the
 * most recent ones): an agent that runs long must not have its runner's
 * reports refused.  The count of steps ever reported is kept beside them,
 * so that a watcher numbers steps the same way whatever was dropped.  A
 * single report of more than AG_REPORT_STEPS_MAX steps, or one whose answer
 * (or newest step) alone does not fit, is refused naming the field.  Pure.
 */

/* The SDK's max_steps bound (le=150): no agent reports more in one go. */
#define AG_REPORT_STEPS_MAX 150

int lc_notte_step_valid(json_t *v)
{
    return json_is_object(v) && json_is_object(json_object_get(v, "state"))
           && json_is_object(json_object_get(v, "action"));
}

json_t *lc_notte_agent_steps(const lc_resource_t *r, uint64_t *first)
{
    json_t *data = lc_kind_get_data(r);
    json_t *steps = json_object_get(data, AG_K_STEPS), *n = json_object_get(data, AG_K_NSTEPS);
    size_t kept;

    steps = json_is_array(steps) ? json_incref(steps) : json_array();
    kept = json_array_size(steps);
    *first = (json_is_integer(n) && (uint64_t)json_integer_value(n) >= kept)
             ? (uint64_t)json_integer_value(n) - kept : 0;
    json_decref(data);
    return steps;
}

/* How many of the oldest steps make up at least `over` bytes of JSON text. */
static size_t ag_steps_to_drop(json_t *steps, size_t over)
{
    size_t i, n = json_array_size(steps), bytes = 0;

    for (i = 0; i < n && bytes < over; i++) {
        char *t = json_dumps(json_array_get(steps, i), JSON_COMPACT | JSON_ENCODE_ANY);

        bytes += (t ? strlen(t) : 0) + 1;          /* the comma */
        free(t);
    }
    return i;
}

apr_status_t lc_notte_agent_fit(lc_resource_t *r, json_t *data)
{
    json_t *steps = json_object_get(data, AG_K_STEPS);
    apr_status_t rv;

    while ((rv = lc_kind_set_data(r, data)) == APR_ENOSPC && json_array_size(steps) > 1) {
        char *t = json_dumps(data, JSON_COMPACT);
        size_t len = t ? strlen(t) : 0, drop;

        free(t);
        drop = ag_steps_to_drop(steps, len > LC_DATA_MAX ? len - LC_DATA_MAX : 1);
        /* The newest step always stays: a watcher must see it. */
        if (drop >= json_array_size(steps)) {
            drop = json_array_size(steps) - 1;
        }
        while (drop--) {
            json_array_remove(steps, 0);
        }
    }
    return rv;
}

typedef struct ag_report_in {
    int     state;         /* -1: not reported */
    json_t *steps;         /* borrowed, or NULL */
    json_t *answer;        /* borrowed: a string, null, or NULL (not reported) */
    json_t *success;       /* borrowed: a boolean, null, or NULL */
} ag_report_in_t;

static apr_status_t ag_fail(const char **field, const char *name)
{
    *field = name;
    return APR_EINVAL;
}

static apr_status_t ag_report_parse(const lc_kind_def_t *def, json_t *body, ag_report_in_t *in,
                                    const char **field)
{
    const char *k;
    json_t *v;
    size_t i;

    memset(in, 0, sizeof(*in));
    in->state = -1;
    json_object_foreach(body, k, v) {
        if (strcmp(k, "status") == 0) {
            if (!json_is_string(v) || (in->state = lc_kind_state(def, json_string_value(v))) < 0) {
                return ag_fail(field, k);
            }
        }
        else if (strcmp(k, "steps") == 0) {
            if (!json_is_array(v) || json_array_size(v) > AG_REPORT_STEPS_MAX) {
                return ag_fail(field, k);
            }
            for (i = 0; i < json_array_size(v); i++) {
                if (!lc_notte_step_valid(json_array_get(v, i))) {
                    return ag_fail(field, k);
                }
            }
            in->steps = v;
        }
        else if (strcmp(k, "answer") == 0) {
            if (!json_is_string(v) && !json_is_null(v)) {
                return ag_fail(field, k);
            }
            in->answer = v;
        }
        else if (strcmp(k, "success") == 0) {
            if (!json_is_boolean(v) && !json_is_null(v)) {
                return ag_fail(field, k);
            }
            in->success = v;
        }
        else {
            return ag_fail(field, k);
        }
    }
    return APR_SUCCESS;
}

/* Set (or, for null, remove) data[key]. */
static void ag_set_or_del(json_t *data, const char *key, json_t *v)
{
    if (json_is_null(v)) {
        json_object_del(data, key);
    }
    else if (v) {
        json_object_set(data, key, v);
    }
}

static void ag_append_steps(json_t *data, json_t *add)
{
    json_t *steps = json_object_get(data, AG_K_STEPS), *n = json_object_get(data, AG_K_NSTEPS);
    json_int_t count = json_is_integer(n) ? json_integer_value(n) : (json_int_t)json_array_size(steps);

    if (!json_is_array(steps)) {
        json_object_set_new(data, AG_K_STEPS, steps = json_array());
    }
    json_array_extend(steps, add);
    json_object_set_new(data, AG_K_NSTEPS, json_integer(count + (json_int_t)json_array_size(add)));
}

/* Store locked.  Steps appended, answer and success set (null clears), the
 * status set as it is (closing records the closing time). */
static apr_status_t ag_report(const lc_kind_def_t *def, lc_resource_t *r, json_t *body,
                                   apr_time_t now, apr_interval_time_t advance_after,
                                   const char **field)
{
    lc_resource_t before;
    ag_report_in_t in;
    json_t *data;
    apr_status_t rv;

    (void)advance_after;
    if ((rv = ag_report_parse(def, body, &in, field)) != APR_SUCCESS) {
        return rv;
    }
    lc_resource_copy(&before, r);
    data = lc_kind_get_data(r);
    if (in.steps && json_array_size(in.steps) > 0) {
        ag_append_steps(data, in.steps);
    }
    ag_set_or_del(data, AG_K_ANSWER, in.answer);
    ag_set_or_del(data, AG_K_SUCCESS, in.success);
    rv = lc_notte_agent_fit(r, data);
    json_decref(data);
    if (rv != APR_SUCCESS) {
        lc_resource_copy(r, &before);
        return ag_fail(field, json_is_string(in.answer) ? "answer" : "steps");
    }
    if (in.state >= 0 && in.state != r->state) {
        r->state = (uint8_t)in.state;
        r->state_since = now;
        r->closed = in.state == AG_CLOSED ? now : 0;
    }
    return lc_resource_same(&before, r) ? LC_NOCHANGE : APR_SUCCESS;
}

const lc_kind_def_t lc_agent_kind = {
    .kind             = LC_KIND_AGENT,
    .name             = "agent",
    .states           = ag_states,
    .nstates          = AG_NSTATES,
    .rules            = ag_rules,
    .advances         = ag_advances,
    .to_json          = ag_to_json,
    .from_json        = ag_from_json,
    .report           = ag_report,
};
