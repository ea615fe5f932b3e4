/* lc_dialect_notte.c — the Notte agents API (seed 001, SPEC §4.3), at /agents.
 *
 *   POST   /start                       a new agent, active -> AgentResponse
 *   GET    /{agent_id}                  AgentStatusResponse
 *   DELETE /{agent_id}/stop?session_id= active -> closed -> AgentStatusResponse
 *
 * Notte is a FastAPI application: errors are {"detail": "..."}, and request
 * validation errors are FastAPI's 422 lists, reproduced here field by field
 * (pydantic v2 types and messages, FastAPI's json_invalid for broken JSON,
 * Python's json error messages and character positions).  Like FastAPI, the
 * query string is lenient: unknown parameters are ignored, and of a repeated
 * session_id the last one counts.
 */
#include <string.h>
#include <httpd.h>
#include <http_log.h>
#include <http_protocol.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "lc_dialect.h"
#include "lc_engine.h"
#include "lc_http.h"
#include "lc_audit.h"
#include "lc_util.h"

APLOG_USE_MODULE(lifecycle);

/* ---- the kind: states, rules, representation ---------------------------- */

enum { AG_ACTIVE, AG_CLOSED, AG_NSTATES };

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

extern const lc_kind_def_t lc_agent_kind;

/* Attribute keys in r->data, short because all of it has 239 bytes. */
#define K_SESSION "s"
#define K_TASK    "t"
#define K_URL     "u"
#define K_SUCCESS "ok"     /* the runner's outcome; absent: none reported */
#define K_ANSWER  "a"
#define K_SAVED   "sv"

/* Bounds of our own (the original API documents none), in characters as
 * pydantic counts them, chosen so that plain ASCII at the maximum of all
 * three still fits the record: 48 + 100 + 64 + 22 bytes of keys <= 239. */
#define AG_SESSION_MAX 48
#define AG_TASK_MAX    100
#define AG_URL_MAX     64
#define AG_STEPS_MIN   1
#define AG_STEPS_MAX   50

static json_t *ag_str_or_null(json_t *data, const char *key)
{
    json_t *v = json_object_get(data, key);

    return json_is_string(v) ? json_incref(v) : json_null();
}

static const char *ag_str(json_t *data, const char *key)
{
    const char *s = json_string_value(json_object_get(data, key));

    return s ? s : "";
}

/* RFC 3339 UTC with microseconds, as pydantic writes an aware datetime. */
static json_t *ag_time(apr_time_t t)
{
    char buf[40];
    apr_time_exp_t x;

    apr_time_exp_gmt(&x, t);
    apr_snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
                 x.tm_year + 1900, x.tm_mon + 1, x.tm_mday, x.tm_hour, x.tm_min,
                 x.tm_sec, x.tm_usec);
    return json_string(buf);
}

/* A closed agent without a recorded closing time (closed by a runner's
 * report) closed when it entered that state. */
