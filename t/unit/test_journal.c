/* Unit tests of the journal: codec, replay, torn tails at every byte offset,
 * a flipped bit, snapshots and their fallback, group commit across processes.
 * Real files (fsync'd) in a temporary directory, real shared memory. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sodium.h>
#include <apr_general.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <apr_global_mutex.h>
#include <apr_file_info.h>
#include <apr_file_io.h>

#include "lc_test.h"
#include "lc_test_store.h"
#include "lc_store_shm.h"
#include "lc_journal.h"
#include "lc_record.h"
#include "lc_snapshot.h"
#include "lc_journal_recover.h"

static apr_pool_t *pool;
static char warnings[8192];

static void collect(void *baton, int warning, const char *msg)
{
    (void)baton;
    if (warning) {
        apr_cpystrn(warnings + strlen(warnings), msg, sizeof(warnings) - strlen(warnings) - 1);
        strcat(warnings, "\n");
    }
}

static lc_store_t *new_store(uint32_t capacity)
{
    return lc_test_store(pool, capacity);
}

static apr_array_header_t *made;

static char *new_dir(void)
{
    char *d = apr_pstrdup(pool, "/tmp/lc-journal-test.XXXXXX");

    d = mkdtemp(d);
    APR_ARRAY_PUSH(made, char *) = d;
    return d;
}

/* Remove a test directory, and the salvage folders inside it. */
static void remove_tree(const char *d)
{
    apr_dir_t *dh;
    apr_finfo_t fi;

    if (apr_dir_open(&dh, d, pool) == APR_SUCCESS) {
        while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, dh) == APR_SUCCESS) {
            const char *path = apr_pstrcat(pool, d, "/", fi.name, NULL);
            if (!strcmp(fi.name, ".") || !strcmp(fi.name, "..")) {
                continue;
            }
            if (fi.filetype == APR_DIR) {
                remove_tree(path);
            }
            else {
                apr_file_remove(path, pool);
            }
        }
        apr_dir_close(dh);
    }
    apr_dir_remove(d, pool);
}

static void remove_dirs(void)
{
    int i;

    for (i = 0; i < made->nelts; i++) {
        remove_tree(APR_ARRAY_IDX(made, i, char *));
    }
}

static lc_journal_opts_t opts(const char *dir)
{
    lc_journal_opts_t o = { dir, -1, -1, collect, NULL, 0 };
    return o;
}

/* A store recovered from dir and journaling into it. */
static lc_store_t *open_state(const char *dir, lc_recovery_t *rec, lc_journal_t **j)
{
    lc_store_t *st = new_store(256);
    lc_journal_opts_t o = opts(dir);

    CHECK(lc_journal_recover(st, &o, pool, rec) == APR_SUCCESS);
    *j = lc_journal_attach(st, &o, pool);
    return st;
}

typedef struct put { uint8_t state; } put_t;

static apr_status_t put_cb(lc_resource_t *r, int exists, void *baton)
{
    (void)exists;
    r->state = ((put_t *)baton)->state;
    apr_cpystrn(r->data, "{\"name\":\"x\"}", sizeof(r->data));
    apr_cpystrn(r->owner, "alice", sizeof(r->owner));
    return APR_SUCCESS;
}

static apr_status_t put(lc_store_t *st, const char *id, uint8_t state)
{
    put_t p = { state };
    return lc_store_update(st, LC_KIND_WORKSTATION, id, put_cb, &p, NULL, pool);
}

static int state_of(lc_store_t *st, const char *id)
{
    lc_resource_t r;
    return lc_store_get(st, LC_KIND_WORKSTATION, id, &r, pool) == APR_SUCCESS ? r.state : -1;
}

static apr_size_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (apr_size_t)sb.st_size : 0;
}

static void copy_prefix(const char *from, const char *to, apr_size_t n)
{
    char buf[65536];
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0640);
    ssize_t r = read(in, buf, n < sizeof(buf) ? n : sizeof(buf));

    if (r > 0 && write(out, buf, (size_t)r) != r) {
        fprintf(stderr, "copy failed\n");
    }
    close(in);
    close(out);
}

