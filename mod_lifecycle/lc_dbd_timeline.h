/* lc_dbd_timeline.h — the timeline guard (lc_dbd_timeline.c). */
#ifndef LC_DBD_TIMELINE_H
#define LC_DBD_TIMELINE_H

#include "lc_dbd_int.h"

/* Whether the new session on c may be written to: APR_SUCCESS, or
 * LC_EUNAVAIL (logged; the session closed) when its node is on an older
 * timeline than one this host has written to, or is another cluster. */
apr_status_t lc_dbd_timeline_check(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p);

#endif
