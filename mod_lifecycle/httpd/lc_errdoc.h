/* lc_errdoc.h — no HTML error page under a mounted Location (lc_errdoc.c). */
#ifndef LC_ERRDOC_H
#define LC_ERRDOC_H

#include <apr_pools.h>
#include "lc_dialect.h"

/* The dispatcher's table: which dialect a Location's LifecycleDialect names
 * (NULL for none). */
typedef const lc_dialect_t *lc_errdoc_dialect_fn(lc_dialect_e which);

/* Register the insert_error_filter hook and its output filter. */
void lc_errdoc_register_hooks(apr_pool_t *p, lc_errdoc_dialect_fn *dialect_of);

#endif
