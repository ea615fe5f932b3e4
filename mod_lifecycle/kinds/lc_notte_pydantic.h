/* lc_notte_pydantic.h — pydantic's side of the Notte API (lc_notte_pydantic.c):
 * validation error entries, the checks of one field, its datetime.  Pure. */
#ifndef LC_NOTTE_PYDANTIC_H
#define LC_NOTTE_PYDANTIC_H

#include <jansson.h>
#include <apr_pools.h>
#include <apr_time.h>

/* Append one pydantic error entry; `input` and `ctx` (may be NULL) are
 * consumed.  field NULL: the location is just [where]. */
void lc_notte_err(json_t *errors, const char *type, const char *where, const char *field,
                  const char *msg, json_t *input, json_t *ctx);

/* ---- pydantic's checks of one field (each appends its errors) ----------------- */

/* A str field (nullable when optional), its length in characters within
 * [min, max].  `whole` is the input pydantic reports for a missing field
 * (the body object; NULL for a query parameter, which reports null). */
typedef struct lc_notte_field {
    const char *where, *name;
    int         required;
    long        min, max;
} lc_notte_field_t;

const char *lc_notte_check_str(json_t *errors, const lc_notte_field_t *f, json_t *v,
                               json_t *whole, apr_pool_t *p);

/* An optional int in lax mode ("7", true, 5.0 pass); `gt` set: the lower
 * bound is exclusive (pydantic's gt=) rather than ge=.  Returns 1 and *out
 * when v is present and valid, 0 otherwise. */
typedef struct lc_notte_int {
    const char *name;
    long        min, max;
    int         gt;
    int         nullable;
} lc_notte_int_t;

int lc_notte_check_int(json_t *errors, const lc_notte_int_t *f, json_t *v, long *out);

/* An optional bool in lax mode (true/false, 0/1, "yes", "off", ...): 1 and
 * *out when present and valid. */
int lc_notte_check_bool(json_t *errors, const char *name, json_t *v, int *out);

/* RFC 3339 UTC with microseconds, as pydantic writes an aware datetime. */
json_t *lc_notte_time(apr_time_t t);

#endif
