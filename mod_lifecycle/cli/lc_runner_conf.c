/* lc_runner_conf.c — lifecycle-runner's configuration file (see the header).
 *
 * Strict, as the module's directives are: an unknown key, a command for an
 * action no kind has, a relative command path or a value out of range is an
 * error naming its line, so that a typo never leaves a kind silently
 * unhandled.
 */
#include <string.h>
#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_lib.h>

#include "lc_runner_conf.h"
#include "lc_runner_plan.h"
#include "lc_util.h"

#define DEFAULT_TIMEOUT 300
#define DEFAULT_JOBS    4

typedef struct parse_ctx {
    apr_pool_t       *p;
    const char       *name;
    int               line;
    lc_runner_conf_t *c;
    const char       *err;
} parse_ctx_t;

static apr_status_t fail(parse_ctx_t *x, const char *what)
{
    x->err = apr_psprintf(x->p, "%s:%d: %s", x->name, x->line, what);
    return APR_EINVAL;
}

/* An error about the file as a whole (no line). */
static apr_status_t fail_file(parse_ctx_t *x, const char *what)
{
    x->err = apr_psprintf(x->p, "%s: %s", x->name, what);
    return APR_EINVAL;
}

static char *trim(char *s)
{
    char *e;

    while (apr_isspace(*s)) {
        s++;
    }
    e = s + strlen(s);
    while (e > s && apr_isspace(e[-1])) {
        *--e = '\0';
    }
    return s;
}

static apr_status_t set_seconds(parse_ctx_t *x, const char *v, long max,
                                apr_interval_time_t *out)
{
    long n;

    if (lc_parse_uint(v, 1, max, &n) != 0) {
        return fail(x, apr_psprintf(x->p, "'%s' must be a whole number of seconds, 1 to %ld",
                                    v, max));
    }
    *out = apr_time_from_sec(n);
    return APR_SUCCESS;
}

/* A command line: at least one word, the first an absolute path. */
static apr_status_t check_command(parse_ctx_t *x, const char *v)
{
    char **argv;

    if (apr_tokenize_to_argv(v, &argv, x->p) != APR_SUCCESS || !argv[0]) {
        return fail(x, "a command is needed");
    }
    if (argv[0][0] != '/') {
        return fail(x, apr_psprintf(x->p, "'%s': the command must be an absolute path",
                                    argv[0]));
    }
    return APR_SUCCESS;
}

static lc_runner_cmd_t *find_cmd(lc_runner_conf_t *c, const char *kind, const char *action)
{
    return (lc_runner_cmd_t *)lc_runner_conf_cmd(c, kind, action);
}

/* kind.action = command, or kind.action.timeout = seconds */
static apr_status_t set_command(parse_ctx_t *x, const char *key, const char *v)
{
    char *kind = apr_pstrdup(x->p, key), *action = strchr(kind, '.'), *opt;
    lc_runner_cmd_t *cmd;

    *action++ = '\0';
    if ((opt = strchr(action, '.')) != NULL) {
        *opt++ = '\0';
    }
    if (!lc_runner_action_known(kind, action) || (opt && strcmp(opt, "timeout"))) {
        return fail(x, apr_psprintf(x->p, "unknown key '%s' (KIND.ACTION or "
                                    "KIND.ACTION.timeout, see lifecycle-runner(1))", key));
    }
    if (!(cmd = find_cmd(x->c, kind, action))) {
        cmd = apr_array_push(x->c->cmds);
        memset(cmd, 0, sizeof(*cmd));
        cmd->kind = kind;
        cmd->action = action;
    }
    if (opt) {
        return set_seconds(x, v, LC_RUNNER_TIMEOUT_MAX, &cmd->timeout);
    }
    if (cmd->line) {
        return fail(x, apr_psprintf(x->p, "'%s' is set twice", key));
    }
    cmd->line = apr_pstrdup(x->p, v);
    return check_command(x, v);
}

static apr_status_t set_key(parse_ctx_t *x, const char *key, const char *v)
{
    long n;

    if (strcmp(key, "url") == 0) {
        if (strncmp(v, "http://", 7) != 0 || !v[7]) {
            return fail(x, "url must be http://HOST[:PORT]");
        }
        x->c->url = apr_pstrdup(x->p, v);
    }
    else if (strcmp(key, "token_file") == 0) {
        x->c->token_file = apr_pstrdup(x->p, v);
    }
    else if (strcmp(key, "state_dir") == 0) {
        x->c->state_dir = apr_pstrdup(x->p, v);
    }
    else if (strcmp(key, "timeout") == 0) {
        return set_seconds(x, v, LC_RUNNER_TIMEOUT_MAX, &x->c->timeout);
    }
    else if (strcmp(key, "jobs") == 0) {
        if (lc_parse_uint(v, 1, LC_RUNNER_JOBS_MAX, &n) != 0) {
            return fail(x, apr_psprintf(x->p, "jobs must be 1 to %d", LC_RUNNER_JOBS_MAX));
        }
        x->c->jobs = (int)n;
    }
    else if (strchr(key, '.')) {
        return set_command(x, key, v);
    }
    else {
        return fail(x, apr_psprintf(x->p, "unknown key '%s'", key));
    }
    return APR_SUCCESS;
}

static apr_status_t parse_line(parse_ctx_t *x, char *line)
{
    char *eq, *key, *v;

    line = trim(line);
    if (!*line || *line == '#') {
        return APR_SUCCESS;
    }
    if (!(eq = strchr(line, '='))) {
        return fail(x, "expected KEY = VALUE");
    }
    *eq = '\0';
    key = trim(line);
    v = trim(eq + 1);
    if (!*key || !*v) {
        return fail(x, "expected KEY = VALUE");
    }
    return set_key(x, key, v);
}

