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
 * itself lets any running thread take it (no hand-over), spins a little
 * before sleeping, and wakes one sleeper when it opens.
 *
 * A holder that dies.  The gate's word is its holder's thread id (and a bit
 * for "someone sleeps here"), so a sleeper that has waited GATE_LOOK looks
 * whether that thread still exists and, if not, takes the gate over.  The
 * look can be wrong only towards "alive" (a reused thread id, or one it may
 * not signal), and then it looks again; when it wrongly takes a gate that
 * is held, two threads reach the mutex, which still lets one through.
 */
#include <errno.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/syscall.h>

#include "lc_shm_gate.h"

#define GATE_SLEEPERS 0x80000000u   /* thread ids stay below 2^22 (pid_max) */
/* Spins before sleeping: a few holds of the store mutex (a few microseconds)
 * when the holder is running on another core. */
#define GATE_SPINS    256
/* A sleeper's longest sleep before it looks whether the holder lives. */
#define GATE_LOOK_NS  20000000L

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
    return __atomic_compare_exchange_n(g, &open, mine, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

/* Whether thread `tid` is gone (kill's ESRCH; EPERM means it exists). */
static int gone(uint32_t tid)
{
    return kill((pid_t)tid, 0) != 0 && errno == ESRCH;
}

/* Sleep while the gate reads v; 0 when the sleep timed out. */
static int sleep_on(lc_shm_gate_t *g, uint32_t v)
{
    struct timespec t = { 0, GATE_LOOK_NS };

    return !(syscall(SYS_futex, g, FUTEX_WAIT, v, &t, NULL, 0) != 0 && errno == ETIMEDOUT);
}

void lc_shm_gate_enter(lc_shm_gate_t *g)
{
    uint32_t me = (uint32_t)syscall(SYS_gettid), v;
    int i;

    for (i = 0; i < GATE_SPINS; i++) {
        if (__atomic_load_n(g, __ATOMIC_RELAXED) == 0 && take(g, 0, me)) {
            return;
        }
        cpu_relax();
    }
    /* From here on the word carries GATE_SLEEPERS: this thread cannot know
     * whether others sleep, so whoever opens the gate after it wakes one. */
    for (;;) {
        v = __atomic_load_n(g, __ATOMIC_RELAXED);
        if (v == 0) {
            if (take(g, 0, me | GATE_SLEEPERS)) {
                return;
            }
        }
        else if ((v & GATE_SLEEPERS) || take(g, v, v | GATE_SLEEPERS)) {
            if (!sleep_on(g, v | GATE_SLEEPERS) && gone(v & ~GATE_SLEEPERS)
                && take(g, v | GATE_SLEEPERS, me | GATE_SLEEPERS)) {
                return;
            }
        }
    }
}

void lc_shm_gate_leave(lc_shm_gate_t *g)
{
    if (__atomic_exchange_n(g, 0, __ATOMIC_RELEASE) & GATE_SLEEPERS) {
        syscall(SYS_futex, g, FUTEX_WAKE, 1, NULL, NULL, 0);
    }
}
