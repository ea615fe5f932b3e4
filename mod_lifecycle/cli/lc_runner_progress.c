/* lc_runner_progress.c — what a command reports while it runs.
 *
 * A command's stdout is its outcome, read when it ends.  What only the
 * command knows while it runs (an agent's steps, a pipeline's statistics,
 * its completion, its log lines, its storage status) it writes, one JSON
 * object a line, to file descriptor 3 (LC_RUNNER_REPORT_FD), which the
 * supervisor opens on NAME.progress in append mode.  The runner posts each
 * complete line, in order, as a report of its own (POST .../report, no
 * If-Match: a progress report changes no state, so it must not race the
 * user's changes), before the command's outcome is reported.
 *
 * How far NAME.progress has been posted is kept in NAME.ppos (written
 * atomically after each post), so a restarted runner carries on where its
 * predecessor stopped; a runner killed between a post and that write posts
 * that one line again (at least once).  A line the server refuses (4xx) is
 * logged and skipped; one it cannot take now (5xx, unreachable) is posted
 * again on a later pass, and so is every line after it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <apr_strings.h>

#include "lc_runner.h"
#include "lc_runner_log.h"
#include "lc_runner_progress.h"
#include "lc_json.h"

/* Bytes read from NAME.progress at a pass; a longer line is skipped. */
#define CHUNK LC_JSON_TEXT_MAX

static const char *ppath(const lc_runner_t *r, const lc_runner_job_t *j, const char *ext,
                         apr_pool_t *p)
{
    return apr_psprintf(p, "%s/%s.%s", r->jobs_dir, j->name, ext);
}

void lc_runner_progress_load(const lc_runner_t *r, lc_runner_job_t *j, apr_pool_t *p)
{
    FILE *f = fopen(ppath(r, j, "ppos", p), "r");
    unsigned long long off = 0;

    if (f) {
        if (fscanf(f, "%llu", &off) == 1) {
            j->progress_off = (apr_off_t)off;
        }
        fclose(f);
    }
}

static int save_pos(const lc_runner_t *r, const lc_runner_job_t *j, apr_pool_t *p)
{
    char file[LC_RUNNER_JOBNAME_MAX + 8];
    const char *text = apr_psprintf(p, "%" APR_OFF_T_FMT "\n", j->progress_off);

    snprintf(file, sizeof(file), "%s.ppos", j->name);
    return lc_runner_write_atomic(r->jobs_dir, file, text, strlen(text));
}

/* Post one line: 0 posted or refused for good, -1 the server cannot take it now. */
static int post_line(lc_runner_t *r, const lc_runner_job_t *j, const char *line, size_t len,
                     apr_pool_t *p)
{
    json_t *body = lc_json_parse(p, line, len, 0, NULL), *res = NULL;
    int st;

    if (!json_is_object(body)) {
        lc_runner_log("%s/%s: %s: a progress line that is not a JSON object: skipped",
                      j->kind, j->id, j->action);
        return 0;
    }
    st = lc_runner_api_progress(&r->api, p, j->kind, j->id, body, &res);
    if (st < 0 || st >= 500) {
        lc_runner_log("%s/%s: the server cannot take a progress report now (%d); will retry",
                      j->kind, j->id, st);
        return -1;
    }
    if (st != 200 && st != 201) {
        lc_runner_log("%s/%s: progress report refused: %d %s", j->kind, j->id, st,
                      lc_runner_api_message(res));
    }
    return 0;
}

/* The complete lines of buf[0..n), posted in order; how many bytes were used. */
static int post_lines(lc_runner_t *r, lc_runner_job_t *j, char *buf, size_t n, apr_pool_t *p)
{
    char *line = buf, *nl;

    while ((nl = memchr(line, '\n', n - (size_t)(line - buf))) != NULL) {
        if (nl > line && post_line(r, j, line, (size_t)(nl - line), p) != 0) {
            return -1;
        }
        j->progress_off += nl + 1 - line;
        line = nl + 1;
        if (save_pos(r, j, p) != 0) {
            lc_runner_log("%s/%s: cannot record its progress in %s: %s", j->kind, j->id,
                          r->jobs_dir, strerror(errno));
        }
    }
    if (line == buf && n == CHUNK) {      /* a line longer than we read: skip it */
        lc_runner_log("%s/%s: a progress line over %d bytes: skipped", j->kind, j->id, CHUNK);
        j->progress_off += (apr_off_t)n;
        j->progress_skip = 1;
    }
    return 0;
}

int lc_runner_progress_post(lc_runner_t *r, lc_runner_job_t *j, apr_pool_t *p)
{
    char *buf = apr_palloc(p, CHUNK);
    int fd = open(ppath(r, j, "progress", p), O_RDONLY | O_CLOEXEC);
    apr_off_t before;
    ssize_t n;
    int rc = 0;

    if (fd < 0) {
        return 0;                 /* nothing written yet */
    }
    while ((n = pread(fd, buf, CHUNK, j->progress_off)) > 0) {
        if (j->progress_skip) {   /* the rest of an over-long line */
            char *nl = memchr(buf, '\n', (size_t)n);
            j->progress_off += nl ? nl + 1 - buf : n;
            j->progress_skip = !nl;
            continue;
        }
        before = j->progress_off;
        if ((rc = post_lines(r, j, buf, (size_t)n, p)) != 0 || j->progress_off == before) {
            break;                /* retry later, or only a partial line so far */
        }
    }
    close(fd);
    return rc;
}
