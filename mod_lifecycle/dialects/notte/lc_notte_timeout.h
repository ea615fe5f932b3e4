/* lc_notte_timeout.h — a Notte session's max_duration_minutes and
 * idle_timeout_minutes (lc_notte_timeout.c): what the background task asks
 * of the dialect once a session timed out.  Apart from lc_notte.h so that
 * lc_watchdog.c needs nothing of the request path. */
#ifndef LC_NOTTE_TIMEOUT_H
#define LC_NOTTE_TIMEOUT_H

#include <httpd.h>
#include "lc_store.h"

/* Session `id` timed out (the background task moved it): close its active
 * agents, each in its own update, audited as the background's timeout. */
void lc_notte_session_timed_out(lc_store_t *st, server_rec *s, const char *id, apr_pool_t *p);

#endif
