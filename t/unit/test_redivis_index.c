/* Finding a Redivis notebook by any form of its reference (lc_redivis_resolve,
 * what the dialect calls) in a real store: every form, what must not match,
 * names and reference ids unique, notebooks stored before aliases; then
 * 100,000 notebooks, and the ids-only form ("owner.:wf.:nb") timed against
 * the named form: it must take less than twice as long (it used to scan). */
#include <stdlib.h>
#include <time.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "lc_test.h"
#include "lc_test_store.h"
#include "lc_kind.h"
#include "lc_redivis_ref.h"

#define MANY     100000       /* notebooks in the timed store */
#define LOOKUPS  200000       /* lookups timed per form */
#define BLOCK    5000         /* the forms take turns by blocks of this many */

typedef struct put {
    const lc_redivis_ref_t *ref;
    int legacy;               /* as stored before aliases: no "k", no aliases */
} put_t;

/* What the admin PUT stores for a notebook's names and ids. */
static apr_status_t put_cb(lc_resource_t *r, int exists, void *baton)
{
    const put_t *b = baton;
    json_t *data = json_object();
    apr_status_t rv;

    (void)exists;
    lc_redivis_store_ref(data, r, b->ref);
    if (b->legacy) {
        json_object_del(data, "k");
        memset(r->alias, 0, sizeof(r->alias));
    }
    rv = lc_kind_set_data(r, data);
    json_decref(data);
    return rv;
}

static apr_status_t put(lc_store_t *st, const char *id, const char *qref, int legacy)
{
    lc_redivis_ref_t ref;
    const char *why;
    put_t b;

    if (lc_redivis_ref_parse_decoded(qref, &ref, &why) != APR_SUCCESS) {
        fprintf(stderr, "bad reference %s: %s\n", qref, why);
        exit(2);
    }
    b.ref = &ref;
    b.legacy = legacy;
    return lc_store_update(st, LC_KIND_NOTEBOOK, id, put_cb, &b, NULL, NULL);  /* shm: no per-call memory */
}

/* The id of the notebook a raw (encoded) reference finds, or "404"/"400". */
static const char *find(apr_pool_t *p, lc_store_t *st, const char *raw)
{
    lc_redivis_ref_t ref;
    lc_resource_t *r = apr_palloc(p, sizeof(*r));
    const char *why;
    apr_status_t rv;

    if (lc_redivis_ref_parse(p, raw, strlen(raw), &ref, &why) != APR_SUCCESS) {
        return "400";
    }
    rv = lc_redivis_resolve(st, &ref, r, p);
    return rv == APR_SUCCESS ? apr_pstrdup(p, r->id) : rv == LC_ENOTFOUND ? "404" : "error";
}

