/* lifecycle-token — keys and tokens for mod_lifecycle.
 *
 *   lifecycle-token keygen [--out DIR] [--kid ID] [--force]
 *   lifecycle-token mint --key FILE [--scope "a b"] [--ttl SECONDS] [--sub NAME]
 *                        [--format paseto|jwt] [--kid ID] [--aud A]... [--iss I]
 *                        [--jti J] [--scp] [--nbf SECONDS] [--now EPOCH]
 *                        [--claim NAME=VALUE]...
 *   lifecycle-token inspect TOKEN|-
 *
 * --help (also after a subcommand) prints the usage and exits 0; errors go
 * to stderr with exit status 1; usage errors exit 2.  Manual: lifecycle-token.1. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

#include <sodium.h>
#include <jansson.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_time.h>

#include "lc_b64.h"
#include "lc_json.h"
#include "lc_time.h"
#include "lc_paserk.h"
#include "lc_token.h"
#include "lc_token_mint.h"
#include "lc_version.h"

static const char *prog = "lifecycle-token";

static void usage(FILE *f)
{
    fprintf(f,
        "%s: keys and bearer tokens (PASETO v4.public, JWT EdDSA) for mod_lifecycle\n"
        "usage:\n"
        "  %s keygen [--out DIR] [--kid ID] [--force]\n"
        "      writes DIR/issuer.key (secret, PASERK k4.secret, mode 0600),\n"
        "      DIR/issuer.pub (PASERK k4.public) and DIR/issuer.jwk (JWK);\n"
        "      the default kid is the key's PASERK id (k4.pid.)\n"
        "  %s mint --key FILE [--scope \"a b\"] [--ttl SECONDS] [--sub NAME]\n"
        "      [--format paseto|jwt] [--kid ID] [--aud A]... [--iss I] [--jti J]\n"
        "      [--scp] [--nbf SECONDS] [--now EPOCH] [--claim NAME=VALUE]...\n"
        "      prints one token (default PASETO v4.public; --ttl default 3600;\n"
        "      --scp writes the scopes as an \"scp\" array instead of \"scope\";\n"
        "      --nbf is relative to now; --claim VALUE is JSON, or else a string)\n"
        "  %s inspect TOKEN|-\n"
        "      prints the header or footer and the claims, signature NOT verified\n"
        "  %s --help\n"
        "      this text (also after a subcommand); the manual: man lifecycle-token\n"
        "  %s --version\n"
        "      the version (mod_lifecycle's: one VERSION for both)\n",
        prog, prog, prog, prog, prog, prog);
}

static int is_help(const char *a)
{
    return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "help") == 0;
}

/* Asked for, the usage is an answer (stdout, 0); after a mistake it goes
 * to stderr with 2 (see main). */
static int wants_help(int argc, const char *const *argv)
{
    return (argc >= 2 && is_help(argv[1]))
           || (argc >= 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0));
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int fail(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

/* ---- keygen ---------------------------------------------------------------- */

static int write_file(const char *path, const char *text, mode_t mode, int force)
{
    int fd, flags = O_WRONLY | O_CREAT | (force ? O_TRUNC : O_EXCL);
    size_t len = strlen(text), off = 0;

    fd = open(path, flags, mode);
    if (fd < 0) {
        if (errno == EEXIST) {
            return fail("%s exists (use --force to overwrite)", path);
        }
        return fail("cannot create %s: %s", path, strerror(errno));
    }
    if (fchmod(fd, mode) != 0) {
        close(fd);
        return fail("cannot chmod %s: %s", path, strerror(errno));
    }
    while (off < len) {
        ssize_t n = write(fd, text + off, len - off);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            close(fd);
            return fail("cannot write %s: %s", path, strerror(errno));
        }
        off += (size_t)n;
    }
    if (close(fd) != 0) {
        return fail("cannot write %s: %s", path, strerror(errno));
    }
    return 0;
}

