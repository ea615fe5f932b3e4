/* lc_ws_conn.h — a WebSocket served on the request's own connection
 * (lc_ws_conn.c): the upgrade checks, the 101, then frames in and out on
 * the connection's filters, in the handler's thread.
 *
 * The handler keeps its worker thread for the connection's whole life
 * (blocking, with short polls): simple, and the same under prefork, worker
 * and event.  mod_proxy_wstunnel's async mode (ap_mpm_register_poll_callback_timeout)
 * would free the thread between frames, but only under event, and a
 * watcher must also wake to look at the store; LifecycleWatchersPerChild
 * bounds how many threads this takes. */
#ifndef LC_WS_CONN_H
#define LC_WS_CONN_H

#include <httpd.h>
#include "lc_ws.h"

typedef struct lc_ws_conn lc_ws_conn_t;

/* The largest client data frame read (and ignored) before 1009: the
 * watchers' clients send none. */
#define LC_WS_IN_MAX 4096

/* Whether r asks to upgrade to a WebSocket as RFC 6455 §4.2.1 says: 0 with
 * accept filled, or the HTTP status to answer (426 without an upgrade or
 * with another version, 400 for a bad key) with *why and the headers set. */
int lc_ws_conn_check(request_rec *r, char accept[LC_WS_ACCEPT_LEN + 1], const char **why);

/* Answer 101 and take the connection over (no more HTTP on it). */
lc_ws_conn_t *lc_ws_conn_open(request_rec *r, const char *accept);

/* One text message. */
apr_status_t lc_ws_conn_text(lc_ws_conn_t *w, const char *s, apr_size_t n);

/* Wait up to `wait` for client frames and answer them (ping: pong; close:
 * close).  0 while the connection is open; otherwise it has ended: the
 * close code sent or received (> 0), or -1 when the peer went away. */
int lc_ws_conn_poll(lc_ws_conn_t *w, apr_interval_time_t wait);

/* Close with `code` and wait up to `linger` for the client's close frame;
 * then the request is finished for httpd (status 101, no more output). */
void lc_ws_conn_close(lc_ws_conn_t *w, unsigned code, const char *reason,
                      apr_interval_time_t linger);

#endif
