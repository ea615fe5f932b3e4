/* lc_runner_jobs.c — the commands in flight (lc_runner_state.h has their
 * files, lc_runner_exec.c their supervisor).
 *
 * A job's life: NAME.in and NAME.job written (the decision, before the
 * feed's `since` passes its change) → a supervisor started, which writes
 * NAME.pid then runs the command → NAME.out → the outcome reported with
 * If-Match → the files removed, NAME.job first.  Whatever the moment a
 * runner dies, the next one finds one of: no NAME.job (nothing decided, or
 * all done: the leftovers go), NAME.job alone (never started: start it),
 * NAME.pid of a live supervisor (wait for it), NAME.pid of a dead one
 * without NAME.out (its outcome is lost: reported as a failure, never run
 * again), NAME.out (report it; a 412 because it was reported already is
 * the end of it).
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <apr_strings.h>
#include <apr_file_io.h>

#include "lc_runner.h"
#include "lc_runner_exec.h"
#include "lc_runner_progress.h"
#include "lc_runner_log.h"
#include "lc_json.h"

#define RETRY_AFTER  apr_time_from_sec(2)
#define SPAWNS_MAX   3
#define FILE_MAX     (LC_JSON_TEXT_MAX)

static const char *const job_exts[] = { "job", "in", "pid", "out", "cancel", "progress", "ppos",
                                         NULL };

static const char *job_path(const lc_runner_t *r, const lc_runner_job_t *j, const char *ext,
                            apr_pool_t *p)
{
    return apr_psprintf(p, "%s/%s.%s", r->jobs_dir, j->name, ext);
}

/* A whole small file, NUL-terminated, or NULL. */
static char *slurp(const char *path, apr_pool_t *p, apr_size_t *len)
{
    char *buf = apr_palloc(p, FILE_MAX + 1);
    apr_file_t *f;
    apr_status_t rv;

    *len = FILE_MAX;
    if (apr_file_open(&f, path, APR_FOPEN_READ, 0, p) != APR_SUCCESS) {
        return NULL;
    }
    rv = apr_file_read_full(f, buf, *len, len);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        return NULL;
    }
    buf[*len] = '\0';
    return buf;
}

static json_t *read_json(const char *path, apr_pool_t *p)
{
    apr_size_t len;
    char *text = slurp(path, p, &len);

    return text ? lc_json_parse(p, text, len, 0, NULL) : NULL;
}

static int write_file(const lc_runner_t *r, const lc_runner_job_t *j, const char *ext,
                      const char *text)
{
    char file[LC_RUNNER_JOBNAME_MAX + 8];

    snprintf(file, sizeof(file), "%s.%s", j->name, ext);
    return lc_runner_write_atomic(r->jobs_dir, file, text, strlen(text));
}

/* The job's files, NAME.job first: once it is gone the job is over, even if
 * the runner dies before the rest go (the next one removes them). */
static void job_remove(lc_runner_t *r, lc_runner_job_t *j)
{
    apr_pool_t *p;
    int i;

    apr_pool_create(&p, r->p);
    for (i = 0; job_exts[i]; i++) {
        unlink(job_path(r, j, job_exts[i], p));
        unlink(apr_psprintf(p, "%s/.%s.%s.tmp", r->jobs_dir, j->name, job_exts[i]));
    }
    apr_pool_destroy(p);
    memset(j, 0, sizeof(*j));
}

static lc_runner_job_t *job_slot(lc_runner_t *r)
{
    lc_runner_job_t *jobs = (lc_runner_job_t *)r->jobs->elts;
    int i;

    for (i = 0; i < r->jobs->nelts; i++) {
        if (!jobs[i].name[0]) {
            return &jobs[i];
        }
    }
    return memset(apr_array_push(r->jobs), 0, sizeof(lc_runner_job_t));
}

int lc_runner_jobs_active(const lc_runner_t *r)
{
    const lc_runner_job_t *jobs = (const lc_runner_job_t *)r->jobs->elts;
    int i, n = 0;

    for (i = 0; i < r->jobs->nelts; i++) {
        n += jobs[i].name[0] != '\0';
    }
    return n;
}

