/* Unit tests of every kind, without Apache: every row of its tables through
 * the engine (lc_kind_apply, lc_kind_advance, lc_kind_due), the states no row
 * takes, its state names, and its representation both ways.
 *
 * The table checks loop over the real tables of every kind of lc_registry.h
 * (lc_kind_registry), so a new row, or a new kind, is tested without a line here.
 * What cannot be read off a table is written out below: per kind, a valid
 * admin PUT body, the fields its to_json promises (conf/API.md's
 * sections), bodies whose culprit from_json must name; and the transitions
 * conf/API.md spells out, as explicit expectations. */
#include <sodium.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "lc_test.h"
#include "lc_kind.h"
#include "lc_kind_registry.h"
#include "lc_store.h"
#include "lc_kind_feldera.h"
#include "lc_kind_notte.h"
#include "lc_kind_redivis.h"
#include "lc_kind_workstation.h"
#include "lc_kind_wrapper.h"

/* Every kind of the registry (a kind without a header of its own too). */
#define LC_REG_KIND(name) extern const lc_kind_def_t lc_##name##_kind;
#include "lc_registry.h"

#define NOW   apr_time_from_sec(1800000000)
#define AFTER apr_time_from_sec(2)      /* LifecycleAutoAdvance in these tests */
#define TMO   apr_time_from_sec(5)      /* LifecycleSuspendTimeout, where set */

static apr_pool_t *pool;

/* ---- fixtures: what a table does not say ------------------------------------- */

typedef struct bad_body {
    const char *body;
    const char *field;         /* the culprit from_json must name */
} bad_body_t;

typedef struct fixture {
    const char              *kind;      /* def->name */
    const char              *id;
    const char              *body;      /* a valid admin PUT body */
    const char *const       *fields;    /* to_json's keys, in order, NULL-terminated */
    const bad_body_t        *bad;       /* { NULL } ends */
} fixture_t;

static const char *const ws_fields[] = { "id", "name", "status", "configuration", NULL };
static const bad_body_t ws_bad[] = {
    { "{\"name\":\"a\",\"status\":\"running\"}", "configuration" },
    { "{\"name\":\"a\",\"status\":\"flying\",\"configuration\":{}}", "status" },
    { "{\"name\":\"\",\"status\":\"running\",\"configuration\":{}}", "name" },
    { "{\"name\":\"a\",\"status\":\"running\",\"configuration\":{\"cpuCores\":\"8\","
      "\"memoryGB\":1,\"storageGB\":1,\"gpu\":null,\"region\":\"r\"}}", "configuration.cpuCores" },
    { "{\"name\":\"a\",\"status\":\"running\",\"configuration\":{\"cpuCores\":8,"
      "\"memoryGB\":1,\"storageGB\":1,\"gpu\":null,\"region\":\"r\",\"disk\":1}}",
      "configuration.disk" },
    { "{\"name\":\"a\",\"colour\":\"red\"}", "colour" },
    { NULL }
};

static const char *const wr_fields[] = { "wrapper_id", "type", "status", "checkpoint", NULL };
static const bad_body_t wr_bad[] = {
    { "{\"type\":\"pdf\",\"status\":\"idle\"}", "type" },
    { "{\"type\":\"api\",\"status\":\"busy\"}", "status" },
    { "{\"wrapper_id\":\"other\",\"type\":\"api\",\"status\":\"idle\"}", "wrapper_id" },
    { "{\"type\":\"api\",\"status\":\"idle\",\"stop_fails\":1}", "stop_fails" },
    { "{\"type\":\"api\",\"status\":\"idle\",\"checkpoint\":{\"high_water_mark\":5}}",
      "checkpoint.high_water_mark" },
    { "{\"type\":\"api\",\"status\":\"idle\",\"checkpoint\":[]}", "checkpoint" },
    { NULL }
};

static const char *const nb_fields[] = {
    "kind", "id", "name", "qualifiedReference", "scopedReference", "referenceId", "uri", "url",
    "owner", "status", "currentJob", NULL
};
static const bad_body_t nb_bad[] = {
    { "{\"qualifiedReference\":\"not a reference\"}", "qualifiedReference" },
    { "{\"qualifiedReference\":\"o.w.n\",\"currentJob\":{\"status\":\"flying\"}}",
      "currentJob.status" },
    { "{\"qualifiedReference\":\"o.w.n\",\"owner\":{\"name\":\"someone\"}}", "owner.name" },
    { "{\"qualifiedReference\":\"o.w.n\",\"status\":\"paused\"}", "status" },
    { "{\"qualifiedReference\":\"o.w.n\",\"shape\":1}", "shape" },
    { NULL }
};

static const char *const ag_fields[] = {
    "agent_id", "created_at", "session_id", "status", "closed_at", "saved", "task", "url",
    "success", "answer", "steps", NULL
};
static const bad_body_t ag_bad[] = {
    { "{\"session_id\":\"s1\",\"task\":\"t\",\"status\":\"asleep\"}", "status" },
    { "{\"session_id\":\"\",\"task\":\"t\",\"status\":\"active\"}", "session_id" },
    { "{\"session_id\":\"s1\",\"task\":\"t\",\"status\":\"active\",\"steps\":5}", "steps" },
    { "{\"session_id\":\"s1\",\"task\":\"t\",\"status\":\"active\",\"closed_at\":\"x\"}",
      "closed_at" },
    { "{\"session_id\":\"s1\",\"status\":\"active\",\"mood\":1}", "mood" },
    { NULL }
};

static const char *const ss_fields[] = {
    "session_id", "idle_timeout_minutes", "max_duration_minutes", "created_at", "closed_at",
    "last_accessed_at", "duration", "status", "steps", "error", "proxies", "browser_type",
    "use_file_storage", "network_request_bytes", "network_response_bytes", "user_agent",
    "viewport_width", "viewport_height", "headless", "solve_captchas", "cdp_url", "viewer_url",
    "web_bot_auth", "auth_ids", "system_hidden", "timeout_minutes", NULL
};
static const bad_body_t ss_bad[] = {
    { "{\"status\":\"paused\"}", "status" },
    { "{\"status\":\"active\",\"browser_type\":\"lynx\"}", "browser_type" },
    { "{\"status\":\"active\",\"headless\":\"maybe\"}", "headless" },
    { "{\"status\":\"active\",\"error\":5}", "error" },
    { "{\"status\":\"active\",\"colour\":1}", "colour" },
    { NULL }
};

