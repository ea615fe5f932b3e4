/* test_runner.c — lifecycle-runner's pure parts: what each kind's states ask
 * for (lc_runner_plan.c), the report bodies, the configuration file, the
 * HTTP response parser and the state files.  t/runner.t runs the runner
 * itself against a server. */
#include <stdlib.h>
#include <unistd.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "lc_test.h"
#include "lc_runner_plan.h"
#include "lc_runner_conf.h"
#include "lc_runner_http.h"
#include "lc_runner_state.h"

static json_t *J(const char *text)
{
    json_t *j = json_loads(text, 0, NULL);

    if (!j) {
        fprintf(stderr, "bad fixture: %s\n", text);
        exit(2);
    }
    return j;
}

/* The action the resource asks for after `op`, "-" for a row without a
 * command, NULL for none. */
static const char *action_of(const char *kind, unsigned op, const char *res)
{
    json_t *j = J(res);
    const lc_runner_row_t *row = lc_runner_plan(lc_runner_kind(kind), op, j);

    json_decref(j);
    return row ? (row->action ? row->action : "-") : NULL;
}

static void test_plan(void)
{
    const unsigned T = LC_RUN_OP_TRANSITION, R = LC_RUN_OP_REPORT, C = LC_RUN_OP_CREATE;
    const unsigned L = LC_RUN_OP_LIST;

    CHECK_STR(action_of("workstation", T, "{\"status\":\"provisioning\"}"), "launch");
    CHECK_STR(action_of("workstation", L, "{\"status\":\"provisioning\"}"), "launch");
    CHECK_STR(action_of("workstation", T, "{\"status\":\"stopped\"}"), "stop");
    /* A stopped workstation seen by a list or a create: no stop happened. */
    CHECK(action_of("workstation", L, "{\"status\":\"stopped\"}") == NULL);
    CHECK(action_of("workstation", C, "{\"status\":\"stopped\"}") == NULL);
    CHECK(action_of("workstation", R, "{\"status\":\"running\"}") == NULL);
    CHECK_STR(action_of("wrapper", T, "{\"status\":\"running\"}"), "execute");
    CHECK(action_of("wrapper", R, "{\"status\":\"completed\"}") == NULL);
    CHECK_STR(action_of("notebook", T, "{\"currentJob\":{\"status\":\"queued\"}}"), "start");
    CHECK_STR(action_of("notebook", R, "{\"currentJob\":{\"status\":\"running\"}}"), "run");
    CHECK_STR(action_of("notebook", T, "{\"currentJob\":{\"status\":\"cancelled\"}}"), "stop");
    CHECK(action_of("notebook", C, "{\"currentJob\":null}") == NULL);
    CHECK_STR(action_of("agent", C, "{\"status\":\"active\"}"), "run");
    CHECK_STR(action_of("agent", T, "{\"status\":\"closed\"}"), "stop");
    CHECK(action_of("agent", LC_RUN_OP_REPLACE, "{\"status\":\"closed\"}") == NULL);
    CHECK_STR(action_of("session", C, "{\"status\":\"active\"}"), "start");
    /* A session is started once, when created: never again by a list. */
    CHECK(action_of("session", L, "{\"status\":\"active\"}") == NULL);
    /* Nor by the activity that moves its idle clock (a report of it). */
    CHECK(action_of("session", R, "{\"status\":\"active\"}") == NULL);
    /* Its timeout (the background task's transition) tears it down. */
    CHECK_STR(action_of("session", T, "{\"status\":\"timed_out\"}"), "stop");
    CHECK_STR(action_of("pipeline", T, "{\"deployment_status\":\"Provisioning\","
                        "\"deployment_desired_status\":\"Running\"}"), "provision");
    CHECK(action_of("pipeline", T, "{\"deployment_status\":\"Provisioning\","
                    "\"deployment_desired_status\":\"Stopped\"}") == NULL);
    CHECK_STR(action_of("pipeline", R, "{\"deployment_status\":\"Initializing\","
                        "\"deployment_desired_status\":\"Paused\"}"), "initialize");
    CHECK_STR(action_of("pipeline", T, "{\"deployment_status\":\"Running\","
                        "\"deployment_desired_status\":\"Suspended\"}"), "suspend");
    CHECK_STR(action_of("pipeline", T, "{\"deployment_status\":\"Replaying\","
                        "\"deployment_desired_status\":\"Suspended\"}"), "suspend");
    CHECK(action_of("pipeline", R, "{\"deployment_status\":\"Running\","
                    "\"deployment_desired_status\":\"Running\"}") == NULL);
    CHECK_STR(action_of("pipeline", R, "{\"deployment_status\":\"Suspended\","
                        "\"deployment_desired_status\":\"Suspended\"}"), "-");
    CHECK_STR(action_of("pipeline", T, "{\"deployment_status\":\"Stopping\","
                        "\"deployment_desired_status\":\"Stopped\"}"), "stop");
    CHECK(lc_runner_kind("nothing") == NULL);
    CHECK(lc_runner_op("delete") == 0);
    CHECK(lc_runner_op("list") == LC_RUN_OP_LIST);
    CHECK(lc_runner_action_known("pipeline", "suspend"));
    CHECK(!lc_runner_action_known("pipeline", "launch"));
}