static json_t *ag_closed_at(const lc_resource_t *r)
{
    if (r->state != AG_CLOSED) {
        return json_null();
    }
    return ag_time(r->closed ? r->closed : r->state_since);
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

/* AgentResponse (POST /start) or AgentStatusResponse (everything else),
 * fields in the schema's order. */
static json_t *ag_json(const lc_resource_t *r, int full)
{
    json_t *data = lc_kind_get_data(r), *o;

    o = json_pack("{s:s, s:o, s:s, s:s, s:o, s:b}", "agent_id", r->id,
                  "created_at", ag_time(r->created),
                  "session_id", ag_str(data, K_SESSION),
                  "status", ag_states[r->state < AG_NSTATES ? r->state : AG_CLOSED],
                  "closed_at", ag_closed_at(r),
                  "saved", json_is_true(json_object_get(data, K_SAVED)));
    if (full) {
        json_object_set_new(o, "task", json_string(ag_str(data, K_TASK)));
        json_object_set_new(o, "url", ag_str_or_null(data, K_URL));
        json_object_set_new(o, "success", ag_success(r, data));
        json_object_set_new(o, "answer", ag_str_or_null(data, K_ANSWER));
        json_object_set_new(o, "steps", json_array());
    }
    json_decref(data);
    return o;
}

static json_t *ag_to_json(const lc_resource_t *r)
{
    return ag_json(r, 1);
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
    if (steps && !json_is_array(steps)) return "steps";
    if (!json_is_true(json_object_get(data, K_SAVED))) {
        json_object_del(data, K_SAVED);
    }
    return NULL;
}

/* The admin PUT body: an AgentStatusResponse.  "steps" is accepted and not
 * kept (the record has no room for it): an agent always shows []. */
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
        else if ((rv = lc_kind_set_data(r, data)) != APR_SUCCESS) {
            *field = json_object_get(data, K_ANSWER) ? "answer" : "task";
        }
        r->state = (uint8_t)(state < 0 ? 0 : state);
    }
    json_decref(data);
    return rv;
}

const lc_kind_def_t lc_agent_kind = {
    LC_KIND_AGENT, "agent", ag_states, AG_NSTATES,
    ag_rules, ag_advances, ag_to_json, ag_from_json
};
/* ---- Python's json errors, for FastAPI's json_invalid ------------------------
 *
 * FastAPI answers a body json.loads() refuses with
 *   {"type":"json_invalid","loc":["body",<e.pos>],"msg":"JSON decode error",
 *    "input":{},"ctx":{"error":<e.msg>}}
 * so this scanner follows CPython's decoder (3.12 and before): the same
 * grammar (NaN and Infinity included), the same messages, the same position
 * (in characters).  It only finds the first error; jansson then parses. */

typedef struct pj {
    const char *s;
    size_t      n, i;
    const char *msg;      /* first error */
    size_t      pos;      /* its byte offset */
    int         deep;     /* nested more than LC_JSON_DEPTH_MAX */
} pj_t;

static int pj_fail(pj_t *p, const char *msg, size_t pos)
{
    p->msg = msg;
    p->pos = pos;
    return -1;
}

static void pj_ws(pj_t *p)
{
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t'
                           || p->s[p->i] == '\n' || p->s[p->i] == '\r')) {
        p->i++;
    }
}

static int pj_at(pj_t *p, const char *lit)
{
    size_t len = strlen(lit);

    if (p->n - p->i >= len && memcmp(p->s + p->i, lit, len) == 0) {
        p->i += len;
        return 1;
    }
    return 0;
}

static int pj_string(pj_t *p)
{
    size_t start = p->i++, k;

    while (p->i < p->n) {
        unsigned char c = (unsigned char)p->s[p->i];
        if (c == '"') {
            p->i++;
            return 0;
        }
        if (c < 0x20) {
            return pj_fail(p, "Invalid control character at", p->i);
        }
        if (c != '\\') {
            p->i++;
            continue;
        }
        if (p->i + 1 >= p->n) {
            break;
        }
        c = (unsigned char)p->s[p->i + 1];
        if (c == 'u') {
            for (k = 2; k < 6; k++) {
                if (p->i + k >= p->n || !apr_isxdigit(p->s[p->i + k])) {
                    return pj_fail(p, "Invalid \\uXXXX escape", p->i);
                }
            }
            p->i += 6;
        }
        else if (strchr("\"\\/bfnrt", c) && c) {
            p->i += 2;
        }
        else {
            return pj_fail(p, "Invalid \\escape", p->i);
        }
    }
    return pj_fail(p, "Unterminated string starting at", start);
}

