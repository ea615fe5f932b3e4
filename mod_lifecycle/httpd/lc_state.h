/* lc_state.h — LifecycleStateDir: the journal's place in httpd's life cycle. */
#ifndef LC_STATE_H
#define LC_STATE_H

#include <httpd.h>
#include "lc_store.h"
#include "lc_journal.h"

/* post_config, in the parent, when the store segment was just created:
 * make the directory (owned by the server's User) and replay into the store.
 * Without LifecycleStateDir: one warning that state is memory-only. */
apr_status_t lc_state_recover(lc_store_t *st, server_rec *s, apr_pool_t *p);

/* child_init: journal this process's changes. */
void lc_state_attach(lc_store_t *st, server_rec *s, apr_pool_t *p);

/* The background tick: write a snapshot when one is due. */
void lc_state_tick(server_rec *s);

#endif
