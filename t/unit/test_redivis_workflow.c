/* Redivis workflows (lc_redivis_workflow.c, lc_redivis_wf_ref_parse): the
 * workflow reference grammar, and a workflow found through the notebooks
 * that name it in a real store — by name, by id, not another owner's, pages
 * from a page token — through the store's `each` and, without one, its list. */
#include <stdlib.h>
#include <apr_general.h>
#include <apr_strings.h>

#include "lc_test.h"
#include "lc_test_store.h"
#include "lc_kind.h"
#include "lc_redivis_ref.h"
#include "lc_redivis_workflow.h"

static apr_status_t put_cb(lc_resource_t *r, int exists, void *baton)
{
    json_t *data = json_object();
    apr_status_t rv;

    (void)exists;
    lc_redivis_store_ref(data, r, baton);
    rv = lc_kind_set_data(r, data);
    json_decref(data);
    return rv;
}

static void put(lc_store_t *st, const char *id, const char *qref)
{
    lc_redivis_ref_t ref;
    const char *why;

    if (lc_redivis_ref_parse_decoded(qref, &ref, &why) != APR_SUCCESS) {
        fprintf(stderr, "bad reference %s: %s\n", qref, why);
        exit(2);
    }
    CHECK(lc_store_update(st, LC_KIND_NOTEBOOK, id, put_cb, &ref, NULL, NULL) == APR_SUCCESS);
}

/* "owner|workflow|wfid", or "400: why". */
static const char *parsed(apr_pool_t *p, const char *raw)
{
    lc_redivis_ref_t ref;
    const char *why = "";

    if (lc_redivis_wf_ref_parse(p, raw, strlen(raw), &ref, &why) != APR_SUCCESS) {
        return apr_pstrcat(p, "400: ", why, NULL);
    }
    return apr_pstrcat(p, ref.owner, "|", ref.workflow, "|", ref.wf_id, NULL);
}

static void test_parse(apr_pool_t *p)
{
    char long_ref[1100];

    CHECK_STR(parsed(p, "alice.sales_flow"), "alice|sales_flow|");
    CHECK_STR(parsed(p, "Alice.Sales%20Flow%3AW7K"), "alice|sales_flow|w7k");
    CHECK_STR(parsed(p, "alice%2E%2Fsales%2F%2Fflow_"), "alice|sales_flow|");
    CHECK_STR(parsed(p, "alice.:w7k"), "alice||w7k");
    CHECK_STR(parsed(p, "alice"), "400: a workflow reference has the form owner.workflow[:id]");
    CHECK_STR(parsed(p, "alice.flow.nb"), "400: a workflow reference has the form owner.workflow[:id]");
    CHECK_STR(parsed(p, ".flow"), "400: the reference must name the owner");
    CHECK_STR(parsed(p, "alice."), "400: the workflow needs a name or a ':id'");
    CHECK_STR(parsed(p, "alice:x.flow"), "400: the owner name cannot have a ':' suffix");
    CHECK_STR(parsed(p, "alice.flow:bad-id"),
              "400: a reference id must be 1 to 32 letters or digits after one ':'");
    CHECK_STR(parsed(p, "alice.flow%ZZ"), "400: the reference has a broken percent-encoding");
    CHECK_STR(parsed(p, "alice.fl%00ow"), "400: the reference contains NUL or bytes that are not UTF-8");
    CHECK_STR(parsed(p, "alice.fl%FFow"), "400: the reference contains NUL or bytes that are not UTF-8");
    memset(long_ref, 'a', sizeof(long_ref) - 1);
    long_ref[sizeof(long_ref) - 1] = '\0';
    long_ref[5] = '.';
    CHECK_STR(parsed(p, long_ref), "400: the reference is too long");
}

