/* lc_journal_dir.c — the state directory's files: names, listing, reading,
 * fsync of the directory, ownership, and its lock.  Shared by the journal's
 * writers (lc_journal.c, lc_snapshot.c) and its readers (lc_journal_recover.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <apr_strings.h>
#include <apr_file_info.h>
#include <apr_tables.h>

#include "lc_journal_dir.h"
#include "lc_record.h"

void lc_journal_dir_say(const lc_journal_opts_t *o, int warning, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (!o->log) {
        return;
    }
    va_start(ap, fmt);
    apr_vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    o->log(o->log_baton, warning, msg);
}

char *lc_journal_dir_seg_path(apr_pool_t *p, const char *dir, uint32_t seg)
{
    return apr_psprintf(p, "%s/journal-%08u.log", dir, seg);
}

char *lc_journal_dir_snap_path(apr_pool_t *p, const char *dir, uint64_t seq)
{
    return apr_psprintf(p, "%s/snapshot-%016" APR_UINT64_T_HEX_FMT ".snap", dir, seq);
}
int lc_journal_dir_fsync(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;

    if (fd < 0) {
        return -1;
    }
    rc = fsync(fd);
    close(fd);
    return rc;
}

void lc_journal_dir_chown(const lc_journal_opts_t *o, const char *path)
{
    if (o->uid >= 0 && chown(path, (uid_t)o->uid, (gid_t)o->gid) != 0) {
        lc_journal_dir_say(o, 1, LC_LOGNO(00066) "cannot give %s to the server's User: %s", path, strerror(errno));
    }
}

/* ---- reading files -------------------------------------------------------------- */

/* The file open for reading, and its size in *sb; -1 when it cannot be. */
static int open_sized(const char *path, struct stat *sb)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd >= 0 && fstat(fd, sb) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int lc_journal_dir_read_file(apr_pool_t *p, const char *path, unsigned char **buf, apr_size_t *len)
{
    struct stat sb;
    int fd = open_sized(path, &sb);
    apr_size_t got = 0;

    if (fd < 0) {
        return -1;
    }
    *buf = apr_palloc(p, (apr_size_t)sb.st_size + 1);
    while (got < (apr_size_t)sb.st_size) {
        ssize_t n = read(fd, *buf + got, (size_t)sb.st_size - got);
        if (n <= 0) {
            close(fd);
            return -1;
        }
        got += (apr_size_t)n;
    }
    close(fd);
    *len = got;
    return 0;
}

typedef struct mapping {
    void   *at;
    size_t  len;
} mapping_t;

static apr_status_t unmap(void *data)
{
    mapping_t *m = data;

    munmap(m->at, m->len);
    return APR_SUCCESS;
}

int lc_journal_dir_map_file(apr_pool_t *p, const char *path, const unsigned char **buf,
                            apr_size_t *len)
{
    struct stat sb;
    int fd = open_sized(path, &sb);
    void *m;
    mapping_t *keep;

    if (fd < 0) {
        return -1;
    }
    if (sb.st_size == 0) {
        close(fd);
        *buf = (const unsigned char *)"";
        *len = 0;
        return 0;
    }
    m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
        unsigned char *b;
        int rc = lc_journal_dir_read_file(p, path, &b, len);
        *buf = b;
        return rc;
    }
    keep = apr_palloc(p, sizeof(*keep));
    keep->at = m;
    keep->len = (size_t)sb.st_size;
    apr_pool_cleanup_register(p, keep, unmap, apr_pool_cleanup_null);
    *buf = m;
    *len = (apr_size_t)sb.st_size;
    return 0;
}

static int cmp_u64_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

static int cmp_u32_asc(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

/* The segment numbers and snapshot sequence numbers in dir, sorted
 * (segments ascending, snapshots newest first). */
apr_status_t lc_journal_dir_list(apr_pool_t *p, const char *dir, apr_array_header_t **segs,
                             apr_array_header_t **snaps)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    apr_status_t rv = apr_dir_open(&d, dir, p);

    *segs = apr_array_make(p, 16, sizeof(uint32_t));
    *snaps = apr_array_make(p, 4, sizeof(uint64_t));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    while (apr_dir_read(&fi, APR_FINFO_NAME, d) == APR_SUCCESS) {
        unsigned u;
        unsigned long long q;
        char tail[8];
        if (sscanf(fi.name, "journal-%8u.lo%1s", &u, tail) == 2 && strlen(fi.name) == 20
            && tail[0] == 'g') {
            APR_ARRAY_PUSH(*segs, uint32_t) = (uint32_t)u;
        }
        else if (sscanf(fi.name, "snapshot-%16llx.sna%1s", &q, tail) == 2
                 && strlen(fi.name) == 30 && tail[0] == 'p') {
            APR_ARRAY_PUSH(*snaps, uint64_t) = (uint64_t)q;
        }
    }
    apr_dir_close(d);
    qsort((*segs)->elts, (size_t)(*segs)->nelts, sizeof(uint32_t), cmp_u32_asc);
    qsort((*snaps)->elts, (size_t)(*snaps)->nelts, sizeof(uint64_t), cmp_u64_desc);
    return APR_SUCCESS;
}

/* The first change a segment holds (0 if none). */
uint64_t lc_journal_dir_first_seq(apr_pool_t *p, const char *dir, uint32_t seg)
{
    unsigned char buf[LC_RECORD_MAX];
    lc_change_t c;
    apr_size_t len;
    int fd = open(lc_journal_dir_seg_path(p, dir, seg), O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0) {
        return 0;
    }
    n = pread(fd, buf, sizeof(buf), 0);
    close(fd);
    return (n > 0 && lc_record_decode(buf, (apr_size_t)n, &c, &len)) ? c.seq : 0;
}int lc_journal_lock(const char *dir)
{
    char path[PATH_MAX];
    int fd;

    apr_snprintf(path, sizeof(path), "%s/lock", dir);
    if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) < 0) {
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}
