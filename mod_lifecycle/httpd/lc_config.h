/* lc_config.h — the module's directives and configuration records. */
#ifndef LC_CONFIG_H
#define LC_CONFIG_H

#include <httpd.h>
#include <http_config.h>

/* A location's dialect: its place in lc_registry.h (LC_DIALECT_redivis, ...,
 * written by the list; code goes by lc_config_dialect_name). */
typedef enum {
    LC_DIALECT_NONE = 0,
#define LC_REG_DIALECT(name) LC_DIALECT_##name,
#include "lc_registry.h"
    LC_DIALECT_COUNT
} lc_dialect_e;

#define LC_CAPACITY_DEFAULT 10000
#define LC_ADVANCE_OFF      ((apr_interval_time_t)-1)
#define LC_SUSPEND_TIMEOUT_DEFAULT apr_time_from_sec(120)
#define LC_NOTTE_MINUTE_DEFAULT    apr_time_from_sec(60)

/* Server-wide settings: only the main server's count. */
typedef struct lc_server_conf {
    const char         *store;           /* LifecycleStore, NULL = the default (shm) */
    int                 capacity;        /* 0 = unset */
    apr_size_t          heap;            /* LifecycleAttributeMemory, 0 = unset */
    apr_interval_time_t auto_advance;    /* LC_ADVANCE_OFF = wait for a runner */
    int                 auto_advance_set;
    apr_interval_time_t suspend_timeout; /* LifecycleSuspendTimeout; LC_ADVANCE_OFF = none */
    int                 suspend_timeout_set;
    int                 fault_injection; /* test builds of the config only */
    const char         *state_dir;       /* NULL = memory only */
    const char         *state_dir_where; /* "file:line" of LifecycleStateDir */
    apr_interval_time_t snapshot_every;  /* 0 = unset */
    struct lc_keyring  *keys;            /* LifecycleTokenKey, NULL = none loaded */
    const char         *issuer;          /* LifecycleTokenIssuer */
    const char         *audience;        /* LifecycleTokenAudience */
    apr_interval_time_t leeway;          /* LifecycleTokenLeeway */
    int                 leeway_set;
    apr_interval_time_t feed_poll;       /* LifecycleFeedPoll (dbd), 0 = unset */
    apr_int64_t         feed_retain;     /* LifecycleFeedRetain (dbd), -1 = unset, 0 = all */
    apr_interval_time_t notte_minute;    /* LifecycleNotteMinute, 0 = unset (60 s) */
    apr_interval_time_t dbd_timeout;     /* LifecycleDbdTimeout (dbd), 0 = unset (5 s) */
    int                 watchers_per_child; /* LifecycleWatchersPerChild, 0 = unset */
} lc_server_conf_t;

#define LC_SNAPSHOT_DEFAULT apr_time_from_sec(300)

typedef struct lc_dir_conf {
    const char   *prefix;                /* the <Location> path */
    lc_dialect_e  dialect;
    const char   *scope_read;            /* NULL = the dialect's default */
    const char   *scope_write;
    int           owner_check;           /* LifecycleOwnerCheck: 1 on, -1 off, 0 unset */
} lc_dir_conf_t;

extern module AP_MODULE_DECLARE_DATA lifecycle_module;
extern const command_rec lc_directives[];

void *lc_config_create_server(apr_pool_t *p, server_rec *s);
void *lc_config_merge_server(apr_pool_t *p, void *base, void *add);
void *lc_config_create_dir(apr_pool_t *p, char *dir);
void *lc_config_merge_dir(apr_pool_t *p, void *base, void *add);

/* A dialect's name (lc_registry.h's), "none" for LC_DIALECT_NONE. */
const char *lc_config_dialect_name(lc_dialect_e d);

/* The main server's settings, wherever the request landed. */
const lc_server_conf_t *lc_config_global(const server_rec *s);
int lc_config_capacity(const server_rec *s);
/* LifecycleAttributeMemory, 0 = the store's default for the capacity. */
apr_size_t lc_config_heap(const server_rec *s);

#endif
