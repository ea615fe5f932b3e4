/* lc_status.h — the lifecycle section of mod_status's /server-status. */
#ifndef LC_STATUS_H
#define LC_STATUS_H

#include <apr_pools.h>

/* register_hooks: mod_status's status_hook (optional: the module loads and
 * runs without mod_status) and the child_init that starts the flush rate's
 * window. */
void lc_status_register_hooks(apr_pool_t *p);

#endif