/* -?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)? — a partial match stops where it fails. */
static int pj_number(pj_t *p)
{
    size_t i = p->i + (p->s[p->i] == '-');

    if (i >= p->n || !apr_isdigit(p->s[i])) {
        return pj_fail(p, "Expecting value", p->i);
    }
    if (p->s[i] == '0') i++;
    else while (i < p->n && apr_isdigit(p->s[i])) i++;
    if (i + 1 < p->n && p->s[i] == '.' && apr_isdigit(p->s[i + 1])) {
        for (i += 2; i < p->n && apr_isdigit(p->s[i]); i++);
    }
    if (i < p->n && (p->s[i] == 'e' || p->s[i] == 'E')) {
        size_t j = i + 1 + (i + 1 < p->n && (p->s[i + 1] == '+' || p->s[i + 1] == '-'));
        if (j < p->n && apr_isdigit(p->s[j])) {
            for (i = j; i < p->n && apr_isdigit(p->s[i]); i++);
        }
    }
    p->i = i;
    return 0;
}

static int pj_value(pj_t *p, int depth);

/* The members of an object or the items of an array, after its opening. */
static int pj_container(pj_t *p, int depth, char close)
{
    int object = close == '}';

    p->i++;
    pj_ws(p);
    if (p->i < p->n && p->s[p->i] == close) {
        p->i++;
        return 0;
    }
    for (;;) {
        if (object) {
            if (p->i >= p->n || p->s[p->i] != '"') {
                return pj_fail(p, "Expecting property name enclosed in double quotes", p->i);
            }
            if (pj_string(p) < 0) return -1;
            pj_ws(p);
            if (p->i >= p->n || p->s[p->i] != ':') {
                return pj_fail(p, "Expecting ':' delimiter", p->i);
            }
            p->i++;
            pj_ws(p);
        }
        if (pj_value(p, depth + 1) < 0) return -1;
        pj_ws(p);
        if (p->i < p->n && p->s[p->i] == close) {
            p->i++;
            return 0;
        }
        if (p->i >= p->n || p->s[p->i] != ',') {
            return pj_fail(p, "Expecting ',' delimiter", p->i);
        }
        p->i++;
        pj_ws(p);
    }
}

static int pj_value(pj_t *p, int depth)
{
    char c = p->i < p->n ? p->s[p->i] : '\0';

    if ((c == '{' || c == '[') && depth >= LC_JSON_DEPTH_MAX) {
        p->deep = 1;
        return pj_fail(p, "too deep", p->i);
    }
    if (c == '{') return pj_container(p, depth, '}');
    if (c == '[') return pj_container(p, depth, ']');
    if (c == '"') return pj_string(p);
    if (pj_at(p, "null") || pj_at(p, "true") || pj_at(p, "false") || pj_at(p, "NaN")
        || pj_at(p, "Infinity") || pj_at(p, "-Infinity")) {
        return 0;
    }
    return pj_number(p);
}

/* 0, or -1 with p->msg and p->pos as json.loads() would report them. */
static int pj_scan(pj_t *p, const char *s, size_t n)
{
    memset(p, 0, sizeof(*p));
    p->s = s;
    p->n = n;
    pj_ws(p);
    if (pj_value(p, 0) < 0) {
        return -1;
    }
    pj_ws(p);
    return p->i == n ? 0 : pj_fail(p, "Extra data", p->i);
}

/* Python counts positions in characters, not bytes. */
static long char_pos(const char *s, size_t bytes)
{
    long n = 0;
    size_t i;

    for (i = 0; i < bytes; i++) {
        n += ((unsigned char)s[i] & 0xc0) != 0x80;
    }
    return n;
}

/* ---- FastAPI's errors --------------------------------------------------------- */

/* FastAPI: {"detail": "..."}. */
static int ag_error(lc_req_t *q, int status, const char *code, const char *message)
{
    (void)code;
    return lc_http_json(q->r, status, json_pack("{s:s}", "detail", message ? message : ""));
}

static int ag_unprocessable(lc_req_t *q, json_t *errors)
{
    return lc_http_json(q->r, HTTP_UNPROCESSABLE_ENTITY, json_pack("{s:o}", "detail", errors));
}

