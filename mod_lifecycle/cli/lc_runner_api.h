/* lc_runner_api.h — the admin API calls lifecycle-runner makes
 * (/lifecycle/v1, README "Admin and runner API"), over lc_runner_http.c,
 * with the bearer token read from its file (never logged).
 *
 * Each call answers the HTTP status, or -1 when the server could not be
 * reached (or answered something that is not HTTP or not JSON); JSON
 * bodies are parsed into p (lc_json_parse: the module's own limits). */
#ifndef LC_RUNNER_API_H
#define LC_RUNNER_API_H

#include <stdint.h>
#include <jansson.h>
#include <apr_pools.h>

#include "lc_runner_http.h"

/* The longest token file read (the server refuses tokens over 8 KiB). */
#define LC_RUNNER_TOKEN_MAX 16384

typedef struct lc_runner_api {
    lc_runner_http_t http;
    const char      *token_file;
    char            *auth;          /* "Bearer <token>", malloc'd */
} lc_runner_api_t;

/* The URL and the token file; reads the token.  *err says what is wrong. */
apr_status_t lc_runner_api_init(apr_pool_t *p, const char *url, const char *token_file,
                                lc_runner_api_t *a, const char **err);

/* Read the token file again (after a 401: it may have been renewed). */
apr_status_t lc_runner_api_token(lc_runner_api_t *a, apr_pool_t *p, const char **err);

/* GET /changes?since=&wait=&limit= */
int lc_runner_api_changes(lc_runner_api_t *a, apr_pool_t *p, uint64_t since, int wait,
                          int limit, json_t **body);

/* GET /resources/{kind}/{id}: the representation and its version (ETag). */
int lc_runner_api_get(lc_runner_api_t *a, apr_pool_t *p, const char *kind, const char *id,
                      json_t **res, uint64_t *version);

/* GET /resources/{kind}?limit=&after= */
int lc_runner_api_list(lc_runner_api_t *a, apr_pool_t *p, const char *kind, const char *after,
                       int limit, json_t **body);

/* POST /resources/{kind}/{id}/report, or PUT /resources/{kind}/{id} (put),
 * with If-Match: version.  *res and *newver: what the server answered. */
int lc_runner_api_report(lc_runner_api_t *a, apr_pool_t *p, const char *kind, const char *id,
                         uint64_t version, json_t *body, int put, json_t **res,
                         uint64_t *newver);

/* POST /resources/{kind}/{id}/report without If-Match: a command's progress
 * report (lc_runner_progress.c).  *res: what the server answered. */
int lc_runner_api_progress(lc_runner_api_t *a, apr_pool_t *p, const char *kind, const char *id,
                           json_t *body, json_t **res);

/* The "message" of an error body, or "" (for the log). */
const char *lc_runner_api_message(json_t *body);

#endif
