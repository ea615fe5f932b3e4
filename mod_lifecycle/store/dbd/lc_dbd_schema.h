/* lc_dbd_schema.h — the dbd backend's tables (lc_dbd_schema.c). */
#ifndef LC_DBD_SCHEMA_H
#define LC_DBD_SCHEMA_H

#include "lc_dbd.h"

/* Create or upgrade the schema on connection c, under an advisory lock
 * (several hosts may start at once).  APR_SUCCESS; APR_EINVAL when the
 * database holds a schema newer than LC_DBD_SCHEMA; LC_EUNAVAIL when a
 * statement failed.  *why gets one line saying what was wrong. */
apr_status_t lc_dbd_schema_ensure(lc_dbd_conn_t *c, apr_pool_t *p, const char **why);

#endif