lc_runner_job_t *lc_runner_jobs_find(lc_runner_t *r, const char *kind, const char *id,
                                     const char *action)
{
    lc_runner_job_t *jobs = (lc_runner_job_t *)r->jobs->elts;
    int i;

    for (i = 0; i < r->jobs->nelts; i++) {
        if (jobs[i].name[0] && !jobs[i].cancelled && !strcmp(jobs[i].kind, kind)
            && !strcmp(jobs[i].id, id) && !strcmp(jobs[i].action, action)) {
            return &jobs[i];
        }
    }
    return NULL;
}

/* ---- starting -------------------------------------------------------------------- */

/* Start the supervisor of j from its NAME.job (argv and timeout as decided). */
static void spawn(lc_runner_t *r, lc_runner_job_t *j, apr_pool_t *p)
{
    json_t *job = read_json(job_path(r, j, "job", p), p), *argv = json_object_get(job, "argv");
    apr_array_header_t *words = apr_array_make(p, 8, sizeof(char *)), *env;
    lc_runner_exec_t e;
    size_t i;

    for (i = 0; i < json_array_size(argv); i++) {
        *(const char **)apr_array_push(words) = json_string_value(json_array_get(argv, i));
    }
    *(const char **)apr_array_push(words) = NULL;
    env = apr_array_make(p, 7, sizeof(char *));
    *(char **)apr_array_push(env) = apr_pstrcat(p, "LC_RUNNER_KIND=", j->kind, NULL);
    *(char **)apr_array_push(env) = apr_pstrcat(p, "LC_RUNNER_ID=", j->id, NULL);
    *(char **)apr_array_push(env) = apr_pstrcat(p, "LC_RUNNER_ACTION=", j->action, NULL);
    *(char **)apr_array_push(env) = apr_psprintf(p, "LC_RUNNER_VERSION=%" APR_UINT64_T_FMT,
                                                 (apr_uint64_t)j->version);
    *(char **)apr_array_push(env) = apr_pstrcat(p, "LC_RUNNER_JOB=", j->name, NULL);
    *(char **)apr_array_push(env) = apr_psprintf(p, "LC_RUNNER_REPORT_FD=%d", LC_RUNNER_REPORT_FD);
    *(char **)apr_array_push(env) = NULL;
    e.jobs_dir = r->jobs_dir;
    e.name = j->name;
    e.argv = (char *const *)words->elts;
    e.env = (char *const *)env->elts;
    e.timeout = apr_time_from_sec(json_integer_value(json_object_get(job, "timeout")));
    e.close_fd = r->lock_fd;
    j->spawns++;
    if (!job || !e.argv[0] || (j->pid = lc_runner_exec_start(&e)) < 0) {
        lc_runner_log("%s/%s v%llu: %s: cannot start its supervisor: %s", j->kind, j->id,
                      (unsigned long long)j->version, j->action,
                      job ? strerror(errno) : "NAME.job unreadable");
        j->pid = 0;
        return;
    }
    j->own = 1;
    j->start = lc_runner_proc_start(j->pid);
    lc_runner_log("%s/%s v%llu: %s started (%s, pid %ld)", j->kind, j->id,
                  (unsigned long long)j->version, j->action, e.argv[0], (long)j->pid);
}

static int job_fill(lc_runner_job_t *j, const char *kind, const char *id, uint64_t version,
                    const char *action, const char *op)
{
    if (lc_runner_job_name(j->name, kind, id, version, action) != 0 || strlen(id) >= sizeof(j->id)
        || strlen(kind) >= sizeof(j->kind) || strlen(action) >= sizeof(j->action)
        || strlen(op) >= sizeof(j->op)) {
        j->name[0] = '\0';
        return -1;
    }
    strcpy(j->kind, kind);
    strcpy(j->id, id);
    strcpy(j->action, action);
    strcpy(j->op, op);
    j->version = version;
    return 0;
}

static const char *op_name(unsigned op)
{
    static const char *const names[] = { "create", "replace", "transition", "report", "list" };
    unsigned i;

    for (i = 0; i < 5; i++) {
        if (op == (1u << i)) {
            return names[i];
        }
    }
    return "list";
}

