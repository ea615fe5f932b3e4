/* lc_kind_wrapper.c — the data-wrapper kind: its states, rules
 * and representation.  Pure: the dialect's HTTP side is lc_dialect_wrapper.c.
 *
 *   stop      running -> stopped; anything else: success, no change
 *   execute   idle | stopped | completed | failed -> running
 *
 * The admin PUT body is the wrapper object plus the runner's "stop_fails"
 * (kept, not shown; see lc_dialect_wrapper.c).
 */
#include <string.h>

#include "lc_kind_wrapper.h"
#include "lc_util.h"

static const char *const wr_states[WR_NSTATES] = {
    "idle", "running", "stopped", "completed", "failed"
};

#define WR_NOT_RUNNING (LC_BIT(WR_IDLE) | LC_BIT(WR_STOPPED) | LC_BIT(WR_COMPLETED) \
                        | LC_BIT(WR_FAILED))

/* Attribute keys in r->data, short because the whole object has 239 bytes:
 * type, the two water marks, and the runner's "cannot stop" flag. */
#define K_TYPE "t"
#define K_HWM  "h"
#define K_LWM  "l"
#define K_FAIL WR_K_FAIL   /* lc_kind_wrapper.h: the stop guard reads it */

#define WR_MARK_MAX 100   /* characters per water mark */

static void wr_execute_effect(lc_resource_t *r, apr_time_t now);

static const lc_rule_t wr_rules[] = {
    /* action     from              to            desired        flags */
    { "stop",    LC_BIT(WR_RUNNING), WR_STOPPED,   LC_STATE_KEEP, 0, NULL },
    /* Stopping what is not running: success, no change (conf/API.md). */
    { "stop",    WR_NOT_RUNNING,     LC_STATE_KEEP, LC_STATE_KEEP, LC_RULE_NOOP, NULL },
    { "execute", WR_NOT_RUNNING,     WR_RUNNING,   LC_STATE_KEEP, 0, wr_execute_effect },
    { NULL }
};

/* Nothing finishes by itself: a runner reports completed / failed. */
static const lc_advance_t wr_advances[] = {
    { LC_STATE_KEEP }
};

static const char *wr_type(json_t *data)
{
    const char *t = json_string_value(json_object_get(data, K_TYPE));

    return t ? t : "api";
}

/* A new run: a new process, so a "cannot stop" report about the old one no
 * longer holds; CSV / XLSX wrappers start from scratch, API wrappers resume
 * from their checkpoint (kept as it is). */
static void wr_execute_effect(lc_resource_t *r, apr_time_t now)
{
    json_t *data = lc_kind_get_data(r);

    (void)now;
    json_object_del(data, K_FAIL);
    if (strcmp(wr_type(data), "api") != 0) {
        json_object_del(data, K_HWM);
        json_object_del(data, K_LWM);
    }
    lc_kind_set_data(r, data);    /* it only shrank: it fits */
    json_decref(data);
}

static json_t *wr_mark(json_t *data, const char *key)
{
    json_t *v = json_object_get(data, key);

    return v ? json_incref(v) : json_null();
}

static json_t *wr_to_json(const lc_resource_t *r)
{
    json_t *data = lc_kind_get_data(r);
    json_t *o = json_pack("{s:s, s:s, s:s, s:{s:o, s:o}}", "wrapper_id", r->id,
                          "type", wr_type(data),
                          "status", wr_states[r->state < WR_NSTATES ? r->state : WR_FAILED],
                          "checkpoint", "high_water_mark", wr_mark(data, K_HWM),
                          "low_water_mark", wr_mark(data, K_LWM));

    json_decref(data);
    return o;
}

/* checkpoint: null, or {high_water_mark, low_water_mark}, each a string or null. */
static apr_status_t wr_checkpoint(json_t *c, json_t *data, const char **field)
{
    static const char *const names[] = { "high_water_mark", "low_water_mark" };
    static const char *const fields[] = { "checkpoint.high_water_mark",
                                          "checkpoint.low_water_mark" };
    static const char *const keys[] = { K_HWM, K_LWM };
    const char *k;
    json_t *v;
    int i;

    if (!c || json_is_null(c)) {
        return APR_SUCCESS;
    }
    *field = "checkpoint";
    if (!json_is_object(c)) {
        return APR_EINVAL;
    }
    json_object_foreach(c, k, v) {
        if (strcmp(k, names[0]) && strcmp(k, names[1])) {
            return APR_EINVAL;
        }
    }
    for (i = 0; i < 2; i++) {
        v = json_object_get(c, names[i]);
        if (!v || json_is_null(v)) {
            continue;
        }
        *field = fields[i];
        if (!json_is_string(v) || lc_utf8_chars(json_string_value(v)) > WR_MARK_MAX) {
            return APR_EINVAL;
        }
        json_object_set(data, keys[i], v);
    }
    return APR_SUCCESS;
}

static const char *const wr_fields[] = {
    "wrapper_id", "type", "status", "checkpoint", "stop_fails", NULL
};

/* The admin PUT body: the wrapper object, plus the runner's "stop_fails". */
static apr_status_t wr_from_json(json_t *body, lc_resource_t *r, const char **field,
                                 apr_pool_t *p)
{
    json_t *id = json_object_get(body, "wrapper_id");
    json_t *type = json_object_get(body, "type");
    json_t *status = json_object_get(body, "status");
    json_t *fails = json_object_get(body, "stop_fails");
    const char *t;
    json_t *data;
    int state;
    apr_status_t rv;

    (void)p;
    if ((*field = lc_kind_unknown_field(body, wr_fields)) != NULL) {
        return APR_EINVAL;
    }
    if (id && (!json_is_string(id) || strcmp(json_string_value(id), r->id) != 0)) {
        *field = "wrapper_id";
        return APR_EINVAL;
    }
    t = json_string_value(type);
    if (!t || (strcmp(t, "api") && strcmp(t, "csv") && strcmp(t, "xlsx"))) {
        *field = "type";
        return APR_EINVAL;
    }
    if ((state = lc_kind_state(&lc_wrapper_kind, json_string_value(status))) < 0) {
        *field = "status";
        return APR_EINVAL;
    }
    if (fails && !json_is_boolean(fails)) {
        *field = "stop_fails";
        return APR_EINVAL;
    }
    data = json_pack("{s:s}", K_TYPE, t);
    if ((rv = wr_checkpoint(json_object_get(body, "checkpoint"), data, field)) == APR_SUCCESS) {
        if (json_is_true(fails)) {
            json_object_set_new(data, K_FAIL, json_true());
        }
        if ((rv = lc_kind_set_data(r, data)) != APR_SUCCESS) {
            *field = "checkpoint";
        }
    }
    json_decref(data);
    r->state = (uint8_t)state;
    return rv;
}

const lc_kind_def_t lc_wrapper_kind = {
    .kind             = LC_KIND_WRAPPER,
    .name             = "wrapper",
    .states           = wr_states,
    .nstates          = WR_NSTATES,
    .rules            = wr_rules,
    .advances         = wr_advances,
    .to_json          = wr_to_json,
    .from_json        = wr_from_json,
};
