/* lc_runner_http.h — the minimal HTTP/1.1 client lifecycle-runner speaks to
 * the server with: one request per connection (Connection: close) over an
 * APR socket, for a server on loopback or a near host.  No TLS: put the
 * runner beside the server, or behind a local TLS proxy.
 * Pure (APR only). */
#ifndef LC_RUNNER_HTTP_H
#define LC_RUNNER_HTTP_H

#include <apr_pools.h>
#include <apr_network_io.h>

/* The largest response read (a page of the change feed, a list page). */
#define LC_RUNNER_RESP_MAX (8 * 1024 * 1024)

typedef struct lc_runner_http {
    const char *host;
    apr_port_t  port;
    const char *hostport;       /* the Host header */
} lc_runner_http_t;

typedef struct lc_runner_resp {
    int          status;
    const char  *etag;          /* the ETag header, or NULL */
    char        *body;          /* NUL-terminated */
    apr_size_t   len;
} lc_runner_resp_t;

/* http://HOST[:PORT] (an optional trailing '/'), HOST a name, an IPv4
 * address or [IPv6]. */
apr_status_t lc_runner_http_url(apr_pool_t *p, const char *url, lc_runner_http_t *h);

/* One request.  `auth` is the whole Authorization value (never logged),
 * `if_match` the ETag to send (NULL: none), `body` JSON text (NULL: none).
 * APR_SUCCESS with *out filled for any HTTP status; an APR error when the
 * server could not be reached or answered something that is not HTTP. */
apr_status_t lc_runner_http_request(const lc_runner_http_t *h, apr_pool_t *p, const char *method,
                                    const char *path, const char *auth, const char *if_match,
                                    const char *body, apr_interval_time_t timeout,
                                    lc_runner_resp_t *out);

/* Parse a whole response (buf[0..len), the connection closed after it):
 * status line, headers, a body by Content-Length, chunked, or to the end.
 * buf is changed in place. */
apr_status_t lc_runner_http_parse(apr_pool_t *p, char *buf, apr_size_t len,
                                  lc_runner_resp_t *out);

#endif
