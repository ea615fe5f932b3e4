/* lc_audit.c — the audit line: time (the log's own), kind, id, from, to,
 * token sub and jti, client address, request id.  Values are ours, validated
 * ids or token claims, never a token.
 *
 * Every value is written with one rule (lc_audit_value), so that a value,
 * a token's `sub` for one, can never forge another field or line. */
#include <string.h>
#include <httpd.h>
#include <http_log.h>
#include <apr_strings.h>

#include "lc_audit.h"
#include "lc_kind.h"
#include "lc_http.h"
#include "lc_metrics.h"
#include "lc_log.h"

APLOG_USE_MODULE(lifecycle);

/* The value in double quotes; inside, `"`, `%`, `\`, control bytes and
 * every byte outside ASCII are written %HH (uppercase hex), so a value ends
 * at the next `"`.  Percent rather than backslash escapes: httpd's error log
 * doubles every backslash of a message, which would blur `\"`. */
const char *lc_audit_value(apr_pool_t *p, const char *v)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *s = (const unsigned char *)(v ? v : "-");
    char *out = apr_palloc(p, 3 * strlen((const char *)s) + 3), *o = out;

    *o++ = '"';
    for (; *s; s++) {
        if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '%' || *s == '\\') {
            *o++ = '%';
            *o++ = hex[*s >> 4];
            *o++ = hex[*s & 0x0f];
        }
        else {
            *o++ = (char)*s;
        }
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

static void audit_line(apr_pool_t *p, server_rec *s, request_rec *r, lc_kind_e kind,
                       const char *id, const char *from, const char *to,
                       const char *sub, const char *jti, const char *client,
                       const char *request_id)
{
    const char *line = apr_pstrcat(p,
        "audit kind=", lc_audit_value(p, lc_kind_name(kind)),
        " id=", lc_audit_value(p, id), " from=", lc_audit_value(p, from),
        " to=", lc_audit_value(p, to), " sub=", lc_audit_value(p, sub),
        " jti=", lc_audit_value(p, jti), " client=", lc_audit_value(p, client),
        " request_id=", lc_audit_value(p, request_id), NULL);

    if (r) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, LC_LOGNO_NONE "%s", line);
    }
    else {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, LC_LOGNO_NONE "%s", line);
    }
}

void lc_audit_request(request_rec *r, const lc_actor_t *actor, lc_kind_e kind,
                      const char *id, const char *from, const char *to)
{
    lc_metrics_transition(kind, 0);
    audit_line(r->pool, r->server, r, kind, id, from, to, actor->sub, actor->jti,
               r->useragent_ip ? r->useragent_ip : "-", lc_http_request_id(r));
}

void lc_audit_background(apr_pool_t *p, server_rec *s, lc_kind_e kind, const char *id,
                         const char *from, const char *to, const char *why)
{
    lc_metrics_transition(kind, 1);
    audit_line(p, s, NULL, kind, id, from, to, apr_pstrcat(p, "lifecycle-", why, NULL),
               "-", "-", "-");
}
