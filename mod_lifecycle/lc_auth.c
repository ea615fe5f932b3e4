/* lc_auth.c — the authorization hook point.
 *
 * Every request passes lc_auth_check() before a dialect may touch the store.
 * Token verification arrives with the token issue (SPEC §3); until then the
 * hook reads nothing and allows, with an unknown actor.
 */
#include <string.h>
#include <apr_strings.h>

#include "lc_auth.h"

lc_auth_decision_t lc_auth_check(request_rec *r, const char *scope, lc_actor_t *actor)
{
    lc_auth_decision_t d = { LC_AUTH_ALLOW, NULL, 0 };

    (void)r;
    (void)scope;
    apr_cpystrn(actor->sub, "-", sizeof(actor->sub));
    apr_cpystrn(actor->jti, "-", sizeof(actor->jti));
    return d;
}

void lc_auth_challenge(request_rec *r, const lc_auth_decision_t *d, const char *scope)
{
    const char *v;

    if (d->result == LC_AUTH_FORBIDDEN) {
        v = apr_psprintf(r->pool, "Bearer realm=\"lifecycle\", error=\"insufficient_scope\", "
                         "scope=\"%s\"", scope);
    }
    else if (d->header_absent) {
        v = "Bearer realm=\"lifecycle\"";
    }
    else {
        v = "Bearer realm=\"lifecycle\", error=\"invalid_token\"";
    }
    apr_table_setn(r->err_headers_out, "WWW-Authenticate", v);
}
