/* Unit tests: lc_json.c (depth, duplicates, size, what reaches the top,
 * pool ownership, text in a pool) and lc_json_pyerr.c (Python's error
 * messages and positions). */
#include <stdlib.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "lc_test.h"
#include "lc_json.h"
#include "lc_json_pyerr.h"

/* `depth` arrays nested around `inner`. */
static char *nested(apr_pool_t *p, int depth, const char *inner)
{
    char *open = apr_palloc(p, (apr_size_t)depth + 1);
    char *close = apr_palloc(p, (apr_size_t)depth + 1);

    memset(open, '[', (size_t)depth);
    memset(close, ']', (size_t)depth);
    open[depth] = close[depth] = '\0';
    return apr_pstrcat(p, open, inner, close, NULL);
}

static json_t *parse(apr_pool_t *p, const char *s, int flags, const char **why)
{
    *why = NULL;
    return lc_json_parse(p, s, strlen(s), flags, why);
}

static void test_depth(apr_pool_t *p)
{
    const char *why, *s;

    CHECK(parse(p, nested(p, LC_JSON_DEPTH_MAX, "1"), 0, &why) != NULL);
    CHECK(parse(p, nested(p, LC_JSON_DEPTH_MAX + 1, "1"), 0, &why) == NULL);
    CHECK_STR(why, "JSON nested too deeply");
    s = apr_pstrcat(p, "{\"a\":", nested(p, LC_JSON_DEPTH_MAX - 1, "{}"), "}", NULL);
    CHECK(parse(p, s, 0, &why) == NULL);                       /* objects count too */
    s = apr_pstrcat(p, "{\"a\":", nested(p, LC_JSON_DEPTH_MAX - 2, "{}"), "}", NULL);
    CHECK(parse(p, s, 0, &why) != NULL);
    /* Brackets in strings are not nesting, escaped quotes do not end them. */
    s = apr_pstrcat(p, "[\"", nested(p, 40, ""), "\", \"\\\"", nested(p, 40, ""), "\"]", NULL);
    CHECK(parse(p, s, 0, &why) != NULL);
    s = nested(p, LC_JSON_DEPTH_MAX + 1, "");
    CHECK(lc_json_load(s, strlen(s), 0) == NULL);
}

static void test_duplicates_and_top(apr_pool_t *p)
{
    const char *why;
    json_t *j;

    CHECK(parse(p, "{\"a\":1,\"a\":2}", 0, &why) == NULL && why && strstr(why, "duplicate"));
    CHECK(parse(p, "{\"a\":{\"b\":1,\"b\":1}}", 0, &why) == NULL);
    j = parse(p, "{\"a\":1,\"b\":0,\"a\":2}", LC_JSON_LAST_WINS, &why);
    CHECK(j && json_integer_value(json_object_get(j, "a")) == 2 && json_object_size(j) == 2);
    CHECK(parse(p, "\"x\"", 0, &why) == NULL && why && strstr(why, "malformed JSON"));
    CHECK(parse(p, "7", 0, &why) == NULL);
    j = parse(p, "\"x\"", LC_JSON_ANY_VALUE, &why);
    CHECK(j && json_is_string(j));
    CHECK(parse(p, "[1,2]", 0, &why) != NULL);
    CHECK(parse(p, "{} x", 0, &why) == NULL && why && strstr(why, "line 1 column"));
    CHECK(parse(p, "{}{}", 0, &why) == NULL);
    CHECK(parse(p, "", 0, &why) == NULL && why != NULL);
    CHECK(parse(p, "[\"caf\xe9\"]", 0, &why) == NULL);         /* not UTF-8 */
    CHECK(parse(p, "[\"a\\u0000b\"]", 0, &why) == NULL);       /* NUL */
    CHECK(lc_json_parse(p, "[1] garbage", 3, 0, NULL) != NULL); /* len bytes only */
    CHECK(lc_json_parse(p, "[1", 2, 0, NULL) == NULL);          /* why may be NULL */
}

static void test_size(apr_pool_t *p)
{
    char *s = apr_palloc(p, LC_JSON_TEXT_MAX + 2);
    const char *why = NULL;

    memset(s, ' ', LC_JSON_TEXT_MAX + 1);
    s[0] = '[';
    s[1] = ']';
    CHECK(lc_json_parse(p, s, LC_JSON_TEXT_MAX, 0, &why) != NULL);   /* trailing spaces */
    CHECK(lc_json_parse(p, s, LC_JSON_TEXT_MAX + 1, 0, &why) == NULL);
    CHECK_STR(why, "JSON text too long");
    CHECK(lc_json_load(s, LC_JSON_TEXT_MAX + 1, 0) == NULL);
}

