/* lc_shm_gate.c — a futex gate in the shared segment, in front of the store mutex.
 *
 * Why a gate.  The store mutex is APR's global mutex (ap_global_mutex_create),
 * and what excludes is always that mutex.  But under load every mechanism APR
 * offers queues its waiters badly on a machine with far more runnable threads
 * than cores (build/BENCH.md, "The store mutex's wait"):
 * - flock (and fcntl, sysvsem) put a per-process thread mutex in front of
 *   the lock, and take and release the lock with a system call even
 *   uncontended.  The return from that call is where the scheduler preempts
 *   a thread, so a holder is often preempted with the lock held, and every
 *   other thread of its process waits behind it for as long;
 * - pthread (robust, priority-inheriting) hands the lock over to its oldest
 *   waiter, which then holds it before it runs: a convoy.
 * The gate lets one thread at a time through to the mutex, so the mutex is
 * never contended and its fast path is all its holder runs (for `Mutex
 * pthread`, a compare-and-swap in user space, no system call).  The gate
 * itself lets any running thread take it (no hand-over) and spins a little
 * before sleeping.  While anyone sleeps there, every opening wakes one
 * sleeper, so sleepers are woken side by side: a woken thread may wait
 * milliseconds for a CPU, and those behind it should not wait for it to run
 * before they are woken in turn (as they would if only the last holder that
 * knew of sleepers woke one).
 *
 * A holder that dies.  The gate's word is its holder's thread id, so a
 * sleeper that has waited GATE_LOOK looks whether that thread still exists
 * and, if not, takes the gate over.  The look can be wrong only towards
 * "alive" (a reused thread id, one it may not signal, a prefork child its
 * parent has not reaped yet), so a holder seen for GATE_STALE_LOOKS looks in
 * a row is passed by all the same.  A gate taken from a live holder only
 * lets two threads reach the mutex, which still lets one through.
 */
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <sys/syscall.h>

#include "lc_futex.h"
#include "lc_shm_gate.h"

/* Spins before sleeping: a few holds of the store mutex (a few microseconds)
 * when the holder is running on another core. */
#define GATE_SPINS    256
/* A sleeper's longest sleep before it looks whether the holder lives. */
#define GATE_LOOK     apr_time_from_msec(20)
/* Looks after which a holder is passed by even if it lives (at least 1 s):
 * a thread id can be reused by the time someone waits, and a holder stuck
 * that long behind the mutex (a disk that stalls the journal's flush) only
 * makes the next one wait at the mutex instead. */
#define GATE_STALE_LOOKS 50

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static int take(lc_shm_gate_t *g, uint32_t open, uint32_t mine)
{
    return __atomic_compare_exchange_n(&g->holder, &open, mine, 0, __ATOMIC_SEQ_CST,
                                       __ATOMIC_RELAXED);
}

/* Whether thread `tid` is gone (kill's ESRCH; EPERM means it exists). */
static int gone(uint32_t tid)
{
    return kill((pid_t)tid, 0) != 0 && errno == ESRCH;
}

/* One sleeper less, never below zero (a leave may have zeroed the count). */
static void uncount(lc_shm_gate_t *g)
{
    uint32_t n = __atomic_load_n(&g->sleepers, __ATOMIC_RELAXED);

    while (n && !__atomic_compare_exchange_n(&g->sleepers, &n, n - 1, 0, __ATOMIC_RELAXED,
                                             __ATOMIC_RELAXED)) {
    }
}

/* Sleep while the gate is held by v; 0 when the sleep timed out.  Counted
 * before the futex looks at the word, so an opening either sees the count
 * or happened before the look (which then does not sleep). */
static int sleep_on(lc_shm_gate_t *g, uint32_t v)
{
    apr_status_t rv;

    __atomic_add_fetch(&g->sleepers, 1, __ATOMIC_SEQ_CST);
    rv = lc_futex_wait(&g->holder, v, GATE_LOOK, LC_FUTEX_ANY);
    uncount(g);
    return rv != APR_TIMEUP;
}

void lc_shm_gate_enter(lc_shm_gate_t *g)
{
    uint32_t me = (uint32_t)syscall(SYS_gettid), v, last = 0;
    int i, looks = 0;

    for (i = 0; i < GATE_SPINS; i++) {
        if (__atomic_load_n(&g->holder, __ATOMIC_RELAXED) == 0 && take(g, 0, me)) {
            return;
        }
        cpu_relax();
    }
    for (;;) {
        v = __atomic_load_n(&g->holder, __ATOMIC_SEQ_CST);
        if (v == 0) {
            if (take(g, 0, me)) {
                return;
            }
            continue;
        }
        if (sleep_on(g, v)) {
            continue;
        }
        /* Timed out: the same holder all along, gone, or there too long. */
        looks = v == last ? looks + 1 : 1;
        last = v;
        if ((gone(v) || looks >= GATE_STALE_LOOKS) && take(g, v, me)) {
            return;
        }
    }
}

/* A count with nobody asleep behind it (a thread killed while it slept
 * here left its one in) is zeroed, or every leave would make a system call
 * for nothing.  A thread counted but not yet asleep is then not counted:
 * no leave wakes it, and it looks again after GATE_LOOK. */
void lc_shm_gate_leave(lc_shm_gate_t *g)
{
    uint32_t n;

    __atomic_store_n(&g->holder, 0, __ATOMIC_SEQ_CST);
    n = __atomic_load_n(&g->sleepers, __ATOMIC_SEQ_CST);
    if (n && lc_futex_wake(&g->holder, 1, LC_FUTEX_ANY) == 0) {
        __atomic_compare_exchange_n(&g->sleepers, &n, 0, 0, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED);
    }
}
