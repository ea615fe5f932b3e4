/* lc_status.c — the lifecycle section of mod_status's /server-status.
 *
 * mod_status runs every module's status_hook after its own report: HTML,
 * or, for ?auto (AP_STATUS_SHORT), "Key: value" lines.  This section says
 * the same in both: every ?auto key "Lifecycle<Key>" has an HTML line.
 * Every figure comes through the seams the rest of the module uses: the
 * store's metric samples and its count (lc_store.h), the token counters
 * (lc_metrics.h) and the configured backend (lc_provider.h), so that it
 * shows whichever backend runs.  The hook is optional (APR_OPTIONAL_HOOK):
 * without mod_status loaded nothing calls it and the module loads as
 * before.
 */
#include <httpd.h>
#include <http_config.h>
#include <http_protocol.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <mod_status.h>

#include "lc_status.h"
#include "lc_config.h"
#include "lc_kind.h"
#include "lc_metrics.h"
#include "lc_provider.h"
#include "lc_store.h"

/* The flush rate's samples move on every WINDOW (see flush_rate). */
#define WINDOW apr_time_from_sec(10)

/* The store's figures this section shows, in this order. */
static const struct row {
    const char *key;            /* ?auto: Lifecycle<key> */
    const char *label;          /* HTML */
    const char *metric;         /* the sample, name{labels} */
} rows[] = {
    { "SlotsUsed", "Resource slots used", "lifecycle_store_slots{state=\"used\"}" },
    { "SlotsFree", "Resource slots free", "lifecycle_store_slots{state=\"free\"}" },
    { "JournalSeq", "Journal: last change on disk", "lifecycle_journal_durable_seq" },
    { "JournalSnapshotSeq", "Journal: last change the newest snapshot covers",
      "lifecycle_journal_snapshot_seq" },
    { "JournalFlushes", "Journal flushes (fdatasync)", "lifecycle_journal_flushes_total" },
    { "FeedSeq", "Change feed: last sequence number this server has seen",
      "lifecycle_feed_last_seq" },
    { "MutexAcquisitions", "Store mutex acquisitions", "lifecycle_mutex_acquisitions_total" },
    { "MutexWaitSeconds", "Store mutex: seconds spent waiting",
      "lifecycle_mutex_wait_seconds_total" },
    { "MutexHoldSeconds", "Store mutex: seconds held", "lifecycle_mutex_hold_seconds_total" },
};

typedef struct sample {
    uint64_t value;
    int      usec;
} sample_t;

/* Collect a view's samples by "name" or "name{labels}" (copied: emitters
 * reuse their label buffers). */
static void collect(const lc_metric_t *m, void *baton)
{
    apr_hash_t *h = baton;
    apr_pool_t *p = apr_hash_pool_get(h);
    sample_t *s = apr_palloc(p, sizeof(*s));

    s->value = m->value;
    s->usec = m->usec;
    apr_hash_set(h, m->labels ? apr_pstrcat(p, m->name, "{", m->labels, "}", NULL)
                              : apr_pstrdup(p, m->name), APR_HASH_KEY_STRING, s);
}

static const sample_t *sample_get(apr_hash_t *h, const char *key)
{
    return apr_hash_get(h, key, APR_HASH_KEY_STRING);
}

/* One figure: "Lifecycle<key>: value" for ?auto, "<dt>label: value</dt>". */
static void line(request_rec *r, int flags, const char *key, const char *label,
                 const char *value)
{
    if (flags & AP_STATUS_SHORT) {
        ap_rprintf(r, "Lifecycle%s: %s\n", key, value);
    }
    else {
        ap_rprintf(r, "<dt>%s: %s</dt>\n", ap_escape_html(r->pool, label),
                   ap_escape_html(r->pool, value));
    }
}

static const char *number(apr_pool_t *p, uint64_t n)
{
    return apr_psprintf(p, "%" APR_UINT64_T_FMT, n);
}

/* The journal's flush rate.  The counter is shared and outlives graceful
 * restarts, so it says nothing about when its flushes happened: each
 * process keeps two samples of its own, taken when the page is viewed, and
 * the rate covers the older one to now: 10 to 20 s while somebody looks
 * every 10 s; otherwise since the view before last, or since child_init's
 * sample (the child's whole life) before anybody looked twice. */
static struct {
    apr_thread_mutex_t *mu;
    int                 have;
    apr_time_t          t[2];
    uint64_t            n[2];
} rate;

static void flush_rate(uint64_t flushes, apr_time_t now, double *per_sec, double *secs)
{
    apr_time_t dt;

    if (rate.mu) {
        apr_thread_mutex_lock(rate.mu);
    }
    if (!rate.have) {
        rate.t[0] = rate.t[1] = now;
        rate.n[0] = rate.n[1] = flushes;
        rate.have = 1;
    }
    if (now - rate.t[1] >= WINDOW) {
        rate.t[0] = rate.t[1];
        rate.n[0] = rate.n[1];
        rate.t[1] = now;
        rate.n[1] = flushes;
    }
    dt = now - rate.t[0];
    *secs = (double)dt / APR_USEC_PER_SEC;
    *per_sec = dt > 0 && flushes >= rate.n[0] ? (double)(flushes - rate.n[0]) / *secs : 0.0;
    if (rate.mu) {
        apr_thread_mutex_unlock(rate.mu);
    }
}

