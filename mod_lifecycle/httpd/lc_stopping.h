/* lc_stopping.h — whether this child is on its way out. */
#ifndef LC_STOPPING_H
#define LC_STOPPING_H

#include <apr_pools.h>

/* True once the MPM is stopping this process (a stop or a graceful
 * restart) or its child pool is being destroyed. */
int lc_stopping(void);

/* child_init: watch pchild (the store's waits, such as the change feed's
 * long-poll, poll lc_stopping). */
void lc_stopping_child_init(apr_pool_t *pchild);

#endif
