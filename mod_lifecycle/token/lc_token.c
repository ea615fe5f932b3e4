/* lc_token.c — PASETO v4.public and JWT (EdDSA/Ed25519) verification, and
 * the claims of a verified token.
 *
 * Pure C: APR, libsodium and jansson; no httpd headers.  See lc_token.h for
 * the contract.  Nothing here logs: errors are returned. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <math.h>

#include <jansson.h>

#include "lc_b64.h"
#include "lc_json.h"
#include "lc_time.h"
#include "lc_pae.h"
#include "lc_paserk.h"
#include "lc_token.h"

#define LC_NUMERICDATE_MAX 253402300799LL  /* 9999-12-31T23:59:59Z */
#define LC_LEEWAY_MAX     apr_time_from_sec(86400)

/* ---- JSON helpers ------------------------------------------------------- */

/* Strict and an object: lc_json's limits, no duplicate names, nothing after
 * it but whitespace (jansson refuses bad UTF-8 and NUL).  Claims, headers
 * and footers.  A new reference. */
static json_t *json_object_strict(const char *s, size_t len)
{
    json_t *j = lc_json_load(s, len, 0);

    if (j && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

/* ---- verification: signature layer ------------------------------------- */

const char *lc_token_status_name(lc_token_status_e s)
{
    switch (s) {
    case LC_TOKEN_OK:             return "ok";
    case LC_TOKEN_MALFORMED:      return "malformed";
    case LC_TOKEN_TOO_LONG:       return "too_long";
    case LC_TOKEN_UNSUPPORTED:    return "unsupported";
    case LC_TOKEN_UNKNOWN_KID:    return "unknown_kid";
    case LC_TOKEN_BAD_SIGNATURE:  return "bad_signature";
    case LC_TOKEN_EXPIRED:        return "expired";
    case LC_TOKEN_NOT_YET_VALID:  return "not_yet_valid";
    case LC_TOKEN_NO_EXP:         return "no_exp";
    case LC_TOKEN_WRONG_ISSUER:   return "wrong_issuer";
    case LC_TOKEN_WRONG_AUDIENCE: return "wrong_audience";
    }
    return "unknown";
}

static int b64url_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Try the key named by kid, or each key. */
static lc_token_status_e try_keys(const lc_keyring_t *kr, const char *kid,
                                  const unsigned char sig[64],
                                  const unsigned char *msg, size_t mlen, int *idx)
{
    int i = lc_keyring_verify(kr, kid, sig, msg, mlen);

    if (i >= 0) {
        *idx = i;
        return LC_TOKEN_OK;
    }
    return i == LC_KEYRING_UNKNOWN_KID ? LC_TOKEN_UNKNOWN_KID : LC_TOKEN_BAD_SIGNATURE;
}

/* The kid member of a header/footer object: absent => *kid NULL. */
static lc_token_status_e get_kid(json_t *obj, const char **kid)
{
    json_t *v = json_object_get(obj, "kid");

    *kid = NULL;
    if (v == NULL) {
        return LC_TOKEN_OK;
    }
    if (!json_is_string(v)) {
        return LC_TOKEN_MALFORMED;
    }
    *kid = json_string_value(v);
    return LC_TOKEN_OK;
}

/* The payload, footer and signature of "v4.public.<body>[.<footer>]". */
static lc_token_status_e paseto_parts(const char *tok, size_t len, lc_token_raw_t *raw,
                                      unsigned char sig[64])
{
    const char *body = tok + LC_PAE_V4_PUBLIC_LEN, *dot, *end = tok + len;
    size_t blen, flen = 0, n = 0;

    dot = memchr(body, '.', (size_t)(end - body));
    blen = (size_t)((dot ? dot : end) - body);
    if (dot) {
        flen = (size_t)(end - dot - 1);
        if (flen == 0 || memchr(dot + 1, '.', flen)) {
            return LC_TOKEN_MALFORMED;      /* "body." or more than 4 parts */
        }
    }
    if (lc_b64url_decode(raw->payload, sizeof(raw->payload) - 1, body, blen, &n) != 0
        || n < 64) {
        return LC_TOKEN_MALFORMED;
    }
    if (dot && lc_b64url_decode(raw->header, sizeof(raw->header) - 1, dot + 1, flen,
                                &raw->header_len) != 0) {
        return LC_TOKEN_MALFORMED;
    }
    raw->header[raw->header_len] = '\0';
    memcpy(sig, raw->payload + n - 64, 64);
    raw->payload_len = n - 64;
    raw->payload[raw->payload_len] = '\0';
    return LC_TOKEN_OK;
}

/* Footer: empty, or a JSON object whose optional "kid" picks the key.
 * *kid lives in *footer, which the caller releases. */
static lc_token_status_e paseto_footer(const lc_token_raw_t *raw, json_t **footer,
                                       const char **kid)
{
    *footer = NULL;
    *kid = NULL;
    if (raw->header_len == 0) {
        return LC_TOKEN_OK;
    }
    *footer = json_object_strict((const char *)raw->header, raw->header_len);
    if (*footer == NULL) {
        return LC_TOKEN_MALFORMED;
    }
    if (get_kid(*footer, kid) != LC_TOKEN_OK || (*kid && lc_paserk_is_key(*kid))) {
        json_decref(*footer);
        *footer = NULL;
        return LC_TOKEN_MALFORMED;
    }
    return LC_TOKEN_OK;
}

static lc_token_status_e verify_paseto(const lc_keyring_t *kr, const char *tok,
                                       size_t len, const char *ia, lc_token_raw_t *raw)
{
    unsigned char sig[64], *pae;
    const char *kid;
    json_t *footer;
    size_t pl;
    lc_token_status_e st;

    st = paseto_parts(tok, len, raw, sig);
    if (st == LC_TOKEN_OK) {
        st = paseto_footer(raw, &footer, &kid);
    }
    if (st != LC_TOKEN_OK) {
        return st;
    }
    pae = lc_pae_v4_public(raw->payload, raw->payload_len, raw->header, raw->header_len,
                           ia, &pl);
    st = pae ? try_keys(kr, kid, sig, pae, pl, &raw->key_index) : LC_TOKEN_MALFORMED;
    free(pae);
    json_decref(footer);
    return st;
}

static int typ_ok(const char *t)
{
    return strcasecmp(t, "JWT") == 0 || strcasecmp(t, "at+jwt") == 0
           || strcasecmp(t, "application/at+jwt") == 0;
}

static lc_token_status_e jwt_header(json_t *h, const char **kid)
{
    json_t *v;

    /* The algorithm is fixed: the header may only confirm it. */
    v = json_object_get(h, "alg");
    if (!json_is_string(v) || (strcmp(json_string_value(v), "EdDSA") != 0
                               && strcmp(json_string_value(v), "Ed25519") != 0)) {
        return LC_TOKEN_UNSUPPORTED;
    }
    /* No extensions we would have to understand; no JWE. */
    if (json_object_get(h, "crit") || json_object_get(h, "enc")
        || json_object_get(h, "zip")) {
        return LC_TOKEN_UNSUPPORTED;
    }
    v = json_object_get(h, "b64");
    if (v && !json_is_true(v)) {
        return LC_TOKEN_UNSUPPORTED;
    }
    v = json_object_get(h, "typ");
    if (v) {
        if (!json_is_string(v)) {
            return LC_TOKEN_MALFORMED;
        }
        if (!typ_ok(json_string_value(v))) {
            return LC_TOKEN_UNSUPPORTED;
        }
    }
    /* jku, x5u, jwk, x5c, x5t: ignored, never fetched nor trusted. */
    return get_kid(h, kid);
}

/* The header of a JWT whose first dot is at d1, decoded into raw->header
 * and checked: *h (released by the caller) holds *kid. */
static lc_token_status_e jwt_head(const char *tok, const char *d1, lc_token_raw_t *raw,
                                  json_t **h, const char **kid)
{
    lc_token_status_e st;

    *h = NULL;
    if (lc_b64url_decode(raw->header, sizeof(raw->header) - 1, tok, (size_t)(d1 - tok),
                         &raw->header_len) != 0) {
        return LC_TOKEN_MALFORMED;
    }
    raw->header[raw->header_len] = '\0';
    *h = json_object_strict((const char *)raw->header, raw->header_len);
    if (*h == NULL) {
        return LC_TOKEN_MALFORMED;
    }
    st = jwt_header(*h, kid);
    if (st != LC_TOKEN_OK) {
        json_decref(*h);
        *h = NULL;
    }
    return st;
}

static lc_token_status_e verify_jwt(const lc_keyring_t *kr, const char *tok,
                                    size_t len, lc_token_raw_t *raw)
{
    const char *d1, *d2, *end = tok + len;
    unsigned char sig[65];
    size_t siglen = 0;
    const char *kid = NULL;
    json_t *h;
    lc_token_status_e st;

    d1 = memchr(tok, '.', len);
    d2 = d1 ? memchr(d1 + 1, '.', (size_t)(end - d1 - 1)) : NULL;
    if (d1 == NULL || d2 == NULL || memchr(d2 + 1, '.', (size_t)(end - d2 - 1))
        || d1 == tok || d2 == d1 + 1) {
        return LC_TOKEN_MALFORMED;          /* exactly 3 parts, header and payload non-empty */
    }
    if ((st = jwt_head(tok, d1, raw, &h, &kid)) != LC_TOKEN_OK) {
        return st;
    }
    if (lc_b64url_decode(raw->payload, sizeof(raw->payload) - 1, d1 + 1,
                         (size_t)(d2 - d1 - 1), &raw->payload_len) != 0
        || lc_b64url_decode(sig, sizeof(sig), d2 + 1, (size_t)(end - d2 - 1), &siglen) != 0
        || siglen != 64) {
        json_decref(h);
        return LC_TOKEN_MALFORMED;
    }
    raw->payload[raw->payload_len] = '\0';
    /* JWS signing input: the ASCII of BASE64URL(header) "." BASE64URL(payload). */
    st = try_keys(kr, kid, sig, (const unsigned char *)tok, (size_t)(d2 - tok),
                  &raw->key_index);
    json_decref(h);
    return st;
}

/* PASETO: "v<version>.<purpose>." — only v4.public is accepted.  Sets
 * raw->is_paseto; UNSUPPORTED for another PASETO, MALFORMED for a byte no
 * token form has. */
static lc_token_status_e token_form(const char *token, size_t len, lc_token_raw_t *raw)
{
    size_t i;

    if (token[0] == 'v' && len > 1 && token[1] >= '0' && token[1] <= '9') {
        for (i = 1; i < len && token[i] >= '0' && token[i] <= '9'; i++)
            ;
        if (i < len && token[i] == '.') {
            raw->is_paseto = 1;
            if (len < LC_PAE_V4_PUBLIC_LEN
                || memcmp(token, LC_PAE_V4_PUBLIC, LC_PAE_V4_PUBLIC_LEN) != 0) {
                return LC_TOKEN_UNSUPPORTED;
            }
        }
    }
    for (i = 0; i < len; i++) {
        if (!b64url_char((unsigned char)token[i]) && token[i] != '.') {
            return LC_TOKEN_MALFORMED;
        }
    }
    return LC_TOKEN_OK;
}

lc_token_status_e lc_token_verify_signature(const lc_keyring_t *kr, const char *token,
                                            size_t len, const char *implicit_assertion,
                                            lc_token_raw_t *raw)
{
    lc_token_status_e st;

    raw->is_paseto = 0;
    raw->key_index = -1;
    raw->payload_len = raw->header_len = 0;
    raw->payload[0] = raw->header[0] = '\0';
    if (len > LC_TOKEN_MAX) {
        return LC_TOKEN_TOO_LONG;
    }
    if (token == NULL || len == 0) {
        return LC_TOKEN_MALFORMED;
    }
    if ((st = token_form(token, len, raw)) != LC_TOKEN_OK) {
        return st;
    }
    if (raw->is_paseto) {
        return verify_paseto(kr, token, len, implicit_assertion, raw);
    }
    return verify_jwt(kr, token, len, raw);
}

/* ---- verification: claims layer --------------------------------------- */

void lc_token_policy_init(lc_token_policy_t *pol, apr_time_t now)
{
    memset(pol, 0, sizeof(*pol));
    pol->now = now;
    pol->leeway = LC_TOKEN_LEEWAY_DEFAULT;
}

/* exp/nbf/iat: RFC 3339 string (PASETO) or NumericDate (JWT). 0 ok,
 * -1 wrong type or value; *t untouched when absent. */
static int get_time(json_t *obj, const char *name, int is_paseto, apr_time_t *t)
{
    json_t *v = json_object_get(obj, name);

    if (v == NULL) {
        return 0;
    }
    if (is_paseto) {
        return json_is_string(v)
               ? lc_rfc3339_parse(json_string_value(v), json_string_length(v), t)
               : -1;
    }
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);

        if (i < 0 || i > LC_NUMERICDATE_MAX) {
            return -1;
        }
        *t = apr_time_from_sec((apr_time_t)i);
        return 0;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);

        if (!isfinite(d) || d < 0 || d > (double)LC_NUMERICDATE_MAX) {
            return -1;
        }
        *t = (apr_time_t)(d * (double)APR_USEC_PER_SEC);
        return 0;
    }
    return -1;
}

