/* Unit tests: token verification (PASETO v4.public, JWT EdDSA), PASERK,
 * key files, the lifecycle-token CLI end to end.
 *
 * Vectors are read at run time from t/vectors (the official PASETO and
 * RFC 8037 vectors, copied into the repository with their licences; make
 * unit runs from the repo top). */
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>

#include <sodium.h>
#include <jansson.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "lc_test.h"
#include "lc_b64.h"
#include "lc_keyfile.h"
#include "lc_pae.h"
#include "lc_paserk.h"
#include "lc_token.h"
#include "lc_token_mint.h"
#include "lc_time.h"

#define CHECK_ST(expr, want) do {                                            \
        lc_token_status_e got_ = (expr);                                     \
        if (got_ == (want)) { lc_test_pass++; }                              \
        else { lc_test_fail++;                                               \
               fprintf(stderr, "FAIL %s:%d: %s == %s, expected %s\n",         \
                       __FILE__, __LINE__, #expr, lc_token_status_name(got_), \
                       lc_token_status_name(want)); }                        \
    } while (0)

static apr_pool_t *pool;
static const apr_time_t NOW = APR_INT64_C(1700000000) * APR_USEC_PER_SEC;  /* 2023-11-14 */

/* ---- helpers ---------------------------------------------------------------- */

static json_t *load_vectors(const char *rel)
{
    char path[1024];
    json_error_t jerr;
    json_t *j;

    snprintf(path, sizeof(path), "t/vectors/%s", rel);
    j = json_load_file(path, 0, &jerr);
    if (j == NULL) {
        fprintf(stderr, "cannot load %s: %s\n", path, jerr.text);
    }
    CHECK(j != NULL);
    return j;
}

static const char *jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

static size_t hex(const char *h, unsigned char *out, size_t max)
{
    size_t n = 0;

    if (h == NULL || sodium_hex2bin(out, max, h, strlen(h), NULL, &n, NULL) != 0) {
        return (size_t)-1;
    }
    return n;
}

static lc_token_status_e verify(const lc_keyring_t *kr, const char *tok,
                                const lc_token_policy_t *pol, lc_token_claims_t *c)
{
    return lc_token_verify(kr, tok, strlen(tok), pol, c);
}

static lc_token_status_e verify_now(const lc_keyring_t *kr, const char *tok)
{
    lc_token_policy_t pol;

    lc_token_policy_init(&pol, NOW);
    return verify(kr, tok, &pol, NULL);
}

static char *b64(const char *s)
{
    return lc_b64url_encode(pool, (const unsigned char *)s, strlen(s));
}

/* JWT claims with exp = NOW + 1 h and more members. */
static const char *jc(const char *more)
{
    return apr_psprintf(pool, "{\"exp\":%" APR_INT64_T_FMT "%s%s}",
                        apr_time_sec(NOW) + 3600, more[0] ? "," : "", more);
}

static char *rfc3339(apr_time_t t)
{
    return lc_time_rfc3339_sec(apr_palloc(pool, LC_TIME_TEXT_MAX), t);
}

static char *replace_part(const char *tok, int part, const char *with)
{
    const char *d1 = strchr(tok, '.'), *d2 = strchr(d1 + 1, '.');

    if (part == 0) {
        return apr_pstrcat(pool, with, d1, NULL);
    }
    if (part == 1) {
        return apr_pstrcat(pool, apr_pstrndup(pool, tok, (apr_size_t)(d1 - tok + 1)),
                           with, d2, NULL);
    }
    return apr_pstrcat(pool, apr_pstrndup(pool, tok, (apr_size_t)(d2 - tok + 1)), with, NULL);
}

/* ---- base64url, PAE, RFC 3339 ------------------------------------------------ */

static void test_b64(void)
{
    unsigned char out[16];
    size_t n;

    CHECK(lc_b64url_decode(out, sizeof(out), "YQ", 2, &n) == 0 && n == 1 && out[0] == 'a');
    CHECK(lc_b64url_decode(out, sizeof(out), "YWI", 3, &n) == 0 && n == 2);
    CHECK(lc_b64url_decode(out, sizeof(out), "YWJj", 4, &n) == 0 && n == 3);
    CHECK(lc_b64url_decode(out, sizeof(out), "", 0, &n) == 0 && n == 0);
    CHECK(lc_b64url_decode(out, sizeof(out), "YQ==", 4, &n) != 0);   /* padding */
    CHECK(lc_b64url_decode(out, sizeof(out), "YQ=", 3, &n) != 0);
    CHECK(lc_b64url_decode(out, sizeof(out), "YR", 2, &n) != 0);     /* non-canonical bits */
    CHECK(lc_b64url_decode(out, sizeof(out), "Y", 1, &n) != 0);      /* impossible length */
    CHECK(lc_b64url_decode(out, sizeof(out), "YQ\n", 3, &n) != 0);   /* whitespace */
    CHECK(lc_b64url_decode(out, sizeof(out), "Y Q", 3, &n) != 0);
    CHECK(lc_b64url_decode(out, sizeof(out), "+/8", 3, &n) != 0);    /* standard alphabet */
    CHECK(lc_b64url_decode(out, sizeof(out), "-_8", 3, &n) == 0 && n == 2
          && out[0] == 0xfb && out[1] == 0xff);
    CHECK(lc_b64url_decode(out, sizeof(out), "YQ*", 3, &n) != 0);
    /* Bytes 0x80-0xFF: libsodium 1.0.18 reads them as '_'; we must not. */
    CHECK(lc_b64url_decode(out, sizeof(out), "-\xff" "8", 3, &n) != 0);
    CHECK(lc_b64url_decode(out, sizeof(out), "-\x80" "8", 3, &n) != 0);
    CHECK(lc_b64url_decode(out, sizeof(out), "YW\xc3\xa9", 4, &n) != 0);
    CHECK(lc_b64url_decode(out, sizeof(out), "YQ\0", 3, &n) != 0);   /* NUL inside */
    /* libsodium 1.0.18 alone reads any byte from 0x80 up as '_'. */
    CHECK(lc_b64url_decode(out, sizeof(out), "-_8", 3, &n) == 0);
    CHECK(lc_b64url_decode(out, sizeof(out), "-\x80" "8", 3, &n) != 0);
    CHECK(lc_b64url_decode(out, sizeof(out), "\xf2\xaa\xf2\xaa", 4, &n) != 0);
    CHECK(lc_b64url_decode(out, sizeof(out), "YWJ\xff", 4, &n) != 0);
    CHECK(lc_b64url_decode(out, 2, "YWJj", 4, &n) != 0);             /* too long for out */
    CHECK_STR(b64("abc"), "YWJj");
    CHECK_STR(b64("ab"), "YWI");
    CHECK(LC_B64URL_LEN(32) == 43 && LC_B64URL_LEN(64) == 86 && LC_B64URL_LEN(33) == 44);
}

