/* lc_token.c — PASETO v4.public and JWT (EdDSA/Ed25519) verification,
 * PASERK k4 keys, JWK/JWKS loading, and minting for the CLI and tests.
 *
 * Pure C: APR, libsodium and jansson; no httpd headers.  See lc_token.h for
 * the contract.  Nothing here logs: errors are returned. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <math.h>

#include <sodium.h>
#include <jansson.h>
#include <apr_strings.h>
#include <apr_file_io.h>

#include "lc_b64.h"
#include "lc_json.h"
#include "lc_time.h"
#include "lc_token.h"

#define LC_KEYFILE_MAX    65536      /* bytes */
#define LC_NUMERICDATE_MAX 253402300799LL  /* 9999-12-31T23:59:59Z */
#define LC_LEEWAY_MAX     apr_time_from_sec(86400)

static const char PASETO_HDR[] = "v4.public.";
#define PASETO_HDR_LEN (sizeof(PASETO_HDR) - 1)

/* ---- keyring ---------------------------------------------------------- */

typedef struct lc_key {
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    char kid[LC_KID_MAX + 1];               /* "" when none */
    char pid[LC_PASERK_PID_LEN + 1];
} lc_key_t;

struct lc_keyring {
    int n;
    lc_key_t keys[LC_KEYRING_MAX];
};

lc_keyring_t *lc_keyring_create(apr_pool_t *p)
{
    /* Idempotent and thread-safe; keyrings are made at configuration time,
     * before any verification. */
    if (sodium_init() < 0) {
        return NULL;
    }
    return apr_pcalloc(p, sizeof(lc_keyring_t));
}

int lc_keyring_count(const lc_keyring_t *kr)
{
    return kr ? kr->n : 0;
}

const char *lc_keyring_kid(const lc_keyring_t *kr, int i)
{
    return (kr && i >= 0 && i < kr->n) ? kr->keys[i].kid : NULL;
}

const char *lc_keyring_pid(const lc_keyring_t *kr, int i)
{
    return (kr && i >= 0 && i < kr->n) ? kr->keys[i].pid : NULL;
}

static int key_has_id(const lc_key_t *k, const char *id)
{
    return (k->kid[0] && strcmp(k->kid, id) == 0) || strcmp(k->pid, id) == 0;
}

/* A point libsodium will verify against: canonical, on the curve, in the
 * prime-order subgroup, not of small order. */
static int pk_usable(const unsigned char pk[32])
{
    unsigned char x[crypto_scalarmult_curve25519_BYTES];

    return crypto_sign_ed25519_pk_to_curve25519(x, pk) == 0;
}

apr_status_t lc_keyring_add_raw(lc_keyring_t *kr, const unsigned char pk[32],
                                const char *kid)
{
    char pid[LC_PASERK_PID_LEN + 1];
    lc_key_t *same = NULL;
    int i;

    if (kr == NULL || pk == NULL) {
        return APR_EINVAL;
    }
    if (kid && kid[0] == '\0') {
        kid = NULL;
    }
    if (kid && strlen(kid) > LC_KID_MAX) {
        return APR_EINVAL;
    }
    if (!pk_usable(pk)) {
        return APR_EINVAL;
    }
    lc_paserk_pid(pk, pid);
    for (i = 0; i < kr->n; i++) {
        lc_key_t *k = &kr->keys[i];

        if (memcmp(k->pk, pk, 32) == 0) {
            if (!kid || strcmp(k->kid, kid) == 0) {
                return APR_SUCCESS;               /* already there */
            }
            if (!k->kid[0] && !same) {
                same = k;
            }
            continue;
        }
        /* A different key: no id may be shared. */
        if ((kid && key_has_id(k, kid)) || (k->kid[0] && strcmp(k->kid, pid) == 0)) {
            return APR_EINVAL;
        }
    }
    if (same) {
        apr_cpystrn(same->kid, kid, sizeof(same->kid));
        return APR_SUCCESS;
    }
    if (kr->n >= LC_KEYRING_MAX) {
        return APR_ENOSPC;
    }
    memset(&kr->keys[kr->n], 0, sizeof(lc_key_t));
    memcpy(kr->keys[kr->n].pk, pk, 32);
    if (kid) {
        apr_cpystrn(kr->keys[kr->n].kid, kid, sizeof(kr->keys[kr->n].kid));
    }
    memcpy(kr->keys[kr->n].pid, pid, sizeof(pid));
    kr->n++;
    return APR_SUCCESS;
}

