/* lc_keyfile.c — PASERK k4.public, JWK and JWKS key files into a keyring.
 * Nothing here logs: errors are returned, as text for the configuration
 * error or the CLI's message. */
#include <string.h>
#include <sodium.h>
#include <jansson.h>
#include <apr_strings.h>
#include <apr_file_io.h>

#include "lc_b64.h"
#include "lc_json.h"
#include "lc_paserk.h"
#include "lc_keyfile.h"

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The members of a JWK that say what key it is: NULL when they fit an
 * Ed25519 signature key, else the reason. */
static const char *jwk_kind(json_t *j)
{
    json_t *v;

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
    return NULL;
}

/* A public JWK's key and kid (NULL when it has none): NULL, or the reason. */
static const char *jwk_parse(json_t *j, unsigned char pk[32], const char **kid,
                             apr_pool_t *p)
{
    json_t *v;
    size_t n = 0;
    const char *e;

    *kid = NULL;
    if ((e = jwk_kind(j)) != NULL) {
        return e;
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
        *kid = json_string_value(v);
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
        return lc_keyring_pk_usable(pk) ? "kid already names another key"
                                        : "not a usable Ed25519 public key";
    }
    return NULL;
}

static const char *jwk_add(lc_keyring_t *kr, json_t *jwk, apr_pool_t *p)
{
    unsigned char pk[32];
    const char *kid, *e;

    if ((e = jwk_parse(jwk, pk, &kid, p)) == NULL) {
        e = ring_add(kr, pk, kid);
    }
    sodium_memzero(pk, sizeof(pk));
    return e;
}

/* One PASERK, or several separated by whitespace (rotation). */
static const char *paserks_add(lc_keyring_t *kr, const char *text, size_t len)
{
    unsigned char pk[32];
    const char *e = NULL;
    size_t i = 0, j;

    while (i < len && e == NULL) {
        if (is_ws(text[i])) {
            i++;
            continue;
        }
        for (j = i; j < len && !is_ws(text[j]); j++)
            ;
        if (lc_paserk_public_decode(text + i, j - i, pk) != 0) {
            e = "not a valid PASERK k4.public key (32 bytes, base64url, no padding)";
        }
        else {
            e = ring_add(kr, pk, NULL);
        }
        i = j;
    }
    sodium_memzero(pk, sizeof(pk));
    return e;
}

static const char *jwks_add(lc_keyring_t *kr, json_t *keys, apr_pool_t *p)
{
    const char *e = NULL;
    json_t *k;
    size_t i;

    if (!json_is_array(keys) || json_array_size(keys) == 0) {
        return "JWKS \"keys\" is not a non-empty array";
    }
    json_array_foreach(keys, i, k) {
        if ((e = jwk_add(kr, k, p)) != NULL) {
            return apr_psprintf(p, "keys[%lu]: %s", (unsigned long)i, e);
        }
    }
    return NULL;
}

/* A JWK or a JWKS.  The text starts with '{', so lc_json_load's strict
 * parse (no duplicate names, nothing after the value) yields an object. */
static const char *json_add(lc_keyring_t *kr, const char *text, size_t len, apr_pool_t *p)
{
    json_t *j = lc_json_load(text, len, 0), *keys;
    const char *e;

    if (j == NULL) {
        return "not valid JSON (or duplicate member names)";
    }
    keys = json_object_get(j, "keys");
    e = keys ? jwks_add(kr, keys, p) : jwk_add(kr, j, p);
    json_decref(j);
    return e;
}

/* text (trimmed, len > 0) by what it starts with: NULL, or the reason. */
static const char *text_add(lc_keyring_t *kr, const char *text, size_t len, apr_pool_t *p)
{
    if (len >= 10 && memcmp(text, "k4.public.", 10) == 0) {
        return paserks_add(kr, text, len);
    }
    if ((len >= 10 && memcmp(text, "k4.secret.", 10) == 0)
        || (len >= 9 && memcmp(text, "k4.local.", 9) == 0)) {
        return "holds a secret key; LifecycleTokenKey takes a public key (k4.public or JWK)";
    }
    if (text[0] == 'k' && len > 1 && text[1] >= '0' && text[1] <= '9') {
        return "not a k4.public PASERK (other PASERK versions and types are not accepted)";
    }
    if (len >= 10 && memcmp(text, "-----BEGIN", 10) == 0) {
        return "PEM is not supported; use a PASERK k4.public or a JWK";
    }
    if (text[0] == '{') {
        return json_add(kr, text, len, p);
    }
    return "not a key: expected a PASERK k4.public string, a JWK or a JWKS";
}

apr_status_t lc_keyfile_load_string(lc_keyring_t *kr, const char *text,
                                    size_t len, const char *what,
                                    apr_pool_t *p, const char **err)
{
    lc_keyring_t *tmp;
    const char *e;

    *err = NULL;
    what = what ? what : "key";
    while (len && is_ws(text[len - 1])) {
        len--;
    }
    while (len && is_ws(*text)) {
        text++;
        len--;
    }
    /* Into a copy, so that a file with one bad key adds none. */
    tmp = lc_keyring_dup(p, kr);
    e = len ? text_add(tmp, text, len, p) : "empty";
    if (e) {
        *err = apr_psprintf(p, "%s: %s", what, e);
        return APR_EINVAL;
    }
    lc_keyring_copy(kr, tmp);
    return APR_SUCCESS;
}

/* The whole file in p, NUL-terminated, at most LC_KEYFILE_MAX bytes. */
static apr_status_t file_read(const char *path, char **buf, apr_size_t *n,
                              apr_pool_t *p, const char **err)
{
    apr_file_t *f;
    apr_status_t rv;
    char ebuf[128];
    apr_size_t got;

    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, APR_OS_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        *err = apr_psprintf(p, "%s: cannot open: %s", path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        return rv;
    }
    *buf = apr_palloc(p, LC_KEYFILE_MAX + 1);
    *n = 0;
    do {
        got = LC_KEYFILE_MAX + 1 - *n;
        rv = apr_file_read(f, *buf + *n, &got);
        *n += got;
    } while (rv == APR_SUCCESS && *n <= LC_KEYFILE_MAX);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        *err = apr_psprintf(p, "%s: cannot read: %s", path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
        return rv;
    }
    if (*n > LC_KEYFILE_MAX) {
        *err = apr_psprintf(p, "%s: too large for a key file (over %d bytes)", path,
                            LC_KEYFILE_MAX);
        return APR_EINVAL;
    }
    (*buf)[*n] = '\0';
    return APR_SUCCESS;
}

apr_status_t lc_keyfile_load(lc_keyring_t *kr, const char *path,
                             apr_pool_t *p, const char **err)
{
    apr_status_t rv;
    apr_size_t n;
    char *buf;

    *err = NULL;
    rv = file_read(path, &buf, &n, p, err);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (memchr(buf, '\0', n)) {
        *err = apr_psprintf(p, "%s: not a text file", path);
        return APR_EINVAL;
    }
    return lc_keyfile_load_string(kr, buf, n, path, p, err);
}
