/* lc_dbd.h — the dbd backend's types: a connection and where it comes from
 * (lc_provider_dbd.c lends mod_dbd's, the unit tests their own), the words
 * this host's processes share, the options.  Header only: the backend's
 * files (lc_store_dbd.c, lc_dbd_*.c) and the provider all include it, and it
 * depends on none of them. */
#ifndef LC_DBD_H
#define LC_DBD_H

#include <apr_dbd.h>
#include <apr_hash.h>
#include "lc_store.h"

#define LC_DBD_SCHEMA 2

#define LC_DBD_METRICS_AREA 2048   /* the request counters' bytes (lc_metrics.c) */

/* One borrowed connection. */
typedef struct lc_dbd_conn {
    const apr_dbd_driver_t *driver;
    apr_dbd_t              *handle;
    apr_hash_t             *prepared;  /* label -> apr_dbd_prepared_t, as long as the connection */
    apr_pool_t             *pool;      /* lives as long as the connection */
    void                   *token;     /* the source's own (mod_dbd's ap_dbd_t) */
    int                     tx;        /* in a transaction (BEGIN sent, not ended) */
    apr_interval_time_t     timeout;   /* each call's bound (LifecycleDbdTimeout), 0 = default */
} lc_dbd_conn_t;

/* Where connections come from. */
typedef struct lc_dbd_source {
    /* A connection for one operation; APR_EGENERAL when none can be had. */
    apr_status_t (*open)(void *ctx, apr_pool_t *p, lc_dbd_conn_t *c);
    void         (*close)(void *ctx, lc_dbd_conn_t *c);
    /* One line for the error log (never a secret: statements' text and the
     * database's message only).  level: 0 error, 1 warning, 2 info. */
    void         (*log)(void *ctx, int level, const char *msg);
    /* Whether this process is on its way out (long-polls return); may be NULL. */
    int          (*stopping)(void);
    void          *ctx;
} lc_dbd_source_t;

/* The words one host's processes share.  Zeroed when made. */
typedef struct lc_dbd_shared {
    uint64_t head;              /* the feed's last sequence number this host saw */
    uint32_t wake;              /* futex: bumped whenever head moves */
    uint32_t layout;            /* LC_DBD_SHARED_LAYOUT once laid out */
    int64_t  seq_claim;         /* when a process of this host last ran the sequencer */
    int64_t  due_at;            /* the earliest due time known, 0 = none */
    int64_t  due_read;          /* when due_at was last read from the database */
    uint64_t statements;        /* statements run */
    uint64_t retries;           /* lost races and retried errors */
    uint64_t unavailable;       /* operations answered LC_EUNAVAIL */
    uint64_t reprepared;        /* connections whose statements a reset had lost */
    uint64_t sequenced;         /* changes numbered by this host's sequencer */
    uint64_t seq_runs;          /* sequencer passes that numbered something */
    uint64_t due_polls;         /* next-due reads from the database */
    uint64_t moved;             /* due moves made by this host */
    uint64_t batches;           /* update statements that wrote several rows */
    uint64_t batched;           /* the rows they wrote */
    int64_t  trimmed;           /* changes up to this number were dropped (retention) */
    uint64_t timeouts;          /* calls that passed LifecycleDbdTimeout (connection closed) */
    uint64_t reconnects;        /* sessions replaced after a lost connection or a read-only node */
    uint64_t unknown;           /* writes whose outcome stayed unknown (503 saying so) */
    uint64_t verified;          /* writes of unknown outcome found committed by reading again */
    char     metrics_area[LC_DBD_METRICS_AREA];   /* request counters (lc_metrics.c) */
    /* The timeline guard (lc_dbd_timeline.c). */
    uint64_t tl_sysid;          /* the cluster this host writes to (0 = none yet) */
    uint32_t tl_tli;            /* the highest timeline it has written on */
    uint32_t tl_unsupported;    /* the database has no timeline to read (said once) */
    uint64_t tl_refused;        /* sessions refused: older timeline or another cluster */
} lc_dbd_shared_t;

#define LC_DBD_SHARED_LAYOUT 0x4c434434u   /* "LCD4": bump with the struct */

typedef struct lc_dbd_options {
    apr_interval_time_t feed_poll;     /* LifecycleFeedPoll: how often waiters number changes */
    uint64_t            feed_retain;   /* LifecycleFeedRetain: changes kept, 0 = all */
    apr_interval_time_t due_refresh;   /* how stale the cached next due time may get */
    int                 schema_ok;     /* the schema is known to be in place already */
    apr_interval_time_t timeout;       /* LifecycleDbdTimeout: every call's bound, 0 = default */
} lc_dbd_options_t;

#endif
