/* lc_ws.h — RFC 6455 (WebSocket) handshake and framing, pure: no httpd, no
 * I/O (lc_ws.c).  The server side only: frames it sends are unmasked, the
 * frames it reads must be masked. */
#ifndef LC_WS_H
#define LC_WS_H

#include <stddef.h>
#include <stdint.h>

#define LC_WS_ACCEPT_LEN 28          /* base64 of a SHA-1: 28 characters */
#define LC_WS_HEADER_MAX 10          /* a server frame's header, at most */

enum {
    LC_WS_CONT = 0x0, LC_WS_TEXT = 0x1, LC_WS_BINARY = 0x2,
    LC_WS_CLOSE = 0x8, LC_WS_PING = 0x9, LC_WS_PONG = 0xA
};

/* Close codes (RFC 6455 §7.4.1). */
enum {
    LC_WS_NORMAL = 1000, LC_WS_GOING_AWAY = 1001, LC_WS_PROTOCOL = 1002,
    LC_WS_UNSUPPORTED = 1003, LC_WS_TOO_BIG = 1009, LC_WS_INTERNAL = 1011
};

/* One client frame's header, as lc_ws_parse read it. */
typedef struct lc_ws_frame {
    int           fin;
    int           opcode;
    uint64_t      len;               /* payload bytes */
    size_t        hdr;               /* header bytes (mask included) */
    unsigned char mask[4];
} lc_ws_frame_t;

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key GUID)).
 * 0, or -1 when the key is not the base64 of 16 bytes (§4.2.1 item 5). */
int lc_ws_accept(const char *key, char out[LC_WS_ACCEPT_LEN + 1]);

/* The header of an unmasked server frame (FIN set) of `len` payload bytes;
 * its length. */
size_t lc_ws_header(unsigned char out[LC_WS_HEADER_MAX], int opcode, uint64_t len);

/* Read a client frame's header from buf[0..n): the whole frame's length when
 * buf holds all of it, 0 when more bytes are needed, or minus the close
 * code the frame earns: -1002 (unmasked, reserved bits or opcode, a control
 * frame fragmented or over 125 bytes), -1009 (payload over max). */
long lc_ws_parse(const unsigned char *buf, size_t n, uint64_t max, lc_ws_frame_t *f);

/* Unmask a payload in place. */
void lc_ws_unmask(unsigned char *p, size_t n, const unsigned char mask[4]);

/* Whether a close frame's payload is valid (§5.5.1, §7.4): empty, or a code
 * an endpoint may send and a UTF-8 reason.  *code gets it (1000 if none). */
int lc_ws_close_payload(const unsigned char *p, size_t n, unsigned *code);

#endif