static const char *const fd_fields[] = {
    "name", "description", "tags", "created_at", "version", "platform_version",
    "runtime_config", "program_code", "udf_rust", "udf_toml", "program_config",
    "program_version", "program_status", "program_status_since", "program_error",
    "program_info", "refresh_version", "storage_status", "storage_status_details",
    "deployment_error", "deployment_id", "deployment_initial", "deployment_status",
    "deployment_status_since", "deployment_desired_status", "deployment_desired_status_since",
    "deployment_resources_status", "deployment_resources_status_since",
    "deployment_resources_desired_status", "deployment_resources_desired_status_since",
    "deployment_runtime_status", "deployment_runtime_status_details",
    "deployment_runtime_status_since", "deployment_runtime_desired_status",
    "deployment_runtime_desired_status_since", "bootstrap_policy", "silent_bootstrap",
    "concurrent_bootstrap", "checkpoint_sequence_number", NULL
};
static const bad_body_t fd_bad[] = {
    { "{\"deployment_status\":\"Flying\"}", "deployment_status" },
    { "{\"deployment_status\":\"Running\",\"deployment_desired_status\":\"Up\"}",
      "deployment_desired_status" },
    { "{\"deployment_status\":\"Running\",\"deployment_initial\":\"Stopped\"}",
      "deployment_initial" },
    { "{\"deployment_status\":\"Stopped\",\"deployment_error\":{\"message\":\"x\"}}",
      "deployment_error" },
    { "{\"deployment_status\":\"Stopped\",\"checkpoint_sequence_number\":-1}",
      "checkpoint_sequence_number" },
    { "{\"name\":\"other\",\"deployment_status\":\"Stopped\"}", "name" },
    { "{\"deployment_status\":\"Stopped\",\"program_sql\":\"\"}", "program_sql" },
    { NULL }
};

static const fixture_t fixtures[] = {
    { "workstation", "ws-1",
      "{\"id\":\"ws-1\",\"name\":\"Artist-Workstation-01\",\"status\":\"running\","
      "\"configuration\":{\"cpuCores\":8,\"memoryGB\":32,\"gpu\":\"NVIDIA RTX A5000\","
      "\"storageGB\":512,\"region\":\"us-west-2\"}}", ws_fields, ws_bad },
    { "wrapper", "550e8400-e29b-41d4-a716-446655440000",
      "{\"wrapper_id\":\"550e8400-e29b-41d4-a716-446655440000\",\"type\":\"csv\","
      "\"status\":\"running\",\"checkpoint\":{\"high_water_mark\":\"2026-11-01T00:00:00Z\","
      "\"low_water_mark\":null}}", wr_fields, wr_bad },
    { "notebook", "nb-demo01",
      "{\"kind\":\"notebook\",\"id\":\"nb-demo01\",\"name\":\"Demo notebook\","
      "\"qualifiedReference\":\"demo_user.demo_workflow:wf01.demo_notebook:nb01\","
      "\"referenceId\":\"nb01\",\"owner\":{\"name\":\"demo_user\"},\"currentJob\":"
      "{\"id\":\"job-demo\",\"kind\":\"notebook\",\"status\":\"running\",\"errorMessage\":null,"
      "\"startTime\":1795400000000,\"endTime\":null}}", nb_fields, nb_bad },
    { "agent", "0b5c3f5e-1d2a-4c7e-9b1f-2a3c4d5e6f70",
      "{\"agent_id\":\"0b5c3f5e-1d2a-4c7e-9b1f-2a3c4d5e6f70\",\"session_id\":\"s1\","
      "\"status\":\"active\",\"closed_at\":null,\"saved\":false,\"task\":\"find a dog\","
      "\"url\":null,\"success\":null,\"answer\":null,\"steps\":[]}", ag_fields, ag_bad },
    { "session", "5f1d2a3c-4c7e-4b1f-9a3c-0b5c3f5e1d2a",
      "{\"session_id\":\"5f1d2a3c-4c7e-4b1f-9a3c-0b5c3f5e1d2a\",\"status\":\"active\","
      "\"headless\":true,\"idle_timeout_minutes\":3,\"max_duration_minutes\":15}",
      ss_fields, ss_bad },
    { "pipeline", "demo-pipeline",
      "{\"name\":\"demo-pipeline\",\"deployment_status\":\"Running\","
      "\"deployment_desired_status\":\"Running\",\"deployment_error\":null,"
      "\"checkpoint_sequence_number\":0}", fd_fields, fd_bad },
};
#define NFIXTURES (sizeof(fixtures) / sizeof(fixtures[0]))

static const fixture_t *fixture_of(const lc_kind_def_t *def)
{
    unsigned i;

    for (i = 0; i < NFIXTURES; i++) {
        if (strcmp(fixtures[i].kind, def->name) == 0) {
            return &fixtures[i];
        }
    }
    return NULL;
}

/* ---- helpers ----------------------------------------------------------------- */

static json_t *parse(const char *text)
{
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, NULL);

    CHECK(json_is_object(j));
    return j;
}

/* from_json of a body, as the admin PUT does it: APR_SUCCESS or the error
 * with *field. */
static apr_status_t put_body(const lc_kind_def_t *def, const char *id, const char *text,
                             lc_resource_t *r, const char **field)
{
    json_t *body = parse(text);
    apr_status_t rv;

    lc_resource_clear(r);
    r->kind = (uint8_t)def->kind;
    apr_cpystrn(r->id, id, sizeof(r->id));
    r->version = 1;
    r->created = r->state_since = NOW - apr_time_from_sec(60);
    *field = NULL;
    rv = def->from_json(body, r, field, pool);
    *field = *field ? apr_pstrdup(pool, *field) : NULL;     /* it may be a key of body */
    json_decref(body);
    return rv;
}

