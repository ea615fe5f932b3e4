/* lc_kind_feldera_names.h — a pipeline's statuses and the names Feldera
 * writes them with, its attribute keys that more than one file reads, and
 * its deployment id (lc_kind_feldera_names.c). */
#ifndef LC_KIND_FELDERA_NAMES_H
#define LC_KIND_FELDERA_NAMES_H

#include <jansson.h>

/* The numbering of the first eight is the one journals written before the
 * status model changed use (6 was Suspending, whose records now read as
 * Suspended with desired Suspended: the checkpoint then the stop). */
enum { FD_STOPPED, FD_PROVISIONING, FD_INITIALIZING, FD_PAUSED, FD_RUNNING, FD_UNAVAILABLE,
       FD_SUSPENDED, FD_STOPPING, FD_STANDBY, FD_AWAITING, FD_BOOTSTRAPPING, FD_REPLAYING,
       FD_NSTATES };
enum { FDD_STOPPED, FDD_PAUSED, FDD_RUNNING, FDD_SUSPENDED, FDD_STANDBY, FDD_UNAVAILABLE, FDD_N };
enum { FR_STOPPED, FR_PROVISIONING, FR_PROVISIONED, FR_STOPPING, FR_N };
enum { FRD_STOPPED, FRD_PROVISIONED, FRD_N };
/* Storage status (kept in r->data by lc_kind_feldera_hist.c). */
enum { FS_CLEARED, FS_INUSE, FS_CLEARING, FS_N };

/* The deployment error's key in r->data (present: an error is set). */
#define FD_K_ERROR "E"
/* The deployment id's key in r->data (32 hex digits). */
#define FD_K_DEPLOY "d"

extern const char *const lc_feldera_states[FD_NSTATES];
extern const char *const lc_feldera_desired[FDD_N];
extern const char *const lc_feldera_res[FR_N];
extern const char *const lc_feldera_res_desired[FRD_N];
extern const char *const lc_feldera_storage[FS_N];

/* names[v], or names[0] for a value out of range (a damaged record). */
static inline const char *fd_name(const char *const *names, unsigned n, unsigned v)
{
    return v < n ? names[v] : names[0];
}

/* The deployment id (a UUID) from its 32 hex digits in r's data, or null. */
json_t *lc_feldera_deployment_id(json_t *data);

#endif
