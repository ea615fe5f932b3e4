/* lc_time.c — the RFC 3339 parser and the time formatters (lc_time.h). */
#include <string.h>
#include <apr_strings.h>

#include "lc_time.h"

/* ---- reading ------------------------------------------------------------------ */

/* Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil): no table, no time zone, any year. */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
    long long era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

/* n decimal digits at s into *v; -1 when they are not all digits. */
static int digits(const char *s, int n, int *v)
{
    int i, r = 0;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        r = r * 10 + (s[i] - '0');
    }
    *v = r;
    return 0;
}

/* The fraction after the seconds at s[*i] (when there is one), 1 to 12
 * digits: *usec, its first six.  0, or -1. */
static int fraction(const char *s, size_t len, size_t *i, int *usec)
{
    int nd = 0, scale = 100000;

    if (s[*i] != '.') {
        return 0;
    }
    for ((*i)++; *i < len && s[*i] >= '0' && s[*i] <= '9'; (*i)++, nd++) {
        if (nd < 6) {
            *usec += (s[*i] - '0') * scale;
            scale /= 10;
        }
    }
    return nd == 0 || nd > 12 ? -1 : 0;
}

/* "Z", or +HH:MM / -HH:MM at s[*i] into *off (seconds east of UTC); the
 * text must end there.  0, or -1. */
static int offset(const char *s, size_t len, size_t i, long long *off)
{
    int oh, om;

    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        *off = 0;
        return i + 1 == len ? 0 : -1;
    }
    if (i >= len || (s[i] != '+' && s[i] != '-') || len - i != 6
        || digits(s + i + 1, 2, &oh) || s[i + 3] != ':' || digits(s + i + 4, 2, &om)
        || oh > 23 || om > 59) {
        return -1;
    }
    *off = (s[i] == '-' ? -1 : 1) * (oh * 3600LL + om * 60LL);
    return 0;
}

/* Whether Y-M-D h:m:s is on the calendar (second 60: a leap second). */
static int on_calendar(int Y, int M, int D, int h, int m, int sec)
{
    static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;

    return M >= 1 && M <= 12 && D >= 1 && D <= mdays[M - 1] + (M == 2 && leap)
           && h <= 23 && m <= 59 && sec <= 60;
}

int lc_rfc3339_parse(const char *s, size_t len, apr_time_t *t)
{
    int Y, M, D, h, m, sec, usec = 0;
    size_t i = 19;
    long long off, secs;

    /* YYYY-MM-DDTHH:MM:SS */
    if (s == NULL || len < 20
        || digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-'
        || digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't')
        || digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &m)
        || s[16] != ':' || digits(s + 17, 2, &sec)
        || fraction(s, len, &i, &usec) != 0 || offset(s, len, i, &off) != 0
        || !on_calendar(Y, M, D, h, m, sec)) {
        return -1;
    }
    secs = days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400LL
           + h * 3600LL + m * 60LL + sec - off;
    *t = (apr_time_t)secs * APR_USEC_PER_SEC + usec;
    return 0;
}

int lc_time_parse_rfc3339(const char *s, apr_time_t *out)
{
    apr_time_t t;

    if (s == NULL || lc_rfc3339_parse(s, strlen(s), &t) != 0 || t < 0) {
        return -1;
    }
    *out = t;
    return 0;
}

/* ---- writing ------------------------------------------------------------------ */

/* t in UTC; the epoch when APR cannot (a time past gmtime's range). */
static void utc(apr_time_exp_t *x, apr_time_t t)
{
    if (apr_time_exp_gmt(x, t) != APR_SUCCESS) {
        memset(x, 0, sizeof(*x));
    }
}

/* YYYY-MM-DDTHH:MM:SS into out; returns its length. */
static int date_time(char *out, const apr_time_exp_t *x)
{
    return (int)apr_snprintf(out, LC_TIME_TEXT_MAX, "%04d-%02d-%02dT%02d:%02d:%02d",
                             x->tm_year + 1900, x->tm_mon + 1, x->tm_mday,
                             x->tm_hour, x->tm_min, x->tm_sec);
}

char *lc_time_rfc3339_usec(char *out, apr_time_t t)
{
    apr_time_exp_t x;
    int n;

    utc(&x, t);
    n = date_time(out, &x);
    apr_snprintf(out + n, LC_TIME_TEXT_MAX - (apr_size_t)n, ".%06dZ", x.tm_usec);
    return out;
}

char *lc_time_rfc3339_sec(char *out, apr_time_t t)
{
    apr_time_exp_t x;
    int n;

    utc(&x, t);
    n = date_time(out, &x);
    apr_snprintf(out + n, LC_TIME_TEXT_MAX - (apr_size_t)n, "Z");
    return out;
}

char *lc_time_rfc3339_auto(char *out, apr_time_t t)
{
    apr_time_exp_t x;
    apr_size_t n;

    utc(&x, t);
    n = (apr_size_t)date_time(out, &x);
    if (x.tm_usec == 0) {
        apr_snprintf(out + n, LC_TIME_TEXT_MAX - n, "Z");
    }
    else if (x.tm_usec % 1000 == 0) {
        apr_snprintf(out + n, LC_TIME_TEXT_MAX - n, ".%03dZ", x.tm_usec / 1000);
    }
    else {
        apr_snprintf(out + n, LC_TIME_TEXT_MAX - n, ".%06dZ", x.tm_usec);
    }
    return out;
}

char *lc_time_stamp_local(char *out, apr_time_t t)
{
    apr_time_exp_t x;
    apr_size_t got;

    if (apr_time_exp_lt(&x, t) != APR_SUCCESS) {
        memset(&x, 0, sizeof(x));
    }
    apr_strftime(out, &got, LC_TIME_TEXT_MAX, "%Y%m%d-%H%M%S", &x);
    return out;
}

/* Append n and its unit to out when n is not 0. */
static void duration_part(char *out, apr_int64_t n, char unit)
{
    apr_size_t len = strlen(out);

    if (n) {
        apr_snprintf(out + len, LC_TIME_TEXT_MAX - len, "%" APR_INT64_T_FMT "%c", n, unit);
    }
}

/* Seconds and microseconds as "41.286072", the fraction's trailing zeros
 * (and a bare '.') left out. */
static void duration_seconds(char *out, apr_int64_t s, apr_int64_t us)
{
    char sec[LC_TIME_TEXT_MAX];
    apr_size_t n, len = strlen(out);

    apr_snprintf(sec, sizeof(sec), "%" APR_INT64_T_FMT ".%06" APR_INT64_T_FMT, s, us);
    for (n = strlen(sec); sec[n - 1] == '0'; n--) {
        sec[n - 1] = '\0';
    }
    if (sec[n - 1] == '.') {
        sec[n - 1] = '\0';
    }
    apr_snprintf(out + len, LC_TIME_TEXT_MAX - len, "%sS", sec);
}

char *lc_time_iso8601_duration(char *out, apr_interval_time_t d)
{
    apr_int64_t s = d > 0 ? d / APR_USEC_PER_SEC : 0, us = d > 0 ? d % APR_USEC_PER_SEC : 0;
    apr_int64_t days = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60, rest = s % 60;

    apr_cpystrn(out, "P", LC_TIME_TEXT_MAX);
    duration_part(out, days, 'D');
    if (!days || h || m || rest || us) {
        apr_cpystrn(out + strlen(out), "T", LC_TIME_TEXT_MAX - strlen(out));
        duration_part(out, h, 'H');
        duration_part(out, m, 'M');
        if (rest || us || (!days && !h && !m)) {
            duration_seconds(out, rest, us);
        }
    }
    return out;
}
