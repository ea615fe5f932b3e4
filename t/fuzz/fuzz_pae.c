/* fuzz_pae: PASETO's pre-authentication encoding (lc_pae) and the
 * PASERK k4 codecs of lc_paserk.h.
 *
 * PAE: the input's first byte is the number of pieces (0..7), the next ones
 * their lengths (cut to what is left); the encoding must be the size the
 * NULL call announced and exactly LE64(n) || (LE64(len) || piece)*. */
#include "lc_fuzz.h"
#include "lc_pae.h"
#include "lc_paserk.h"

static uint64_t le64(const unsigned char *p)
{
    uint64_t v = 0;
    int i;

    for (i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

static void pae(const uint8_t *data, size_t size)
{
    const unsigned char *pieces[8];
    size_t lens[8], off, want, got, at;
    unsigned char *out;
    int n, i;

    if (size == 0) {
        return;
    }
    n = data[0] % 8;
    off = 1 + (size_t)n < size ? 1 + (size_t)n : size;
    for (i = 0; i < n; i++) {
        size_t left = size - off;
        size_t len = 1 + (size_t)i < size ? data[1 + i] : 0;

        lens[i] = len < left ? len : left;
        pieces[i] = data + off;
        off += lens[i];
    }
    want = lc_pae(NULL, n, pieces, lens);
    out = malloc(want ? want : 1);
    got = lc_pae(out, n, pieces, lens);
    LC_FUZZ_CHECK(got == want && want >= 8);
    LC_FUZZ_CHECK(le64(out) == (uint64_t)n);
    for (at = 8, i = 0; i < n; i++) {
        LC_FUZZ_CHECK(at + 8 + lens[i] <= got);
        LC_FUZZ_CHECK(le64(out + at) == lens[i]);
        LC_FUZZ_CHECK(lens[i] == 0 || memcmp(out + at + 8, pieces[i], lens[i]) == 0);
        at += 8 + lens[i];
    }
    LC_FUZZ_CHECK(at == got);
    free(out);
}

static void paserk(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    unsigned char pk[32], sk[64];
    char text[LC_PASERK_SECRET_LEN + 1], pid[LC_PASERK_PID_LEN + 1];

    if (lc_paserk_public_decode(s, size, pk) == 0) {
        LC_FUZZ_CHECK(lc_paserk_public_encode(pk, 32, text, sizeof(text)) == 0);
        LC_FUZZ_CHECK(size == LC_PASERK_PUBLIC_LEN && memcmp(text, s, size) == 0);
        lc_paserk_pid(pk, pid);
        LC_FUZZ_CHECK(strlen(pid) == LC_PASERK_PID_LEN);
    }
    if (lc_paserk_secret_decode(s, size, sk) == 0) {
        LC_FUZZ_CHECK(lc_paserk_secret_encode(sk, 64, text, sizeof(text)) == 0);
        LC_FUZZ_CHECK(size == LC_PASERK_SECRET_LEN && memcmp(text, s, size) == 0);
    }
    /* Keys of any length: only 32 bytes make a pid. */
    LC_FUZZ_CHECK((lc_paserk_pid_bytes(data, size, pid, sizeof(pid)) == 0) == (size == 32));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lc_fuzz_root();
    pae(data, size);
    paserk(data, size);
    return 0;
}