int lc_runner_jobs_start(lc_runner_t *r, const lc_runner_kind_t *k, const lc_runner_row_t *row,
                         const char *id, uint64_t version, unsigned op, json_t *resource)
{
    const lc_runner_cmd_t *cmd = lc_runner_conf_cmd(r->conf, k->name, row->action);
    char vs[24], **argv;
    lc_runner_job_t *j;
    json_t *job, *words;
    apr_pool_t *p;
    int i, rc = -1;

    apr_pool_create(&p, r->p);
    snprintf(vs, sizeof(vs), "%llu", (unsigned long long)version);
    argv = lc_runner_conf_argv(p, cmd, id, vs);
    j = job_slot(r);
    if (!argv || job_fill(j, k->name, id, version, row->action, op_name(op)) != 0) {
        lc_runner_log("%s/%s: cannot name a job for it (id too long?)", k->name, id);
        apr_pool_destroy(p);
        return 0;       /* nothing to retry: skip it */
    }
    words = json_array();
    for (i = 0; argv[i]; i++) {
        json_array_append_new(words, json_string(argv[i]));
    }
    job = json_pack("{s:s, s:s, s:I, s:s, s:s, s:o, s:I}", "kind", k->name, "id", id,
                    "version", (json_int_t)version, "action", row->action, "op", j->op,
                    "argv", words, "timeout",
                    (json_int_t)apr_time_sec(lc_runner_conf_timeout(r->conf, cmd)));
    /* NAME.in before NAME.job: NAME.job is the decision, and finds its stdin. */
    if (write_file(r, j, "in", lc_json_dump(p, resource, JSON_COMPACT, NULL)) == 0
        && write_file(r, j, "job", lc_json_dump(p, job, JSON_COMPACT, NULL)) == 0) {
        spawn(r, j, p);
        rc = 0;
    }
    else {
        lc_runner_log("%s/%s v%llu: cannot record its job in %s: %s", k->name, id,
                      (unsigned long long)version, r->jobs_dir, strerror(errno));
        job_remove(r, j);
    }
    json_decref(job);
    apr_pool_destroy(p);
    return rc;
}

/* ---- cancelling -------------------------------------------------------------------- */

void lc_runner_jobs_cancel(lc_runner_t *r, const char *kind, const char *id, const char *keep)
{
    lc_runner_job_t *jobs = (lc_runner_job_t *)r->jobs->elts;
    int i;

    for (i = 0; i < r->jobs->nelts; i++) {
        lc_runner_job_t *j = &jobs[i];
        if (!j->name[0] || j->cancelled || strcmp(j->kind, kind) || strcmp(j->id, id)
            || (keep && !strcmp(j->action, keep))) {
            continue;
        }
        /* NAME.cancel first: a runner restarted now does not report it either. */
        write_file(r, j, "cancel", "");
        j->cancelled = 1;
        if (lc_runner_proc_alive(j->pid, j->start)) {
            kill(j->pid, SIGTERM);
        }
        lc_runner_log("%s/%s v%llu: %s cancelled (it has moved on)", j->kind, j->id,
                      (unsigned long long)j->version, j->action);
    }
}

/* ---- reporting ------------------------------------------------------------------------- */

static void log_report(const lc_runner_kind_t *k, const char *id, json_t *body, int put,
                       int st, uint64_t v)
{
    json_t *s = json_object_get(body, k->own_report ? "deployment_status" : "status");

    if (put && k->status_obj) {
        s = json_object_get(json_object_get(body, k->status_obj), k->status_key);
    }
    else if (put) {
        s = json_object_get(body, k->status_key);
    }
    lc_runner_log("%s/%s: reported %s (%s %d, now v%llu)", k->name, id,
                  json_string_value(s) ? json_string_value(s) : "?", put ? "PUT" : "report",
                  st, (unsigned long long)v);
}

/* After a 412: the resource as it is now.  1 = still where the outcome
 * applies (same row): report again with its version; 0 = it has moved on
 * (the report was made already, or a user changed it); -1 = unreachable. */