/* An optional string of at most max bytes, no control characters (it ends
 * up in audit lines).  0 ok / absent, -1 otherwise. */
static int get_text(json_t *obj, const char *name, char *out, size_t max)
{
    json_t *v = json_object_get(obj, name);
    const char *s;
    size_t i, n;

    out[0] = '\0';
    if (v == NULL) {
        return 0;
    }
    if (!json_is_string(v)) {
        return -1;
    }
    s = json_string_value(v);
    n = json_string_length(v);
    if (n > max) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            return -1;
        }
    }
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

/* RFC 6749 §3.3 scope-token: 1*( %x21 / %x23-5B / %x5D-7E ). */
static int add_scope(lc_token_claims_t *c, const char *s, size_t n)
{
    size_t i;
    int k;

    if (n == 0 || n > LC_TOKEN_SCOPE_LEN_MAX) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (ch < 0x21 || ch == 0x22 || ch == 0x5c || ch > 0x7e) {
            return -1;
        }
    }
    for (k = 0; k < c->nscopes; k++) {
        if (strlen(c->scopes[k]) == n && memcmp(c->scopes[k], s, n) == 0) {
            return 0;
        }
    }
    if (c->nscopes >= LC_TOKEN_SCOPES_MAX) {
        return -1;
    }
    memcpy(c->scopes[c->nscopes], s, n);
    c->scopes[c->nscopes][n] = '\0';
    c->nscopes++;
    return 0;
}

