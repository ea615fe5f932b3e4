/* lc_runner_http.c — the runner's HTTP/1.1 client (see the header).
 *
 * One connection per request, closed by the server after its answer: the
 * runner makes a few requests a second at most, to a server beside it, and
 * reading to the end of the connection needs no keep-alive bookkeeping.  The
 * answer is still parsed as HTTP/1.1 says (Content-Length or chunked).
 */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "lc_runner_http.h"

apr_status_t lc_runner_http_url(apr_pool_t *p, const char *url, lc_runner_http_t *h)
{
    char *rest, *host, *scope = NULL;
    apr_port_t port = 80;
    apr_size_t n;

    if (strncmp(url, "http://", 7) != 0) {
        return APR_EINVAL;
    }
    rest = apr_pstrdup(p, url + 7);
    n = strlen(rest);
    if (n && rest[n - 1] == '/') {
        rest[n - 1] = '\0';
    }
    if (!*rest || strchr(rest, '/') || strchr(rest, '@')
        || apr_parse_addr_port(&host, &scope, &port, rest, p) != APR_SUCCESS || !host
        || scope) {
        return APR_EINVAL;
    }
    h->host = host;
    h->port = port ? port : 80;
    h->hostport = rest;
    return APR_SUCCESS;
}

static apr_status_t send_all(apr_socket_t *s, const char *buf, apr_size_t len)
{
    apr_status_t rv = APR_SUCCESS;
    apr_size_t n;

    while (len > 0 && rv == APR_SUCCESS) {
        n = len;
        rv = apr_socket_send(s, buf, &n);
        buf += n;
        len -= n;
    }
    return rv;
}

/* Everything the server sends until it closes, at most LC_RUNNER_RESP_MAX. */
static apr_status_t recv_all(apr_socket_t *s, apr_pool_t *p, char **buf, apr_size_t *len)
{
    apr_size_t cap = 16384, have = 0, n;
    char *b = malloc(cap), *nb;
    apr_status_t rv = APR_SUCCESS;

    while (b && rv == APR_SUCCESS) {
        if (have == cap) {
            if (cap >= LC_RUNNER_RESP_MAX || !(nb = realloc(b, cap * 2))) {
                free(b);
                return APR_ENOSPC;
            }
            b = nb;
            cap *= 2;
        }
        n = cap - have;
        rv = apr_socket_recv(s, b + have, &n);
        have += n;
    }
    if (!b) {
        return APR_ENOMEM;
    }
    if (rv == APR_EOF) {
        *buf = apr_pmemdup(p, b, have + 1);
        (*buf)[have] = '\0';
        *len = have;
        rv = APR_SUCCESS;
    }
    free(b);
    return rv;
}

static apr_status_t connect_to(const lc_runner_http_t *h, apr_pool_t *p,
                               apr_interval_time_t timeout, apr_socket_t **s)
{
    apr_sockaddr_t *sa;
    apr_status_t rv;

    if ((rv = apr_sockaddr_info_get(&sa, h->host, APR_UNSPEC, h->port, 0, p)) != APR_SUCCESS
        || (rv = apr_socket_create(s, sa->family, SOCK_STREAM, APR_PROTO_TCP, p))
           != APR_SUCCESS) {
        return rv;
    }
    apr_socket_timeout_set(*s, timeout);
    if ((rv = apr_socket_connect(*s, sa)) != APR_SUCCESS) {
        apr_socket_close(*s);
    }
    return rv;
}

