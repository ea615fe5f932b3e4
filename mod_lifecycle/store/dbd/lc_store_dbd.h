/* lc_store_dbd.h — the PostgreSQL backend of lc_store.h (`LifecycleStore dbd`).
 *
 * Every resource is one row of lc_resources; every change one row of
 * lc_changes, written by the same statement as the resource, so a 2xx
 * always means committed.  The backend sees the database only through
 * APR's apr_dbd (the `pgsql` driver) and a connection source: the httpd
 * layer (lc_provider_dbd.c) lends mod_dbd's pooled connections, the unit
 * tests open their own.  It needs no httpd.
 *
 * Each host (all the children of one Apache server) shares a few words in
 * its own shared memory (lc_dbd_shared_t): the feed head it last saw and
 * the futex its long-polls sleep on, the cached next due time, counters.
 */
#ifndef LC_STORE_DBD_H
#define LC_STORE_DBD_H

#include <apr_dbd.h>
#include <apr_hash.h>
#include "lc_store.h"
#include "lc_dbd.h"

/* The schema version this module creates and understands (lc_meta). */

#define LC_DBD_FEED_POLL_DEFAULT   apr_time_from_msec(100)
#define LC_DBD_FEED_RETAIN_DEFAULT 1000000
#define LC_DBD_DUE_REFRESH         apr_time_from_msec(250)

/* A store on `src` (copied), sharing `sh` with the host's other processes. */
lc_store_t *lc_store_dbd_open(apr_pool_t *p, const lc_dbd_source_t *src, lc_dbd_shared_t *sh,
                              const lc_dbd_options_t *opt);

/* The shared words of a dbd store (metrics, tests). */
lc_dbd_shared_t *lc_store_dbd_shared(lc_store_t *st);

/* Make up to n of the source's connections ready (schema checked,
 * statements prepared) before the process serves: held together, so that
 * each is another one, then given back.  Stops at the first that fails
 * (the database down: requests answer 503 until it is back).  How many
 * were made ready. */
int lc_store_dbd_warm(lc_store_t *st, int n, apr_pool_t *p);


/* One pass of the feed's sequencer (lc_dbd_feed.c): number committed
 * changes, drop what LifecycleFeedRetain no longer keeps, publish the head
 * and wake this host's long-polls.  Runs only when no process of this host
 * ran it in the last `every` (0: in any case).  The background tick calls
 * it; long-polls and reads run it themselves. */
apr_status_t lc_store_dbd_sequence(lc_store_t *st, apr_interval_time_t every, apr_pool_t *p);

#endif