static void show_store(request_rec *r, int flags, apr_hash_t *h)
{
    const sample_t *s;
    double per_sec, secs;
    unsigned i;

    for (i = 0; i < sizeof(rows) / sizeof(*rows); i++) {
        if (!(s = sample_get(h, rows[i].metric))) {
            continue;           /* not this backend's (or no journal) */
        }
        line(r, flags, rows[i].key, rows[i].label,
             s->usec ? apr_psprintf(r->pool, "%.6f", (double)s->value / APR_USEC_PER_SEC)
                     : number(r->pool, s->value));
        if (strcmp(rows[i].key, "JournalFlushes") == 0) {
            flush_rate(s->value, apr_time_now(), &per_sec, &secs);
            line(r, flags, "JournalFlushesPerSec", "Journal flushes a second",
                 apr_psprintf(r->pool, "%.2f", per_sec));
            line(r, flags, "JournalFlushRateSeconds", "Journal flush rate measured over (s)",
                 apr_psprintf(r->pool, "%.1f", secs));
        }
    }
}

/* Resources by kind and state: every state of every kind, zeros included,
 * so that ?auto always has the same keys. */
static void show_resources(request_rec *r, int flags, lc_store_t *st)
{
    lc_store_counts_t *c = apr_palloc(r->pool, sizeof(*c));
    const lc_kind_def_t *def;
    uint64_t total = 0;
    int k;
    unsigned s;
    apr_status_t rv = lc_store_count(st, c, r->pool);

    if (rv != APR_SUCCESS) {
        line(r, flags, "Resources", "Resources", "unavailable");
        return;
    }
    for (k = 1; k < LC_KIND_COUNT; k++) {
        for (s = 0; s < 256; s++) {
            total += c->n[k][s];
        }
    }
    line(r, flags, "Resources", "Resources", number(r->pool, total));
    for (k = 1; k < LC_KIND_COUNT; k++) {
        if (!(def = lc_kind_def((lc_kind_e)k))) {
            continue;
        }
        for (s = 0; s < def->nstates; s++) {
            const char *state = lc_kind_state_name(def, s);
            line(r, flags, apr_pstrcat(r->pool, "Resources.", def->name, ".", state, NULL),
                 apr_pstrcat(r->pool, "Resources ", def->name, " ", state, NULL),
                 number(r->pool, c->n[k][s]));
        }
    }
}

/* Token refusals, the total and every reason. */
typedef struct refusals {
    int                 n;
    uint64_t            value[32];
    const char         *reason[32];
    apr_pool_t         *p;
} refusals_t;

static void collect_refusal(const lc_metric_t *m, void *baton)
{
    refusals_t *rf = baton;
    const char *q = m->labels ? strchr(m->labels, '"') : NULL;

    if (rf->n < 32 && q) {
        rf->reason[rf->n] = apr_pstrndup(rf->p, q + 1, strcspn(q + 1, "\""));
        rf->value[rf->n++] = m->value;
    }
}

static void show_refusals(request_rec *r, int flags)
{
    refusals_t rf = { 0 };
    uint64_t total = 0;
    int i;

    rf.p = r->pool;
    lc_metrics_token_refusals(collect_refusal, &rf);
    if (rf.n == 0) {
        return;                 /* no counters bound in this process */
    }
    for (i = 0; i < rf.n; i++) {
        total += rf.value[i];
    }
    line(r, flags, "TokenRefusals", "Requests refused by the token check",
         number(r->pool, total));
    for (i = 0; i < rf.n; i++) {
        line(r, flags, apr_pstrcat(r->pool, "TokenRefusals.", rf.reason[i], NULL),
             apr_pstrcat(r->pool, "Token refusals: ", rf.reason[i], NULL),
             number(r->pool, rf.value[i]));
    }
}

/* WebSocket watchers open now, every child's (LifecycleWatchersPerChild). */
static void show_watchers(request_rec *r, int flags)
{
    uint64_t n;

    if (lc_metrics_watchers_open(&n)) {
        line(r, flags, "WatchersOpen", "WebSocket watchers open", number(r->pool, n));
    }
}

static int lc_status_hook(request_rec *r, int flags)
{
    const lc_provider_t *pv = lc_provider_configured(lc_config_global(r->server)->store);
    lc_store_t *st = lc_provider_store();
    apr_hash_t *h = apr_hash_make(r->pool);

    if (!(flags & AP_STATUS_SHORT)) {
        ap_rputs("<hr />\n<h2>Lifecycle</h2>\n<dl>\n", r);
    }
    line(r, flags, "Store", "Store", st ? pv->name : "unavailable");
    if (st) {
        lc_store_metrics(st, collect, h, r->pool);
        show_store(r, flags, h);
        show_resources(r, flags, st);
    }
    show_refusals(r, flags);
    show_watchers(r, flags);
    if (!(flags & AP_STATUS_SHORT)) {
        ap_rputs("</dl>\n", r);
    }
    return OK;
}

/* After the store's own child_init (APR_HOOK_MIDDLE): the rate's first
 * sample, so that a child's first view has a window to measure. */
static void lc_status_child_init(apr_pool_t *p, server_rec *s)
{
    lc_store_t *st = lc_provider_store();
    apr_hash_t *h = apr_hash_make(p);
    const sample_t *f;
    double per_sec, secs;

    (void)s;
    apr_thread_mutex_create(&rate.mu, APR_THREAD_MUTEX_DEFAULT, p);
    if (st) {
        lc_store_metrics(st, collect, h, p);
        if ((f = sample_get(h, "lifecycle_journal_flushes_total"))) {
            flush_rate(f->value, apr_time_now(), &per_sec, &secs);
        }
    }
}

void lc_status_register_hooks(apr_pool_t *p)
{
    (void)p;
    APR_OPTIONAL_HOOK(ap, status_hook, lc_status_hook, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(lc_status_child_init, NULL, NULL, APR_HOOK_LAST);
}
