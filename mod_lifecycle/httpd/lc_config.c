/* lc_config.c — directives.  Every error names the directive and file:line. */
#include <httpd.h>
#include <http_config.h>
#include <http_core.h>
#include <errno.h>
#include <strings.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "lc_config.h"
#include "lc_provider.h"
#include "lc_store_shm.h"      /* the limits of the shm store's own directives */
#include "lc_util.h"
#include "lc_keyfile.h"

/* "LifecycleCapacity 12 (file:line): <why>" */
static const char *fail(cmd_parms *cmd, const char *arg, const char *why)
{
    return apr_psprintf(cmd->pool, "%s %s (%s:%d): %s", cmd->cmd->name, arg,
                        cmd->directive ? cmd->directive->filename : "?",
                        cmd->directive ? cmd->directive->line_num : 0, why);
}

void *lc_config_create_server(apr_pool_t *p, server_rec *s)
{
    lc_server_conf_t *c = apr_pcalloc(p, sizeof(*c));

    (void)s;
    c->auto_advance = LC_ADVANCE_OFF;
    c->suspend_timeout = LC_SUSPEND_TIMEOUT_DEFAULT;
    c->feed_retain = -1;
    return c;
}

void *lc_config_merge_server(apr_pool_t *p, void *basev, void *addv)
{
    lc_server_conf_t *base = basev, *add = addv;
    lc_server_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->store = add->store ? add->store : base->store;
    c->capacity = add->capacity ? add->capacity : base->capacity;
    c->heap = add->heap ? add->heap : base->heap;
    c->auto_advance_set = add->auto_advance_set || base->auto_advance_set;
    c->auto_advance = add->auto_advance_set ? add->auto_advance : base->auto_advance;
    c->suspend_timeout_set = add->suspend_timeout_set || base->suspend_timeout_set;
    c->suspend_timeout = add->suspend_timeout_set ? add->suspend_timeout
                                                  : base->suspend_timeout;
    c->fault_injection = add->fault_injection || base->fault_injection;
    c->state_dir = add->state_dir ? add->state_dir : base->state_dir;
    c->state_dir_where = add->state_dir ? add->state_dir_where : base->state_dir_where;
    c->snapshot_every = add->snapshot_every ? add->snapshot_every : base->snapshot_every;
    c->keys = add->keys ? add->keys : base->keys;
    c->issuer = add->issuer ? add->issuer : base->issuer;
    c->audience = add->audience ? add->audience : base->audience;
    c->leeway_set = add->leeway_set || base->leeway_set;
    c->leeway = add->leeway_set ? add->leeway : base->leeway;
    c->feed_poll = add->feed_poll ? add->feed_poll : base->feed_poll;
    c->feed_retain = add->feed_retain >= 0 ? add->feed_retain : base->feed_retain;
    c->notte_minute = add->notte_minute ? add->notte_minute : base->notte_minute;
    c->dbd_timeout = add->dbd_timeout ? add->dbd_timeout : base->dbd_timeout;
    c->watchers_per_child = add->watchers_per_child ? add->watchers_per_child
                                                    : base->watchers_per_child;
    return c;
}

void *lc_config_create_dir(apr_pool_t *p, char *dir)
{
    lc_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->prefix = dir ? apr_pstrdup(p, dir) : NULL;
    return c;
}

void *lc_config_merge_dir(apr_pool_t *p, void *basev, void *addv)
{
    lc_dir_conf_t *base = basev, *add = addv;
    lc_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    /* A nested location inherits the dialect but is a path of its own only
     * when it sets a dialect itself. */
    c->dialect = add->dialect ? add->dialect : base->dialect;
    c->prefix = add->dialect ? add->prefix : (base->prefix ? base->prefix : add->prefix);
    c->scope_read = add->scope_read ? add->scope_read : base->scope_read;
    c->scope_write = add->scope_write ? add->scope_write : base->scope_write;
    c->owner_check = add->owner_check ? add->owner_check : base->owner_check;
    return c;
}

