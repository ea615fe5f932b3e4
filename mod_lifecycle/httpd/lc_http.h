/* lc_http.h — request and response helpers shared by the dialects. */
#ifndef LC_HTTP_H
#define LC_HTTP_H

#include <httpd.h>

#include "lc_json.h"

#define LC_BODY_MAX (64 * 1024)   /* a larger body is 400 */
#if LC_BODY_MAX > LC_JSON_TEXT_MAX
#error "a body read must be a JSON text lc_json reads"
#endif

/* What a checking helper returns when it answered nothing and the handler
 * goes on; otherwise it returns the handler's result for the error it sent.
 * Not a value httpd uses: OK is 0, DECLINED -1, DONE -2, SUSPENDED -3, and
 * statuses are positive, so a helper's answer is never taken for it. */
#define LC_PROCEED (-1000)

/* Send `body` (a new reference, consumed) as JSON with `status`. */
int lc_http_json(request_rec *r, int status, json_t *body);

/* While set (in this thread), lc_http_json and lc_http_json_text set the
 * status and headers as usual but leave the body here (a pool copy) instead
 * of writing it: lc_errdoc.c asks a dialect for its error this way, from an
 * output filter where it may not write through the request's filters. */
typedef struct lc_http_capture {
    const char *text;
    apr_size_t  len;
} lc_http_capture_t;
extern __thread lc_http_capture_t *lc_http_capture;

/* Send ready JSON text (len bytes) with `status`. */
int lc_http_json_text(request_rec *r, int status, const char *text, apr_size_t len);

/* ETag: "<version>" */
void lc_http_etag(request_rec *r, uint64_t version);

/* Read the whole request body (at most LC_BODY_MAX bytes).  Returns OK, or
 * the HTTP status to answer (400 too large / broken, 413 over LimitRequestBody).
 * *len is 0 when there was no body. */
int lc_http_read_body(request_rec *r, char **buf, apr_size_t *len);

/* For endpoints that take no body: 0 when the request has none; otherwise
 * the status to answer (400, or 413 over LimitRequestBody), with *too_large
 * set when the body was refused for its size rather than for being there. */
int lc_http_refuse_body(request_rec *r, int *too_large);

/* Set Allow: for a 405 answer. */
void lc_http_allow(request_rec *r, const char *methods);

/* Request id for the audit line: mod_unique_id's, else httpd's log id, else "-". */
const char *lc_http_request_id(request_rec *r);

/* Parse the query string into a table; -1 on a duplicated or empty name, or
 * broken percent-encoding. */
int lc_http_query(request_rec *r, apr_table_t **out);

/* The first parameter of args not in `allowed` (NULL-terminated), or NULL. */
const char *lc_http_query_unknown(const apr_table_t *args, const char *const *allowed);

#endif
