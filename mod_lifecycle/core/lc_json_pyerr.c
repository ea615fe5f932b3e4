/* lc_json_pyerr.c — Python's json errors, for FastAPI's json_invalid.
 *
 * FastAPI answers a body json.loads() refuses with
 *   {"type":"json_invalid","loc":["body",<e.pos>],"msg":"JSON decode error",
 *    "input":{},"ctx":{"error":<e.msg>}}
 * so this scanner follows CPython's decoder (3.12 and before): the same
 * grammar (NaN and Infinity included), the same messages, the same position
 * (in characters).  It only finds the first error; lc_json then parses.
 * Its own recursion stops at LC_JSON_DEPTH_MAX, where lc_json refuses. */
#include <string.h>
#include <apr_lib.h>

#include "lc_json.h"
#include "lc_json_pyerr.h"

typedef struct pj {
    const char *s;
    size_t      n, i;
    const char *msg;      /* first error */
    size_t      pos;      /* its byte offset */
    int         deep;     /* nested more than LC_JSON_DEPTH_MAX */
} pj_t;

static int pj_fail(pj_t *p, const char *msg, size_t pos)
{
    p->msg = msg;
    p->pos = pos;
    return -1;
}

static void pj_ws(pj_t *p)
{
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t'
                           || p->s[p->i] == '\n' || p->s[p->i] == '\r')) {
        p->i++;
    }
}

static int pj_at(pj_t *p, const char *lit)
{
    size_t len = strlen(lit);

    if (p->n - p->i >= len && memcmp(p->s + p->i, lit, len) == 0) {
        p->i += len;
        return 1;
    }
    return 0;
}

static int pj_string(pj_t *p)
{
    size_t start = p->i++, k;

    while (p->i < p->n) {
        unsigned char c = (unsigned char)p->s[p->i];
        if (c == '"') {
            p->i++;
            return 0;
        }
        if (c < 0x20) {
            return pj_fail(p, "Invalid control character at", p->i);
        }
        if (c != '\\') {
            p->i++;
            continue;
        }
        if (p->i + 1 >= p->n) {
            break;
        }
        c = (unsigned char)p->s[p->i + 1];
        if (c == 'u') {
            for (k = 2; k < 6; k++) {
                if (p->i + k >= p->n || !apr_isxdigit(p->s[p->i + k])) {
                    /* At the u, as CPython says (json/decoder.py: _decode_uXXXX). */
                    return pj_fail(p, "Invalid \\uXXXX escape", p->i + 1);
                }
            }
            p->i += 6;
        }
        else if (strchr("\"\\/bfnrt", c) && c) {
            p->i += 2;
        }
        else {
            return pj_fail(p, "Invalid \\escape", p->i);
        }
    }
    return pj_fail(p, "Unterminated string starting at", start);
}

/* -?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)? — a partial match stops where it fails. */
static int pj_number(pj_t *p)
{
    size_t i = p->i + (p->i < p->n && p->s[p->i] == '-');   /* s needs no NUL */

    if (i >= p->n || !apr_isdigit(p->s[i])) {
        return pj_fail(p, "Expecting value", p->i);
    }
    if (p->s[i] == '0') i++;
    else while (i < p->n && apr_isdigit(p->s[i])) i++;
    if (i + 1 < p->n && p->s[i] == '.' && apr_isdigit(p->s[i + 1])) {
        for (i += 2; i < p->n && apr_isdigit(p->s[i]); i++);
    }
    if (i < p->n && (p->s[i] == 'e' || p->s[i] == 'E')) {
        size_t j = i + 1 + (i + 1 < p->n && (p->s[i + 1] == '+' || p->s[i + 1] == '-'));
        if (j < p->n && apr_isdigit(p->s[j])) {
            for (i = j; i < p->n && apr_isdigit(p->s[i]); i++);
        }
    }
    p->i = i;
    return 0;
}

static int pj_value(pj_t *p, int depth);

/* The members of an object or the items of an array, after its opening. */
static int pj_container(pj_t *p, int depth, char close)
{
    int object = close == '}';

    p->i++;
    pj_ws(p);
    if (p->i < p->n && p->s[p->i] == close) {
        p->i++;
        return 0;
    }
    for (;;) {
        if (object) {
            if (p->i >= p->n || p->s[p->i] != '"') {
                return pj_fail(p, "Expecting property name enclosed in double quotes", p->i);
            }
            if (pj_string(p) < 0) return -1;
            pj_ws(p);
            if (p->i >= p->n || p->s[p->i] != ':') {
                return pj_fail(p, "Expecting ':' delimiter", p->i);
            }
            p->i++;
            pj_ws(p);
        }
        if (pj_value(p, depth + 1) < 0) return -1;
        pj_ws(p);
        if (p->i < p->n && p->s[p->i] == close) {
            p->i++;
            return 0;
        }
        if (p->i >= p->n || p->s[p->i] != ',') {
            return pj_fail(p, "Expecting ',' delimiter", p->i);
        }
        p->i++;
        pj_ws(p);
    }
}

static int pj_value(pj_t *p, int depth)
{
    char c = p->i < p->n ? p->s[p->i] : '\0';

    if ((c == '{' || c == '[') && depth >= LC_JSON_DEPTH_MAX) {
        p->deep = 1;
        return pj_fail(p, "too deep", p->i);
    }
    if (c == '{') return pj_container(p, depth, '}');
    if (c == '[') return pj_container(p, depth, ']');
    if (c == '"') return pj_string(p);
    if (pj_at(p, "null") || pj_at(p, "true") || pj_at(p, "false") || pj_at(p, "NaN")
        || pj_at(p, "Infinity") || pj_at(p, "-Infinity")) {
        return 0;
    }
    return pj_number(p);
}

/* 0, or -1 with p->msg and p->pos as json.loads() would report them. */
static int pj_scan(pj_t *p, const char *s, size_t n)
{
    memset(p, 0, sizeof(*p));
    p->s = s;
    p->n = n;
    pj_ws(p);
    if (pj_value(p, 0) < 0) {
        return -1;
    }
    pj_ws(p);
    return p->i == n ? 0 : pj_fail(p, "Extra data", p->i);
}

/* Python counts positions in characters, not bytes. */
static long char_pos(const char *s, size_t bytes)
{
    long n = 0;
    size_t i;

    for (i = 0; i < bytes; i++) {
        n += ((unsigned char)s[i] & 0xc0) != 0x80;
    }
    return n;
}

int lc_json_pyerr_scan(const char *text, size_t len, lc_json_pyerr_t *e)
{
    pj_t pj;

    memset(e, 0, sizeof(*e));
    if (pj_scan(&pj, text, len) == 0) {
        return 0;
    }
    e->msg = pj.msg;
    e->pos = char_pos(text, pj.pos);
    e->deep = pj.deep;
    return -1;
}