/* The fixture's resource, then put in `state` wanting `desired`. */
static void base(const lc_kind_def_t *def, unsigned state, unsigned desired, lc_resource_t *r)
{
    const fixture_t *f = fixture_of(def);
    const char *field;

    if (!f || put_body(def, f->id, f->body, r, &field) != APR_SUCCESS) {
        lc_resource_clear(r);
        r->kind = (uint8_t)def->kind;
        apr_cpystrn(r->id, "t-1", sizeof(r->id));
    }
    r->state = (uint8_t)state;
    r->desired = (uint8_t)desired;
    r->due = 0;
    r->due_class = LC_DUE_NONE;
}

static int in_mask(uint32_t mask, unsigned v)       /* 0 = any */
{
    return mask == 0 || (v < 32 && (mask & LC_BIT(v)));
}

/* Every desired value a row of the kind names, and 0 (what kinds without a
 * desired state keep). */
static uint32_t desired_values(const lc_kind_def_t *def)
{
    const lc_rule_t *ru;
    const lc_advance_t *a;
    const lc_timeout_t *t;
    uint32_t m = LC_BIT(0);

    for (ru = def->rules; ru->action; ru++) m |= ru->desired;
    for (a = def->advances; a && a->from != LC_STATE_KEEP; a++) m |= a->desired;
    for (t = def->timeouts; t && t->state != LC_STATE_KEEP; t++) m |= t->desired;
    return m;
}

/* The representation of r can be built (whatever state a row left it in). */
static void representable(const lc_kind_def_t *def, const lc_resource_t *r)
{
    json_t *j = def->to_json(r);

    CHECK(json_is_object(j));
    json_decref(j);
}

/* After a move with `flags`: the next auto-advance is queued exactly when the
 * row asks for it and the kind has one for the new state (timeouts off). */
static void check_scheduled(const lc_kind_def_t *def, const lc_resource_t *r, uint8_t flags)
{
    int adv = (flags & LC_RULE_ADVANCE) && lc_kind_next_state(def, r) >= 0
              && (!def->may_auto_advance || def->may_auto_advance(r));

    CHECK(r->due_class == (adv ? LC_DUE_ADVANCE : LC_DUE_NONE));
    CHECK(r->due == (adv ? NOW + AFTER : 0));
}

/* ---- the rule table ------------------------------------------------------------ */

static int rule_cases, illegal_cases;

/* One row, from one state and desired state it covers. */
static void rule_case(const lc_kind_def_t *def, const lc_rule_t *ru, unsigned s, unsigned d)
{
    lc_resource_t r, prev;
    apr_status_t rv;

    base(def, s, d, &r);
    lc_resource_copy(&prev, &r);
    rv = lc_kind_apply(def, &r, ru->action, NOW, AFTER);
    rule_cases++;
    if (ru->flags & LC_RULE_NOOP) {
        CHECK(rv == LC_NOCHANGE && lc_resource_same(&r, &prev));
        return;
    }
    CHECK(rv == APR_SUCCESS);
    CHECK(r.state == (ru->to == LC_STATE_KEEP ? s : ru->to));
    CHECK(r.state_since == (r.state != s ? NOW : prev.state_since));
    CHECK(r.desired == (ru->desired_to == LC_STATE_KEEP ? d : ru->desired_to));
    if (ru->flags & LC_RULE_CLOSE) {
        CHECK(r.closed == NOW);
    }
    check_scheduled(def, &r, ru->flags);
    representable(def, &r);
}

static void test_rule_rows(const lc_kind_def_t *def)
{
    uint32_t dv = desired_values(def);
    const lc_rule_t *ru;
    unsigned s, d;

    for (ru = def->rules; ru->action; ru++) {
        CHECK(ru->from != 0 && ru->from < LC_BIT(def->nstates));
        CHECK(ru->to == LC_STATE_KEEP || ru->to < def->nstates);
        for (s = 0; s < def->nstates; s++) {
            for (d = 0; d < 32; d++) {
                if ((ru->from & LC_BIT(s)) && (dv & LC_BIT(d)) && in_mask(ru->desired, d)) {
                    rule_case(def, ru, s, d);
                }
            }
        }
    }
}

/* How many rows of `action` cover state s wanting d (at most one may). */
static int rows_covering(const lc_kind_def_t *def, const char *action, unsigned s, unsigned d)
{
    const lc_rule_t *ru;
    int n = 0;

    for (ru = def->rules; ru->action; ru++) {
        n += strcmp(ru->action, action) == 0 && (ru->from & LC_BIT(s)) && in_mask(ru->desired, d);
    }
    return n;
}

/* Whether ru is the first row of its action. */
static int first_of_action(const lc_kind_def_t *def, const lc_rule_t *ru)
{
    const lc_rule_t *o;

    for (o = def->rules; o < ru && strcmp(o->action, ru->action) != 0; o++) {
    }
    return o == ru;
}

/* Every state (and desired state) no row of an action covers: LC_EILLEGAL,
 * nothing changed. */
static void test_illegal(const lc_kind_def_t *def)
{
    uint32_t dv = desired_values(def);
    const lc_rule_t *ru;
    lc_resource_t r, prev;
    unsigned s, d;
    int n;

    for (ru = def->rules; ru->action; ru++) {
        for (s = 0; s < def->nstates && first_of_action(def, ru); s++) {
            for (d = 0; d < 32; d++) {
                if (!(dv & LC_BIT(d))) {
                    continue;
                }
                if ((n = rows_covering(def, ru->action, s, d)) > 0) {
                    CHECK(n == 1);             /* rows of one action never overlap */
                    continue;
                }
                base(def, s, d, &r);
                lc_resource_copy(&prev, &r);
                CHECK(lc_kind_apply(def, &r, ru->action, NOW, AFTER) == LC_EILLEGAL);
                CHECK(lc_resource_same(&r, &prev));
                illegal_cases++;
            }
        }
    }
    base(def, 0, 0, &r);
    lc_resource_copy(&prev, &r);
    CHECK(lc_kind_apply(def, &r, "no-such-action", NOW, AFTER) == APR_ENOENT);
    CHECK(lc_resource_same(&r, &prev));
}

/* ---- the advance table ------------------------------------------------------- */

static int advance_cases, timeout_cases;

