/* lc_dbd_timeline.h — the timeline guard (lc_dbd_timeline.c). */
#ifndef LC_DBD_TIMELINE_H
#define LC_DBD_TIMELINE_H

#include "lc_dbd_int.h"

/* Whether the new session on c may be written to: APR_SUCCESS, or
 * LC_EUNAVAIL (the session closed) when its node is on an older timeline
 * than one this host has written to, or is another cluster.  *line gets
 * what to log (an error with LC_EUNAVAIL, a warning with APR_SUCCESS), or
 * NULL: the caller logs (lc_dbd_log, which this file does not depend on). */
apr_status_t lc_dbd_timeline_check(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p,
                                   const char **line);

#endif
