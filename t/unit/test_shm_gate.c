/* test_shm_gate.c — the futex gate in front of the store mutex
 * (lc_shm_gate.c): it lets one thread through at a time, wakes a sleeper
 * when it opens, is taken over when its holder's process is gone, and is
 * passed by when a live holder keeps it for over a second; a count of
 * sleepers left by dead ones is zeroed. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "lc_test.h"
#include "lc_shm_gate.h"

#define THREADS 8
#define ROUNDS  20000

typedef struct {
    lc_shm_gate_t gate;
    volatile long count;         /* changed only with the gate held */
    volatile int inside;         /* threads between enter and leave */
    volatile int overlap;        /* times one found another inside */
} shared_t;

static shared_t *shared(void)
{
    void *m = mmap(NULL, sizeof(shared_t), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    return m == MAP_FAILED ? NULL : m;
}

static void *contend(void *arg)
{
    shared_t *sh = arg;
    int i;

    for (i = 0; i < ROUNDS; i++) {
        lc_shm_gate_enter(&sh->gate);
        if (sh->inside++) {
            sh->overlap++;
        }
        sh->count = sh->count + 1;
        if (i % 64 == 0) {
            sched_yield();      /* holders preempted with the gate held, as in httpd */
        }
        sh->inside--;
        lc_shm_gate_leave(&sh->gate);
    }
    return NULL;
}

/* Live holders: never two inside, no increment lost, left open. */
static void test_excludes(void)
{
    shared_t *sh = shared();
    pthread_t t[THREADS];
    int i;

    for (i = 0; i < THREADS; i++) {
        pthread_create(&t[i], NULL, contend, sh);
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
    }
    CHECK(sh->count == (long)THREADS * ROUNDS);
    CHECK(sh->overlap == 0);
    CHECK(sh->gate.holder == 0);
    munmap(sh, sizeof(*sh));
}

static void *enter_once(void *arg)
{
    shared_t *sh = arg;

    lc_shm_gate_enter(&sh->gate);
    sh->count = 1;
    return NULL;
}

/* A sleeper is counted, and gets through once the holder leaves. */
static void test_wakes(void)
{
    shared_t *sh = shared();
    pthread_t t;
    int i;

    lc_shm_gate_enter(&sh->gate);
    CHECK(sh->gate.holder == (uint32_t)syscall(SYS_gettid));
    pthread_create(&t, NULL, enter_once, sh);
    /* Until the other thread sleeps here (it counts itself) or 20 s pass. */
    for (i = 0; i < 2000 && !__atomic_load_n(&sh->gate.sleepers, __ATOMIC_SEQ_CST); i++) {
        usleep(10000);
    }
    CHECK(sh->gate.sleepers == 1);
    CHECK(sh->count == 0);
    lc_shm_gate_leave(&sh->gate);
    pthread_join(t, NULL);
    CHECK(sh->count == 1);
    CHECK(sh->gate.holder != 0 && sh->gate.sleepers == 0);
    lc_shm_gate_leave(&sh->gate);
    CHECK(sh->gate.holder == 0);
    munmap(sh, sizeof(*sh));
}

/* A process that dies holding the gate: the next one takes it over, both
 * when it comes after the death and when it was already asleep there. */
static void test_dead_holder(int asleep_first)
{
    shared_t *sh = shared();
    int fds[2];
    char c;
    pid_t pid;

    CHECK(pipe(fds) == 0);
    pid = fork();
    if (pid == 0) {
        lc_shm_gate_enter(&sh->gate);
        if (write(fds[1], "x", 1) != 1) {
            _exit(2);
        }
        if (asleep_first) {
            usleep(100000);     /* the parent goes to sleep at the gate */
        }
        _exit(0);               /* without leaving */
    }
    CHECK(read(fds[0], &c, 1) == 1);
    if (!asleep_first) {
        waitpid(pid, NULL, 0);
    }
    /* The dead holder's process is reaped at once (SIGCHLD ignored), as
     * httpd's parent reaps a child.  A gate never taken over would hang
     * here: the alarm fails the test instead. */
    alarm(60);
    lc_shm_gate_enter(&sh->gate);
    alarm(0);
    CHECK(sh->gate.holder == (uint32_t)syscall(SYS_gettid));
    lc_shm_gate_leave(&sh->gate);
    CHECK(sh->gate.holder == 0);
    close(fds[0]);
    close(fds[1]);
    munmap(sh, sizeof(*sh));
}

/* A holder that lives but keeps the gate past GATE_STALE_LOOKS looks
 * (50 sleeps of 20 ms) is passed by: not before a second, but passed. */
static void test_stale_holder(void)
{
    shared_t *sh = shared();
    pthread_t t;
    struct timespec a, b;
    double waited;

    lc_shm_gate_enter(&sh->gate);       /* held by this thread, never left */
    clock_gettime(CLOCK_MONOTONIC, &a);
    alarm(60);
    pthread_create(&t, NULL, enter_once, sh);
    pthread_join(t, NULL);
    alarm(0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    waited = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    CHECK(sh->count == 1);
    CHECK(waited >= 1.0);
    munmap(sh, sizeof(*sh));
}

/* Counted sleepers that no longer sleep (threads killed while asleep
 * there): the first leave that wakes nobody zeroes the count. */
static void test_stale_count(void)
{
    shared_t *sh = shared();

    sh->gate.sleepers = 3;
    lc_shm_gate_enter(&sh->gate);
    lc_shm_gate_leave(&sh->gate);
    CHECK(sh->gate.sleepers == 0);
    CHECK(sh->gate.holder == 0);
    munmap(sh, sizeof(*sh));
}

int main(void)
{
    test_excludes();
    test_wakes();
    test_stale_holder();
    test_stale_count();
    signal(SIGCHLD, SIG_IGN);
    test_dead_holder(0);
    test_dead_holder(1);
    return lc_test_done("test_shm_gate");
}
