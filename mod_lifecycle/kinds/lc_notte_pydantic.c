/* lc_notte_pydantic.c — pydantic's side of the Notte API, as its kinds and
 * handlers share it: the validation error entries, the checks of one str,
 * int or bool field (pydantic v2 types and messages, lax mode), and an aware
 * datetime as pydantic writes it.  Pure (APR and jansson): the session kind
 * validates an admin PUT with the same checks as POST /sessions/start.
 */
#include <string.h>
#include <stdlib.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "lc_notte_pydantic.h"
#include "lc_util.h"
#include "lc_time.h"

/* ---- error entries and str ---------------------------------------------------- */

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

json_t *lc_notte_time(apr_time_t t)
{
    char buf[LC_TIME_TEXT_MAX];

    return json_string(lc_time_rfc3339_usec(buf, t));
}
