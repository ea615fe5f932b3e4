/* lc_kind_notte_session.c — the Notte session kind: its states,
 * rules, representation (SessionResponse) and the validation of a
 * SessionStartRequest, which POST /sessions/start (lc_notte_session.c) and
 * the admin PUT share.  Pure.
 *
 *   stop   active -> closed (a session that is over: success, no change)
 *   its own deadline (LC_TIMEOUT_OWN, lc_notte_session_clock): active -> timed_out
 */
#include <string.h>
#include <apr_strings.h>

#include "lc_kind_notte.h"
#include "lc_notte_pydantic.h"
#include "lc_util.h"
#include "lc_time.h"

static const char *const ss_states[SS_NSTATES] = { "active", "closed", "error", "timed_out" };

static const lc_rule_t ss_rules[] = {
    { "stop", LC_BIT(SS_ACTIVE), SS_CLOSED, LC_STATE_KEEP, LC_RULE_CLOSE, NULL },
    /* A session that is over answers its stop as it is (no version, no audit). */
    { "stop", LC_BIT(SS_CLOSED) | LC_BIT(SS_ERROR) | LC_BIT(SS_TIMED_OUT), LC_STATE_KEEP,
      LC_STATE_KEEP, LC_RULE_NOOP, NULL },
    { NULL }
};

static const lc_advance_t ss_advances[] = {
    { LC_STATE_KEEP }
};

/* A timed-out session is over: closed_at is when it timed out. */
static void ss_timed_out(lc_resource_t *r, apr_time_t now)
{
    r->closed = now;
}

/* max_duration_minutes and idle_timeout_minutes: the deadline the request
 * path queues (lc_notte_session_clock); the background task ends it. */
static const lc_timeout_t ss_timeouts[] = {
    { SS_ACTIVE, LC_TIMEOUT_OWN, SS_TIMED_OUT, 0, ss_timed_out },
    { LC_STATE_KEEP }
};

/* Attribute keys in r->data, and the SDK's defaults for what is absent. */
#define K_IDLE      "i"     /* idle_timeout_minutes, default 3 */
#define K_MAX       "m"     /* max_duration_minutes, default 15 */
#define K_HEADLESS  "h"
#define K_CAPTCHAS  "c"
#define K_PROXIES   "p"     /* whether any proxy was asked for */
#define K_BROWSER   "b"
#define K_FILES     "f"
#define K_BOTAUTH   "w"
#define K_VPW       "vw"
#define K_VPH       "vh"
#define K_AGENT     "ua"
#define K_CDP       "cdp"
#define K_ERROR     "e"     /* a runner's error message */
#define K_LAST      "la"    /* the last activity (lc_notte_session_clock), microseconds */

#define SS_IDLE_DEFAULT 3
#define SS_MAX_DEFAULT  15

/* pydantic's ISO 8601 duration, as it serializes a timedelta
 * (lc_time_iso8601_duration). */
static json_t *ss_duration(apr_interval_time_t d)
{
    char out[LC_TIME_TEXT_MAX];

    return json_string(lc_time_iso8601_duration(out, d));
}

static json_t *ss_get(json_t *data, const char *key, json_t *dflt)
{
    json_t *v = json_object_get(data, key);

    if (v) {
        json_decref(dflt);
        return json_incref(v);
    }
    return dflt;
}

static json_t *ss_closed_at(const lc_resource_t *r)
{
    if (r->state == SS_ACTIVE) {
        return json_null();
    }
    return lc_notte_time(r->closed ? r->closed : r->state_since);
}

/* The last activity (lc_notte_timeout.c) or change of state, the later. */
static apr_time_t ss_last_access(const lc_resource_t *r, json_t *data)
{
    json_t *v = json_object_get(data, K_LAST);
    apr_time_t la = json_is_integer(v) ? (apr_time_t)json_integer_value(v) : 0;

    return la > r->state_since ? la : r->state_since;
}

/* SessionResponse, fields in the model's order (timeout_minutes is its
 * computed field, which pydantic serializes too).  Reads are not recorded,
 * so last_accessed_at is the last activity or change of state. */
