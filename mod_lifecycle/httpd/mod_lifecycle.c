/* mod_lifecycle.c — the httpd glue: hooks, the handler, dispatch to dialects.
 *
 * Everything else lives in lc_*.c, one concern per file; the core (store,
 * kinds, engine, util) depends on APR, jansson and libsodium only.
 */
#include <string.h>
#include <sodium.h>
#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <ap_mpm.h>
#include <apr_strings.h>

#include "lc_audit.h"
#include "lc_config.h"
#include "lc_dialect.h"
#include "lc_provider.h"
#include "lc_stopping.h"
#include "lc_watchdog.h"
#include "lc_util.h"
#include "lc_metrics.h"
#include "lc_repr_cache.h"
#include "lc_status.h"
#include "lc_errdoc.h"
#include "lc_kind_registry.h"
#include "lc_notte.h"
#include "lc_log.h"
#include "lc_version.h"

APLOG_USE_MODULE(lifecycle);


static int lc_pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    if (sodium_init() < 0) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    lc_kind_registry_load();
    return lc_provider_pre_config(pconf) == APR_SUCCESS ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

static int lc_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                          server_rec *s)
{
    const lc_provider_t *pv = lc_provider_configured(lc_config_global(s)->store);

    (void)plog;
    /* "mod_lifecycle/0.1.0" (VERSION): the start-up notice, and the Server
     * header under ServerTokens Full. */
    ap_add_version_component(pconf, "mod_lifecycle/" LC_VERSION_STRING);
    /* httpd reads its configuration twice at start-up; create nothing on the
     * dry run. */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    if (pv->post_config(pconf, ptemp, s) != APR_SUCCESS
        || lc_watchdog_post_config(pconf, s) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    lc_auth_post_config(s);
    /* Children inherit it; child_init sets it again for MPMs that exec. */
    lc_kind_set_timeout(LC_TIMEOUT_SUSPEND, lc_config_global(s)->suspend_timeout);
    return OK;
}

static const char *const lc_child_init_after[] = { "mod_dbd.c", NULL };

static void lc_child_init(apr_pool_t *p, server_rec *s)
{
    const lc_provider_t *pv = lc_provider_configured(lc_config_global(s)->store);
    lc_store_t *st = pv->child_init(p, s);

    lc_provider_set_store(st);
    lc_watchdog_child_init(p);
    lc_metrics_bind(st && pv->counters ? pv->counters(st) : NULL);
    lc_kind_set_timeout(LC_TIMEOUT_SUSPEND, lc_config_global(s)->suspend_timeout);
    lc_auth_child_init(p, s);
    lc_repr_cache_init(p);
    lc_stopping_child_init(p);
}

/* Every dialect, indexed by lc_dialect_e, which the same list numbers: the
 * dispatcher is the one file that knows them all (lc_registry.h). */
static const lc_dialect_t *const dialects[LC_DIALECT_COUNT] = {
    NULL,
#define LC_REG_DIALECT(name) &lc_dialect_##name,
#include "lc_registry.h"
};

static const lc_dialect_t *dialect_get(lc_dialect_e which)
{
    return (which > LC_DIALECT_NONE && which < LC_DIALECT_COUNT) ? dialects[which] : NULL;
}

/* Our locations are not files.  httpd merges the <Location> config before
 * translate_name, so here we know the request is ours, and claim it as
 * mod_proxy does ("proxy:" filenames): core's translate_name would map the
 * path under DocumentRoot and answer a path over ~4 KiB with an HTML 403
 * ("File name too long"). */
#define LC_FILENAME_PREFIX "lifecycle:"

static int lc_translate_name(request_rec *r)
{
    const lc_dir_conf_t *dc = ap_get_module_config(r->per_dir_config, &lifecycle_module);

    if (!dc || dc->dialect == LC_DIALECT_NONE || r->uri[0] != '/') {
        return DECLINED;
    }
    r->filename = apr_pstrcat(r->pool, LC_FILENAME_PREFIX, r->uri, NULL);
    return OK;
}

/* Claimed requests skip the other map_to_storage hooks: core's directory
 * walk (the file system again) and mod_http's TRACE echo, so that a TRACE
 * reaches the dialect.  httpd merges the <Location> config right after. */
static int lc_map_to_storage(request_rec *r)
{
    return r->filename && strncmp(r->filename, LC_FILENAME_PREFIX,
                                  sizeof(LC_FILENAME_PREFIX) - 1) == 0 ? OK : DECLINED;
}

/* The request path after the <Location> prefix, still percent-encoded, so
 * that dialects see "%2F" and encoded '.' and ':' for themselves. */
static const char *relative_path(request_rec *r, const char *prefix)
{
    const char *raw = r->unparsed_uri ? r->unparsed_uri : r->uri;
    size_t plen = prefix ? strlen(prefix) : 0;
    const char *q;

    if (raw[0] != '/' && r->parsed_uri.path) {      /* absolute-form request target */
        raw = r->parsed_uri.path;
    }
    if ((q = strpbrk(raw, "?#")) != NULL) {
        raw = apr_pstrmemdup(r->pool, raw, (apr_size_t)(q - raw));
    }
    while (plen && prefix[plen - 1] == '/') {
        plen--;
    }
    if (plen && strncmp(raw, prefix, plen) == 0 && (raw[plen] == '/' || raw[plen] == '\0')) {
        return raw + plen;
    }
    /* The prefix matched only after httpd normalised the path: use that. */
    if (plen && strncmp(r->uri, prefix, plen) == 0) {
        return ap_escape_uri(r->pool, r->uri + plen);
    }
    return "";
}

/* The Location's last path component: which of its API's collections a
 * dialect mounted on several Locations serves here. */
static const char *collection_of(apr_pool_t *p, const char *prefix)
{
    size_t n = prefix ? strlen(prefix) : 0;
    size_t start;

    while (n && prefix[n - 1] == '/') {
        n--;
    }
    for (start = n; start && prefix[start - 1] != '/'; start--) {
    }
    return apr_pstrmemdup(p, prefix ? prefix + start : "", n - start);
}

/* LifecycleFaultInjection on (tests only): "X-Lifecycle-Fault: die-midwrite"
 * makes this child SIGKILL itself halfway through its store update, with
 * the store mutex held, to prove the store survives it. */
static int handle_with_faults(lc_req_t *q)
{
    const char *fault = q->sc->fault_injection
                        ? apr_table_get(q->r->headers_in, "X-Lifecycle-Fault") : NULL;
    int rc;

    lc_store_die_midwrite = fault && strcmp(fault, "die-midwrite") == 0;
    rc = q->dialect->handle(q);
    lc_store_die_midwrite = 0;
    return rc;
}

/* Count every answer, whoever wrote it, by its dialect and status. */
static int lc_log_transaction(request_rec *r)
{
    const lc_dir_conf_t *dc;

    if (r->handler && strcmp(r->handler, "lifecycle") == 0) {
        dc = ap_get_module_config(r->per_dir_config, &lifecycle_module);
        lc_metrics_request(dc->dialect, r->status);
    }
    return DECLINED;
}

/* `SetHandler lifecycle-baseline`: the trivial handler `make bench` compares
 * against — a fixed small JSON body, no store, no dialect. */
static int lc_baseline_handler(request_rec *r)
{
    static const char body[] = "{\"ok\":true}";

    if (!r->handler || strcmp(r->handler, "lifecycle-baseline") != 0) {
        return DECLINED;
    }
    ap_set_content_type(r, "application/json; charset=utf-8");
    ap_set_content_length(r, sizeof(body) - 1);
    if (!r->header_only) {
        ap_rwrite(body, sizeof(body) - 1, r);
    }
    return OK;
}

static int lc_handler(request_rec *r)
{
    const lc_dir_conf_t *dc;
    lc_auth_decision_t decision;
    const char *scope;
    lc_req_t q;

    if (!r->handler || strcmp(r->handler, "lifecycle") != 0) {
        return DECLINED;
    }
    memset(&q, 0, sizeof(q));
    q.r = r;
    q.dc = dc = ap_get_module_config(r->per_dir_config, &lifecycle_module);
    q.sc = lc_config_global(r->server);
    q.now = apr_time_now();
    if (!(q.dialect = dialect_get(dc->dialect))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, LC_LOGNO(00032) "SetHandler lifecycle without "
                      "LifecycleDialect for %s", r->uri);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (!(q.store = lc_provider_store())) {
        return q.dialect->error(&q, HTTP_INTERNAL_SERVER_ERROR, "internal",
                                "the resource store is not available");
    }
    /* TRACE would echo the request, Authorization included: refused before
     * the token or the path is even looked at. */
    if (r->method_number == M_TRACE) {
        return q.dialect->method_not_allowed(&q, q.dialect->methods);
    }
    q.path = relative_path(r, dc->prefix);
    q.collection = collection_of(r->pool, dc->prefix);
    q.nseg = lc_path_split(r->pool, q.path, q.seg, LC_MAX_SEGMENTS);
    if (q.nseg < 0 && !q.dialect->raw_path) {
        return q.dialect->error(&q, HTTP_BAD_REQUEST, "invalid_request",
                                "the path is not valid: bad percent-encoding, an encoded "
                                "'/', non-UTF-8 bytes or too many segments");
    }
    /* A route its dialect serves to anyone (a health check): no token asked. */
    if (q.dialect->open && q.dialect->open(&q)) {
        return handle_with_faults(&q);
    }
    /* Authorization comes first: a refused request never reaches the store. */
    scope = (r->method_number == M_GET)
            ? (dc->scope_read ? dc->scope_read : q.dialect->scope_read)
            : (dc->scope_write ? dc->scope_write : q.dialect->scope_write);
    decision = lc_auth_check(r, scope, &q.actor);
    if (decision.result != LC_AUTH_ALLOW) {
        /* The sub is the token's: quoted like the audit line's, so that it
         * cannot forge one. */
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, LC_LOGNO(00033) "refused %s %s: %s (sub=%s)", r->method,
                      r->uri, decision.cause, lc_audit_value(r->pool, q.actor.sub));
        lc_metrics_token_refused(decision.cause);
        apr_table_setn(r->notes, "lifecycle-scope", scope);
        lc_auth_challenge(r, &decision, scope);
        return decision.result == LC_AUTH_FORBIDDEN
               ? q.dialect->error(&q, HTTP_FORBIDDEN, "insufficient_scope", decision.reason)
               : q.dialect->error(&q, HTTP_UNAUTHORIZED, "invalid_token", decision.reason);
    }
    return handle_with_faults(&q);
}