static void test_codec(void)
{
    unsigned char buf[LC_RECORD_MAX];
    lc_resource_t r;
    lc_change_t c;
    apr_size_t n, len;

    memset(&r, 0, sizeof(r));
    r.kind = LC_KIND_WORKSTATION;
    r.state = 2;
    r.version = 7;
    r.created = 1234567;
    r.due = 99;
    r.due_class = LC_DUE_ADVANCE;
    apr_cpystrn(r.id, "ws-1", sizeof(r.id));
    apr_cpystrn(r.owner, "bob", sizeof(r.owner));
    apr_cpystrn(r.data, "{\"a\":1}", sizeof(r.data));
    n = lc_record_encode(buf, 42, LC_OP_TRANSITION, &r);
    CHECK(lc_record_decode(buf, n, &c, &len) == 1 && len == n);
    CHECK(c.seq == 42 && c.op == LC_OP_TRANSITION && c.r.version == 7 && c.r.state == 2);
    CHECK(c.r.created == 1234567 && c.r.due == 99 && c.r.due_class == LC_DUE_ADVANCE);
    CHECK_STR(c.r.id, "ws-1");
    CHECK_STR(c.r.owner, "bob");
    CHECK_STR(c.r.data, "{\"a\":1}");
    CHECK(lc_record_decode(buf, n - 1, &c, &len) == 0);      /* torn */
    /* Checked ahead (replay's helper thread): the same record decoded
     * without its checksum, and the head's checks still made. */
    memset(&c, 0, sizeof(c));
    CHECK(lc_record_check(buf, n, &len) == 1 && len == n);
    CHECK(lc_record_decode_checked(buf, n, &c, &len) == 1 && len == n);
    CHECK(c.seq == 42 && c.r.version == 7 && c.r.due == 99);
    CHECK_STR(c.r.data, "{\"a\":1}");
    CHECK(lc_record_decode_checked(buf, n - 1, &c, &len) == 0);
    buf[n / 2] ^= 0x10;
    CHECK(lc_record_decode(buf, n, &c, &len) == 0);          /* flipped bit */
    CHECK(lc_record_check(buf, n, &len) == 0);
    CHECK(lc_record_decode_checked(buf, n, &c, &len) == 1);  /* not its job */
    buf[n / 2] ^= 0x10;
    buf[23] = 0;                                             /* an empty id */
    CHECK(lc_record_decode_checked(buf, n, &c, &len) == 0);
}

/* The largest record: 16 KiB of attributes, the longest id, owner, aliases. */
static void test_codec_max(void)
{
    unsigned char *buf = malloc(LC_RECORD_MAX);
    lc_resource_t *r = malloc(sizeof(*r));
    lc_change_t *c = malloc(sizeof(*c));
    apr_size_t n, len;

    lc_resource_clear(r);
    r->kind = LC_KIND_NOTEBOOK;
    memset(r->id, 'i', LC_ID_MAX);
    memset(r->owner, 'o', LC_OWNER_MAX);
    memset(r->alias[0], 'a', LC_ALIAS_MAX);
    memset(r->alias[1], 'b', LC_ALIAS_MAX);
    memset(r->data, 'd', LC_DATA_MAX);
    r->id[LC_ID_MAX] = r->owner[LC_OWNER_MAX] = r->data[LC_DATA_MAX] = '\0';
    r->alias[0][LC_ALIAS_MAX] = r->alias[1][LC_ALIAS_MAX] = '\0';
    n = lc_record_encode(buf, 9, LC_OP_CREATE, r);
    CHECK(n == LC_RECORD_MAX);
    CHECK(lc_record_decode(buf, n, c, &len) == 1 && len == n);
    CHECK(strcmp(c->r.data, r->data) == 0 && strcmp(c->r.id, r->id) == 0);
    CHECK(strcmp(c->r.alias[0], r->alias[0]) == 0 && strcmp(c->r.alias[1], r->alias[1]) == 0);
    CHECK_STR(c->r.owner, r->owner);
    /* A length field past the bound is refused before anything is read. */
    buf[4] = (unsigned char)((LC_RECORD_MAX + 1) & 0xff);
    buf[5] = (unsigned char)((LC_RECORD_MAX + 1) >> 8);
    CHECK(lc_record_decode(buf, LC_RECORD_MAX, c, &len) == 0);
    free(buf);
    free(r);
    free(c);
}

typedef struct bput { const char *a0, *a1; const char *data; } bput_t;

static apr_status_t bput_cb(lc_resource_t *r, int exists, void *baton)
{
    bput_t *b = baton;
    (void)exists;
    apr_cpystrn(r->alias[0], b->a0, sizeof(r->alias[0]));
    apr_cpystrn(r->alias[1], b->a1, sizeof(r->alias[1]));
    apr_cpystrn(r->data, b->data, sizeof(r->data));
    return APR_SUCCESS;
}

static apr_status_t bput(lc_store_t *st, const char *id, const char *a0, const char *a1,
                         const char *data)
{
    bput_t b = { a0, a1, data };
    return lc_store_update(st, LC_KIND_NOTEBOOK, id, bput_cb, &b, NULL, pool);
}

/* 16 KiB attributes (keys in the order given) and aliases come back whole
 * from a snapshot and from the journal after it; a moved alias stays moved. */