static void test_forms(apr_pool_t *p)
{
    lc_store_t *st = lc_test_store(p, 64);
    lc_redivis_ref_t s;
    lc_resource_t r;
    static const char *const found[] = {
        "alice.sales_flow.q1_report", "alice.sales_flow:w1.q1_report:n1",
        "Alice.Sales%20Flow.Q1%2FReport", "ALICE%2ESALES_FLOW%3AW1%2EQ1_REPORT%3AN1",
        "alice.:w1.:n1", "alice%2E%3Aw1%2E%3An1", "alice.sales_flow.:n1",
        "alice.renamed:w1.renamed:n1", "alice.sales_flow.q1_report:n1",
    };
    static const char *const not_found[] = {
        "alice.sales_flow.q1_report:n2", "alice.sales_flow:w2.q1_report",
        "alice.:w2.:n1", "bob.:w1.:n1", "alice.other_flow.:n1", "alice.sales_flow.nope",
        "alice.:w1.q1_report",        /* a workflow id and a notebook name: not indexed */
    };
    unsigned i;

    CHECK(put(st, "nb-4a9b", "alice.sales_flow:w1.q1_report:n1", 0) == APR_SUCCESS);
    CHECK(lc_store_get(st, LC_KIND_NOTEBOOK, "nb-4a9b", &r, p) == APR_SUCCESS);
    CHECK_STR(r.alias[0], "name:alice.sales_flow.q1_report");
    CHECK_STR(r.alias[1], "ref:n1");
    CHECK_STR(r.data, "{\"k\":\"alice.sales_flow.q1_report\",\"w\":\"w1\",\"b\":\"n1\"}");
    CHECK(lc_redivis_stored_ref(&r, &s) == APR_SUCCESS);
    CHECK_STR(s.owner, "alice");
    CHECK_STR(s.workflow, "sales_flow");
    CHECK_STR(s.wf_id, "w1");
    CHECK_STR(s.notebook, "q1_report");
    CHECK_STR(s.nb_id, "n1");
    for (i = 0; i < sizeof(found) / sizeof(*found); i++) {
        const char *id = find(p, st, found[i]);
        if (strcmp(id, "nb-4a9b")) {
            fprintf(stderr, "  %s found %s\n", found[i], id);
        }
        CHECK_STR(id, "nb-4a9b");
    }
    for (i = 0; i < sizeof(not_found) / sizeof(*not_found); i++) {
        const char *id = find(p, st, not_found[i]);
        if (strcmp(id, "404")) {
            fprintf(stderr, "  %s found %s\n", not_found[i], id);
        }
        CHECK_STR(id, "404");
    }

    /* A name or a reference id another notebook has: refused, nothing changes. */
    CHECK(put(st, "nb-2", "alice.sales_flow:w9.Q1 Report:n2", 0) == LC_EEXISTS);
    CHECK(put(st, "nb-2", "alice.sales_flow.other:n1", 0) == LC_EEXISTS);
    CHECK(lc_store_get(st, LC_KIND_NOTEBOOK, "nb-2", &r, p) == LC_ENOTFOUND);
    CHECK(put(st, "nb-2", "alice.sales_flow.other:n2", 0) == APR_SUCCESS);
    CHECK(put(st, "nb-2", "alice.sales_flow.q1_report:n2", 0) == LC_EEXISTS);
    CHECK_STR(find(p, st, "alice.sales_flow.other"), "nb-2");

    /* A rename moves the name; the reference id keeps finding it. */
    CHECK(put(st, "nb-4a9b", "alice.sales_flow:w1.q2_report:n1", 0) == APR_SUCCESS);
    CHECK_STR(find(p, st, "alice.sales_flow.q1_report"), "404");
    CHECK_STR(find(p, st, "alice.sales_flow.q2_report"), "nb-4a9b");
    CHECK_STR(find(p, st, "alice.sales_flow.q1_report:n1"), "nb-4a9b");
    CHECK(put(st, "nb-2", "alice.sales_flow.q1_report:n2", 0) == APR_SUCCESS);   /* free now */

    /* Id = canonical key: found by its aliases like any other,
     * and a later rename is not undone by its id. */
    CHECK(put(st, "bob.flow.nb", "bob.flow.nb:b7", 0) == APR_SUCCESS);
    CHECK_STR(find(p, st, "bob.flow.nb"), "bob.flow.nb");
    CHECK(put(st, "bob.flow.nb", "bob.flow.nb2:b7", 0) == APR_SUCCESS);
    CHECK_STR(find(p, st, "bob.flow.nb"), "404");
    CHECK_STR(find(p, st, "bob.:x.:b7"), "404");           /* it has no workflow id */

    /* Stored before aliases (an old journal): its id is its key; found by name. */
    CHECK(put(st, "carol.flow.nb", "carol.flow:w3.nb:c3", 1) == APR_SUCCESS);
    CHECK(lc_store_get(st, LC_KIND_NOTEBOOK, "carol.flow.nb", &r, p) == APR_SUCCESS);
    CHECK(r.alias[0][0] == '\0' && lc_redivis_stored_ref(&r, &s) == APR_SUCCESS);
    CHECK_STR(s.wf_id, "w3");
    CHECK_STR(find(p, st, "carol.flow.nb"), "carol.flow.nb");
    CHECK_STR(find(p, st, "carol.flow:w3.nb:c3"), "carol.flow.nb");
    CHECK_STR(find(p, st, "carol.flow:w4.nb"), "404");
}