static void test_pae(void)
{
    unsigned char out[64];
    const unsigned char *pc[2] = { NULL, NULL };
    size_t ln[2] = { 0, 0 };

    /* From the PASETO spec (Common.md). */
    CHECK(lc_pae(out, 0, pc, ln) == 8);
    CHECK(memcmp(out, "\0\0\0\0\0\0\0\0", 8) == 0);
    pc[0] = (const unsigned char *)""; ln[0] = 0;
    CHECK(lc_pae(out, 1, pc, ln) == 16);
    CHECK(memcmp(out, "\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16) == 0);
    pc[0] = (const unsigned char *)"test"; ln[0] = 4;
    CHECK(lc_pae(out, 1, pc, ln) == 20);
    CHECK(memcmp(out, "\x01\0\0\0\0\0\0\0\x04\0\0\0\0\0\0\0test", 20) == 0);
    pc[1] = (const unsigned char *)""; ln[1] = 0;
    CHECK(lc_pae(NULL, 2, pc, ln) == 28);
}

static void test_rfc3339(void)
{
    apr_time_t t = 0;
    const apr_time_t y2022 = APR_INT64_C(1640995200) * APR_USEC_PER_SEC;

    CHECK(lc_rfc3339_parse("2022-01-01T00:00:00+00:00", 25, &t) == 0 && t == y2022);
    CHECK(lc_rfc3339_parse("2022-01-01T00:00:00Z", 20, &t) == 0 && t == y2022);
    CHECK(lc_rfc3339_parse("2022-01-01t00:00:00z", 20, &t) == 0 && t == y2022);
    CHECK(lc_rfc3339_parse("2022-01-01T01:30:00+01:30", 25, &t) == 0 && t == y2022);
    CHECK(lc_rfc3339_parse("2021-12-31T19:00:00-05:00", 25, &t) == 0 && t == y2022);
    CHECK(lc_rfc3339_parse("2022-01-01T00:00:00.5Z", 22, &t) == 0 && t == y2022 + 500000);
    CHECK(lc_rfc3339_parse("2022-01-01T00:00:00.123456789Z", 30, &t) == 0
          && t == y2022 + 123456);
    CHECK(lc_rfc3339_parse("1970-01-01T00:00:00Z", 20, &t) == 0 && t == 0);
    CHECK(lc_rfc3339_parse("2024-02-29T00:00:00Z", 20, &t) == 0);
    CHECK(lc_rfc3339_parse("2023-02-29T00:00:00Z", 20, &t) != 0);   /* not a leap year */
    CHECK(lc_rfc3339_parse("1900-02-29T00:00:00Z", 20, &t) != 0);
    CHECK(lc_rfc3339_parse("2000-02-29T00:00:00Z", 20, &t) == 0);
    CHECK(lc_rfc3339_parse("2022-13-01T00:00:00Z", 20, &t) != 0);
    CHECK(lc_rfc3339_parse("2022-00-01T00:00:00Z", 20, &t) != 0);
    CHECK(lc_rfc3339_parse("2022-04-31T00:00:00Z", 20, &t) != 0);
    CHECK(lc_rfc3339_parse("2022-01-01T24:00:00Z", 20, &t) != 0);
    CHECK(lc_rfc3339_parse("2022-01-01T00:60:00Z", 20, &t) != 0);
    CHECK(lc_rfc3339_parse("2022-01-01T00:00:61Z", 20, &t) != 0);
    CHECK(lc_rfc3339_parse("2022-01-01T00:00:00", 19, &t) != 0);    /* no offset */
    CHECK(lc_rfc3339_parse("2022-01-01 00:00:00Z", 20, &t) != 0);
    CHECK(lc_rfc3339_parse("2022-01-01T00:00:00.Z", 21, &t) != 0);
    CHECK(lc_rfc3339_parse("2022-01-01T00:00:00+0000", 24, &t) != 0);
    CHECK(lc_rfc3339_parse("2022-01-01T00:00:00+24:00", 25, &t) != 0);
    CHECK(lc_rfc3339_parse("2022-01-01T00:00:00Zx", 21, &t) != 0);
    CHECK(lc_rfc3339_parse("22-01-01T00:00:00Z", 18, &t) != 0);
    CHECK(lc_rfc3339_parse("2022-1-01T00:00:00Z", 19, &t) != 0);
    CHECK(lc_rfc3339_parse("+022-01-01T00:00:00Z", 20, &t) != 0);
    CHECK(lc_rfc3339_parse("", 0, &t) != 0);
    CHECK_STR(rfc3339(y2022), "2022-01-01T00:00:00Z");
    CHECK_STR(rfc3339(NOW), "2023-11-14T22:13:20Z");
}

/* ---- vectors ------------------------------------------------------------------ */

static void test_paseto_vectors(void)
{
    json_t *v = load_vectors("paseto/v4.json"), *tests, *t;
    const char *s_kid = "zVhMiPBP9fRf2snEcT7gFTioeA9COcNy9DfgL1W60haN";
    unsigned char pk[32], sk[64];
    lc_keyring_t *ring = NULL, *ring_pid = NULL;
    lc_token_raw_t *raw = malloc(sizeof(*raw));
    lc_token_policy_t pol;
    lc_token_claims_t c;
    size_t i;
    int ns = 0, nf = 0, ne = 0;

    if (v == NULL) {
        free(raw);
        return;
    }
    tests = json_object_get(v, "tests");
    /* The 4-S key, named by the vectors' footer kid (ring) or only by its
     * PASERK id (ring_pid). */
    json_array_foreach(tests, i, t) {
        if (strncmp(jstr(t, "name"), "4-S-", 4) == 0 && ring == NULL) {
            CHECK(hex(jstr(t, "public-key"), pk, 32) == 32);
            ring = lc_keyring_create(pool);
            ring_pid = lc_keyring_create(pool);
            CHECK(lc_keyring_add_raw(ring, pk, s_kid) == APR_SUCCESS);
            CHECK(lc_keyring_add_raw(ring_pid, pk, NULL) == APR_SUCCESS);
        }
    }
    CHECK(ring != NULL);
    if (ring == NULL) {
        json_decref(v);
        free(raw);
        return;
    }
    json_array_foreach(tests, i, t) {
        const char *name = jstr(t, "name"), *tok = jstr(t, "token");
        const char *ia = jstr(t, "implicit-assertion"), *payload = jstr(t, "payload");
        const char *footer = jstr(t, "footer");
        int expect_fail = json_is_true(json_object_get(t, "expect-fail"));

        lc_token_policy_init(&pol, APR_INT64_C(1609459200) * APR_USEC_PER_SEC); /* 2021 */
        pol.implicit_assertion = ia;
        if (strncmp(name, "4-S-", 4) == 0) {
            ns++;
            CHECK(!expect_fail);
            /* Signature layer: verifies, payload and footer as in the vector. */
            CHECK_ST(lc_token_verify_signature(ring, tok, strlen(tok), ia, raw), LC_TOKEN_OK);
            CHECK(raw->is_paseto && raw->key_index == 0);
            CHECK_STR((const char *)raw->payload, payload);
            CHECK_STR((const char *)raw->header, footer);
            /* Wrong implicit assertion: the signature no longer holds. */
            CHECK_ST(lc_token_verify_signature(ring, tok, strlen(tok), "{\"x\":1}", raw),
                     LC_TOKEN_BAD_SIGNATURE);
            /* Full verification before and after the vector's exp (2022). */
            CHECK_ST(verify(ring, tok, &pol, &c), LC_TOKEN_OK);
            CHECK(c.is_paseto && c.exp == APR_INT64_C(1640995200) * APR_USEC_PER_SEC);
            pol.now = (APR_INT64_C(1640995200) + 61) * APR_USEC_PER_SEC;
            CHECK_ST(verify(ring, tok, &pol, &c), LC_TOKEN_EXPIRED);
            pol.now = (APR_INT64_C(1640995200) + 59) * APR_USEC_PER_SEC;
            CHECK_ST(verify(ring, tok, &pol, &c), LC_TOKEN_OK);
            /* The footer's kid is not this key's k4.pid: */
            CHECK_ST(verify(ring_pid, tok, &pol, &c),
                     footer[0] ? LC_TOKEN_UNKNOWN_KID : LC_TOKEN_OK);
            /* Ed25519 is deterministic: minting gives the vector's token. */
            CHECK(hex(jstr(t, "secret-key"), sk, 64) == 64);
            CHECK_STR(lc_token_mint_paseto_ia(pool, sk, payload, footer, ia), tok);
        }
        else if (strncmp(name, "4-F-", 4) == 0) {
            nf++;
            CHECK(expect_fail);
            CHECK(lc_token_verify_signature(ring, tok, strlen(tok), ia, raw) != LC_TOKEN_OK);
            CHECK(lc_token_verify_signature(ring_pid, tok, strlen(tok), ia, raw) != LC_TOKEN_OK);
            CHECK(verify(ring, tok, &pol, &c) != LC_TOKEN_OK);
            if (strncmp(tok, "v4.public.", 10) == 0) {
                CHECK_ST(verify(ring, tok, &pol, &c), LC_TOKEN_BAD_SIGNATURE);
            }
            else {
                CHECK_ST(verify(ring, tok, &pol, &c), LC_TOKEN_UNSUPPORTED);
            }
        }
        else if (strncmp(name, "4-E-", 4) == 0) {
            ne++;
            CHECK_ST(verify(ring, tok, &pol, &c), LC_TOKEN_UNSUPPORTED);
            CHECK_ST(lc_token_verify_signature(ring, tok, strlen(tok), ia, raw),
                     LC_TOKEN_UNSUPPORTED);
        }
    }
    CHECK(ns == 3 && nf == 5 && ne == 9);
    json_decref(v);
    free(raw);
}

static void test_paserk_vectors(void)
{
    json_t *v, *t;
    unsigned char key[256], back[64];
    char out[256];
    size_t i, n;
    int count;

    v = load_vectors("paseto/k4.pid.json");
    count = 0;
    json_array_foreach(json_object_get(v, "tests"), i, t) {
        int expect_fail = json_is_true(json_object_get(t, "expect-fail"));

        n = hex(jstr(t, "key"), key, sizeof(key));
        if (expect_fail) {
            CHECK(lc_paserk_pid_bytes(key, n, out, sizeof(out)) != 0 && out[0] == '\0');
        }
        else {
            CHECK(n == 32 && lc_paserk_pid_bytes(key, n, out, sizeof(out)) == 0);
            CHECK_STR(out, jstr(t, "paserk"));
            lc_paserk_pid(key, out);
            CHECK_STR(out, jstr(t, "paserk"));
            CHECK(strlen(out) == LC_PASERK_PID_LEN);
        }
        count++;
    }
    CHECK(count == 5);
    json_decref(v);

    v = load_vectors("paseto/k4.public.json");
    count = 0;
    json_array_foreach(json_object_get(v, "tests"), i, t) {
        int expect_fail = json_is_true(json_object_get(t, "expect-fail"));
        const char *paserk = jstr(t, "paserk");

        n = hex(jstr(t, "key"), key, sizeof(key));
        if (expect_fail) {
            char *forged = apr_pstrcat(pool, "k4.public.",
                                       lc_b64url_encode(pool, key, n), NULL);

            CHECK(lc_paserk_public_encode(key, n, out, sizeof(out)) != 0);
            CHECK(lc_paserk_public_decode(forged, strlen(forged), back) != 0);
        }
        else {
            CHECK(lc_paserk_public_encode(key, n, out, sizeof(out)) == 0);
            CHECK_STR(out, paserk);
            CHECK(lc_paserk_public_decode(paserk, strlen(paserk), back) == 0
                  && memcmp(back, key, 32) == 0);
            /* Strict: no padding, no whitespace, no other version. */
            CHECK(lc_paserk_public_decode(apr_pstrcat(pool, paserk, "=", NULL),
                                          strlen(paserk) + 1, back) != 0);
            CHECK(lc_paserk_public_decode(apr_pstrcat(pool, paserk, "\n", NULL),
                                          strlen(paserk) + 1, back) != 0);
            CHECK(lc_paserk_public_decode(paserk, strlen(paserk) - 1, back) != 0);
            out[1] = '3';
            CHECK(lc_paserk_public_decode(out, strlen(out), back) != 0);
        }
        count++;
    }
    CHECK(count == 4);
    json_decref(v);

    v = load_vectors("paseto/k4.secret.json");
    count = 0;
    json_array_foreach(json_object_get(v, "tests"), i, t) {
        int expect_fail = json_is_true(json_object_get(t, "expect-fail"));
        const char *paserk = jstr(t, "paserk");

        n = hex(jstr(t, "key"), key, sizeof(key));
        if (expect_fail) {
            char *forged = apr_pstrcat(pool, "k4.secret.",
                                       lc_b64url_encode(pool, key, n), NULL);

            CHECK(lc_paserk_secret_encode(key, n, out, sizeof(out)) != 0);
            CHECK(lc_paserk_secret_decode(forged, strlen(forged), back) != 0);
        }
        else {
            CHECK(lc_paserk_secret_encode(key, n, out, sizeof(out)) == 0);
            CHECK_STR(out, paserk);
            CHECK(lc_paserk_secret_decode(paserk, strlen(paserk), back) == 0
                  && memcmp(back, key, 64) == 0);
            /* A secret key whose public half does not match its seed. */
            key[40] ^= 1;
            lc_paserk_secret_encode(key, n, out, sizeof(out));
            CHECK(lc_paserk_secret_decode(out, strlen(out), back) != 0);
        }
        count++;
    }
    CHECK(count == 5);
    json_decref(v);
}

static void test_rfc8037(void)
{
    json_t *v = load_vectors("jwt/rfc8037.json"), *pub, *priv;
    unsigned char pk[32], seed[32], pk2[32], sk[64];
    lc_token_raw_t *raw = malloc(sizeof(*raw));
    lc_keyring_t *kr = lc_keyring_create(pool);
    const char *jws, *x, *d, *err = NULL;
    size_t n = 0;

    if (v == NULL) {
        free(raw);
        return;
    }
    jws = jstr(v, "jws_compact");
    pub = json_object_get(v, "jwk_public");
    priv = json_object_get(v, "jwk_private");
    x = jstr(pub, "x");
    d = jstr(priv, "d");
    CHECK(lc_b64url_decode(pk, 32, x, strlen(x), &n) == 0 && n == 32);
    CHECK(lc_keyring_add_raw(kr, pk, NULL) == APR_SUCCESS);
    CHECK_ST(lc_token_verify_signature(kr, jws, strlen(jws), NULL, raw), LC_TOKEN_OK);
    CHECK(!raw->is_paseto);
    CHECK_STR((const char *)raw->payload, jstr(v, "payload"));
    CHECK_STR((const char *)raw->header, "{\"alg\":\"EdDSA\"}");
    /* Its payload is not JSON claims: full verification refuses it. */
    CHECK_ST(verify_now(kr, jws), LC_TOKEN_MALFORMED);
    /* The same vector through the JWK loader. */
    kr = lc_keyring_create(pool);
    {
        char *text = json_dumps(pub, JSON_COMPACT);

        CHECK(lc_keyfile_load_string(kr, text, strlen(text), "rfc8037", pool, &err)
              == APR_SUCCESS);
        free(text);
    }
    CHECK_ST(lc_token_verify_signature(kr, jws, strlen(jws), NULL, raw), LC_TOKEN_OK);
    /* The private JWK is refused as a verification key. */
    {
        char *text = json_dumps(priv, JSON_COMPACT);

        CHECK(lc_keyfile_load_string(kr, text, strlen(text), "rfc8037", pool, &err)
              != APR_SUCCESS);
        CHECK(err && strstr(err, "private"));
        free(text);
    }
    /* Deterministic signature: minting reproduces the RFC's JWS. */
    CHECK(lc_b64url_decode(seed, 32, d, strlen(d), &n) == 0 && n == 32);
    crypto_sign_seed_keypair(pk2, sk, seed);
    CHECK(memcmp(pk, pk2, 32) == 0);
    CHECK_STR(lc_token_mint_jws(pool, sk, "{\"alg\":\"EdDSA\"}",
                                (const unsigned char *)jstr(v, "payload"),
                                strlen(jstr(v, "payload"))), jws);
    json_decref(v);
    free(raw);
}

/* ---- minted JWTs ---------------------------------------------------------------- */

static void test_jwt(void)
{
    unsigned char pk[32], sk[64], pk2[32], sk2[64], mac[32];
    lc_keyring_t *kr = lc_keyring_create(pool);
    lc_token_policy_t pol;
    lc_token_claims_t c;
    char *tok, *t2, big[10 * 1024 + 1];
    const char *hdr, *input, *claims;
    apr_int64_t now = apr_time_sec(NOW);
    int i;

    crypto_sign_keypair(pk, sk);
    crypto_sign_keypair(pk2, sk2);
    CHECK(lc_keyring_add_raw(kr, pk, "k1") == APR_SUCCESS);
    CHECK(lc_keyring_count(kr) == 1);
    lc_token_policy_init(&pol, NOW);
    CHECK(pol.leeway == apr_time_from_sec(60));

    /* Accepted: alg EdDSA and Ed25519; claims extracted. */
    claims = jc("\"sub\":\"alice\",\"jti\":\"j-1\",\"scope\":\"workflow.read  workflow.write\","
                "\"iat\":1700000000,\"nbf\":1699999990");
    tok = lc_token_mint_jwt(pool, sk, "k1", claims);
    CHECK_ST(verify(kr, tok, &pol, &c), LC_TOKEN_OK);
    CHECK_STR(c.sub, "alice");
    CHECK_STR(c.jti, "j-1");
    CHECK(c.nscopes == 2);
    CHECK_STR(c.scopes[0], "workflow.read");
    CHECK_STR(c.scopes[1], "workflow.write");
    CHECK(c.exp == NOW + apr_time_from_sec(3600) && c.iat == NOW
          && c.nbf == NOW - apr_time_from_sec(10));
    CHECK(!c.is_paseto && c.key_index == 0);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, NULL, claims)), LC_TOKEN_OK);
    CHECK_ST(verify_now(kr, lc_token_mint_jws(pool, sk, "{\"alg\":\"Ed25519\",\"kid\":\"k1\"}",
                                              (const unsigned char *)claims, strlen(claims))),
             LC_TOKEN_OK);
    /* kid may also be the key's PASERK id. */
    {
        char pid[64];

        lc_paserk_pid(pk, pid);
        CHECK_STR(lc_keyring_pid(kr, 0), pid);
        CHECK_STR(lc_keyring_kid(kr, 0), "k1");
        CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, pid, claims)), LC_TOKEN_OK);
    }

    /* Algorithms other than EdDSA/Ed25519: refused before any crypto. */
    claims = jc("");
    input = apr_pstrcat(pool, b64("{\"alg\":\"none\",\"typ\":\"JWT\"}"), ".", b64(claims), NULL);
    CHECK_ST(verify_now(kr, apr_pstrcat(pool, input, ".", NULL)), LC_TOKEN_UNSUPPORTED);
    CHECK_ST(verify_now(kr, lc_token_mint_jws(pool, sk, "{\"alg\":\"none\"}",
                                              (const unsigned char *)claims, strlen(claims))),
             LC_TOKEN_UNSUPPORTED);
    /* HS256 keyed with the public key bytes (the classic RS/HS confusion). */
    hdr = b64("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}");
    input = apr_pstrcat(pool, hdr, ".", b64(claims), NULL);
    crypto_auth_hmacsha256(mac, (const unsigned char *)input, strlen(input), pk);
    CHECK_ST(verify_now(kr, apr_pstrcat(pool, input, ".", lc_b64url_encode(pool, mac, 32), NULL)),
             LC_TOKEN_UNSUPPORTED);
    for (i = 0; i < 7; i++) {
        static const char *const hs[] = {
            "{\"alg\":\"RS256\"}", "{\"alg\":\"ES256\"}", "{\"alg\":\"HS512\"}",
            "{\"typ\":\"JWT\"}", "{\"alg\":\"eddsa\"}", "{\"alg\":1}", "{\"alg\":null}"
        };
        CHECK_ST(verify_now(kr, lc_token_mint_jws(pool, sk, hs[i], (const unsigned char *)claims,
                                                  strlen(claims))),
                 LC_TOKEN_UNSUPPORTED);
    }
    /* crit, JWE-ish and b64:false headers. */
    CHECK_ST(verify_now(kr, lc_token_mint_jws(pool, sk, "{\"alg\":\"EdDSA\",\"crit\":[\"exp\"],\"exp\":1}",
                                              (const unsigned char *)claims, strlen(claims))),
             LC_TOKEN_UNSUPPORTED);
    CHECK_ST(verify_now(kr, lc_token_mint_jws(pool, sk, "{\"alg\":\"EdDSA\",\"b64\":false}",
                                              (const unsigned char *)claims, strlen(claims))),
             LC_TOKEN_UNSUPPORTED);
    CHECK_ST(verify_now(kr, lc_token_mint_jws(pool, sk, "{\"alg\":\"EdDSA\",\"enc\":\"A128GCM\"}",
                                              (const unsigned char *)claims, strlen(claims))),
             LC_TOKEN_UNSUPPORTED);

    /* typ. */
    for (i = 0; i < 8; i++) {
        static const char *const typs[] = { "JWT", "at+jwt", "application/at+jwt", "jwt",
                                            "JOSE", "dpop+jwt", "", "application/jwt" };
        const char *h = apr_psprintf(pool, "{\"alg\":\"EdDSA\",\"typ\":\"%s\"}", typs[i]);

        CHECK_ST(verify_now(kr, lc_token_mint_jws(pool, sk, h, (const unsigned char *)claims,
                                                  strlen(claims))),
                 i < 4 ? LC_TOKEN_OK : LC_TOKEN_UNSUPPORTED);
    }
    CHECK_ST(verify_now(kr, lc_token_mint_jws(pool, sk, "{\"alg\":\"EdDSA\",\"typ\":1}",
                                              (const unsigned char *)claims, strlen(claims))),
             LC_TOKEN_MALFORMED);

    /* Tampering. */
    tok = lc_token_mint_jwt(pool, sk, "k1", jc("\"scope\":\"a\""));
    CHECK_ST(verify_now(kr, replace_part(tok, 1, b64(jc("\"scope\":\"admin\"")))),
             LC_TOKEN_BAD_SIGNATURE);
    t2 = apr_pstrdup(pool, tok);
    {
        char *sig = strrchr(t2, '.') + 10;

        *sig = *sig == 'A' ? 'B' : 'A';
    }
    CHECK_ST(verify_now(kr, t2), LC_TOKEN_BAD_SIGNATURE);
    /* A header change invalidates the signature too. */
    CHECK_ST(verify_now(kr, replace_part(tok, 0, b64("{\"alg\":\"EdDSA\",\"kid\":\"k1\"}"))),
             LC_TOKEN_BAD_SIGNATURE);
    /* Short signature. */
    CHECK_ST(verify_now(kr, replace_part(tok, 2, lc_b64url_encode(pool, mac, 32))),
             LC_TOKEN_MALFORMED);

    /* Keys and kids. */
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k2", claims)), LC_TOKEN_UNKNOWN_KID);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "", claims)), LC_TOKEN_UNKNOWN_KID);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk2, NULL, claims)), LC_TOKEN_BAD_SIGNATURE);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk2, "k1", claims)), LC_TOKEN_BAD_SIGNATURE);
    CHECK_ST(verify_now(kr, lc_token_mint_jws(pool, sk, "{\"alg\":\"EdDSA\",\"kid\":7}",
                                              (const unsigned char *)claims, strlen(claims))),
             LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(NULL, lc_token_mint_jwt(pool, sk, NULL, claims)), LC_TOKEN_BAD_SIGNATURE);
    /* jku / jwk / x5u headers are never followed nor trusted: only the ring counts. */
    hdr = apr_psprintf(pool, "{\"alg\":\"EdDSA\",\"kid\":\"k1\",\"jku\":\"https://attacker.example/jwks\","
                       "\"x5u\":\"https://attacker.example/c\",\"jwk\":{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"}}",
                       lc_b64url_encode(pool, pk2, 32));
    CHECK_ST(verify_now(kr, lc_token_mint_jws(pool, sk, hdr, (const unsigned char *)claims,
                                              strlen(claims))), LC_TOKEN_OK);
    CHECK_ST(verify_now(kr, lc_token_mint_jws(pool, sk2, hdr, (const unsigned char *)claims,
                                              strlen(claims))), LC_TOKEN_BAD_SIGNATURE);
    /* A ring with two keys: no kid tries each; a kid picks one. */
    {
        lc_keyring_t *two = lc_keyring_create(pool);

        CHECK(lc_keyring_add_raw(two, pk, "k1") == APR_SUCCESS);
        CHECK(lc_keyring_add_raw(two, pk2, "k2") == APR_SUCCESS);
        CHECK(lc_keyring_add_raw(two, pk2, "k1") != APR_SUCCESS);   /* kid taken */
        CHECK(lc_keyring_count(two) == 2);
        CHECK_ST(verify(two, lc_token_mint_jwt(pool, sk2, NULL, claims), &pol, &c), LC_TOKEN_OK);
        CHECK(c.key_index == 1);
        CHECK_ST(verify_now(two, lc_token_mint_jwt(pool, sk2, "k2", claims)), LC_TOKEN_OK);
        CHECK_ST(verify_now(two, lc_token_mint_jwt(pool, sk2, "k1", claims)), LC_TOKEN_BAD_SIGNATURE);
    }

    /* Time. */
    pol.leeway = apr_time_from_sec(60);
    tok = lc_token_mint_jwt(pool, sk, "k1", apr_psprintf(pool, "{\"exp\":%" APR_INT64_T_FMT "}", now - 61));
    CHECK_ST(verify(kr, tok, &pol, &c), LC_TOKEN_EXPIRED);
    CHECK(c.nscopes == 0);
    tok = lc_token_mint_jwt(pool, sk, "k1", apr_psprintf(pool, "{\"exp\":%" APR_INT64_T_FMT "}", now - 60));
    CHECK_ST(verify(kr, tok, &pol, &c), LC_TOKEN_OK);
    tok = lc_token_mint_jwt(pool, sk, "k1", apr_psprintf(pool, "{\"exp\":%" APR_INT64_T_FMT "}", now - 59));
    CHECK_ST(verify(kr, tok, &pol, &c), LC_TOKEN_OK);
    pol.leeway = 0;
    CHECK_ST(verify(kr, tok, &pol, &c), LC_TOKEN_EXPIRED);
    pol.leeway = apr_time_from_sec(60);
    tok = lc_token_mint_jwt(pool, sk, "k1", apr_psprintf(pool, "{\"exp\":%" APR_INT64_T_FMT ".5}", now - 60));
    CHECK_ST(verify(kr, tok, &pol, &c), LC_TOKEN_OK);
    tok = lc_token_mint_jwt(pool, sk, "k1", apr_psprintf(pool, "{\"exp\":%" APR_INT64_T_FMT ",\"nbf\":%" APR_INT64_T_FMT "}",
                                                          now + 3600, now + 120));
    CHECK_ST(verify(kr, tok, &pol, &c), LC_TOKEN_NOT_YET_VALID);
    tok = lc_token_mint_jwt(pool, sk, "k1", apr_psprintf(pool, "{\"exp\":%" APR_INT64_T_FMT ",\"nbf\":%" APR_INT64_T_FMT "}",
                                                          now + 3600, now + 59));
    CHECK_ST(verify(kr, tok, &pol, &c), LC_TOKEN_OK);
    tok = lc_token_mint_jwt(pool, sk, "k1", apr_psprintf(pool, "{\"exp\":%" APR_INT64_T_FMT ",\"iat\":%" APR_INT64_T_FMT "}",
                                                          now + 3600, now + 120));
    CHECK_ST(verify(kr, tok, &pol, &c), LC_TOKEN_NOT_YET_VALID);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1", "{\"sub\":\"a\"}")), LC_TOKEN_NO_EXP);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1", "{\"exp\":\"2030-01-01T00:00:00Z\"}")),
             LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1", "{\"exp\":null}")), LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1", "{\"exp\":-1}")), LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1", "{\"exp\":1e300}")), LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1", jc("\"nbf\":true"))), LC_TOKEN_MALFORMED);

    /* Issuer and audience. */
    pol.issuer = "https://issuer.example";
    pol.audience = "lifecycle";
    CHECK_ST(verify(kr, lc_token_mint_jwt(pool, sk, "k1",
                    jc("\"iss\":\"https://issuer.example\",\"aud\":\"lifecycle\"")), &pol, &c),
             LC_TOKEN_OK);
    CHECK_ST(verify(kr, lc_token_mint_jwt(pool, sk, "k1",
                    jc("\"iss\":\"https://issuer.example\",\"aud\":[\"x\",\"lifecycle\"]")), &pol, &c),
             LC_TOKEN_OK);
    CHECK_ST(verify(kr, lc_token_mint_jwt(pool, sk, "k1",
                    jc("\"iss\":\"https://evil.example\",\"aud\":\"lifecycle\"")), &pol, &c),
             LC_TOKEN_WRONG_ISSUER);
    CHECK_ST(verify(kr, lc_token_mint_jwt(pool, sk, "k1", jc("\"aud\":\"lifecycle\"")), &pol, &c),
             LC_TOKEN_WRONG_ISSUER);
    CHECK_ST(verify(kr, lc_token_mint_jwt(pool, sk, "k1",
                    jc("\"iss\":\"https://issuer.example\",\"aud\":\"other\"")), &pol, &c),
             LC_TOKEN_WRONG_AUDIENCE);
    CHECK_ST(verify(kr, lc_token_mint_jwt(pool, sk, "k1",
                    jc("\"iss\":\"https://issuer.example\",\"aud\":[\"x\",\"y\"]")), &pol, &c),
             LC_TOKEN_WRONG_AUDIENCE);
    CHECK_ST(verify(kr, lc_token_mint_jwt(pool, sk, "k1", jc("\"iss\":\"https://issuer.example\"")),
                    &pol, &c), LC_TOKEN_WRONG_AUDIENCE);
    CHECK_ST(verify(kr, lc_token_mint_jwt(pool, sk, "k1",
                    jc("\"iss\":\"https://issuer.example\",\"aud\":[\"lifecycle\",1]")), &pol, &c),
             LC_TOKEN_MALFORMED);
    CHECK_ST(verify(kr, lc_token_mint_jwt(pool, sk, "k1",
                    jc("\"iss\":1,\"aud\":\"lifecycle\"")), &pol, &c), LC_TOKEN_MALFORMED);
    pol.issuer = pol.audience = NULL;
    CHECK_ST(verify(kr, lc_token_mint_jwt(pool, sk, "k1", jc("\"iss\":\"x\",\"aud\":\"y\"")), &pol, &c),
             LC_TOKEN_OK);

    /* Scopes. */
    CHECK_ST(verify(kr, lc_token_mint_jwt(pool, sk, "k1", jc("\"scp\":[\"a.read\",\"b.write\"]")),
                    &pol, &c), LC_TOKEN_OK);
    CHECK(c.nscopes == 2);
    CHECK_STR(c.scopes[1], "b.write");
    CHECK_ST(verify(kr, lc_token_mint_jwt(pool, sk, "k1",
                    jc("\"scope\":\"a b\",\"scp\":[\"b\",\"c\"]")), &pol, &c), LC_TOKEN_OK);
    CHECK(c.nscopes == 3);
    CHECK_STR(c.scopes[2], "c");
    CHECK_ST(verify(kr, lc_token_mint_jwt(pool, sk, "k1", jc("\"scope\":\"\"")), &pol, &c),
             LC_TOKEN_OK);
    CHECK(c.nscopes == 0);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1", jc("\"scope\":[\"a\"]"))), LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1", jc("\"scp\":[\"a\",1]"))), LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1", jc("\"scp\":{}"))), LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1", jc("\"scp\":[\"a b\"]"))), LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1", jc("\"scope\":\"a\\\"b\""))), LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1", jc("\"scope\":\"a\\u00e9\""))), LC_TOKEN_MALFORMED);
    {
        char *many = apr_pstrdup(pool, ""), *longest, *too_long;

        for (i = 0; i < 33; i++) {
            many = apr_psprintf(pool, "%s%ss%d", many, i ? " " : "", i);
        }
        CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1",
                            jc(apr_psprintf(pool, "\"scope\":\"%s\"", many)))), LC_TOKEN_MALFORMED);
        *strrchr(many, ' ') = '\0';                                       /* 32 */
        CHECK_ST(verify(kr, lc_token_mint_jwt(pool, sk, "k1",
                        jc(apr_psprintf(pool, "\"scope\":\"%s\"", many))), &pol, &c), LC_TOKEN_OK);
        CHECK(c.nscopes == 32);
        longest = apr_palloc(pool, 130);
        memset(longest, 'x', 128);
        longest[128] = '\0';
        too_long = apr_pstrcat(pool, longest, "x", NULL);
        CHECK_ST(verify(kr, lc_token_mint_jwt(pool, sk, "k1",
                        jc(apr_psprintf(pool, "\"scp\":[\"%s\"]", longest))), &pol, &c), LC_TOKEN_OK);
        CHECK(c.nscopes == 1 && strlen(c.scopes[0]) == 128);
        CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1",
                            jc(apr_psprintf(pool, "\"scp\":[\"%s\"]", too_long)))), LC_TOKEN_MALFORMED);
    }

    /* sub and jti. */
    {
        char s63[64], s64[65], j127[128], j128[129];

        memset(s63, 's', 63); s63[63] = '\0';
        memset(s64, 's', 64); s64[64] = '\0';
        memset(j127, 'j', 127); j127[127] = '\0';
        memset(j128, 'j', 128); j128[128] = '\0';
        CHECK_ST(verify(kr, lc_token_mint_jwt(pool, sk, "k1",
                        jc(apr_psprintf(pool, "\"sub\":\"%s\",\"jti\":\"%s\"", s63, j127))), &pol, &c),
                 LC_TOKEN_OK);
        CHECK_STR(c.sub, s63);
        CHECK_STR(c.jti, j127);
        CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1",
                            jc(apr_psprintf(pool, "\"sub\":\"%s\"", s64)))), LC_TOKEN_MALFORMED);
        CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1",
                            jc(apr_psprintf(pool, "\"jti\":\"%s\"", j128)))), LC_TOKEN_MALFORMED);
        CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1", jc("\"sub\":42"))), LC_TOKEN_MALFORMED);
        CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1", jc("\"sub\":\"a\\nb\""))),
                 LC_TOKEN_MALFORMED);
        CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1", jc("\"sub\":\"a\\u0000b\""))),
                 LC_TOKEN_MALFORMED);
    }

    /* Strict JSON. */
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1",
                        apr_psprintf(pool, "{\"exp\":%" APR_INT64_T_FMT ",\"exp\":%" APR_INT64_T_FMT "}", now + 10, now + 99999))),
             LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1", jc("\"sub\":\"a\",\"sub\":\"b\""))),
             LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, lc_token_mint_jws(pool, sk, "{\"alg\":\"EdDSA\",\"alg\":\"EdDSA\"}",
                                              (const unsigned char *)claims, strlen(claims))),
             LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1", apr_pstrcat(pool, claims, " x", NULL))),
             LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1", apr_pstrcat(pool, claims, "{}", NULL))),
             LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1", apr_pstrcat(pool, claims, " \n", NULL))),
             LC_TOKEN_OK);
    CHECK_ST(verify_now(kr, lc_token_mint_jws(pool, sk, "{\"alg\":\"EdDSA\"} x",
                                              (const unsigned char *)claims, strlen(claims))),
             LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1", "[1]")), LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1", "\"x\"")), LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1", "")), LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1", "{\"exp\":1")), LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1",
                        jc("\"x\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]"))), LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1", jc("\"x\":[[[1]]]"))), LC_TOKEN_OK);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "k1", jc("\"x\":\"\xff\""))),
             LC_TOKEN_MALFORMED);                                         /* bad UTF-8 */

    /* Structure and base64url. */
    tok = lc_token_mint_jwt(pool, sk, "k1", claims);
    CHECK_ST(verify_now(kr, tok), LC_TOKEN_OK);
    CHECK_ST(verify_now(kr, ""), LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, "."), LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, ".."), LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, "..."), LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, "a.b.c.d"), LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, "abc"), LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, apr_pstrcat(pool, tok, ".", NULL)), LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, apr_pstrcat(pool, tok, "=", NULL)), LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, apr_pstrcat(pool, tok, " ", NULL)), LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, apr_pstrcat(pool, " ", tok, NULL)), LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, replace_part(tok, 1, apr_pstrcat(pool, b64(claims), "==", NULL))),
             LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, replace_part(tok, 0, apr_pstrcat(pool, b64("{\"alg\":\"EdDSA\"}"), "*", NULL))),
             LC_TOKEN_MALFORMED);
    t2 = apr_pstrdup(pool, tok);
    t2[strchr(t2, '.') - t2 + 3] = '+';                       /* standard alphabet */
    CHECK_ST(verify_now(kr, t2), LC_TOKEN_MALFORMED);
    t2 = apr_pstrdup(pool, tok);
    t2[5] = '\0';
    CHECK_ST(lc_token_verify(kr, t2, strlen(tok), &pol, &c), LC_TOKEN_MALFORMED);  /* NUL inside */
    /* header and payload swapped */
    {
        const char *d1 = strchr(tok, '.'), *d2 = strchr(d1 + 1, '.');
        char *sw = apr_pstrcat(pool, apr_pstrndup(pool, d1 + 1, (apr_size_t)(d2 - d1 - 1)), ".",
                               apr_pstrndup(pool, tok, (apr_size_t)(d1 - tok)), d2, NULL);
        lc_token_status_e st = verify_now(kr, sw);

        CHECK(st == LC_TOKEN_UNSUPPORTED || st == LC_TOKEN_MALFORMED);
    }
    /* Length bound. */
    memset(big, 'A', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    big[100] = '.';
    big[200] = '.';
    CHECK_ST(verify_now(kr, big), LC_TOKEN_TOO_LONG);
    CHECK_ST(lc_token_verify(kr, big, LC_TOKEN_MAX + 1, &pol, &c), LC_TOKEN_TOO_LONG);
    {
        lc_token_raw_t *raw = malloc(sizeof(*raw));

        CHECK_ST(lc_token_verify_signature(kr, big, strlen(big), NULL, raw), LC_TOKEN_TOO_LONG);
        free(raw);
    }
    /* Status names. */
    CHECK_STR(lc_token_status_name(LC_TOKEN_OK), "ok");
    CHECK_STR(lc_token_status_name(LC_TOKEN_BAD_SIGNATURE), "bad_signature");
    CHECK_STR(lc_token_status_name(LC_TOKEN_WRONG_AUDIENCE), "wrong_audience");
}

