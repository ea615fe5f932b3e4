/* lc_watchdog.h — the background task that finishes transitional states. */
#ifndef LC_WATCHDOG_H
#define LC_WATCHDOG_H

#include <httpd.h>

/* post_config: register a singleton mod_watchdog callback (every 100 ms). */
apr_status_t lc_watchdog_post_config(apr_pool_t *pconf, server_rec *s);

#endif
