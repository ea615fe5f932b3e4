/* lc_metrics.h — counters every process adds to, in shared memory, for
 * GET /lifecycle/v1/metrics (Prometheus text). */
#ifndef LC_METRICS_H
#define LC_METRICS_H

#include <httpd.h>
#include "lc_config.h"
#include "lc_store.h"
#include "lc_resource.h"

/* A new counters area (zeroed, LC_METRICS_AREA bytes): say how it is laid out. */
void lc_metrics_area_init(void *area);

/* Whether an area kept across a graceful restart has this module's layout. */
int lc_metrics_area_ok(const void *area);

/* Where the counters live (the store's metrics area); NULL: count nothing. */
void lc_metrics_bind(void *area);

/* One answered request: its dialect and HTTP status. */
void lc_metrics_request(lc_dialect_e dialect, int status);

/* One transition made, by a request or by the background task. */
void lc_metrics_transition(lc_kind_e kind, int background);

/* One refused token, by cause ("expired", "insufficient_scope", ...). */
void lc_metrics_token_refused(const char *cause);

/* The token refusal counters, one sample per reason
 * (lifecycle_token_refusals_total, reason="expired"), for the status page;
 * nothing when no counters are bound. */
void lc_metrics_token_refusals(lc_metric_fn *emit, void *baton);

/* A WebSocket watcher opened (+1) or ended (-1): the gauge of every child
 * (lc_notte_watch.c).  A child killed with watchers open leaves them counted
 * until the next full restart. */
void lc_metrics_watchers(int delta);

/* The gauge; 0 when no counters are bound in this process. */
int lc_metrics_watchers_open(uint64_t *n);

/* Write every counter, plus the store's and journal's gauges, to r. */
void lc_metrics_write(request_rec *r, lc_store_t *store);

#endif
