/* lc_dialect.h — what every dialect provides, and the request it is handed. */
#ifndef LC_DIALECT_H
#define LC_DIALECT_H

#include <httpd.h>
#include <jansson.h>

#include "lc_config.h"
#include "lc_store.h"
#include "lc_kind.h"
#include "lc_auth.h"
#include "lc_engine.h"

#define LC_MAX_SEGMENTS 8

typedef struct lc_dialect lc_dialect_t;

/* One request, as the dispatcher hands it to a dialect. */
typedef struct lc_req {
    request_rec            *r;
    const lc_dialect_t     *dialect;
    const lc_dir_conf_t    *dc;
    const lc_server_conf_t *sc;
    lc_store_t             *store;
    const char             *seg[LC_MAX_SEGMENTS];   /* decoded path segments after the location */
    int                     nseg;
    const char             *path;                   /* the same path, raw (percent-encoded) */
    const char             *collection;             /* last component of the Location ("agents",
                                                       "sessions", "pipelines", "config"): a dialect
                                                       mounted on several Locations serves each
                                                       collection on its own */
    lc_actor_t              actor;                  /* who the authorization hook let in */
    apr_time_t              now;
} lc_req_t;

struct lc_dialect {
    const char  *name;
    lc_kind_e    kind;             /* LC_KIND_NONE for admin */
    const lc_kind_def_t *kind_def; /* its (first) kind; every kind is in lc_registry.h */
    const char  *scope_read;       /* defaults (conf/DIRECTIVES.md, LifecycleScope) */
    const char  *scope_write;
    int        (*handle)(lc_req_t *q);
    /* Answer an error in the dialect's own shape; returns the handler's result. */
    int        (*error)(lc_req_t *q, int status, const char *code, const char *message);
    /* Its own 405, with `Allow: allow`. */
    int        (*method_not_allowed)(lc_req_t *q, const char *allow);
    /* Every method some route of it takes: the Allow of a TRACE, which the
     * dispatcher refuses before routing. */
    const char  *methods;
    /* 1: the dialect splits and decodes q->path itself, so the dispatcher
     * does not refuse a path whose segments do not decode (an encoded '/',
     * bad escapes, too many segments); q->nseg is then -1.  Redivis: a '/'
     * in a notebook's display name arrives as %2F inside its reference. */
    int          raw_path;
    /* Optional (NULL = every request needs a token): whether this request
     * is served without one, answered before authorization (Notte's
     * /health).  What it opens must touch no store and reveal nothing. */
    int        (*open)(const lc_req_t *q);
};

/* Every dialect of lc_registry.h: lc_dialect_redivis, ... (the dispatcher,
 * mod_lifecycle.c, holds the table of them). */
#define LC_REG_DIALECT(name) extern const lc_dialect_t lc_dialect_##name;
#include "lc_registry.h"


#endif