static int still_waiting(lc_runner_t *r, const lc_runner_kind_t *k, const lc_runner_row_t *row,
                         const char *id, apr_pool_t *p, json_t **now, uint64_t *version)
{
    int st = lc_runner_api_get(&r->api, p, k->name, id, now, version);

    if (st == 404) {
        lc_runner_log("%s/%s: gone: not reported", k->name, id);
        return 0;
    }
    if (st != 200) {
        return -1;
    }
    if (lc_runner_plan(k, LC_RUN_OP_LIST, *now) == row) {
        return 1;
    }
    lc_runner_log("%s/%s: already moved on (now %s, v%llu): not reported", k->name, id,
                  lc_runner_status(k, *now) ? lc_runner_status(k, *now) : "?",
                  (unsigned long long)*version);
    return 0;
}

int lc_runner_report_now(lc_runner_t *r, const lc_runner_kind_t *k, const lc_runner_row_t *row,
                         const char *id, uint64_t version, json_t *resource, int ok,
                         json_t *out, const char *message, apr_pool_t *p)
{
    int put, st, attempt, w;
    uint64_t nv;
    json_t *body, *res;
    const char *err;

    for (attempt = 0; attempt < 2; attempt++) {
        if (!(body = lc_json_pool_own(p, lc_runner_report(k, row, ok, resource, out, message,
                                                          &put)))) {
            return 0;
        }
        st = lc_runner_api_report(&r->api, p, k->name, id, version, body, put, &res, &nv);
        if (st == 200 || st == 201) {
            log_report(k, id, body, put, st, nv);
            return 0;
        }
        if (st == 412 && (w = still_waiting(r, k, row, id, p, &resource, &version)) > 0) {
            continue;
        }
        if (st == 412) {
            return w;
        }
        if (st == 404) {
            lc_runner_log("%s/%s: gone: not reported", k->name, id);
            return 0;
        }
        if (st == 401 || st == 403) {
            lc_runner_log("%s/%s: the server refused the token (%d); reading %s again",
                          k->name, id, st, r->api.token_file);
            if (lc_runner_api_token(&r->api, p, &err) != APR_SUCCESS) {
                lc_runner_log("%s", err);
            }
            return -1;
        }
        if (st < 0 || st >= 500) {
            lc_runner_log("%s/%s: the server cannot take the report now (%d); will retry",
                          k->name, id, st);
            return -1;
        }
        lc_runner_log("%s/%s: report refused: %d %s", k->name, id, st,
                      lc_runner_api_message(res));
        return 0;
    }
    lc_runner_log("%s/%s: changed again while reporting: not reported", k->name, id);
    return 0;
}

/* ---- reaping ------------------------------------------------------------------------ */

/* How a command that did not succeed ended, for the log and the report. */
static const char *describe(json_t *o, apr_pool_t *p)
{
    const char *result = json_string_value(json_object_get(o, "result"));
    json_t *code = json_object_get(o, "exit"), *sig = json_object_get(o, "signal");
    const char *how;

    result = result ? result : "";
    if (!strcmp(result, "timeout")) {
        how = "timed out";
    }
    else if (!strcmp(result, "interrupted")) {
        how = "was interrupted (its supervisor died; its outcome is unknown)";
    }
    else if (!strcmp(result, "unstarted")) {
        how = "could not be started";
    }
    else if (json_is_integer(code)) {
        how = apr_psprintf(p, "exited with status %d", (int)json_integer_value(code));
    }
    else if (json_is_integer(sig)) {
        how = apr_psprintf(p, "was killed by signal %d", (int)json_integer_value(sig));
    }
    else {
        how = "failed";
    }
    return how;
}

