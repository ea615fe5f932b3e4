/* lc_runner_exec.c — the supervisor of one operator command (see the header).
 *
 * After fork() the supervisor uses plain POSIX and jansson only: it shares
 * nothing with the runner but the files of its job.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <jansson.h>

#include "lc_runner_exec.h"
#include "lc_runner_state.h"
#include "lc_runner_progress.h"

#define KILL_GRACE  apr_time_from_sec(5)
#define POLL_MS     100

static volatile sig_atomic_t cancelled;

static void on_term(int sig)
{
    (void)sig;
    cancelled = 1;
}

typedef struct run {
    pid_t      cmd;
    int        out_fd;          /* its stdout; -1 once at EOF */
    char       buf[LC_RUNNER_STDOUT_MAX];
    size_t     len;
    const char *result;         /* set when the supervisor ends it */
    apr_time_t term_at;         /* when SIGTERM went to its group, 0 before */
    int        status;          /* waitpid's */
} run_t;

static void supervisor_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_term;            /* no SA_RESTART: poll() returns */
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGINT, &sa, NULL);       /* a Ctrl-C meant for the runner */
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGPIPE, &sa, NULL);
}

/* Descriptor 3 of the command: NAME.progress, appended to
 * (lc_runner_progress.c posts its lines). */
static int open_progress(const lc_runner_exec_t *e)
{
    char path[1024];
    int fd;

    snprintf(path, sizeof(path), "%s/%s.progress", e->jobs_dir, e->name);
    if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600)) < 0) {
        return -1;
    }
    if (fd != LC_RUNNER_REPORT_FD) {
        if (dup2(fd, LC_RUNNER_REPORT_FD) < 0) {
            return -1;
        }
        close(fd);
    }
    return 0;
}

/* In the command's process, before exec: its own group, stdin, stdout, the
 * signals as a fresh process has them. */
static void command_child(const lc_runner_exec_t *e, int in_fd, int out_fd)
{
    struct sigaction sa;
    sigset_t none;
    int i;

    setpgid(0, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGPIPE, &sa, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || open_progress(e) != 0) {
        _exit(127);
    }
    for (i = 0; e->env && e->env[i]; i++) {
        putenv(e->env[i]);
    }
    execv(e->argv[0], e->argv);
    fprintf(stderr, "lifecycle-runner: %s: cannot run %s: %s\n", e->name, e->argv[0],
            strerror(errno));
    _exit(127);
}

