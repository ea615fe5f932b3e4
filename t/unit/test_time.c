/* Unit tests: lc_time.c, the RFC 3339 parser (calendar, offsets, fractions,
 * the two shapes) and every formatter's exact output. */
#include <stdlib.h>
#include <time.h>
#include <apr_general.h>

#include "lc_test.h"
#include "lc_time.h"

#define Y2022 (APR_INT64_C(1640995200) * APR_USEC_PER_SEC)   /* 2022-01-01T00:00:00Z */
#define T2026 APR_INT64_C(1795409028123456)                  /* 2026-11-23T04:43:48.123456Z */

/* lc_rfc3339_parse on a C string. */
static int parse(const char *s, apr_time_t *t)
{
    return lc_rfc3339_parse(s, strlen(s), t);
}

static void test_calendar(void)
{
    apr_time_t t;

    CHECK(parse("2024-02-29T00:00:00Z", &t) == 0);          /* leap: divisible by 4 */
    CHECK(parse("2000-02-29T00:00:00Z", &t) == 0);          /* leap: by 400 */
    CHECK(parse("1900-02-29T00:00:00Z", &t) != 0);          /* not: by 100 only */
    CHECK(parse("2023-02-29T00:00:00Z", &t) != 0);
    CHECK(parse("2023-02-28T00:00:00Z", &t) == 0);
    CHECK(parse("2023-02-30T00:00:00Z", &t) != 0);          /* what lc_util's parser took */
    CHECK(parse("2024-02-30T00:00:00Z", &t) != 0);
    CHECK(parse("2023-04-31T00:00:00Z", &t) != 0);
    CHECK(parse("2023-12-31T23:59:59Z", &t) == 0);
    CHECK(parse("2023-12-32T00:00:00Z", &t) != 0);
    CHECK(parse("2023-00-10T00:00:00Z", &t) != 0);
    CHECK(parse("2023-01-00T00:00:00Z", &t) != 0);
    CHECK(parse("2023-01-01T24:00:00Z", &t) != 0);
    CHECK(parse("2016-12-31T23:59:60Z", &t) == 0);          /* a leap second */
    CHECK(parse("2016-12-31T23:59:61Z", &t) != 0);
    CHECK(parse("2024-03-01T00:00:00Z", &t) == 0
          && t == APR_INT64_C(1709251200) * APR_USEC_PER_SEC);
    CHECK(parse("9999-12-31T23:59:59Z", &t) == 0
          && t == APR_INT64_C(253402300799) * APR_USEC_PER_SEC);
}

static void test_offsets(void)
{
    apr_time_t t;

    CHECK(parse("2022-01-01T00:00:00Z", &t) == 0 && t == Y2022);
    CHECK(parse("2022-01-01t00:00:00z", &t) == 0 && t == Y2022);
    CHECK(parse("2022-01-01T00:00:00+00:00", &t) == 0 && t == Y2022);
    CHECK(parse("2022-01-01T00:00:00-00:00", &t) == 0 && t == Y2022);
    CHECK(parse("2022-01-01T01:30:00+01:30", &t) == 0 && t == Y2022);
    CHECK(parse("2021-12-31T19:00:00-05:00", &t) == 0 && t == Y2022);
    CHECK(parse("2022-01-01T23:59:00+23:59", &t) == 0 && t == Y2022);
    CHECK(parse("2022-01-01T00:00:00+24:00", &t) != 0);
    CHECK(parse("2022-01-01T00:00:00+00:60", &t) != 0);
    CHECK(parse("2022-01-01T00:00:00+0100", &t) != 0);
    CHECK(parse("2022-01-01T00:00:00+01", &t) != 0);
    CHECK(parse("2022-01-01T00:00:00+01:00Z", &t) != 0);
    CHECK(parse("2022-01-01T00:00:00", &t) != 0);           /* no offset */
    CHECK(parse("2022-01-01T00:00:00Zx", &t) != 0);
    CHECK(parse("2022-01-01 00:00:00Z", &t) != 0);
    /* What Notte's runner sends as closed_at, and what the dialect shows. */
    CHECK(parse("2026-01-02T03:04:05.5+01:00", &t) == 0
          && t == APR_INT64_C(1767319445) * APR_USEC_PER_SEC + 500000);
}

static void test_fractions(void)
{
    apr_time_t t;

    CHECK(parse("2022-01-01T00:00:00.5Z", &t) == 0 && t == Y2022 + 500000);
    CHECK(parse("2022-01-01T00:00:00.000001Z", &t) == 0 && t == Y2022 + 1);
    CHECK(parse("2022-01-01T00:00:00.1234567Z", &t) == 0 && t == Y2022 + 123456);
    CHECK(parse("2022-01-01T00:00:00.123456789012Z", &t) == 0 && t == Y2022 + 123456);
    CHECK(parse("2022-01-01T00:00:00.1234567890123Z", &t) != 0);   /* 13 digits */
    CHECK(parse("2022-01-01T00:00:00.Z", &t) != 0);
    CHECK(parse("2022-01-01T00:00:00.5", &t) != 0);
    CHECK(parse("2022-01-01T00:00:00,5Z", &t) != 0);
}

