/* lc_auth.c — the one function that decides whether a request may act.
 *
 * Every request passes lc_auth_check() before a dialect may touch the store:
 * a bearer token (RFC 6750) verified against the configured keys
 * (LifecycleTokenKey) by lc_token.c, then the scope the location requires.
 * Verified tokens are cached per process by their BLAKE2b hash, so a client
 * reusing its token pays the Ed25519 check once; a hit re-checks the times
 * and the scope.  The token is never logged.
 */
#include <string.h>
#include <strings.h>
#include <httpd.h>
#include <http_log.h>
#include <apr_strings.h>
#include <apr_lib.h>
#include <sodium.h>

#include "lc_auth.h"
#include "lc_config.h"
#include "lc_token.h"
#include "lc_token_cache.h"
#include "lc_log.h"

APLOG_USE_MODULE(lifecycle);

#define CACHE_SLOTS 512
#define CACHE_MAX_AGE apr_time_from_sec(300)

static lc_token_cache_t *cache;
static uint64_t cache_policy;     /* this generation's issuer/audience, hashed */

static uint64_t policy_tag(const lc_server_conf_t *sc);

void lc_auth_child_init(apr_pool_t *p, server_rec *s)
{
    cache = lc_token_cache_create(p, CACHE_SLOTS);
    cache_policy = policy_tag(lc_config_global(s));
}

void lc_auth_post_config(server_rec *s)
{
    if (!lc_config_global(s)->keys) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, LC_LOGNO(00004) "no LifecycleTokenKey: every request "
                     "to a lifecycle location will be refused with 401");
    }
}

static lc_auth_decision_t refuse(lc_auth_result_e result, const char *cause, const char *reason,
                                 int absent)
{
    lc_auth_decision_t d = { result, reason, cause, absent };
    return d;
}

/* The policy a cached verification is valid for: issuer and audience. */
static uint64_t policy_tag(const lc_server_conf_t *sc)
{
    unsigned char h[8];
    crypto_generichash_state st;
    uint64_t tag;

    crypto_generichash_init(&st, NULL, 0, sizeof(h));
    crypto_generichash_update(&st, (const unsigned char *)(sc->issuer ? sc->issuer : ""),
                              strlen(sc->issuer ? sc->issuer : "") + 1);
    crypto_generichash_update(&st, (const unsigned char *)(sc->audience ? sc->audience : ""),
                              strlen(sc->audience ? sc->audience : "") + 1);
    crypto_generichash_final(&st, h, sizeof(h));
    memcpy(&tag, h, sizeof(tag));
    return tag;
}

static const char *why(lc_token_status_e st)
{
    switch (st) {
    case LC_TOKEN_TOO_LONG:        return "The access token is too long";
    case LC_TOKEN_UNSUPPORTED:     return "The access token format or algorithm is not accepted";
    case LC_TOKEN_UNKNOWN_KID:     return "The access token names a key this server does not have";
    case LC_TOKEN_BAD_SIGNATURE:   return "The access token signature does not verify";
    case LC_TOKEN_EXPIRED:         return "The access token expired";
    case LC_TOKEN_NOT_YET_VALID:   return "The access token is not valid yet";
    case LC_TOKEN_NO_EXP:          return "The access token has no expiry (exp)";
    case LC_TOKEN_WRONG_ISSUER:    return "The access token has the wrong issuer";
    case LC_TOKEN_WRONG_AUDIENCE:  return "The access token is not meant for this server";
    default:                       return "The access token is malformed";
    }
}

