/* lc_runner.h — lifecycle-runner's state in memory, shared by the job table
 * (lc_runner_jobs.c) and the feed follower (lc_runner_loop.c).
 *
 *   lifecycle-runner.c   arguments, configuration, start-up
 *   lc_runner_loop.c     follows the change feed, decides, re-lists after a 410
 *   lc_runner_jobs.c     the commands in flight: start, adopt, reap, cancel, report
 *   lc_runner_exec.c     the supervisor of one command
 *   lc_runner_progress.c what a command reports while it runs
 *   lc_runner_state.c    the files that make a restart safe
 *   lc_runner_plan.c     what each kind's states ask for (pure)
 *   lc_runner_conf.c     the configuration file (pure)
 *   lc_runner_api.c      the admin API calls; lc_runner_http.c the HTTP client
 *   lc_runner_log.c      the log lines
 */
#ifndef LC_RUNNER_H
#define LC_RUNNER_H

#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>
#include <apr_pools.h>
#include <apr_tables.h>

#include "lc_runner_api.h"
#include "lc_runner_conf.h"
#include "lc_runner_plan.h"
#include "lc_runner_state.h"

#define LC_RUNNER_ID_MAX 128          /* the module's id grammar (lc_id_valid) */

typedef struct lc_runner_job {
    char        name[LC_RUNNER_JOBNAME_MAX + 1];    /* "": a free slot */
    char        kind[LC_RUN_NAME_MAX + 1];
    char        action[LC_RUN_NAME_MAX + 1];
    char        op[LC_RUN_NAME_MAX + 1];            /* the change's op it follows */
    char        id[LC_RUNNER_ID_MAX + 1];
    uint64_t    version;
    pid_t       pid;            /* its supervisor, 0 before one started */
    unsigned long long start;   /* the supervisor's start time (lc_runner_proc_start) */
    int         own;            /* the supervisor is this runner's child, not reaped yet */
    int         spawns;         /* supervisors started for it by this runner */
    int         cancelled;
    int         told;           /* its outcome is logged (a report may be retried) */
    apr_time_t  retry_at;       /* a report the server could not take yet */
    apr_off_t   progress_off;   /* NAME.progress posted up to here (lc_runner_progress.c) */
    int         progress_skip;  /* inside a progress line too long to post */
} lc_runner_job_t;

typedef struct lc_runner {
    apr_pool_t             *p;
    const lc_runner_conf_t *conf;
    lc_runner_api_t         api;
    const char             *jobs_dir;
    int                     lock_fd;
    uint64_t                since;
    apr_array_header_t     *jobs;   /* lc_runner_job_t */
} lc_runner_t;

/* ---- lc_runner_jobs.c ---- */

/* Load DIR/jobs after a restart (and drop the files no job owns). */
void lc_runner_jobs_recover(lc_runner_t *r);

/* Jobs whose command has not ended or whose report is pending. */
int lc_runner_jobs_active(const lc_runner_t *r);

/* A job for kind/id/action, not cancelled, or NULL. */
lc_runner_job_t *lc_runner_jobs_find(lc_runner_t *r, const char *kind, const char *id,
                                     const char *action);

/* Cancel kind/id's jobs but those of `keep` (NULL: all). */
void lc_runner_jobs_cancel(lc_runner_t *r, const char *kind, const char *id, const char *keep);

/* Record and start the row's command for the resource: 0, or -1 (not
 * recorded: try again later). */
int lc_runner_jobs_start(lc_runner_t *r, const lc_runner_kind_t *k, const lc_runner_row_t *row,
                         const char *id, uint64_t version, unsigned op, json_t *resource);

/* Report the outcome of every job that has ended; start those recorded but
 * never started. */
void lc_runner_jobs_reap(lc_runner_t *r);

/* Report an outcome with If-Match `version`: 0 done (or not wanted any
 * more), -1 the server could not take it (try again later). */
int lc_runner_report_now(lc_runner_t *r, const lc_runner_kind_t *k, const lc_runner_row_t *row,
                         const char *id, uint64_t version, json_t *resource, int ok,
                         json_t *out, const char *message, apr_pool_t *p);

/* ---- lc_runner_loop.c ---- */

/* Follow the feed until killed; returns only on a fatal error (1). */
int lc_runner_follow(lc_runner_t *r);

#endif
