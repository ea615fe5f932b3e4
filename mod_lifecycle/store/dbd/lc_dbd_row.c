/* lc_dbd_row.c — a database row's text and an lc_resource_t, both ways.
 *
 * apr_dbd hands every value over as text (the pgsql driver's text
 * protocol), and takes every parameter as text: the numbers are formatted
 * and parsed here, strictly, with the schema's bounds.  Unsigned 64-bit
 * fields (version, checkpoint) are kept in signed bigints: they never
 * reach 2^63.  Pure: unit-tested in t/unit/test_dbd.c.
 */
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <apr_strings.h>

#include "lc_dbd_int.h"

const char *lc_dbd_i64(apr_pool_t *p, int64_t v)
{
    return apr_psprintf(p, "%" APR_INT64_T_FMT, v);
}

/* A whole decimal number in [lo, hi]. */
static int parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    int64_t v;

    if (!s || !*s) {
        return -1;
    }
    errno = 0;
    v = (int64_t)apr_strtoi64(s, &end, 10);
    if (errno || *end || v < lo || v > hi) {
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_u8(const char *s, uint8_t *out)
{
    int64_t v;

    if (parse_i64(s, 0, 255, &v) != 0) {
        return -1;
    }
    *out = (uint8_t)v;
    return 0;
}

static int copy_text(char *dst, size_t size, const char *src)
{
    size_t n = src ? strlen(src) : 0;

    if (n >= size) {
        return -1;
    }
    memcpy(dst, src ? src : "", n + 1);
    return 0;
}

apr_status_t lc_dbd_row_parse(const char *const *v, lc_resource_t *r)
{
    int64_t kind, version, pos, ckpt, created, since, closed, due;
    int bad = 0;

    lc_resource_clear(r);
    bad |= parse_i64(v[0], LC_KIND_NONE + 1, LC_KIND_COUNT - 1, &kind);
    bad |= copy_text(r->id, sizeof(r->id), v[1]) || !r->id[0];
    bad |= parse_i64(v[2], 1, INT64_MAX, &version);
    bad |= parse_i64(v[3], 0, INT64_MAX, &pos);
    bad |= parse_u8(v[4], &r->state) | parse_u8(v[5], &r->desired);
    bad |= parse_u8(v[6], &r->res_state) | parse_u8(v[7], &r->res_desired);
    bad |= parse_u8(v[8], &r->due_class) || r->due_class >= LC_DUE_CLASSES;
    bad |= parse_i64(v[9], 0, INT64_MAX, &ckpt);
    bad |= parse_i64(v[10], INT64_MIN, INT64_MAX, &created);
    bad |= parse_i64(v[11], INT64_MIN, INT64_MAX, &since);
    bad |= parse_i64(v[12], INT64_MIN, INT64_MAX, &closed);
    bad |= parse_i64(v[13], INT64_MIN, INT64_MAX, &due);
    bad |= copy_text(r->owner, sizeof(r->owner), v[14]);
    bad |= copy_text(r->alias[0], sizeof(r->alias[0]), v[15]);
    bad |= copy_text(r->alias[1], sizeof(r->alias[1]), v[16]);
    bad |= copy_text(r->data, sizeof(r->data), v[17]);
    if (bad) {
        return APR_EGENERAL;
    }
    r->kind = (uint8_t)kind;
    r->version = (uint64_t)version;
    r->seq = (uint64_t)pos;
    r->ckpt_seq = (uint64_t)ckpt;
    r->created = created;
    r->state_since = since;
    r->closed = closed;
    r->due = due;
    return APR_SUCCESS;
}

void lc_dbd_row_image(const lc_resource_t *r, apr_pool_t *p, const char **v)
{
    v[0] = apr_itoa(p, r->state);
    v[1] = apr_itoa(p, r->desired);
    v[2] = apr_itoa(p, r->res_state);
    v[3] = apr_itoa(p, r->res_desired);
    v[4] = apr_itoa(p, r->due_class);
    v[5] = lc_dbd_i64(p, (int64_t)r->ckpt_seq);
    v[6] = lc_dbd_i64(p, r->created);
    v[7] = lc_dbd_i64(p, r->state_since);
    v[8] = lc_dbd_i64(p, r->closed);
    v[9] = lc_dbd_i64(p, r->due);
    v[10] = r->owner;
    v[11] = r->alias[0];
    v[12] = r->alias[1];
    v[13] = r->data;
}

void lc_dbd_write_args(lc_dbd_q_e q, apr_pool_t *p, uint64_t expect, const lc_resource_t *old,
                       const lc_resource_t *r, const char **args)
{
    const char *key[4] = { apr_itoa(p, r->kind), r->id, lc_dbd_i64(p, (int64_t)expect),
                           apr_itoa(p, r->op) };

    if (q == LC_Q_UPDATE) {         /* the image first, then the key, version and op */
        lc_dbd_row_image(r, p, args);
        memcpy(args + LC_DBD_NIMAGE, key, sizeof(key));
        return;
    }
    memcpy(args, key, sizeof(key));
    lc_dbd_row_image(r, p, args + 4);
    args[4 + LC_DBD_NIMAGE] = old ? old->alias[0] : "";
    args[5 + LC_DBD_NIMAGE] = old ? old->alias[1] : "";
}

apr_status_t lc_dbd_written(const char *const *v, int *wrote, uint64_t *version,
                            uint64_t *pos)
{
    int64_t ver, at;

    if (parse_i64(v[0], 1, INT64_MAX, &ver) != 0 || parse_i64(v[1], 0, INT64_MAX, &at) != 0) {
        return LC_EUNAVAIL;
    }
    *version = (uint64_t)ver;
    *pos = (uint64_t)at;
    *wrote = 1;
    return APR_SUCCESS;
}

/* Inside an element's quotes only the quote and the backslash are special. */
static char *quote_into(char *out, const char *s)
{
    *out++ = '"';
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') {
            *out++ = '\\';
        }
        *out++ = *s;
    }
    *out++ = '"';
    return out;
}

