/* lc_kind_workstation.c — the workstation kind: its states, rules
 * and representation.  Pure: the dialect's HTTP side is lc_dialect_workstation.c.
 *
 *   stop     running -> stopped
 *   launch   stopped | error -> provisioning (-> running, by auto-advance or a runner)
 */
#include <string.h>
#include <apr_strings.h>

#include "lc_kind_workstation.h"

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
    .kind             = LC_KIND_WORKSTATION,
    .name             = "workstation",
    .states           = ws_states,
    .nstates          = WS_NSTATES,
    .rules            = ws_rules,
    .advances         = ws_advances,
    .to_json          = ws_to_json,
    .from_json        = ws_from_json,
};
