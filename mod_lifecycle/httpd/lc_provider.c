/* lc_provider.c — the list of store backends, and the one this process uses.
 *
 * The list is filled at register_hooks (mod_lifecycle.c names every backend
 * built), before any directive is read, so that `LifecycleStore` can check
 * its argument, and without this file naming the backends: they depend on
 * the configuration, which depends on this list. */
#include <string.h>
#include <apr_strings.h>

#include "lc_provider.h"

#define LC_PROVIDERS_MAX 4

/* Every backend built, in registration order; the first is the default. */
static const lc_provider_t *providers[LC_PROVIDERS_MAX + 1];

void lc_provider_register(const lc_provider_t *pv)
{
    int i;

    for (i = 0; i < LC_PROVIDERS_MAX && providers[i] && providers[i] != pv; i++) {
    }
    if (i < LC_PROVIDERS_MAX) {
        providers[i] = pv;
    }
}

static lc_store_t *process_store;

const lc_provider_t *lc_provider_find(const char *name)
{
    int i;

    for (i = 0; providers[i]; i++) {
        if (strcmp(providers[i]->name, name) == 0) {
            return providers[i];
        }
    }
    return NULL;
}

const char *lc_provider_names(apr_pool_t *p)
{
    const char *s = providers[0] ? providers[0]->name : "";
    int i;

    for (i = 1; providers[i]; i++) {
        s = apr_pstrcat(p, s, ", ", providers[i]->name, NULL);
    }
    return s;
}

apr_status_t lc_provider_pre_config(apr_pool_t *pconf)
{
    apr_status_t rv;
    int i;

    for (i = 0; providers[i]; i++) {
        if (providers[i]->pre_config && (rv = providers[i]->pre_config(pconf)) != APR_SUCCESS) {
            return rv;
        }
    }
    return APR_SUCCESS;
}

const lc_provider_t *lc_provider_configured(const char *name)
{
    const lc_provider_t *pv = name ? lc_provider_find(name) : NULL;

    return pv ? pv : providers[0];
}

/* Published by child_init while the watchdog's thread may already tick:
 * the store is read only once it is whole. */
lc_store_t *lc_provider_store(void)
{
    return __atomic_load_n(&process_store, __ATOMIC_SEQ_CST);
}

void lc_provider_set_store(lc_store_t *st)
{
    __atomic_store_n(&process_store, st, __ATOMIC_RELEASE);
}

void lc_provider_withdraw_store(void)
{
    __atomic_store_n(&process_store, NULL, __ATOMIC_SEQ_CST);
}
