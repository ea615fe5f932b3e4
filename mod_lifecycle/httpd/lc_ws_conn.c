/* lc_ws_conn.c — a WebSocket on the request's connection (lc_ws_conn.h).
 *
 * After the 101, bytes go straight to the connection's filters (core, and
 * mod_ssl's when it is there), below the request's HTTP filters: nothing
 * may chunk or add headers to frames.  Reads are non-blocking first (bytes
 * a filter already holds), then a poll of the socket bounded by the
 * caller's wait, then a read of what arrived.  mod_reqtimeout's filter is
 * taken off the connection as mod_proxy_wstunnel does: a watcher is quiet
 * for minutes by design.
 */
#include <string.h>
#include <httpd.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_filter.h>
#include <apr_poll.h>
#include <apr_strings.h>

#include "lc_ws_conn.h"
#include "lc_log.h"

APLOG_USE_MODULE(lifecycle);

/* Client bytes buffered: a whole frame of the largest size read. */
#define IN_BUF (LC_WS_IN_MAX + 14)

struct lc_ws_conn {
    request_rec        *r;
    conn_rec           *c;
    apr_socket_t       *sock;
    apr_bucket_brigade *bb;
    unsigned char       in[IN_BUF];
    apr_size_t          nin;
    int                 ended;        /* 0 open, else as lc_ws_conn_poll says */
    int                 close_sent;
    apr_off_t           sent;         /* bytes written after the 101, for the log */
};

int lc_ws_conn_check(request_rec *r, char accept[LC_WS_ACCEPT_LEN + 1], const char **why)
{
    const char *up = apr_table_get(r->headers_in, "Upgrade");
    const char *conn = apr_table_get(r->headers_in, "Connection");
    const char *ver = apr_table_get(r->headers_in, "Sec-WebSocket-Version");

    if (!up || !ap_find_token(r->pool, up, "websocket") || !conn
        || !ap_find_token(r->pool, conn, "upgrade") || r->proto_num < HTTP_VERSION(1, 1)) {
        apr_table_setn(r->err_headers_out, "Upgrade", "websocket");
        apr_table_setn(r->err_headers_out, "Connection", "Upgrade");
        *why = "This endpoint is a WebSocket: send Upgrade: websocket (HTTP/1.1)";
        return HTTP_UPGRADE_REQUIRED;
    }
    if (!ver || strcmp(ver, "13") != 0) {
        /* §4.4: the versions this server speaks. */
        apr_table_setn(r->err_headers_out, "Sec-WebSocket-Version", "13");
        *why = "Unsupported WebSocket version: 13 is the one spoken here";
        return HTTP_UPGRADE_REQUIRED;
    }
    if (lc_ws_accept(apr_table_get(r->headers_in, "Sec-WebSocket-Key"), accept) != 0) {
        *why = "Sec-WebSocket-Key must be the base64 of 16 bytes";
        return HTTP_BAD_REQUEST;
    }
    return 0;
}

/* Write and flush: frames go out as they are made. */
static apr_status_t conn_write(lc_ws_conn_t *w, const void *a, apr_size_t na,
                               const void *b, apr_size_t nb)
{
    apr_status_t rv;

    apr_brigade_write(w->bb, NULL, NULL, a, na);
    if (nb) {
        apr_brigade_write(w->bb, NULL, NULL, b, nb);
    }
    APR_BRIGADE_INSERT_TAIL(w->bb, apr_bucket_flush_create(w->c->bucket_alloc));
    rv = ap_pass_brigade(w->c->output_filters, w->bb);
    apr_brigade_cleanup(w->bb);
    w->sent += (apr_off_t)(na + nb);
    return rv;
}

static apr_status_t send_frame(lc_ws_conn_t *w, int opcode, const void *p, apr_size_t n)
{
    unsigned char hdr[LC_WS_HEADER_MAX];
    apr_size_t hl = lc_ws_header(hdr, opcode, n);
    apr_status_t rv;

    if (w->close_sent) {
        return APR_EOF;                  /* §5.5.1: nothing after a close */
    }
    if ((rv = conn_write(w, hdr, hl, p, n)) != APR_SUCCESS) {
        w->ended = w->ended ? w->ended : -1;
    }
    return rv;
}

lc_ws_conn_t *lc_ws_conn_open(request_rec *r, const char *accept)
{
    lc_ws_conn_t *w = apr_pcalloc(r->pool, sizeof(*w));
    const char *head = apr_pstrcat(r->pool, "HTTP/1.1 101 Switching Protocols\r\n"
                                   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                   "Sec-WebSocket-Accept: ", accept, "\r\n\r\n", NULL);

    w->r = r;
    w->c = r->connection;
    w->sock = ap_get_conn_socket(w->c);
    w->bb = apr_brigade_create(r->pool, w->c->bucket_alloc);
    ap_remove_input_filter_byhandle(w->c->input_filters, "reqtimeout");
    /* No keep-alive after it, and what httpd logs is the 101. */
    w->c->keepalive = AP_CONN_CLOSE;
    r->status = HTTP_SWITCHING_PROTOCOLS;
    r->status_line = "101 Switching Protocols";
    if (conn_write(w, head, strlen(head), NULL, 0) != APR_SUCCESS) {
        w->ended = -1;
    }
    w->sent = 0;
    return w;
}

apr_status_t lc_ws_conn_text(lc_ws_conn_t *w, const char *s, apr_size_t n)
{
    return w->ended ? APR_EOF : send_frame(w, LC_WS_TEXT, s, n);
}

