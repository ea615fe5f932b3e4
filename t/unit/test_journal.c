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

/* The test directories are flat: remove their files, then them. */
static void remove_dirs(void)
{
    int i;

    for (i = 0; i < made->nelts; i++) {
        const char *d = APR_ARRAY_IDX(made, i, char *);
        apr_dir_t *dh;
        apr_finfo_t fi;
        if (apr_dir_open(&dh, d, pool) == APR_SUCCESS) {
            while (apr_dir_read(&fi, APR_FINFO_NAME, dh) == APR_SUCCESS) {
                if (strcmp(fi.name, ".") && strcmp(fi.name, "..")) {
                    apr_file_remove(apr_pstrcat(pool, d, "/", fi.name, NULL), pool);
                }
            }
            apr_dir_close(dh);
        }
        apr_dir_remove(d, pool);
    }
}

static lc_journal_opts_t opts(const char *dir)
{
    lc_journal_opts_t o = { dir, -1, -1, collect, NULL };
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
    return lc_store_update(st, LC_KIND_WORKSTATION, id, put_cb, &p, NULL);
}

static int state_of(lc_store_t *st, const char *id)
{
    lc_resource_t r;
    return lc_store_get(st, LC_KIND_WORKSTATION, id, &r) == APR_SUCCESS ? r.state : -1;
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
    buf[n / 2] ^= 0x10;
    CHECK(lc_record_decode(buf, n, &c, &len) == 0);          /* flipped bit */
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
    return lc_store_update(st, LC_KIND_NOTEBOOK, id, bput_cb, &b, NULL);
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
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "ref:1", r) == APR_SUCCESS);
    CHECK_STR(r->id, "o.w.b");
    CHECK(strcmp(r->data, big2) == 0);
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "name:o.w.a", r) == APR_SUCCESS);
    CHECK(strcmp(r->data, big) == 0 && r->alias[1][0] == '\0');
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "ref:2", r) == APR_SUCCESS);
    CHECK_STR(r->data, "{\"z\":1,\"a\":2}");
    /* From the snapshot alone, too. */
    CHECK(lc_journal_snapshot(j, NULL) == APR_SUCCESS);
    st = open_state(dir, &rec, &j);
    CHECK(rec.records == 0);
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "ref:1", r) == APR_SUCCESS);
    CHECK(strcmp(r->data, big2) == 0);
    CHECK(lc_store_get(st, LC_KIND_NOTEBOOK, "o.w.a", r) == APR_SUCCESS);
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
    CHECK(lc_store_remove(st, LC_KIND_WORKSTATION, "r01", 0, NULL) == APR_SUCCESS);
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
            || ((k != bounds[whole]) != (strstr(warnings, "torn or corrupt") != NULL))) {
            bad++;
            fprintf(stderr, "cut at %zu: replayed %llu, expected %d\n", (size_t)k,
                    (unsigned long long)rec.records, whole);
        }
    }
    CHECK(bad == 0);
}

/* A flipped bit in the middle record is detected; nothing after it applies. */
static void test_flipped_bit(void)
{
    const char *dir = new_dir(), *seg = apr_pstrcat(pool, dir, "/journal-00000001.log", NULL);
    lc_recovery_t rec;
    lc_journal_t *j;
    lc_store_t *st = open_state(dir, &rec, &j);
    apr_size_t first;
    char byte, expect[64];
    int fd;

    put(st, "a", 1);
    first = file_size(seg);
    put(st, "b", 2);
    put(st, "c", 3);
    fd = open(seg, O_RDWR);
    CHECK(pread(fd, &byte, 1, (off_t)first + 20) == 1);
    byte ^= 0x04;
    CHECK(pwrite(fd, &byte, 1, (off_t)first + 20) == 1);
    close(fd);
    warnings[0] = '\0';
    st = open_state(dir, &rec, &j);
    CHECK(rec.records == 1);
    CHECK(state_of(st, "a") == 1 && state_of(st, "b") == -1 && state_of(st, "c") == -1);
    snprintf(expect, sizeof(expect), "at offset %zu", (size_t)first);
    CHECK(strstr(warnings, expect) != NULL);
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
    lc_store_remove(st, LC_KIND_WORKSTATION, "s39", 0, NULL);
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
    lc_store_remove(st, LC_KIND_WORKSTATION, "f2", 0, NULL);
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
    test_snapshots();
    test_codec_max();
    test_big_and_aliases();
    test_group_commit();
    test_feed();
    remove_dirs();
    return lc_test_done("test_journal");
}
