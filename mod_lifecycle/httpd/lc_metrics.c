/* lc_metrics.c — request, transition and token counters in shared memory.
 *
 * Every child adds to the same counters (atomic adds in the store segment),
 * so any child answers /metrics for the whole server.  Counters are plain
 * uint64 arrays indexed by small enums: no locks, no allocation.
 */
#include <string.h>
#include <sodium.h>
#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "lc_metrics.h"
#include "lc_kind.h"
#include "lc_config.h"

enum { OUT_2XX, OUT_4XX, OUT_401, OUT_403, OUT_404, OUT_5XX, OUT_COUNT };

static const char *const outcome_names[OUT_COUNT] = {
    "2xx", "4xx", "401", "403", "404", "5xx"
};
static const char *const causes[] = {
    "missing", "malformed", "too_long", "unsupported", "unknown_kid", "bad_signature",
    "expired", "not_yet_valid", "no_exp", "wrong_issuer", "wrong_audience", "no_key",
    "insufficient_scope", "other"
};
#define CAUSES (sizeof(causes) / sizeof(*causes))

typedef struct counters {
    uint64_t layout;                                 /* layout_word() of who laid it out */
    uint64_t requests[LC_DIALECT_COUNT][OUT_COUNT];
    uint64_t transitions[LC_KIND_COUNT][2];          /* [kind][background] */
    uint64_t token_refused[CAUSES];
    uint64_t watchers_open;                          /* a gauge: WebSocket watchers now */
} counters_t;

_Static_assert(sizeof(counters_t) <= LC_METRICS_AREA, "the counters fit the metrics area");

static counters_t *c;

static void hash_name(crypto_generichash_state *h, const char *name)
{
    name = name ? name : "?";
    crypto_generichash_update(h, (const unsigned char *)name, strlen(name) + 1);
}

/* What the arrays mean: their dimensions and every name that indexes them.
 * A graceful restart keeps the counters of the module that made them; a
 * new module whose arrays differ must not add to them at other indexes. */
static uint64_t layout_word(void)
{
    crypto_generichash_state h;
    unsigned char out[8];
    uint64_t v = 0;
    unsigned i;

    crypto_generichash_init(&h, NULL, 0, sizeof(out));
    for (i = 1; i < LC_DIALECT_COUNT; i++) {
        hash_name(&h, lc_config_dialect_name((lc_dialect_e)i));
    }
    for (i = 0; i < OUT_COUNT; i++) {
        hash_name(&h, outcome_names[i]);
    }
    for (i = 1; i < LC_KIND_COUNT; i++) {
        hash_name(&h, lc_kind_name((lc_kind_e)i));
    }
    for (i = 0; i < CAUSES; i++) {
        hash_name(&h, causes[i]);
    }
    hash_name(&h, "watchers_open");
    crypto_generichash_final(&h, out, sizeof(out));
    for (i = 0; i < sizeof(out); i++) {
        v = (v << 8) | out[i];
    }
    return v | 1;           /* never 0, which an area nobody laid out holds */
}

void lc_metrics_area_init(void *area)
{
    ((counters_t *)area)->layout = layout_word();
}

int lc_metrics_area_ok(const void *area)
{
    return ((const counters_t *)area)->layout == layout_word();
}

void lc_metrics_bind(void *area)
{
    c = area;
}

static void add(uint64_t *n)
{
    if (c) {
        __atomic_add_fetch(n, 1, __ATOMIC_RELAXED);
    }
}

static int outcome(int status)
{
    switch (status) {
    case HTTP_UNAUTHORIZED: return OUT_401;
    case HTTP_FORBIDDEN:    return OUT_403;
    case HTTP_NOT_FOUND:    return OUT_404;
    default:
        return status >= 500 ? OUT_5XX : status >= 400 ? OUT_4XX : OUT_2XX;
    }
}

void lc_metrics_request(lc_dialect_e dialect, int status)
{
    if (c && dialect > LC_DIALECT_NONE && dialect < LC_DIALECT_COUNT) {
        add(&c->requests[dialect][outcome(status)]);
    }
}

void lc_metrics_transition(lc_kind_e kind, int background)
{
    if (c && kind > LC_KIND_NONE && kind < LC_KIND_COUNT) {
        add(&c->transitions[kind][background ? 1 : 0]);
    }
}

