/* lc_watchdog.h — the background task that finishes transitional states. */
#ifndef LC_WATCHDOG_H
#define LC_WATCHDOG_H

#include <httpd.h>

/* post_config: register the mod_watchdog callback that every child runs
 * every 100 ms (not a singleton: see lc_watchdog.c). */
apr_status_t lc_watchdog_post_config(apr_pool_t *pconf, server_rec *s);

/* In child_init, once the store is published: at the child's exit, ticks
 * stop using the store before pchild is destroyed (see lc_watchdog.c). */
void lc_watchdog_child_init(apr_pool_t *pchild);

#endif
