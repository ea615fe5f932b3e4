/* lc_provider.h — the store backends the httpd layer can choose from.
 *
 * `LifecycleStore NAME` picks one (default "shm"); the httpd glue
 * (mod_lifecycle.c) calls it at each step of httpd's life cycle and hands
 * every request its lc_store_t.  Nothing above this line knows which
 * backend is in use: dialects, the engine, the feed, the metrics and the
 * watchdog see lc_store.h only.  Adding a backend is one lc_provider_X.c
 * filling an lc_provider_t, plus its lc_provider_register() line in
 * mod_lifecycle.c's register_hooks.
 */
#ifndef LC_PROVIDER_H
#define LC_PROVIDER_H

#include <httpd.h>
#include "lc_store.h"

typedef struct lc_provider {
    const char *name;
    /* pre_config, for every backend built (directives are not read yet):
     * register what it may need, such as its mutex type. */
    apr_status_t (*pre_config)(apr_pool_t *pconf);
    /* post_config, in the parent: make the store at the first start (and
     * recover its state), or find it again after a graceful restart. */
    apr_status_t (*post_config)(apr_pool_t *pconf, apr_pool_t *ptemp, server_rec *s);
    /* child_init: this process's store, or NULL (the cause logged). */
    lc_store_t *(*child_init)(apr_pool_t *pchild, server_rec *s);
    /* The request counters every process adds to (LC_METRICS_AREA bytes,
     * kept across graceful restarts), or NULL. */
    void *(*counters)(lc_store_t *st);
    /* Upkeep from the background tick, in every child (snapshots, ...);
     * returns at once when nothing is due.  May be NULL. */
    void (*tick)(lc_store_t *st, server_rec *s);
} lc_provider_t;

extern const lc_provider_t lc_provider_shm;
extern const lc_provider_t lc_provider_dbd;

/* register_hooks: one call per backend built; the first is the default. */
void lc_provider_register(const lc_provider_t *pv);

/* The backend called `name`, or NULL. */
const lc_provider_t *lc_provider_find(const char *name);

/* "shm, ..." for error messages. */
const char *lc_provider_names(apr_pool_t *p);

/* pre_config of every backend built. */
apr_status_t lc_provider_pre_config(apr_pool_t *pconf);

/* The backend LifecycleStore named (NULL: the default), and this process's
 * store once its child_init ran (NULL before, or when it failed). */
const lc_provider_t *lc_provider_configured(const char *name);
lc_store_t *lc_provider_store(void);
void lc_provider_set_store(lc_store_t *st);

/* At the child's exit: lc_provider_store() answers NULL from now on. */
void lc_provider_withdraw_store(void);

#endif