const lc_server_conf_t *lc_config_global(const server_rec *s)
{
    return ap_get_module_config(s->module_config, &lifecycle_module);
}

int lc_config_capacity(const server_rec *s)
{
    int c = lc_config_global(s)->capacity;
    return c ? c : LC_CAPACITY_DEFAULT;
}

apr_size_t lc_config_heap(const server_rec *s)
{
    return lc_config_global(s)->heap;
}

/* The main server's record, for a directive that belongs only there; the
 * error (already naming directive and file:line) when it is elsewhere. */
static const char *global_conf(cmd_parms *cmd, const char *arg, lc_server_conf_t **c)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    *c = ap_get_module_config(cmd->server->module_config, &lifecycle_module);
    return err ? fail(cmd, arg, err) : NULL;
}

/* The start of every server-wide directive's handler: c gets the main
 * server's record; a directive placed elsewhere returns global_conf's error. */
#define LC_GLOBAL_ONLY(cmd, dc, arg, c)                                       \
    do {                                                                      \
        const char *err_ = global_conf((cmd), (arg), &(c));                   \
        (void)(dc);                                                           \
        if (err_) {                                                           \
            return err_;                                                      \
        }                                                                     \
    } while (0)

/* A delay in httpd's own syntax ("2", "2s", "500ms", "1mi") within [min, max]. */
static int delay_in(const char *arg, apr_interval_time_t min, apr_interval_time_t max,
                    apr_interval_time_t *out)
{
    return apr_isdigit(*arg) && ap_timeout_parameter_parse(arg, out, "s") == APR_SUCCESS
           && *out >= min && *out <= max;
}

static const char *set_store(cmd_parms *cmd, void *dc, const char *arg)
{
    lc_server_conf_t *c;

    LC_GLOBAL_ONLY(cmd, dc, arg, c);
    if (!lc_provider_find(arg)) {
        return fail(cmd, arg, apr_pstrcat(cmd->pool, "is not a store this module has "
                                          "(it has: ", lc_provider_names(cmd->pool), ")",
                                          NULL));
    }
    c->store = arg;
    return NULL;
}

/* LifecycleFeedPoll (LifecycleStore dbd): how often a host's long-polls
 * look for changes made through other hosts. */
static const char *set_feed_poll(cmd_parms *cmd, void *dc, const char *arg)
{
    lc_server_conf_t *c;
    apr_interval_time_t t;

    LC_GLOBAL_ONLY(cmd, dc, arg, c);
    if (!delay_in(arg, apr_time_from_msec(10), apr_time_from_sec(10), &t)) {
        return fail(cmd, arg, "must be a delay from 10ms to 10s, such as 100ms");
    }
    c->feed_poll = t;
    return NULL;
}

/* LifecycleDbdTimeout (LifecycleStore dbd): the longest any call to the
 * database may take (statement, commit, preparation) before the request
 * answers 503 and the connection is closed. */
static const char *set_dbd_timeout(cmd_parms *cmd, void *dc, const char *arg)
{
    lc_server_conf_t *c;
    apr_interval_time_t t;

    LC_GLOBAL_ONLY(cmd, dc, arg, c);
    if (!delay_in(arg, apr_time_from_msec(100), apr_time_from_sec(600), &t)) {
        return fail(cmd, arg, "must be a delay from 100ms to 600s, such as 5s");
    }
    c->dbd_timeout = t;
    return NULL;
}

/* LifecycleFeedRetain (LifecycleStore dbd): changes the database keeps for
 * the feed; older ones answer 410.  0 keeps them all. */
