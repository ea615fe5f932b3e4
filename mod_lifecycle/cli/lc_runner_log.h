/* lc_runner_log.h — lifecycle-runner's log: one line per action on stderr.
 * Under systemd (JOURNAL_STREAM set) the journal stamps each line; elsewhere
 * the line starts with the local time.  Never give it the token. */
#ifndef LC_RUNNER_LOG_H
#define LC_RUNNER_LOG_H

#include <apr.h>

void lc_runner_log(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#endif
