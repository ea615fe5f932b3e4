/* lc_pae.c — PASETO's pre-authentication encoding. */
#include <stdlib.h>
#include <string.h>

#include "lc_pae.h"

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

size_t lc_pae(unsigned char *out, int n, const unsigned char *const *pieces,
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

unsigned char *lc_pae_v4_public(const unsigned char *m, size_t ml,
                                const unsigned char *f, size_t fl,
                                const char *ia, size_t *outlen)
{
    const unsigned char *pieces[4];
    size_t lens[4];
    unsigned char *buf;

    pieces[0] = (const unsigned char *)LC_PAE_V4_PUBLIC; lens[0] = LC_PAE_V4_PUBLIC_LEN;
    pieces[1] = m;                                lens[1] = ml;
    pieces[2] = f;                                lens[2] = fl;
    pieces[3] = (const unsigned char *)(ia ? ia : ""); lens[3] = ia ? strlen(ia) : 0;
    *outlen = lc_pae(NULL, 4, pieces, lens);
    buf = malloc(*outlen);
    if (buf) {
        lc_pae(buf, 4, pieces, lens);
    }
    return buf;
}
