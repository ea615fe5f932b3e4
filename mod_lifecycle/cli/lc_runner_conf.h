/* lc_runner_conf.h — lifecycle-runner's configuration file.
 *
 *   # comment
 *   url        = http://127.0.0.1:8080      the server (its admin API is URL/lifecycle/v1)
 *   token_file = /etc/lifecycle-runner/token    a bearer token, scope lifecycle.admin
 *   state_dir  = /var/lib/lifecycle-runner  where `since` and the commands in flight are kept
 *   timeout    = 300                        seconds a command may take (default 300)
 *   jobs       = 4                          commands at once (default 4)
 *   workstation.launch = /usr/local/bin/start-vm %id
 *   workstation.launch.timeout = 900
 *
 * A command is words split as a shell would split them (quotes, backslashes;
 * no expansion, no shell), the first an absolute path; in each word %id,
 * %kind, %action and %version are replaced by the resource's, %% by %.
 * Pure (APR only). */
#ifndef LC_RUNNER_CONF_H
#define LC_RUNNER_CONF_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#define LC_RUNNER_CONF_MAX   (64 * 1024)     /* bytes of a configuration file */
#define LC_RUNNER_LINE_MAX   4096            /* bytes of one line */
#define LC_RUNNER_JOBS_MAX   64
#define LC_RUNNER_TIMEOUT_MAX 86400          /* seconds */

typedef struct lc_runner_cmd {
    const char         *kind;
    const char         *action;
    const char         *line;       /* the command as written */
    apr_interval_time_t timeout;    /* 0: the file's default */
} lc_runner_cmd_t;

typedef struct lc_runner_conf {
    const char         *url;
    const char         *token_file;
    const char         *state_dir;
    apr_interval_time_t timeout;
    int                 jobs;
    apr_array_header_t *cmds;       /* lc_runner_cmd_t */
} lc_runner_conf_t;

/* Parse text[0..len) (named `name` in errors) into a new configuration.
 * APR_SUCCESS, or APR_EINVAL with *err "NAME:LINE: what is wrong". */
apr_status_t lc_runner_conf_parse(apr_pool_t *p, const char *text, apr_size_t len,
                                  const char *name, lc_runner_conf_t **out, const char **err);

/* Read and parse a file. */
apr_status_t lc_runner_conf_load(apr_pool_t *p, const char *path, lc_runner_conf_t **out,
                                  const char **err);

/* The command configured for kind.action, or NULL. */
const lc_runner_cmd_t *lc_runner_conf_cmd(const lc_runner_conf_t *c, const char *kind,
                                          const char *action);

/* Whether any command is configured for the kind (the runner leaves the
 * other kinds alone, even their moves that need no command). */
int lc_runner_conf_handles(const lc_runner_conf_t *c, const char *kind);

/* The command's words for one resource, NULL-terminated, in p. */
char **lc_runner_conf_argv(apr_pool_t *p, const lc_runner_cmd_t *cmd, const char *id,
                           const char *version);

/* The timeout of a command (its own, or the file's default). */
apr_interval_time_t lc_runner_conf_timeout(const lc_runner_conf_t *c, const lc_runner_cmd_t *cmd);

#endif
