/* lc_test_contract.h — the store contract (lc_store.h), one suite for every
 * backend.  test_store.c runs it on the shared-memory store, test_dbd.c on
 * PostgreSQL: what a dialect, the engine or the watchdog may rely on is
 * checked once, the same way, on both.  What only one backend promises (a
 * capacity, crash repair, the feed's numbering) stays in its own file.
 *
 * lc_contract_run() asks the backend's test for an empty store before each
 * case, and hands it back after the case with what the case left in it, for
 * checks of the backend's own on that state. */
#ifndef LC_TEST_CONTRACT_H
#define LC_TEST_CONTRACT_H

#include <stdlib.h>
#include <apr_strings.h>

#include "lc_test.h"
#include "lc_store.h"
#include "lc_engine.h"
#include "lc_kind.h"

/* The fixture kind: idle -(go)-> busy -(auto)-> done; stop: busy -> idle. */
enum { K_IDLE, K_BUSY, K_DONE, K_N };
static const char *const k_states[K_N] = { "idle", "busy", "done" };
static const lc_rule_t k_rules[] = {
    { "go",   LC_BIT(K_IDLE) | LC_BIT(K_DONE), K_BUSY, LC_STATE_KEEP, LC_RULE_ADVANCE, NULL },
    { "stop", LC_BIT(K_BUSY),                  K_IDLE, LC_STATE_KEEP, 0, NULL },
    { "stop", LC_BIT(K_IDLE),                  LC_STATE_KEEP, LC_STATE_KEEP, LC_RULE_NOOP, NULL },
    { NULL }
};
static const lc_advance_t k_adv[] = { { K_BUSY, K_DONE, 0 }, { LC_STATE_KEEP } };
static const lc_kind_def_t k_def = {
    LC_KIND_WORKSTATION, "fixture", k_states, K_N, k_rules, k_adv, NULL, NULL
};

/* The same states with a timeout, and an auto-advance the kind may refuse. */
static const lc_timeout_t t_tmo[] = {
    { K_BUSY, LC_TIMEOUT_SUSPEND, K_IDLE, 0, NULL }, { LC_STATE_KEEP }
};
static int t_refuse;
static int t_may(const lc_resource_t *r) { (void)r; return !t_refuse; }
static const lc_kind_def_t t_def = {
    LC_KIND_PIPELINE, "timed", k_states, K_N, k_rules, k_adv, NULL, NULL, t_tmo, t_may, NULL
};

/* ---- callbacks ---------------------------------------------------------------------- */

/* Sets the state and the attributes; keeps the aliases it finds. */
typedef struct lc_contract_put { uint8_t state; const char *data; } lc_contract_put_t;

static apr_status_t lc_contract_put_cb(lc_resource_t *r, int exists, void *baton)
{
    lc_contract_put_t *p = baton;

    (void)exists;
    r->state = p->state;
    apr_cpystrn(r->data, p->data ? p->data : "", sizeof(r->data));
    return APR_SUCCESS;
}

static apr_status_t lc_contract_put(lc_store_t *st, lc_kind_e kind, const char *id,
                                    uint8_t state, lc_resource_t *out, apr_pool_t *p)
{
    lc_contract_put_t b = { state, "{\"n\":1}" };

    return lc_store_update(st, kind, id, lc_contract_put_cb, &b, out, p);
}

/* Sets both aliases ("" for NULL), and the attributes when given. */
typedef struct lc_contract_aput { const char *a0, *a1, *data; } lc_contract_aput_t;

static apr_status_t lc_contract_aput_cb(lc_resource_t *r, int exists, void *baton)
{
    lc_contract_aput_t *a = baton;

    (void)exists;
    apr_cpystrn(r->alias[0], a->a0 ? a->a0 : "", sizeof(r->alias[0]));
    apr_cpystrn(r->alias[1], a->a1 ? a->a1 : "", sizeof(r->alias[1]));
    if (a->data) {
        apr_cpystrn(r->data, a->data, sizeof(r->data));
    }
    return APR_SUCCESS;
}

static apr_status_t lc_contract_aput(lc_store_t *st, const char *id, const char *a0,
                                     const char *a1, const char *data, apr_pool_t *p)
{
    lc_contract_aput_t a = { a0, a1, data };

    return lc_store_update(st, LC_KIND_NOTEBOOK, id, lc_contract_aput_cb, &a, NULL, p);
}