/* The command's stdout, when it is a JSON object: what the report carries. */
static json_t *command_output(json_t *o, apr_pool_t *p)
{
    const char *s = json_string_value(json_object_get(o, "stdout"));
    json_t *v;

    while (s && (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')) {
        s++;
    }
    if (!s || *s != '{') {
        return NULL;
    }
    v = lc_json_parse(p, s, strlen(s), 0, NULL);
    return json_is_object(v) ? v : NULL;
}

static void finish(lc_runner_t *r, lc_runner_job_t *j, json_t *o, apr_pool_t *p)
{
    const lc_runner_kind_t *k = lc_runner_kind(j->kind);
    json_t *res = read_json(job_path(r, j, "in", p), p);
    const lc_runner_row_t *row = k && res ? lc_runner_plan(k, lc_runner_op(j->op), res) : NULL;
    int ok = json_equal(json_object_get(o, "result"), lc_json_pool_own(p, json_string("ok")));
    const char *how = ok ? "succeeded" : describe(o, p);
    apr_finfo_t fi;

    if (j->cancelled || apr_stat(&fi, job_path(r, j, "cancel", p), APR_FINFO_TYPE, p)
                        == APR_SUCCESS) {
        lc_runner_log("%s/%s v%llu: %s ended after its cancel: not reported", j->kind, j->id,
                      (unsigned long long)j->version, j->action);
        job_remove(r, j);
        return;
    }
    if (!j->told) {
        json_t *ms = json_object_get(o, "ms");      /* none when it was never seen to end */
        lc_runner_log("%s/%s v%llu: %s %s%s", j->kind, j->id, (unsigned long long)j->version,
                      j->action, how, json_is_integer(ms)
                      ? apr_psprintf(p, " (%" APR_INT64_T_FMT " ms)",
                                     (apr_int64_t)json_integer_value(ms)) : "");
        j->told = 1;
    }
    if (lc_runner_progress_post(r, j, p) != 0) {
        j->retry_at = apr_time_now() + RETRY_AFTER;   /* its progress goes first */
        return;
    }
    if (row && (!row->action || strcmp(row->action, j->action))) {
        row = NULL;
    }
    if (row && lc_runner_report_now(r, k, row, j->id, j->version, res, ok,
                                    ok ? command_output(o, p) : NULL,
                                    ok ? NULL : apr_pstrcat(p, j->kind, ".", j->action, " ",
                                                            how, NULL), p) < 0) {
        j->retry_at = apr_time_now() + RETRY_AFTER;
        return;
    }
    job_remove(r, j);
}

/* Our own supervisors that have ended (adopted ones are reaped by init). */
static void collect_children(lc_runner_t *r)
{
    lc_runner_job_t *jobs = (lc_runner_job_t *)r->jobs->elts;
    pid_t pid;
    int i, st;

    while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
        for (i = 0; i < r->jobs->nelts; i++) {
            if (jobs[i].name[0] && jobs[i].own && jobs[i].pid == pid) {
                jobs[i].own = 0;
            }
        }
    }
}

/* Its outcome, NULL while it runs; a synthetic one when it cannot have one. */
static json_t *outcome(lc_runner_t *r, lc_runner_job_t *j, apr_pool_t *p)
{
    const char *out = job_path(r, j, "out", p);
    json_t *o = read_json(out, p);
    apr_finfo_t fi;

    if (o || j->own || lc_runner_proc_alive(j->pid, j->start)) {
        return o;
    }
    if ((o = read_json(out, p)) != NULL) {      /* it ended between the two looks */
        return o;
    }
    if (apr_stat(&fi, job_path(r, j, "pid", p), APR_FINFO_TYPE, p) == APR_SUCCESS) {
        return lc_json_pool_own(p, json_pack("{s:s}", "result", "interrupted"));
    }
    if (j->spawns < SPAWNS_MAX) {
        spawn(r, j, p);         /* decided, never started: start it (once) */
        return NULL;
    }
    return lc_json_pool_own(p, json_pack("{s:s}", "result", "unstarted"));
}

void lc_runner_jobs_reap(lc_runner_t *r)
{
    lc_runner_job_t *jobs;
    apr_time_t now = apr_time_now();
    apr_pool_t *p;
    json_t *o;
    int i;

    collect_children(r);
    apr_pool_create(&p, r->p);
    jobs = (lc_runner_job_t *)r->jobs->elts;
    for (i = 0; i < r->jobs->nelts; i++) {
        if (!jobs[i].name[0] || jobs[i].retry_at > now) {
            continue;
        }
        if ((o = outcome(r, &jobs[i], p)) != NULL) {
            finish(r, &jobs[i], o, p);
        }
        else if (!jobs[i].cancelled && lc_runner_progress_post(r, &jobs[i], p) != 0) {
            jobs[i].retry_at = now + RETRY_AFTER;
        }
        apr_pool_clear(p);
    }
    apr_pool_destroy(p);
}

/* ---- recovery ------------------------------------------------------------------------ */