/* A token this process has not verified yet (or no longer remembers). */
static lc_auth_decision_t verify(const lc_server_conf_t *sc, request_rec *r, const char *tok,
                                 size_t len, const unsigned char *key, uint64_t policy,
                                 apr_time_t now, apr_interval_time_t leeway,
                                 const char *scope, lc_actor_t *actor)
{
    lc_token_policy_t pol;
    lc_token_claims_t claims;
    lc_token_status_e st;

    lc_token_policy_init(&pol, now);
    pol.leeway = leeway;
    pol.issuer = sc->issuer;
    pol.audience = sc->audience;
    st = lc_token_verify(sc->keys, tok, len, &pol, &claims);
    if (st != LC_TOKEN_OK) {
        return refuse(LC_AUTH_UNAUTHENTICATED, lc_token_status_name(st), why(st), 0);
    }
    if (cache) {
        apr_time_t until = claims.exp + leeway;
        lc_token_cache_put(cache, key, policy, until < now + CACHE_MAX_AGE ? until
                                                                         : now + CACHE_MAX_AGE,
                           &claims);
    }
    apr_cpystrn(actor->sub, claims.sub[0] ? claims.sub : "-", sizeof(actor->sub));
    apr_cpystrn(actor->jti, claims.jti[0] ? claims.jti : "-", sizeof(actor->jti));
    actor->admin = lc_token_claims_has_scope(&claims, LC_SCOPE_ADMIN);
    if (!lc_token_claims_has_scope(&claims, scope)) {
        return refuse(LC_AUTH_FORBIDDEN, "insufficient_scope",
                      apr_psprintf(r->pool, "The access token lacks the scope %s", scope), 0);
    }
    return refuse(LC_AUTH_ALLOW, NULL, NULL, 0);
}

lc_auth_decision_t lc_auth_check(request_rec *r, const char *scope, lc_actor_t *actor)
{
    const lc_server_conf_t *sc = lc_config_global(r->server);
    apr_interval_time_t leeway = sc->leeway_set ? sc->leeway : LC_TOKEN_LEEWAY_DEFAULT;
    const char *h = apr_table_get(r->headers_in, "Authorization");
    unsigned char key[LC_TOKEN_CACHE_KEY];
    apr_time_t now = apr_time_now();
    uint64_t policy;
    const char *tok;
    size_t len;

    apr_cpystrn(actor->sub, "-", sizeof(actor->sub));
    apr_cpystrn(actor->jti, "-", sizeof(actor->jti));
    actor->admin = 0;
    /* RFC 6750 §3.1: no credentials, or another scheme: a challenge without error=. */
    if (!h || strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\0')) {
        return refuse(LC_AUTH_UNAUTHENTICATED, "missing",
                      h ? "Use the Bearer authentication scheme" : "An access token is required",
                      1);
    }
    for (tok = h + 6; *tok == ' '; tok++);
    len = strlen(tok);
    while (len && tok[len - 1] == ' ') {
        len--;
    }
    if (len == 0) {
        return refuse(LC_AUTH_UNAUTHENTICATED, "malformed", "The access token is empty", 0);
    }
    if (len > LC_TOKEN_MAX) {
        return refuse(LC_AUTH_UNAUTHENTICATED, "too_long", why(LC_TOKEN_TOO_LONG), 0);
    }
    if (!sc->keys) {
        return refuse(LC_AUTH_UNAUTHENTICATED, "no_key", "No key is configured to verify tokens",
                      0);
    }
    policy = cache_policy;
    lc_token_cache_key(tok, len, key);
    switch (cache ? lc_token_cache_check(cache, key, policy, now, leeway, scope, actor)
                  : LC_CACHE_MISS) {
    case LC_CACHE_OK:
        return refuse(LC_AUTH_ALLOW, NULL, NULL, 0);
    case LC_CACHE_EXPIRED:
        return refuse(LC_AUTH_UNAUTHENTICATED, "expired", why(LC_TOKEN_EXPIRED), 0);
    case LC_CACHE_NO_SCOPE:
        return refuse(LC_AUTH_FORBIDDEN, "insufficient_scope",
                      apr_psprintf(r->pool, "The access token lacks the scope %s", scope), 0);
    default:
        return verify(sc, r, tok, len, key, policy, now, leeway, scope, actor);
    }
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