static void test_big_and_aliases(void)
{
    const char *dir = new_dir();
    char *big = malloc(LC_DATA_MAX + 1), *big2 = malloc(LC_DATA_MAX + 1);
    lc_resource_t *r = malloc(sizeof(*r));
    lc_recovery_t rec;
    lc_journal_t *j;
    lc_store_t *st = open_state(dir, &rec, &j);
    size_t pre = strlen("{\"zz\":\""), i;

    memcpy(big, "{\"zz\":\"", pre);
    for (i = pre; i < LC_DATA_MAX - 2; i++) {
        big[i] = (char)('a' + i % 26);
    }
    memcpy(big + LC_DATA_MAX - 2, "\"}", 3);
    memcpy(big2, big, LC_DATA_MAX + 1);
    big2[pre] = 'Z';
    CHECK(bput(st, "o.w.a", "name:o.w.a", "ref:1", big) == APR_SUCCESS);
    CHECK(bput(st, "o.w.b", "name:o.w.b", "", "{\"z\":1,\"a\":2}") == APR_SUCCESS);
    CHECK(lc_journal_snapshot(j, NULL) == APR_SUCCESS);
    /* After the snapshot: ref:1 moves from a to b, b grows to 16 KiB. */
    CHECK(bput(st, "o.w.a", "name:o.w.a", "", big) == APR_SUCCESS);
    CHECK(bput(st, "o.w.b", "name:o.w.b", "ref:1", big2) == APR_SUCCESS);
    CHECK(bput(st, "o.w.c", "ref:2", "", "{\"z\":1,\"a\":2}") == APR_SUCCESS);

    st = open_state(dir, &rec, &j);
    CHECK(rec.snapshot_seq == 2 && rec.records == 3);
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "ref:1", r, pool) == APR_SUCCESS);
    CHECK_STR(r->id, "o.w.b");
    CHECK(strcmp(r->data, big2) == 0);
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "name:o.w.a", r, pool) == APR_SUCCESS);
    CHECK(strcmp(r->data, big) == 0 && r->alias[1][0] == '\0');
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "ref:2", r, pool) == APR_SUCCESS);
    CHECK_STR(r->data, "{\"z\":1,\"a\":2}");
    /* From the snapshot alone, too. */
    CHECK(lc_journal_snapshot(j, NULL) == APR_SUCCESS);
    st = open_state(dir, &rec, &j);
    CHECK(rec.records == 0);
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "ref:1", r, pool) == APR_SUCCESS);
    CHECK(strcmp(r->data, big2) == 0);
    CHECK(lc_store_get(st, LC_KIND_NOTEBOOK, "o.w.a", r, pool) == APR_SUCCESS);
    CHECK(strcmp(r->data, big) == 0);
    free(big);
    free(big2);
    free(r);
}

/* Changes survive a "crash" (a fresh store recovering from the same dir). */
static void test_replay(void)
{
    const char *dir = new_dir();
    lc_recovery_t rec;
    lc_journal_t *j;
    lc_store_t *st = open_state(dir, &rec, &j);
    char id[16];
    int i, ok = 1;

    CHECK(rec.records == 0 && rec.last_seq == 0);
    for (i = 0; i < 50; i++) {
        snprintf(id, sizeof(id), "r%02d", i);
        CHECK(put(st, id, 1) == APR_SUCCESS);
    }
    CHECK(put(st, "r00", 3) == APR_SUCCESS);
    CHECK(lc_store_remove(st, LC_KIND_WORKSTATION, "r01", 0, NULL, pool) == APR_SUCCESS);
    CHECK(lc_journal_durable(j) == 52);

    st = open_state(dir, &rec, &j);
    CHECK(rec.records == 52 && rec.last_seq == 52);
    for (i = 2; i < 50; i++) {
        snprintf(id, sizeof(id), "r%02d", i);
        ok &= state_of(st, id) == 1;
    }
    CHECK(ok);
    CHECK(state_of(st, "r00") == 3);
    CHECK(state_of(st, "r01") == -1);
    /* Appends go on after the replayed ones, in a new segment. */
    CHECK(put(st, "r01", 2) == APR_SUCCESS);
    st = open_state(dir, &rec, &j);
    CHECK(rec.last_seq == 53 && state_of(st, "r01") == 2);
}

/* The ring (lc_journal_ring.c) wraps: 16 KiB records through it, more than
 * twice its size (so frames straddle its end), each durable before the
 * next; all replay whole, and the newest of each resource wins. */
