/* lc_auth.h — the one function that decides whether a request may act. */
#ifndef LC_AUTH_H
#define LC_AUTH_H

#include <httpd.h>

#include "lc_actor.h"

typedef enum {
    LC_AUTH_ALLOW = 0,
    LC_AUTH_UNAUTHENTICATED,      /* 401 */
    LC_AUTH_FORBIDDEN             /* 403: valid token, scope missing */
} lc_auth_result_e;

typedef struct lc_auth_decision {
    lc_auth_result_e result;
    const char      *reason;       /* for the error body; never the token */
    const char      *cause;        /* short name for logs and metrics: "expired", ... */
    int              header_absent;/* 401 without error= (RFC 6750 §3.1) */
} lc_auth_decision_t;

/* child_init: this process's cache of verified tokens. */
void lc_auth_child_init(apr_pool_t *p, server_rec *s);

/* post_config: warn when no key is configured (every request would be 401). */
void lc_auth_post_config(server_rec *s);

/* Decide, before anything touches the store, whether r may act with `scope`.
 * Fills `actor` when allowed. */
lc_auth_decision_t lc_auth_check(request_rec *r, const char *scope, lc_actor_t *actor);

/* Set WWW-Authenticate for a refused request (RFC 6750 §3). */
void lc_auth_challenge(request_rec *r, const lc_auth_decision_t *d, const char *scope);

#endif