/* Does to r whatever `r` says (a template): the rules' case. */
typedef struct lc_contract_set {
    apr_status_t rv;            /* what the callback returns */
    int          rekey;         /* change the key it was given */
    uint8_t      due_class, op;
    apr_time_t   due;
    const char  *a0, *a1;
} lc_contract_set_t;

static apr_status_t lc_contract_set_cb(lc_resource_t *r, int exists, void *baton)
{
    lc_contract_set_t *s = baton;

    (void)exists;
    r->state = K_BUSY;
    if (s->rekey) {
        r->kind = LC_KIND_AGENT;
        apr_cpystrn(r->id, "elsewhere", sizeof(r->id));
    }
    r->due = s->due;
    r->due_class = s->due_class;
    r->op = s->op;
    apr_cpystrn(r->alias[0], s->a0 ? s->a0 : "", sizeof(r->alias[0]));
    apr_cpystrn(r->alias[1], s->a1 ? s->a1 : "", sizeof(r->alias[1]));
    return s->rv;
}

static apr_status_t lc_contract_set(lc_store_t *st, const char *id, lc_contract_set_t *s,
                                    lc_resource_t *out, apr_pool_t *p)
{
    return lc_store_update(st, LC_KIND_WORKSTATION, id, lc_contract_set_cb, s, out, p);
}

/* ---- the cases ---------------------------------------------------------------------- */

/* each: every resource once (in no promised order); fn's non-zero stops it. */
typedef struct lc_contract_seen { int n, stop_at; } lc_contract_seen_t;

static int lc_contract_each_cb(const lc_resource_t *r, void *baton)
{
    lc_contract_seen_t *e = baton;

    (void)r;
    return ++e->n == e->stop_at;
}

/* Counted by kind and state, walked with each: the state crud leaves. */
static void lc_contract_tally(lc_store_t *st, apr_pool_t *p)
{
    lc_store_counts_t *c = apr_palloc(p, sizeof(*c));
    lc_contract_seen_t all = { 0, 0 }, two = { 0, 2 };

    CHECK(lc_store_count(st, c, p) == APR_SUCCESS);
    CHECK(c->n[LC_KIND_WORKSTATION][K_IDLE] == 64 && c->n[LC_KIND_WORKSTATION][K_BUSY] == 1);
    CHECK(c->n[LC_KIND_AGENT][K_IDLE] == 0 && c->n[LC_KIND_NONE][0] == 0);
    CHECK(lc_store_each(st, LC_KIND_WORKSTATION, lc_contract_each_cb, &all, p) == APR_SUCCESS);
    CHECK(all.n == 65);                   /* B, overflow, r001..r063 */
    CHECK(lc_store_each(st, LC_KIND_WORKSTATION, lc_contract_each_cb, &two, p) == APR_SUCCESS);
    CHECK(two.n == 2);
}

/* Create, replace, get, remove, list; leaves B, overflow and r001..r063
 * (r001 busy) of LC_KIND_WORKSTATION. */