static void test_ring_wraps(void)
{
    const char *dir = new_dir();
    lc_recovery_t rec;
    lc_journal_t *j;
    lc_store_t *st = open_state(dir, &rec, &j);
    char *big = malloc(LC_DATA_MAX + 1), id[16];
    int i, n = (int)(2 * LC_JRING_BYTES / LC_DATA_MAX) + 7, ok = 1;
    lc_resource_t r;

    memset(big, 'w', LC_DATA_MAX);
    big[0] = '"';
    big[LC_DATA_MAX - 1] = '"';
    big[LC_DATA_MAX] = '\0';
    for (i = 0; i < n; i++) {
        snprintf(id, sizeof(id), "w%02d", i % 40);
        big[1] = (char)('a' + i % 26);
        ok &= bput(st, id, "", "", big) == APR_SUCCESS;
    }
    CHECK(ok);
    CHECK(lc_journal_durable(j) == (uint64_t)n);
    st = open_state(dir, &rec, &j);
    CHECK(rec.records == (uint64_t)n && rec.last_seq == (uint64_t)n);
    for (i = n - 40; i < n; i++) {
        snprintf(id, sizeof(id), "w%02d", i % 40);
        ok &= lc_store_get(st, LC_KIND_NOTEBOOK, id, &r, pool) == APR_SUCCESS
              && strlen(r.data) == LC_DATA_MAX && r.data[1] == (char)('a' + i % 26);
    }
    CHECK(ok);
    free(big);
}

/* A journal cut at every byte offset replays exactly its whole records. */
static void test_torn_tail(void)
{
    const char *dir = new_dir(), *seg = apr_pstrcat(pool, dir, "/journal-00000001.log", NULL);
    lc_recovery_t rec;
    lc_journal_t *j;
    lc_store_t *st = open_state(dir, &rec, &j);
    apr_size_t total, bounds[4], k;
    int i, bad = 0;

    for (i = 0; i < 3; i++) {
        put(st, i == 0 ? "a" : i == 1 ? "b" : "c", (uint8_t)(i + 1));
        bounds[i + 1] = file_size(seg);
    }
    bounds[0] = 0;
    total = bounds[3];
    CHECK(total > 0);
    for (k = 0; k <= total; k++) {
        const char *d2 = new_dir();
        const char *seg2 = apr_pstrcat(pool, d2, "/journal-00000001.log", NULL);
        int whole = k >= bounds[3] ? 3 : k >= bounds[2] ? 2 : k >= bounds[1] ? 1 : 0;
        copy_prefix(seg, seg2, k);
        warnings[0] = '\0';
        st = open_state(d2, &rec, &j);
        if ((int)rec.records != whole || file_size(seg2) != bounds[whole]
            || (state_of(st, "a") == 1) != (whole >= 1) || (state_of(st, "c") == 3) != (whole >= 3)
            || ((k != bounds[whole]) != (strstr(warnings, "torn tail") != NULL))) {
            bad++;
            fprintf(stderr, "cut at %zu: replayed %llu, expected %d\n", (size_t)k,
                    (unsigned long long)rec.records, whole);
        }
    }
    CHECK(bad == 0);
}

static char *slurp(const char *path, apr_size_t *len)
{
    apr_file_t *f;
    apr_finfo_t fi;
    char *b;

    *len = 0;
    if (apr_file_open(&f, path, APR_FOPEN_READ, 0, pool) != APR_SUCCESS) {
        return NULL;
    }
    apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    b = apr_palloc(pool, (apr_size_t)fi.size + 1);
    *len = (apr_size_t)fi.size;
    apr_file_read_full(f, b, *len, NULL);
    apr_file_close(f);
    return b;
}

static const char *snap_file(const char *dir, uint64_t seq)
{
    char *path = apr_palloc(pool, 512);

    snprintf(path, 512, "%s/snapshot-%016llx.snap", dir, (unsigned long long)seq);
    return path;
}

static void flip(const char *path, apr_size_t at)
{
    char byte;
    int fd = open(path, O_RDWR);

    CHECK(pread(fd, &byte, 1, (off_t)at) == 1);
    byte ^= 0x04;
    CHECK(pwrite(fd, &byte, 1, (off_t)at) == 1);
    close(fd);
}

/* Recovery into a fresh store, without attaching: its status. */
static apr_status_t try_recover(const char *dir, lc_recovery_t *rec, lc_store_t **st)
{
    lc_journal_opts_t o = opts(dir);

    *st = new_store(256);
    warnings[0] = '\0';
    return lc_journal_recover(*st, &o, pool, rec);
}

static void fill(lc_store_t *st, const char *prefix, int n, uint8_t state)
{
    char id[32];
    int i;

    for (i = 0; i < n; i++) {
        snprintf(id, sizeof(id), "%s%02d", prefix, i);
        put(st, id, state);
    }
}

static int count_state(lc_store_t *st, const char *prefix, int n, int state)
{
    char id[32];
    int i, k = 0;

    for (i = 0; i < n; i++) {
        snprintf(id, sizeof(id), "%s%02d", prefix, i);
        k += state_of(st, id) == state;
    }
    return k;
}

