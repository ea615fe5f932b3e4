/* lc_provider.c — the list of store backends, and the one this process uses. */
#include <string.h>
#include <apr_strings.h>

#include "lc_provider.h"

/* Every backend built; the first is the default. */
static const lc_provider_t *const providers[] = {
    &lc_provider_shm,
    &lc_provider_dbd,
    NULL
};

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
    const char *s = providers[0]->name;
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

lc_store_t *lc_provider_store(void)
{
    return process_store;
}

void lc_provider_set_store(lc_store_t *st)
{
    process_store = st;
}