static void lc_contract_crud(lc_store_t *st, apr_pool_t *p)
{
    const lc_kind_e ws = LC_KIND_WORKSTATION;
    lc_resource_t r, page[10];
    char id[32];
    int i, n, more;

    CHECK(lc_store_get(st, ws, "a", &r, p) == LC_ENOTFOUND);
    CHECK(lc_contract_put(st, ws, "a", K_IDLE, &r, p) == APR_SUCCESS && r.version == 1);
    CHECK(r.op == LC_OP_CREATE && r.seq > 0);
    CHECK(lc_contract_put(st, ws, "a", K_BUSY, &r, p) == APR_SUCCESS && r.version == 2);
    CHECK(r.op == LC_OP_REPLACE);
    CHECK(lc_store_get(st, ws, "a", &r, p) == APR_SUCCESS);
    CHECK(r.state == K_BUSY && r.version == 2);
    CHECK_STR(r.id, "a");
    CHECK_STR(r.data, "{\"n\":1}");
    /* Same id, other kind: another resource. */
    CHECK(lc_store_get(st, LC_KIND_AGENT, "a", &r, p) == LC_ENOTFOUND);
    for (i = 1; i < 64; i++) {
        snprintf(id, sizeof(id), "r%03d", i);
        CHECK(lc_contract_put(st, ws, id, K_IDLE, NULL, p) == APR_SUCCESS);
    }
    CHECK(lc_contract_put(st, ws, "r001", K_BUSY, NULL, p) == APR_SUCCESS);
    /* Remove with a stale version fails; with the right one succeeds. */
    CHECK(lc_store_remove(st, ws, "a", 1, NULL, p) == LC_EVERSION);
    CHECK(lc_store_remove(st, ws, "a", 2, &r, p) == APR_SUCCESS);
    CHECK(r.version == 2 && r.op == LC_OP_DELETE);
    CHECK(lc_store_remove(st, ws, "a", 0, NULL, p) == LC_ENOTFOUND);
    CHECK(lc_contract_put(st, ws, "overflow", K_IDLE, NULL, p) == APR_SUCCESS);
    /* Listing: id order, paging, state filter. */
    CHECK(lc_store_list(st, ws, -1, NULL, 10, page, &n, &more, p) == APR_SUCCESS);
    CHECK(n == 10 && more);
    CHECK_STR(page[0].id, "overflow");
    CHECK_STR(page[1].id, "r001");
    CHECK_STR(page[9].id, "r009");
    CHECK(lc_store_list(st, ws, -1, "r060", 10, page, &n, &more, p) == APR_SUCCESS);
    CHECK(n == 3 && !more);
    CHECK_STR(page[2].id, "r063");
    CHECK(lc_store_list(st, ws, K_BUSY, NULL, 10, page, &n, &more, p) == APR_SUCCESS);
    CHECK(n == 1 && !more);
    CHECK_STR(page[0].id, "r001");
    /* Bytewise id order, whatever a database's collation. */
    CHECK(lc_contract_put(st, ws, "B", K_IDLE, NULL, p) == APR_SUCCESS);
    CHECK(lc_store_list(st, ws, -1, NULL, 1, page, &n, &more, p) == APR_SUCCESS);
    CHECK_STR(page[0].id, "B");
    lc_contract_tally(st, p);
}

/* The store's part of lc_store.h's update: the key checked and kept, the
 * due time normalised, the operation worked out, a callback's refusal. */
static void lc_contract_rules(lc_store_t *st, apr_pool_t *p)
{
    lc_contract_set_t s = { APR_SUCCESS, 1, LC_DUE_NONE, LC_OP_NONE, 0, NULL, NULL };
    char longid[LC_ID_MAX + 2];
    lc_resource_t r;

    memset(longid, 'i', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    CHECK(lc_contract_set(st, longid, &s, NULL, p) == APR_EINVAL);
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, longid, &r, p) == LC_ENOTFOUND);
    CHECK(lc_store_remove(st, LC_KIND_WORKSTATION, longid, 0, NULL, p) == LC_ENOTFOUND);
    CHECK(lc_contract_set(st, "", &s, NULL, p) == APR_EINVAL);
    CHECK(lc_store_update(st, LC_KIND_NONE, "k", lc_contract_set_cb, &s, NULL, p) == APR_EINVAL);
    CHECK(lc_store_update(st, LC_KIND_COUNT, "k", lc_contract_set_cb, &s, NULL, p) == APR_EINVAL);
    CHECK(lc_store_get_alias(st, LC_KIND_WORKSTATION, longid, &r, p) == LC_ENOTFOUND);
    /* The longest id; a callback that changes the key changes nothing of it. */
    longid[LC_ID_MAX] = '\0';
    CHECK(lc_contract_set(st, longid, &s, &r, p) == APR_SUCCESS);
    CHECK(r.kind == LC_KIND_WORKSTATION && strcmp(r.id, longid) == 0 && r.op == LC_OP_CREATE);
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, longid, &r, p) == APR_SUCCESS);
    CHECK(lc_store_get(st, LC_KIND_AGENT, "elsewhere", &r, p) == LC_ENOTFOUND);
    /* A due time without a class, or a class without a time: neither. */
    s.rekey = 0;
    s.due = apr_time_from_sec(50);
    CHECK(lc_contract_set(st, "d", &s, &r, p) == APR_SUCCESS);
    CHECK(r.due == 0 && r.due_class == LC_DUE_NONE);
    s.due = 0;
    s.due_class = LC_DUE_TIMEOUT;
    CHECK(lc_contract_set(st, "d", &s, &r, p) == APR_SUCCESS);
    CHECK(r.due == 0 && r.due_class == LC_DUE_NONE && r.version == 2);
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "d", &r, p) == APR_SUCCESS);
    CHECK(r.due == 0 && r.due_class == LC_DUE_NONE);
    CHECK(lc_store_next_due(st, p) == 0);
    /* The callback names a replace's operation, never a create's. */
    s.due_class = LC_DUE_NONE;
    s.op = LC_OP_TRANSITION;
    CHECK(lc_contract_set(st, "d", &s, &r, p) == APR_SUCCESS && r.op == LC_OP_TRANSITION);
    CHECK(lc_contract_set(st, "new", &s, &r, p) == APR_SUCCESS && r.op == LC_OP_CREATE);
    /* Refused by the callback, or the same alias twice: nothing written. */
    s.rv = LC_NOCHANGE;
    CHECK(lc_contract_set(st, "d", &s, &r, p) == LC_NOCHANGE && r.version == 3);
    s.rv = LC_EFORBIDDEN;
    CHECK(lc_contract_set(st, "d", &s, NULL, p) == LC_EFORBIDDEN);
    CHECK(lc_contract_set(st, "none", &s, NULL, p) == LC_EFORBIDDEN);
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "none", &r, p) == LC_ENOTFOUND);
    s.rv = APR_SUCCESS;
    s.a0 = s.a1 = "twice";
    CHECK(lc_contract_set(st, "d", &s, NULL, p) == APR_EINVAL);
    CHECK(lc_contract_set(st, "none", &s, NULL, p) == APR_EINVAL);
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "none", &r, p) == LC_ENOTFOUND);
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "d", &r, p) == APR_SUCCESS && r.version == 3);
}