/* The counted shape reads only len bytes; the C-string shape refuses times
 * before 1970 (a record's 0 means none). */
static void test_shapes(void)
{
    apr_time_t t = 42;

    CHECK(lc_rfc3339_parse("2022-01-01T00:00:00Z and more", 20, &t) == 0 && t == Y2022);
    CHECK(lc_rfc3339_parse("2022-01-01T00:00:00Z", 19, &t) != 0);
    CHECK(lc_rfc3339_parse(NULL, 0, &t) != 0);
    CHECK(lc_rfc3339_parse("", 0, &t) != 0);
    CHECK(lc_time_parse_rfc3339("2022-01-01T00:00:00Z", &t) == 0 && t == Y2022);
    CHECK(lc_time_parse_rfc3339("1970-01-01T00:00:00Z", &t) == 0 && t == 0);
    t = 42;
    CHECK(lc_time_parse_rfc3339("2023-02-30T00:00:00Z", &t) != 0 && t == 42);
    CHECK(lc_time_parse_rfc3339("1969-12-31T23:59:59Z", &t) != 0 && t == 42);
    CHECK(lc_rfc3339_parse("1969-12-31T23:59:59Z", 20, &t) == 0 && t == -APR_USEC_PER_SEC);
    CHECK(lc_time_parse_rfc3339("2022-01-01T00:00:00Z ", &t) != 0);
    CHECK(lc_time_parse_rfc3339("", &t) != 0);
    CHECK(lc_time_parse_rfc3339(NULL, &t) != 0);
}

static void test_formats(void)
{
    char b[LC_TIME_TEXT_MAX];
    apr_time_t t;

    CHECK_STR(lc_time_rfc3339_usec(b, 0), "1970-01-01T00:00:00.000000Z");
    CHECK_STR(lc_time_rfc3339_usec(b, T2026), "2026-11-23T04:43:48.123456Z");
    CHECK_STR(lc_time_rfc3339_usec(b, APR_INT64_C(1767319445500000)),
              "2026-01-02T02:04:05.500000Z");
    CHECK_STR(lc_time_rfc3339_sec(b, 0), "1970-01-01T00:00:00Z");
    CHECK_STR(lc_time_rfc3339_sec(b, T2026), "2026-11-23T04:43:48Z");   /* fraction dropped */
    CHECK_STR(lc_time_rfc3339_auto(b, T2026 - 123456), "2026-11-23T04:43:48Z");
    CHECK_STR(lc_time_rfc3339_auto(b, T2026 - 3456), "2026-11-23T04:43:48.120Z");
    CHECK_STR(lc_time_rfc3339_auto(b, T2026 - 456), "2026-11-23T04:43:48.123Z");
    CHECK_STR(lc_time_rfc3339_auto(b, T2026), "2026-11-23T04:43:48.123456Z");
    CHECK_STR(lc_time_rfc3339_auto(b, T2026 - 123455), "2026-11-23T04:43:48.000001Z");
    /* What each writes reads back: exactly, or to the second. */
    CHECK(parse(lc_time_rfc3339_usec(b, T2026), &t) == 0 && t == T2026);
    CHECK(parse(lc_time_rfc3339_auto(b, T2026 - 3456), &t) == 0 && t == T2026 - 3456);
    CHECK(parse(lc_time_rfc3339_sec(b, T2026), &t) == 0 && t == T2026 - 123456);
}

/* The salvage directory's stamp is local time. */
static void test_stamp(void)
{
    char b[LC_TIME_TEXT_MAX];

    setenv("TZ", "UTC", 1);
    tzset();
    CHECK_STR(lc_time_stamp_local(b, T2026), "20261123-044348");
    setenv("TZ", "JST-9", 1);
    tzset();
    CHECK_STR(lc_time_stamp_local(b, T2026), "20261123-134348");
}

static void test_durations(void)
{
    char b[LC_TIME_TEXT_MAX];
    const apr_interval_time_t s = APR_USEC_PER_SEC;

    CHECK_STR(lc_time_iso8601_duration(b, 0), "PT0S");
    CHECK_STR(lc_time_iso8601_duration(b, -5 * s), "PT0S");
    CHECK_STR(lc_time_iso8601_duration(b, 41286072), "PT41.286072S");
    CHECK_STR(lc_time_iso8601_duration(b, 3661 * s + s / 2), "PT1H1M1.5S");
    CHECK_STR(lc_time_iso8601_duration(b, 90000 * s + s / 4), "P1DT1H0.25S");
    CHECK_STR(lc_time_iso8601_duration(b, 86400 * s), "P1D");
    CHECK_STR(lc_time_iso8601_duration(b, 86430 * s), "P1DT30S");
    CHECK_STR(lc_time_iso8601_duration(b, 120 * s), "PT2M");
    CHECK_STR(lc_time_iso8601_duration(b, 1), "PT0.000001S");
    CHECK_STR(lc_time_iso8601_duration(b, APR_INT64_C(0x7fffffffffffffff)),
              "P106751991DT4H54.775807S");
}

int main(void)
{
    apr_initialize();
    test_calendar();
    test_offsets();
    test_fractions();
    test_shapes();
    test_formats();
    test_stamp();
    test_durations();
    return lc_test_done("test_time");
}