/* What every file needs, checked after its last line. */
static apr_status_t check_required(parse_ctx_t *x)
{
    const lc_runner_cmd_t *cmds = (const lc_runner_cmd_t *)x->c->cmds->elts;
    int i;

    if (!x->c->url || !x->c->token_file || !x->c->state_dir) {
        return fail_file(x, "url, token_file and state_dir are required");
    }
    for (i = 0; i < x->c->cmds->nelts; i++) {
        if (!cmds[i].line) {
            return fail_file(x, apr_psprintf(x->p, "%s.%s.timeout without %s.%s", cmds[i].kind,
                                             cmds[i].action, cmds[i].kind, cmds[i].action));
        }
    }
    return APR_SUCCESS;
}

apr_status_t lc_runner_conf_parse(apr_pool_t *p, const char *text, apr_size_t len,
                                  const char *name, lc_runner_conf_t **out, const char **err)
{
    parse_ctx_t x = { p, name, 0, apr_pcalloc(p, sizeof(lc_runner_conf_t)), NULL };
    const char *end = text + len, *nl;
    apr_status_t rv;

    x.c->timeout = apr_time_from_sec(DEFAULT_TIMEOUT);
    x.c->jobs = DEFAULT_JOBS;
    x.c->cmds = apr_array_make(p, 8, sizeof(lc_runner_cmd_t));
    for (; text < end; text = nl + 1) {
        x.line++;
        if (!(nl = memchr(text, '\n', (apr_size_t)(end - text)))) {
            nl = end;
        }
        if ((apr_size_t)(nl - text) > LC_RUNNER_LINE_MAX || memchr(text, '\0', nl - text)) {
            rv = fail(&x, "line too long, or a NUL byte");
        }
        else {
            rv = parse_line(&x, apr_pstrmemdup(p, text, (apr_size_t)(nl - text)));
        }
        if (rv != APR_SUCCESS) {
            *err = x.err;
            return rv;
        }
    }
    if ((rv = check_required(&x)) != APR_SUCCESS) {
        *err = x.err;
        return rv;
    }
    *out = x.c;
    return APR_SUCCESS;
}

apr_status_t lc_runner_conf_load(apr_pool_t *p, const char *path, lc_runner_conf_t **out,
                                 const char **err)
{
    char *buf = apr_palloc(p, LC_RUNNER_CONF_MAX + 1);
    apr_size_t len = LC_RUNNER_CONF_MAX + 1;
    apr_file_t *f;
    apr_status_t rv;
    char why[120];

    if ((rv = apr_file_open(&f, path, APR_FOPEN_READ, 0, p)) != APR_SUCCESS) {
        *err = apr_psprintf(p, "%s: %s", path, apr_strerror(rv, why, sizeof(why)));
        return rv;
    }
    rv = apr_file_read_full(f, buf, len, &len);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        *err = apr_psprintf(p, "%s: %s", path, apr_strerror(rv, why, sizeof(why)));
        return rv;
    }
    if (len > LC_RUNNER_CONF_MAX) {
        *err = apr_psprintf(p, "%s: larger than %d bytes", path, LC_RUNNER_CONF_MAX);
        return APR_EINVAL;
    }
    return lc_runner_conf_parse(p, buf, len, path, out, err);
}

const lc_runner_cmd_t *lc_runner_conf_cmd(const lc_runner_conf_t *c, const char *kind,
                                          const char *action)
{
    const lc_runner_cmd_t *cmds = (const lc_runner_cmd_t *)c->cmds->elts;
    int i;

    for (i = 0; action && i < c->cmds->nelts; i++) {
        if (strcmp(cmds[i].kind, kind) == 0 && strcmp(cmds[i].action, action) == 0) {
            return &cmds[i];
        }
    }
    return NULL;
}

int lc_runner_conf_handles(const lc_runner_conf_t *c, const char *kind)
{
    const lc_runner_cmd_t *cmds = (const lc_runner_cmd_t *)c->cmds->elts;
    int i;

    for (i = 0; i < c->cmds->nelts; i++) {
        if (strcmp(cmds[i].kind, kind) == 0) {
            return 1;
        }
    }
    return 0;
}

/* One word with %id, %kind, %action, %version and %% replaced. */
static char *expand(apr_pool_t *p, const char *w, const lc_runner_cmd_t *cmd, const char *id,
                    const char *version)
{
    static const char *const names[] = { "%id", "%kind", "%action", "%version", "%%" };
    const char *vals[] = { id, cmd->kind, cmd->action, version, "%" };
    char *out = "";
    unsigned i;

    while (*w) {
        for (i = 0; i < sizeof(names) / sizeof(*names); i++) {
            if (strncmp(w, names[i], strlen(names[i])) == 0) {
                break;
            }
        }
        if (i < sizeof(names) / sizeof(*names)) {
            out = apr_pstrcat(p, out, vals[i], NULL);
            w += strlen(names[i]);
        }
        else {
            out = apr_pstrcat(p, out, apr_pstrndup(p, w, 1), NULL);
            w++;
        }
    }
    return out;
}

char **lc_runner_conf_argv(apr_pool_t *p, const lc_runner_cmd_t *cmd, const char *id,
                           const char *version)
{
    char **argv;
    int i;

    if (apr_tokenize_to_argv(cmd->line, &argv, p) != APR_SUCCESS) {
        return NULL;
    }
    for (i = 0; argv[i]; i++) {
        argv[i] = expand(p, argv[i], cmd, id, version);
    }
    return argv;
}

apr_interval_time_t lc_runner_conf_timeout(const lc_runner_conf_t *c, const lc_runner_cmd_t *cmd)
{
    return cmd && cmd->timeout ? cmd->timeout : c->timeout;
}