static int cmd_keygen(apr_pool_t *p, int argc, const char *const *argv)
{
    const char *dir = ".", *kid = NULL, *kpath, *ppath, *jpath;
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    char secret[LC_PASERK_SECRET_LEN + 1], pub[LC_PASERK_PUBLIC_LEN + 1];
    char pid[LC_PASERK_PID_LEN + 1], *jwks;
    json_t *jwk;
    int i, force = 0, rc;
    apr_status_t rv;

    for (i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            dir = argv[++i];
        }
        else if (strcmp(argv[i], "--kid") == 0 && i + 1 < argc) {
            kid = argv[++i];
        }
        else if (strcmp(argv[i], "--force") == 0) {
            force = 1;
        }
        else {
            usage(stderr);
            return 2;
        }
    }
    if (kid && (kid[0] == '\0' || strlen(kid) > LC_KID_MAX)) {
        return fail("--kid must be 1 to 127 bytes");
    }
    rv = apr_dir_make_recursive(dir, APR_FPROT_OS_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        char eb[128];

        return fail("cannot create directory %s: %s", dir, apr_strerror(rv, eb, sizeof(eb)));
    }
    kpath = apr_pstrcat(p, dir, "/issuer.key", NULL);
    ppath = apr_pstrcat(p, dir, "/issuer.pub", NULL);
    jpath = apr_pstrcat(p, dir, "/issuer.jwk", NULL);

    if (!force) {
        const char *const paths[3] = { kpath, ppath, jpath };

        for (i = 0; i < 3; i++) {
            if (access(paths[i], F_OK) == 0) {
                return fail("%s exists (use --force to overwrite)", paths[i]);
            }
        }
    }
    crypto_sign_keypair(pk, sk);
    lc_paserk_secret_encode(sk, sizeof(sk), secret, sizeof(secret));
    lc_paserk_public_encode(pk, sizeof(pk), pub, sizeof(pub));
    lc_paserk_pid(pk, pid);
    jwk = json_object();
    json_object_set_new(jwk, "kty", json_string("OKP"));
    json_object_set_new(jwk, "crv", json_string("Ed25519"));
    json_object_set_new(jwk, "x", json_string(lc_b64url_encode(p, pk, sizeof(pk))));
    json_object_set_new(jwk, "kid", json_string(kid ? kid : pid));
    json_object_set_new(jwk, "use", json_string("sig"));
    json_object_set_new(jwk, "alg", json_string("EdDSA"));
    jwks = lc_json_dump(p, jwk, JSON_INDENT(2) | JSON_PRESERVE_ORDER, NULL);
    json_decref(jwk);

    rc = write_file(kpath, apr_pstrcat(p, secret, "\n", NULL), 0600, force);
    sodium_memzero(sk, sizeof(sk));
    sodium_memzero(secret, sizeof(secret));
    if (rc == 0) {
        rc = write_file(ppath, apr_pstrcat(p, pub, "\n", NULL), 0644, force);
    }
    if (rc == 0) {
        rc = write_file(jpath, apr_pstrcat(p, jwks, "\n", NULL), 0644, force);
    }
    if (rc != 0) {
        return rc;
    }
    printf("%s\n%s\n%s\n", kpath, ppath, jpath);
    return 0;
}

/* ---- mint ------------------------------------------------------------------- */

/* A secret key file: PASERK k4.secret, or a private JWK (OKP/Ed25519 with d). */
static int load_secret(apr_pool_t *p, const char *path, unsigned char sk[64])
{
    char *text = NULL;
    apr_size_t len;
    apr_file_t *f;
    apr_finfo_t fi;
    char eb[128];
    apr_status_t rv;
    int rc = 1;

    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, APR_OS_DEFAULT, p);
    if (rv == APR_SUCCESS) {
        rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
        if (rv == APR_SUCCESS && fi.size > 65536) {
            apr_file_close(f);
            return fail("%s: too large for a key file", path);
        }
        if (rv == APR_SUCCESS) {
            len = (apr_size_t)fi.size;
            text = apr_pcalloc(p, len + 1);
            rv = len ? apr_file_read_full(f, text, len, &len) : APR_SUCCESS;
        }
        apr_file_close(f);
    }
    if (rv != APR_SUCCESS) {
        return fail("cannot read %s: %s", path, apr_strerror(rv, eb, sizeof(eb)));
    }
    while (len && text[len - 1] && strchr(" \t\r\n", text[len - 1])) {
        text[--len] = '\0';
    }
    while (*text && strchr(" \t\r\n", *text)) {
        text++;
        len--;
    }
    if (strncmp(text, "k4.secret.", 10) == 0) {
        if (lc_paserk_secret_decode(text, len, sk) == 0) {
            rc = 0;
        }
        else {
            fail("%s: not a valid PASERK k4.secret key", path);
        }
    }
    else if (text[0] == '{') {
        json_t *j = lc_json_parse(p, text, len, 0, NULL);
        json_t *d = j ? json_object_get(j, "d") : NULL, *x = j ? json_object_get(j, "x") : NULL;
        json_t *kty = j ? json_object_get(j, "kty") : NULL, *crv = j ? json_object_get(j, "crv") : NULL;
        unsigned char seed[32], pk[32], xb[32];
        size_t n1 = 0, n2 = 0;

        if (!json_is_object(j) || !json_is_string(kty) || !json_is_string(crv)
            || strcmp(json_string_value(kty), "OKP") != 0
            || strcmp(json_string_value(crv), "Ed25519") != 0) {
            fail("%s: not an Ed25519 (OKP) JWK", path);
        }
        else if (!json_is_string(d)) {
            fail("%s: a public key; mint needs the secret key (issuer.key)", path);
        }
        else if (lc_b64url_decode(seed, sizeof(seed), json_string_value(d),
                                  json_string_length(d), &n1) != 0 || n1 != 32
                 || !json_is_string(x)
                 || lc_b64url_decode(xb, sizeof(xb), json_string_value(x),
                                     json_string_length(x), &n2) != 0 || n2 != 32) {
            fail("%s: JWK \"d\" and \"x\" must be base64url 32-byte values", path);
        }
        else {
            crypto_sign_seed_keypair(pk, sk, seed);
            if (memcmp(pk, xb, 32) != 0) {
                sodium_memzero(sk, 64);
                fail("%s: JWK \"x\" does not match \"d\"", path);
            }
            else {
                rc = 0;
            }
        }
        sodium_memzero(seed, sizeof(seed));
    }
    else if (strncmp(text, "k4.public.", 10) == 0) {
        fail("%s: a public key; mint needs the secret key (issuer.key)", path);
    }
    else {
        fail("%s: not a key (expected PASERK k4.secret or a private JWK)", path);
    }
    sodium_memzero(text, len);
    return rc;
}

