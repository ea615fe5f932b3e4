/* lc_runner_exec.h — running one operator command under a supervisor.
 *
 * The runner forks a supervisor per command.  The supervisor leaves the
 * runner's session (setsid), so that a runner killed or restarted does not
 * take the command with it: the next runner finds the supervisor by its
 * NAME.pid, or its outcome in NAME.out, and reports it — the command is
 * never started a second time (lc_runner_state.h).  It writes NAME.pid,
 * starts the command in a process group of its own with NAME.in on stdin
 * and NAME.progress on descriptor 3 (lc_runner_progress.h),
 * keeps the first LC_RUNNER_STDOUT_MAX bytes of its stdout (stderr is the
 * runner's), ends it at its timeout (SIGTERM to the group, SIGKILL 5 s
 * later) or when cancelled (SIGTERM to the supervisor), and writes NAME.out:
 *   {"result":"ok"|"failed"|"timeout"|"cancelled", "exit":N|null,
 *    "signal":N|null, "ms":N, "stdout":"..."}
 */
#ifndef LC_RUNNER_EXEC_H
#define LC_RUNNER_EXEC_H

#include <sys/types.h>
#include <apr_time.h>

#define LC_RUNNER_STDOUT_MAX 16384

typedef struct lc_runner_exec {
    const char         *jobs_dir;
    const char         *name;        /* the job's NAME */
    char *const        *argv;        /* argv[0] an absolute path */
    char *const        *env;         /* NAME=VALUE added to the runner's environment */
    apr_interval_time_t timeout;
    int                 close_fd;    /* the state lock, which the supervisor must not hold */
} lc_runner_exec_t;

/* Fork the supervisor: its pid, or -1 with errno. */
pid_t lc_runner_exec_start(const lc_runner_exec_t *e);

#endif
