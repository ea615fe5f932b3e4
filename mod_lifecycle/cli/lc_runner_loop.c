/* lc_runner_loop.c — following the change feed.
 *
 * Each change is looked at in order.  What it asks for (lc_runner_plan.c)
 * is recorded as a job before `since` moves past it, and `since` is written
 * whole after each page: a runner killed at any point finds every change
 * either acted on (its job on disk, or done) or still ahead of `since`.  A
 * change replayed after a restart finds its job already there, or the
 * resource moved on (its version is no longer the change's), and does
 * nothing.  A 410 (the feed no longer holds the changes after `since`)
 * re-lists every resource of the kinds it handles and follows on from
 * oldest_seq - 1.
 */
#include <string.h>
#include <apr_strings.h>

#include "lc_runner.h"
#include "lc_runner_log.h"
#include "lc_util.h"

#define WAIT_IDLE   30        /* seconds a long-poll waits with nothing in flight */
#define WAIT_BUSY   1         /* ... and with commands to watch */
#define PAGE        100       /* changes, or listed resources, per request */
#define BACKOFF_MAX 30        /* seconds between tries while the server is away */
#define SLOT_WAIT   apr_time_from_msec(200)

enum { DONE = 0, RETRY = -1 };

/* Start the row's command once a slot is free.  DONE, or RETRY. */
static int start(lc_runner_t *r, const lc_runner_kind_t *k, const lc_runner_row_t *row,
                 const char *id, uint64_t version, unsigned op, json_t *res)
{
    char name[LC_RUNNER_JOBNAME_MAX + 1];

    if (!lc_runner_conf_cmd(r->conf, k->name, row->action)) {
        lc_runner_log("%s/%s v%llu: %s: no %s.%s in the configuration: left as it is",
                      k->name, id, (unsigned long long)version, lc_runner_status(k, res),
                      k->name, row->action);
        return DONE;
    }
    if (lc_runner_job_name(name, k->name, id, version, row->action) != 0) {
        return DONE;
    }
    while (lc_runner_jobs_active(r) >= r->conf->jobs) {
        lc_runner_jobs_reap(r);
        if (lc_runner_jobs_active(r) >= r->conf->jobs) {
            apr_sleep(SLOT_WAIT);
        }
    }
    return lc_runner_jobs_start(r, k, row, id, version, op, res) < 0 ? RETRY : DONE;
}

/* A move that waits for a runner: only while the resource is still at the
 * change's version (0: a listed resource, whatever its version). */
static int waiting(lc_runner_t *r, const lc_runner_kind_t *k, const lc_runner_row_t *row,
                   const char *id, uint64_t version, unsigned op, apr_pool_t *p)
{
    uint64_t now_v;
    json_t *now;
    int st;

    if (row->action && lc_runner_jobs_find(r, k->name, id, row->action)) {
        return DONE;                    /* in flight: it will report */
    }
    if ((st = lc_runner_api_get(&r->api, p, k->name, id, &now, &now_v)) == 404) {
        return DONE;
    }
    if (st != 200) {
        return RETRY;
    }
    if ((version && now_v != version) || lc_runner_plan(k, op, now) != row) {
        return DONE;                    /* moved on: a later change says what now */
    }
    if (!row->action) {
        lc_runner_log("%s/%s v%llu: %s, nothing to run", k->name, id,
                      (unsigned long long)now_v, lc_runner_status(k, now));
        return lc_runner_report_now(r, k, row, id, now_v, now, 1, NULL, NULL, p) < 0
               ? RETRY : DONE;
    }
    return start(r, k, row, id, now_v, op, now);
}

/* One resource as a change (or a list) shows it.  op 0: deleted. */
static int consider(lc_runner_t *r, const char *kind, const char *id, unsigned op,
                    uint64_t version, json_t *res, apr_pool_t *p)
{
    const lc_runner_kind_t *k = lc_runner_kind(kind);
    const lc_runner_row_t *row;

    if (!k || !id || !lc_runner_conf_handles(r->conf, kind)) {
        return DONE;
    }
    if (!lc_id_valid(id)) {
        lc_runner_log("%s/%s: an id the runner cannot name a job after: left as it is",
                      kind, id);
        return DONE;
    }
    if (!op) {
        lc_runner_jobs_cancel(r, kind, id, NULL);
        return DONE;
    }
    if (!json_is_object(res) || !(row = lc_runner_plan(k, op, res))) {
        return DONE;
    }
    if (row->flags & LC_RUN_CANCELS) {
        lc_runner_jobs_cancel(r, kind, id, row->action);
    }
    if (row->flags & LC_RUN_TEARDOWN) {
        /* The stop happened: follow it, whatever came after. */
        char name[LC_RUNNER_JOBNAME_MAX + 1];
        lc_runner_job_t *j = lc_runner_jobs_find(r, kind, id, row->action);
        if (j && lc_runner_job_name(name, kind, id, version, row->action) == 0
            && !strcmp(j->name, name)) {
            return DONE;
        }
        return start(r, k, row, id, version, op, res);
    }
    return waiting(r, k, row, id, version, op, p);
}