static void lc_contract_engine(lc_store_t *st, apr_pool_t *p)
{
    lc_resource_t before, after;
    lc_precond_t pc;
    lc_act_t act = { &k_def, "e1", "go", NULL, apr_time_from_sec(1000), apr_time_from_sec(2) };

    act.pool = p;
    lc_kind_register(&k_def);
    CHECK(lc_engine_act(st, &act, &before, &after) == LC_ENOTFOUND);
    CHECK(lc_contract_put(st, LC_KIND_WORKSTATION, "e1", K_IDLE, NULL, p) == APR_SUCCESS);
    CHECK(lc_engine_act(st, &act, &before, &after) == APR_SUCCESS);
    CHECK(before.state == K_IDLE && after.state == K_BUSY && after.version == 2);
    CHECK(after.due == apr_time_from_sec(1002) && after.due_class == LC_DUE_ADVANCE);
    CHECK(after.state_since == apr_time_from_sec(1000));
    CHECK(lc_engine_act(st, &act, &before, &after) == LC_EILLEGAL && after.version == 2);
    act.action = "fly";
    CHECK(lc_engine_act(st, &act, &before, &after) == APR_ENOENT);
    /* If-Match: a stale version changes nothing. */
    act.action = "stop";
    lc_precond_parse("\"1\"", &pc);
    act.if_match = &pc;
    CHECK(lc_engine_act(st, &act, &before, &after) == LC_EVERSION && after.version == 2);
    /* Nothing is due before its time; at its time it advances exactly once. */
    CHECK(lc_store_next_due(st, p) == apr_time_from_sec(1002));
    CHECK(lc_engine_advance_due(st, apr_time_from_sec(1001), 0, 10, NULL, NULL, p) == APR_SUCCESS);
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "e1", &after, p) == APR_SUCCESS
          && after.state == K_BUSY);
    lc_engine_advance_due(st, apr_time_from_sec(1002), 0, 10, NULL, NULL, p);
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "e1", &after, p) == APR_SUCCESS);
    CHECK(after.state == K_DONE && after.version == 3 && after.due == 0);
    lc_engine_advance_due(st, apr_time_from_sec(2000), 0, 10, NULL, NULL, p);
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "e1", &after, p) == APR_SUCCESS
          && after.version == 3);
    /* A stop before the due time takes it off the queue. */
    act.if_match = NULL;
    act.action = "go";
    CHECK(lc_engine_act(st, &act, &before, &after) == APR_SUCCESS && after.state == K_BUSY);
    act.action = "stop";
    CHECK(lc_engine_act(st, &act, &before, &after) == APR_SUCCESS && after.due == 0);
    CHECK(lc_engine_act(st, &act, &before, &after) == LC_NOCHANGE && after.version == 5);
    lc_engine_advance_due(st, apr_time_from_sec(3000), 0, 10, NULL, NULL, p);
    CHECK(lc_store_get(st, LC_KIND_WORKSTATION, "e1", &after, p) == APR_SUCCESS);
    CHECK(after.state == K_IDLE && after.version == 5);
}