/* One pydantic error entry; `input` and `ctx` (may be NULL) are consumed.
 * field NULL: the location is just ["body"]. */
static void ag_err(json_t *errors, const char *type, const char *where, const char *field,
                   const char *msg, json_t *input, json_t *ctx)
{
    json_t *loc = field ? json_pack("[s,s]", where, field) : json_pack("[s]", where);
    json_t *e = json_pack("{s:s, s:o, s:s, s:o}", "type", type, "loc", loc, "msg", msg,
                          "input", input);

    if (ctx) {
        json_object_set_new(e, "ctx", ctx);
    }
    json_array_append_new(errors, e);
}

/* A str field (nullable when optional), its length in characters within
 * [min, max].  `whole` is what pydantic reports as the input of a missing
 * field (the body object; null for a query parameter). */
typedef struct ag_field {
    const char *where, *name;
    int         required;
    long        min, max;
} ag_field_t;

static const char *ag_check_str(json_t *errors, const ag_field_t *f, json_t *v, json_t *whole,
                                apr_pool_t *p)
{
    long n;

    if (!v) {
        if (f->required) {
            ag_err(errors, "missing", f->where, f->name, "Field required",
                   whole ? json_incref(whole) : json_null(), NULL);
        }
        return NULL;
    }
    if (json_is_null(v) && !f->required) {
        return NULL;
    }
    if (!json_is_string(v)) {
        ag_err(errors, "string_type", f->where, f->name, "Input should be a valid string",
               json_incref(v), NULL);
        return NULL;
    }
    n = (long)lc_utf8_chars(json_string_value(v));
    if (n < f->min) {
        ag_err(errors, "string_too_short", f->where, f->name,
               apr_psprintf(p, "String should have at least %ld character%s", f->min,
                            f->min == 1 ? "" : "s"),
               json_incref(v), json_pack("{s:I}", "min_length", (json_int_t)f->min));
        return NULL;
    }
    if (n > f->max) {
        ag_err(errors, "string_too_long", f->where, f->name,
               apr_psprintf(p, "String should have at most %ld character%s", f->max,
                            f->max == 1 ? "" : "s"),
               json_incref(v), json_pack("{s:I}", "max_length", (json_int_t)f->max));
        return NULL;
    }
    return json_string_value(v);
}

/* pydantic's lax str -> int: surrounding whitespace, a sign, digits, and
 * decimal zeros ("5.0") allowed. */
static int ag_str_int(const char *s, long *out)
{
    char buf[32], *end;
    size_t n;
    long v;

    while (apr_isspace(*s)) s++;
    n = strlen(s);
    while (n && apr_isspace(s[n - 1])) n--;
    if (n == 0 || n >= sizeof(buf)) {
        return -1;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    if ((end = strchr(buf, '.')) != NULL) {
        char *z = end + 1;
        while (*z == '0') z++;
        if (*z) {
            return -1;
        }
        *end = '\0';
    }
    end = NULL;
    v = strtol(buf, &end, 10);
    if (!apr_isdigit(buf[buf[0] == '-' || buf[0] == '+']) || *end) {
        return -1;
    }
    *out = v;
    return 0;
}

/* max_steps: an int from 1 to 50, as pydantic's lax mode reads JSON values. */
static void ag_check_steps(json_t *errors, json_t *v)
{
    long n;

    if (!v) {
        return;
    }
    if (json_is_integer(v)) n = (long)json_integer_value(v);
    else if (json_is_boolean(v)) n = json_is_true(v);
    else if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d > 1e9 || d < -1e9) {
            d = d > 0 ? 1e9 : -1e9;     /* out of range either way; no overflow */
        }
        else if (d != (double)(long)d) {
            ag_err(errors, "int_from_float", "body", "max_steps",
                   "Input should be a valid integer, got a number with a fractional part",
                   json_incref(v), NULL);
            return;
        }
        n = (long)d;
    }
    else if (json_is_string(v)) {
        if (ag_str_int(json_string_value(v), &n) != 0) {
            ag_err(errors, "int_parsing", "body", "max_steps",
                   "Input should be a valid integer, unable to parse string as an integer",
                   json_incref(v), NULL);
            return;
        }
    }
    else {
        ag_err(errors, "int_type", "body", "max_steps", "Input should be a valid integer",
               json_incref(v), NULL);
        return;
    }
    if (n < AG_STEPS_MIN) {
        ag_err(errors, "greater_than_equal", "body", "max_steps",
               "Input should be greater than or equal to 1", json_incref(v),
               json_pack("{s:i}", "ge", AG_STEPS_MIN));
    }
    else if (n > AG_STEPS_MAX) {
        ag_err(errors, "less_than_equal", "body", "max_steps",
               "Input should be less than or equal to 50", json_incref(v),
               json_pack("{s:i}", "le", AG_STEPS_MAX));
    }
}

