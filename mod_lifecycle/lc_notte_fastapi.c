/* lc_notte_fastapi.c — FastAPI's and pydantic's side of the Notte dialect.
 *
 * Notte is a FastAPI application: errors are {"detail": "..."}, and request
 * validation errors are FastAPI's 422 lists, reproduced here field by field
 * (pydantic v2 types and messages, FastAPI's json_invalid for broken JSON,
 * Python's json error messages and character positions).  Both collections,
 * /agents and /sessions, validate their bodies with these; the entries and
 * the checks of one field are in lc_notte_pydantic.c (pure, for the kinds'
 * admin PUT bodies too).
 */
#include <string.h>
#include <httpd.h>
#include <http_log.h>
#include <http_protocol.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "lc_notte.h"
#include "lc_http.h"
#include "lc_util.h"

APLOG_USE_MODULE(lifecycle);

/* ---- Python's json errors, for FastAPI's json_invalid ------------------------
 *
 * FastAPI answers a body json.loads() refuses with
 *   {"type":"json_invalid","loc":["body",<e.pos>],"msg":"JSON decode error",
 *    "input":{},"ctx":{"error":<e.msg>}}
 * so this scanner follows CPython's decoder (3.12 and before): the same
 * grammar (NaN and Infinity included), the same messages, the same position
 * (in characters).  It only finds the first error; jansson then parses. */

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
                    return pj_fail(p, "Invalid \\uXXXX escape", p->i);
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
    size_t i = p->i + (p->s[p->i] == '-');

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

/* ---- FastAPI's errors --------------------------------------------------------- */

/* FastAPI: {"detail": "..."}. */
int lc_notte_error(lc_req_t *q, int status, const char *code, const char *message)
{
    (void)code;
    return lc_http_json(q->r, status, json_pack("{s:s}", "detail", message ? message : ""));
}

int lc_notte_unprocessable(lc_req_t *q, json_t *errors)
{
    return lc_http_json(q->r, HTTP_UNPROCESSABLE_ENTITY, json_pack("{s:o}", "detail", errors));
}

/* ---- the body ---------------------------------------------------------------- */

#define PARSE_ERROR "There was an error parsing the body"

/* Whether FastAPI would read the body as JSON: no Content-Type, or
 * application/json or application/<anything>+json. */
static int json_content(request_rec *r)
{
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    char *t, *semi;
    size_t n;

    if (!ct || !*ct) {
        return 1;
    }
    t = apr_pstrdup(r->pool, ct);
    if ((semi = strchr(t, ';')) != NULL) {
        *semi = '\0';
    }
    ap_str_tolower(t);
    apr_collapse_spaces(t, t);
    n = strlen(t);
    return strcmp(t, "application/json") == 0
           || (strncmp(t, "application/", 12) == 0 && n > 17 && strcmp(t + n - 5, "+json") == 0);
}

static int not_an_object(lc_req_t *q, json_t *input)
{
    json_t *errors = json_array();

    lc_notte_err(errors, "model_attributes_type", "body", NULL,
           "Input should be a valid dictionary or object to extract fields from", input, NULL);
    return lc_notte_unprocessable(q, errors);
}

static int decode_object(lc_req_t *q, const char *buf, apr_size_t len, json_t **out)
{
    json_t *errors, *j;
    pj_t pj;

    if (len == 0) {
        errors = json_array();
        lc_notte_err(errors, "missing", "body", NULL, "Field required", json_null(), NULL);
        return lc_notte_unprocessable(q, errors);
    }
    if (!lc_utf8_valid(buf, len) || memchr(buf, '\0', len)) {
        return lc_notte_error(q, HTTP_BAD_REQUEST, "invalid_request", PARSE_ERROR);
    }
    if (!json_content(q->r)) {
        /* FastAPI hands the raw bytes to pydantic, which wants an object. */
        return not_an_object(q, json_stringn(buf, len));
    }
    if (pj_scan(&pj, buf, len) != 0) {
        if (pj.deep) {
            return lc_notte_error(q, HTTP_BAD_REQUEST, "invalid_request", PARSE_ERROR);
        }
        errors = json_array();
        json_array_append_new(errors, json_pack("{s:s, s:[s,I], s:s, s:{}, s:{s:s}}",
            "type", "json_invalid", "loc", "body", (json_int_t)char_pos(buf, pj.pos),
            "msg", "JSON decode error", "input", "ctx", "error", pj.msg));
        return lc_notte_unprocessable(q, errors);
    }
    /* What Python reads and jansson does not (NaN, huge numbers, \u0000). */
    if (!(j = json_loadb(buf, len, JSON_DECODE_ANY, NULL))) {
        return lc_notte_error(q, HTTP_BAD_REQUEST, "invalid_request", PARSE_ERROR);
    }
    if (!json_is_object(j)) {
        return not_an_object(q, j);
    }
    *out = j;
    return LC_PROCEED;
}

int lc_notte_read_object(lc_req_t *q, json_t **out)
{
    apr_size_t len;
    char *buf;
    int rc;

    *out = NULL;
    if ((rc = lc_http_read_body(q->r, &buf, &len)) != OK) {
        return lc_notte_error(q, rc, "invalid_request", "The request body is too large");
    }
    return decode_object(q, buf, len, out);
}

/* ---- shared by both collections ----------------------------------------------- */

void lc_notte_log_client(request_rec *r)
{
    const char *origin = apr_table_get(r->headers_in, "x-notte-request-origin");
    const char *sdk = apr_table_get(r->headers_in, "x-notte-sdk-version");

    if (origin || sdk) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "notte client: request-origin=%s "
                      "sdk-version=%s", origin ? ap_escape_logitem(r->pool, origin) : "-",
                      sdk ? ap_escape_logitem(r->pool, sdk) : "-");
    }
}

int lc_notte_method_not_allowed(lc_req_t *q, const char *allow)
{
    lc_http_allow(q->r, allow);
    return lc_notte_error(q, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "Method Not Allowed");
}
