/* lc_audit.h — one line per transition (SPEC §2), at info under our log tag. */
#ifndef LC_AUDIT_H
#define LC_AUDIT_H

#include <httpd.h>
#include "lc_resource.h"
#include "lc_auth.h"

/* A transition made by a request. */
void lc_audit_request(request_rec *r, const lc_actor_t *actor, lc_kind_e kind,
                      const char *id, const char *from, const char *to);

/* A transition made by the background task: `why` is "auto-advance" or
 * "timeout" (the audit line's sub is lifecycle-<why>). */
void lc_audit_background(server_rec *s, lc_kind_e kind, const char *id,
                         const char *from, const char *to, const char *why);

#endif