static int advances_covering(const lc_kind_def_t *def, unsigned s, unsigned d)
{
    const lc_advance_t *a;
    int n = 0;

    for (a = def->advances; a && a->from != LC_STATE_KEEP; a++) {
        n += a->from == s && in_mask(a->desired, d);
    }
    return n;
}

static void advance_case(const lc_kind_def_t *def, const lc_advance_t *a, unsigned d)
{
    lc_resource_t r;

    base(def, a->from, d, &r);
    CHECK(lc_kind_is_transitional(def, a->from));
    CHECK(lc_kind_next_state(def, &r) == a->to);
    CHECK(lc_kind_advance(def, &r, NOW, AFTER) == APR_SUCCESS);
    CHECK(r.state == a->to && r.state_since == (a->to != a->from ? NOW : r.state_since));
    check_scheduled(def, &r, a->flags);
    representable(def, &r);
    advance_cases++;
}

/* Every row; then every state a row does not finish: LC_NOCHANGE. */
static void test_advance_rows(const lc_kind_def_t *def)
{
    uint32_t dv = desired_values(def);
    const lc_advance_t *a;
    lc_resource_t r;
    unsigned s, d;

    for (a = def->advances; a && a->from != LC_STATE_KEEP; a++) {
        CHECK(a->from < def->nstates && a->to < def->nstates);
        for (d = 0; d < 32; d++) {
            if ((dv & LC_BIT(d)) && in_mask(a->desired, d)) {
                advance_case(def, a, d);
            }
        }
    }
    for (s = 0; s < def->nstates; s++) {
        for (d = 0; d < 32; d++) {
            if (!(dv & LC_BIT(d))) {
                continue;
            }
            CHECK(advances_covering(def, s, d) <= 1);
            if (advances_covering(def, s, d) == 0) {
                base(def, s, d, &r);
                CHECK(lc_kind_next_state(def, &r) == -1);
                CHECK(lc_kind_advance(def, &r, NOW, AFTER) == LC_NOCHANGE && r.state == s);
            }
        }
    }
}

/* ---- the timeout table -------------------------------------------------------- */

static int timeouts_covering(const lc_kind_def_t *def, unsigned s, unsigned d)
{
    const lc_timeout_t *t;
    int n = 0;

    for (t = def->timeouts; t && t->state != LC_STATE_KEEP; t++) {
        n += t->state == s && in_mask(t->desired, d);
    }
    return n;
}

/* Entering the state queues the timeout; when it falls due (auto-advance
 * off), the row's move happens. */
static void timeout_case(const lc_kind_def_t *def, const lc_timeout_t *t, unsigned d)
{
    lc_resource_t r;

    base(def, t->state, d, &r);
    if (t->which == LC_TIMEOUT_OWN) {
        /* The resource's own deadline: entering the state queues nothing;
         * what its request path queued, scheduling keeps. */
        lc_kind_schedule(def, &r, NOW, -1);
        CHECK(r.due_class != LC_DUE_TIMEOUT && r.due == 0);
        r.due = NOW + TMO;
        r.due_class = LC_DUE_TIMEOUT;
    }
    lc_kind_schedule(def, &r, NOW, -1);
    CHECK(r.due_class == LC_DUE_TIMEOUT && r.due == NOW + TMO);
    CHECK(lc_kind_due(def, &r, r.due, -1) == APR_SUCCESS);
    CHECK(r.state == t->to);
    representable(def, &r);
    timeout_cases++;
}

/* Every row; then every state without one: nothing queued, and a timeout
 * entry that falls due anyway changes nothing. */
static void test_timeout_rows(const lc_kind_def_t *def)
{
    uint32_t dv = desired_values(def);
    const lc_timeout_t *t;
    lc_resource_t r;
    unsigned s, d;

    lc_kind_set_timeout(LC_TIMEOUT_SUSPEND, TMO);
    for (t = def->timeouts; t && t->state != LC_STATE_KEEP; t++) {
        CHECK(t->state < def->nstates && t->to < def->nstates && t->which < LC_TIMEOUTS);
        for (d = 0; d < 32; d++) {
            if ((dv & LC_BIT(d)) && in_mask(t->desired, d)) {
                timeout_case(def, t, d);
            }
        }
    }
    for (s = 0; s < def->nstates; s++) {
        for (d = 0; d < 32; d++) {
            if (!(dv & LC_BIT(d)) || timeouts_covering(def, s, d) > 0) {
                continue;
            }
            base(def, s, d, &r);
            lc_kind_schedule(def, &r, NOW, -1);
            CHECK(r.due_class != LC_DUE_TIMEOUT);
            r.due_class = LC_DUE_TIMEOUT;
            r.due = NOW;
            CHECK(lc_kind_due(def, &r, NOW, -1) == LC_NOCHANGE && r.state == s && r.due == 0);
        }
    }
    lc_kind_set_timeout(LC_TIMEOUT_SUSPEND, -1);
}

/* ---- names and representation ------------------------------------------------- */

static void test_names(const lc_kind_def_t *def)
{
    unsigned i;

    CHECK(def->kind > LC_KIND_NONE && def->kind < LC_KIND_COUNT);
    CHECK(lc_kind_def(def->kind) == def);
    CHECK(lc_kind_by_name(def->name) == def->kind);
    CHECK_STR(lc_kind_name(def->kind), def->name);
    CHECK(def->nstates > 0 && def->nstates < 32);
    for (i = 0; i < def->nstates; i++) {
        CHECK(lc_kind_state(def, lc_kind_state_name(def, i)) == (int)i);
    }
    CHECK(lc_kind_state(def, "no-such-state") == -1);
    CHECK(lc_kind_state(def, NULL) == -1);
    CHECK_STR(lc_kind_state_name(def, def->nstates), "unknown");
}

/* to_json's keys are exactly the promised ones, in order. */
static void check_fields(const lc_kind_def_t *def, const lc_resource_t *r,
                         const char *const *fields)
{
    json_t *j = def->to_json(r), *v;
    const char *k;
    unsigned i = 0;

    CHECK(json_is_object(j));
    json_object_foreach(j, k, v) {
        CHECK_STR(k, fields[i] ? fields[i] : "(no more fields promised)");
        i += fields[i] != NULL;
    }
    CHECK(fields[i] == NULL);
    json_decref(j);
}

