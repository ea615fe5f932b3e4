/* lc_ws.c — RFC 6455 handshake and framing (lc_ws.h).  Pure: apr-util's
 * SHA-1 and libsodium's base64, bytes in and out, nothing kept. */
#include <string.h>
#include <sodium.h>
#include <apr_sha1.h>

#include "lc_ws.h"
#include "lc_util.h"

#define LC_WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define LC_WS_KEY_LEN 24             /* base64 of 16 bytes, with its padding */

int lc_ws_accept(const char *key, char out[LC_WS_ACCEPT_LEN + 1])
{
    unsigned char raw[16], digest[APR_SHA1_DIGESTSIZE];
    apr_sha1_ctx_t ctx;
    size_t got = 0;
    const char *end = NULL;

    /* The key is standard base64 with padding (RFC 4648 §4), 16 bytes. */
    if (!key || strlen(key) != LC_WS_KEY_LEN
        || sodium_base642bin(raw, sizeof(raw), key, LC_WS_KEY_LEN, NULL, &got, &end,
                             sodium_base64_VARIANT_ORIGINAL) != 0
        || got != sizeof(raw) || end != key + LC_WS_KEY_LEN) {
        return -1;
    }
    apr_sha1_init(&ctx);
    apr_sha1_update(&ctx, key, LC_WS_KEY_LEN);
    apr_sha1_update(&ctx, LC_WS_GUID, sizeof(LC_WS_GUID) - 1);
    apr_sha1_final(digest, &ctx);
    sodium_bin2base64(out, LC_WS_ACCEPT_LEN + 1, digest, sizeof(digest),
                      sodium_base64_VARIANT_ORIGINAL);
    return 0;
}

size_t lc_ws_header(unsigned char out[LC_WS_HEADER_MAX], int opcode, uint64_t len)
{
    size_t i;

    out[0] = (unsigned char)(0x80 | (opcode & 0x0F));
    if (len < 126) {
        out[1] = (unsigned char)len;
        return 2;
    }
    if (len <= 0xFFFF) {
        out[1] = 126;
        out[2] = (unsigned char)(len >> 8);
        out[3] = (unsigned char)len;
        return 4;
    }
    out[1] = 127;
    for (i = 0; i < 8; i++) {
        out[2 + i] = (unsigned char)(len >> (56 - 8 * i));
    }
    return 10;
}

static int is_control(int opcode)
{
    return opcode & 0x8;
}

static int known_opcode(int op)
{
    return op == LC_WS_CONT || op == LC_WS_TEXT || op == LC_WS_BINARY || op == LC_WS_CLOSE
           || op == LC_WS_PING || op == LC_WS_PONG;
}

long lc_ws_parse(const unsigned char *buf, size_t n, uint64_t max, lc_ws_frame_t *f)
{
    size_t need = 2, i;
    unsigned len7;

    if (n < 2) {
        return 0;
    }
    f->fin = (buf[0] & 0x80) != 0;
    f->opcode = buf[0] & 0x0F;
    len7 = buf[1] & 0x7F;
    /* No extension was negotiated: reserved bits set are a protocol error,
     * and so is a client frame without a mask (§5.1). */
    if ((buf[0] & 0x70) || !known_opcode(f->opcode) || !(buf[1] & 0x80)) {
        return -LC_WS_PROTOCOL;
    }
    if (is_control(f->opcode) && (!f->fin || len7 > 125)) {
        return -LC_WS_PROTOCOL;          /* §5.5: short and never fragmented */
    }
    need += len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
    if (n < need + 4) {
        return 0;
    }
    if (len7 < 126) {
        f->len = len7;
    }
    else {
        for (f->len = 0, i = 2; i < need; i++) {
            f->len = (f->len << 8) | buf[i];
        }
        if (len7 == 127 && (f->len >> 63)) {
            return -LC_WS_PROTOCOL;      /* §5.2: the most significant bit is 0 */
        }
    }
    if (f->len > max) {
        return -LC_WS_TOO_BIG;
    }
    memcpy(f->mask, buf + need, 4);
    f->hdr = need + 4;
    return n - f->hdr >= f->len ? (long)(f->hdr + f->len) : 0;
}

void lc_ws_unmask(unsigned char *p, size_t n, const unsigned char mask[4])
{
    size_t i;

    for (i = 0; i < n; i++) {
        p[i] ^= mask[i & 3];
    }
}

/* §7.4.2: codes an endpoint may put in a close frame. */
static int sendable_code(unsigned code)
{
    if (code >= 3000 && code <= 4999) {
        return 1;                        /* registered and private use */
    }
    return code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006;
}

int lc_ws_close_payload(const unsigned char *p, size_t n, unsigned *code)
{
    *code = LC_WS_NORMAL;
    if (n == 0) {
        return 1;
    }
    if (n == 1) {
        return 0;
    }
    *code = ((unsigned)p[0] << 8) | p[1];
    return sendable_code(*code) && lc_utf8_valid((const char *)p + 2, n - 2);
}