void lc_metrics_token_refused(const char *cause)
{
    unsigned i;

    for (i = 0; c && i < CAUSES - 1 && strcmp(causes[i], cause ? cause : ""); i++) {
    }
    if (c) {
        add(&c->token_refused[i]);
    }
}

static uint64_t load(const uint64_t *n)
{
    return __atomic_load_n(n, __ATOMIC_RELAXED);
}

void lc_metrics_watchers(int delta)
{
    if (c) {
        __atomic_add_fetch(&c->watchers_open, (uint64_t)(int64_t)delta, __ATOMIC_RELAXED);
    }
}

int lc_metrics_watchers_open(uint64_t *n)
{
    if (!c) {
        return 0;
    }
    *n = load(&c->watchers_open);
    return 1;
}

static void write_requests(request_rec *r)
{
    int d, o, k;
    unsigned i;

    ap_rputs("# HELP lifecycle_requests_total Requests answered, by dialect and outcome.\n"
             "# TYPE lifecycle_requests_total counter\n", r);
    for (d = 1; d < LC_DIALECT_COUNT; d++) {
        for (o = 0; o < OUT_COUNT; o++) {
            ap_rprintf(r, "lifecycle_requests_total{dialect=\"%s\",outcome=\"%s\"} %"
                       APR_UINT64_T_FMT "\n", lc_config_dialect_name((lc_dialect_e)d),
                       outcome_names[o], load(&c->requests[d][o]));
        }
    }
    ap_rputs("# HELP lifecycle_transitions_total State changes, by kind and by who made them.\n"
             "# TYPE lifecycle_transitions_total counter\n", r);
    for (k = 1; k < LC_KIND_COUNT; k++) {
        for (o = 0; o < 2; o++) {
            ap_rprintf(r, "lifecycle_transitions_total{kind=\"%s\",by=\"%s\"} %"
                       APR_UINT64_T_FMT "\n", lc_kind_name((lc_kind_e)k),
                       o ? "background" : "request", load(&c->transitions[k][o]));
        }
    }
    ap_rputs("# HELP lifecycle_token_refusals_total Requests refused by the token check, by reason.\n"
             "# TYPE lifecycle_token_refusals_total counter\n", r);
    for (i = 0; i < CAUSES; i++) {
        ap_rprintf(r, "lifecycle_token_refusals_total{reason=\"%s\"} %" APR_UINT64_T_FMT "\n",
                   causes[i], load(&c->token_refused[i]));
    }
    ap_rprintf(r, "# HELP lifecycle_watchers_open WebSocket watchers open now (every child).\n"
               "# TYPE lifecycle_watchers_open gauge\nlifecycle_watchers_open %" APR_UINT64_T_FMT
               "\n", load(&c->watchers_open));
}

void lc_metrics_token_refusals(lc_metric_fn *emit, void *baton)
{
    char labels[48];
    lc_metric_t m = { "lifecycle_token_refusals_total", "counter",
                      "Requests refused by the token check, by reason.", labels, 0, 0 };
    unsigned i;

    for (i = 0; c && i < CAUSES; i++) {
        apr_snprintf(labels, sizeof(labels), "reason=\"%s\"", causes[i]);
        m.value = load(&c->token_refused[i]);
        emit(&m, baton);
    }
}

/* The backend's samples, Prometheus-style: HELP and TYPE before the first
 * sample of each name. */
typedef struct printer {
    request_rec *r;
    const char  *last;
} printer_t;

static void print_metric(const lc_metric_t *m, void *baton)
{
    printer_t *pr = baton;

    if (!pr->last || strcmp(pr->last, m->name) != 0) {
        ap_rprintf(pr->r, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help, m->name, m->type);
        pr->last = m->name;
    }
    ap_rprintf(pr->r, "%s%s%s%s ", m->name, m->labels ? "{" : "", m->labels ? m->labels : "",
               m->labels ? "}" : "");
    if (m->usec) {
        ap_rprintf(pr->r, "%.6f\n", (double)m->value / APR_USEC_PER_SEC);
    }
    else {
        ap_rprintf(pr->r, "%" APR_UINT64_T_FMT "\n", m->value);
    }
}

void lc_metrics_write(request_rec *r, lc_store_t *store)
{
    printer_t pr = { r, NULL };

    ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    lc_store_metrics(store, print_metric, &pr, r->pool);
    if (c) {
        write_requests(r);
    }
}
