/* lc_notte_watch_token.c — the bearer token in the query string of the
 * Notte watcher route, GET /agents/{agent_id}/debug/logs?token=... (the SDK's
 * watch_logs() cannot set headers on its WebSocket).
 *
 * Two hooks:
 * - post_read_request, before anything logs the request: on a path ending
 *   in /debug/logs, every `token` parameter is taken out of the request as
 *   httpd keeps it (the_request, which the access log's %r prints,
 *   unparsed_uri, args, parsed_uri.query) and replaced by token=[redacted];
 *   the first value is kept aside in the request pool.  The same is done
 *   at translate_name for a request to any lifecycle Location (its
 *   <Location> is known by then): a token there is never logged either.
 * - fixups, once the <Location> is known: on that route of a Location whose
 *   dialect is notte (agents, not sessions), and only when the request has
 *   no Authorization header of its own, the kept token becomes
 *   "Authorization: Bearer <token>" for lc_handler's usual check (scope
 *   agents.read).  Anywhere else it is dropped: a token in the query string
 *   of any other route is ignored as before.
 */
#include <string.h>
#include <httpd.h>
#include <http_config.h>
#include <http_protocol.h>
#include <http_request.h>
#include <scoreboard.h>
#include <apr_strings.h>

#include "lc_config.h"
#include "lc_notte.h"

#define TOKEN_KEY   "lifecycle-watch-token"
#define REDACTED_KEY "lifecycle-watch-redacted"
#define ROUTE_TAIL  "/debug/logs"
#define REDACTED    "token=[redacted]"

static int ends_with(const char *s, const char *tail)
{
    size_t n = s ? strlen(s) : 0, t = strlen(tail);

    return n >= t && strcmp(s + n - t, tail) == 0;
}

/* args with every token parameter redacted; *tok gets the first value
 * (decoded), or stays NULL.  NULL when there is none to redact. */
static char *redact_args(apr_pool_t *p, const char *args, const char **tok)
{
    apr_array_header_t *out = apr_array_make(p, 8, sizeof(const char *));
    int any = 0;

    while (*args) {
        size_t n = strcspn(args, "&");
        char *pair = apr_pstrmemdup(p, args, n), *eq = strchr(pair, '=');
        char *name = apr_pstrmemdup(p, pair, eq ? (size_t)(eq - pair) : n);

        if (ap_unescape_urlencoded(name) == OK && strcmp(name, "token") == 0) {
            char *v = apr_pstrdup(p, eq ? eq + 1 : "");

            if (!*tok && ap_unescape_urlencoded(v) == OK) {
                *tok = v;
            }
            pair = REDACTED;
            any = 1;
        }
        APR_ARRAY_PUSH(out, const char *) = pair;
        args += n + (args[n] == '&');
    }
    return any ? apr_array_pstrcat(p, out, '&') : NULL;
}

/* s with its first "?old" replaced by "?new" (s itself when absent). */
static char *swap_query(apr_pool_t *p, char *s, const char *old, const char *new)
{
    const char *at = s ? strstr(s, apr_pstrcat(p, "?", old, NULL)) : NULL;

    if (!at) {
        return s;
    }
    return apr_pstrcat(p, apr_pstrmemdup(p, s, (apr_size_t)(at - s) + 1), new,
                       at + 1 + strlen(old), NULL);
}

/* Redact every token parameter from what httpd keeps of r, once; keep the
 * first value aside. */
static void redact(request_rec *r, int sb_status)
{
    const char *tok = NULL;
    void *done = NULL;
    char *args;

    apr_pool_userdata_get(&done, REDACTED_KEY, r->pool);
    if (done || !r->args || !(args = redact_args(r->pool, r->args, &tok))) {
        return;
    }
    apr_pool_userdata_setn("1", REDACTED_KEY, NULL, r->pool);
    r->the_request = swap_query(r->pool, r->the_request, r->args, args);
    r->unparsed_uri = swap_query(r->pool, r->unparsed_uri, r->args, args);
    r->parsed_uri.query = args;
    r->args = args;
    /* The scoreboard (/server-status) copied the request line already:
     * again, with the status the request has at this point. */
    if (r->connection->sbh) {
        ap_update_child_status(r->connection->sbh, sb_status, r);
    }
    if (tok && *tok) {
        apr_pool_userdata_setn(tok, TOKEN_KEY, NULL, r->pool);
    }
}

/* The watcher's route, wherever it is mounted: before anything logs it. */
static int watch_post_read(request_rec *r)
{
    if (ends_with(r->parsed_uri.path, ROUTE_TAIL)) {
        redact(r, SERVER_BUSY_READ);
    }
    return DECLINED;
}

/* Any other request to a lifecycle Location (known from here on): a token
 * in its query string is never logged either, and is not used. */
static int watch_translate(request_rec *r)
{
    const lc_dir_conf_t *dc = ap_get_module_config(r->per_dir_config, &lifecycle_module);

    if (dc && dc->dialect != LC_DIALECT_NONE) {
        redact(r, SERVER_BUSY_WRITE);     /* ap_process_request set it so */
    }
    return DECLINED;
}

/* r is GET {notte agents Location}/{agent_id}/debug/logs. */
static int watch_route(request_rec *r)
{
    const lc_dir_conf_t *dc = ap_get_module_config(r->per_dir_config, &lifecycle_module);
    size_t plen;
    const char *rest, *slash;

    if (!dc || dc->dialect != LC_DIALECT_notte || !dc->prefix || !r->handler
        || strcmp(r->handler, "lifecycle") != 0) {
        return 0;
    }
    for (plen = strlen(dc->prefix); plen && dc->prefix[plen - 1] == '/'; plen--) {
    }
    if (ends_with(apr_pstrmemdup(r->pool, dc->prefix, plen), "sessions")
        || strncmp(r->uri, dc->prefix, plen) != 0 || r->uri[plen] != '/') {
        return 0;
    }
    rest = r->uri + plen + 1;
    slash = strchr(rest, '/');
    return slash && slash != rest && strcmp(slash, ROUTE_TAIL) == 0;
}

static int watch_fixups(request_rec *r)
{
    void *tok = NULL;

    apr_pool_userdata_get(&tok, TOKEN_KEY, r->pool);
    if (tok && !apr_table_get(r->headers_in, "Authorization") && watch_route(r)) {
        apr_table_setn(r->headers_in, "Authorization",
                       apr_pstrcat(r->pool, "Bearer ", (const char *)tok, NULL));
    }
    return DECLINED;
}

void lc_notte_watch_register_hooks(apr_pool_t *p)
{
    (void)p;
    /* First: before mod_log_forensic or any other module sees the line. */
    ap_hook_post_read_request(watch_post_read, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_translate_name(watch_translate, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_fixups(watch_fixups, NULL, NULL, APR_HOOK_MIDDLE);
}