static int save_since(lc_runner_t *r, uint64_t since)
{
    if (since == r->since) {
        return 0;
    }
    if (lc_runner_since_write(r->conf->state_dir, since) != 0) {
        lc_runner_log("cannot write %s/since: stopping (nothing is lost: the changes after "
                      "%llu are looked at again)", r->conf->state_dir,
                      (unsigned long long)r->since);
        return -1;
    }
    r->since = since;
    return 0;
}

/* A page of the feed: `since` moves past each change looked at. */
static int apply(lc_runner_t *r, json_t *body, apr_pool_t *p)
{
    json_t *changes = json_object_get(body, "changes"), *c;
    uint64_t since = r->since;
    size_t i;

    json_array_foreach(changes, i, c) {
        json_int_t seq = json_integer_value(json_object_get(c, "seq"));
        if (seq <= 0 || (uint64_t)seq <= since) {
            continue;
        }
        if (consider(r, json_string_value(json_object_get(c, "kind")),
                     json_string_value(json_object_get(c, "id")),
                     lc_runner_op(json_string_value(json_object_get(c, "op"))),
                     (uint64_t)json_integer_value(json_object_get(c, "version")),
                     json_object_get(c, "resource"), p) == RETRY) {
            break;
        }
        since = (uint64_t)seq;
    }
    return save_since(r, since);
}

/* One kind's resources, page by page. */
static int relist_kind(lc_runner_t *r, const lc_runner_kind_t *k, apr_pool_t *p)
{
    const char *after = NULL;
    json_t *body, *res;
    size_t i;

    do {
        if (lc_runner_api_list(&r->api, p, k->name, after, PAGE, &body) != 200) {
            return RETRY;
        }
        json_array_foreach(json_object_get(body, "resources"), i, res) {
            if (consider(r, k->name, json_string_value(json_object_get(res, k->id_key)),
                         LC_RUN_OP_LIST, 0, res, p) == RETRY) {
                return RETRY;
            }
        }
        after = json_string_value(json_object_get(body, "next_after"));
    } while (after);
    return DONE;
}

/* After a 410: every resource of the kinds handled, then on from oldest - 1. */
static int relist(lc_runner_t *r, json_t *gone, apr_pool_t *p)
{
    json_int_t oldest = json_integer_value(json_object_get(gone, "oldest_seq"));
    int i;

    lc_runner_log("the feed no longer holds the changes after %llu (oldest kept: %lld): "
                  "listing the resources again", (unsigned long long)r->since, (long long)oldest);
    for (i = 0; lc_runner_kinds[i]; i++) {
        if (lc_runner_conf_handles(r->conf, lc_runner_kinds[i]->name)
            && relist_kind(r, lc_runner_kinds[i], p) == RETRY) {
            return 0;                   /* the next poll answers 410 again */
        }
    }
    return save_since(r, oldest > 0 ? (uint64_t)oldest - 1 : 0);
}

/* The server is away or refuses us: wait, watching the commands meanwhile. */
static void back_off(lc_runner_t *r, int st, int *backoff, apr_pool_t *p)
{
    const char *err;
    int s;

    if (st == 401 || st == 403) {
        lc_runner_log("the server refused the token (%d): reading %s again", st,
                      r->api.token_file);
        if (lc_runner_api_token(&r->api, p, &err) != APR_SUCCESS) {
            lc_runner_log("%s", err);
        }
    }
    else if (*backoff == 0 && st < 0) {
        lc_runner_log("the server at %s cannot be reached; trying again", r->conf->url);
    }
    else if (*backoff == 0) {
        lc_runner_log("the change feed answered %d; trying again", st);
    }
    *backoff = *backoff ? (*backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : *backoff * 2) : 1;
    for (s = 0; s < *backoff; s++) {
        lc_runner_jobs_reap(r);
        apr_sleep(apr_time_from_sec(1));
    }
}

int lc_runner_follow(lc_runner_t *r)
{
    int st, backoff = 0, wait;
    apr_pool_t *p;
    json_t *body;

    apr_pool_create(&p, r->p);
    lc_runner_log("following %s/lifecycle/v1/changes from %llu (%d job%s in flight)",
                  r->conf->url, (unsigned long long)r->since, lc_runner_jobs_active(r),
                  lc_runner_jobs_active(r) == 1 ? "" : "s");
    for (;;) {
        apr_pool_clear(p);
        lc_runner_jobs_reap(r);
        wait = lc_runner_jobs_active(r) ? WAIT_BUSY : WAIT_IDLE;
        st = lc_runner_api_changes(&r->api, p, r->since, wait, PAGE, &body);
        if (st == 200 || st == 410) {
            if (backoff) {
                lc_runner_log("the server answers again");
            }
            backoff = 0;
            if ((st == 200 ? apply(r, body, p) : relist(r, body, p)) != 0) {
                return 1;
            }
            continue;
        }
        back_off(r, st, &backoff, p);
    }
}
