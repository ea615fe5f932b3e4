/* lc_segment.h — the shared segment and its mutex, kept across graceful restarts. */
#ifndef LC_SEGMENT_H
#define LC_SEGMENT_H

#include <httpd.h>
#include "lc_store.h"

#define LC_MUTEX_TYPE "lifecycle-store"

/* pre_config: register the mutex type so that `Mutex ... lifecycle-store` works. */
apr_status_t lc_segment_pre_config(apr_pool_t *pconf);

/* post_config: create segment and mutex on first start, find them again after
 * a graceful restart (ap_retained_data).  *created tells which. */
apr_status_t lc_segment_post_config(apr_pool_t *pconf, server_rec *s, int *created);

/* child_init: re-open the mutex in the child and bind the store. */
void lc_segment_child_init(apr_pool_t *p, server_rec *s);

/* This process's store, or NULL before child_init. */
lc_store_t *lc_segment_store(void);

#endif