/* A flipped bit in a middle record: valid records follow it, so this is not
 * a torn tail.  Recovery refuses, names the file, the offset and the
 * changes, and leaves every byte as it was (also with a dry run). */
static void test_flipped_bit(void)
{
    const char *dir = new_dir(), *seg = apr_pstrcat(pool, dir, "/journal-00000001.log", NULL);
    lc_recovery_t rec;
    lc_journal_t *j;
    lc_store_t *st = open_state(dir, &rec, &j);
    apr_size_t first, before_len, after_len;
    char *before, *after, expect[256];

    put(st, "a", 1);
    first = file_size(seg);
    put(st, "b", 2);
    put(st, "c", 3);
    flip(seg, first + 20);
    before = slurp(seg, &before_len);
    CHECK(try_recover(dir, &rec, &st) == APR_EGENERAL);
    snprintf(expect, sizeof(expect), "%s is damaged at offset %zu of %zu bytes: changes 2 to 2 "
             "cannot be read and later changes follow", seg, (size_t)first, (size_t)before_len);
    CHECK(strstr(rec.problem, expect) != NULL);
    CHECK(strstr(rec.problem, "lifecycle-journal salvage") != NULL);
    after = slurp(seg, &after_len);
    CHECK(after_len == before_len && memcmp(before, after, before_len) == 0);
    CHECK(access(apr_pstrcat(pool, dir, "/journal-00000002.log", NULL), F_OK) != 0);
    {
        lc_journal_opts_t o = opts(dir);
        o.dry_run = 1;
        CHECK(lc_journal_recover(new_store(256), &o, pool, &rec) == APR_EGENERAL);
        CHECK(strstr(rec.problem, "changes 2 to 2") != NULL);
    }
}

/* A process killed after writing its record (rolled back by the store),
 * then a rotation: the old segment ends with a whole record numbered like
 * the new segment's first.  It was never acknowledged: cut, not applied. */
static void test_rolled_back_before_rotation(void)
{
    const char *dir = new_dir();
    const char *seg1 = apr_pstrcat(pool, dir, "/journal-00000001.log", NULL);
    const char *seg2 = apr_pstrcat(pool, dir, "/journal-00000002.log", NULL);
    unsigned char buf[LC_RECORD_MAX];
    lc_recovery_t rec;
    lc_journal_t *j;
    lc_store_t *st = open_state(dir, &rec, &j);
    lc_resource_t r;
    apr_size_t n, len1;
    int fd;

    fill(st, "k", 3, 1);
    len1 = file_size(seg1);
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "k00", &r, pool) == APR_SUCCESS);
    r.state = 7;                                  /* the rolled-back change */
    n = lc_record_encode(buf, 4, LC_OP_REPLACE, &r);
    fd = open(seg1, O_WRONLY | O_APPEND);
    CHECK(write(fd, buf, n) == (ssize_t)n);
    close(fd);
    r.state = 2;                                  /* the change that won seq 4 */
    n = lc_record_encode(buf, 4, LC_OP_REPLACE, &r);
    fd = open(seg2, O_WRONLY | O_CREAT | O_TRUNC, 0640);
    CHECK(write(fd, buf, n) == (ssize_t)n);
    close(fd);
    CHECK(try_recover(dir, &rec, &st) == APR_SUCCESS);
    CHECK(rec.last_seq == 4 && rec.records == 4);
    CHECK(state_of(st, "k00") == 2);
    CHECK(strstr(warnings, "rolled back before a rotation") != NULL);
    CHECK(file_size(seg1) == len1);
}

/* A torn tail at the end of a rotated segment, the next one continuing the
 * sequence: nothing is missing, it is cut and recovery goes on. */
static void test_torn_rotated_tail(void)
{
    const char *dir = new_dir();
    const char *seg1 = apr_pstrcat(pool, dir, "/journal-00000001.log", NULL);
    lc_recovery_t rec;
    lc_journal_t *j;
    lc_store_t *st = open_state(dir, &rec, &j);
    apr_size_t len1;
    int fd;

    fill(st, "t", 3, 1);
    len1 = file_size(seg1);
    fd = open(seg1, O_WRONLY | O_APPEND);
    CHECK(write(fd, "LCJ1 torn", 9) == 9);
    close(fd);
    /* The next start appends to segment 2. */
    st = open_state(dir, &rec, &j);
    CHECK(rec.records == 3 && file_size(seg1) == len1);
    fd = open(seg1, O_WRONLY | O_APPEND);
    CHECK(write(fd, "LCJ1 torn", 9) == 9);
    close(fd);
    put(st, "t00", 2);
    CHECK(try_recover(dir, &rec, &st) == APR_SUCCESS);
    CHECK(rec.last_seq == 4 && state_of(st, "t00") == 2 && count_state(st, "t", 3, 1) == 2);
    CHECK(strstr(warnings, "torn tail") != NULL && file_size(seg1) == len1);
}