static int parse_long(const char *s, long long *v)
{
    char *end;

    errno = 0;
    *v = strtoll(s, &end, 10);
    return (errno || end == s || *end) ? -1 : 0;
}

static json_t *time_claim(apr_time_t t, int paseto)
{
    char buf[LC_TIME_TEXT_MAX];

    if (paseto) {
        return json_string(lc_time_rfc3339_sec(buf, t));
    }
    return json_integer((json_int_t)apr_time_sec(t));
}

static int cmd_mint(apr_pool_t *p, int argc, const char *const *argv)
{
    const char *key = NULL, *scope = NULL, *sub = NULL, *format = "paseto";
    const char *kid = NULL, *iss = NULL, *jti = NULL;
    long long ttl = 3600, nbf = 0, nowsec = 0;
    int has_nbf = 0, has_now = 0, scp = 0, paseto, i;
    /* The pool's, so that early returns leak nothing. */
    json_t *aud = lc_json_pool_own(p, json_array()), *extra = lc_json_pool_own(p, json_object());
    json_t *c;
    unsigned char sk[64], pk[32];
    char pid[LC_PASERK_PID_LEN + 1], *claims, *tok;
    apr_time_t now;

    for (i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "--scp") == 0) {
            scp = 1;
            continue;
        }
        if (v == NULL || strncmp(a, "--", 2) != 0) {
            usage(stderr);
            return 2;
        }
        i++;
        if (strcmp(a, "--key") == 0)         key = v;
        else if (strcmp(a, "--scope") == 0)  scope = v;
        else if (strcmp(a, "--sub") == 0)    sub = v;
        else if (strcmp(a, "--format") == 0) format = v;
        else if (strcmp(a, "--kid") == 0)    kid = v;
        else if (strcmp(a, "--iss") == 0)    iss = v;
        else if (strcmp(a, "--jti") == 0)    jti = v;
        else if (strcmp(a, "--aud") == 0)    json_array_append_new(aud, json_string(v));
        else if (strcmp(a, "--ttl") == 0) {
            if (parse_long(v, &ttl) != 0) {
                return fail("--ttl: not a number of seconds: %s", v);
            }
        }
        else if (strcmp(a, "--nbf") == 0) {
            if (parse_long(v, &nbf) != 0) {
                return fail("--nbf: not a number of seconds: %s", v);
            }
            has_nbf = 1;
        }
        else if (strcmp(a, "--now") == 0) {
            if (parse_long(v, &nowsec) != 0 || nowsec < 0) {
                return fail("--now: not a Unix time: %s", v);
            }
            has_now = 1;
        }
        else if (strcmp(a, "--claim") == 0) {
            const char *eq = strchr(v, '=');
            json_t *val;

            if (eq == NULL || eq == v) {
                return fail("--claim wants NAME=VALUE: %s", v);
            }
            /* A JSON value, else the text as a string. */
            val = lc_json_load(eq + 1, strlen(eq + 1), LC_JSON_ANY_VALUE | LC_JSON_LAST_WINS);
            if (val == NULL) {
                val = json_string(eq + 1);
            }
            json_object_set_new(extra, apr_pstrndup(p, v, (apr_size_t)(eq - v)), val);
        }
        else {
            usage(stderr);
            return 2;
        }
    }
    if (key == NULL) {
        usage(stderr);
        return 2;
    }
    if (strcmp(format, "paseto") != 0 && strcmp(format, "jwt") != 0) {
        return fail("--format must be paseto or jwt, not %s", format);
    }
    if (kid && (kid[0] == '\0' || strlen(kid) > LC_KID_MAX)) {
        return fail("--kid must be 1 to 127 bytes");
    }
    paseto = strcmp(format, "paseto") == 0;
    if (load_secret(p, key, sk) != 0) {
        return 1;
    }
    memcpy(pk, sk + 32, 32);
    lc_paserk_pid(pk, pid);
    now = has_now ? apr_time_from_sec(nowsec) : apr_time_now();
    now = apr_time_from_sec(apr_time_sec(now));

    c = json_object();
    if (iss) {
        json_object_set_new(c, "iss", json_string(iss));
    }
    if (sub) {
        json_object_set_new(c, "sub", json_string(sub));
    }
    if (json_array_size(aud) == 1) {
        json_object_set(c, "aud", json_array_get(aud, 0));
    }
    else if (json_array_size(aud) > 1) {
        json_object_set(c, "aud", aud);
    }
    json_object_set_new(c, "iat", time_claim(now, paseto));
    if (has_nbf) {
        json_object_set_new(c, "nbf", time_claim(now + apr_time_from_sec(nbf), paseto));
    }
    json_object_set_new(c, "exp", time_claim(now + apr_time_from_sec(ttl), paseto));
    if (jti == NULL) {
        unsigned char r[16];

        randombytes_buf(r, sizeof(r));
        jti = lc_b64url_encode(p, r, sizeof(r));
    }
    json_object_set_new(c, "jti", json_string(jti));
    if (scope) {
        if (scp) {
            json_t *arr = json_array();
            char *last, *s = apr_pstrdup(p, scope), *t;

            for (t = apr_strtok(s, " ", &last); t; t = apr_strtok(NULL, " ", &last)) {
                json_array_append_new(arr, json_string(t));
            }
            json_object_set_new(c, "scp", arr);
        }
        else {
            json_object_set_new(c, "scope", json_string(scope));
        }
    }
    json_object_update(c, extra);
    claims = lc_json_dump(p, c, JSON_COMPACT | JSON_PRESERVE_ORDER, NULL);
    json_decref(c);
    if (claims == NULL) {
        sodium_memzero(sk, sizeof(sk));
        return fail("cannot encode the claims (invalid UTF-8?)");
    }
    {
        /* Catch what the module would refuse as malformed (sub/jti/scope
         * lengths and characters); time and audience are the caller's. */
        lc_token_policy_t pol;

        lc_token_policy_init(&pol, now);
        if (lc_token_check_claims(claims, strlen(claims), paseto, &pol, NULL)
            == LC_TOKEN_MALFORMED) {
            fprintf(stderr, "%s: warning: the module will refuse these claims as malformed "
                    "(sub <= 63 bytes, jti <= 127, at most %d scopes of <= %d printable "
                    "ASCII bytes)\n", prog, LC_TOKEN_SCOPES_MAX, LC_TOKEN_SCOPE_LEN_MAX);
        }
    }
    if (paseto) {
        json_t *f = json_object();
        char *footer;

        json_object_set_new(f, "kid", json_string(kid ? kid : pid));
        footer = lc_json_dump(p, f, JSON_COMPACT, NULL);
        json_decref(f);
        tok = lc_token_mint_paseto(p, sk, claims, footer);
    }
    else {
        tok = lc_token_mint_jwt(p, sk, kid ? kid : pid, claims);
    }
    sodium_memzero(sk, sizeof(sk));
    if (tok == NULL) {
        return fail("cannot mint the token");
    }
    if (strlen(tok) > LC_TOKEN_MAX) {
        fprintf(stderr, "%s: warning: token longer than %d bytes; the module refuses it\n",
                prog, LC_TOKEN_MAX);
    }
    printf("%s\n", tok);
    return 0;
}