static void test_representation(const lc_kind_def_t *def)
{
    const fixture_t *f = fixture_of(def);
    const bad_body_t *b;
    const char *field;
    lc_resource_t r;

    CHECK(f != NULL);                    /* every kind has its fixture here */
    if (!f) {
        fprintf(stderr, "test_kinds: no fixture for the kind %s\n", def->name);
        return;
    }
    CHECK(put_body(def, f->id, f->body, &r, &field) == APR_SUCCESS);
    check_fields(def, &r, f->fields);
    for (b = f->bad; b->body; b++) {
        CHECK(put_body(def, f->id, b->body, &r, &field) != APR_SUCCESS);
        CHECK_STR(field, b->field);
    }
}

/* The registry: every kind once, under the name its line gives. */
static void test_registry(void)
{
    static const struct { const char *name; const lc_kind_def_t *def; } rows[] = {
#define LC_REG_KIND(name) { #name, &lc_##name##_kind },
#include "lc_registry.h"
    };
    const lc_kind_def_t *const *k, *const *o;
    unsigned i, n = 0;

    for (k = lc_kind_registry; *k; k++, n++) {
        for (o = lc_kind_registry; o < k; o++) {
            CHECK((*o)->kind != (*k)->kind && strcmp((*o)->name, (*k)->name) != 0);
        }
    }
    CHECK(n == sizeof(rows) / sizeof(rows[0]));
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        CHECK_STR(rows[i].def->name, rows[i].name);
        CHECK(lc_kind_registry[i] == rows[i].def);
    }
}

/* ---- the transitions conf/API.md spells out ----------------------------------- */

static apr_status_t act(const lc_kind_def_t *def, lc_resource_t *r, const char *action)
{
    return lc_kind_apply(def, r, action, NOW, AFTER);
}

/* to_json(r)[key] (or [key][sub]) as a string, NULL if it is not one. */
static const char *shown(const lc_kind_def_t *def, const lc_resource_t *r, const char *key,
                         const char *sub)
{
    json_t *j = def->to_json(r), *v = json_object_get(j, key);
    const char *s;

    v = sub ? json_object_get(v, sub) : v;
    s = json_is_string(v) ? apr_pstrdup(pool, json_string_value(v)) : NULL;
    json_decref(j);
    return s;
}

/* Workstations: stop running -> stopped; launch stopped | error -> provisioning
 * -> running; anything else is refused (400). */
static void spec_workstation(void)
{
    const lc_kind_def_t *def = &lc_workstation_kind;
    lc_resource_t r;

    base(def, WS_RUNNING, 0, &r);
    CHECK(act(def, &r, "stop") == APR_SUCCESS && r.state == WS_STOPPED);
    CHECK_STR(shown(def, &r, "status", NULL), "stopped");
    CHECK(act(def, &r, "stop") == LC_EILLEGAL);
    CHECK(act(def, &r, "launch") == APR_SUCCESS && r.state == WS_PROVISIONING);
    CHECK(r.due_class == LC_DUE_ADVANCE && r.due == NOW + AFTER);
    CHECK(act(def, &r, "launch") == LC_EILLEGAL);
    CHECK(lc_kind_due(def, &r, NOW + AFTER, AFTER) == APR_SUCCESS);
    CHECK(r.state == WS_RUNNING && r.due == 0 && r.due_class == LC_DUE_NONE);
    CHECK(act(def, &r, "launch") == LC_EILLEGAL);
    base(def, WS_ERROR, 0, &r);
    /* Auto-advance off: provisioning waits for a runner. */
    CHECK(lc_kind_apply(def, &r, "launch", NOW, -1) == APR_SUCCESS);
    CHECK(r.state == WS_PROVISIONING && r.due == 0);
}

/* Wrappers: stop running -> stopped, else success without a change;
 * execute -> running from anything but running; a new run forgets the
 * runner's "cannot stop", and a CSV/XLSX wrapper its water marks. */
static void spec_wrapper(void)
{
    const lc_kind_def_t *def = &lc_wrapper_kind;
    const char *field;
    lc_resource_t r;
    json_t *data;

    base(def, WR_RUNNING, 0, &r);
    CHECK(act(def, &r, "stop") == APR_SUCCESS && r.state == WR_STOPPED);
    CHECK(act(def, &r, "stop") == LC_NOCHANGE && r.state == WR_STOPPED);
    data = lc_kind_get_data(&r);
    json_object_set_new(data, WR_K_FAIL, json_true());
    CHECK(lc_kind_set_data(&r, data) == APR_SUCCESS);
    json_decref(data);
    CHECK_STR(shown(def, &r, "checkpoint", "high_water_mark"), "2026-11-01T00:00:00Z");
    CHECK(act(def, &r, "execute") == APR_SUCCESS && r.state == WR_RUNNING);
    CHECK(strstr(r.data, "\"" WR_K_FAIL "\"") == NULL);
    CHECK(shown(def, &r, "checkpoint", "high_water_mark") == NULL);      /* csv: from scratch */
    CHECK(act(def, &r, "execute") == LC_EILLEGAL);
    CHECK(put_body(def, "wr-api", "{\"type\":\"api\",\"status\":\"completed\",\"checkpoint\":"
                   "{\"high_water_mark\":\"h\",\"low_water_mark\":\"l\"}}", &r, &field)
          == APR_SUCCESS);
    CHECK(act(def, &r, "execute") == APR_SUCCESS && r.state == WR_RUNNING);
    CHECK_STR(shown(def, &r, "checkpoint", "low_water_mark"), "l");     /* api: resumes */
}

/* Redivis: run makes a new job, queued (-> running); stop cancels the
 * current job when it is queued or running. */
