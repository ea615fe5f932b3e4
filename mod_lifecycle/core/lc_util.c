/* lc_util.c — small pure helpers: id grammar, path segments, numbers, UTF-8. */
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <sodium.h>

#include "lc_util.h"
#include "lc_resource.h"

static int id_char(int c)
{
    return apr_isalnum(c) || c == '.' || c == '_' || c == '-';
}

int lc_id_valid(const char *id)
{
    size_t i;

    if (!id || !apr_isalnum((unsigned char)id[0])) {
        return 0;
    }
    for (i = 1; id[i]; i++) {
        if (i >= LC_ID_MAX || !id_char((unsigned char)id[i])
            || (id[i] == '.' && id[i - 1] == '.')) {      /* no ".." */
            return 0;
        }
    }
    return 1;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Length of the UTF-8 sequence at s (1..4), or 0 when it is not valid. */
static int utf8_len(const unsigned char *s, apr_size_t avail)
{
    int n, i;
    unsigned cp;

    if (s[0] < 0x80) return 1;
    if ((s[0] & 0xe0) == 0xc0) { n = 2; cp = s[0] & 0x1f; }
    else if ((s[0] & 0xf0) == 0xe0) { n = 3; cp = s[0] & 0x0f; }
    else if ((s[0] & 0xf8) == 0xf0) { n = 4; cp = s[0] & 0x07; }
    else return 0;
    if ((apr_size_t)n > avail) return 0;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    /* overlong forms, surrogates, beyond Unicode */
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000)
        || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
        return 0;
    }
    return n;
}

int lc_utf8_valid(const char *s, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len; ) {
        int n = utf8_len((const unsigned char *)s + i, len - i);
        if (n == 0) {
            return 0;
        }
        i += (apr_size_t)n;
    }
    return 1;
}

char *lc_segment_decode(apr_pool_t *p, const char *seg, apr_size_t len)
{
    char *out = apr_palloc(p, len + 1);
    apr_size_t i, o = 0;

    for (i = 0; i < len; i++) {
        int c = (unsigned char)seg[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= len) {          /* needs two hex digits */
                return NULL;
            }
            hi = hexval((unsigned char)seg[i + 1]);
            lo = hexval((unsigned char)seg[i + 2]);
            if (hi < 0 || lo < 0) {
                return NULL;
            }
            c = hi * 16 + lo;
            i += 2;
        }
        if (c == '/' || c == '\0') {
            return NULL;
        }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return lc_utf8_valid(out, o) ? out : NULL;
}

int lc_path_split(apr_pool_t *p, const char *path, const char **segs, int max)
{
    int n = 0;

    if (*path == '/') {
        path++;
    }
    if (*path == '\0') {
        return 0;
    }
    for (;;) {
        const char *end = strchr(path, '/');
        apr_size_t len = end ? (apr_size_t)(end - path) : strlen(path);
        if (n == max) {
            return -1;
        }
        if ((segs[n++] = lc_segment_decode(p, path, len)) == NULL) {
            return -1;
        }
        if (!end) {
            return n;
        }
        path = end + 1;
    }
}

int lc_parse_uint(const char *s, long min, long max, long *out)
{
    long v = 0;
    const char *c;

    if (!s || !*s || strlen(s) > 10) {
        return -1;
    }
    for (c = s; *c; c++) {
        if (!apr_isdigit(*c)) {
            return -1;
        }
        v = v * 10 + (*c - '0');
    }
    if (v < min || v > max) {
        return -1;
    }
    *out = v;
    return 0;
}

apr_size_t lc_utf8_chars(const char *s)
{
    apr_size_t n = 0;

    for (; *s; s++) {
        n += ((unsigned char)*s & 0xc0) != 0x80;
    }
    return n;
}

void lc_uuid4(char out[37])
{
    unsigned char b[16];
    int i, o = 0;

    randombytes_buf(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);   /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[o++] = '-';
        }
        out[o++] = "0123456789abcdef"[b[i] >> 4];
        out[o++] = "0123456789abcdef"[b[i] & 0x0f];
    }
    out[o] = '\0';
}