/* lc_json_parse's value is the pool's: one reference, released with it. */
static void test_ownership(apr_pool_t *p)
{
    apr_pool_t *sub;
    json_t *j, *k;
    const char *why;

    apr_pool_create(&sub, p);
    j = parse(sub, "{\"a\":[1,2]}", 0, &why);
    CHECK(j && j->refcount == 1);
    json_incref(j);
    apr_pool_destroy(sub);
    CHECK(j->refcount == 1);                       /* the pool let its own go */
    json_decref(j);

    apr_pool_create(&sub, p);
    CHECK(lc_json_pool_own(sub, NULL) == NULL);
    k = json_incref(lc_json_pool_own(sub, json_object()));
    CHECK(k->refcount == 2);
    apr_pool_destroy(sub);
    CHECK(k->refcount == 1);
    json_decref(k);

    j = lc_json_load("{\"a\":1}", 7, 0);           /* the caller's */
    CHECK(j && j->refcount == 1);
    json_decref(j);
}

static void test_dump(apr_pool_t *p)
{
    json_t *j = lc_json_pool_own(p, json_pack("{s:i, s:[s]}", "a", 1, "b", "c"));
    apr_size_t len = 0;

    CHECK_STR(lc_json_dump(p, j, JSON_COMPACT, &len), "{\"a\":1,\"b\":[\"c\"]}");
    CHECK(len == strlen("{\"a\":1,\"b\":[\"c\"]}"));
    CHECK_STR(lc_json_dump(p, lc_json_pool_own(p, json_string("x")), JSON_ENCODE_ANY, NULL),
              "\"x\"");
    CHECK(lc_json_dump(p, NULL, JSON_COMPACT, &len) == NULL);
}

/* 0, or the position with the message expected. */
static void check_pyerr(const char *text, const char *msg, long pos)
{
    lc_json_pyerr_t e;
    int rc = lc_json_pyerr_scan(text, strlen(text), &e);

    if (!msg) {
        CHECK(rc == 0);
        return;
    }
    CHECK(rc == -1 && !e.deep);
    CHECK_STR(e.msg, msg);
    CHECK(e.pos == pos);
}

/* What t/notte.t asks of FastAPI's json_invalid, and a few more. */
static void test_pyerr(apr_pool_t *p)
{
    lc_json_pyerr_t e;
    const char *deep = nested(p, LC_JSON_DEPTH_MAX + 1, "");

    check_pyerr("{\"task\": ", "Expecting value", 9);
    check_pyerr("{task: 1}", "Expecting property name enclosed in double quotes", 1);
    check_pyerr("{\"task\": \"t\"} x", "Extra data", 14);
    check_pyerr("{\"task\": \"caf\xc3\xa9\" \"x\"}", "Expecting ',' delimiter", 16);
    check_pyerr("{\"task\": \"abc", "Unterminated string starting at", 9);
    check_pyerr("{\"task\": \"a\\qb\"}", "Invalid \\escape", 11);
    check_pyerr("{\"a\":\"\\uZZ\"}", "Invalid \\uXXXX escape", 7);   /* at the u, as CPython */
    check_pyerr("[\"\\u12\"]", "Invalid \\uXXXX escape", 3);
    check_pyerr("{\"a\" 1}", "Expecting ':' delimiter", 5);
    check_pyerr("[\"a\tb\"]", "Invalid control character at", 3);
    check_pyerr("", "Expecting value", 0);
    check_pyerr("  [1, 2] ", NULL, 0);
    check_pyerr("[NaN, Infinity, -Infinity, 1e5, -0.5]", NULL, 0);   /* Python reads them */
    check_pyerr("{\"a\": 1, \"a\": 2}", NULL, 0);                      /* duplicates too */
    check_pyerr("\"just a string\"", NULL, 0);
    CHECK(lc_json_pyerr_scan(deep, strlen(deep), &e) == -1 && e.deep);
    deep = nested(p, LC_JSON_DEPTH_MAX, "");
    CHECK(lc_json_pyerr_scan(deep, strlen(deep), &e) == 0);
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    test_depth(p);
    test_duplicates_and_top(p);
    test_size(p);
    test_ownership(p);
    test_dump(p);
    test_pyerr(p);
    apr_pool_destroy(p);
    return lc_test_done("test_json");
}