static void send_close(lc_ws_conn_t *w, unsigned code, const char *reason)
{
    unsigned char p[2 + 123];
    apr_size_t rl = reason ? strlen(reason) : 0;

    rl = rl > 123 ? 123 : rl;
    p[0] = (unsigned char)(code >> 8);
    p[1] = (unsigned char)code;
    if (rl) {
        memcpy(p + 2, reason, rl);
    }
    send_frame(w, LC_WS_CLOSE, p, 2 + rl);
    w->close_sent = 1;
}

/* The frame ends the connection with `code` (we close). */
static int fail(lc_ws_conn_t *w, unsigned code, const char *reason)
{
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, w->r, LC_LOGNO(00031) "websocket: closing %u: %s", code, reason);
    send_close(w, code, reason);
    return w->ended = (int)code;
}

/* One whole client frame at w->in (`len` bytes, header f).  0, or the end. */
static int on_frame(lc_ws_conn_t *w, const lc_ws_frame_t *f, unsigned char *payload)
{
    unsigned code;

    lc_ws_unmask(payload, (apr_size_t)f->len, f->mask);
    switch (f->opcode) {
    case LC_WS_PING:
        send_frame(w, LC_WS_PONG, payload, (apr_size_t)f->len);
        return w->ended;
    case LC_WS_PONG:
        return 0;
    case LC_WS_CLOSE:
        if (!lc_ws_close_payload(payload, (apr_size_t)f->len, &code)) {
            return fail(w, LC_WS_PROTOCOL, "invalid close frame");
        }
        if (!w->close_sent) {
            send_close(w, code == 1005 ? LC_WS_NORMAL : code, NULL);   /* §5.5.1: echo */
        }
        return w->ended = (int)code;
    case LC_WS_CONT:
        /* No message was started: this endpoint never accepts a first fragment. */
        return fail(w, LC_WS_PROTOCOL, "continuation frame without a message");
    case LC_WS_BINARY:
        return fail(w, LC_WS_UNSUPPORTED, "this endpoint takes no binary messages");
    default:                             /* text */
        if (!f->fin) {
            return fail(w, LC_WS_UNSUPPORTED, "this endpoint takes no fragmented messages");
        }
        return 0;                        /* a whole text message: nothing to do with it */
    }
}

/* Every whole frame buffered; 0 or the end. */
static int on_bytes(lc_ws_conn_t *w)
{
    lc_ws_frame_t f;
    long whole;
    int end;

    while (!w->ended && (whole = lc_ws_parse(w->in, w->nin, LC_WS_IN_MAX, &f)) != 0) {
        if (whole < 0) {
            return fail(w, (unsigned)-whole, whole == -LC_WS_TOO_BIG ? "frame too big"
                                                                     : "protocol error");
        }
        if ((end = on_frame(w, &f, w->in + f.hdr)) != 0) {
            return end;
        }
        memmove(w->in, w->in + whole, w->nin - (apr_size_t)whole);
        w->nin -= (apr_size_t)whole;
    }
    return w->ended;
}

/* Append what the filters give (up to the room left); 1 when something
 * came, 0 nothing, -1 the peer is gone. */
static int read_some(lc_ws_conn_t *w, apr_read_type_e how)
{
    apr_size_t room = sizeof(w->in) - w->nin, got = room;
    apr_status_t rv;
    int eos;

    if (room == 0) {
        return 0;                        /* lc_ws_parse refuses such a frame first */
    }
    rv = ap_get_brigade(w->c->input_filters, w->bb, AP_MODE_READBYTES, how, (apr_off_t)room);
    eos = !APR_BRIGADE_EMPTY(w->bb) && APR_BUCKET_IS_EOS(APR_BRIGADE_LAST(w->bb));
    if (rv == APR_SUCCESS) {
        rv = apr_brigade_flatten(w->bb, (char *)w->in + w->nin, &got);
    }
    apr_brigade_cleanup(w->bb);
    if (APR_STATUS_IS_EAGAIN(rv) && how == APR_NONBLOCK_READ) {
        return 0;
    }
    if (rv != APR_SUCCESS || (how == APR_BLOCK_READ && got == 0) || (eos && got == 0)) {
        return -1;
    }
    w->nin += got;
    return got > 0;
}

/* Whether the socket has bytes (or news of its end) within `wait`. */
static int readable(lc_ws_conn_t *w, apr_interval_time_t wait)
{
    apr_pollfd_t pfd = { 0 };
    apr_int32_t n = 0;

    pfd.p = w->r->pool;
    pfd.desc_type = APR_POLL_SOCKET;
    pfd.desc.s = w->sock;
    pfd.reqevents = APR_POLLIN;
    return apr_poll(&pfd, 1, &n, wait) == APR_SUCCESS && n > 0;
}

int lc_ws_conn_poll(lc_ws_conn_t *w, apr_interval_time_t wait)
{
    int got;

    if (w->ended) {
        return w->ended;
    }
    if ((got = read_some(w, APR_NONBLOCK_READ)) == 0 && readable(w, wait)) {
        got = read_some(w, APR_BLOCK_READ);
    }
    if (got < 0) {
        return w->ended = -1;
    }
    return got ? on_bytes(w) : 0;
}

void lc_ws_conn_close(lc_ws_conn_t *w, unsigned code, const char *reason,
                      apr_interval_time_t linger)
{
    apr_time_t until = apr_time_now() + linger;

    if (!w->ended && !w->close_sent) {
        send_close(w, code, reason);
    }
    /* §7.1.1: the client closes the TCP connection after answering; wait a
     * little for its close frame rather than reset it. */
    while (w->ended == 0 && apr_time_now() < until) {
        lc_ws_conn_poll(w, apr_time_from_msec(100));
    }
    /* The request is over: no EOS (and so no HTTP response) after the
     * frames; the access log shows 101 and the bytes sent. */
    w->r->eos_sent = 1;
    w->r->bytes_sent = w->sent;
}
