/* lc_notte_fastapi.c — FastAPI's and pydantic's side of the Notte dialect.
 *
 * Notte is a FastAPI application: errors are {"detail": "..."}, and request
 * validation errors are FastAPI's 422 lists, reproduced here field by field
 * (pydantic v2 types and messages, FastAPI's json_invalid for broken JSON
 * with Python's json error messages and character positions, which
 * lc_json_pyerr.c finds).  Both collections, /agents and /sessions,
 * validate their bodies with these; the entries and the checks of one
 * field are in lc_notte_pydantic.c (pure, for the kinds' admin PUT bodies
 * too).
 */
#include <string.h>
#include <httpd.h>
#include <http_log.h>
#include <http_protocol.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "lc_notte.h"
#include "lc_http.h"
#include "lc_json_pyerr.h"
#include "lc_util.h"
#include "lc_log.h"

APLOG_USE_MODULE(lifecycle);

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
    lc_json_pyerr_t pe;

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
    if (lc_json_pyerr_scan(buf, len, &pe) != 0) {
        if (pe.deep) {
            return lc_notte_error(q, HTTP_BAD_REQUEST, "invalid_request", PARSE_ERROR);
        }
        errors = json_array();
        json_array_append_new(errors, json_pack("{s:s, s:[s,I], s:s, s:{}, s:{s:s}}",
            "type", "json_invalid", "loc", "body", (json_int_t)pe.pos,
            "msg", "JSON decode error", "input", "ctx", "error", pe.msg));
        return lc_notte_unprocessable(q, errors);
    }
    /* Any value, the last of duplicate names, as json.loads() reads them.
     * What Python reads and jansson does not (NaN, huge numbers, \u0000). */
    j = lc_json_parse(q->r->pool, buf, len, LC_JSON_ANY_VALUE | LC_JSON_LAST_WINS, NULL);
    if (!j) {
        return lc_notte_error(q, HTTP_BAD_REQUEST, "invalid_request", PARSE_ERROR);
    }
    if (!json_is_object(j)) {
        return not_an_object(q, json_incref(j));
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

/* ---- the query string --------------------------------------------------------- */

/* Python's unquote_plus: '+' is a space, a %XX that is not one stays as it is. */
static char *unquote(apr_pool_t *p, const char *s, size_t n, size_t *outlen)
{
    char *out = apr_palloc(p, n + 1);
    size_t i, o = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n
            && apr_isxdigit(s[i + 1]) && apr_isxdigit(s[i + 2])) {
            char hex[3] = { s[i + 1], s[i + 2], '\0' };
            out[o++] = (char)strtol(hex, NULL, 16);
            i += 2;
        }
        else {
            out[o++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

int lc_notte_query(request_rec *r, const char *name, lc_notte_session_ref_t *out)
{
    const char *a = r->args ? r->args : "";
    int found = -1;

    while (*a) {
        size_t n = strcspn(a, "&"), nlen, klen;
        const char *eq = memchr(a, '=', n);
        const char *key = unquote(r->pool, a, eq ? (size_t)(eq - a) : n, &klen);

        if (n && strlen(key) == klen && strcmp(key, name) == 0) {
            out->value = eq ? unquote(r->pool, eq + 1, n - (size_t)(eq + 1 - a), &nlen) : "";
            out->len = eq ? nlen : 0;
            found = 0;
        }
        a += n + (a[n] == '&');
    }
    return found;
}

int lc_notte_session_param(lc_req_t *q, lc_notte_session_ref_t *session)
{
    static const lc_notte_field_t field = { "query", "session_id", 1, 1, 1 << 20 };
    json_t *errors = json_array(), *v = NULL;

    if (lc_notte_query(q->r, "session_id", session) == 0) {
        v = json_stringn_nocheck(session->value, session->len);
    }
    lc_notte_check_str(errors, &field, v, NULL, q->r->pool);
    json_decref(v);
    if (json_array_size(errors) > 0) {
        return lc_notte_unprocessable(q, errors);
    }
    json_decref(errors);
    return LC_PROCEED;
}

/* ---- shared by both collections ----------------------------------------------- */

void lc_notte_log_client(request_rec *r)
{
    const char *origin = apr_table_get(r->headers_in, "x-notte-request-origin");
    const char *sdk = apr_table_get(r->headers_in, "x-notte-sdk-version");

    if (origin || sdk) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, LC_LOGNO(00001) "notte client: request-origin=%s "
                      "sdk-version=%s", origin ? ap_escape_logitem(r->pool, origin) : "-",
                      sdk ? ap_escape_logitem(r->pool, sdk) : "-");
    }
}

int lc_notte_method_not_allowed(lc_req_t *q, const char *allow)
{
    lc_http_allow(q->r, allow);
    return lc_notte_error(q, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "Method Not Allowed");
}
