/* lc_kind_feldera.h — what lc_dialect_feldera.c needs of its kind
 * (lc_kind_feldera.c): the statuses, the stored error's key, the
 * representation, and the names of the resources statuses its errors quote. */
#ifndef LC_KIND_FELDERA_H
#define LC_KIND_FELDERA_H

#include "lc_kind.h"

/* The Feldera release whose manager API this dialect follows (/v0/config's
 * "version", and every pipeline's platform_version). */
#define LC_FELDERA_VERSION "0.337.0"

/* The numbering of the first eight is the one journals written before the
 * status model changed use (6 was Suspending, whose records now read as
 * Suspended with desired Suspended: the checkpoint then the stop). */
enum { FD_STOPPED, FD_PROVISIONING, FD_INITIALIZING, FD_PAUSED, FD_RUNNING, FD_UNAVAILABLE,
       FD_SUSPENDED, FD_STOPPING, FD_STANDBY, FD_AWAITING, FD_BOOTSTRAPPING, FD_REPLAYING,
       FD_NSTATES };
enum { FDD_STOPPED, FDD_PAUSED, FDD_RUNNING, FDD_SUSPENDED, FDD_STANDBY, FDD_UNAVAILABLE, FDD_N };
enum { FR_STOPPED, FR_PROVISIONING, FR_PROVISIONED, FR_STOPPING, FR_N };
enum { FRD_STOPPED, FRD_PROVISIONED, FRD_N };

/* The deployment error's key in r->data (present: an error is set). */
#define FD_K_ERROR "E"

extern const lc_kind_def_t lc_pipeline_kind;

/* Resources status and resources desired status names, as Feldera writes them. */
extern const char *const lc_feldera_res[FR_N];
extern const char *const lc_feldera_res_desired[FRD_N];

extern const char *const lc_feldera_desired[FDD_N];

/* ---- what a pipeline keeps beside its status (lc_kind_feldera_hist.c) ---- */

/* Keys in r->data: storage status, status history, log lines, reported
 * global metrics, checkpoints taken, deployment start (seconds). */
#define FH_K_STORAGE "s"
#define FH_K_EVENTS  "v"
#define FH_K_LOG     "l"
#define FH_K_METRICS "g"
#define FH_K_CKPTS   "k"
#define FH_K_STARTED "t"

enum { FS_CLEARED, FS_INUSE, FS_CLEARING, FS_N };
extern const char *const lc_feldera_storage[FS_N];

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

/* names[v], or names[0] for a value out of range (a damaged record). */
static inline const char *fd_name(const char *const *names, unsigned n, unsigned v)
{
    return v < n ? names[v] : names[0];
}

/* The pipeline as the manager's GET answers it (PipelineSelectedInfo), without
 * its "id"; `all` adds the program and runtime configuration fields. */
json_t *lc_feldera_pipeline_json(const lc_resource_t *r, int all);

/* The deployment id (a UUID) from its 32 hex digits in r's data, or null. */
json_t *lc_feldera_deployment_id(json_t *data);

#endif
