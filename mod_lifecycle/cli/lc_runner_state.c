/* lc_runner_state.c — lifecycle-runner's files (see the header for the layout
 * and why each is written whole). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "lc_runner_state.h"

#define PATH_LEN 1024

static int write_all(int fd, const char *data, size_t len)
{
    ssize_t n;

    while (len > 0) {
        if ((n = write(fd, data, len)) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* fsync the directory, so that a rename or a new file in it is durable. */
static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

    if (fd < 0) {
        return -1;
    }
    rc = fsync(fd);
    close(fd);
    return rc;
}

int lc_runner_write_atomic(const char *dir, const char *file, const char *data, size_t len)
{
    char tmp[PATH_LEN], path[PATH_LEN];
    int fd, err;

    if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path)
        || snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, file) >= (int)sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
        return -1;
    }
    if (write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        err = errno;
        close(fd);
        unlink(tmp);
        errno = err;
        return -1;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        err = errno;
        unlink(tmp);
        errno = err;
        return -1;
    }
    return sync_dir(dir);
}

int lc_runner_state_open(const char *dir)
{
    char path[PATH_LEN];
    int fd;

    if ((mkdir(dir, 0700) != 0 && errno != EEXIST)
        || snprintf(path, sizeof(path), "%s/jobs", dir) >= (int)sizeof(path)
        || (mkdir(path, 0700) != 0 && errno != EEXIST)
        || snprintf(path, sizeof(path), "%s/lock", dir) >= (int)sizeof(path)) {
        return -1;
    }
    if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

int lc_runner_since_read(const char *dir, uint64_t *since)
{
    char path[PATH_LEN], buf[32], *end;
    ssize_t n;
    int fd;

    *since = 0;
    if (snprintf(path, sizeof(path), "%s/since", dir) >= (int)sizeof(path)) {
        return -1;
    }
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        return errno == ENOENT ? 0 : -1;
    }
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) {
        return -1;
    }
    buf[n] = '\0';
    *since = strtoull(buf, &end, 10);
    return (end == buf || (*end && *end != '\n')) ? -1 : 0;
}

int lc_runner_since_write(const char *dir, uint64_t since)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)since);

    return lc_runner_write_atomic(dir, "since", buf, (size_t)n);
}

int lc_runner_job_name(char *out, const char *kind, const char *id, uint64_t version,
                       const char *action)
{
    int n;

    if (strpbrk(kind, "+/") || strpbrk(id, "+/") || strpbrk(action, "+/") || id[0] == '.') {
        return -1;
    }
    n = snprintf(out, LC_RUNNER_JOBNAME_MAX + 1, "%s+%s+%llu+%s", kind, id,
                 (unsigned long long)version, action);
    return n < 0 || n > LC_RUNNER_JOBNAME_MAX ? -1 : 0;
}

unsigned long long lc_runner_proc_start(pid_t pid)
{
    char path[64], buf[1024], *p;
    unsigned long long start = 0;
    ssize_t n;
    int fd, field;

    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        return 0;
    }
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) {
        return 0;
    }
    buf[n] = '\0';
    /* The command name (field 2) may hold spaces and ')': count from the last ')'. */
    if (!(p = strrchr(buf, ')'))) {
        return 0;
    }
    /* Field 3 (state) follows; starttime is field 22; a zombie has ended. */
    if (p[1] == ' ' && p[2] == 'Z') {
        return 0;
    }
    for (field = 2; *p && field < 22; p++) {
        if (*p == ' ') {
            field++;
        }
    }
    sscanf(p, "%llu", &start);
    return start;
}

int lc_runner_proc_alive(pid_t pid, unsigned long long start)
{
    return pid > 0 && start != 0 && lc_runner_proc_start(pid) == start;
}
