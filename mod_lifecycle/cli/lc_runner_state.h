/* lc_runner_state.h — what lifecycle-runner keeps on disk, so that a runner
 * killed at any moment and started again does nothing twice:
 *
 *   DIR/lock               flock: one runner per state directory
 *   DIR/since              the change feed's position: every change up to it
 *                          has been acted on (its command recorded below)
 *   DIR/jobs/NAME.job      a command the runner decided to run (written
 *                          before `since` passes its change)
 *   DIR/jobs/NAME.in       the resource, the command's stdin
 *   DIR/jobs/NAME.pid      "PID START": its supervisor, written before the
 *                          command is started (absent: never started)
 *   DIR/jobs/NAME.out      the outcome, written when the command has ended
 *   DIR/jobs/NAME.cancel   cancelled by a later stop: not reported
 *
 * NAME is KIND+ID+VERSION+ACTION.  Every file is written whole (a temporary
 * file, fsync, rename, fsync of the directory), so a reader sees the old
 * file or the new one.  Plain POSIX: the supervisor (lc_runner_exec.c), a
 * forked process, writes its files with it too.
 */
#ifndef LC_RUNNER_STATE_H
#define LC_RUNNER_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define LC_RUNNER_JOBNAME_MAX 200    /* 16 + 128 + 20 + 16 and separators */

/* Write dir/file whole: 0, or -1 with errno. */
int lc_runner_write_atomic(const char *dir, const char *file, const char *data, size_t len);

/* Take DIR/lock (made if missing): its fd (close-on-exec), or -1 with errno
 * (EWOULDBLOCK: another runner holds it).  Creates DIR/jobs. */
int lc_runner_state_open(const char *dir);

/* DIR/since: 0 with *since (0 when there is none yet), -1 when unreadable. */
int lc_runner_since_read(const char *dir, uint64_t *since);
int lc_runner_since_write(const char *dir, uint64_t since);

/* The job's file name base, KIND+ID+VERSION+ACTION, in out[LC_RUNNER_JOBNAME_MAX + 1];
 * -1 when it does not fit or a part holds '+' or '/'. */
int lc_runner_job_name(char *out, const char *kind, const char *id, uint64_t version,
                       const char *action);

/* The start time of process pid (/proc/PID/stat, clock ticks since boot),
 * 0 when there is no such process: with the pid, it names one process even
 * after the pid is reused. */
unsigned long long lc_runner_proc_start(pid_t pid);

/* Whether pid is still the process that started at `start`. */
int lc_runner_proc_alive(pid_t pid, unsigned long long start);

#endif