/* ---- inspect ------------------------------------------------------------------ */

/* JSON if it parses (any value; duplicate names shown as jansson keeps
 * them, the last), else a string, else base64url.  A new reference. */
static json_t *as_json(apr_pool_t *p, const unsigned char *b, size_t n)
{
    json_t *j = lc_json_load((const char *)b, n, LC_JSON_ANY_VALUE | LC_JSON_LAST_WINS);

    if (j) {
        return j;
    }
    j = json_stringn((const char *)b, n);
    if (j) {
        return j;
    }
    return json_pack("{s:s}", "base64url", lc_b64url_encode(p, b, n));
}

static int cmd_inspect(apr_pool_t *p, const char *tok)
{
    char line[LC_TOKEN_MAX * 2 + 2];
    size_t len, n1 = 0, n2 = 0;
    unsigned char *b1, *b2;
    const char *d1, *d2;
    json_t *out;
    char *s;

    if (strcmp(tok, "-") == 0) {
        if (fgets(line, sizeof(line), stdin) == NULL) {
            return fail("no token on standard input");
        }
        tok = line;
    }
    len = strlen(tok);
    while (len && tok[len - 1] && strchr(" \t\r\n", tok[len - 1])) {
        len--;
    }
    if (len > 7 && strncmp(tok, "Bearer ", 7) == 0) {
        tok += 7;
        len -= 7;
    }
    if (len == 0) {
        return fail("empty token");
    }
    b1 = apr_palloc(p, len + 1);
    b2 = apr_palloc(p, len + 1);
    out = json_object();
    if (tok[0] == 'v' && len > 1 && tok[1] >= '0' && tok[1] <= '9') {
        const char *body, *dot;

        if (len < 10 || strncmp(tok, "v4.public.", 10) != 0) {
            json_decref(out);
            d1 = memchr(tok, '.', len);
            d2 = d1 ? memchr(d1 + 1, '.', (size_t)(tok + len - d1 - 1)) : NULL;
            return fail("a PASETO %s token: only v4.public can be inspected",
                        apr_pstrndup(p, tok, d2 ? (apr_size_t)(d2 - tok) : len));
        }
        body = tok + 10;
        dot = memchr(body, '.', (size_t)(tok + len - body));
        if (lc_b64url_decode(b1, len, body, (size_t)((dot ? dot : tok + len) - body), &n1) != 0
            || n1 < 64
            || (dot && lc_b64url_decode(b2, len, dot + 1, (size_t)(tok + len - dot - 1), &n2) != 0)) {
            json_decref(out);
            return fail("malformed PASETO v4.public token");
        }
        json_object_set_new(out, "format", json_string("paseto v4.public"));
        json_object_set_new(out, "signature", json_string("NOT verified"));
        json_object_set_new(out, "footer", n2 ? as_json(p, b2, n2) : json_string(""));
        json_object_set_new(out, "claims", as_json(p, b1, n1 - 64));
    }
    else {
        d1 = memchr(tok, '.', len);
        d2 = d1 ? memchr(d1 + 1, '.', (size_t)(tok + len - d1 - 1)) : NULL;
        if (d2 == NULL || memchr(d2 + 1, '.', (size_t)(tok + len - d2 - 1))
            || lc_b64url_decode(b1, len, tok, (size_t)(d1 - tok), &n1) != 0
            || lc_b64url_decode(b2, len, d1 + 1, (size_t)(d2 - d1 - 1), &n2) != 0) {
            json_decref(out);
            return fail("not a PASETO v4.public token nor a compact JWT (3 base64url parts)");
        }
        json_object_set_new(out, "format", json_string("jwt"));
        json_object_set_new(out, "signature", json_string("NOT verified"));
        json_object_set_new(out, "header", as_json(p, b1, n1));
        json_object_set_new(out, "claims", as_json(p, b2, n2));
    }
    s = lc_json_dump(p, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER, NULL);
    json_decref(out);
    if (s == NULL) {
        return fail("cannot print the token");
    }
    printf("%s\n", s);
    fprintf(stderr, "%s: signature NOT verified\n", prog);
    return 0;
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    int rc;

    if (wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("%s %s\n", prog, LC_VERSION_STRING);
        return 0;
    }
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (apr_app_initialize(&argc, &argv, NULL) != APR_SUCCESS || sodium_init() < 0) {
        fprintf(stderr, "%s: cannot initialise APR or libsodium\n", prog);
        return 1;
    }
    apr_pool_create(&p, NULL);
    if (strcmp(argv[1], "keygen") == 0) {
        rc = cmd_keygen(p, argc - 2, argv + 2);
    }
    else if (strcmp(argv[1], "mint") == 0) {
        rc = cmd_mint(p, argc - 2, argv + 2);
    }
    else if (strcmp(argv[1], "inspect") == 0) {
        if (argc != 3) {
            usage(stderr);
            rc = 2;
        }
        else {
            rc = cmd_inspect(p, argv[2]);
        }
    }
    else {
        usage(stderr);
        rc = 2;
    }
    apr_pool_destroy(p);
    apr_terminate();
    return rc;
}
