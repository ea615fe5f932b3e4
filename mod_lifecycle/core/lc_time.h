/* lc_time.h — times as text: the one RFC 3339 parser, and one formatter for
 * each format a client or a file name needs (each says who reads it).
 * APR only: the module, the CLIs, the unit tests and the fuzz targets. */
#ifndef LC_TIME_H
#define LC_TIME_H

#include <stddef.h>
#include <apr_time.h>

/* Room for any text below, NUL included. */
#define LC_TIME_TEXT_MAX 48

/* ---- reading ------------------------------------------------------------------ */

/* The RFC 3339 date-time parser: YYYY-MM-DD "T" HH:MM:SS, an optional
 * fraction (1 to 12 digits, microseconds kept), then "Z" or +HH:MM / -HH:MM
 * ('t' and 'z' too, as the RFC allows).  Calendar-checked: 2023-02-29,
 * 2022-04-31 and hour 24 are refused; second 60 (a leap second) is not.
 * Years 0000 to 9999.  s[0..len), no NUL needed; 0, or -1. */
int lc_rfc3339_parse(const char *s, size_t len, apr_time_t *t);

/* The same for a C string, a time a record keeps: before 1970 is refused
 * (a record's 0 means "none").  0, or -1. */
int lc_time_parse_rfc3339(const char *s, apr_time_t *out);

/* ---- writing: each fills out (LC_TIME_TEXT_MAX bytes) and returns it ------------ */

/* 2026-11-23T04:43:48.123456Z: UTC, always six fraction digits.  Notte's
 * created_at / closed_at / last_accessed_at, as pydantic writes an aware
 * datetime. */
char *lc_time_rfc3339_usec(char *out, apr_time_t t);

/* 2026-11-23T04:43:48Z: UTC, whole seconds (the fraction dropped).  PASETO
 * claim times (exp, nbf, iat) the lifecycle-token CLI mints. */
char *lc_time_rfc3339_sec(char *out, apr_time_t t);

/* 2026-11-23T04:43:48Z, …48.120Z or …48.123456Z: UTC, no fraction when
 * whole, else three digits when exact, else six.  Feldera's *_since and
 * created_at, as chrono's serde writes a DateTime<Utc> (SecondsFormat::AutoSi). */
char *lc_time_rfc3339_auto(char *out, apr_time_t t);

/* 20261123-044348: local time, digits only.  The directory
 * lifecycle-journal salvage moves the old files into (salvaged-<this>). */
char *lc_time_stamp_local(char *out, apr_time_t t);

/* ISO 8601 duration: "PT0S", "PT41.286072S", "PT1H1M1.5S", "P1DT1H0.25S"
 * (zero parts left out, the fraction without trailing zeros, a negative
 * duration as PT0S).  Notte's session duration, as pydantic writes a
 * timedelta. */
char *lc_time_iso8601_duration(char *out, apr_interval_time_t d);

#endif