static void spec_notebook(void)
{
    const lc_kind_def_t *def = &lc_notebook_kind;
    const char *job;
    lc_resource_t r;

    base(def, NB_COMPLETED, 0, &r);
    CHECK(act(def, &r, "stop") == LC_EILLEGAL);
    CHECK(act(def, &r, "run") == APR_SUCCESS && r.state == NB_QUEUED);
    job = shown(def, &r, "currentJob", "id");
    CHECK(job && strlen(job) == 16 && strcmp(job, "job-demo") != 0);
    CHECK_STR(shown(def, &r, "currentJob", "status"), "queued");
    CHECK_STR(shown(def, &r, "status", NULL), "running");
    CHECK(act(def, &r, "run") == LC_EILLEGAL);
    CHECK(lc_kind_advance(def, &r, NOW, AFTER) == APR_SUCCESS && r.state == NB_RUNNING);
    CHECK(act(def, &r, "stop") == APR_SUCCESS && r.state == NB_CANCELLED);
    CHECK_STR(shown(def, &r, "status", NULL), "stopped");
    CHECK_STR(shown(def, &r, "currentJob", "id"), job);
    CHECK(act(def, &r, "stop") == LC_EILLEGAL);
    CHECK(act(def, &r, "run") == APR_SUCCESS && r.state == NB_QUEUED);
    CHECK(strcmp(shown(def, &r, "currentJob", "id"), job) != 0);
    base(def, NB_NONE, 0, &r);
    CHECK(act(def, &r, "stop") == LC_EILLEGAL);
    CHECK(act(def, &r, "run") == APR_SUCCESS && r.state == NB_QUEUED);
}

/* Notte: stopping an agent or a session closes it (closed_at now);
 * stopping one that is over answers it as it is. */
static void spec_notte(void)
{
    lc_resource_t r;

    base(&lc_agent_kind, AG_ACTIVE, 0, &r);
    CHECK(shown(&lc_agent_kind, &r, "closed_at", NULL) == NULL);
    CHECK(act(&lc_agent_kind, &r, "stop") == APR_SUCCESS && r.state == AG_CLOSED);
    CHECK(r.closed == NOW);
    CHECK_STR(shown(&lc_agent_kind, &r, "closed_at", NULL), "2027-01-15T08:00:00.000000Z");
    CHECK_STR(shown(&lc_agent_kind, &r, "status", NULL), "closed");
    CHECK(act(&lc_agent_kind, &r, "stop") == LC_NOCHANGE);
    base(&lc_session_kind, SS_ACTIVE, 0, &r);
    CHECK(act(&lc_session_kind, &r, "stop") == APR_SUCCESS && r.state == SS_CLOSED);
    CHECK_STR(shown(&lc_session_kind, &r, "closed_at", NULL), "2027-01-15T08:00:00.000000Z");
    CHECK(act(&lc_session_kind, &r, "stop") == LC_NOCHANGE);
    base(&lc_session_kind, SS_TIMED_OUT, 0, &r);
    CHECK(act(&lc_session_kind, &r, "stop") == LC_NOCHANGE && r.state == SS_TIMED_OUT);
}

/* Notte: a session's max_duration_minutes and idle_timeout_minutes (the
 * fixture's defaults, 15 and 3) end it as timed_out; a running agent stops
 * the idle clock; activity moves last_accessed_at; a stop drops the deadline. */
static void spec_notte_timeouts(void)
{
    const apr_interval_time_t min = apr_time_from_sec(60);
    lc_resource_t r;

    base(&lc_session_kind, SS_ACTIVE, 0, &r);
    r.created = r.state_since = NOW;
    CHECK(lc_notte_session_clock(&r, NOW, min, 0) == 1);
    CHECK(r.due == NOW + 3 * min && r.due_class == LC_DUE_TIMEOUT);
    CHECK_STR(shown(&lc_session_kind, &r, "last_accessed_at", NULL), "2027-01-15T08:00:00.000000Z");
    CHECK(lc_notte_session_clock(&r, NOW, min, 0) == 0);                /* nothing new */
    CHECK(lc_notte_session_clock(&r, NOW + min, min, 1) == 1 && r.due == NOW + 15 * min);
    CHECK_STR(shown(&lc_session_kind, &r, "last_accessed_at", NULL), "2027-01-15T08:01:00.000000Z");
    CHECK(lc_notte_session_clock(&r, NOW + 14 * min, min, 0) == 1 && r.due == NOW + 15 * min);
    CHECK(lc_notte_session_clock(&r, NOW + 2 * min, min, 0) == 1 && r.due == NOW + 5 * min);
    lc_kind_schedule(&lc_session_kind, &r, NOW + 2 * min, -1);          /* an admin PUT keeps it */
    CHECK(r.due == NOW + 5 * min && r.due_class == LC_DUE_TIMEOUT);
    CHECK(lc_kind_due(&lc_session_kind, &r, r.due, -1) == APR_SUCCESS && r.state == SS_TIMED_OUT);
    CHECK(r.closed == NOW + 5 * min && r.due == 0 && r.due_class == LC_DUE_NONE);
    CHECK_STR(shown(&lc_session_kind, &r, "status", NULL), "timed_out");
    CHECK_STR(shown(&lc_session_kind, &r, "closed_at", NULL), "2027-01-15T08:05:00.000000Z");
    CHECK(lc_notte_session_clock(&r, NOW + 6 * min, min, 0) == 0);      /* over: no deadline */
    base(&lc_session_kind, SS_ACTIVE, 0, &r);
    r.created = NOW;
    CHECK(lc_notte_session_clock(&r, NOW, min, 0) == 1);
    CHECK(act(&lc_session_kind, &r, "stop") == APR_SUCCESS && r.due == 0 && r.due_class == LC_DUE_NONE);
}

static void fd_put(const char *body, lc_resource_t *r)
{
    const char *field;

    CHECK(put_body(&lc_pipeline_kind, "p-1", body, r, &field) == APR_SUCCESS);
}

/* Feldera: start, the statuses polled on the way up, a graceful stop
 * (desired Suspended, Suspended with its checkpoint, Stopping, Stopped). */