/* ---- PASERK ----------------------------------------------------------- */

void lc_paserk_pid(const unsigned char pk[32], char out[])
{
    lc_paserk_pid_bytes(pk, 32, out, LC_PASERK_PID_LEN + 1);
}

int lc_paserk_pid_bytes(const unsigned char *pk, size_t len, char *out, size_t outmax)
{
    static const char h[] = "k4.pid.";
    char pub[LC_PASERK_PUBLIC_LEN + 1];
    unsigned char d[33];
    crypto_generichash_blake2b_state st;

    if (outmax) {
        out[0] = '\0';
    }
    if (len != 32 || outmax < LC_PASERK_PID_LEN + 1
        || lc_paserk_public_encode(pk, len, pub, sizeof(pub)) != 0) {
        return -1;
    }
    /* PASERK ID: h || b64url(BLAKE2b-264(h || paserk)). */
    crypto_generichash_blake2b_init(&st, NULL, 0, sizeof(d));
    crypto_generichash_blake2b_update(&st, (const unsigned char *)h, sizeof(h) - 1);
    crypto_generichash_blake2b_update(&st, (const unsigned char *)pub, strlen(pub));
    crypto_generichash_blake2b_final(&st, d, sizeof(d));
    memcpy(out, h, sizeof(h) - 1);
    lc_b64url_encode_buf(out + sizeof(h) - 1, outmax - (sizeof(h) - 1), d, sizeof(d));
    return 0;
}

static int paserk_encode(const char *h, const unsigned char *key, size_t len,
                         size_t want, char *out, size_t outmax)
{
    size_t hl = strlen(h);

    if (outmax) {
        out[0] = '\0';
    }
    if (len != want || outmax < hl + LC_B64URL_LEN(len) + 1) {
        return -1;
    }
    memcpy(out, h, hl);
    lc_b64url_encode_buf(out + hl, outmax - hl, key, len);
    return 0;
}

int lc_paserk_public_encode(const unsigned char *pk, size_t len, char *out, size_t outmax)
{
    return paserk_encode("k4.public.", pk, len, 32, out, outmax);
}

int lc_paserk_secret_encode(const unsigned char *sk, size_t len, char *out, size_t outmax)
{
    return paserk_encode("k4.secret.", sk, len, 64, out, outmax);
}

static int paserk_decode(const char *h, const char *s, size_t len,
                         unsigned char *key, size_t want)
{
    unsigned char buf[64];
    size_t hl = strlen(h), n = 0;

    if (s == NULL || len <= hl || memcmp(s, h, hl) != 0
        || len - hl != LC_B64URL_LEN(want)
        || lc_b64url_decode(buf, sizeof(buf), s + hl, len - hl, &n) != 0
        || n != want) {
        sodium_memzero(buf, sizeof(buf));
        return -1;
    }
    memcpy(key, buf, want);
    sodium_memzero(buf, sizeof(buf));
    return 0;
}

int lc_paserk_public_decode(const char *s, size_t len, unsigned char pk[32])
{
    return paserk_decode("k4.public.", s, len, pk, 32);
}

int lc_paserk_secret_decode(const char *s, size_t len, unsigned char sk[64])
{
    unsigned char pk[32], sk2[64];
    int rv = 0;

    if (paserk_decode("k4.secret.", s, len, sk, 64) != 0) {
        return -1;
    }
    /* libsodium's secret key is seed || pk: the halves must agree. */
    if (crypto_sign_seed_keypair(pk, sk2, sk) != 0
        || sodium_memcmp(sk2, sk, 64) != 0) {
        sodium_memzero(sk, 64);
        rv = -1;
    }
    sodium_memzero(sk2, sizeof(sk2));
    return rv;
}

/* ---- JSON helpers ------------------------------------------------------- */

/* Strict and an object: lc_json's limits, no duplicate names, nothing after
 * it but whitespace (jansson refuses bad UTF-8 and NUL).  Claims, headers,
 * footers, key files.  A new reference. */
