/* lc_record.c — one change as bytes: the journal's and the snapshots' record.
 *
 * A record is a fixed 80-byte head (sequence number, operation, the
 * resource's small fields and string lengths), the resource's strings (id,
 * owner, attributes, aliases) and a 16-byte checksum over all of it.  It is
 * self-delimiting and self-checking, so a reader can tell a whole record
 * from a torn or damaged one without any other context.
 */
#include <string.h>
#include <sodium.h>

#include "lc_record.h"

/* A record's checksum.  It guards against torn and corrupt writes, not
 * forgery (the journal is the server's own file), so LCJ2 uses SipHash-2-4
 * with a fixed key, which replays 1,000,000 records several times faster
 * than BLAKE2b; LCJ1 records, written before, keep BLAKE2b. */
static void rec_sum(unsigned char *out, const unsigned char *b, apr_size_t n, uint32_t magic)
{
    static const unsigned char key[crypto_shorthash_siphashx24_KEYBYTES] = "lifecycle-record";

    if (magic == REC_MAGIC_V1) {
        crypto_generichash(out, REC_HASH, b, n, NULL, 0);
    }
    else {
        crypto_shorthash_siphashx24(out, b, n, key);
    }
}

/* Whether the checksum at the end of the n-byte record at b holds. */
static int sum_holds(const unsigned char *b, apr_size_t n)
{
    unsigned char h[REC_HASH];

    rec_sum(h, b, n - REC_HASH, get32(b));
    return sodium_memcmp(h, b + n - REC_HASH, REC_HASH) == 0;
}

apr_size_t lc_record_encode(unsigned char *b, uint64_t seq, int op, const lc_resource_t *r)
{
    size_t idl = strnlen(r->id, LC_ID_MAX), owl = strnlen(r->owner, LC_OWNER_MAX);
    size_t dl = strnlen(r->data, LC_DATA_MAX);
    size_t a0 = strnlen(r->alias[0], LC_ALIAS_MAX), a1 = strnlen(r->alias[1], LC_ALIAS_MAX);
    apr_size_t len = REC_HEAD + idl + owl + dl + a0 + a1 + REC_HASH;

    put32(b, REC_MAGIC);
    put32(b + 4, (uint32_t)len);
    put64(b + 8, seq);
    b[16] = (unsigned char)op;      b[17] = r->kind;
    b[18] = r->state;               b[19] = r->desired;
    b[20] = r->res_state;           b[21] = r->res_desired;
    b[22] = r->due_class;           b[23] = (unsigned char)idl;
    b[24] = (unsigned char)owl;     b[25] = (unsigned char)a0;
    b[26] = (unsigned char)(dl & 0xff); b[27] = (unsigned char)(dl >> 8);
    put32(b + 28, (uint32_t)a1);    /* zero in records older than aliases */
    put64(b + 32, r->version);
    put64(b + 40, r->ckpt_seq);
    put64(b + 48, (uint64_t)r->created);
    put64(b + 56, (uint64_t)r->state_since);
    put64(b + 64, (uint64_t)r->closed);
    put64(b + 72, (uint64_t)r->due);
    memcpy(b + REC_HEAD, r->id, idl);
    memcpy(b + REC_HEAD + idl, r->owner, owl);
    memcpy(b + REC_HEAD + idl + owl, r->data, dl);
    memcpy(b + REC_HEAD + idl + owl + dl, r->alias[0], a0);
    memcpy(b + REC_HEAD + idl + owl + dl + a0, r->alias[1], a1);
    rec_sum(b + len - REC_HASH, b, len - REC_HASH, REC_MAGIC);
    return len;
}

static void get_str(char *dst, const unsigned char *src, size_t len)
{
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* check: whether to verify the checksum (0: lc_record_check already did). */
static int decode(const unsigned char *b, apr_size_t avail, lc_change_t *c, apr_size_t *len,
                  int check)
{
    apr_size_t n;
    size_t idl, owl, dl, a0, a1;

    if (avail < REC_HEAD + REC_HASH
        || (get32(b) != REC_MAGIC && get32(b) != REC_MAGIC_V1)) {
        return 0;
    }
    n = get32(b + 4);
    idl = b[23];
    owl = b[24];
    dl = (size_t)b[26] | ((size_t)b[27] << 8);
    a0 = b[25];
    a1 = get32(b + 28);
    if (n > avail || n > LC_RECORD_MAX || idl == 0 || idl > LC_ID_MAX || owl > LC_OWNER_MAX
        || dl > LC_DATA_MAX || a0 > LC_ALIAS_MAX || a1 > LC_ALIAS_MAX
        || n != REC_HEAD + idl + owl + dl + a0 + a1 + REC_HASH) {
        return 0;
    }
    if (check && !sum_holds(b, n)) {
        return 0;
    }
    /* Every field is set below: no clearing of the (large) record first. */
    c->seq = get64(b + 8);
    c->op = b[16];
    c->r.kind = b[17];          c->r.state = b[18];
    c->r.desired = b[19];       c->r.res_state = b[20];
    c->r.res_desired = b[21];   c->r.due_class = b[22];
    c->r.version = get64(b + 32);
    c->r.ckpt_seq = get64(b + 40);
    c->r.created = (apr_time_t)get64(b + 48);
    c->r.state_since = (apr_time_t)get64(b + 56);
    c->r.closed = (apr_time_t)get64(b + 64);
    c->r.due = (apr_time_t)get64(b + 72);
    c->r.seq = c->seq;
    c->r.op = (uint8_t)c->op;
    b += REC_HEAD;
    get_str(c->r.id, b, idl);
    get_str(c->r.owner, b += idl, owl);
    get_str(c->r.data, b += owl, dl);
    get_str(c->r.alias[0], b += dl, a0);
    get_str(c->r.alias[1], b + a0, a1);
    *len = n;
    return c->op >= LC_OP_CREATE && c->op <= LC_OP_DELETE
           && c->r.kind > LC_KIND_NONE && c->r.kind < LC_KIND_COUNT;
}

int lc_record_decode(const unsigned char *b, apr_size_t avail, lc_change_t *c, apr_size_t *len)
{
    return decode(b, avail, c, len, 1);
}

int lc_record_decode_checked(const unsigned char *b, apr_size_t avail, lc_change_t *c,
                             apr_size_t *len)
{
    return decode(b, avail, c, len, 0);
}

int lc_record_check(const unsigned char *b, apr_size_t avail, apr_size_t *len)
{
    apr_size_t n;

    if (avail < REC_HEAD + REC_HASH || (get32(b) != REC_MAGIC && get32(b) != REC_MAGIC_V1)) {
        return 0;
    }
    n = get32(b + 4);
    if (n < REC_HEAD + REC_HASH || n > avail || n > LC_RECORD_MAX) {
        return 0;
    }
    *len = n;
    return sum_holds(b, n);
}

int lc_record_key(const unsigned char *b, apr_size_t avail, int *kind, const char **id,
                  apr_size_t *len)
{
    if (avail <= REC_HEAD || b[23] == 0 || (apr_size_t)REC_HEAD + b[23] > avail) {
        return 0;
    }
    *kind = b[17];
    *id = (const char *)b + REC_HEAD;
    *len = b[23];
    return 1;
}
