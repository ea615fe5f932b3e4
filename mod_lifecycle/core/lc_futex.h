/* lc_futex.h — waiting on a 32-bit word in shared memory, and waking its waiters. */
#ifndef LC_FUTEX_H
#define LC_FUTEX_H

#include <stdint.h>
#include <apr_time.h>

/* Every waiter, or a wait woken by any wake. */
#define LC_FUTEX_ANY 0xffffffffu

/* Sleep while *word holds `seen`, for at most t, until a wake for one of
 * `bits`.  0 when woken (or the word no longer held `seen`), APR_TIMEUP
 * when t ran out. */
apr_status_t lc_futex_wait(uint32_t *word, uint32_t seen, apr_interval_time_t t,
                           uint32_t bits);

/* Wake up to n waiters whose bits meet `bits`; how many were woken. */
int lc_futex_wake(uint32_t *word, int n, uint32_t bits);

#endif