static void adopt(lc_runner_t *r, const char *base, apr_pool_t *p)
{
    lc_runner_job_t *j = job_slot(r);
    json_t *job = read_json(apr_psprintf(p, "%s/%s.job", r->jobs_dir, base), p);
    apr_size_t len;
    char *pid = slurp(apr_psprintf(p, "%s/%s.pid", r->jobs_dir, base), p, &len);
    const char *kind = json_string_value(json_object_get(job, "kind"));
    const char *id = json_string_value(json_object_get(job, "id"));
    const char *action = json_string_value(json_object_get(job, "action"));
    const char *op = json_string_value(json_object_get(job, "op"));
    long pv = 0;

    if (!kind || !id || !action || !op
        || job_fill(j, kind, id, (uint64_t)json_integer_value(json_object_get(job, "version")),
                    action, op) != 0 || strcmp(j->name, base) != 0) {
        lc_runner_log("%s/%s.job: unreadable, left aside as %s.job.bad", r->jobs_dir, base, base);
        rename(apr_psprintf(p, "%s/%s.job", r->jobs_dir, base),
               apr_psprintf(p, "%s/%s.job.bad", r->jobs_dir, base));
        memset(j, 0, sizeof(*j));
        return;
    }
    if (pid && sscanf(pid, "%ld %llu", &pv, &j->start) == 2) {
        j->pid = (pid_t)pv;
    }
    lc_runner_progress_load(r, j, p);
    j->cancelled = apr_stat(&(apr_finfo_t){ 0 }, apr_psprintf(p, "%s/%s.cancel", r->jobs_dir, base),
                            APR_FINFO_TYPE, p) == APR_SUCCESS;
    lc_runner_log("%s/%s v%llu: %s found in flight (%s)", j->kind, j->id,
                  (unsigned long long)j->version, j->action,
                  !j->pid ? "not started yet"
                  : lc_runner_proc_alive(j->pid, j->start) ? "its command is still running"
                  : "its command has ended");
}

static int has_job(lc_runner_t *r, const char *base)
{
    lc_runner_job_t *jobs = (lc_runner_job_t *)r->jobs->elts;
    int i;

    for (i = 0; i < r->jobs->nelts; i++) {
        if (jobs[i].name[0] && strcmp(jobs[i].name, base) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Whether `name` is a temporary file (.NAME.EXT.tmp, lc_runner_write_atomic)
 * of a job found: its supervisor may be writing NAME.out through it right
 * now, so it must stay (job_remove takes it with the job's files). */
static int tmp_of_job(lc_runner_t *r, char *name)
{
    size_t n = strlen(name);
    char *dot;
    int found;

    if (name[0] != '.' || n < 6 || strcmp(name + n - 4, ".tmp") != 0) {
        return 0;
    }
    name[n - 4] = '\0';
    dot = strrchr(name, '.');
    if (dot && dot != name) {
        *dot = '\0';
    }
    found = dot && dot != name && has_job(r, name + 1);
    if (dot && dot != name) {
        *dot = '.';
    }
    name[n - 4] = '.';
    return found;
}

/* Every NAME.job becomes a job; files of no job (a cleanup cut short, a
 * decision never recorded) and temporary files go. */
void lc_runner_jobs_recover(lc_runner_t *r)
{
    apr_pool_t *p;
    struct dirent *e;
    char *dot;
    DIR *d;
    int pass;

    apr_pool_create(&p, r->p);
    for (pass = 0; pass < 2; pass++) {
        if (!(d = opendir(r->jobs_dir))) {
            break;
        }
        while ((e = readdir(d)) != NULL) {
            char *base = apr_pstrdup(p, e->d_name);
            if (base[0] == '.' && (!strcmp(base, ".") || !strcmp(base, ".."))) {
                continue;
            }
            if (base[0] == '.' || !(dot = strrchr(base, '.'))) {
                if (pass == 1 && !tmp_of_job(r, base)) {
                    unlink(apr_psprintf(p, "%s/%s", r->jobs_dir, e->d_name));
                }
                continue;
            }
            *dot++ = '\0';
            if (pass == 0 && !strcmp(dot, "job")) {
                adopt(r, base, p);
            }
            else if (pass == 1 && !has_job(r, base) && strcmp(dot, "bad") != 0) {
                unlink(apr_psprintf(p, "%s/%s", r->jobs_dir, e->d_name));
            }
        }
        closedir(d);
    }
    apr_pool_destroy(p);
}
