/* lc_runner_progress.h — a command's progress reports, posted while it runs
 * (lc_runner_progress.c says how). */
#ifndef LC_RUNNER_PROGRESS_H
#define LC_RUNNER_PROGRESS_H

#include "lc_runner.h"

/* The descriptor a command writes its progress reports to. */
#define LC_RUNNER_REPORT_FD 3

/* After a restart: how far j's NAME.progress was posted (NAME.ppos). */
void lc_runner_progress_load(const lc_runner_t *r, lc_runner_job_t *j, apr_pool_t *p);

/* Post the complete lines of j's NAME.progress not posted yet: 0 all
 * posted, -1 the server could not take one (try again later). */
int lc_runner_progress_post(lc_runner_t *r, lc_runner_job_t *j, apr_pool_t *p);

#endif
