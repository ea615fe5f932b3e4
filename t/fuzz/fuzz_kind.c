/* fuzz_kind: the admin PUT and runner report bodies of every kind, through
 * the kinds' own tables (lc_workstation_kind, lc_notebook_kind,
 * lc_agent_kind, lc_wrapper_kind, lc_pipeline_kind: from_json, to_json,
 * report, the rules), and the engine of lc_kind.c that applies them.
 *
 * The kinds are pure (lc_kind_*.c, linked from the unit-test core).  The
 * input: first byte = the kind (mod 5); then, up to a
 * newline, the id (none: a default id of that kind); then the JSON body.
 * What the admin API does before from_json (lc_dialect_admin.c
 * put_template, put_cb) is done here the same way.  An accepted body gives a
 * resource whose representation can be built, and so does every action,
 * advance and report applied to it afterwards. */
#include "lc_fuzz.h"
#include "lc_json.h"
#include "lc_kind.h"
#include "lc_util.h"

extern const lc_kind_def_t lc_workstation_kind, lc_notebook_kind, lc_agent_kind,
                           lc_wrapper_kind, lc_pipeline_kind;

static const lc_kind_def_t *const kinds[] = {
    &lc_workstation_kind, &lc_notebook_kind, &lc_agent_kind, &lc_wrapper_kind,
    &lc_pipeline_kind
};
static const char *const default_ids[] = {
    "ws-1", "owner.workflow.notebook", "0b5c3f5e-1d2a-4c7e-9b1f-2a3c4d5e6f70", "wr-1",
    "pipe-1"
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))
#define ADVANCE apr_time_from_msec(300)

/* The representation of r must be buildable and serializable. */
static void represent(const lc_kind_def_t *def, const lc_resource_t *r)
{
    json_t *j = def->to_json(r);
    char *text;

    LC_FUZZ_CHECK(j != NULL);
    text = json_dumps(j, JSON_COMPACT);
    LC_FUZZ_CHECK(text != NULL);
    free(text);
    json_decref(j);
    LC_FUZZ_CHECK(r->data[LC_DATA_MAX] == '\0' && strlen(r->data) <= LC_DATA_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const server_owned[] = {
        "version", "etag", "created", "created_at", "updated_at", "state_since", NULL
    };
    static int registered;
    const lc_kind_def_t *def;
    const char *body, *nl, *id, *field = NULL, *why = NULL;
    size_t bodylen;
    apr_pool_t *p;
    json_t *j, *owner, *report;
    lc_resource_t r, t;
    const lc_rule_t *rule;
    apr_time_t now = LC_FUZZ_NOW;
    unsigned i;

    if (!registered) {
        for (i = 0; i < NKINDS; i++) {
            lc_kind_register(kinds[i]);
        }
        lc_kind_set_timeout(LC_TIMEOUT_SUSPEND, apr_time_from_sec(2));
        registered = 1;
    }
    if (size == 0) {
        return 0;
    }
    p = lc_fuzz_pool();
    def = kinds[data[0] % NKINDS];
    body = (const char *)data + 1;
    bodylen = size - 1;
    nl = memchr(body, '\n', bodylen);
    id = default_ids[data[0] % NKINDS];
    if (nl) {
        id = apr_pstrmemdup(p, body, (apr_size_t)(nl - body));
        bodylen -= (size_t)(nl + 1 - body);
        body = nl + 1;
    }
    /* The body as put_template reads it (the pool's), then put_template. */
    j = lc_json_parse(p, body, bodylen, 0, &why);
    LC_FUZZ_CHECK(j != NULL || why != NULL);
    if (j == NULL || !lc_id_valid(id) || !json_is_object(j)) {
        goto done;
    }
    report = json_deep_copy(j);
    owner = json_object_get(j, "owner");
    if (json_is_string(owner)) {
        if (json_string_length(owner) > LC_OWNER_MAX) {
            json_decref(report);
            goto done;
        }
        json_object_del(j, "owner");
    }
    for (i = 0; server_owned[i]; i++) {
        json_object_del(j, server_owned[i]);
    }
    memset(&t, 0, sizeof(t));
    apr_cpystrn(t.id, id, sizeof(t.id));
    if (def->from_json(j, &t, &field, p) != APR_SUCCESS) {
        LC_FUZZ_CHECK(field != NULL);
        json_decref(report);
        goto done;
    }
    /* put_cb on a new resource. */
    memset(&r, 0, sizeof(r));
    r.kind = (uint8_t)def->kind;
    apr_cpystrn(r.id, id, sizeof(r.id));
    r.version = 1;
    r.created = r.state_since = now;
    r.state = t.state;
    r.desired = t.desired;
    r.res_state = t.res_state;
    r.res_desired = t.res_desired;
    r.ckpt_seq = t.ckpt_seq;
    r.closed = t.closed;
    memcpy(r.data, t.data, sizeof(r.data));
    lc_kind_schedule(def, &r, now, ADVANCE);
    LC_FUZZ_CHECK(r.state < def->nstates);
    represent(def, &r);

    /* Every action of the kind, the advance, a due entry, and the same
     * body as a runner's report. */
    for (rule = def->rules; rule->action; rule++) {
        t = r;
        (void)lc_kind_apply(def, &t, rule->action, now + 1, ADVANCE);
        LC_FUZZ_CHECK(t.state < def->nstates);
        represent(def, &t);
    }
    t = r;
    (void)lc_kind_advance(def, &t, now + 1, ADVANCE);
    represent(def, &t);
    t = r;
    (void)lc_kind_due(def, &t, now + apr_time_from_sec(5), ADVANCE);
    represent(def, &t);
    if (def->report) {
        t = r;
        field = NULL;
        (void)def->report(def, &t, report, now + 1, ADVANCE, &field);
        LC_FUZZ_CHECK(t.state < def->nstates);
        represent(def, &t);
    }
    json_decref(report);
done:
    apr_pool_destroy(p);
    return 0;
}