static json_t *json_object_strict(const char *s, size_t len)
{
    json_t *j = lc_json_load(s, len, 0);

    if (j && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

/* ---- PAE ---------------------------------------------------------------- */

static void le64(unsigned char *out, unsigned long long n)
{
    int i;

    for (i = 0; i < 8; i++) {
        if (i == 7) {
            n &= 127;                       /* top bit cleared */
        }
        out[i] = (unsigned char)(n & 255);
        n >>= 8;
    }
}

size_t lc_paseto_pae(unsigned char *out, int n, const unsigned char *const *pieces,
                     const size_t *lens)
{
    size_t off = 8;
    int i;

    if (out) {
        le64(out, (unsigned long long)n);
    }
    for (i = 0; i < n; i++) {
        if (out) {
            le64(out + off, (unsigned long long)lens[i]);
            if (lens[i]) {
                memcpy(out + off + 8, pieces[i], lens[i]);
            }
        }
        off += 8 + lens[i];
    }
    return off;
}

/* PAE("v4.public.", m, f, i) in a malloc'd buffer. */
static unsigned char *paseto_pae4(const unsigned char *m, size_t ml,
                                  const unsigned char *f, size_t fl,
                                  const char *ia, size_t *outlen)
{
    const unsigned char *pieces[4];
    size_t lens[4];
    unsigned char *buf;

    pieces[0] = (const unsigned char *)PASETO_HDR; lens[0] = PASETO_HDR_LEN;
    pieces[1] = m;                                lens[1] = ml;
    pieces[2] = f;                                lens[2] = fl;
    pieces[3] = (const unsigned char *)(ia ? ia : ""); lens[3] = ia ? strlen(ia) : 0;
    *outlen = lc_paseto_pae(NULL, 4, pieces, lens);
    buf = malloc(*outlen);
    if (buf) {
        lc_paseto_pae(buf, 4, pieces, lens);
    }
    return buf;
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
    int i, matched = 0;

    for (i = 0; kr && i < kr->n; i++) {
        if (kid && !key_has_id(&kr->keys[i], kid)) {
            continue;
        }
        matched++;
        if (crypto_sign_verify_detached(sig, msg, mlen, kr->keys[i].pk) == 0) {
            *idx = i;
            return LC_TOKEN_OK;
        }
    }
    return (kid && !matched) ? LC_TOKEN_UNKNOWN_KID : LC_TOKEN_BAD_SIGNATURE;
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

/* PASERK forbids a key (rather than a key id) as a footer kid. */
static int kid_is_a_key(const char *kid)
{
    const char *p = kid;

    if (*p != 'k' || !(p[1] >= '0' && p[1] <= '9')) {
        return 0;
    }
    for (p++; *p >= '0' && *p <= '9'; p++)
        ;
    if (*p != '.') {
        return 0;
    }
    p++;
    return !(strncmp(p, "pid.", 4) == 0 || strncmp(p, "lid.", 4) == 0
             || strncmp(p, "sid.", 4) == 0);
}

static lc_token_status_e verify_paseto(const lc_keyring_t *kr, const char *tok,
                                       size_t len, const char *ia, lc_token_raw_t *raw)
{
    const char *body = tok + PASETO_HDR_LEN, *dot, *end = tok + len;
    size_t blen, flen = 0, n = 0, pl;
    unsigned char sig[64], *pae;
    const char *kid = NULL;
    json_t *footer = NULL;
    lc_token_status_e st;

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

    /* Footer: empty, or a JSON object whose optional "kid" picks the key. */
    if (raw->header_len) {
        footer = json_object_strict((const char *)raw->header, raw->header_len);
        if (footer == NULL) {
            return LC_TOKEN_MALFORMED;
        }
        if (get_kid(footer, &kid) != LC_TOKEN_OK || (kid && kid_is_a_key(kid))) {
            json_decref(footer);
            return LC_TOKEN_MALFORMED;
        }
    }
    pae = paseto_pae4(raw->payload, raw->payload_len, raw->header, raw->header_len,
                      ia, &pl);
    if (pae == NULL) {
        json_decref(footer);
        return LC_TOKEN_MALFORMED;
    }
    st = try_keys(kr, kid, sig, pae, pl, &raw->key_index);
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
    if (lc_b64url_decode(raw->header, sizeof(raw->header) - 1, tok, (size_t)(d1 - tok),
                         &raw->header_len) != 0) {
        return LC_TOKEN_MALFORMED;
    }
    raw->header[raw->header_len] = '\0';
    h = json_object_strict((const char *)raw->header, raw->header_len);
    if (h == NULL) {
        return LC_TOKEN_MALFORMED;
    }
    st = jwt_header(h, &kid);
    if (st != LC_TOKEN_OK) {
        json_decref(h);
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

lc_token_status_e lc_token_verify_signature(const lc_keyring_t *kr, const char *token,
                                            size_t len, const char *implicit_assertion,
                                            lc_token_raw_t *raw)
{
    size_t i;

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
    /* PASETO: "v<version>.<purpose>." — only v4.public is accepted. */
    if (token[0] == 'v' && len > 1 && token[1] >= '0' && token[1] <= '9') {
        for (i = 1; i < len && token[i] >= '0' && token[i] <= '9'; i++)
            ;
        if (i < len && token[i] == '.') {
            raw->is_paseto = 1;
            if (len < PASETO_HDR_LEN || memcmp(token, PASETO_HDR, PASETO_HDR_LEN) != 0) {
                return LC_TOKEN_UNSUPPORTED;
            }
        }
    }
    for (i = 0; i < len; i++) {
        if (!b64url_char((unsigned char)token[i]) && token[i] != '.') {
            return LC_TOKEN_MALFORMED;
        }
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

lc_token_status_e lc_token_check_claims(const char *json, size_t len, int is_paseto,
                                        const lc_token_policy_t *pol, lc_token_claims_t *out)
{
    lc_token_claims_t local;
    lc_token_claims_t *c = out ? out : &local;
    apr_interval_time_t leeway;
    json_t *obj, *iss;
    int has_exp, aud;
    lc_token_status_e st = LC_TOKEN_OK;

    memset(c, 0, sizeof(*c));
    c->is_paseto = is_paseto;
    c->key_index = -1;
    obj = json_object_strict(json, len);
    if (obj == NULL) {
        return LC_TOKEN_MALFORMED;
    }
    has_exp = json_object_get(obj, "exp") != NULL;
    iss = json_object_get(obj, "iss");
    aud = aud_check(obj, pol->audience);
    if (get_time(obj, "exp", is_paseto, &c->exp) != 0
        || get_time(obj, "nbf", is_paseto, &c->nbf) != 0
        || get_time(obj, "iat", is_paseto, &c->iat) != 0
        || get_text(obj, "sub", c->sub, sizeof(c->sub) - 1) != 0
        || get_text(obj, "jti", c->jti, sizeof(c->jti) - 1) != 0
        || (iss && !json_is_string(iss)) || aud < 0
        || get_scopes(obj, c) != 0) {
        st = LC_TOKEN_MALFORMED;
        goto done;
    }
    leeway = pol->leeway < 0 ? 0 : pol->leeway > LC_LEEWAY_MAX ? LC_LEEWAY_MAX : pol->leeway;
    if (!has_exp) {
        st = LC_TOKEN_NO_EXP;
    }
    else if (pol->now > c->exp + leeway) {
        st = LC_TOKEN_EXPIRED;
    }
    else if ((json_object_get(obj, "nbf") && c->nbf > pol->now + leeway)
             || (json_object_get(obj, "iat") && c->iat > pol->now + leeway)) {
        st = LC_TOKEN_NOT_YET_VALID;
    }
    else if (pol->issuer && (!iss || strcmp(json_string_value(iss), pol->issuer) != 0)) {
        st = LC_TOKEN_WRONG_ISSUER;
    }
    else if (pol->audience && aud != 1) {
        st = LC_TOKEN_WRONG_AUDIENCE;
    }
done:
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

/* ---- key files ----------------------------------------------------------- */

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static const char *jwk_parse(json_t *j, unsigned char pk[32], const char **kid,
                             apr_pool_t *p)
{
    json_t *v;
    size_t n = 0;
    const char *s;

    *kid = NULL;
    if (!json_is_object(j)) {
        return "not a JSON object";
    }
    if (json_object_get(j, "d")) {
        return "holds a private key (\"d\"); give the public JWK only";
    }
    v = json_object_get(j, "kty");
    if (!json_is_string(v) || strcmp(json_string_value(v), "OKP") != 0) {
        return "kty is not \"OKP\" (only Ed25519 keys are accepted)";
    }
    v = json_object_get(j, "crv");
    if (!json_is_string(v) || strcmp(json_string_value(v), "Ed25519") != 0) {
        return "crv is not \"Ed25519\"";
    }
    v = json_object_get(j, "use");
    if (v && (!json_is_string(v) || strcmp(json_string_value(v), "sig") != 0)) {
        return "use is not \"sig\"";
    }
    v = json_object_get(j, "alg");
    if (v && (!json_is_string(v) || (strcmp(json_string_value(v), "EdDSA") != 0
                                     && strcmp(json_string_value(v), "Ed25519") != 0))) {
        return "alg is not \"EdDSA\" or \"Ed25519\"";
    }
    v = json_object_get(j, "x");
    if (!json_is_string(v)
        || lc_b64url_decode(pk, 32, json_string_value(v), json_string_length(v), &n) != 0
        || n != 32) {
        return "x is not a base64url Ed25519 public key (32 bytes)";
    }
    v = json_object_get(j, "kid");
    if (v) {
        if (!json_is_string(v) || json_string_length(v) == 0
            || json_string_length(v) > LC_KID_MAX) {
            return apr_psprintf(p, "kid is not a string of 1 to %d bytes", LC_KID_MAX);
        }
        s = json_string_value(v);
        *kid = s;
    }
    return NULL;
}

static const char *ring_add(lc_keyring_t *kr, const unsigned char pk[32], const char *kid)
{
    apr_status_t rv = lc_keyring_add_raw(kr, pk, kid);

    if (rv == APR_ENOSPC) {
        return "too many keys (at most 32)";
    }
    if (rv != APR_SUCCESS) {
        return pk_usable(pk) ? "kid already names another key"
                             : "not a usable Ed25519 public key";
    }
    return NULL;
}

apr_status_t lc_keyring_load_string(lc_keyring_t *kr, const char *text,
                                    size_t len, const char *what,
                                    apr_pool_t *p, const char **err)
{
    lc_keyring_t *tmp;
    const char *e = NULL, *kid;
    unsigned char pk[32];
    json_t *j = NULL, *keys, *k;
    size_t i;

    *err = NULL;
    what = what ? what : "key";
    while (len && is_ws(text[len - 1])) {
        len--;
    }
    while (len && is_ws(*text)) {
        text++;
        len--;
    }
    tmp = apr_pmemdup(p, kr, sizeof(*kr));
    if (len == 0) {
        e = "empty";
    }
    else if (len >= 10 && memcmp(text, "k4.public.", 10) == 0) {
        /* One PASERK, or several separated by whitespace (rotation). */
        size_t i0 = 0, j0;

        while (i0 < len && e == NULL) {
            if (is_ws(text[i0])) {
                i0++;
                continue;
            }
            for (j0 = i0; j0 < len && !is_ws(text[j0]); j0++)
                ;
            if (lc_paserk_public_decode(text + i0, j0 - i0, pk) != 0) {
                e = "not a valid PASERK k4.public key (32 bytes, base64url, no padding)";
            }
            else {
                e = ring_add(tmp, pk, NULL);
            }
            i0 = j0;
        }
    }
    else if ((len >= 10 && memcmp(text, "k4.secret.", 10) == 0)
             || (len >= 9 && memcmp(text, "k4.local.", 9) == 0)) {
        e = "holds a secret key; LifecycleTokenKey takes a public key (k4.public or JWK)";
    }
    else if (text[0] == 'k' && len > 1 && text[1] >= '0' && text[1] <= '9') {
        e = "not a k4.public PASERK (other PASERK versions and types are not accepted)";
    }
    else if (len >= 10 && memcmp(text, "-----BEGIN", 10) == 0) {
        e = "PEM is not supported; use a PASERK k4.public or a JWK";
    }
    else if (text[0] == '{') {
        j = json_object_strict(text, len);
        if (j == NULL) {
            e = "not valid JSON (or duplicate member names)";
        }
        else if ((keys = json_object_get(j, "keys")) != NULL) {
            if (!json_is_array(keys) || json_array_size(keys) == 0) {
                e = "JWKS \"keys\" is not a non-empty array";
            }
            json_array_foreach(keys, i, k) {
                if (e) {
                    break;
                }
                if ((e = jwk_parse(k, pk, &kid, p)) == NULL) {
                    e = ring_add(tmp, pk, kid);
                }
                if (e) {
                    e = apr_psprintf(p, "keys[%lu]: %s", (unsigned long)i, e);
                }
            }
        }
        else if ((e = jwk_parse(j, pk, &kid, p)) == NULL) {
            e = ring_add(tmp, pk, kid);
        }
    }
    else {
        e = "not a key: expected a PASERK k4.public string, a JWK or a JWKS";
    }
    json_decref(j);
    sodium_memzero(pk, sizeof(pk));
    if (e) {
        *err = apr_psprintf(p, "%s: %s", what, e);
        return APR_EINVAL;
    }
    memcpy(kr, tmp, sizeof(*kr));
    return APR_SUCCESS;
}

apr_status_t lc_keyring_load_file(lc_keyring_t *kr, const char *path,
                                  apr_pool_t *p, const char **err)
{
    apr_file_t *f;
    apr_status_t rv;
    char *buf, ebuf[128];
    apr_size_t n = 0, got;

    *err = NULL;
    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, APR_OS_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(p, "%s: cannot open: %s", path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        return rv;
    }
    buf = apr_palloc(p, LC_KEYFILE_MAX + 1);
    do {
        got = LC_KEYFILE_MAX + 1 - n;
        rv = apr_file_read(f, buf + n, &got);
        n += got;
    } while (rv == APR_SUCCESS && n <= LC_KEYFILE_MAX);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        *err = apr_psprintf(p, "%s: cannot read: %s", path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        return rv;
    }
    if (n > LC_KEYFILE_MAX) {
        *err = apr_psprintf(p, "%s: too large for a key file (over %d bytes)", path,
                            LC_KEYFILE_MAX);
        return APR_EINVAL;
    }
    buf[n] = '\0';
    if (memchr(buf, '\0', n)) {
        *err = apr_psprintf(p, "%s: not a text file", path);
        return APR_EINVAL;
    }
    return lc_keyring_load_string(kr, buf, n, path, p, err);
}

/* ---- minting -------------------------------------------------------------- */

char *lc_token_mint_paseto_ia(apr_pool_t *p, const unsigned char sk[64],
                              const char *claims_json, const char *footer,
                              const char *implicit_assertion)
{
    size_t ml = strlen(claims_json), fl = footer ? strlen(footer) : 0, pl;
    unsigned char *pae, *body;
    char *tok;

    pae = paseto_pae4((const unsigned char *)claims_json, ml,
                      (const unsigned char *)(footer ? footer : ""), fl,
                      implicit_assertion, &pl);
    if (pae == NULL) {
        return NULL;
    }
    body = apr_palloc(p, ml + 64);
    memcpy(body, claims_json, ml);
    crypto_sign_detached(body + ml, NULL, pae, pl, sk);
    free(pae);
    tok = apr_pstrcat(p, PASETO_HDR, lc_b64url_encode(p, body, ml + 64),
                      fl ? "." : "",
                      fl ? lc_b64url_encode(p, (const unsigned char *)footer, fl) : "",
                      NULL);
    return tok;
}

char *lc_token_mint_paseto(apr_pool_t *p, const unsigned char sk[64],
                           const char *claims_json, const char *footer)
{
    return lc_token_mint_paseto_ia(p, sk, claims_json, footer, "");
}

char *lc_token_mint_jws(apr_pool_t *p, const unsigned char sk[64],
                        const char *header_json, const unsigned char *payload,
                        size_t payload_len)
{
    unsigned char sig[64];
    char *input;

    input = apr_pstrcat(p,
                        lc_b64url_encode(p, (const unsigned char *)header_json,
                                         strlen(header_json)),
                        ".", lc_b64url_encode(p, payload, payload_len), NULL);
    crypto_sign_detached(sig, NULL, (const unsigned char *)input, strlen(input), sk);
    return apr_pstrcat(p, input, ".", lc_b64url_encode(p, sig, sizeof(sig)), NULL);
}

char *lc_token_mint_jwt(apr_pool_t *p, const unsigned char sk[64],
                        const char *kid, const char *claims_json)
{
    json_t *h = json_object();
    char *hs, *tok = NULL;

    if (h == NULL) {
        return NULL;
    }
    json_object_set_new(h, "alg", json_string("EdDSA"));
    json_object_set_new(h, "typ", json_string("JWT"));
    if (kid) {
        json_object_set_new(h, "kid", json_string(kid));
    }
    hs = lc_json_dump(p, h, JSON_COMPACT | JSON_PRESERVE_ORDER, NULL);
    json_decref(h);
    if (hs) {
        tok = lc_token_mint_jws(p, sk, hs, (const unsigned char *)claims_json,
                                strlen(claims_json));
    }
    return tok;
}
