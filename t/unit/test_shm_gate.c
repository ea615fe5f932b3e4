/* test_shm_gate.c — the futex gate in front of the store mutex
 * (lc_shm_gate.c): it lets one thread through at a time, wakes a sleeper
 * when it opens, and is taken over when its holder's process is gone. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

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
    CHECK(sh->gate == 0);
    munmap(sh, sizeof(*sh));
}

static void *enter_once(void *arg)
{
    shared_t *sh = arg;

    lc_shm_gate_enter(&sh->gate);
    sh->count = 1;
    return NULL;
}

/* A sleeper is woken by the leave, and the gate reads its thread id. */
static void test_wakes(void)
{
    shared_t *sh = shared();
    pthread_t t;
    int i;

    lc_shm_gate_enter(&sh->gate);
    CHECK(sh->gate == (lc_shm_gate_t)syscall(SYS_gettid));
    pthread_create(&t, NULL, enter_once, sh);
    /* Until the other thread sleeps here (it marks the gate) or 20 s pass. */
    for (i = 0; i < 2000 && !(sh->gate & 0x80000000u); i++) {
        usleep(10000);
    }
    CHECK(sh->gate & 0x80000000u);
    CHECK(sh->count == 0);
    lc_shm_gate_leave(&sh->gate);
    pthread_join(t, NULL);
    CHECK(sh->count == 1);
    CHECK((sh->gate & ~0x80000000u) != 0);
    lc_shm_gate_leave(&sh->gate);
    CHECK(sh->gate == 0);
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
    CHECK((sh->gate & ~0x80000000u) == (lc_shm_gate_t)syscall(SYS_gettid));
    lc_shm_gate_leave(&sh->gate);
    CHECK(sh->gate == 0);
    close(fds[0]);
    close(fds[1]);
    munmap(sh, sizeof(*sh));
}

int main(void)
{
    test_excludes();
    test_wakes();
    signal(SIGCHLD, SIG_IGN);
    test_dead_holder(0);
    test_dead_holder(1);
    return lc_test_done("test_shm_gate");
}
