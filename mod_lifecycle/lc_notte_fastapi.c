/* lc_notte_fastapi.c — FastAPI's and pydantic's side of the Notte dialect.
 *
 * Notte is a FastAPI application: errors are {"detail": "..."}, and request
 * validation errors are FastAPI's 422 lists, reproduced here field by field
 * (pydantic v2 types and messages, FastAPI's json_invalid for broken JSON
 * with Python's json error messages and character positions, which
 * lc_json_pyerr.c finds).  Both collections, /agents and /sessions,
 * validate their bodies with these.
 */
#include <string.h>
#include <httpd.h>
#include <http_log.h>
#include <http_protocol.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "lc_notte.h"
#include "lc_http.h"
#include "lc_json_pyerr.h"
#include "lc_util.h"

APLOG_USE_MODULE(lifecycle);

/* ---- FastAPI's errors --------------------------------------------------------- */

/* FastAPI: {"detail": "..."}. */
int lc_notte_error(lc_req_t *q, int status, const char *code, const char *message)
{
    (void)code;
    return lc_http_json(q->r, status, json_pack("{s:s}", "detail", message ? message : ""));
}

int lc_notte_unprocessable(lc_req_t *q, json_t *errors)
{
    return lc_http_json(q->r, HTTP_UNPROCESSABLE_ENTITY, json_pack("{s:o}", "detail", errors));
}

/* One pydantic error entry; `input` and `ctx` (may be NULL) are consumed.
 * field NULL: the location is just ["body"]. */
void lc_notte_err(json_t *errors, const char *type, const char *where, const char *field,
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

const char *lc_notte_check_str(json_t *errors, const lc_notte_field_t *f, json_t *v,
                               json_t *whole, apr_pool_t *p)
{
    long n;

    if (!v) {
        if (f->required) {
            lc_notte_err(errors, "missing", f->where, f->name, "Field required",
                         whole ? json_incref(whole) : json_null(), NULL);
        }
        return NULL;
    }
    if (json_is_null(v) && !f->required) {
        return NULL;
    }
    if (!json_is_string(v)) {
        lc_notte_err(errors, "string_type", f->where, f->name, "Input should be a valid string",
               json_incref(v), NULL);
        return NULL;
    }
    n = (long)lc_utf8_chars(json_string_value(v));
    if (n < f->min) {
        lc_notte_err(errors, "string_too_short", f->where, f->name,
               apr_psprintf(p, "String should have at least %ld character%s", f->min,
                            f->min == 1 ? "" : "s"),
               json_incref(v), json_pack("{s:I}", "min_length", (json_int_t)f->min));
        return NULL;
    }
    if (n > f->max) {
        lc_notte_err(errors, "string_too_long", f->where, f->name,
               apr_psprintf(p, "String should have at most %ld character%s", f->max,
                            f->max == 1 ? "" : "s"),
               json_incref(v), json_pack("{s:I}", "max_length", (json_int_t)f->max));
        return NULL;
    }
    return json_string_value(v);
}

/* pydantic's lax str -> int: surrounding whitespace, a sign, digits, and
 * decimal zeros ("5.0") allowed. */
static int str_int(const char *s, long *out)
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

/* ---- the body ---------------------------------------------------------------- */

#define PARSE_ERROR "There was an error parsing the body"

/* Whether FastAPI would read the body as JSON: no Content-Type, or
 * application/json or application/<anything>+json. */
static int json_content(request_rec *r)
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

static int not_an_object(lc_req_t *q, json_t *input)
{
    json_t *errors = json_array();

    lc_notte_err(errors, "model_attributes_type", "body", NULL,
           "Input should be a valid dictionary or object to extract fields from", input, NULL);
    return lc_notte_unprocessable(q, errors);
}

static int decode_object(lc_req_t *q, const char *buf, apr_size_t len, json_t **out)
{
    json_t *errors, *j;
    lc_json_pyerr_t pe;

    if (len == 0) {
        errors = json_array();
        lc_notte_err(errors, "missing", "body", NULL, "Field required", json_null(), NULL);
        return lc_notte_unprocessable(q, errors);
    }
    if (!lc_utf8_valid(buf, len) || memchr(buf, '\0', len)) {
        return lc_notte_error(q, HTTP_BAD_REQUEST, "invalid_request", PARSE_ERROR);
    }
    if (!json_content(q->r)) {
        /* FastAPI hands the raw bytes to pydantic, which wants an object. */
        return not_an_object(q, json_stringn(buf, len));
    }
    if (lc_json_pyerr_scan(buf, len, &pe) != 0) {
        if (pe.deep) {
            return lc_notte_error(q, HTTP_BAD_REQUEST, "invalid_request", PARSE_ERROR);
        }
        errors = json_array();
        json_array_append_new(errors, json_pack("{s:s, s:[s,I], s:s, s:{}, s:{s:s}}",
            "type", "json_invalid", "loc", "body", (json_int_t)pe.pos,
            "msg", "JSON decode error", "input", "ctx", "error", pe.msg));
        return lc_notte_unprocessable(q, errors);
    }
    /* Any value, the last of duplicate names, as json.loads() reads them.
     * What Python reads and jansson does not (NaN, huge numbers, \u0000). */
    j = lc_json_parse(q->r->pool, buf, len, LC_JSON_ANY_VALUE | LC_JSON_LAST_WINS, NULL);
    if (!j) {
        return lc_notte_error(q, HTTP_BAD_REQUEST, "invalid_request", PARSE_ERROR);
    }
    if (!json_is_object(j)) {
        return not_an_object(q, json_incref(j));
    }
    *out = j;
    return LC_PROCEED;
}

int lc_notte_read_object(lc_req_t *q, json_t **out)
{
    apr_size_t len;
    char *buf;
    int rc;

    *out = NULL;
    if ((rc = lc_http_read_body(q->r, &buf, &len)) != OK) {
        return lc_notte_error(q, rc, "invalid_request", "The request body is too large");
    }
    return decode_object(q, buf, len, out);
}

/* ---- int and bool, as pydantic's lax mode reads JSON values ------------------- */

/* The bound a value broke, in pydantic's words; 1 if it broke one. */
static int int_bounds(json_t *errors, const lc_notte_int_t *f, json_t *v, long n)
{
    char msg[80];

    if (f->gt ? n <= f->min : n < f->min) {
        apr_snprintf(msg, sizeof(msg), "Input should be greater than %s%ld",
                     f->gt ? "" : "or equal to ", f->min);
        lc_notte_err(errors, f->gt ? "greater_than" : "greater_than_equal", "body", f->name,
                     msg, json_incref(v), json_pack("{s:I}", f->gt ? "gt" : "ge",
                                                    (json_int_t)f->min));
        return 1;
    }
    if (n > f->max) {
        apr_snprintf(msg, sizeof(msg), "Input should be less than or equal to %ld", f->max);
        lc_notte_err(errors, "less_than_equal", "body", f->name, msg, json_incref(v),
                     json_pack("{s:I}", "le", (json_int_t)f->max));
        return 1;
    }
    return 0;
}

/* v as a whole number (0), or -1 with the type error appended. */
static int int_value(json_t *errors, const char *name, json_t *v, long *n)
{
    if (json_is_integer(v)) *n = (long)json_integer_value(v);
    else if (json_is_boolean(v)) *n = json_is_true(v);
    else if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d > 1e9 || d < -1e9) {
            d = d > 0 ? 1e9 : -1e9;     /* out of range either way; no overflow */
        }
        else if (d != (double)(long)d) {
            lc_notte_err(errors, "int_from_float", "body", name,
                         "Input should be a valid integer, got a number with a fractional part",
                         json_incref(v), NULL);
            return -1;
        }
        *n = (long)d;
    }
    else if (json_is_string(v)) {
        if (str_int(json_string_value(v), n) != 0) {
            lc_notte_err(errors, "int_parsing", "body", name,
                         "Input should be a valid integer, unable to parse string as an integer",
                         json_incref(v), NULL);
            return -1;
        }
    }
    else {
        lc_notte_err(errors, "int_type", "body", name, "Input should be a valid integer",
                     json_incref(v), NULL);
        return -1;
    }
    return 0;
}