/* ---- minted PASETO ------------------------------------------------------------------ */

static void test_paseto(void)
{
    unsigned char pk[32], sk[64], pk2[32], sk2[64];
    lc_keyring_t *kr = lc_keyring_create(pool);
    lc_token_policy_t pol;
    lc_token_claims_t c;
    char pid[64], *tok, *t2;
    const char *claims, *footer;

    crypto_sign_keypair(pk, sk);
    crypto_sign_keypair(pk2, sk2);
    CHECK(lc_keyring_add_raw(kr, pk, NULL) == APR_SUCCESS);
    lc_paserk_pid(pk, pid);
    lc_token_policy_init(&pol, NOW);
    footer = apr_psprintf(pool, "{\"kid\":\"%s\"}", pid);
    claims = apr_psprintf(pool, "{\"sub\":\"bob\",\"exp\":\"%s\",\"iat\":\"%s\",\"scope\":\"a b\"}",
                          rfc3339(NOW + apr_time_from_sec(3600)), rfc3339(NOW));

    tok = lc_token_mint_paseto(pool, sk, claims, footer);
    CHECK(strncmp(tok, "v4.public.", 10) == 0);
    CHECK_ST(verify(kr, tok, &pol, &c), LC_TOKEN_OK);
    CHECK(c.is_paseto && c.nscopes == 2 && c.exp == NOW + apr_time_from_sec(3600) && c.iat == NOW);
    CHECK_STR(c.sub, "bob");
    CHECK_ST(verify_now(kr, lc_token_mint_paseto(pool, sk, claims, NULL)), LC_TOKEN_OK);
    CHECK_ST(verify_now(kr, lc_token_mint_paseto(pool, sk, claims, "")), LC_TOKEN_OK);
    CHECK_ST(verify_now(kr, lc_token_mint_paseto(pool, sk, claims, "{}")), LC_TOKEN_OK);
    CHECK_ST(verify_now(kr, lc_token_mint_paseto(pool, sk2, claims, NULL)), LC_TOKEN_BAD_SIGNATURE);
    CHECK_ST(verify_now(kr, lc_token_mint_paseto(pool, sk2, claims, footer)), LC_TOKEN_BAD_SIGNATURE);
    /* Footer: kid must exist; must be JSON; kid must be a string and not a key. */
    CHECK_ST(verify_now(kr, lc_token_mint_paseto(pool, sk, claims, "{\"kid\":\"nope\"}")),
             LC_TOKEN_UNKNOWN_KID);
    CHECK_ST(verify_now(kr, lc_token_mint_paseto(pool, sk, claims, "not json")), LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, lc_token_mint_paseto(pool, sk, claims, "{\"kid\":1}")), LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, lc_token_mint_paseto(pool, sk, claims, "{\"kid\":\"a\",\"kid\":\"b\"}")),
             LC_TOKEN_MALFORMED);
    {
        char pub[64];

        lc_paserk_public_encode(pk, 32, pub, sizeof(pub));
        CHECK_ST(verify_now(kr, lc_token_mint_paseto(pool, sk, claims,
                            apr_psprintf(pool, "{\"kid\":\"%s\"}", pub))), LC_TOKEN_MALFORMED);
    }
    /* Implicit assertions. */
    tok = lc_token_mint_paseto_ia(pool, sk, claims, footer, "tenant-1");
    CHECK_ST(verify_now(kr, tok), LC_TOKEN_BAD_SIGNATURE);
    pol.implicit_assertion = "tenant-1";
    CHECK_ST(verify(kr, tok, &pol, &c), LC_TOKEN_OK);
    pol.implicit_assertion = NULL;
    /* Tampering. */
    tok = lc_token_mint_paseto(pool, sk, claims, footer);
    t2 = apr_pstrdup(pool, tok);
    t2[20] = t2[20] == 'A' ? 'B' : 'A';
    CHECK_ST(verify_now(kr, t2), LC_TOKEN_BAD_SIGNATURE);
    t2 = apr_pstrcat(pool, apr_pstrndup(pool, tok, (apr_size_t)(strrchr(tok, '.') - tok)), ".",
                     b64(apr_psprintf(pool, "{\"kid\":\"%s\" }", pid)), NULL);
    CHECK_ST(verify_now(kr, t2), LC_TOKEN_BAD_SIGNATURE);      /* footer is signed too */
    t2 = apr_pstrndup(pool, tok, (apr_size_t)(strrchr(tok, '.') - tok));
    CHECK_ST(verify_now(kr, t2), LC_TOKEN_BAD_SIGNATURE);      /* footer dropped */
    /* Structure. */
    CHECK_ST(verify_now(kr, apr_pstrcat(pool, tok, ".", NULL)), LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, apr_pstrcat(pool, tok, ".eyJ9", NULL)), LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, apr_pstrcat(pool, tok, "=", NULL)), LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, "v4.public."), LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, "v4.public"), LC_TOKEN_UNSUPPORTED);
    CHECK_ST(verify_now(kr, "v4.public.AAAA"), LC_TOKEN_MALFORMED);  /* shorter than a signature */
    CHECK_ST(verify_now(kr, "v3.public.xxx"), LC_TOKEN_UNSUPPORTED);
    CHECK_ST(verify_now(kr, "v2.public.xxx"), LC_TOKEN_UNSUPPORTED);
    CHECK_ST(verify_now(kr, "v4.local.xxx"), LC_TOKEN_UNSUPPORTED);
    CHECK_ST(verify_now(kr, "v4.secret.xxx"), LC_TOKEN_UNSUPPORTED);
    CHECK_ST(verify_now(kr, "v10.public.xxx"), LC_TOKEN_UNSUPPORTED);
    CHECK_ST(verify_now(kr, apr_pstrcat(pool, "v4.local.", tok + 10, NULL)), LC_TOKEN_UNSUPPORTED);
    CHECK_ST(verify_now(kr, apr_pstrcat(pool, "v3.public.", tok + 10, NULL)), LC_TOKEN_UNSUPPORTED);
    /* Claims: RFC 3339 strings, strict. */
    pol.leeway = apr_time_from_sec(60);
    claims = apr_psprintf(pool, "{\"exp\":\"%s\"}", rfc3339(NOW - apr_time_from_sec(61)));
    CHECK_ST(verify(kr, lc_token_mint_paseto(pool, sk, claims, footer), &pol, &c), LC_TOKEN_EXPIRED);
    claims = apr_psprintf(pool, "{\"exp\":\"%s\"}", rfc3339(NOW - apr_time_from_sec(59)));
    CHECK_ST(verify(kr, lc_token_mint_paseto(pool, sk, claims, footer), &pol, &c), LC_TOKEN_OK);
    claims = apr_psprintf(pool, "{\"exp\":\"%s\",\"nbf\":\"%s\"}", rfc3339(NOW + apr_time_from_sec(600)),
                          rfc3339(NOW + apr_time_from_sec(120)));
    CHECK_ST(verify(kr, lc_token_mint_paseto(pool, sk, claims, footer), &pol, &c),
             LC_TOKEN_NOT_YET_VALID);
    CHECK_ST(verify_now(kr, lc_token_mint_paseto(pool, sk,
                        "{\"exp\":\"2030-01-01T01:00:00+01:00\"}", NULL)), LC_TOKEN_OK);
    CHECK_ST(verify_now(kr, lc_token_mint_paseto(pool, sk,
                        "{\"exp\":\"2030-01-01T00:00:00.123Z\"}", NULL)), LC_TOKEN_OK);
    CHECK_ST(verify_now(kr, lc_token_mint_paseto(pool, sk, "{\"exp\":1900000000}", NULL)),
             LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, lc_token_mint_paseto(pool, sk, "{\"exp\":\"2030-13-01T00:00:00Z\"}", NULL)),
             LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, lc_token_mint_paseto(pool, sk, "{\"exp\":\"tomorrow\"}", NULL)),
             LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, lc_token_mint_paseto(pool, sk, "{\"sub\":\"x\"}", NULL)), LC_TOKEN_NO_EXP);
    CHECK_ST(verify_now(kr, lc_token_mint_paseto(pool, sk,
                        "{\"exp\":\"2030-01-01T00:00:00Z\",\"exp\":\"2040-01-01T00:00:00Z\"}", NULL)),
             LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, lc_token_mint_paseto(pool, sk, "{\"exp\":\"2030-01-01T00:00:00Z\"} ,", NULL)),
             LC_TOKEN_MALFORMED);
    CHECK_ST(verify_now(kr, lc_token_mint_paseto(pool, sk, "not json", NULL)), LC_TOKEN_MALFORMED);
}