static int add_scope_list(lc_token_claims_t *c, const char *s, size_t n)
{
    size_t i = 0, j;

    while (i < n) {
        if (s[i] == ' ') {
            i++;
            continue;
        }
        for (j = i; j < n && s[j] != ' '; j++)
            ;
        if (add_scope(c, s + i, j - i) != 0) {
            return -1;
        }
        i = j;
    }
    return 0;
}

static int get_scopes(json_t *obj, lc_token_claims_t *c)
{
    json_t *v = json_object_get(obj, "scope"), *e;
    size_t i;

    if (v) {
        if (!json_is_string(v)
            || add_scope_list(c, json_string_value(v), json_string_length(v)) != 0) {
            return -1;
        }
    }
    v = json_object_get(obj, "scp");
    if (v) {
        if (json_is_string(v)) {            /* some issuers: a space-separated string */
            return add_scope_list(c, json_string_value(v), json_string_length(v));
        }
        if (!json_is_array(v)) {
            return -1;
        }
        json_array_foreach(v, i, e) {
            if (!json_is_string(e)
                || add_scope(c, json_string_value(e), json_string_length(e)) != 0) {
                return -1;
            }
        }
    }
    return 0;
}

/* aud: a string or an array of strings. 1 contains want, 0 does not, -1 bad type. */
static int aud_check(json_t *obj, const char *want)
{
    json_t *v = json_object_get(obj, "aud"), *e;
    size_t i;
    int found = 0;

    if (v == NULL) {
        return 0;
    }
    if (json_is_string(v)) {
        return want && strcmp(json_string_value(v), want) == 0;
    }
    if (!json_is_array(v)) {
        return -1;
    }
    json_array_foreach(v, i, e) {
        if (!json_is_string(e)) {
            return -1;
        }
        if (want && strcmp(json_string_value(e), want) == 0) {
            found = 1;
        }
    }
    return found;
}