int lc_notte_check_int(json_t *errors, const lc_notte_int_t *f, json_t *v, long *out)
{
    long n;

    if (!v || (json_is_null(v) && f->nullable)) {
        return 0;
    }
    if (int_value(errors, f->name, v, &n) != 0 || int_bounds(errors, f, v, n)) {
        return 0;
    }
    *out = n;
    return 1;
}

/* pydantic's str -> bool words (compared lowercase, after stripping). */
static int str_bool(const char *s, int *out)
{
    static const char *const yes[] = { "1", "on", "t", "true", "y", "yes", NULL };
    static const char *const no[] = { "0", "off", "f", "false", "n", "no", NULL };
    char buf[8];
    size_t n;
    int i;

    while (apr_isspace(*s)) s++;
    n = strlen(s);
    while (n && apr_isspace(s[n - 1])) n--;
    if (n == 0 || n >= sizeof(buf)) {
        return -1;
    }
    for (i = 0; i < (int)n; i++) {
        buf[i] = (char)apr_tolower(s[i]);
    }
    buf[n] = '\0';
    for (i = 0; yes[i]; i++) {
        if (strcmp(buf, yes[i]) == 0) return *out = 1, 0;
    }
    for (i = 0; no[i]; i++) {
        if (strcmp(buf, no[i]) == 0) return *out = 0, 0;
    }
    return -1;
}

int lc_notte_check_bool(json_t *errors, const char *name, json_t *v, int *out)
{
    if (!v) {
        return 0;
    }
    if (json_is_boolean(v)) {
        *out = json_is_true(v);
        return 1;
    }
    if ((json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1))
        || (json_is_real(v) && (json_real_value(v) == 0.0 || json_real_value(v) == 1.0))) {
        *out = json_is_integer(v) ? json_integer_value(v) == 1 : json_real_value(v) == 1.0;
        return 1;
    }
    if (json_is_string(v) && str_bool(json_string_value(v), out) == 0) {
        return 1;
    }
    if (json_is_string(v) || json_is_number(v)) {
        lc_notte_err(errors, "bool_parsing", "body", name,
                     "Input should be a valid boolean, unable to interpret input",
                     json_incref(v), NULL);
    }
    else {
        lc_notte_err(errors, "bool_type", "body", name, "Input should be a valid boolean",
                     json_incref(v), NULL);
    }
    return 0;
}

/* ---- shared by both collections ----------------------------------------------- */

json_t *lc_notte_time(apr_time_t t)
{
    char buf[LC_TIME_TEXT_MAX];

    return json_string(lc_time_rfc3339_usec(buf, t));
}

void lc_notte_log_client(request_rec *r)
{
    const char *origin = apr_table_get(r->headers_in, "x-notte-request-origin");
    const char *sdk = apr_table_get(r->headers_in, "x-notte-sdk-version");

    if (origin || sdk) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "notte client: request-origin=%s "
                      "sdk-version=%s", origin ? ap_escape_logitem(r->pool, origin) : "-",
                      sdk ? ap_escape_logitem(r->pool, sdk) : "-");
    }
}

int lc_notte_method_not_allowed(lc_req_t *q, const char *allow)
{
    lc_http_allow(q->r, allow);
    return lc_notte_error(q, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "Method Not Allowed");
}