static void lc_register_hooks(apr_pool_t *p)
{
    static const char *const lc_after_rewrite[] = { "mod_rewrite.c", NULL };

    /* The store backends built; the first is LifecycleStore's default. */
    lc_provider_register(&lc_provider_shm);
    lc_provider_register(&lc_provider_dbd);
    ap_hook_pre_config(lc_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* Before mod_watchdog's own post_config (APR_HOOK_LAST) collects callbacks. */
    ap_hook_post_config(lc_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* After mod_dbd's: it makes its connection pool there, and the
     * background tick (another thread, started by mod_watchdog) uses the
     * store as soon as lc_child_init publishes it; before mod_dbd's pool
     * exists ap_dbd_open fails ("no database connection" at every child
     * start) or races with its creation. */
    ap_hook_child_init(lc_child_init, lc_child_init_after, NULL, APR_HOOK_MIDDLE);
    /* After mod_rewrite, as mod_proxy does; before mod_alias and core. */
    ap_hook_translate_name(lc_translate_name, lc_after_rewrite, NULL, APR_HOOK_FIRST);
    /* Before core's and mod_http's (TRACE) map_to_storage hooks. */
    ap_hook_map_to_storage(lc_map_to_storage, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_handler(lc_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(lc_baseline_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_log_transaction(lc_log_transaction, NULL, NULL, APR_HOOK_MIDDLE);
    /* mod_status's /server-status section, when mod_status is loaded. */
    lc_status_register_hooks(p);
    /* httpd's own error pages under our Locations in the dialect's shape. */
    lc_errdoc_register_hooks(p, dialect_get);
    /* The Notte watcher's token in its query string (redacted, then used). */
    lc_notte_watch_register_hooks(p);
}

module AP_MODULE_DECLARE_DATA lifecycle_module = {
    STANDARD20_MODULE_STUFF,
    lc_config_create_dir,
    lc_config_merge_dir,
    lc_config_create_server,
    lc_config_merge_server,
    lc_directives,
    lc_register_hooks,
    AP_MODULE_FLAG_NONE
};