static void spec_pipeline_lifecycle(void)
{
    const lc_kind_def_t *def = &lc_pipeline_kind;
    lc_resource_t r;

    fd_put("{\"deployment_status\":\"Stopped\"}", &r);
    CHECK(shown(def, &r, "deployment_id", NULL) == NULL);
    CHECK(act(def, &r, "start_running") == APR_SUCCESS);
    CHECK(r.state == FD_PROVISIONING && r.desired == FDD_RUNNING && r.res_state == FR_PROVISIONING);
    CHECK(r.res_desired == FRD_PROVISIONED && r.due_class == LC_DUE_ADVANCE);
    CHECK(strlen(shown(def, &r, "deployment_id", NULL)) == 36);
    CHECK_STR(shown(def, &r, "deployment_initial", NULL), "Running");
    CHECK(lc_kind_advance(def, &r, NOW, AFTER) == APR_SUCCESS && r.state == FD_INITIALIZING);
    CHECK(lc_kind_advance(def, &r, NOW, AFTER) == APR_SUCCESS && r.state == FD_RUNNING);
    CHECK(r.res_state == FR_PROVISIONED && r.due_class == LC_DUE_NONE);
    CHECK(act(def, &r, "start_running") == LC_NOCHANGE);
    CHECK(act(def, &r, "start_paused") == LC_EILLEGAL);
    CHECK(act(def, &r, "checkpoint") == APR_SUCCESS && r.ckpt_seq == 1);
    CHECK(act(def, &r, "stop") == APR_SUCCESS);
    CHECK(r.state == FD_RUNNING && r.desired == FDD_SUSPENDED && r.due_class == LC_DUE_ADVANCE);
    CHECK(act(def, &r, "stop") == LC_EILLEGAL && act(def, &r, "start_running") == LC_EILLEGAL);
    CHECK(lc_kind_advance(def, &r, NOW, AFTER) == APR_SUCCESS && r.state == FD_SUSPENDED);
    CHECK(r.ckpt_seq == 2 && r.desired == FDD_SUSPENDED);
    CHECK(lc_kind_advance(def, &r, NOW, AFTER) == APR_SUCCESS && r.state == FD_STOPPING);
    CHECK(r.desired == FDD_STOPPED && r.res_state == FR_STOPPING);
    CHECK(lc_kind_advance(def, &r, NOW, AFTER) == APR_SUCCESS && r.state == FD_STOPPED);
    CHECK(r.res_state == FR_STOPPED && shown(def, &r, "deployment_id", NULL) == NULL);
    CHECK_STR(shown(def, &r, "storage_status", NULL), "InUse");
    CHECK(act(def, &r, "stop") == LC_NOCHANGE && act(def, &r, "stop_force") == LC_NOCHANGE);
}

/* A suspend that does not finish within LifecycleSuspendTimeout stops the
 * pipeline with Feldera's error; a force stop cancels a suspend; a
 * runner-driven pipeline is never advanced by the background task. */
static void spec_pipeline_timeout(void)
{
    const lc_kind_def_t *def = &lc_pipeline_kind;
    lc_resource_t r;

    lc_kind_set_timeout(LC_TIMEOUT_SUSPEND, TMO);
    fd_put("{\"deployment_status\":\"Running\"}", &r);
    CHECK(lc_kind_apply(def, &r, "stop", NOW, -1) == APR_SUCCESS);
    CHECK(r.due_class == LC_DUE_TIMEOUT && r.due == NOW + TMO);
    CHECK(lc_kind_due(def, &r, r.due, -1) == APR_SUCCESS && r.state == FD_STOPPING);
    CHECK(r.desired == FDD_STOPPED);
    CHECK_STR(shown(def, &r, "deployment_error", "error_code"),
              "AutomatonSuspendingComputeTimeout");
    CHECK(strstr(shown(def, &r, "deployment_error", "message"), "timeout of 5s") != NULL);
    lc_kind_set_timeout(LC_TIMEOUT_SUSPEND, -1);
    fd_put("{\"deployment_status\":\"Suspended\"}", &r);
    CHECK(act(def, &r, "stop_force") == APR_SUCCESS && r.state == FD_STOPPING);
    CHECK(r.desired == FDD_STOPPED && r.ckpt_seq == 0);
    fd_put("{\"deployment_status\":\"Provisioning\",\"runner_driven\":true}", &r);
    CHECK(def->may_auto_advance && !def->may_auto_advance(&r));
    lc_kind_schedule(def, &r, NOW, AFTER);
    CHECK(r.due_class == LC_DUE_NONE);
}

/* A runner's report (POST .../report), through the kind's report. */
static apr_status_t fd_report(lc_resource_t *r, const char *body, const char **field)
{
    json_t *j = parse(body);
    apr_status_t rv;

    *field = NULL;
    rv = lc_pipeline_kind.report(&lc_pipeline_kind, r, j, NOW, AFTER, field);
    *field = *field ? apr_pstrdup(pool, *field) : NULL;     /* it may be a key of j */
    json_decref(j);
    return rv;
}

static void spec_pipeline_reports(void)
{
    const char *field;
    lc_resource_t r;

    fd_put("{\"deployment_status\":\"Provisioning\",\"deployment_desired_status\":\"Running\"}",
           &r);
    CHECK(fd_report(&r, "{\"deployment_status\":\"Initializing\"}", &field) == APR_SUCCESS);
    CHECK(r.state == FD_INITIALIZING);
    CHECK(fd_report(&r, "{\"deployment_status\":\"Initializing\"}", &field) == LC_NOCHANGE);
    CHECK(fd_report(&r, "{\"checkpoint_sequence_number\":7}", &field) == APR_SUCCESS);
    CHECK(r.ckpt_seq == 7);
    CHECK(fd_report(&r, "{\"deployment_error\":{\"message\":\"boom\",\"error_code\":\"E1\","
                        "\"details\":{}}}", &field) == APR_SUCCESS);
    CHECK(r.state == FD_STOPPING && r.desired == FDD_STOPPED);
    CHECK_STR(shown(&lc_pipeline_kind, &r, "deployment_error", "error_code"), "E1");
    CHECK(fd_report(&r, "{\"colour\":1}", &field) == APR_EINVAL);
    CHECK_STR(field, "colour");
    CHECK(fd_report(&r, "{\"deployment_status\":\"Running\",\"deployment_error\":{\"message\":"
                        "\"x\",\"error_code\":\"E\",\"details\":null}}", &field) == APR_EINVAL);
    CHECK_STR(field, "deployment_status");
    fd_put("{\"deployment_status\":\"Stopped\"}", &r);
    CHECK(fd_report(&r, "{\"deployment_status\":\"Running\"}", &field) == APR_SUCCESS);
    CHECK(r.state == FD_RUNNING && r.desired == FDD_RUNNING);
}