static const char *set_feed_retain(cmd_parms *cmd, void *dc, const char *arg)
{
    lc_server_conf_t *c;
    const char *err = global_conf(cmd, arg, &c);
    char *end;
    apr_int64_t n;

    (void)dc;
    if (err) {
        return err;
    }
    errno = 0;
    n = apr_strtoi64(arg, &end, 10);
    if (!apr_isdigit(*arg) || *end || errno || n > APR_INT64_C(1000000000000)) {
        return fail(cmd, arg, "must be a number of changes (0 keeps them all)");
    }
    c->feed_retain = n;
    return NULL;
}

/* LifecycleWatchersPerChild: WebSocket watchers one child serves at once
 * (each holds a worker thread: lc_notte_watch.c). */
static const char *set_watchers(cmd_parms *cmd, void *dc, const char *arg)
{
    lc_server_conf_t *c;
    long v;

    LC_GLOBAL_ONLY(cmd, dc, arg, c);
    if (lc_parse_uint(arg, 1, 100000, &v) != 0) {
        return fail(cmd, arg, "must be a whole number from 1 to 100000");
    }
    c->watchers_per_child = (int)v;
    return NULL;
}

static const char *set_capacity(cmd_parms *cmd, void *dc, const char *arg)
{
    lc_server_conf_t *c;
    long v;

    LC_GLOBAL_ONLY(cmd, dc, arg, c);
    if (lc_parse_uint(arg, LC_CAPACITY_MIN, LC_CAPACITY_MAX, &v) != 0) {
        return fail(cmd, arg, apr_psprintf(cmd->pool, "must be a whole number from %u to %u",
                                           LC_CAPACITY_MIN, LC_CAPACITY_MAX));
    }
    c->capacity = (int)v;
    return NULL;
}

/* "256M": a whole number of bytes with an optional K, M or G (powers of 1024). */
static int parse_bytes(const char *arg, apr_size_t *out)
{
    char *end;
    apr_int64_t v;
    int shift = 0;

    if (!apr_isdigit(*arg)) {
        return -1;
    }
    errno = 0;
    v = apr_strtoi64(arg, &end, 10);
    switch (apr_toupper(*end)) {
    case 'K': shift = 10; end++; break;
    case 'M': shift = 20; end++; break;
    case 'G': shift = 30; end++; break;
    }
    if (errno || *end || v < 0 || v > (APR_INT64_MAX >> 30)) {
        return -1;
    }
    *out = (apr_size_t)v << shift;
    return 0;
}

static const char *set_heap(cmd_parms *cmd, void *dc, const char *arg)
{
    lc_server_conf_t *c;
    apr_size_t v;

    LC_GLOBAL_ONLY(cmd, dc, arg, c);
    if (parse_bytes(arg, &v) != 0 || v < LC_HEAP_MIN || v > LC_HEAP_MAX) {
        return fail(cmd, arg, "must be a size from 64K to 31G (a number of bytes, or "
                    "with K, M or G)");
    }
    c->heap = v;
    return NULL;
}

/* "off", or a delay in httpd's own syntax ("2", "2s", "500ms", "1mi"). */
static const char *parse_delay(cmd_parms *cmd, const char *arg, apr_interval_time_t *out)
{
    apr_interval_time_t t;

    if (strcasecmp(arg, "off") == 0) {
        *out = LC_ADVANCE_OFF;
        return NULL;
    }
    if (!delay_in(arg, 0, apr_time_from_sec(86400), &t)) {
        return fail(cmd, arg, "must be off or a delay such as 2s, 500ms or 1mi (at most a day)");
    }
    *out = t;
    return NULL;
}

static const char *set_auto_advance(cmd_parms *cmd, void *dc, const char *arg)
{
    lc_server_conf_t *c;

    LC_GLOBAL_ONLY(cmd, dc, arg, c);
    c->auto_advance_set = 1;
    return parse_delay(cmd, arg, &c->auto_advance);
}

