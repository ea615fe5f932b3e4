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