/* ---- POST /start ------------------------------------------------------------- */

#define PARSE_ERROR "There was an error parsing the body"

/* Whether FastAPI would read the body as JSON: no Content-Type, or
 * application/json or application/<anything>+json. */
static int ag_json_content(request_rec *r)
{
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    char *t, *semi;
    size_t n;

    if (!ct || !*ct) {
        return 1;
    }
    t = apr_pstrdup(r->pool, ct);
    if ((semi = strchr(t, ';')) != NULL) {
        *semi = '\0';
    }
    ap_str_tolower(t);
    apr_collapse_spaces(t, t);
    n = strlen(t);
    return strcmp(t, "application/json") == 0
           || (strncmp(t, "application/", 12) == 0 && n > 17 && strcmp(t + n - 5, "+json") == 0);
}

static int ag_not_an_object(lc_req_t *q, json_t *input)
{
    json_t *errors = json_array();

    ag_err(errors, "model_attributes_type", "body", NULL,
           "Input should be a valid dictionary or object to extract fields from", input, NULL);
    return ag_unprocessable(q, errors);
}

/* The body as FastAPI decodes it: LC_PROCEED with *out an object, or the
 * error already sent. */
static int ag_start_body(lc_req_t *q, const char *buf, apr_size_t len, json_t **out)
{
    json_t *errors, *j;
    pj_t pj;

    if (len == 0) {
        errors = json_array();
        ag_err(errors, "missing", "body", NULL, "Field required", json_null(), NULL);
        return ag_unprocessable(q, errors);
    }
    if (!lc_utf8_valid(buf, len) || memchr(buf, '\0', len)) {
        return ag_error(q, HTTP_BAD_REQUEST, "invalid_request", PARSE_ERROR);
    }
    if (!ag_json_content(q->r)) {
        /* FastAPI hands the raw bytes to pydantic, which wants an object. */
        return ag_not_an_object(q, json_stringn(buf, len));
    }
    if (pj_scan(&pj, buf, len) != 0) {
        if (pj.deep) {
            return ag_error(q, HTTP_BAD_REQUEST, "invalid_request", PARSE_ERROR);
        }
        errors = json_array();
        json_array_append_new(errors, json_pack("{s:s, s:[s,I], s:s, s:{}, s:{s:s}}",
            "type", "json_invalid", "loc", "body", (json_int_t)char_pos(buf, pj.pos),
            "msg", "JSON decode error", "input", "ctx", "error", pj.msg));
        return ag_unprocessable(q, errors);
    }
    /* What Python reads and jansson does not (NaN, huge numbers, \u0000). */
    if (!(j = json_loadb(buf, len, JSON_DECODE_ANY, NULL))) {
        return ag_error(q, HTTP_BAD_REQUEST, "invalid_request", PARSE_ERROR);
    }
    if (!json_is_object(j)) {
        return ag_not_an_object(q, j);
    }
    *out = j;
    return LC_PROCEED;
}