static json_t *ss_to_json(const lc_resource_t *r)
{
    json_t *data = lc_kind_get_data(r), *o;
    apr_time_t end = r->state == SS_ACTIVE ? apr_time_now()
                     : (r->closed ? r->closed : r->state_since);
    json_t *idle = ss_get(data, K_IDLE, json_integer(SS_IDLE_DEFAULT));

    o = json_pack("{s:s, s:O, s:o, s:o, s:o, s:o, s:o, s:s, s:[], s:o, s:o, s:o, s:o, "
                  "s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:n, s:o, s:[], s:b, s:O}",
        "session_id", r->id,
        "idle_timeout_minutes", idle,
        "max_duration_minutes", ss_get(data, K_MAX, json_integer(SS_MAX_DEFAULT)),
        "created_at", lc_notte_time(r->created),
        "closed_at", ss_closed_at(r),
        "last_accessed_at", lc_notte_time(ss_last_access(r, data)),
        "duration", ss_duration(end - r->created),
        "status", lc_kind_state_name(&lc_session_kind, r->state),
        "steps",
        "error", ss_get(data, K_ERROR, json_null()),
        "proxies", ss_get(data, K_PROXIES, json_false()),
        "browser_type", ss_get(data, K_BROWSER, json_string("chromium")),
        "use_file_storage", ss_get(data, K_FILES, json_true()),
        "network_request_bytes", 0,
        "network_response_bytes", 0,
        "user_agent", ss_get(data, K_AGENT, json_null()),
        "viewport_width", ss_get(data, K_VPW, json_null()),
        "viewport_height", ss_get(data, K_VPH, json_null()),
        "headless", ss_get(data, K_HEADLESS, json_false()),
        "solve_captchas", ss_get(data, K_CAPTCHAS, json_true()),
        "cdp_url", ss_get(data, K_CDP, json_null()),
        "viewer_url",
        "web_bot_auth", ss_get(data, K_BOTAUTH, json_false()),
        "auth_ids",
        "system_hidden", 0,
        "timeout_minutes", idle);
    json_decref(idle);
    json_decref(data);
    return o;
}

/* ---- SessionStartRequest ------------------------------------------------------ */

static const char *const ss_browsers[] = {
    "chromium", "chrome", "firefox", "chrome-nightly", "chrome-turbo", NULL
};
#define SS_BROWSERS "'chromium', 'chrome', 'firefox', 'chrome-nightly' or 'chrome-turbo'"

/* browser_type: BrowserType, a Literal (pydantic's literal_error). */
static void ss_browser(json_t *errors, json_t *v, json_t *data)
{
    int i;

    if (!v) {
        return;
    }
    for (i = 0; json_is_string(v) && ss_browsers[i]; i++) {
        if (strcmp(json_string_value(v), ss_browsers[i]) == 0) {
            json_object_set(data, K_BROWSER, v);
            return;
        }
    }
    lc_notte_err(errors, "literal_error", "body", "browser_type",
                 "Input should be " SS_BROWSERS, json_incref(v),
                 json_pack("{s:s}", "expected", SS_BROWSERS));
}

static void ss_bool(json_t *errors, json_t *body, const char *name, json_t *data,
                    const char *key, int dflt)
{
    int b = dflt;

    lc_notte_check_bool(errors, name, json_object_get(body, name), &b);
    json_object_set_new(data, key, json_boolean(b));
}

/* An optional int kept under key; returns it, dflt when absent (kept too
 * unless < 0), -1 when null or refused (the error is then in the list). */
static long ss_int(json_t *errors, json_t *body, const lc_notte_int_t *f, json_t *data,
                   const char *key, long dflt)
{
    json_t *v = json_object_get(body, f->name);
    long n = dflt;

    if (v && !lc_notte_check_int(errors, f, v, &n)) {
        return -1;
    }
    if (n >= 0) {
        json_object_set_new(data, key, json_integer(n));
    }
    return n;
}

