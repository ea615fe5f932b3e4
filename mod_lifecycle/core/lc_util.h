/* lc_util.h — small pure helpers shared by the dialects (APR only). */
#ifndef LC_UTIL_H
#define LC_UTIL_H

#include <apr_time.h>
#include <apr_pools.h>

/* The id grammar: [A-Za-z0-9][A-Za-z0-9._-]{0,127}, without "..". */
int lc_id_valid(const char *id);

/* Percent-decode one path segment into a pool string.  NULL when the
 * encoding is broken, or it decodes to '/', NUL, or a non-UTF-8 sequence. */
char *lc_segment_decode(apr_pool_t *p, const char *seg, apr_size_t len);

/* Split a raw path ("/a/b%2Ec/stop") into decoded segments.  Empty segments
 * (doubled or trailing slashes) are kept as "".  Returns the count, or -1
 * when a segment fails to decode or there are more than `max`. */
int lc_path_split(apr_pool_t *p, const char *path, const char **segs, int max);

/* Strict non-negative decimal within [min, max]; 0 on success. */
int lc_parse_uint(const char *s, long min, long max, long *out);

/* Characters (code points) in a valid UTF-8 string, as Python counts them. */
apr_size_t lc_utf8_chars(const char *s);

/* Whether s[0..len) is well-formed UTF-8 (no overlongs, surrogates, or code
 * points past U+10FFFF). */
int lc_utf8_valid(const char *s, apr_size_t len);

/* A random UUID version 4, lowercase with dashes (36 characters + NUL). */
void lc_uuid4(char out[37]);

#endif