/* ---- key files ----------------------------------------------------------------------- */

static char tmpdir[64];

static const char *write_tmp(const char *name, const char *text)
{
    const char *path = apr_pstrcat(pool, tmpdir, "/", name, NULL);
    FILE *f = fopen(path, "w");

    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return path;
}

static const char *jwk_text(const unsigned char pk[32], const char *kid, const char *extra)
{
    return apr_psprintf(pool, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"%s%s%s%s}",
                        lc_b64url_encode(pool, pk, 32), kid ? ",\"kid\":\"" : "",
                        kid ? kid : "", kid ? "\"" : "", extra ? extra : "");
}

static void test_keyfiles(void)
{
    unsigned char pk[32], sk[64], pk2[32], sk2[64];
    char pub[64], pid[64], pid2[64];
    lc_keyring_t *kr;
    const char *err, *path, *claims;
    int i;

    crypto_sign_keypair(pk, sk);
    crypto_sign_keypair(pk2, sk2);
    lc_paserk_public_encode(pk, 32, pub, sizeof(pub));
    lc_paserk_pid(pk, pid);
    lc_paserk_pid(pk2, pid2);
    claims = jc("");

    /* PASERK, whitespace around it. */
    kr = lc_keyring_create(pool);
    path = write_tmp("a.pub", apr_pstrcat(pool, "  \n", pub, "\n\n", NULL));
    CHECK(lc_keyfile_load(kr, path, pool, &err) == APR_SUCCESS && err == NULL);
    CHECK(lc_keyring_count(kr) == 1);

    /* A PASERK with a 0xFF byte where its key has a '_' is refused
     * (libsodium alone reads 0x80-0xFF as '_', so the file would load). */
    {
        lc_keyring_t *kbad = lc_keyring_create(pool);
        unsigned char pk3[32], sk3[64];
        char pub3[64], *us;

        do {
            crypto_sign_keypair(pk3, sk3);
            lc_paserk_public_encode(pk3, 32, pub3, sizeof(pub3));
        } while (!(us = strchr(pub3 + 10, '_')));
        *us = (char)0xff;
        path = write_tmp("ff.pub", apr_pstrcat(pool, pub3, "\n", NULL));
        CHECK(lc_keyfile_load(kbad, path, pool, &err) != APR_SUCCESS && err != NULL);
        CHECK(lc_keyring_count(kbad) == 0);
    }
    CHECK_STR(lc_keyring_kid(kr, 0), "");
    CHECK_STR(lc_keyring_pid(kr, 0), pid);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, pid, claims)), LC_TOKEN_OK);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, NULL, claims)), LC_TOKEN_OK);
    CHECK_ST(verify_now(kr, lc_token_mint_paseto(pool, sk,
                        "{\"exp\":\"2030-01-01T00:00:00Z\"}",
                        apr_psprintf(pool, "{\"kid\":\"%s\"}", pid))), LC_TOKEN_OK);
    /* The same key again as a JWK with a kid: one key, two ids. */
    path = write_tmp("a.jwk", jwk_text(pk, "issuer-2025", ",\"use\":\"sig\",\"alg\":\"EdDSA\""));
    CHECK(lc_keyfile_load(kr, path, pool, &err) == APR_SUCCESS);
    CHECK(lc_keyring_count(kr) == 1);
    CHECK_STR(lc_keyring_kid(kr, 0), "issuer-2025");
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "issuer-2025", claims)), LC_TOKEN_OK);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, pid, claims)), LC_TOKEN_OK);
    /* A JWKS with two keys (rotation). */
    kr = lc_keyring_create(pool);
    path = write_tmp("two.jwks", apr_psprintf(pool, "{\"keys\":[%s,%s]}", jwk_text(pk, "old", NULL),
                                              jwk_text(pk2, "new", NULL)));
    CHECK(lc_keyfile_load(kr, path, pool, &err) == APR_SUCCESS);
    CHECK(lc_keyring_count(kr) == 2);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk, "old", claims)), LC_TOKEN_OK);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk2, "new", claims)), LC_TOKEN_OK);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk2, pid2, claims)), LC_TOKEN_OK);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk2, NULL, claims)), LC_TOKEN_OK);
    CHECK_ST(verify_now(kr, lc_token_mint_jwt(pool, sk2, "old", claims)), LC_TOKEN_BAD_SIGNATURE);

    /* Several PASERKs in one file. */
    {
        lc_keyring_t *k2 = lc_keyring_create(pool);
        char pub2[64];

        lc_paserk_public_encode(pk2, 32, pub2, sizeof(pub2));
        path = write_tmp("two.pub", apr_pstrcat(pool, pub, "\n", pub2, "\n", NULL));
        CHECK(lc_keyfile_load(k2, path, pool, &err) == APR_SUCCESS);
        CHECK(lc_keyring_count(k2) == 2);
        CHECK_STR(lc_keyring_pid(k2, 1), pid2);
        path = write_tmp("twobad.pub", apr_pstrcat(pool, pub, "\nk4.public.AAAA\n", NULL));
        k2 = lc_keyring_create(pool);
        CHECK(lc_keyfile_load(k2, path, pool, &err) != APR_SUCCESS);
        CHECK(lc_keyring_count(k2) == 0);
    }
    /* Refused, each with a reason; the ring is unchanged. */
    {
        static const struct { const char *name, *text, *reason; } bad[] = {
            { "garbage", "hello world\n", "not a key" },
            { "empty", " \n", "empty" },
            { "secret", "k4.secret.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA7aie8zrakLWKjqNAqbw1zZTIVdx3iQ6Y6wEihi1naKQ",
              "secret" },
            { "k3", "k3.public.AAAA", "k4.public" },
            { "pem", "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAHrnbu7wEfAP9cGBOAHHwmH4Wsot1ciXBHwBBXQ4gsaI=\n-----END PUBLIC KEY-----\n",
              "PEM" },
            { "padded", "k4.public.cHFyc3R1dnd4eXp7fH1-f4CBgoOEhYaHiImKi4yNjo8=", "k4.public" },
            { "short", "k4.public.cHFyc3R1dnd4eXp7fH1-f4CBgoOEhYaHiImKi4yNjo", "k4.public" },
            { "zero", "k4.public.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "usable" },
            { "json", "{\"kty\":\"OKP\",", "JSON" },
            { "dup", "{\"kty\":\"OKP\",\"kty\":\"OKP\"}", "JSON" },
            { "x25519", "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo\"}",
              "Ed25519" },
            { "ec", "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}",
              "OKP" },
            { "rsa", "{\"kty\":\"RSA\",\"n\":\"0vx7\",\"e\":\"AQAB\"}", "OKP" },
            { "nox", "{\"kty\":\"OKP\",\"crv\":\"Ed25519\"}", "x is not" },
            { "use", "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"use\":\"enc\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
              "use" },
            { "alg", "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"alg\":\"RS256\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
              "alg" },
            { "kidnum", "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":5,\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
              "kid" },
            { "private", "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"d\":\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
              "private" },
            { "nokeys", "{\"keys\":[]}", "keys" },
            { "keysobj", "{\"keys\":{}}", "keys" },
            { "mixed", "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"},"
                       "{\"kty\":\"RSA\",\"n\":\"0vx7\",\"e\":\"AQAB\"}]}", "keys[1]" },
            { "jwksprivate", "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"d\":\"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}",
              "private" },
        };
        for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
            err = NULL;
            path = write_tmp(bad[i].name, bad[i].text);
            CHECK(lc_keyfile_load(kr, path, pool, &err) != APR_SUCCESS);
            CHECK(err != NULL && strstr(err, path) != NULL && strstr(err, bad[i].reason) != NULL);
            CHECK(err == NULL || strchr(err, '\n') == NULL);
            if (err == NULL || strstr(err, bad[i].reason) == NULL) {
                fprintf(stderr, "  (%s: %s)\n", bad[i].name, err ? err : "no error");
            }
            CHECK(lc_keyring_count(kr) == 2);
        }
    }
    /* A kid that already names another key. */
    path = write_tmp("clash.jwk", jwk_text(pk2, "old", NULL));
    kr = lc_keyring_create(pool);
    CHECK(lc_keyfile_load(kr, write_tmp("old.jwk", jwk_text(pk, "old", NULL)), pool, &err)
          == APR_SUCCESS);
    CHECK(lc_keyfile_load(kr, path, pool, &err) != APR_SUCCESS && strstr(err, "another key"));
    CHECK(lc_keyring_count(kr) == 1);
    /* Missing file. */
    CHECK(lc_keyfile_load(kr, apr_pstrcat(pool, tmpdir, "/nope", NULL), pool, &err)
          != APR_SUCCESS && strstr(err, "cannot open"));
    /* Capacity. */
    kr = lc_keyring_create(pool);
    for (i = 0; i < LC_KEYRING_MAX; i++) {
        unsigned char p1[32], s1[64];

        crypto_sign_keypair(p1, s1);
        CHECK(lc_keyring_add_raw(kr, p1, NULL) == APR_SUCCESS);
    }
    CHECK(lc_keyring_count(kr) == LC_KEYRING_MAX);
    CHECK(lc_keyring_add_raw(kr, pk, NULL) == APR_ENOSPC);
    CHECK(lc_keyfile_load(kr, write_tmp("one.pub", pub), pool, &err) != APR_SUCCESS
          && strstr(err, "too many"));
}