/* Due order across many resources scheduled out of order. */
static void lc_contract_moved(const lc_resource_t *b, const lc_resource_t *a, void *baton)
{
    int *order = baton;

    CHECK(b->state == K_BUSY && a->state == K_DONE && a->version == b->version + 1);
    order[order[0] + 1] = atoi(a->id + 1);
    order[0]++;
}

static void lc_contract_due_order(lc_store_t *st, apr_pool_t *p)
{
    const int delays[10] = { 5, 3, 9, 1, 7, 2, 8, 4, 6, 0 };
    int order[12] = { 0 };
    int i, sorted = 1;

    lc_kind_register(&k_def);
    for (i = 0; i < 10; i++) {
        char id[8];
        lc_act_t act = { &k_def, id, "go", NULL, apr_time_from_sec(100),
                         apr_time_from_sec(delays[i]) };
        act.pool = p;
        snprintf(id, sizeof(id), "d%d", delays[i]);
        lc_contract_put(st, LC_KIND_WORKSTATION, id, K_IDLE, NULL, p);
        CHECK(lc_engine_act(st, &act, NULL, NULL) == APR_SUCCESS);
    }
    lc_engine_advance_due(st, apr_time_from_sec(104), 0, 100, lc_contract_moved, order, p);
    CHECK(order[0] == 5);
    lc_engine_advance_due(st, apr_time_from_sec(200), 0, 3, lc_contract_moved, order, p);
    CHECK(order[0] == 8);
    lc_engine_advance_due(st, apr_time_from_sec(200), 0, 100, lc_contract_moved, order, p);
    CHECK(order[0] == 10);
    for (i = 0; i < 10; i++) {
        sorted &= order[i + 1] == i;
    }
    CHECK(sorted);
}

/* A state with both an auto-advance and a timeout: the earlier is queued;
 * with auto-advance off or refused, only the timeout; it fires once. */