static const char *set_suspend_timeout(cmd_parms *cmd, void *dc, const char *arg)
{
    lc_server_conf_t *c;

    LC_GLOBAL_ONLY(cmd, dc, arg, c);
    c->suspend_timeout_set = 1;
    return parse_delay(cmd, arg, &c->suspend_timeout);
}

/* How long a minute of a Notte session's timeouts lasts (tests shorten it). */
static const char *set_notte_minute(cmd_parms *cmd, void *dc, const char *arg)
{
    lc_server_conf_t *c;
    const char *err;

    LC_GLOBAL_ONLY(cmd, dc, arg, c);
    if ((err = parse_delay(cmd, arg, &c->notte_minute)) != NULL) {
        return err;
    }
    return c->notte_minute <= 0 ? fail(cmd, arg, "must be a positive duration (e.g. 60s, 1s)")
                                : NULL;
}

static const char *set_state_dir(cmd_parms *cmd, void *dc, const char *arg)
{
    lc_server_conf_t *c;

    LC_GLOBAL_ONLY(cmd, dc, arg, c);
    if (!*arg || strlen(arg) > 512) {
        return fail(cmd, arg, "must be a directory path");
    }
    c->state_dir = ap_server_root_relative(cmd->pool, arg);
    c->state_dir_where = apr_psprintf(cmd->pool, "%s:%d",
                                      cmd->directive ? cmd->directive->filename : "?",
                                      cmd->directive ? cmd->directive->line_num : 0);
    return NULL;
}

static const char *set_snapshot_every(cmd_parms *cmd, void *dc, const char *arg)
{
    lc_server_conf_t *c;
    apr_interval_time_t t;

    LC_GLOBAL_ONLY(cmd, dc, arg, c);
    if (!delay_in(arg, apr_time_from_sec(1), apr_time_from_sec(7 * 86400), &t)) {
        return fail(cmd, arg, "must be a delay from 1s to a week, such as 30s or 5mi");
    }
    c->snapshot_every = t;
    return NULL;
}

static const char *set_token_key(cmd_parms *cmd, void *dc, const char *arg)
{
    lc_server_conf_t *c;
    const char *why = NULL;
    const char *path = ap_server_root_relative(cmd->pool, arg);

    LC_GLOBAL_ONLY(cmd, dc, arg, c);
    if (!c->keys && !(c->keys = lc_keyring_create(cmd->pool))) {
        return fail(cmd, arg, "libsodium cannot be initialised");
    }
    if (!path || lc_keyfile_load(c->keys, path, cmd->pool, &why) != APR_SUCCESS) {
        return fail(cmd, arg, why ? why : "cannot read the key file");
    }
    return NULL;
}

/* LifecycleTokenIssuer / LifecycleTokenAudience: a bounded printable string. */
static const char *set_token_claim(cmd_parms *cmd, void *dc, const char *arg)
{
    lc_server_conf_t *c;
    const char *p;

    LC_GLOBAL_ONLY(cmd, dc, arg, c);
    for (p = arg; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            return fail(cmd, arg, "must not contain control characters");
        }
    }
    if (!*arg || p - arg > 512) {
        return fail(cmd, arg, "must be 1 to 512 characters");
    }
    if (strcmp(cmd->cmd->name, "LifecycleTokenIssuer") == 0) {
        c->issuer = arg;
    }
    else {
        c->audience = arg;
    }
    return NULL;
}

static const char *set_token_leeway(cmd_parms *cmd, void *dc, const char *arg)
{
    lc_server_conf_t *c;
    apr_interval_time_t t;

    LC_GLOBAL_ONLY(cmd, dc, arg, c);
    if (!delay_in(arg, 0, apr_time_from_sec(3600), &t)) {
        return fail(cmd, arg, "must be a delay from 0 to 1h, such as 60 or 30s");
    }
    c->leeway = t;
    c->leeway_set = 1;
    return NULL;
}