static void ss_str(json_t *errors, json_t *body, const char *name, json_t *data,
                   const char *key, apr_pool_t *p)
{
    const lc_notte_field_t f = { "body", name, 0, 0, 1L << 30 };
    const char *s = lc_notte_check_str(errors, &f, json_object_get(body, name), body, p);

    if (s) {
        json_object_set_new(data, key, json_string(s));
    }
}

/* pydantic's validation_alias=AliasChoices("idle_timeout_minutes",
 * "timeout_minutes"): the first name present is read. */
static const char *ss_idle_name(json_t *body)
{
    return json_object_get(body, "idle_timeout_minutes") || !json_object_get(body, "timeout_minutes")
           ? "idle_timeout_minutes" : "timeout_minutes";
}

/* The model's after-validators this server keeps to (types.py,
 * SessionStartRequest.check_viewport and .validate_timeout_relationship);
 * they run only when every field passed, and the first failure is the one. */
static void ss_model_checks(json_t *errors, json_t *body, json_t *data, long idle, long max,
                            apr_pool_t *p)
{
    const char *msg = NULL;

    if (!json_object_get(data, K_VPW) != !json_object_get(data, K_VPH)) {
        msg = "Value error, Both viewport_width and viewport_height must be set together "
              "or both must be None";
    }
    else if (idle > max) {
        msg = apr_psprintf(p, "Value error, idle_timeout_minutes (%ld) cannot exceed "
                           "max_duration_minutes (%ld)", idle, max);
    }
    if (msg) {
        lc_notte_err(errors, "value_error", "body", NULL, msg, json_incref(body),
                     json_pack("{s:{}}", "error"));
    }
}

json_t *lc_notte_session_attrs(json_t *errors, json_t *body, apr_pool_t *p)
{
    const lc_notte_int_t idle_f = { ss_idle_name(body), 0, SS_MAX_DEFAULT * 2, 1, 0 };
    static const lc_notte_int_t max_f = { "max_duration_minutes", 0, 24 * 60, 1, 0 };
    static const lc_notte_int_t vpw_f = { "viewport_width", -(1L << 30), 1L << 30, 0, 1 };
    static const lc_notte_int_t vph_f = { "viewport_height", -(1L << 30), 1L << 30, 0, 1 };
    json_t *data = json_object(), *proxies = json_object_get(body, "proxies");
    long idle, max;

    ss_bool(errors, body, "headless", data, K_HEADLESS, 0);
    ss_bool(errors, body, "solve_captchas", data, K_CAPTCHAS, 1);
    max = ss_int(errors, body, &max_f, data, K_MAX, SS_MAX_DEFAULT);
    idle = ss_int(errors, body, &idle_f, data, K_IDLE, SS_IDLE_DEFAULT);
    /* True, a country code or a non-empty list: some proxy is used. */
    json_object_set_new(data, K_PROXIES, json_boolean(json_is_true(proxies)
                        || json_is_string(proxies) || json_array_size(proxies) > 0));
    ss_browser(errors, json_object_get(body, "browser_type"), data);
    ss_str(errors, body, "user_agent", data, K_AGENT, p);
    ss_int(errors, body, &vpw_f, data, K_VPW, -1);
    ss_int(errors, body, &vph_f, data, K_VPH, -1);
    ss_str(errors, body, "cdp_url", data, K_CDP, p);
    ss_bool(errors, body, "use_file_storage", data, K_FILES, 1);
    ss_bool(errors, body, "web_bot_auth", data, K_BOTAUTH, 0);
    if (json_array_size(errors) == 0) {
        ss_model_checks(errors, body, data, idle, max, p);
    }
    return data;
}

/* ---- its deadline ------------------------------------------------------------- */

static long ss_minutes(json_t *data, const char *key, long dflt)
{
    json_t *v = json_object_get(data, key);

    return json_is_integer(v) && json_integer_value(v) > 0 ? (long)json_integer_value(v) : dflt;
}