/* The claims' values into c, *aud whether aud names the audience: 0, or
 * -1 when one has the wrong type or form. */
static int claims_read(json_t *obj, int is_paseto, const char *audience,
                       lc_token_claims_t *c, int *aud)
{
    json_t *iss = json_object_get(obj, "iss");

    *aud = aud_check(obj, audience);
    if (get_time(obj, "exp", is_paseto, &c->exp) != 0
        || get_time(obj, "nbf", is_paseto, &c->nbf) != 0
        || get_time(obj, "iat", is_paseto, &c->iat) != 0
        || get_text(obj, "sub", c->sub, sizeof(c->sub) - 1) != 0
        || get_text(obj, "jti", c->jti, sizeof(c->jti) - 1) != 0
        || (iss && !json_is_string(iss)) || *aud < 0
        || get_scopes(obj, c) != 0) {
        return -1;
    }
    return 0;
}

/* Well-formed claims against the policy: time window, then iss, then aud. */
static lc_token_status_e claims_judge(json_t *obj, const lc_token_claims_t *c, int aud,
                                      const lc_token_policy_t *pol)
{
    json_t *iss = json_object_get(obj, "iss");
    apr_interval_time_t leeway;

    leeway = pol->leeway < 0 ? 0 : pol->leeway > LC_LEEWAY_MAX ? LC_LEEWAY_MAX : pol->leeway;
    if (json_object_get(obj, "exp") == NULL) {
        return LC_TOKEN_NO_EXP;
    }
    if (pol->now > c->exp + leeway) {
        return LC_TOKEN_EXPIRED;
    }
    if ((json_object_get(obj, "nbf") && c->nbf > pol->now + leeway)
        || (json_object_get(obj, "iat") && c->iat > pol->now + leeway)) {
        return LC_TOKEN_NOT_YET_VALID;
    }
    if (pol->issuer && (!iss || strcmp(json_string_value(iss), pol->issuer) != 0)) {
        return LC_TOKEN_WRONG_ISSUER;
    }
    if (pol->audience && aud != 1) {
        return LC_TOKEN_WRONG_AUDIENCE;
    }
    return LC_TOKEN_OK;
}