static const char *set_fault_injection(cmd_parms *cmd, void *dc, int on)
{
    lc_server_conf_t *c;

    LC_GLOBAL_ONLY(cmd, dc, on ? "on" : "off", c);
    c->fault_injection = on;
    return NULL;
}

/* Every dialect's name by its number, from the registry's list itself, so
 * that the configuration does not depend on the dialects (which depend on
 * it); t/unit/test_kinds.c checks the descriptors carry the same names. */
static const char *const dialect_names[LC_DIALECT_COUNT] = {
    NULL,
#define LC_REG_DIALECT(name) #name,
#include "lc_registry.h"
};

const char *lc_config_dialect_name(lc_dialect_e d)
{
    return d > LC_DIALECT_NONE && d < LC_DIALECT_COUNT ? dialect_names[d] : "none";
}

static lc_dialect_e dialect_by_name(const char *name)
{
    int d;

    for (d = 1; d < LC_DIALECT_COUNT; d++) {
        if (strcmp(dialect_names[d], name) == 0) {
            return (lc_dialect_e)d;
        }
    }
    return LC_DIALECT_NONE;
}

/* "unknown dialect; use a, b or c": every dialect's name, from the registry. */
static const char *unknown_dialect(apr_pool_t *p)
{
    const char *use = "unknown dialect; use ";
    int d;

    for (d = 1; d < LC_DIALECT_COUNT; d++) {
        use = apr_pstrcat(p, use, d == 1 ? "" : d == LC_DIALECT_COUNT - 1 ? " or " : ", ",
                          dialect_names[d], NULL);
    }
    return use;
}

static const char *set_dialect(cmd_parms *cmd, void *dcv, const char *arg)
{
    lc_dir_conf_t *dc = dcv;

    if (!cmd->path) {
        return fail(cmd, arg, "belongs in a <Location> block");
    }
    if ((dc->dialect = dialect_by_name(arg)) == LC_DIALECT_NONE) {
        return fail(cmd, arg, unknown_dialect(cmd->pool));
    }
    return NULL;
}

/* Scope tokens as RFC 6749 §3.3 defines them: printable ASCII but space, '"', '\'. */
static int scope_token_valid(const char *s)
{
    if (!*s || strlen(s) > 128) {
        return 0;
    }
    for (; *s; s++) {
        if (*s < 0x21 || *s > 0x7e || *s == '"' || *s == '\\') {
            return 0;
        }
    }
    return 1;
}

static const char *set_scope(cmd_parms *cmd, void *dcv, const char *which, const char *scope)
{
    lc_dir_conf_t *dc = dcv;
    const char *arg = apr_pstrcat(cmd->pool, which, " ", scope, NULL);

    if (!cmd->path) {
        return fail(cmd, arg, "belongs in a <Location> block");
    }
    if (!scope_token_valid(scope)) {
        return fail(cmd, arg, "the scope must be one RFC 6749 scope token");
    }
    if (strcmp(which, "read") == 0) {
        dc->scope_read = scope;
    }
    else if (strcmp(which, "write") == 0) {
        dc->scope_write = scope;
    }
    else {
        return fail(cmd, arg, "the first argument must be read or write");
    }
    return NULL;
}

static const char *set_owner_check(cmd_parms *cmd, void *dcv, int on)
{
    lc_dir_conf_t *dc = dcv;

    if (!cmd->path) {
        return fail(cmd, on ? "on" : "off", "belongs in a <Location> block");
    }
    dc->owner_check = on ? 1 : -1;
    return NULL;
}

/* LifecycleDialect's help: the dialects of the registry, written by the list. */
static const char dialect_help[] = "the API this location serves, one of:"
#define LC_REG_DIALECT(name) " " #name
#include "lc_registry.h"
    ;