/* The body reported for `res` after the row's command (ok or not). */
static char *report_of(const char *kind, unsigned op, const char *res, int ok, const char *out,
                       const char *msg, int *put)
{
    const lc_runner_kind_t *k = lc_runner_kind(kind);
    json_t *r = J(res), *o = out ? J(out) : NULL, *body;
    char *text;

    body = lc_runner_report(k, lc_runner_plan(k, op, r), ok, r, o, msg, put);
    text = body ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(body);
    json_decref(r);
    json_decref(o);
    return text;
}

static void test_report(void)
{
    const unsigned T = LC_RUN_OP_TRANSITION;
    char *t;
    int put;

    CHECK_STR(t = report_of("workstation", T, "{\"id\":\"w\",\"status\":\"provisioning\"}", 1,
                            NULL, NULL, &put), "{\"status\":\"running\"}");
    CHECK(put == 0);
    free(t);
    CHECK_STR(t = report_of("workstation", T, "{\"id\":\"w\",\"status\":\"provisioning\"}", 0,
                            NULL, "workstation.launch exited with status 3", &put),
              "{\"status\":\"error\"}");
    free(t);
    /* A stop's command reports nothing when it works. */
    CHECK(report_of("workstation", T, "{\"status\":\"stopped\"}", 1, NULL, NULL, &put) == NULL);
    /* Water marks from the command: the whole wrapper, PUT. */
    CHECK_STR(t = report_of("wrapper", T, "{\"wrapper_id\":\"x\",\"type\":\"api\",\"status\":"
                            "\"running\",\"checkpoint\":{\"high_water_mark\":\"a\","
                            "\"low_water_mark\":\"b\"}}", 1,
                            "{\"checkpoint\":{\"high_water_mark\":\"c\",\"low_water_mark\":\"d\"}}",
                            NULL, &put),
              "{\"checkpoint\":{\"high_water_mark\":\"c\",\"low_water_mark\":\"d\"},"
              "\"status\":\"completed\",\"type\":\"api\",\"wrapper_id\":\"x\"}");
    CHECK(put == 1);
    free(t);
    /* A failed job: its message in currentJob.errorMessage, cut to 100 bytes. */
    t = report_of("notebook", T, "{\"id\":\"n\",\"currentJob\":{\"status\":\"running\","
                  "\"errorMessage\":null}}", 0, NULL,
                  "notebook.run exited with status 1 ......................................"
                  "........................................", &put);
    CHECK(t && strstr(t, "\"status\":\"failed\"") && strstr(t, "\"errorMessage\":\"notebook.run"));
    CHECK(put == 1);
    free(t);
    /* An agent: success true, the answer from the command, created_at dropped. */
    CHECK_STR(t = report_of("agent", LC_RUN_OP_CREATE, "{\"agent_id\":\"a\",\"created_at\":\"x\","
                            "\"status\":\"active\",\"success\":null}", 1, "{\"answer\":\"42\"}",
                            NULL, &put),
              "{\"agent_id\":\"a\",\"answer\":\"42\",\"status\":\"closed\",\"success\":true}");
    free(t);
    /* A pipeline's own report, its checkpoint from the command. */
    CHECK_STR(t = report_of("pipeline", T, "{\"deployment_status\":\"Running\","
                            "\"deployment_desired_status\":\"Suspended\"}", 1,
                            "{\"checkpoint_sequence_number\":7}", NULL, &put),
              "{\"checkpoint_sequence_number\":7,\"deployment_status\":\"Suspended\"}");
    CHECK(put == 0);
    free(t);
    t = report_of("pipeline", T, "{\"deployment_status\":\"Running\","
                  "\"deployment_desired_status\":\"Suspended\"}", 0, NULL, "it broke", &put);
    CHECK(t && strstr(t, "\"deployment_status\":\"Stopping\"")
          && strstr(t, "\"error_code\":\"RunnerCommandFailed\"")
          && strstr(t, "\"message\":\"it broke\""));
    free(t);
}