lc_token_status_e lc_token_check_claims(const char *json, size_t len, int is_paseto,
                                        const lc_token_policy_t *pol, lc_token_claims_t *out)
{
    lc_token_claims_t local;
    lc_token_claims_t *c = out ? out : &local;
    json_t *obj;
    int aud;
    lc_token_status_e st;

    memset(c, 0, sizeof(*c));
    c->is_paseto = is_paseto;
    c->key_index = -1;
    obj = json_object_strict(json, len);
    if (obj == NULL) {
        return LC_TOKEN_MALFORMED;
    }
    st = claims_read(obj, is_paseto, pol->audience, c, &aud) != 0
         ? LC_TOKEN_MALFORMED : claims_judge(obj, c, aud, pol);
    json_decref(obj);
    if (st != LC_TOKEN_OK) {
        /* Nothing from an unaccepted token should be used. */
        c->nscopes = 0;
    }
    return st;
}

lc_token_status_e lc_token_verify(const lc_keyring_t *kr, const char *token, size_t len,
                                  const lc_token_policy_t *pol, lc_token_claims_t *out)
{
    lc_token_raw_t *raw;
    lc_token_status_e st;
    int is_paseto, idx;
    lc_token_policy_t defpol;

    if (out) {
        memset(out, 0, sizeof(*out));
        out->key_index = -1;
    }
    if (pol == NULL) {
        lc_token_policy_init(&defpol, apr_time_now());
        pol = &defpol;
    }
    if (len > LC_TOKEN_MAX) {
        return LC_TOKEN_TOO_LONG;
    }
    raw = malloc(sizeof(*raw));
    if (raw == NULL) {
        return LC_TOKEN_MALFORMED;
    }
    st = lc_token_verify_signature(kr, token, len, pol->implicit_assertion, raw);
    if (st == LC_TOKEN_OK) {
        is_paseto = raw->is_paseto;
        idx = raw->key_index;
        st = lc_token_check_claims((const char *)raw->payload, raw->payload_len,
                                   is_paseto, pol, out);
        if (out) {
            out->key_index = idx;
        }
    }
    else if (out) {
        out->is_paseto = raw->is_paseto;
    }
    free(raw);
    return st;
}

int lc_token_claims_current(const lc_token_claims_t *c, apr_time_t now,
                            apr_interval_time_t leeway)
{
    return (!c->exp || now <= c->exp + leeway) && (!c->nbf || c->nbf <= now + leeway);
}

int lc_token_claims_has_scope(const lc_token_claims_t *c, const char *scope)
{
    int i;

    for (i = 0; i < c->nscopes; i++) {
        if (strcmp(c->scopes[i], scope) == 0) {
            return 1;
        }
    }
    return 0;
}
