/* lc_paserk.c — PASERK k4 encodings of Ed25519 keys and their ids. */
#include <string.h>
#include <sodium.h>

#include "lc_b64.h"
#include "lc_paserk.h"

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

int lc_paserk_is_key(const char *s)
{
    const char *p = s;

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
