/* Unit tests: id grammar, path segments, preconditions, numbers, times. */
#include <apr_general.h>
#include <apr_strings.h>

#include "lc_test.h"
#include "lc_util.h"
#include "lc_time.h"
#include "lc_engine.h"

static void test_ids(void)
{
    char longest[129], too_long[130];

    memset(longest, 'a', 128); longest[128] = '\0';
    memset(too_long, 'a', 129); too_long[129] = '\0';
    CHECK(lc_id_valid("ws-12345"));
    CHECK(lc_id_valid("A"));
    CHECK(lc_id_valid("a.b_c-d"));
    CHECK(lc_id_valid(longest));
    CHECK(!lc_id_valid(too_long));
    CHECK(!lc_id_valid(""));
    CHECK(!lc_id_valid("-ws"));
    CHECK(!lc_id_valid(".hidden"));
    CHECK(!lc_id_valid(".."));
    CHECK(!lc_id_valid("a..b"));
    CHECK(lc_id_valid("a.b.c"));
    CHECK(!lc_id_valid("a b"));
    CHECK(!lc_id_valid("a/b"));
    CHECK(!lc_id_valid("caf\xc3\xa9"));
    CHECK(!lc_id_valid(NULL));
}

static void test_segments(apr_pool_t *p)
{
    const char *seg[8];

    CHECK(lc_path_split(p, "", seg, 8) == 0);
    CHECK(lc_path_split(p, "/", seg, 8) == 0);
    CHECK(lc_path_split(p, "/ws-1/stop", seg, 8) == 2);
    CHECK_STR(seg[0], "ws-1");
    CHECK_STR(seg[1], "stop");
    CHECK(lc_path_split(p, "/a%2Eb%3Ac", seg, 8) == 1);
    CHECK_STR(seg[0], "a.b:c");
    CHECK(lc_path_split(p, "/a/", seg, 8) == 2);
    CHECK_STR(seg[1], "");
    CHECK(lc_path_split(p, "/a%2Fb", seg, 8) == -1);     /* encoded slash */
    CHECK(lc_path_split(p, "/a%2fb", seg, 8) == -1);
    CHECK(lc_path_split(p, "/a%00b", seg, 8) == -1);     /* NUL */
    CHECK(lc_path_split(p, "/a%zz", seg, 8) == -1);      /* bad hex */
    CHECK(lc_path_split(p, "/a%4", seg, 8) == -1);       /* truncated */
    CHECK(lc_path_split(p, "/a%", seg, 8) == -1);
    CHECK(lc_path_split(p, "/%C3%A9", seg, 8) == 1);     /* UTF-8 e-acute */
    CHECK(lc_path_split(p, "/%C3", seg, 8) == -1);       /* truncated UTF-8 */
    CHECK(lc_path_split(p, "/%C0%AF", seg, 8) == -1);    /* overlong '/' */
    CHECK(lc_path_split(p, "/%ED%A0%80", seg, 8) == -1); /* surrogate */
    CHECK(lc_path_split(p, "/%FF", seg, 8) == -1);
    CHECK(lc_path_split(p, "/1/2/3", seg, 2) == -1);     /* too many */
}

static void test_preconds(void)
{
    lc_precond_t pc;

    CHECK(lc_precond_parse(NULL, &pc) == 0 && !pc.present);
    CHECK(lc_precond_match(&pc, 0, 0));
    CHECK(lc_precond_parse("\"7\"", &pc) == 0 && pc.n == 1 && pc.versions[0] == 7);
    CHECK(lc_precond_match(&pc, 1, 7));
    CHECK(!lc_precond_match(&pc, 1, 8));
    CHECK(!lc_precond_match(&pc, 0, 7));
    CHECK(lc_precond_parse("*", &pc) == 0 && pc.any);
    CHECK(lc_precond_match(&pc, 1, 99));
    CHECK(!lc_precond_match(&pc, 0, 0));
    CHECK(lc_precond_parse(" \"1\", \"3\" ,W/\"4\"", &pc) == 0 && pc.n == 2);
    CHECK(lc_precond_match(&pc, 1, 3));
    CHECK(!lc_precond_match(&pc, 1, 4));                 /* weak never matches */
    CHECK(lc_precond_parse("\"xyz\"", &pc) == 0 && pc.n == 0);
    CHECK(!lc_precond_match(&pc, 1, 1));
    CHECK(lc_precond_parse("abc", &pc) == -1);
    CHECK(lc_precond_parse("\"1", &pc) == -1);
    CHECK(lc_precond_parse("\"1\" \"2\"", &pc) == -1);
    CHECK(lc_precond_parse("*, \"1\"", &pc) == -1);
    CHECK(lc_precond_parse("\"99999999999999999999999\"", &pc) == 0 && pc.n == 0);
}

static void test_numbers_and_times(void)
{
    char text[LC_TIME_TEXT_MAX];
    long v;

    CHECK(lc_parse_uint("64", 64, 100, &v) == 0 && v == 64);
    CHECK(lc_parse_uint("63", 64, 100, &v) == -1);
    CHECK(lc_parse_uint("", 0, 100, &v) == -1);
    CHECK(lc_parse_uint("-1", 0, 100, &v) == -1);
    CHECK(lc_parse_uint("1x", 0, 100, &v) == -1);
    CHECK(lc_parse_uint("99999999999", 0, 100, &v) == -1);
    CHECK_STR(lc_time_rfc3339_usec(text, apr_time_from_sec(0)), "1970-01-01T00:00:00.000000Z");
    CHECK_STR(lc_time_rfc3339_usec(text, APR_INT64_C(1795409028123456)),
              "2026-11-23T04:43:48.123456Z");
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    test_ids();
    test_segments(p);
    test_preconds();
    test_numbers_and_times();
    return lc_test_done("test_util");
}
