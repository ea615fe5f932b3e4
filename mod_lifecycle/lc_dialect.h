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
                                                       collection on its own (SPEC §1) */
    lc_actor_t              actor;                  /* who the authorization hook let in */
    apr_time_t              now;
} lc_req_t;

struct lc_dialect {
    const char  *name;
    lc_kind_e    kind;             /* LC_KIND_NONE for admin */
    const lc_kind_def_t *kind_def; /* its state machine; NULL until built */
    const char  *scope_read;       /* SPEC §1 defaults */
    const char  *scope_write;
    int        (*handle)(lc_req_t *q);
    /* Answer an error in the dialect's own shape; returns the handler's result. */
    int        (*error)(lc_req_t *q, int status, const char *code, const char *message);
    /* Its own 405, with `Allow: allow`. */
    int        (*method_not_allowed)(lc_req_t *q, const char *allow);
    /* Every method some route of it takes: the Allow of a TRACE, which the
     * dispatcher refuses before routing. */
    const char  *methods;
    /* Further kinds the dialect serves (notte: sessions), NULL-terminated; may be NULL. */
    const lc_kind_def_t *const *more_kinds;
    /* 1: the dialect splits and decodes q->path itself, so the dispatcher
     * does not refuse a path whose segments do not decode (an encoded '/',
     * bad escapes, too many segments); q->nseg is then -1.  Redivis: a '/'
     * in a notebook's display name arrives as %2F inside its reference. */
    int          raw_path;
};

extern const lc_dialect_t lc_dialect_workstation;
extern const lc_dialect_t lc_dialect_admin;
extern const lc_dialect_t lc_dialect_redivis;
extern const lc_dialect_t lc_dialect_notte;
extern const lc_dialect_t lc_dialect_wrapper;
extern const lc_dialect_t lc_dialect_feldera;

const lc_dialect_t *lc_dialect_get(lc_dialect_e which);

/* Register the kind tables of every dialect built (once per process). */
void lc_dialect_register_kinds(void);

/* Helpers every dialect uses. */

/* The engine's view of this request: action, If-Match, actor, ownership. */
void lc_dialect_act_init(lc_req_t *q, const lc_kind_def_t *def, const char *id,
                         const char *action, const lc_precond_t *if_match, lc_act_t *act);

/* The scope that refused this request (for bodies that name it), or NULL. */
const char *lc_dialect_refused_scope(lc_req_t *q);

/* A store call failed with rv (lc_dialect_fail.c): LC_EUNAVAIL is 503 with
 * Retry-After in the dialect's error shape (code "unavailable"); anything
 * else 500 with `code` and `message`.  Returns the handler's result. */
int lc_dialect_store_failed(lc_req_t *q, apr_status_t rv, const char *code,
                            const char *message);

/* The 503 itself, with the dialect's own code for it. */
int lc_dialect_unavailable(lc_req_t *q, const char *code);

#endif