/* Validate an AgentStartRequest into the attributes to keep; LC_PROCEED, or
 * the 422 already sent. */
static int ag_start_attrs(lc_req_t *q, json_t *body, lc_resource_t *tmpl)
{
    static const ag_field_t task = { "body", "task", 1, 0, AG_TASK_MAX };
    static const ag_field_t session = { "body", "session_id", 1, 1, AG_SESSION_MAX };
    static const ag_field_t url = { "body", "url", 0, 0, AG_URL_MAX };
    json_t *errors = json_array(), *data;
    const char *t, *s, *u;
    apr_status_t rv;

    t = ag_check_str(errors, &task, json_object_get(body, "task"), body, q->r->pool);
    s = ag_check_str(errors, &session, json_object_get(body, "session_id"), body, q->r->pool);
    u = ag_check_str(errors, &url, json_object_get(body, "url"), body, q->r->pool);
    ag_check_steps(errors, json_object_get(body, "max_steps"));
    if (json_array_size(errors) > 0) {
        return ag_unprocessable(q, errors);
    }
    data = json_pack("{s:s, s:s}", K_SESSION, s, K_TASK, t);
    if (u) {
        json_object_set_new(data, K_URL, json_string(u));
    }
    rv = lc_kind_set_data(tmpl, data);
    json_decref(data);
    if (rv != APR_SUCCESS) {
        /* Within every bound, but escapes or multi-byte characters overflow the record. */
        ag_err(errors, "value_error", "body", NULL, apr_psprintf(q->r->pool,
               "Value error, task, session_id and url take more than %d bytes together",
               LC_DATA_MAX), json_incref(body), json_pack("{s:{}}", "error"));
        return ag_unprocessable(q, errors);
    }
    json_decref(errors);
    return LC_PROCEED;
}

typedef struct start_baton {
    lc_req_t            *q;
    const lc_resource_t *tmpl;
} start_baton_t;

/* Store locked: a new agent, never an existing one. */
static apr_status_t ag_start_cb(lc_resource_t *r, int exists, void *baton)
{
    start_baton_t *b = baton;

    if (exists) {
        return LC_EEXISTS;
    }
    r->state = AG_ACTIVE;
    r->created = r->state_since = b->q->now;
    apr_cpystrn(r->owner, strcmp(b->q->actor.sub, "-") ? b->q->actor.sub : "",
                sizeof(r->owner));
    apr_cpystrn(r->data, b->tmpl->data, sizeof(r->data));
    return APR_SUCCESS;
}

static int ag_start(lc_req_t *q)
{
    start_baton_t b = { q, NULL };
    lc_resource_t tmpl, after;
    json_t *body = NULL;
    char *buf, id[37];
    apr_size_t len;
    apr_status_t rv;
    int rc, tries = 0;

    if ((rc = lc_http_read_body(q->r, &buf, &len)) != OK) {
        return ag_error(q, rc, "invalid_request", "The request body is too large");
    }
    lc_resource_clear(&tmpl);
    if ((rc = ag_start_body(q, buf, len, &body)) != LC_PROCEED
        || (rc = ag_start_attrs(q, body, &tmpl)) != LC_PROCEED) {
        json_decref(body);
        return rc;
    }
    json_decref(body);
    b.tmpl = &tmpl;
    do {                                    /* a UUID collision: draw again */
        lc_uuid4(id);
        rv = lc_store_update(q->store, LC_KIND_AGENT, id, ag_start_cb, &b, &after);
    } while (rv == LC_EEXISTS && ++tries < 3);
    if (rv == LC_EFULL) {
        return ag_error(q, HTTP_INSUFFICIENT_STORAGE, "insufficient_storage",
                        "Insufficient storage: no room for another agent");
    }
    if (rv != APR_SUCCESS) {
        return ag_error(q, HTTP_INTERNAL_SERVER_ERROR, "internal",
                        apr_psprintf(q->r->pool, "Failed to start the agent: store error %d", rv));
    }
    lc_audit_request(q->r, &q->actor, LC_KIND_AGENT, id, "-", ag_states[after.state]);
    lc_http_etag(q->r, after.version);
    return lc_http_json(q->r, HTTP_OK, ag_json(&after, 0));
}

