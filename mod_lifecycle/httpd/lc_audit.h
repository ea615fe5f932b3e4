/* lc_audit.h — one line per transition, at info under our log tag. */
#ifndef LC_AUDIT_H
#define LC_AUDIT_H

#include <httpd.h>
#include "lc_resource.h"
#include "lc_auth.h"

/* `"value"`, escaped so that it cannot end early or break the line (the
 * rule is in lc_audit.c and README's audit section); NULL is "-". */
const char *lc_audit_value(apr_pool_t *p, const char *v);

/* A transition made by a request. */
void lc_audit_request(request_rec *r, const lc_actor_t *actor, lc_kind_e kind,
                      const char *id, const char *from, const char *to);

/* A transition made by the background task: `why` is "auto-advance" or
 * "timeout" (the audit line's sub is lifecycle-<why>); `p` is the tick's. */
void lc_audit_background(apr_pool_t *p, server_rec *s, lc_kind_e kind, const char *id,
                         const char *from, const char *to, const char *why);

#endif