/* A whole segment missing in the middle is a gap: refused, named. */
static void test_missing_segment(void)
{
    const char *dir = new_dir();
    lc_recovery_t rec;
    lc_journal_t *j;
    lc_store_t *st = open_state(dir, &rec, &j);

    fill(st, "m", 3, 1);                          /* changes 1-3 in segment 1 */
    st = open_state(dir, &rec, &j);
    fill(st, "n", 2, 1);                          /* 4-5 in segment 2 */
    st = open_state(dir, &rec, &j);
    fill(st, "o", 2, 1);                          /* 6-7 in segment 3 */
    CHECK(unlink(apr_pstrcat(pool, dir, "/journal-00000002.log", NULL)) == 0);
    CHECK(try_recover(dir, &rec, &st) == APR_EGENERAL);
    CHECK(strstr(rec.problem, "journal-00000003.log: change 6 at offset 0 follows change 3: "
                              "the changes in between are missing") != NULL);
}

/* Snapshots bound replay; a corrupt newest snapshot falls back to the older. */
static void test_snapshots(void)
{
    const char *dir = new_dir();
    lc_recovery_t rec;
    lc_journal_t *j;
    lc_store_t *st = open_state(dir, &rec, &j);
    uint64_t s1 = 0, s2 = 0;
    char id[16], *path;
    int i, ok = 1, fd;

    for (i = 0; i < 40; i++) {
        snprintf(id, sizeof(id), "s%02d", i);
        put(st, id, 1);
    }
    CHECK(lc_journal_snapshot(j, &s1) == APR_SUCCESS && s1 == 40);
    for (i = 0; i < 10; i++) {
        snprintf(id, sizeof(id), "s%02d", i);
        put(st, id, 2);
    }
    CHECK(lc_journal_snapshot(j, &s2) == APR_SUCCESS && s2 == 50);
    put(st, "s00", 3);
    lc_store_remove(st, LC_KIND_WORKSTATION, "s39", 0, NULL, pool);
    CHECK(lc_journal_snapshot(j, NULL) == APR_SUCCESS);      /* third: the first is pruned */
    put(st, "late", 1);
    path = apr_palloc(pool, 512);
    snprintf(path, 512, "%s/snapshot-%016llx.snap", dir, (unsigned long long)s1);
    CHECK(access(path, F_OK) != 0);

    st = open_state(dir, &rec, &j);
    CHECK(rec.snapshot_seq == 52 && rec.records == 1 && rec.last_seq == 53);
    CHECK(state_of(st, "s00") == 3 && state_of(st, "s05") == 2 && state_of(st, "s20") == 1);
    CHECK(state_of(st, "s39") == -1 && state_of(st, "late") == 1);

    /* Corrupt the newest snapshot: replay falls back to the previous one. */
    snprintf(path, 512, "%s/snapshot-%016llx.snap", dir, 52ULL);
    CHECK(access(path, F_OK) == 0);
    fd = open(path, O_RDWR);
    CHECK(pwrite(fd, "X", 1, 100) == 1);
    close(fd);
    warnings[0] = '\0';
    st = open_state(dir, &rec, &j);
    CHECK(strstr(warnings, "fails its checksum") != NULL);
    CHECK(rec.snapshot_seq == 50);
    for (i = 10; i < 39; i++) {
        snprintf(id, sizeof(id), "s%02d", i);
        ok &= state_of(st, id) == 1;
    }
    CHECK(ok);
    CHECK(state_of(st, "s00") == 3 && state_of(st, "s05") == 2 && state_of(st, "s39") == -1);
    CHECK(state_of(st, "late") == 1);
}

/* One damaged snapshot at a time never loses anything: with the older
 * snapshot damaged, the next snapshot prunes nothing; then with the newer
 * one damaged too, the journal still starts at change 1. */
static void test_one_bad_snapshot_at_a_time(void)
{
    const char *dir = new_dir();
    lc_recovery_t rec;
    lc_journal_t *j;
    lc_store_t *st = open_state(dir, &rec, &j);
    uint64_t s1, s2;

    fill(st, "p", 10, 1);
    CHECK(lc_journal_snapshot(j, &s1) == APR_SUCCESS);
    flip(snap_file(dir, s1), 60);
    fill(st, "q", 10, 1);
    CHECK(lc_journal_snapshot(j, &s2) == APR_SUCCESS);
    fill(st, "r", 10, 1);
    CHECK(access(apr_pstrcat(pool, dir, "/journal-00000001.log", NULL), F_OK) == 0);
    flip(snap_file(dir, s2), 60);
    CHECK(try_recover(dir, &rec, &st) == APR_SUCCESS);
    CHECK(rec.snapshot_seq == 0 && rec.last_seq == 30);
    CHECK(count_state(st, "p", 10, 1) + count_state(st, "q", 10, 1)
          + count_state(st, "r", 10, 1) == 30);
}

