/* lc_kind_notte.c — the Notte agent kind (SPEC §4.3): its states, rules and
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

/* The steps a runner reported (lc_kind_notte_report.c), as given. */
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

/* The steps of an admin PUT replace those kept: each must be a step. */
static int ag_put_steps(json_t *steps, json_t *data)
{
    size_t i;

    if (!json_is_array(steps)) {
        return 0;
    }
    for (i = 0; i < json_array_size(steps); i++) {
        if (!lc_notte_step_valid(json_array_get(steps, i))) {
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

const lc_kind_def_t lc_agent_kind = {
    LC_KIND_AGENT, "agent", ag_states, AG_NSTATES,
    ag_rules, ag_advances, ag_to_json, ag_from_json,
    NULL, NULL, lc_notte_agent_report
};
