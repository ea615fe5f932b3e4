/* lc_runner_api.c — the admin API calls of lifecycle-runner (see the header). */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_lib.h>

#include "lc_runner_api.h"
#include "lc_json.h"

#define ADMIN        "/lifecycle/v1"
#define CALL_TIMEOUT apr_time_from_sec(30)
/* A long-poll answers within `wait` seconds; allow the server that much more. */
#define POLL_SLACK   apr_time_from_sec(15)

apr_status_t lc_runner_api_token(lc_runner_api_t *a, apr_pool_t *p, const char **err)
{
    char buf[LC_RUNNER_TOKEN_MAX + 1], *t, *e;
    apr_size_t len = sizeof(buf) - 1;
    apr_file_t *f;
    apr_status_t rv;
    char why[120];

    if ((rv = apr_file_open(&f, a->token_file, APR_FOPEN_READ, 0, p)) != APR_SUCCESS) {
        *err = apr_psprintf(p, "%s: %s", a->token_file, apr_strerror(rv, why, sizeof(why)));
        return rv;
    }
    rv = apr_file_read_full(f, buf, len, &len);
    apr_file_close(f);
    buf[len] = '\0';
    for (t = buf; apr_isspace(*t); t++) {
    }
    for (e = t; *e > 0x20 && *e < 0x7F; e++) {
    }
    *e = '\0';
    if ((rv != APR_SUCCESS && rv != APR_EOF) || !*t || len >= sizeof(buf) - 1) {
        *err = apr_psprintf(p, "%s: no token in it (one line, at most %d bytes)",
                            a->token_file, LC_RUNNER_TOKEN_MAX);
        memset(buf, 0, sizeof(buf));
        return APR_EINVAL;
    }
    if (a->auth) {
        memset(a->auth, 0, strlen(a->auth));
        free(a->auth);
    }
    a->auth = malloc(strlen(t) + 8);
    if (a->auth) {
        strcpy(a->auth, "Bearer ");
        strcat(a->auth, t);
    }
    memset(buf, 0, sizeof(buf));
    return a->auth ? APR_SUCCESS : APR_ENOMEM;
}

apr_status_t lc_runner_api_init(apr_pool_t *p, const char *url, const char *token_file,
                                lc_runner_api_t *a, const char **err)
{
    memset(a, 0, sizeof(*a));
    if (lc_runner_http_url(p, url, &a->http) != APR_SUCCESS) {
        *err = apr_psprintf(p, "url '%s' must be http://HOST[:PORT]", url);
        return APR_EINVAL;
    }
    a->token_file = token_file;
    return lc_runner_api_token(a, p, err);
}

/* One call; the JSON body (NULL when there is none or it is not JSON). */
static int call(lc_runner_api_t *a, apr_pool_t *p, const char *method, const char *path,
                const char *if_match, json_t *body, apr_interval_time_t timeout,
                json_t **json, const char **etag)
{
    const char *text = body ? lc_json_dump(p, body, JSON_COMPACT, NULL) : NULL;
    lc_runner_resp_t r;

    *json = NULL;
    if (lc_runner_http_request(&a->http, p, method, apr_pstrcat(p, ADMIN, path, NULL), a->auth,
                               if_match, text, timeout, &r) != APR_SUCCESS) {
        return -1;
    }
    if (r.len) {
        *json = lc_json_parse(p, r.body, r.len, 0, NULL);
    }
    if (etag) {
        *etag = r.etag;
    }
    return r.status;
}

/* "7" or W/"7" -> 7; 0 when it is not a version. */
static uint64_t etag_version(const char *etag)
{
    const char *q = etag ? strchr(etag, '"') : NULL;
    char *end;
    uint64_t v;

    if (!q || !apr_isdigit(q[1])) {
        return 0;
    }
    v = strtoull(q + 1, &end, 10);
    return *end == '"' ? v : 0;
}

int lc_runner_api_changes(lc_runner_api_t *a, apr_pool_t *p, uint64_t since, int wait,
                          int limit, json_t **body)
{
    const char *path = apr_psprintf(p, "/changes?since=%" APR_UINT64_T_FMT "&wait=%d&limit=%d",
                                    (apr_uint64_t)since, wait, limit);
    int st = call(a, p, "GET", path, NULL, NULL, apr_time_from_sec(wait) + POLL_SLACK, body,
                  NULL);

    return (st == 200 && !json_is_object(*body)) ? -1 : st;
}

int lc_runner_api_get(lc_runner_api_t *a, apr_pool_t *p, const char *kind, const char *id,
                      json_t **res, uint64_t *version)
{
    const char *etag = NULL;
    int st = call(a, p, "GET", apr_pstrcat(p, "/resources/", kind, "/", id, NULL), NULL, NULL,
                  CALL_TIMEOUT, res, &etag);

    *version = etag_version(etag);
    return (st == 200 && (!json_is_object(*res) || !*version)) ? -1 : st;
}

int lc_runner_api_list(lc_runner_api_t *a, apr_pool_t *p, const char *kind, const char *after,
                       int limit, json_t **body)
{
    const char *path = apr_psprintf(p, "/resources/%s?limit=%d%s%s", kind, limit,
                                    after ? "&after=" : "", after ? after : "");
    int st = call(a, p, "GET", path, NULL, NULL, CALL_TIMEOUT, body, NULL);

    return (st == 200 && !json_is_object(*body)) ? -1 : st;
}

int lc_runner_api_report(lc_runner_api_t *a, apr_pool_t *p, const char *kind, const char *id,
                         uint64_t version, json_t *body, int put, json_t **res,
                         uint64_t *newver)
{
    const char *path = apr_pstrcat(p, "/resources/", kind, "/", id, put ? "" : "/report", NULL);
    const char *etag = NULL;
    int st = call(a, p, put ? "PUT" : "POST", path,
                  apr_psprintf(p, "\"%" APR_UINT64_T_FMT "\"", (apr_uint64_t)version), body, CALL_TIMEOUT,
                  res, &etag);

    *newver = etag_version(etag);
    return st;
}

int lc_runner_api_progress(lc_runner_api_t *a, apr_pool_t *p, const char *kind, const char *id,
                           json_t *body, json_t **res)
{
    return call(a, p, "POST", apr_pstrcat(p, "/resources/", kind, "/", id, "/report", NULL),
                NULL, body, CALL_TIMEOUT, res, NULL);
}

const char *lc_runner_api_message(json_t *body)
{
    const char *m = json_string_value(json_object_get(body, "message"));

    return m ? m : "";
}