/* ---- the CLI, end to end ------------------------------------------------------------------ */

static char *run(const char *cmd, int *status)
{
    FILE *f = popen(cmd, "r");
    char buf[16384];
    size_t n;

    if (f == NULL) {
        *status = -1;
        return apr_pstrdup(pool, "");
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    *status = pclose(f);
    while (n && buf[n - 1] == '\n') {
        buf[--n] = '\0';
    }
    return apr_pstrdup(pool, buf);
}

static void test_cli(void)
{
    const char *cli = getenv("LC_TOKEN_CLI") ? getenv("LC_TOKEN_CLI") : "build/lifecycle-token";
    const char *dir = apr_pstrcat(pool, tmpdir, "/keys", NULL), *err = NULL;
    lc_keyring_t *pubring = lc_keyring_create(pool), *jwkring = lc_keyring_create(pool);
    lc_token_policy_t pol;
    lc_token_claims_t c;
    struct stat st;
    char *out, *tok;
    int status;

    if (access(cli, X_OK) != 0) {
        fprintf(stderr, "FAIL: %s not built (make build/lifecycle-token)\n", cli);
        CHECK(0);
        return;
    }
    out = run(apr_psprintf(pool, "%s keygen --out %s --kid ci-key", cli, dir), &status);
    CHECK(status == 0 && strstr(out, "issuer.key") && strstr(out, "issuer.jwk"));
    CHECK(stat(apr_pstrcat(pool, dir, "/issuer.key", NULL), &st) == 0 && (st.st_mode & 0777) == 0600);
    run(apr_psprintf(pool, "%s keygen --out %s 2>/dev/null", cli, dir), &status);
    CHECK(status != 0);                                       /* no silent overwrite */
    CHECK(lc_keyfile_load(pubring, apr_pstrcat(pool, dir, "/issuer.pub", NULL), pool, &err)
          == APR_SUCCESS);
    CHECK(lc_keyfile_load(jwkring, apr_pstrcat(pool, dir, "/issuer.jwk", NULL), pool, &err)
          == APR_SUCCESS);
    CHECK(lc_keyfile_load(jwkring, apr_pstrcat(pool, dir, "/issuer.pub", NULL), pool, &err)
          == APR_SUCCESS && lc_keyring_count(jwkring) == 1);
    CHECK(lc_keyfile_load(jwkring, apr_pstrcat(pool, dir, "/issuer.key", NULL), pool, &err)
          != APR_SUCCESS);                                    /* the secret is not a LifecycleTokenKey */
    CHECK_STR(lc_keyring_kid(jwkring, 0), "ci-key");
    lc_token_policy_init(&pol, apr_time_now());
    pol.audience = "lc";
    pol.issuer = "me";

    tok = run(apr_psprintf(pool, "%s mint --key %s/issuer.key --scope 'workflow.read workflow.write' "
                           "--ttl 3600 --sub alice --aud lc --iss me --jti J1", cli, dir), &status);
    CHECK(status == 0 && strncmp(tok, "v4.public.", 10) == 0);
    CHECK_ST(verify(pubring, tok, &pol, &c), LC_TOKEN_OK);
    CHECK_STR(c.sub, "alice");
    CHECK_STR(c.jti, "J1");
    CHECK(c.nscopes == 2);
    CHECK_ST(verify(jwkring, tok, &pol, &c), LC_TOKEN_OK);

    tok = run(apr_psprintf(pool, "%s mint --key %s/issuer.key --scope 'a b' --ttl 60 --sub bob "
                           "--format jwt --aud lc --iss me --scp", cli, dir), &status);
    CHECK(status == 0 && strncmp(tok, "eyJ", 3) == 0);
    CHECK_ST(verify(pubring, tok, &pol, &c), LC_TOKEN_OK);
    CHECK(c.nscopes == 2 && strlen(c.jti) == 22);
    CHECK_ST(verify(jwkring, tok, &pol, &c), LC_TOKEN_OK);
    tok = run(apr_psprintf(pool, "%s mint --key %s/issuer.key --format jwt --kid ci-key --aud lc --iss me",
                           cli, dir), &status);
    CHECK_ST(verify(jwkring, tok, &pol, &c), LC_TOKEN_OK);
    CHECK_ST(verify(pubring, tok, &pol, &c), LC_TOKEN_UNKNOWN_KID);   /* .pub has no JWK kid */
    tok = run(apr_psprintf(pool, "%s mint --key %s/issuer.key --ttl -120 --aud lc --iss me", cli, dir),
              &status);
    CHECK_ST(verify(pubring, tok, &pol, &c), LC_TOKEN_EXPIRED);
    tok = run(apr_psprintf(pool, "%s mint --key %s/issuer.key --nbf 600 --aud lc --iss me", cli, dir),
              &status);
    CHECK_ST(verify(pubring, tok, &pol, &c), LC_TOKEN_NOT_YET_VALID);

    out = run(apr_psprintf(pool, "%s inspect '%s' 2>&1", cli, tok), &status);
    CHECK(status == 0 && strstr(out, "NOT verified") && strstr(out, "\"claims\""));
    run(apr_psprintf(pool, "%s mint --key %s/issuer.pub 2>/dev/null", cli, dir), &status);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1);     /* a public key cannot mint */
    run(apr_psprintf(pool, "%s 2>/dev/null", cli), &status);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 2);
    run(apr_psprintf(pool, "%s --help", cli), &status);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);    /* asked for: an answer */
    run(apr_psprintf(pool, "rm -rf '%s'", dir), &status);
}

int main(void)
{
    apr_initialize();
    if (sodium_init() < 0) {
        fprintf(stderr, "sodium_init failed\n");
        return 1;
    }
    apr_pool_create(&pool, NULL);
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/lc_token_XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    test_b64();
    test_pae();
    test_rfc3339();
    test_paseto_vectors();
    test_paserk_vectors();
    test_rfc8037();
    test_jwt();
    test_paseto();
    test_keyfiles();
    test_cli();
    {
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0) {
            fprintf(stderr, "warning: could not remove %s\n", tmpdir);
        }
    }
    apr_pool_destroy(pool);
    apr_terminate();
    return lc_test_done("test_token");
}
