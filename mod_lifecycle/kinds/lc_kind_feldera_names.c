/* lc_kind_feldera_names.c — the names a pipeline's statuses are written
 * with, and its deployment id: what both the kind (lc_kind_feldera.c) and
 * what it keeps (lc_kind_feldera_hist.c) show, so that neither depends on
 * the other's file. */
#include <string.h>

#include "lc_kind_feldera_names.h"

const char *const lc_feldera_states[FD_NSTATES] = {
    "Stopped", "Provisioning", "Initializing", "Paused", "Running", "Unavailable",
    "Suspended", "Stopping", "Standby", "AwaitingApproval", "Bootstrapping", "Replaying"
};
const char *const lc_feldera_desired[FDD_N] = {
    "Stopped", "Paused", "Running", "Suspended", "Standby", "Unavailable"
};
const char *const lc_feldera_res[FR_N] = { "Stopped", "Provisioning", "Provisioned", "Stopping" };
const char *const lc_feldera_res_desired[FRD_N] = { "Stopped", "Provisioned" };

const char *const lc_feldera_storage[FS_N] = { "Cleared", "InUse", "Clearing" };

json_t *lc_feldera_deployment_id(json_t *data)
{
    const char *h = json_string_value(json_object_get(data, FD_K_DEPLOY));

    if (!h || strlen(h) != 32) {
        return json_null();
    }
    return json_sprintf("%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