static void lc_contract_timeouts(lc_store_t *st, apr_pool_t *p)
{
    lc_resource_t after;
    lc_act_t act = { &t_def, "t1", "go", NULL, apr_time_from_sec(100), apr_time_from_sec(2) };
    lc_contract_put_t b = { K_IDLE, NULL };

    act.pool = p;
    lc_kind_register(&t_def);
    lc_kind_set_timeout(LC_TIMEOUT_SUSPEND, apr_time_from_sec(5));
    /* Advance (2 s) before timeout (5 s): the advance is queued and wins. */
    CHECK(lc_store_update(st, LC_KIND_PIPELINE, "t1", lc_contract_put_cb, &b, NULL, p)
          == APR_SUCCESS);
    CHECK(lc_engine_act(st, &act, NULL, &after) == APR_SUCCESS);
    CHECK(after.due_class == LC_DUE_ADVANCE && after.due == apr_time_from_sec(102));
    lc_engine_advance_due(st, apr_time_from_sec(102), apr_time_from_sec(2), 10, NULL, NULL, p);
    CHECK(lc_store_get(st, LC_KIND_PIPELINE, "t1", &after, p) == APR_SUCCESS
          && after.state == K_DONE && after.due == 0);
    /* Advance refused (a runner drives it): only the timeout, which fires once. */
    t_refuse = 1;
    act.now = apr_time_from_sec(200);
    CHECK(lc_engine_act(st, &act, NULL, &after) == APR_SUCCESS);
    CHECK(after.due_class == LC_DUE_TIMEOUT && after.due == apr_time_from_sec(205));
    lc_engine_advance_due(st, apr_time_from_sec(204), apr_time_from_sec(2), 10, NULL, NULL, p);
    CHECK(lc_store_get(st, LC_KIND_PIPELINE, "t1", &after, p) == APR_SUCCESS
          && after.state == K_BUSY);
    lc_engine_advance_due(st, apr_time_from_sec(205), apr_time_from_sec(2), 10, NULL, NULL, p);
    CHECK(lc_store_get(st, LC_KIND_PIPELINE, "t1", &after, p) == APR_SUCCESS
          && after.state == K_IDLE && after.due == 0);
    /* Auto-advance longer than the timeout: the timeout is queued. */
    t_refuse = 0;
    act.now = apr_time_from_sec(300);
    act.advance_after = apr_time_from_sec(9);
    CHECK(lc_engine_act(st, &act, NULL, &after) == APR_SUCCESS);
    CHECK(after.due_class == LC_DUE_TIMEOUT && after.due == apr_time_from_sec(305));
    /* An advance queued when auto-advance is now off is dropped. */
    lc_kind_set_timeout(LC_TIMEOUT_SUSPEND, -1);
    act.now = apr_time_from_sec(400);
    act.action = "stop";
    lc_engine_act(st, &act, NULL, NULL);
    act.action = "go";
    act.advance_after = apr_time_from_sec(1);
    CHECK(lc_engine_act(st, &act, NULL, &after) == APR_SUCCESS
          && after.due_class == LC_DUE_ADVANCE);
    lc_engine_advance_due(st, apr_time_from_sec(401), -1, 10, NULL, NULL, p);
    CHECK(lc_store_get(st, LC_KIND_PIPELINE, "t1", &after, p) == APR_SUCCESS
          && after.state == K_BUSY && after.due == 0);
}

/* Aliases: set by the callback, unique per kind, found with one lookup,
 * moved and released with the resource. */