static apr_status_t parse(apr_pool_t *p, const char *text, lc_runner_conf_t **c,
                          const char **err)
{
    *err = NULL;
    return lc_runner_conf_parse(p, text, strlen(text), "f", c, err);
}

static void test_conf(apr_pool_t *p)
{
    const char *base = "url = http://127.0.0.1:8080\ntoken_file = /t\nstate_dir = /s\n";
    lc_runner_conf_t *c;
    const char *err;
    char **argv;

    CHECK(parse(p, apr_pstrcat(p, base, "# demo\n  workstation.launch = /bin/start \"a b\" %id "
                               "%kind.%action@%version 100%%\nworkstation.launch.timeout = 9\n"
                               "jobs = 2\n", NULL), &c, &err) == APR_SUCCESS);
    CHECK(c->jobs == 2);
    CHECK(lc_runner_conf_handles(c, "workstation") && !lc_runner_conf_handles(c, "wrapper"));
    CHECK(lc_runner_conf_timeout(c, lc_runner_conf_cmd(c, "workstation", "launch"))
          == apr_time_from_sec(9));
    argv = lc_runner_conf_argv(p, lc_runner_conf_cmd(c, "workstation", "launch"), "ws-1", "7");
    CHECK_STR(argv[0], "/bin/start");
    CHECK_STR(argv[1], "a b");
    CHECK_STR(argv[2], "ws-1");
    CHECK_STR(argv[3], "workstation.launch@7");
    CHECK_STR(argv[4], "100%");
    CHECK(argv[5] == NULL);
    CHECK(parse(p, apr_pstrcat(p, base, "workstation.lunch = /bin/x\n", NULL), &c, &err)
          == APR_EINVAL);
    CHECK(err && strstr(err, "f:4: unknown key 'workstation.lunch'"));
    CHECK(parse(p, apr_pstrcat(p, base, "wrapper.execute = run-it\n", NULL), &c, &err)
          == APR_EINVAL);
    CHECK(err && strstr(err, "must be an absolute path"));
    CHECK(parse(p, apr_pstrcat(p, base, "jobs = 0\n", NULL), &c, &err) == APR_EINVAL);
    CHECK(parse(p, apr_pstrcat(p, base, "timeout = 2h\n", NULL), &c, &err) == APR_EINVAL);
    CHECK(parse(p, apr_pstrcat(p, base, "agent.run.timeout = 5\n", NULL), &c, &err)
          == APR_EINVAL);
    CHECK(err && strstr(err, "agent.run.timeout without agent.run"));
    CHECK(parse(p, "url = http://h\ntoken_file = /t\n", &c, &err) == APR_EINVAL);
    CHECK(err && strstr(err, "required"));
    CHECK(parse(p, apr_pstrcat(p, base, "url = https://x\n", NULL), &c, &err) == APR_EINVAL);
}