/* A page's ids joined by ',', then "+" when there are more. */
static const char *page(apr_pool_t *p, lc_store_t *st, const char *raw, const char *after,
                        int max)
{
    lc_redivis_ref_t wf;
    lc_redivis_wf_id_t ids[64];
    const char *why, *out = "";
    int n, more, i;

    if (lc_redivis_wf_ref_parse(p, raw, strlen(raw), &wf, &why) != APR_SUCCESS
        || lc_redivis_wf_page(st, &wf, after, max, ids, &n, &more, p) != APR_SUCCESS) {
        return "error";
    }
    for (i = 0; i < n; i++) {
        out = apr_pstrcat(p, out, i ? "," : "", ids[i], NULL);
    }
    return apr_pstrcat(p, out, more ? "+" : "", NULL);
}

static void test_store(apr_pool_t *p, int use_each)
{
    lc_store_t *st = lc_test_store(p, 256);
    static lc_store_ops_t no_each;

    /* Without `each` (as the dbd store): the same answers through list. */
    if (!use_each) {
        no_each = *st->ops;
        no_each.each = NULL;
        st->ops = &no_each;
    }
    lc_redivis_ref_t wf, found;
    const char *why;
    char id[32];
    json_t *j;
    char *text;
    int i;

    /* More than one list batch of the big workflow, other workflows between. */
    for (i = 0; i < 2 * LC_REDIVIS_WF_BATCH + 5; i++) {
        apr_snprintf(id, sizeof(id), "a%03d", i);
        put(st, id, apr_psprintf(p, "alice.big_flow:wbig.nb_%d", i));
        apr_snprintf(id, sizeof(id), "a%03dx", i);
        put(st, id, apr_psprintf(p, "alice.small_flow.nb_%d", i));
    }
    put(st, "b001", "bob.big_flow.stranger");
    put(st, "a050y", "alice.big_flow:wbig.late");      /* between, by id */
    CHECK_STR(page(p, st, "alice.big_flow", NULL, 3), "a000,a001,a002+");
    CHECK_STR(page(p, st, "alice.big_flow", "a049", 3), "a050,a050y,a051+");
    CHECK_STR(page(p, st, "alice.:wbig", "a066", 5), "a067,a068");
    CHECK_STR(page(p, st, "alice.:wbig", "a066", 2), "a067,a068");
    CHECK_STR(page(p, st, "ALICE.Big%20Flow", "a067", 1), "a068");
    CHECK_STR(page(p, st, "alice.renamed:wbig", "a068", 10), "");
    CHECK_STR(page(p, st, "alice.small_flow", "a067x", 10), "a068x");
    CHECK_STR(page(p, st, "bob.big_flow", NULL, 10), "b001");
    CHECK_STR(page(p, st, "bob.small_flow", NULL, 10), "");
    CHECK_STR(page(p, st, "alice.big_flow:wother", NULL, 10), "");
    CHECK_STR(page(p, st, "alice.big_flow", "zzz", 10), "");
    CHECK(strcmp(page(p, st, "alice.big_flow", NULL, 0), "error") == 0);
    CHECK(lc_redivis_wf_ref_parse(p, "alice.big_flow", 14, &wf, &why) == APR_SUCCESS);
    CHECK(lc_redivis_wf_find(st, &wf, &found, p) == APR_SUCCESS);
    j = lc_redivis_wf_json(&found);
    text = json_dumps(j, JSON_COMPACT);
    CHECK_STR(text, "{\"kind\":\"workflow\",\"name\":\"big_flow\","
                    "\"qualifiedReference\":\"alice.big_flow:wbig\","
                    "\"scopedReference\":\"big_flow:wbig\",\"referenceId\":\"wbig\","
                    "\"uri\":\"/workflows/alice.big_flow%3Awbig\","
                    "\"url\":\"/api/v1/workflows/alice.big_flow%3Awbig\","
                    "\"owner\":{\"name\":\"alice\"}}");
    free(text);
    json_decref(j);
    CHECK(lc_redivis_wf_ref_parse(p, "carol.big_flow", 14, &wf, &why) == APR_SUCCESS);
    CHECK(lc_redivis_wf_find(st, &wf, &found, p) == LC_ENOTFOUND);
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    test_parse(p);
    test_store(p, 1);
    test_store(p, 0);
    apr_pool_destroy(p);
    apr_terminate();
    return lc_test_done("test_redivis_workflow");
}