const char *lc_dbd_array_literal(apr_pool_t *p, const char *const *vals, int stride, int n)
{
    size_t size = 3;
    char *buf, *out;
    int i;

    for (i = 0; i < n; i++) {
        size += 2 * strlen(vals[(size_t)i * stride]) + 3;
    }
    out = buf = apr_palloc(p, size);
    *out++ = '{';
    for (i = 0; i < n; i++) {
        if (i) {
            *out++ = ',';
        }
        out = quote_into(out, vals[(size_t)i * stride]);
    }
    *out++ = '}';
    *out = '\0';
    return buf;
}

int lc_dbd_sqlstate(const char *msg, char *out)
{
    const char *s = msg ? strstr(msg, ":  ") : NULL;
    int i;

    /* "ERROR:  40001: could not serialize access ..." (PQERRORS_VERBOSE) */
    if (!s) {
        return 0;
    }
    s += 3;
    for (i = 0; i < 5; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z'))) {
            return 0;
        }
    }
    if (s[5] != ':') {
        return 0;
    }
    memcpy(out, s, 5);
    out[5] = '\0';
    return 1;
}

int lc_dbd_retryable(const char *sqlstate)
{
    /* 40001 serialization_failure (CockroachDB's "restart transaction"
     * too), 40P01 deadlock_detected, 23505 unique_violation (an alias a
     * racing insert took: the rerun sees it and answers LC_EEXISTS),
     * 55P03 lock_not_available. */
    static const char *const codes[] = { "40001", "40P01", "23505", "55P03", NULL };
    int i;

    for (i = 0; codes[i]; i++) {
        if (strcmp(codes[i], sqlstate) == 0) {
            return 1;
        }
    }
    return 0;
}