/* Feldera: pause / resume / activate / approve follow the runtime desired
 * status; a runner's log lines, metrics and storage status are kept, bounded
 * (the oldest go), and a bad field changes nothing. */
static void spec_pipeline_runtime(void)
{
    const lc_kind_def_t *def = &lc_pipeline_kind;
    const char *field;
    char body[600];
    lc_resource_t r, prev;
    json_t *data;
    int i;

    fd_put("{\"deployment_status\":\"Running\"}", &r);
    CHECK(act(def, &r, "pause") == APR_SUCCESS && r.desired == FDD_PAUSED && r.state == FD_RUNNING);
    CHECK(lc_kind_advance(def, &r, NOW, AFTER) == APR_SUCCESS && r.state == FD_PAUSED);
    CHECK(act(def, &r, "pause") == LC_NOCHANGE);
    CHECK(act(def, &r, "resume") == APR_SUCCESS && r.desired == FDD_RUNNING);
    CHECK(lc_kind_advance(def, &r, NOW, AFTER) == APR_SUCCESS && r.state == FD_RUNNING);
    CHECK(act(def, &r, "approve") == LC_NOCHANGE);
    fd_put("{\"deployment_status\":\"Standby\"}", &r);
    CHECK(act(def, &r, "resume") == LC_EILLEGAL && act(def, &r, "pause") == LC_EILLEGAL);
    CHECK(act(def, &r, "activate") == APR_SUCCESS && r.desired == FDD_RUNNING);
    CHECK(lc_kind_advance(def, &r, NOW, AFTER) == APR_SUCCESS && r.state == FD_RUNNING);
    fd_put("{\"deployment_status\":\"AwaitingApproval\",\"deployment_desired_status\":"
           "\"Running\"}", &r);
    CHECK(act(def, &r, "approve") == APR_SUCCESS && r.state == FD_BOOTSTRAPPING);
    CHECK(lc_kind_advance(def, &r, NOW, AFTER) == APR_SUCCESS && r.state == FD_RUNNING);
    fd_put("{\"deployment_status\":\"Stopped\"}", &r);
    CHECK(act(def, &r, "pause") == LC_EILLEGAL && act(def, &r, "approve") == LC_EILLEGAL);
    /* The log keeps its newest lines within its bound; the record fits. */
    for (i = 0; i < 200; i++) {
        snprintf(body, sizeof(body), "{\"log\":\"line %d %0400d\"}", i, 0);
        CHECK(fd_report(&r, body, &field) == APR_SUCCESS);
    }
    data = lc_kind_get_data(&r);
    CHECK(json_array_size(json_object_get(data, FH_K_LOG)) < 20);
    CHECK(strncmp(json_string_value(json_array_get(json_object_get(data, FH_K_LOG),
          json_array_size(json_object_get(data, FH_K_LOG)) - 1)), "line 199 ", 9) == 0);
    json_decref(data);
    /* The history keeps its newest entries. */
    for (i = 0; i < 60; i++) {
        CHECK(act(def, &r, "start_running") == APR_SUCCESS);
        CHECK(act(def, &r, "stop_force") == APR_SUCCESS);
        CHECK(lc_kind_advance(def, &r, NOW, AFTER) == APR_SUCCESS && r.state == FD_STOPPED);
    }
    data = lc_feldera_events_json(&r, 0);
    CHECK(json_array_size(data) == 48);
    CHECK_STR(json_string_value(json_object_get(json_array_get(data, 0),
                                                "deployment_resources_status")), "Stopped");
    json_decref(data);
    CHECK(strlen(r.data) < LC_DATA_MAX);
    CHECK(fd_report(&r, "{\"pipeline_complete\":true,\"global_metrics\":"
                        "{\"total_input_records\":3}}", &field) == APR_SUCCESS);
    data = lc_feldera_stats_json(&r, NOW);
    CHECK(json_is_true(json_object_get(json_object_get(data, "global_metrics"), "pipeline_complete")));
    CHECK(json_integer_value(json_object_get(json_object_get(data, "global_metrics"),
                                             "total_input_records")) == 3);
    json_decref(data);
    lc_resource_copy(&prev, &r);
    CHECK(fd_report(&r, "{\"log\":\"ok\",\"total_input_records\":\"x\"}", &field) == APR_EINVAL);
    CHECK_STR(field, "total_input_records");
    CHECK(lc_resource_same(&r, &prev));
    CHECK(fd_report(&r, "{\"storage_status\":\"Cleared\"}", &field) == APR_SUCCESS);
    CHECK_STR(shown(def, &r, "storage_status", NULL), "Cleared");
}

static void test_spec(void)
{
    spec_workstation();
    spec_wrapper();
    spec_notebook();
    spec_notte();
    spec_notte_timeouts();
    spec_pipeline_lifecycle();
    spec_pipeline_timeout();
    spec_pipeline_reports();
    spec_pipeline_runtime();
}

int main(void)
{
    const lc_kind_def_t *const *k;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    if (sodium_init() < 0) {
        return 1;
    }
    lc_kind_registry_load();
    test_registry();
    for (k = lc_kind_registry; *k; k++) {
        int rules = 0, advances = 0, timeouts = 0;
        const lc_rule_t *ru;
        const lc_advance_t *a;
        const lc_timeout_t *t;

        rule_cases = illegal_cases = advance_cases = timeout_cases = 0;
        test_names(*k);
        test_representation(*k);
        test_rule_rows(*k);
        test_illegal(*k);
        test_advance_rows(*k);
        test_timeout_rows(*k);
        for (ru = (*k)->rules; ru->action; ru++) rules++;
        for (a = (*k)->advances; a && a->from != LC_STATE_KEEP; a++) advances++;
        for (t = (*k)->timeouts; t && t->state != LC_STATE_KEEP; t++) timeouts++;
        printf("test_kinds: %-11s %2d rule rows (%3d cases), %2d advance rows (%2d cases), "
               "%d timeout rows (%d cases), %3d illegal\n", (*k)->name, rules, rule_cases,
               advances, advance_cases, timeouts, timeout_cases, illegal_cases);
    }
    test_spec();
    return lc_test_done("test_kinds");
}