const command_rec lc_directives[] = {
    AP_INIT_TAKE1("LifecycleStore", set_store, NULL, RSRC_CONF,
                  "where resources live: shm (this host's shared memory, the default) or "
                  "dbd (PostgreSQL through mod_dbd)"),
    AP_INIT_TAKE1("LifecycleFeedPoll", set_feed_poll, NULL, RSRC_CONF,
                  "dbd: how often change-feed long-polls look for changes made through "
                  "other servers (default 100ms)"),
    AP_INIT_TAKE1("LifecycleDbdTimeout", set_dbd_timeout, NULL, RSRC_CONF,
                  "dbd: the longest one call to the database may take before the request "
                  "answers 503 (default 5s)"),
    AP_INIT_TAKE1("LifecycleFeedRetain", set_feed_retain, NULL, RSRC_CONF,
                  "dbd: changes kept for the change feed (default 1000000; 0 = all)"),
    AP_INIT_TAKE1("LifecycleWatchersPerChild", set_watchers, NULL, RSRC_CONF,
                  "WebSocket watchers (GET /agents/{id}/debug/logs) one child serves at "
                  "once (default half its ThreadsPerChild, at least 1)"),
    AP_INIT_TAKE1("LifecycleCapacity", set_capacity, NULL, RSRC_CONF,
                  "resource slots in shared memory, server-wide (64..4000000)"),
    AP_INIT_TAKE1("LifecycleAttributeMemory", set_heap, NULL, RSRC_CONF,
                  "shared memory for resources' ids and attributes (e.g. 256M; default "
                  "256 bytes a slot, at least 4M)"),
    AP_INIT_TAKE1("LifecycleAutoAdvance", set_auto_advance, NULL, RSRC_CONF,
                  "finish transitional states after this delay (2s, 500ms, 1mi), or off"),
    AP_INIT_TAKE1("LifecycleSuspendTimeout", set_suspend_timeout, NULL, RSRC_CONF,
                  "force-stop a pipeline still suspending after this delay (default 120s), or off"),
    AP_INIT_TAKE1("LifecycleNotteMinute", set_notte_minute, NULL, RSRC_CONF,
                  "the length of a minute in Notte sessions' timeouts (default 60s; tests "
                  "shorten it)"),
    AP_INIT_TAKE1("LifecycleStateDir", set_state_dir, NULL, RSRC_CONF,
                  "directory for the journal and snapshots; without it state is memory-only"),
    AP_INIT_TAKE1("LifecycleSnapshotInterval", set_snapshot_every, NULL, RSRC_CONF,
                  "how often a snapshot bounds replay time (default 5mi)"),
    AP_INIT_TAKE1("LifecycleTokenKey", set_token_key, NULL, RSRC_CONF,
                  "a public key file (PASERK k4.public, JWK or JWKS); repeat for rotation"),
    AP_INIT_TAKE1("LifecycleTokenIssuer", set_token_claim, NULL, RSRC_CONF,
                  "when set, a token's iss must be this"),
    AP_INIT_TAKE1("LifecycleTokenAudience", set_token_claim, NULL, RSRC_CONF,
                  "when set, a token's aud must contain this"),
    AP_INIT_TAKE1("LifecycleTokenLeeway", set_token_leeway, NULL, RSRC_CONF,
                  "clock skew allowed on exp/nbf/iat (default 60s)"),
    AP_INIT_FLAG("LifecycleFaultInjection", set_fault_injection, NULL, RSRC_CONF,
                 "test only: honour X-Lifecycle-Fault request headers"),
    AP_INIT_TAKE1("LifecycleDialect", set_dialect, NULL, RSRC_CONF | ACCESS_CONF, dialect_help),
    AP_INIT_TAKE2("LifecycleScope", set_scope, NULL, RSRC_CONF | ACCESS_CONF,
                  "read|write SCOPE: the token scope this location requires"),
    AP_INIT_FLAG("LifecycleOwnerCheck", set_owner_check, NULL, RSRC_CONF | ACCESS_CONF,
                 "on: only a resource's owner (token sub) or lifecycle.admin may transition it"),
    { NULL }
};
