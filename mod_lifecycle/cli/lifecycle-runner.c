/* lifecycle-runner — the reference runner of mod_lifecycle.
 *
 *   lifecycle-runner [--config FILE] [--check]
 *
 * Follows the admin API's change feed; for each resource waiting for a
 * runner (a workstation provisioning, a notebook's job queued or running,
 * a pipeline provisioning or wanted Suspended, ...) runs the operator's
 * command for its kind and action, then reports the outcome with If-Match;
 * after a user's stop it runs the kind's stop command.  What it has decided
 * is on disk before it moves on, so it can be killed at any moment and
 * started again without doing anything twice.  lifecycle-runner(1) and the
 * README's "Reference runner" say more; lc_runner.h lists its files.
 *
 * Exit status: 0 --check passed, 1 a fatal error, 2 usage.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "lc_runner.h"
#include "lc_runner_log.h"
#include "lc_version.h"

#define DEFAULT_CONFIG "/etc/lifecycle-runner/lifecycle-runner.conf"

static const char *prog = "lifecycle-runner";

static void usage(FILE *f)
{
    fprintf(f,
        "usage: %s [--config FILE] [--check]\n"
        "  Follow mod_lifecycle's change feed and run the operator's command for each\n"
        "  resource waiting for a runner, then report the outcome through the admin API.\n"
        "  --config FILE  the configuration (default " DEFAULT_CONFIG ")\n"
        "  --check        read the configuration and the token, say what is handled, exit\n"
        "  --help         this text\n"
        "  --version      the version (mod_lifecycle's: one VERSION for both)\n"
        "Configuration (KEY = VALUE lines, # comments):\n"
        "  url = http://127.0.0.1:80        the server; its admin API is URL/lifecycle/v1\n"
        "  token_file = FILE                a bearer token with scope lifecycle.admin\n"
        "  state_dir = DIR                  `since` and the commands in flight (one runner each)\n"
        "  timeout = 300                    seconds a command may take (then SIGTERM, SIGKILL)\n"
        "  jobs = 4                         commands at once\n"
        "  KIND.ACTION = /abs/path args     %%id %%kind %%action %%version replaced; the resource\n"
        "                                   as JSON on stdin; exit 0 = success; a JSON object on\n"
        "                                   stdout is merged into the report\n"
        "  KIND.ACTION.timeout = SECONDS\n"
        "Kinds and actions:\n"
        "  workstation.launch  workstation.stop\n"
        "  wrapper.execute     wrapper.stop\n"
        "  notebook.start      notebook.run      notebook.stop\n"
        "  agent.run           agent.stop\n"
        "  session.start       session.stop\n"
        "  pipeline.provision  pipeline.initialize  pipeline.suspend  pipeline.stop\n"
        "  pipeline.pause  pipeline.resume  pipeline.activate  pipeline.bootstrap\n"
        "Logs one line per action on stderr; never logs the token.  See lifecycle-runner(1).\n",
        prog);
}

/* Which kinds and actions the configuration handles (for --check). */
static void print_handled(const lc_runner_conf_t *c)
{
    const lc_runner_cmd_t *cmds = (const lc_runner_cmd_t *)c->cmds->elts;
    int i;

    printf("%s: server %s, state in %s, %d job%s at once\n", prog, c->url, c->state_dir,
           c->jobs, c->jobs == 1 ? "" : "s");
    for (i = 0; i < c->cmds->nelts; i++) {
        printf("  %s.%s = %s (timeout %llds)\n", cmds[i].kind, cmds[i].action, cmds[i].line,
               (long long)apr_time_sec(lc_runner_conf_timeout(c, &cmds[i])));
    }
}

static int parse_args(int argc, const char *const *argv, const char **config, int *check)
{
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            *config = argv[++i];
        }
        else if (strcmp(argv[i], "--check") == 0) {
            *check = 1;
        }
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        else if (strcmp(argv[i], "--version") == 0) {
            printf("%s %s\n", prog, LC_VERSION_STRING);
            return 0;
        }
        else {
            usage(stderr);
            return 2;
        }
    }
    return -1;
}

/* The state directory: locked, `since` read, the jobs in flight found again. */
static int open_state(lc_runner_t *r)
{
    if ((r->lock_fd = lc_runner_state_open(r->conf->state_dir)) < 0) {
        lc_runner_log("%s: %s", r->conf->state_dir,
                      errno == EWOULDBLOCK ? "another lifecycle-runner uses it"
                                           : strerror(errno));
        return 1;
    }
    if (lc_runner_since_read(r->conf->state_dir, &r->since) != 0) {
        lc_runner_log("%s/since: unreadable; remove it to re-list every resource",
                      r->conf->state_dir);
        return 1;
    }
    r->jobs_dir = apr_pstrcat(r->p, r->conf->state_dir, "/jobs", NULL);
    r->jobs = apr_array_make(r->p, 16, sizeof(lc_runner_job_t));
    lc_runner_jobs_recover(r);
    return 0;
}

int main(int argc, const char *const *argv)
{
    const char *config = DEFAULT_CONFIG, *err = NULL;
    lc_runner_conf_t *conf;
    lc_runner_t r;
    int check = 0, rc;

    if ((rc = parse_args(argc, argv, &config, &check)) >= 0) {
        return rc;
    }
    if (apr_app_initialize(&argc, &argv, NULL) != APR_SUCCESS || sodium_init() < 0) {
        fprintf(stderr, "%s: cannot initialise APR or libsodium\n", prog);
        return 1;
    }
    /* A server that closes early must not kill the runner mid-write. */
    signal(SIGPIPE, SIG_IGN);
    memset(&r, 0, sizeof(r));
    apr_pool_create(&r.p, NULL);
    if (lc_runner_conf_load(r.p, config, &conf, &err) != APR_SUCCESS
        || lc_runner_api_init(r.p, conf->url, conf->token_file, &r.api, &err) != APR_SUCCESS) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return 1;
    }
    r.conf = conf;
    if (check) {
        print_handled(conf);
        return 0;
    }
    if (open_state(&r) != 0) {
        return 1;
    }
    return lc_runner_follow(&r);
}