/* Both kept snapshots damaged after the journal behind them was pruned:
 * refused, naming what is missing.  Salvage then keeps every intact record
 * and sets the damaged files aside. */
static void test_all_snapshots_damaged(void)
{
    const char *dir = new_dir();
    lc_recovery_t rec;
    lc_salvage_t sv;
    lc_journal_t *j;
    lc_store_t *st = open_state(dir, &rec, &j);
    lc_journal_opts_t o = opts(dir);
    uint64_t s[3];
    char expect[256];
    int i;

    for (i = 0; i < 3; i++) {
        fill(st, i == 0 ? "u" : i == 1 ? "v" : "w", 10, 1);
        CHECK(lc_journal_snapshot(j, &s[i]) == APR_SUCCESS);
    }
    fill(st, "x", 5, 1);
    CHECK(access(apr_pstrcat(pool, dir, "/journal-00000001.log", NULL), F_OK) != 0);
    /* A byte in the middle of a record of each: the 3rd record of s[1] and s[2]. */
    flip(snap_file(dir, s[1]), 300);
    flip(snap_file(dir, s[2]), 300);
    CHECK(try_recover(dir, &rec, &st) == APR_EGENERAL);
    CHECK(strstr(rec.problem, "no usable snapshot") != NULL);
    snprintf(expect, sizeof(expect), "the journal starts at change %llu: changes 1 to %llu are "
             "only in those snapshots", (unsigned long long)s[1] + 1, (unsigned long long)s[1]);
    CHECK(strstr(rec.problem, expect) != NULL);
    CHECK(lc_journal_salvage(new_store(256), &o, pool, &sv) == APR_SUCCESS);
    CHECK(sv.base_seq == s[2] && sv.last_seq == 35 && sv.lost == 0);
    CHECK(sv.damaged_files == 2 && sv.damaged_bytes > 0 && sv.resources == 34);
    CHECK(access(apr_pstrcat(pool, snap_file(sv.aside, s[2]), ".corrupt", NULL), F_OK) == 0);
    CHECK(try_recover(dir, &rec, &st) == APR_SUCCESS);
    CHECK(rec.snapshot_seq == 35 && rec.last_seq == 35);
    CHECK(count_state(st, "u", 10, 1) + count_state(st, "v", 10, 1) + count_state(st, "w", 10, 1)
          + count_state(st, "x", 5, 1) == 34);
}

/* The case: 100 acknowledged creates, one bit flipped in the 50th.
 * Salvage keeps the 99 others and the damaged file byte for byte. */
static void test_salvage_middle_damage(void)
{
    const char *dir = new_dir(), *seg = apr_pstrcat(pool, dir, "/journal-00000001.log", NULL);
    lc_recovery_t rec;
    lc_salvage_t sv;
    lc_journal_t *j;
    lc_store_t *st = open_state(dir, &rec, &j);
    lc_journal_opts_t o = opts(dir);
    apr_size_t at, len, len2;
    char *before, *kept;

    fill(st, "y", 49, 1);
    at = file_size(seg);
    fill(st, "z", 51, 1);
    flip(seg, at + 30);
    before = slurp(seg, &len);
    CHECK(try_recover(dir, &rec, &st) == APR_EGENERAL);
    CHECK(strstr(rec.problem, "changes 50 to 50 cannot be read") != NULL);
    CHECK(lc_journal_salvage(new_store(256), &o, pool, &sv) == APR_SUCCESS);
    CHECK(sv.lost == 1 && sv.lost_ranges && strcmp(sv.lost_ranges, "50-50") == 0);
    CHECK(sv.records == 99 && sv.last_seq == 100 && sv.damaged_files == 1);
    kept = slurp(apr_pstrcat(pool, sv.aside, "/journal-00000001.log.corrupt", NULL), &len2);
    CHECK(kept && len2 == len && memcmp(kept, before, len) == 0);
    CHECK(try_recover(dir, &rec, &st) == APR_SUCCESS && rec.last_seq == 100);
    CHECK(count_state(st, "y", 49, 1) == 49 && count_state(st, "z", 51, 1) == 50);
    CHECK(state_of(st, "z00") == -1);
}

/* Several processes append and sync at once: every change is durable when
 * its sync returns, and flushes are shared (fewer flushes than changes). */
