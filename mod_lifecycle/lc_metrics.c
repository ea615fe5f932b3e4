/* lc_metrics.c — request, transition and token counters in shared memory.
 *
 * Every child adds to the same counters (atomic adds in the store segment),
 * so any child answers /metrics for the whole server.  Counters are plain
 * uint64 arrays indexed by small enums: no locks, no allocation.
 */
#include <string.h>
#include <httpd.h>
#include <http_protocol.h>

#include "lc_metrics.h"
#include "lc_dialect.h"
#include "lc_state.h"

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
    uint64_t requests[LC_DIALECT_COUNT][OUT_COUNT];
    uint64_t transitions[LC_KIND_COUNT][2];          /* [kind][background] */
    uint64_t token_refused[CAUSES];
} counters_t;

_Static_assert(sizeof(counters_t) <= 2048, "the counters fit the metrics area");

static counters_t *c;

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

static void write_requests(request_rec *r)
{
    int d, o, k;
    unsigned i;

    ap_rputs("# HELP lifecycle_requests_total Requests answered, by dialect and outcome.\n"
             "# TYPE lifecycle_requests_total counter\n", r);
    for (d = 1; d < LC_DIALECT_COUNT; d++) {
        for (o = 0; o < OUT_COUNT; o++) {
            ap_rprintf(r, "lifecycle_requests_total{dialect=\"%s\",outcome=\"%s\"} %"
                       APR_UINT64_T_FMT "\n", lc_dialect_get((lc_dialect_e)d)->name,
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
}

/* LifecycleAttributeMemory: totals, then blocks per size class in use. */
static void write_heap(request_rec *r, const lc_store_stats_t *st)
{
    int c;

    ap_rprintf(r,
               "# HELP lifecycle_attribute_memory_bytes Shared memory for resources' ids and "
               "attributes (LifecycleAttributeMemory): in blocks in use, in free blocks "
               "(reused by their size class), never used yet.\n"
               "# TYPE lifecycle_attribute_memory_bytes gauge\n"
               "lifecycle_attribute_memory_bytes{state=\"used\"} %" APR_UINT64_T_FMT "\n"
               "lifecycle_attribute_memory_bytes{state=\"free\"} %" APR_UINT64_T_FMT "\n"
               "lifecycle_attribute_memory_bytes{state=\"unused\"} %" APR_UINT64_T_FMT "\n"
               "# HELP lifecycle_attribute_blocks Attribute memory blocks by size class.\n"
               "# TYPE lifecycle_attribute_blocks gauge\n",
               st->heap_used, st->heap_free, st->heap_bytes - st->heap_used - st->heap_free);
    for (c = 0; c < LC_HEAP_CLASSES; c++) {
        const lc_heap_class_t *hc = &st->heap_class[c];
        if (hc->used || hc->free) {
            ap_rprintf(r, "lifecycle_attribute_blocks{size=\"%u\",state=\"used\"} %u\n"
                       "lifecycle_attribute_blocks{size=\"%u\",state=\"free\"} %u\n",
                       hc->size, hc->used, hc->size, hc->free);
        }
    }
}

static void write_store(request_rec *r, lc_store_t *store)
{
    lc_store_stats_t st;

    lc_store_stats(store, &st);
    ap_rprintf(r,
               "# HELP lifecycle_store_slots Resource slots in shared memory.\n"
               "# TYPE lifecycle_store_slots gauge\n"
               "lifecycle_store_slots{state=\"used\"} %u\n"
               "lifecycle_store_slots{state=\"free\"} %u\n"
               "# HELP lifecycle_store_repairs_total Updates rolled back after a process "
               "died holding the store mutex.\n"
               "# TYPE lifecycle_store_repairs_total counter\n"
               "lifecycle_store_repairs_total %" APR_UINT64_T_FMT "\n"
               "# HELP lifecycle_mutex_acquisitions_total Store mutex acquisitions.\n"
               "# TYPE lifecycle_mutex_acquisitions_total counter\n"
               "lifecycle_mutex_acquisitions_total %" APR_UINT64_T_FMT "\n"
               "# HELP lifecycle_mutex_wait_seconds_total Time spent waiting for the store mutex.\n"
               "# TYPE lifecycle_mutex_wait_seconds_total counter\n"
               "lifecycle_mutex_wait_seconds_total %.6f\n",
               st.used, st.capacity - st.used, st.repairs, st.lock_waits,
               (double)st.lock_wait_usec / APR_USEC_PER_SEC);
    write_heap(r, &st);
}

static void write_journal(request_rec *r)
{
    lc_journal_stats_t js;

    if (!lc_state_journal()) {
        return;
    }
    lc_journal_stats(lc_state_journal(), &js);
    ap_rprintf(r,
               "# HELP lifecycle_journal_flushes_total fdatasync calls on the journal.\n"
               "# TYPE lifecycle_journal_flushes_total counter\n"
               "lifecycle_journal_flushes_total %" APR_UINT64_T_FMT "\n"
               "# HELP lifecycle_journal_bytes_total Bytes appended to the journal.\n"
               "# TYPE lifecycle_journal_bytes_total counter\n"
               "lifecycle_journal_bytes_total %" APR_UINT64_T_FMT "\n"
               "# HELP lifecycle_journal_durable_seq Last change on disk.\n"
               "# TYPE lifecycle_journal_durable_seq gauge\n"
               "lifecycle_journal_durable_seq %" APR_UINT64_T_FMT "\n"
               "# HELP lifecycle_journal_snapshot_seq Last change the newest snapshot covers.\n"
               "# TYPE lifecycle_journal_snapshot_seq gauge\n"
               "lifecycle_journal_snapshot_seq %" APR_UINT64_T_FMT "\n",
               js.flushes, js.bytes, js.durable_seq, js.snapshot_seq);
}

void lc_metrics_write(request_rec *r, lc_store_t *store)
{
    ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    write_store(r, store);
    write_journal(r);
    if (c) {
        write_requests(r);
    }
}
