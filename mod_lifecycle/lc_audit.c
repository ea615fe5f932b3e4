/* lc_audit.c — the audit line: time (the log's own), kind, id, from, to,
 * token sub and jti, client address, request id.  Values are ours or
 * validated ids, never a token. */
#include <httpd.h>
#include <http_log.h>

#include "lc_audit.h"
#include "lc_kind.h"
#include "lc_http.h"
#include "lc_metrics.h"

APLOG_USE_MODULE(lifecycle);

void lc_audit_request(request_rec *r, const lc_actor_t *actor, lc_kind_e kind,
                      const char *id, const char *from, const char *to)
{
    lc_metrics_transition(kind, 0);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "audit kind=%s id=%s from=%s to=%s sub=%s jti=%s client=%s request_id=%s",
                  lc_kind_name(kind), id, from, to, actor->sub, actor->jti,
                  r->useragent_ip ? r->useragent_ip : "-", lc_http_request_id(r));
}

void lc_audit_background(server_rec *s, lc_kind_e kind, const char *id,
                         const char *from, const char *to, const char *why)
{
    lc_metrics_transition(kind, 1);
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                 "audit kind=%s id=%s from=%s to=%s sub=lifecycle-%s jti=- "
                 "client=- request_id=-", lc_kind_name(kind), id, from, to, why);
}
