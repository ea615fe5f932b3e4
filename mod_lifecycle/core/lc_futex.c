/* lc_futex.c — the futex calls of the shared-memory waits (the journal's
 * commits and change feed, the dbd store's feed, the store's gate).
 *
 * Shared futexes (no FUTEX_PRIVATE_FLAG): the words are in segments that
 * every child maps.  The bitset forms serve every caller: LC_FUTEX_ANY
 * makes them the plain wait and wake.
 */
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/syscall.h>

#include "lc_futex.h"

apr_status_t lc_futex_wait(uint32_t *word, uint32_t seen, apr_interval_time_t t,
                           uint32_t bits)
{
    struct timespec ts;

    /* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(t / APR_USEC_PER_SEC);
    ts.tv_nsec += (long)(t % APR_USEC_PER_SEC) * 1000;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    if (syscall(SYS_futex, word, FUTEX_WAIT_BITSET, seen, &ts, NULL, bits) != 0
        && errno == ETIMEDOUT) {
        return APR_TIMEUP;
    }
    return APR_SUCCESS;
}

int lc_futex_wake(uint32_t *word, int n, uint32_t bits)
{
    long woken = syscall(SYS_futex, word, FUTEX_WAKE_BITSET, n, NULL, NULL, bits);

    return woken > 0 ? (int)woken : 0;
}
