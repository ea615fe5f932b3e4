/* lc_json.c — strict JSON parsing with one set of limits, values owned by a
 * pool, and text in a pool (lc_json.h). */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include "lc_json.h"

/* Nesting of the text, counted before jansson builds anything: its own
 * limit is 2048 and a deep tree is work for nothing.  Brackets inside
 * strings do not count.  On a valid prefix this is exactly the nesting
 * jansson reaches, so it never lets through what jansson would nest deeper. */
static int depth_ok(const char *s, size_t len)
{
    int depth = 0, in_str = 0;
    size_t i;

    for (i = 0; i < len; i++) {
        char c = s[i];

        if (in_str) {
            if (c == '\\') {
                i++;
            }
            else if (c == '"') {
                in_str = 0;
            }
        }
        else if (c == '"') {
            in_str = 1;
        }
        else if ((c == '{' || c == '[') && ++depth > LC_JSON_DEPTH_MAX) {
            return 0;
        }
        else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return 1;
}

/* The value, or NULL with *refusal set for a limit (else jansson's error
 * is in *e). */
static json_t *load(const char *text, size_t len, int flags, json_error_t *e,
                    const char **refusal)
{
    size_t jflags = (flags & LC_JSON_LAST_WINS) ? 0 : JSON_REJECT_DUPLICATES;

    if (flags & LC_JSON_ANY_VALUE) {
        jflags |= JSON_DECODE_ANY;
    }
    if (len > LC_JSON_TEXT_MAX) {
        *refusal = "JSON text too long";
        return NULL;
    }
    if (!depth_ok(text, len)) {
        *refusal = "JSON nested too deeply";
        return NULL;
    }
    return json_loadb(text, len, jflags, e);
}

json_t *lc_json_load(const char *text, size_t len, int flags)
{
    const char *refusal = NULL;

    return load(text, len, flags, NULL, &refusal);
}

json_t *lc_json_parse(apr_pool_t *p, const char *text, size_t len, int flags,
                      const char **why)
{
    const char *refusal = NULL;
    json_error_t e;
    json_t *j = load(text, len, flags, &e, &refusal);

    if (!j && why) {
        *why = refusal ? refusal
                       : apr_psprintf(p, "malformed JSON at line %d column %d: %s",
                                      e.line, e.column, e.text);
    }
    return lc_json_pool_own(p, j);
}

static apr_status_t release(void *j)
{
    json_decref(j);
    return APR_SUCCESS;
}

json_t *lc_json_pool_own(apr_pool_t *p, json_t *j)
{
    if (j) {
        apr_pool_cleanup_register(p, j, release, apr_pool_cleanup_null);
    }
    return j;
}

char *lc_json_dump(apr_pool_t *p, const json_t *j, size_t flags, apr_size_t *len)
{
    char *text = j ? json_dumps(j, flags) : NULL;
    char *out;
    apr_size_t n;

    if (!text) {
        return NULL;
    }
    n = strlen(text);
    out = apr_pstrmemdup(p, text, n);
    free(text);
    if (len) {
        *len = n;
    }
    return out;
}