/* ---- GET /{agent_id}, DELETE /{agent_id}/stop --------------------------------- */

static int ag_not_found(lc_req_t *q)
{
    return ag_error(q, HTTP_NOT_FOUND, "not_found", "Agent not found");
}

static int ag_send(lc_req_t *q, const lc_resource_t *r)
{
    lc_http_etag(q->r, r->version);
    return lc_http_json(q->r, HTTP_OK, ag_json(r, 1));
}

/* FastAPI path parameters are plain strings: one outside our id grammar is
 * simply an agent that does not exist. */
static int ag_get(lc_req_t *q, const char *id)
{
    lc_resource_t r;
    apr_status_t rv;

    if (!lc_id_valid(id) || (rv = lc_store_get(q->store, LC_KIND_AGENT, id, &r)) == LC_ENOTFOUND) {
        return ag_not_found(q);
    }
    if (rv != APR_SUCCESS) {
        return ag_error(q, HTTP_INTERNAL_SERVER_ERROR, "internal", "The store failed");
    }
    return ag_send(q, &r);
}

/* Python's unquote_plus: '+' is a space, a %XX that is not one stays as it is. */
static char *ag_unquote(apr_pool_t *p, const char *s, size_t n, size_t *outlen)
{
    char *out = apr_palloc(p, n + 1);
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n
            && apr_isxdigit(s[i + 1]) && apr_isxdigit(s[i + 2])) {
            char hex[3] = { s[i + 1], s[i + 2], '\0' };
            out[o++] = (char)strtol(hex, NULL, 16);
            i += 2;
        }
        else {
            out[o++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

typedef struct ag_session {
    const char *value;     /* may hold NUL bytes: compared with its length */
    size_t      len;
} ag_session_t;

/* The last session_id in the query, as Starlette reads it; -1 when absent. */
static int ag_query_session(request_rec *r, ag_session_t *out)
{
    const char *a = r->args ? r->args : "";
    int found = -1;

    while (*a) {
        size_t n = strcspn(a, "&"), nlen, klen;
        const char *eq = memchr(a, '=', n);
        const char *name = ag_unquote(r->pool, a, eq ? (size_t)(eq - a) : n, &klen);

        if (n && strlen(name) == klen && strcmp(name, "session_id") == 0) {
            out->value = eq ? ag_unquote(r->pool, eq + 1, n - (size_t)(eq + 1 - a), &nlen) : "";
            out->len = eq ? nlen : 0;
            found = 0;
        }
        a += n + (a[n] == '&');
    }
    return found;
}

/* Store locked: the agent must belong to the session the client names. */
static apr_status_t ag_session_guard(const lc_resource_t *r, void *baton)
{
    const ag_session_t *s = baton;
    json_t *data = lc_kind_get_data(r);
    const char *mine = ag_str(data, K_SESSION);
    int same = strlen(mine) == s->len && memcmp(mine, s->value, s->len) == 0;

    json_decref(data);
    return same ? APR_SUCCESS : LC_ENOTFOUND;
}

/* session_id: required, at least one character; LC_PROCEED or the 422 sent. */
static int ag_stop_params(lc_req_t *q, ag_session_t *session)
{
    static const ag_field_t field = { "query", "session_id", 1, 1, 1 << 20 };
    json_t *errors = json_array(), *v = NULL;

    if (ag_query_session(q->r, session) == 0) {
        v = json_stringn_nocheck(session->value, session->len);
    }
    ag_check_str(errors, &field, v, NULL, q->r->pool);
    json_decref(v);
    if (json_array_size(errors) > 0) {
        return ag_unprocessable(q, errors);
    }
    json_decref(errors);
    return LC_PROCEED;
}

static int ag_stop(lc_req_t *q, const char *id)
{
    lc_resource_t before, after;
    lc_precond_t if_match;
    ag_session_t session;
    lc_act_t act;
    apr_status_t rv;
    int rc, big;

    if ((rc = lc_http_refuse_body(q->r, &big)) != 0) {
        return ag_error(q, rc, "invalid_request", big ? "The request body is too large"
                                                      : "This endpoint does not take a request body");
    }
    if ((rc = ag_stop_params(q, &session)) != LC_PROCEED) {
        return rc;
    }
    if (lc_precond_parse(apr_table_get(q->r->headers_in, "If-Match"), &if_match) != 0) {
        return ag_error(q, HTTP_BAD_REQUEST, "invalid_request", "Malformed If-Match header");
    }
    if (!lc_id_valid(id)) {
        return ag_not_found(q);
    }
    lc_dialect_act_init(q, &lc_agent_kind, id, "stop", &if_match, &act);
    act.guard = ag_session_guard;
    act.guard_baton = &session;
    rv = lc_engine_act(q->store, &act, &before, &after);
    switch (rv) {
    case APR_SUCCESS:
        lc_audit_request(q->r, &q->actor, LC_KIND_AGENT, id, ag_states[before.state],
                         ag_states[after.state]);
        /* fall through */
    case LC_NOCHANGE:
        return ag_send(q, &after);
    case LC_ENOTFOUND:          /* unknown, or another session's */
    case LC_EFORBIDDEN:         /* another user's: as good as unknown to this one */
        return ag_not_found(q);
    case LC_EVERSION:
        lc_http_etag(q->r, after.version);
        return ag_error(q, HTTP_PRECONDITION_FAILED, "precondition_failed",
                        "If-Match does not match the current version");
    default:
        return ag_error(q, HTTP_INTERNAL_SERVER_ERROR, "internal",
                        apr_psprintf(q->r->pool, "Failed to stop the agent: store error %d", rv));
    }
}

/* ---- routing ------------------------------------------------------------------ */

static int ag_method_not_allowed(lc_req_t *q, const char *allow)
{
    lc_http_allow(q->r, allow);
    return ag_error(q, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "Method Not Allowed");
}

/* Accepted, never required: logged for the operator (values escaped). */
static void ag_log_client(request_rec *r)
{
    const char *origin = apr_table_get(r->headers_in, "x-notte-request-origin");
    const char *sdk = apr_table_get(r->headers_in, "x-notte-sdk-version");

    if (origin || sdk) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "notte client: request-origin=%s "
                      "sdk-version=%s", origin ? ap_escape_logitem(r->pool, origin) : "-",
                      sdk ? ap_escape_logitem(r->pool, sdk) : "-");
    }
}

static int ag_handle(lc_req_t *q)
{
    int m = q->r->method_number;

    ag_log_client(q->r);
    /* GET /start is GET /{agent_id} with the id "start", as in FastAPI. */
    if (q->nseg == 1 && strcmp(q->seg[0], "start") == 0 && m != M_GET) {
        return m == M_POST ? ag_start(q) : ag_method_not_allowed(q, "GET, HEAD, POST");
    }
    if (q->nseg == 1 && q->seg[0][0]) {
        return m == M_GET ? ag_get(q, q->seg[0]) : ag_method_not_allowed(q, "GET, HEAD");
    }
    if (q->nseg == 2 && q->seg[0][0] && strcmp(q->seg[1], "stop") == 0) {
        return m == M_DELETE ? ag_stop(q, q->seg[0]) : ag_method_not_allowed(q, "DELETE");
    }
    return ag_error(q, HTTP_NOT_FOUND, "not_found", "Not Found");
}

const lc_dialect_t lc_dialect_notte = {
    "notte", LC_KIND_AGENT, &lc_agent_kind, "agents.read", "agents.write", ag_handle,
    ag_error
};