static void test_group_commit(void)
{
    const char *dir = new_dir();
    lc_recovery_t rec;
    lc_journal_t *j;
    lc_store_t *st = open_state(dir, &rec, &j);
    lc_journal_stats_t stats;
    int i, k, status, ok = 1;

    for (i = 0; i < 8; i++) {
        if (fork() == 0) {
            char id[16];
            for (k = 0; k < 50; k++) {
                snprintf(id, sizeof(id), "g%d-%d", i, k % 5);
                if (put(st, id, (uint8_t)(k % 3)) != APR_SUCCESS
                    || lc_journal_durable(j) < 1) {
                    _exit(1);
                }
            }
            _exit(0);
        }
    }
    for (i = 0; i < 8; i++) {
        wait(&status);
        ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    CHECK(ok);
    lc_journal_stats(j, &stats);
    CHECK(stats.durable_seq == 400);
    CHECK(stats.flushes > 0 && stats.flushes < 400);
    printf("group commit: 400 changes from 8 processes, %llu flushes\n",
           (unsigned long long)stats.flushes);
    st = open_state(dir, &rec, &j);
    CHECK(rec.last_seq == 400);
}

/* The feed reads back exactly the changes, in order, and says 410 when the
 * asked-for past has been pruned. */
static void test_feed(void)
{
    const char *dir = new_dir();
    lc_recovery_t rec;
    lc_journal_t *j;
    lc_store_t *st = open_state(dir, &rec, &j);
    lc_change_t out[16];
    uint64_t oldest;
    int n;

    put(st, "f1", 1);
    put(st, "f2", 1);
    put(st, "f1", 2);
    lc_store_remove(st, LC_KIND_WORKSTATION, "f2", 0, NULL, pool);
    CHECK(lc_journal_read(j, 0, out, 16, &n, &oldest, pool) == APR_SUCCESS && n == 4);
    CHECK(out[0].seq == 1 && out[0].op == LC_OP_CREATE);
    CHECK(out[2].seq == 3 && out[2].op == LC_OP_REPLACE && out[2].r.state == 2);
    CHECK(out[3].op == LC_OP_DELETE && strcmp(out[3].r.id, "f2") == 0);
    CHECK(lc_journal_read(j, 2, out, 1, &n, &oldest, pool) == APR_SUCCESS && n == 1
          && out[0].seq == 3);
    CHECK(lc_journal_read(j, 4, out, 16, &n, &oldest, pool) == APR_SUCCESS && n == 0);
    /* Three snapshots prune the first segments: the start is gone. */
    lc_journal_snapshot(j, NULL);
    put(st, "f3", 1);
    lc_journal_snapshot(j, NULL);
    put(st, "f4", 1);
    lc_journal_snapshot(j, NULL);
    put(st, "f5", 1);
    CHECK(lc_journal_read(j, 0, out, 16, &n, &oldest, pool) == APR_EGENERAL && oldest == 6);
    CHECK(lc_journal_read(j, 5, out, 16, &n, &oldest, pool) == APR_SUCCESS && n == 2);
    CHECK(out[0].seq == 6 && out[1].seq == 7);
}

static int always_stopping(void)
{
    return 1;
}

/* A long-poll's wait ends at once when the process is stopping. */
static void test_wait_stopping(void)
{
    lc_recovery_t rec;
    lc_journal_t *j;
    apr_time_t t0;

    open_state(new_dir(), &rec, &j);
    t0 = apr_time_now();
    lc_journal_wait(j, 1000, apr_time_from_msec(300));      /* nothing new: all 300 ms */
    CHECK(apr_time_now() - t0 >= apr_time_from_msec(290));
    lc_journal_wait_stop_check(always_stopping);
    t0 = apr_time_now();
    lc_journal_wait(j, 1000, apr_time_from_sec(5));
    CHECK(apr_time_now() - t0 < apr_time_from_msec(100));
    lc_journal_wait_stop_check(NULL);
}

int main(void)
{
    apr_initialize();
    if (sodium_init() < 0) {
        return 2;
    }
    apr_pool_create(&pool, NULL);
    made = apr_array_make(pool, 64, sizeof(char *));
    test_codec();
    test_replay();
    test_torn_tail();
    test_flipped_bit();
    test_rolled_back_before_rotation();
    test_torn_rotated_tail();
    test_missing_segment();
    test_snapshots();
    test_one_bad_snapshot_at_a_time();
    test_all_snapshots_damaged();
    test_salvage_middle_damage();
    test_codec_max();
    test_big_and_aliases();
    test_group_commit();
    test_ring_wraps();
    test_feed();
    test_wait_stopping();
    remove_dirs();
    return lc_test_done("test_journal");
}