apr_status_t lc_runner_http_request(const lc_runner_http_t *h, apr_pool_t *p, const char *method,
                                    const char *path, const char *auth, const char *if_match,
                                    const char *body, apr_interval_time_t timeout,
                                    lc_runner_resp_t *out)
{
    apr_size_t blen = body ? strlen(body) : 0, len = 0;
    apr_socket_t *s;
    apr_status_t rv;
    char *req, *buf = NULL;

    req = apr_pstrcat(p, method, " ", path, " HTTP/1.1\r\nHost: ", h->hostport,
                      "\r\nConnection: close\r\nAccept: application/json\r\n"
                      "User-Agent: lifecycle-runner\r\n",
                      auth ? "Authorization: " : "", auth ? auth : "", auth ? "\r\n" : "",
                      if_match ? "If-Match: " : "", if_match ? if_match : "",
                      if_match ? "\r\n" : "",
                      body ? "Content-Type: application/json\r\n" : "",
                      apr_psprintf(p, "Content-Length: %" APR_SIZE_T_FMT "\r\n\r\n", blen),
                      NULL);
    if ((rv = connect_to(h, p, timeout, &s)) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = send_all(s, req, strlen(req))) == APR_SUCCESS
        && (rv = send_all(s, body ? body : "", blen)) == APR_SUCCESS
        && (rv = recv_all(s, p, &buf, &len)) == APR_SUCCESS) {
        rv = lc_runner_http_parse(p, buf, len, out);
    }
    apr_socket_close(s);
    return rv;
}

/* ---- parsing ------------------------------------------------------------------------- */

/* The chunked body at b[0..len), decoded in place into *out (RFC 9112 §7.1;
 * extensions and trailers skipped). */
static apr_status_t dechunk(char *b, apr_size_t len, apr_size_t *out)
{
    apr_size_t at = 0, w = 0, size;
    char *nl, *end;

    for (;;) {
        if (!(nl = memchr(b + at, '\n', len - at))) {
            return APR_EGENERAL;
        }
        if (!apr_isxdigit(b[at])) {
            return APR_EGENERAL;
        }
        size = (apr_size_t)strtoul(b + at, &end, 16);
        if (size > len || end > nl) {
            return APR_EGENERAL;
        }
        at = (apr_size_t)(nl - b) + 1;
        if (size == 0) {
            *out = w;
            return APR_SUCCESS;
        }
        if (len - at < size + 2) {
            return APR_EGENERAL;
        }
        memmove(b + w, b + at, size);
        w += size;
        at += size;
        at += b[at] == '\r' ? 2 : 1;
    }
}

static void header(apr_pool_t *p, char *line, lc_runner_resp_t *out, long *clen, int *chunked)
{
    char *v = strchr(line, ':');

    if (!v) {
        return;
    }
    *v++ = '\0';
    while (*v == ' ' || *v == '\t') {
        v++;
    }
    if (strcasecmp(line, "Content-Length") == 0) {
        *clen = apr_isdigit(*v) ? strtol(v, NULL, 10) : -2;
    }
    else if (strcasecmp(line, "Transfer-Encoding") == 0) {
        *chunked = strcasecmp(v, "chunked") == 0;
    }
    else if (strcasecmp(line, "ETag") == 0) {
        out->etag = apr_pstrdup(p, v);
    }
}

apr_status_t lc_runner_http_parse(apr_pool_t *p, char *buf, apr_size_t len,
                                  lc_runner_resp_t *out)
{
    char *hend, *line, *next;
    long clen = -1;
    int chunked = 0;
    apr_size_t blen;

    memset(out, 0, sizeof(*out));
    if (len < 12 || strncmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' '
        || !apr_isdigit(buf[9]) || !apr_isdigit(buf[10]) || !apr_isdigit(buf[11])
        || !(hend = strstr(buf, "\r\n\r\n"))) {
        return APR_EGENERAL;
    }
    out->status = atoi(buf + 9);
    *hend = '\0';
    for (line = strstr(buf, "\r\n"); line; line = next) {
        line += 2;
        if ((next = strstr(line, "\r\n")) != NULL) {
            *next = '\0';
        }
        header(p, line, out, &clen, &chunked);
    }
    out->body = hend + 4;
    blen = len - (apr_size_t)(out->body - buf);
    if (chunked) {
        if (dechunk(out->body, blen, &blen) != APR_SUCCESS) {
            return APR_EGENERAL;
        }
    }
    else if (clen == -2 || (clen >= 0 && (apr_size_t)clen > blen)) {
        return APR_EGENERAL;        /* malformed, or cut short */
    }
    else if (clen >= 0) {
        blen = (apr_size_t)clen;
    }
    out->body[blen] = '\0';
    out->len = blen;
    return APR_SUCCESS;
}
