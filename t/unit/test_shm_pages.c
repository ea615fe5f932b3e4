/* test_shm_pages.c — mapping the segment's pages ahead of their use
 * (lc_shm_pages.c): what is mapped, and that the replay's thread stays
 * within its lead of what is used. */
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include <apr_general.h>
#include <apr_time.h>

#include "lc_test.h"
#include "lc_shm_pages.h"

#define MIB   ((apr_size_t)1 << 20)
#define SIZE  (48 * MIB)
#define LEAD  (16 * MIB)        /* lc_shm_pages.c's AHEAD_LEAD */
#define CHUNK MIB               /* and AHEAD_CHUNK */

static apr_size_t page;

/* Bytes of [base, base + n) resident in this process's page tables. */
static apr_size_t resident(char *base, apr_size_t n)
{
    unsigned char v[SIZE / 4096];
    apr_size_t i, k = 0;

    if (mincore(base, n, v) != 0) {
        return (apr_size_t)-1;
    }
    for (i = 0; i < n / page; i++) {
        k += v[i] & 1;
    }
    return k * page;
}

/* Wait (up to 20 s: the thread may get no CPU for a while on a busy
 * machine) until `want` bytes from base are resident. */
static int reaches(char *base, apr_size_t want)
{
    int i;

    for (i = 0; i < 2000 && resident(base, want) < want; i++) {
        apr_sleep(apr_time_from_msec(10));
    }
    return resident(base, want) == want;
}

static char *fresh(void)
{
    char *m = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    return m == MAP_FAILED ? NULL : m;
}

static void test_map(void)
{
    char *m = fresh();

    CHECK(m != NULL && resident(m, SIZE) == 0);
    lc_shm_pages_map(m + page + 1, 3 * page);       /* from mid-page: whole pages */
    CHECK(resident(m, SIZE) == 4 * page);
    CHECK(resident(m + page, 4 * page) == 4 * page);
    munmap(m, SIZE);
}

static void test_ahead(apr_pool_t *p)
{
    char *m = fresh();
    uint64_t used = 0;
    lc_shm_ahead_t *a = lc_shm_ahead_start(p, m, SIZE, &used);

    CHECK(m != NULL && a != NULL);
    /* Nothing used yet: it maps its lead and stops there. */
    CHECK(reaches(m, LEAD));
    apr_sleep(apr_time_from_msec(100));
    CHECK(resident(m, SIZE) <= LEAD + CHUNK);
    /* The user moves on: the rest follows, up to the end. */
    __atomic_store_n(&used, (uint64_t)(SIZE - LEAD), __ATOMIC_RELEASE);
    CHECK(reaches(m, SIZE));
    lc_shm_ahead_stop(a);
    munmap(m, SIZE);
}

static void test_stop_early(apr_pool_t *p)
{
    char *m = fresh();
    uint64_t used = 0;
    lc_shm_ahead_t *a = lc_shm_ahead_start(p, m, SIZE, &used);

    /* Stopped at once (a replay of nothing): joined, and it maps no more. */
    lc_shm_ahead_stop(a);
    {
        apr_size_t n = resident(m, SIZE);
        apr_sleep(apr_time_from_msec(50));
        CHECK(n <= LEAD + CHUNK && resident(m, SIZE) == n);
    }
    lc_shm_ahead_stop(NULL);
    munmap(m, SIZE);
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    page = (apr_size_t)sysconf(_SC_PAGESIZE);
    test_map();
    test_ahead(p);
    test_stop_early(p);
    apr_pool_destroy(p);
    apr_terminate();
    return lc_test_done("test_shm_pages");
}