int lc_notte_session_clock(lc_resource_t *r, apr_time_t now, apr_interval_time_t minute,
                           int busy)
{
    json_t *data;
    apr_time_t end, idle_end;

    if (r->state != SS_ACTIVE) {
        return 0;
    }
    data = lc_kind_get_data(r);
    end = r->created + ss_minutes(data, K_MAX, SS_MAX_DEFAULT) * minute;
    idle_end = now + ss_minutes(data, K_IDLE, SS_IDLE_DEFAULT) * minute;
    if (!busy && idle_end < end) {
        end = idle_end;
    }
    if (r->due == end && r->due_class == LC_DUE_TIMEOUT && ss_last_access(r, data) >= now) {
        json_decref(data);
        return 0;
    }
    /* last_accessed_at moves with it (a session started now needs no key). */
    if (now > r->created) {
        json_object_set_new(data, K_LAST, json_integer((json_int_t)now));
        if (lc_kind_set_data(r, data) != APR_SUCCESS) {
            json_object_del(data, K_LAST);      /* a full record keeps its deadline still */
        }
    }
    json_decref(data);
    r->due = end;
    r->due_class = LC_DUE_TIMEOUT;
    return 1;
}

/* ---- admin PUT: a SessionResponse ---------------------------------------------- */

static const char *const ss_fields[] = {
    "session_id", "idle_timeout_minutes", "timeout_minutes", "max_duration_minutes",
    "created_at", "closed_at", "last_accessed_at", "duration", "status", "steps", "error",
    "proxies", "browser_type", "use_file_storage", "network_request_bytes",
    "network_response_bytes", "user_agent", "viewport_width", "viewport_height", "headless",
    "solve_captchas", "cdp_url", "viewer_url", "web_bot_auth", "auth_ids", "system_hidden",
    NULL
};

/* The first field a list of pydantic errors names, for the admin API. */
static const char *ss_culprit(json_t *errors, apr_pool_t *p)
{
    json_t *loc = json_object_get(json_array_get(errors, 0), "loc");
    const char *f = json_string_value(json_array_get(loc, 1));

    return apr_pstrdup(p, f ? f : "body");
}

/* What a runner may set beyond the request's fields: status, error, closed_at. */
static const char *ss_fill_runner(json_t *body, lc_resource_t *r, json_t *data, int *state)
{
    json_t *id = json_object_get(body, "session_id"), *err = json_object_get(body, "error");
    json_t *closed = json_object_get(body, "closed_at");

    if (id && (!json_is_string(id) || strcmp(json_string_value(id), r->id) != 0)) {
        return "session_id";
    }
    if ((*state = lc_kind_state(&lc_session_kind,
                                json_string_value(json_object_get(body, "status")))) < 0) {
        return "status";
    }
    if (err && !json_is_null(err) && !json_is_string(err)) {
        return "error";
    }
    if (json_is_string(err)) {
        json_object_set(data, K_ERROR, err);
    }
    if (closed && !json_is_null(closed)
        && (!json_is_string(closed)
            || lc_time_parse_rfc3339(json_string_value(closed), &r->closed) != 0)) {
        return "closed_at";
    }
    return NULL;
}

static apr_status_t ss_from_json(json_t *body, lc_resource_t *r, const char **field,
                                 apr_pool_t *p)
{
    json_t *errors = json_array(), *data;
    apr_status_t rv = APR_EINVAL;
    int state = 0;

    *field = lc_kind_unknown_field(body, ss_fields);
    data = lc_notte_session_attrs(errors, body, p);
    if (!*field && json_array_size(errors) > 0) {
        *field = ss_culprit(errors, p);
    }
    if (!*field && !(*field = ss_fill_runner(body, r, data, &state))) {
        if ((rv = lc_kind_set_data(r, data)) != APR_SUCCESS) {
            *field = json_object_get(data, K_ERROR) ? "error" : "user_agent";
        }
        r->state = (uint8_t)state;
    }
    json_decref(errors);
    json_decref(data);
    return rv;
}

const lc_kind_def_t lc_session_kind = {
    .kind             = LC_KIND_SESSION,
    .name             = "session",
    .states           = ss_states,
    .nstates          = SS_NSTATES,
    .rules            = ss_rules,
    .advances         = ss_advances,
    .to_json          = ss_to_json,
    .from_json        = ss_from_json,
    .timeouts         = ss_timeouts,
};
