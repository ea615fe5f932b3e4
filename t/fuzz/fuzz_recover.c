/* fuzz_recover: start-up recovery (lc_journal_recover) from a state
 * directory whose only file is the input, into a fresh store of 64 slots
 * made as t/unit/lc_test_store.h makes it.
 *
 * The first byte: bit 1 clear = the input is journal-00000001.log; set = it
 * is a snapshot, snapshot-<seq>.snap with the seq its header names.  Bit 0
 * set = fix the checksums first (the records' and, for a snapshot, the
 * file's: lc_fuzz_journal.h), so mutated records are replayed into the store
 * rather than refused at the first one.  Recovery may refuse to start (any
 * status other than APR_SUCCESS is fine); it must not crash.  After it, the
 * store passes its own check and every stored resource can be read back.
 *
 * The state directory is under /dev/shm when there is one (recovery fsyncs
 * the directory; on tmpfs that costs nothing). */
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <apr_shm.h>
#include <apr_global_mutex.h>
#include "lc_fuzz_journal.h"
#include "lc_store_shm.h"

#define CAPACITY 64

static char dir[256];
static void *base;
static apr_size_t base_size;
static apr_global_mutex_t *mutex;

static void empty_dir(void);

static void cleanup(void)
{
    empty_dir();
    rmdir(dir);
}

static void setup(void)
{
    apr_pool_t *root = lc_fuzz_root();
    apr_shm_t *shm;

    snprintf(dir, sizeof(dir), "%s/lc-fuzz-recover.XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    base_size = lc_store_shm_size(CAPACITY, lc_store_shm_default_heap(CAPACITY));
    if (mkdtemp(dir) == NULL
        || apr_shm_create(&shm, base_size, NULL, root) != APR_SUCCESS
        || apr_global_mutex_create(&mutex, NULL, APR_LOCK_DEFAULT, root) != APR_SUCCESS) {
        abort();
    }
    base = apr_shm_baseaddr_get(shm);
    atexit(cleanup);
}

/* Remove what the last input left in the directory (recovery adds segments
 * and renames cut ones). */
static void empty_dir(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];

    if (d == NULL) {
        abort();
    }
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            unlink(path);
        }
    }
    closedir(d);
}

/* A snapshot (lc_snapshot.c lc_snapshot_write): a 32-byte header, records, and
 * a 48-byte trailer whose last 32 bytes are a BLAKE2b-256 of all before. */
static void snap_fix(unsigned char *buf, size_t len, int fix)
{
    if (!fix || len < LC_FUZZ_SNAP_HEAD + LC_FUZZ_SNAP_TAIL) {
        return;
    }
    lc_fuzz_fix_checksums(buf + LC_FUZZ_SNAP_HEAD, len - LC_FUZZ_SNAP_HEAD - LC_FUZZ_SNAP_TAIL);
    crypto_generichash(buf + len - 32, 32, buf, len - 32, NULL, 0);
}

static void quiet(void *baton, int warning, const char *msg)
{
    (void)baton; (void)warning; (void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    unsigned char *buf;
    char path[512];
    lc_journal_opts_t o;
    lc_recovery_t rec;
    lc_store_t *st;
    lc_resource_t all[CAPACITY];
    uint32_t cursor = 0;
    int fd, n, i;

    if (size == 0) {
        return 0;
    }
    if (base == NULL) {
        setup();
    }
    p = lc_fuzz_pool();
    empty_dir();
    buf = malloc(size);
    memcpy(buf, data + 1, size - 1);
    if (data[0] & 2) {
        snap_fix(buf, size - 1, data[0] & 1);
        snprintf(path, sizeof(path), "%s/snapshot-%016" APR_UINT64_T_HEX_FMT ".snap", dir,
                 size - 1 >= 16 ? lc_fuzz_get64(buf + 8) : 0);
    }
    else {
        if (data[0] & 1) {
            lc_fuzz_fix_checksums(buf, size - 1);
        }
        snprintf(path, sizeof(path), "%s/journal-00000001.log", dir);
    }
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    LC_FUZZ_CHECK(fd >= 0 && write(fd, buf, size - 1) == (ssize_t)(size - 1));
    close(fd);
    free(buf);

    LC_FUZZ_CHECK(lc_store_shm_format(base, base_size, CAPACITY, lc_store_shm_default_heap(CAPACITY)) == APR_SUCCESS);
    st = lc_store_shm_open(p, base, mutex);
    memset(&o, 0, sizeof(o));
    o.dir = dir;
    o.uid = o.gid = -1;
    o.log = quiet;
    if (lc_journal_recover(st, &o, p, &rec) == APR_SUCCESS) {
        LC_FUZZ_CHECK(lc_store_shm_check(base, base_size) == APR_SUCCESS);
        /* What recovery accepts starts at change 1 or at a snapshot and has
         * no gap: nothing stored is newer than the last change replayed. */
        while (cursor < CAPACITY
               && lc_store_shm_scan(st, &cursor, all, CAPACITY, &n) == APR_SUCCESS) {
            for (i = 0; i < n; i++) {
                LC_FUZZ_CHECK(all[i].kind > LC_KIND_NONE && all[i].kind < LC_KIND_COUNT);
                LC_FUZZ_CHECK(all[i].seq <= rec.last_seq);
            }
        }
    }
    apr_pool_destroy(p);
    return 0;
}