static int start_command(const lc_runner_exec_t *e, run_t *r)
{
    char path[1024];
    int in_fd, pfd[2];

    snprintf(path, sizeof(path), "%s/%s.in", e->jobs_dir, e->name);
    if ((in_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        return -1;
    }
    if (pipe2(pfd, O_CLOEXEC) != 0) {
        close(in_fd);
        return -1;
    }
    if ((r->cmd = fork()) == 0) {
        command_child(e, in_fd, pfd[1]);
    }
    close(in_fd);
    close(pfd[1]);
    if (r->cmd < 0) {
        close(pfd[0]);
        return -1;
    }
    setpgid(r->cmd, r->cmd);            /* as the child does: whichever runs first */
    r->out_fd = pfd[0];
    return 0;
}

/* Read what stdout has (keeping the first LC_RUNNER_STDOUT_MAX bytes),
 * waiting up to `ms`. */
static void read_stdout(run_t *r, int ms)
{
    struct pollfd pf = { r->out_fd, POLLIN, 0 };
    char sink[4096];
    ssize_t n;

    if (r->out_fd < 0) {
        if (ms > 0) {
            poll(NULL, 0, ms);
        }
        return;
    }
    if (poll(&pf, 1, ms) <= 0) {
        return;
    }
    if (r->len < sizeof(r->buf)) {
        n = read(r->out_fd, r->buf + r->len, sizeof(r->buf) - r->len);
    }
    else {
        n = read(r->out_fd, sink, sizeof(sink));    /* drained, not kept */
        n = n > 0 ? 0 : n;
    }
    if (n > 0) {
        r->len += (size_t)n;
    }
    else if (n == 0 && r->len < sizeof(r->buf)) {
        close(r->out_fd);
        r->out_fd = -1;
    }
}

/* Its timeout, or a cancel: SIGTERM to the group, then SIGKILL. */
static void enforce(run_t *r, apr_time_t deadline)
{
    apr_time_t now = apr_time_now();

    if (!r->term_at && (cancelled || now >= deadline)) {
        r->result = cancelled ? "cancelled" : "timeout";
        r->term_at = now;
        kill(-r->cmd, SIGTERM);
    }
    else if (r->term_at && now - r->term_at >= KILL_GRACE) {
        kill(-r->cmd, SIGKILL);
    }
}

static void wait_command(run_t *r, apr_interval_time_t timeout)
{
    apr_time_t deadline = apr_time_now() + timeout;
    pid_t w;

    for (;;) {
        read_stdout(r, POLL_MS);
        if ((w = waitpid(r->cmd, &r->status, WNOHANG)) == r->cmd
            || (w < 0 && errno != EINTR)) {
            break;
        }
        enforce(r, deadline);
    }
    /* What it wrote before it ended; a child it left behind may hold the
     * pipe open, so take only what is there now. */
    while (r->out_fd >= 0 && r->len < sizeof(r->buf)) {
        size_t before = r->len;
        read_stdout(r, 0);
        if (r->len == before) {
            break;
        }
    }
}

static void write_outcome(const lc_runner_exec_t *e, run_t *r, apr_time_t began)
{
    int exited = r->cmd > 0 && WIFEXITED(r->status), code = WEXITSTATUS(r->status);
    int sig = r->cmd > 0 && WIFSIGNALED(r->status) ? WTERMSIG(r->status) : 0;
    const char *result = r->result ? r->result : (exited && code == 0) ? "ok" : "failed";
    char name[LC_RUNNER_JOBNAME_MAX + 8], *text;
    json_t *o;

    o = json_pack("{s:s, s:o, s:o, s:I, s:s%}", "result", result,
                  "exit", exited ? json_integer(code) : json_null(),
                  "signal", sig ? json_integer(sig) : json_null(),
                  "ms", (json_int_t)apr_time_as_msec(apr_time_now() - began),
                  "stdout", r->buf, r->len);
    if (!o) {       /* stdout was not UTF-8: keep the outcome without it */
        o = json_pack("{s:s, s:o, s:o, s:I, s:s}", "result", result,
                      "exit", exited ? json_integer(code) : json_null(),
                      "signal", sig ? json_integer(sig) : json_null(),
                      "ms", (json_int_t)apr_time_as_msec(apr_time_now() - began), "stdout", "");
    }
    text = json_dumps(o, JSON_COMPACT);
    snprintf(name, sizeof(name), "%s.out", e->name);
    if (!text || lc_runner_write_atomic(e->jobs_dir, name, text, strlen(text)) != 0) {
        fprintf(stderr, "lifecycle-runner: %s: cannot write its outcome: %s\n", e->name,
                strerror(errno));
    }
    free(text);
    json_decref(o);
}

static int supervise(const lc_runner_exec_t *e)
{
    char line[64], name[LC_RUNNER_JOBNAME_MAX + 8];
    apr_time_t began = apr_time_now();
    run_t *r = calloc(1, sizeof(*r));
    int n;

    close(e->close_fd);
    setsid();
    supervisor_signals();
    /* NAME.pid first: a runner that finds it knows the command may have run. */
    n = snprintf(line, sizeof(line), "%ld %llu\n", (long)getpid(),
                 lc_runner_proc_start(getpid()));
    snprintf(name, sizeof(name), "%s.pid", e->name);
    if (!r || lc_runner_write_atomic(e->jobs_dir, name, line, (size_t)n) != 0) {
        fprintf(stderr, "lifecycle-runner: %s: cannot write its pid file: %s\n", e->name,
                strerror(errno));
        return 1;       /* not started: the next runner starts it */
    }
    if (start_command(e, r) != 0) {
        fprintf(stderr, "lifecycle-runner: %s: cannot start: %s\n", e->name, strerror(errno));
        r->cmd = -1;
    }
    else {
        wait_command(r, e->timeout);
    }
    write_outcome(e, r, began);
    return 0;
}

pid_t lc_runner_exec_start(const lc_runner_exec_t *e)
{
    pid_t pid;

    fflush(stderr);
    if ((pid = fork()) == 0) {
        _exit(supervise(e));
    }
    return pid;
}
