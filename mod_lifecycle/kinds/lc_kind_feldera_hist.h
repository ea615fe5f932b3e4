/* lc_kind_feldera_hist.h — what a pipeline keeps beside its status
 * (lc_kind_feldera_hist.c): storage status, status history, a runner's log
 * lines and global metrics, the checkpoints taken. */
#ifndef LC_KIND_FELDERA_HIST_H
#define LC_KIND_FELDERA_HIST_H

#include "lc_kind.h"
#include "lc_kind_feldera_names.h"

/* Keys in r->data: storage status, status history, log lines, reported
 * global metrics, checkpoints taken, deployment start (seconds). */
#define FH_K_STORAGE "s"
#define FH_K_EVENTS  "v"
#define FH_K_LOG     "l"
#define FH_K_METRICS "g"
#define FH_K_CKPTS   "k"
#define FH_K_STARTED "t"

/* The storage status r's data says (a record from before it was kept: derived). */
int  lc_feldera_storage_status(const lc_resource_t *r, json_t *data);
/* Append r's status to the history in data when it differs from the last entry. */
void lc_feldera_event(json_t *data, const lc_resource_t *r, apr_time_t now);
/* Append a runner's `log` (a string or an array of strings): APR_EINVAL if neither. */
apr_status_t lc_feldera_log_append(json_t *data, json_t *lines);
/* Whether k is a global_metrics field a runner may report; set one (APR_EINVAL: wrong type). */
int  lc_feldera_is_metric(const char *k);
apr_status_t lc_feldera_metrics_set(json_t *data, const char *k, json_t *v);
/* A checkpoint was taken (a new uuid, sequence number seq). */
void lc_feldera_checkpoint_taken(json_t *data, uint64_t seq);
/* Make room: drop the oldest half of the log, else of the history, else all of them. */
void lc_feldera_trim(json_t *data);

/* The answers of GET /events (newest first), /logs (the lines), /stats, /checkpoints. */
json_t *lc_feldera_events_json(const lc_resource_t *r, int all);
json_t *lc_feldera_log_lines(const lc_resource_t *r);
json_t *lc_feldera_stats_json(const lc_resource_t *r, apr_time_t now);
json_t *lc_feldera_checkpoints_json(const lc_resource_t *r);

#endif