/* CPU time of this thread, in ns: other processes on a busy machine do not
 * count, so the ratio measures the lookups, not the neighbours. */
static double cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* One lookup of each of n raw references; returns the CPU time taken (ns),
 * and counts in *wrong the lookups that did not find the expected notebook. */
static double time_lookups(lc_store_t *st, apr_pool_t *p, char **raw, const int *order,
                           int n, int *wrong)
{
    apr_pool_t *scratch;
    lc_resource_t *r = malloc(sizeof(*r));
    double t0 = cpu_ns();
    int i;

    apr_pool_create(&scratch, p);
    for (i = 0; i < n; i++) {
        int k = order[i];
        lc_redivis_ref_t ref;
        const char *why;
        char id[16];

        if (lc_redivis_ref_parse(scratch, raw[k], strlen(raw[k]), &ref, &why) != APR_SUCCESS
            || lc_redivis_resolve(st, &ref, r, p) != APR_SUCCESS
            || strcmp(r->id, (snprintf(id, sizeof(id), "nb-%05x", k), id))) {
            (*wrong)++;
        }
        if ((i & 1023) == 1023) {
            apr_pool_clear(scratch);
        }
    }
    t0 = cpu_ns() - t0;
    apr_pool_destroy(scratch);
    free(r);
    return t0;
}

static void test_many(apr_pool_t *p)
{
    lc_store_t *st = lc_test_store(p, MANY + 64);
    char **named = apr_palloc(p, MANY * sizeof(char *));
    char **ids = apr_palloc(p, MANY * sizeof(char *));
    int *order = apr_palloc(p, LOOKUPS * sizeof(int));
    double named_ns = 0, ids_ns = 0;
    apr_time_t t0 = apr_time_now();
    int i, failed = 0, wrong = 0;
    double ratio;

    /* 100 owners, 1,000 workflows of 100 notebooks, opaque ids. */
    for (i = 0; i < MANY; i++) {
        char id[16], qref[128];

        snprintf(id, sizeof(id), "nb-%05x", i);
        snprintf(qref, sizeof(qref), "user%d.Flow %d:wf%d.Notebook %d:nb%05x", i % 100,
                 i / 100, i / 100, i, i);
        failed += put(st, id, qref, 0) != APR_SUCCESS;
        /* As redivis-python sends them: quote(ref, safe=''). */
        named[i] = apr_psprintf(p, "user%d.Flow%%20%d.Notebook%%20%d", i % 100, i / 100, i);
        ids[i] = apr_psprintf(p, "user%d.%%3Awf%d.%%3Anb%05x", i % 100, i / 100, i);
    }
    CHECK(failed == 0);
    printf("test_redivis_index: %d notebooks stored in %.2f s\n", MANY,
           (double)(apr_time_now() - t0) / APR_USEC_PER_SEC);
    srand(7);
    for (i = 0; i < LOOKUPS; i++) {
        order[i] = rand() % MANY;
    }
    /* The same notebooks in the same order by each form, taking turns, so
     * that caches and the machine's load favour neither. */
    for (i = 0; i < LOOKUPS; i += BLOCK) {
        named_ns += time_lookups(st, p, named, order + i, BLOCK, &wrong);
        ids_ns += time_lookups(st, p, ids, order + i, BLOCK, &wrong);
    }
    CHECK(wrong == 0);
    ratio = ids_ns / (named_ns > 0 ? named_ns : 1);
    printf("test_redivis_index: %d lookups by each form among %d notebooks (CPU time, "
           "parse + resolve): named %.2f us, ids-only %.2f us each; "
           "ratio ids-only/named %.2f (must be < 2)\n",
           LOOKUPS, MANY, named_ns / LOOKUPS / 1e3, ids_ns / LOOKUPS / 1e3, ratio);
    CHECK(ratio < 2.0);
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    test_forms(p);
    test_many(p);
    apr_pool_destroy(p);
    apr_terminate();
    return lc_test_done("test_redivis_index");
}