static void lc_contract_aliases(lc_store_t *st, apr_pool_t *p)
{
    lc_contract_aput_t agent = { "ref:nb01", NULL, NULL };
    lc_contract_put_t busy = { K_BUSY, NULL };
    char longa[LC_ALIAS_MAX + 1];
    lc_resource_t r;

    CHECK(lc_contract_aput(st, "o.w.a", "name:o.w.a", "ref:nb01", "{\"b\":\"nb01\"}", p)
          == APR_SUCCESS);
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "ref:nb01", &r, p) == APR_SUCCESS);
    CHECK_STR(r.id, "o.w.a");
    CHECK_STR(r.alias[0], "name:o.w.a");
    CHECK_STR(r.alias[1], "ref:nb01");
    CHECK_STR(r.data, "{\"b\":\"nb01\"}");
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "name:o.w.a", &r, p) == APR_SUCCESS);
    CHECK(lc_store_get_alias(st, LC_KIND_AGENT, "ref:nb01", &r, p) == LC_ENOTFOUND);
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "o.w.a", &r, p) == LC_ENOTFOUND);
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "", &r, p) == LC_ENOTFOUND);
    /* Taken by another resource: refused, nothing created or changed. */
    CHECK(lc_contract_aput(st, "o.w.b", "ref:nb01", NULL, NULL, p) == LC_EEXISTS);
    CHECK(lc_store_get(st, LC_KIND_NOTEBOOK, "o.w.b", &r, p) == LC_ENOTFOUND);
    CHECK(lc_contract_aput(st, "o.w.b", NULL, "name:o.w.a", NULL, p) == LC_EEXISTS);
    CHECK(lc_contract_aput(st, "o.w.b", "ref:nb02", NULL, NULL, p) == APR_SUCCESS);
    CHECK(lc_contract_aput(st, "o.w.b", "ref:nb02", "ref:nb01", NULL, p) == LC_EEXISTS);
    CHECK(lc_store_get(st, LC_KIND_NOTEBOOK, "o.w.b", &r, p) == APR_SUCCESS && r.version == 1);
    CHECK(lc_contract_aput(st, "o.w.b", "x", "x", NULL, p) == APR_EINVAL);
    /* Another kind has aliases of its own. */
    CHECK(lc_store_update(st, LC_KIND_AGENT, "o.w.b", lc_contract_aput_cb, &agent, NULL, p)
          == APR_SUCCESS);
    /* A replace moves an alias; the old one is free again; swapping is fine. */
    CHECK(lc_contract_aput(st, "o.w.a", "name:o.w.a", "ref:nb03", NULL, p) == APR_SUCCESS);
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "ref:nb01", &r, p) == LC_ENOTFOUND);
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "ref:nb03", &r, p) == APR_SUCCESS);
    CHECK_STR(r.id, "o.w.a");
    CHECK_STR(r.data, "{\"b\":\"nb01\"}");
    CHECK(lc_contract_aput(st, "o.w.b", "ref:nb01", "ref:nb02", NULL, p) == APR_SUCCESS);
    CHECK(lc_contract_aput(st, "o.w.a", "ref:nb03", "name:o.w.a", NULL, p) == APR_SUCCESS);
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "name:o.w.a", &r, p) == APR_SUCCESS);
    CHECK_STR(r.alias[1], "name:o.w.a");
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "ref:nb01", &r, p) == APR_SUCCESS);
    CHECK_STR(r.id, "o.w.b");
    /* The longest alias; a remove releases both. */
    memset(longa, 'q', LC_ALIAS_MAX);
    longa[LC_ALIAS_MAX] = '\0';
    CHECK(lc_contract_aput(st, "o.w.c", longa, NULL, NULL, p) == APR_SUCCESS);
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, longa, &r, p) == APR_SUCCESS);
    CHECK_STR(r.id, "o.w.c");
    CHECK(lc_store_remove(st, LC_KIND_NOTEBOOK, "o.w.a", 0, NULL, p) == APR_SUCCESS);
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "ref:nb03", &r, p) == LC_ENOTFOUND);
    CHECK(lc_store_get_alias(st, LC_KIND_NOTEBOOK, "name:o.w.a", &r, p) == LC_ENOTFOUND);
    CHECK(lc_contract_aput(st, "o.w.d", "name:o.w.a", NULL, NULL, p) == APR_SUCCESS);
    /* An update that does not touch them keeps the aliases the callback found. */
    CHECK(lc_store_update(st, LC_KIND_NOTEBOOK, "o.w.d", lc_contract_put_cb, &busy, NULL, p)
          == APR_SUCCESS);
    CHECK(lc_store_get(st, LC_KIND_NOTEBOOK, "o.w.d", &r, p) == APR_SUCCESS);
    CHECK_STR(r.alias[0], "name:o.w.a");
    CHECK(r.state == K_BUSY && r.version == 2);
}

/* ---- the suite ---------------------------------------------------------------------- */

typedef void lc_contract_case_fn(lc_store_t *st, apr_pool_t *p);

/* An empty store for the case `name`. */
typedef lc_store_t *lc_contract_store_fn(const char *name, void *ctx);

/* After the case `name`, with the store as it left it; may be NULL. */
typedef void lc_contract_after_fn(const char *name, lc_store_t *st, void *ctx);

static const struct lc_contract_case {
    const char          *name;
    lc_contract_case_fn *run;
} lc_contract_cases[] = {
    { "crud",      lc_contract_crud },
    { "rules",     lc_contract_rules },
    { "engine",    lc_contract_engine },
    { "due_order", lc_contract_due_order },
    { "timeouts",  lc_contract_timeouts },
    { "aliases",   lc_contract_aliases },
};

#define LC_CONTRACT_CASES ((int)(sizeof(lc_contract_cases) / sizeof(*lc_contract_cases)))

/* Every case on a fresh store from `make`; prints what each ran. */
static void lc_contract_run(const char *backend, lc_contract_store_fn *make,
                            lc_contract_after_fn *after, void *ctx, apr_pool_t *p)
{
    int i;

    for (i = 0; i < LC_CONTRACT_CASES; i++) {
        lc_store_t *st = make(lc_contract_cases[i].name, ctx);
        int pass = lc_test_pass, fail = lc_test_fail;

        lc_contract_cases[i].run(st, p);
        if (after) {
            after(lc_contract_cases[i].name, st, ctx);
        }
        printf("contract %s on %s: %d checks, %d failed\n", lc_contract_cases[i].name, backend,
               lc_test_pass - pass + lc_test_fail - fail, lc_test_fail - fail);
    }
}

#endif