static int http_parse(apr_pool_t *p, const char *text, lc_runner_resp_t *r)
{
    char *buf = apr_pstrdup(p, text);

    return lc_runner_http_parse(p, buf, strlen(buf), r) == APR_SUCCESS;
}

static void test_http(apr_pool_t *p)
{
    lc_runner_http_t h;
    lc_runner_resp_t r;

    CHECK(http_parse(p, "HTTP/1.1 200 OK\r\nETag: \"3\"\r\nContent-Length: 2\r\n\r\n{}xx", &r));
    CHECK(r.status == 200 && r.len == 2);
    CHECK_STR(r.body, "{}");
    CHECK_STR(r.etag, "\"3\"");
    CHECK(http_parse(p, "HTTP/1.1 412 No\r\ntransfer-encoding: chunked\r\n\r\n"
                     "3\r\n{\"a\r\n4;x=y\r\n\":1}\r\n0\r\n\r\n", &r));
    CHECK(r.status == 412);
    CHECK_STR(r.body, "{\"a\":1}");
    CHECK(http_parse(p, "HTTP/1.0 410 Gone\r\n\r\nto the end", &r));
    CHECK_STR(r.body, "to the end");
    CHECK(!http_parse(p, "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort", &r));
    CHECK(!http_parse(p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", &r));
    CHECK(!http_parse(p, "SSH-2.0-OpenSSH\r\n\r\n", &r));
    CHECK(lc_runner_http_url(p, "http://127.0.0.1:8080/", &h) == APR_SUCCESS);
    CHECK_STR(h.host, "127.0.0.1");
    CHECK(h.port == 8080);
    CHECK(lc_runner_http_url(p, "http://[::1]", &h) == APR_SUCCESS && h.port == 80);
    CHECK(lc_runner_http_url(p, "http://h/x", &h) != APR_SUCCESS);
    CHECK(lc_runner_http_url(p, "https://h", &h) != APR_SUCCESS);
}

static void test_state(apr_pool_t *p)
{
    char dir[] = "/tmp/lc-runner-test.XXXXXX", name[LC_RUNNER_JOBNAME_MAX + 1];
    uint64_t since = 9;
    int fd, fd2;

    CHECK(mkdtemp(dir) != NULL);
    CHECK((fd = lc_runner_state_open(dir)) >= 0);
    /* A second runner on the same directory is refused. */
    CHECK((fd2 = lc_runner_state_open(dir)) < 0);
    CHECK(lc_runner_since_read(dir, &since) == 0 && since == 0);
    CHECK(lc_runner_since_write(dir, 12345678901ULL) == 0);
    CHECK(lc_runner_since_read(dir, &since) == 0 && since == 12345678901ULL);
    CHECK(access(apr_pstrcat(p, dir, "/.since.tmp", NULL), F_OK) != 0);
    CHECK(lc_runner_job_name(name, "pipeline", "p-1.x", 4, "suspend") == 0);
    CHECK_STR(name, "pipeline+p-1.x+4+suspend");
    CHECK(lc_runner_job_name(name, "pipeline", "a+b", 4, "suspend") != 0);
    CHECK(lc_runner_proc_alive(getpid(), lc_runner_proc_start(getpid())));
    CHECK(!lc_runner_proc_alive(getpid(), lc_runner_proc_start(getpid()) + 1));
    close(fd);
    CHECK(system(apr_pstrcat(p, "rm -rf ", dir, NULL)) == 0);
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;

    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&p, NULL);
    test_plan();
    test_report();
    test_conf(p);
    test_http(p);
    test_state(p);
    return lc_test_done("test_runner");
}
