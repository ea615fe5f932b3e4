/* lc_kind_notte_report.c — what a runner reports of a Notte agent (SPEC §5):
 *
 *   POST /lifecycle/v1/resources/agent/{id}/report
 *   {"status"?: "active"|"closed", "steps"?: [step, ...], "answer"?: str|null,
 *    "success"?: bool|null}
 *
 * Steps are appended.  Each is what the SDK's watcher parses as a step
 * (notte_core's AgentCompletion: an object with "state" and "action"
 * objects; started_at / ended_at and anything else kept as given).  They
 * live in the agent's attributes, so both stores keep them; the attributes
 * are 16 KiB at most (SPEC §2), with the task in them too, so when steps
 * would overflow them the OLDEST are dropped (GET /agents/{id} shows the
 * most recent ones): an agent that runs long must not have its runner's
 * reports refused.  The count of steps ever reported is kept beside them,
 * so that a watcher numbers steps the same way whatever was dropped.  A
 * single report of more than AG_REPORT_STEPS_MAX steps, or one whose answer
 * (or newest step) alone does not fit, is refused naming the field.  Pure.
 */
#include <string.h>

#include "lc_kind_notte.h"
#include "lc_store.h"

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
apr_status_t lc_notte_agent_report(const lc_kind_def_t *def, lc_resource_t *r, json_t *body,
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
