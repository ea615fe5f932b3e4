/* lc_http.c — JSON responses, bounded bodies, validators, query strings. */
#include <string.h>
#include <httpd.h>
#include <http_protocol.h>
#include <http_log.h>
#include <apr_strings.h>

#include "lc_http.h"
#include "lc_util.h"

__thread lc_http_capture_t *lc_http_capture;

/* The body, written or, while lc_http_capture is set, kept there. */
static void send_body(request_rec *r, const char *text, apr_size_t len)
{
    if (lc_http_capture) {
        lc_http_capture->text = apr_pstrmemdup(r->pool, text, len);
        lc_http_capture->len = len;
    }
    else if (!r->header_only) {
        ap_rwrite(text, (int)len, r);
    }
}

int lc_http_json(request_rec *r, int status, json_t *body)
{
    /* JSON_ENCODE_ANY: some APIs answer a bare JSON string (Feldera's 202s). */
    char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);

    json_decref(body);
    if (!text) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    r->status = status;
    ap_set_content_type(r, "application/json; charset=utf-8");
    ap_set_content_length(r, (apr_off_t)strlen(text));
    send_body(r, text, strlen(text));
    free(text);
    return OK;
}

int lc_http_json_text(request_rec *r, int status, const char *text, apr_size_t len)
{
    if (!text) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    r->status = status;
    ap_set_content_type(r, "application/json; charset=utf-8");
    ap_set_content_length(r, (apr_off_t)len);
    send_body(r, text, len);
    return OK;
}

void lc_http_etag(request_rec *r, uint64_t version)
{
    apr_table_setn(r->headers_out, "ETag",
                   apr_psprintf(r->pool, "\"%" APR_UINT64_T_FMT "\"", version));
}

int lc_http_read_body(request_rec *r, char **buf, apr_size_t *len)
{
    apr_size_t cap = 0;
    int rc;

    *buf = NULL;
    *len = 0;
    if ((rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK) {
        return rc;
    }
    if (!ap_should_client_block(r)) {
        return OK;
    }
    if (r->remaining > LC_BODY_MAX) {
        ap_discard_request_body(r);
        return HTTP_BAD_REQUEST;
    }
    for (;;) {
        long n;
        if (*len == cap) {
            char *grown;
            if (cap > LC_BODY_MAX) {
                ap_discard_request_body(r);
                return HTTP_BAD_REQUEST;
            }
            cap = cap ? cap * 2 : 8192;
            grown = apr_palloc(r->pool, cap + 1);
            if (*len) {
                memcpy(grown, *buf, *len);
            }
            *buf = grown;
        }
        n = ap_get_client_block(r, *buf + *len, cap - *len);
        if (n == 0) {
            break;
        }
        if (n < 0) {
            /* LimitRequestBody or a broken chunked body; httpd set the status. */
            return r->status == HTTP_REQUEST_ENTITY_TOO_LARGE
                   ? HTTP_REQUEST_ENTITY_TOO_LARGE : HTTP_BAD_REQUEST;
        }
        *len += (apr_size_t)n;
    }
    if (*len > LC_BODY_MAX) {
        return HTTP_BAD_REQUEST;
    }
    (*buf)[*len] = '\0';
    return OK;
}

int lc_http_refuse_body(request_rec *r, int *too_large)
{
    char *buf;
    apr_size_t len;
    int rc = lc_http_read_body(r, &buf, &len);

    *too_large = rc != OK;
    return rc != OK ? rc : len > 0 ? HTTP_BAD_REQUEST : 0;
}

void lc_http_allow(request_rec *r, const char *methods)
{
    apr_table_setn(r->err_headers_out, "Allow", methods);
}

const char *lc_http_request_id(request_rec *r)
{
    const char *id = apr_table_get(r->subprocess_env, "UNIQUE_ID");

    if (!id) {
        id = r->log_id;
    }
    return id ? id : "-";
}

int lc_http_query(request_rec *r, apr_table_t **out)
{
    char *q, *pair, *last;

    *out = apr_table_make(r->pool, 4);
    if (!r->args || !*r->args) {
        return 0;
    }
    if (strlen(r->args) > 4096) {
        return -1;
    }
    q = apr_pstrdup(r->pool, r->args);
    for (pair = apr_strtok(q, "&", &last); pair; pair = apr_strtok(NULL, "&", &last)) {
        char *eq = strchr(pair, '=');
        const char *name, *value;
        char *p;

        /* application/x-www-form-urlencoded: '+' is a space */
        for (p = pair; *p; p++) {
            if (*p == '+') *p = ' ';
        }
        name = lc_segment_decode(r->pool, pair, eq ? (apr_size_t)(eq - pair) : strlen(pair));
        value = eq ? lc_segment_decode(r->pool, eq + 1, strlen(eq + 1)) : "";
        if (!name || !value || !*name || apr_table_get(*out, name)) {
            return -1;
        }
        apr_table_setn(*out, name, value);
    }
    return 0;
}

const char *lc_http_query_unknown(const apr_table_t *args, const char *const *allowed)
{
    const apr_array_header_t *arr = apr_table_elts(args);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    int i, k;

    for (i = 0; i < arr->nelts; i++) {
        for (k = 0; allowed[k] && strcmp(e[i].key, allowed[k]) != 0; k++) {
        }
        if (!allowed[k]) {
            return e[i].key;
        }
    }
    return NULL;
}
