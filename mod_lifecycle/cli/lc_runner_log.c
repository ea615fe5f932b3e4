/* lc_runner_log.c — lifecycle-runner's log lines (see the header). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <apr_time.h>

#include "lc_runner_log.h"

void lc_runner_log(const char *fmt, ...)
{
    char line[2048], when[32];
    apr_time_exp_t t;
    apr_size_t n;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (getenv("JOURNAL_STREAM")) {
        fprintf(stderr, "lifecycle-runner: %s\n", line);
        return;
    }
    apr_time_exp_lt(&t, apr_time_now());
    apr_strftime(when, &n, sizeof(when), "%Y-%m-%d %H:%M:%S", &t);
    fprintf(stderr, "%s.%03d lifecycle-runner: %s\n", when, t.tm_usec / 1000, line);
}
