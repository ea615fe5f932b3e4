/* Unit tests: Redivis qualified notebook references (lc_redivis_ref.c). */
#include <apr_general.h>
#include <apr_strings.h>

#include "lc_test.h"
#include "lc_redivis_ref.h"

/* Raw path segments that must all name the same notebook. */
static const char *const same[] = {
    "alice.my_flow:x7g2.my_notebook:n93k",
    "ALICE.My_Flow:X7G2.My_Notebook:N93K",
    "alice.My%20Flow:x7g2.My%20Notebook:n93k",           /* space escaped */
    "alice.my%20%20flow:x7g2.my---notebook:n93k",        /* runs collapse */
    "alice.__my flow__:x7g2.(my notebook):n93k",          /* leading/trailing ignored */
    "alice%2Emy_flow%3Ax7g2%2Emy_notebook%3An93k",        /* '.' and ':' encoded */
    "alice%2emy_flow%3ax7g2.my_notebook%3An93k",          /* lowercase hex, mixed */
    "%61lice.my_flow:x7g2.my_notebook:n93k",              /* any byte may be encoded */
    "alice.my%C3%A9flow:x7g2.my_notebook:n93k",           /* é is a non-word char: '_' */
    "alice.my-flow:x7g2.my.notebook:n93k",                /* not a reference: four parts */
    "alice.my%E2%80%94flow:x7g2.my%E2%80%94notebook:n93k", /* em dash = '_' */
    "alice.my+flow:x7g2.my~notebook:n93k",                /* '+' is not a space in paths */
};
/* 1: equivalent to same[0]; -1: not a reference at all. */
static const int same_expected[] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, 1, 1 };

/* Valid references that are NOT equivalent to same[0]. */
static const char *const different[] = {
    "alice.my_flow:x7g2.my_notebook",          /* no nb id */
    "alice.my_flow.my_notebook:n93k",          /* no wf id */
    "alice.myflow:x7g2.my_notebook:n93k",      /* '_' matters between words */
    "bob.my_flow:x7g2.my_notebook:n93k",
    "alice.my_flow:x7g3.my_notebook:n93k",
    "alice.:x7g2.:n93k",                       /* ids only */
    "alice.my_flow2:x7g2.my_notebook:n93k",
};

/* Raw segments that are not references at all. */
static const char *const invalid[] = {
    "",
    "alice",
    "alice.flow",
    "alice.flow.nb.extra",
    ".flow.nb",                                /* no owner */
    "___.flow.nb",                             /* owner normalizes to nothing */
    "alice..nb",                               /* empty workflow, no id */
    "alice.flow.",                             /* empty notebook, no id */
    "alice.---.nb",                            /* empty after normalizing, no id */
    "alice:x1.flow.nb",                        /* owner cannot have an id */
    "alice.flow:.nb",                          /* empty id */
    "alice.flow:a:b.nb",                       /* two ids */
    "alice.flow:x-1.nb",                       /* id not alnum */
    "alice.flow.nb%",                          /* broken escape */
    "alice.flow.nb%4",
    "alice.flow.nb%zz",
    "alice.flow.nb%00",                        /* NUL */
    "alice.fl%FFow.nb",                        /* not UTF-8 */
    "alice.fl%C3ow.nb",                        /* truncated UTF-8 */
    "alice.fl%C0%AFow.nb",                     /* overlong */
    "alice.flow:abcdefghijklmnopqrstuvwxyz0123456.nb",   /* 33-character id */
};

static void test_norm(void)
{
    char out[16];

    CHECK(lc_redivis_name_norm("My Notebook", 11, out, sizeof(out)) == APR_SUCCESS);
    CHECK_STR(out, "my_notebook");
    CHECK(lc_redivis_name_norm("__a__b__", 8, out, sizeof(out)) == APR_SUCCESS);
    CHECK_STR(out, "a_b");
    CHECK(lc_redivis_name_norm("!!!", 3, out, sizeof(out)) == APR_SUCCESS);
    CHECK_STR(out, "");
    CHECK(lc_redivis_name_norm("caf\xc3\xa9 ol\xc3\xa9", 10, out, sizeof(out)) == APR_SUCCESS);
    CHECK_STR(out, "caf_ol");
    CHECK(lc_redivis_name_norm("abcdefghijklmnop", 16, out, sizeof(out)) == APR_EINVAL);
    CHECK(lc_redivis_name_norm("abcdefghijklmno", 15, out, sizeof(out)) == APR_SUCCESS);
}

static apr_status_t parse(apr_pool_t *p, const char *raw, lc_redivis_ref_t *ref)
{
    const char *why = NULL;
    apr_status_t rv = lc_redivis_ref_parse(p, raw, strlen(raw), ref, &why);

    CHECK(rv == APR_SUCCESS || (why && *why));
    return rv;
}

static void test_equivalence(apr_pool_t *p)
{
    lc_redivis_ref_t base, r;
    unsigned i;

    CHECK(parse(p, same[0], &base) == APR_SUCCESS);
    CHECK_STR(base.owner, "alice");
    CHECK_STR(base.workflow, "my_flow");
    CHECK_STR(base.wf_id, "x7g2");
    CHECK_STR(base.notebook, "my_notebook");
    CHECK_STR(base.nb_id, "n93k");
    CHECK_STR(lc_redivis_ref_key(&base, p), "alice.my_flow.my_notebook");
    for (i = 0; i < sizeof(same) / sizeof(*same); i++) {
        apr_status_t rv = parse(p, same[i], &r);
        if (same_expected[i] < 0) {
            CHECK(rv == APR_EINVAL);
            continue;
        }
        CHECK(rv == APR_SUCCESS);
        if (lc_redivis_ref_equal(&base, &r) != same_expected[i]) {
            fprintf(stderr, "  equivalence of '%s' is not %d\n", same[i], same_expected[i]);
        }
        CHECK(lc_redivis_ref_equal(&base, &r) == same_expected[i]);
    }
    for (i = 0; i < sizeof(different) / sizeof(*different); i++) {
        CHECK(parse(p, different[i], &r) == APR_SUCCESS);
        if (lc_redivis_ref_equal(&base, &r)) {
            fprintf(stderr, "  '%s' should differ\n", different[i]);
        }
        CHECK(!lc_redivis_ref_equal(&base, &r));
    }
}

static void test_invalid(apr_pool_t *p)
{
    lc_redivis_ref_t r;
    char *long_raw;
    unsigned i;

    for (i = 0; i < sizeof(invalid) / sizeof(*invalid); i++) {
        apr_status_t rv = parse(p, invalid[i], &r);
        if (rv != APR_EINVAL) {
            fprintf(stderr, "  '%s' should be invalid\n", invalid[i]);
        }
        CHECK(rv == APR_EINVAL);
    }
    /* Over-long: raw beyond LC_REDIVIS_RAW_MAX, and names whose key exceeds 123
     * (what the "name:" alias leaves of LC_ALIAS_MAX). */
    long_raw = apr_pstrcat(p, "alice.flow.", apr_pstrndup(p, memset(apr_palloc(p, 1100), 'n',
                                                                     1100), 1100), NULL);
    CHECK(parse(p, long_raw, &r) == APR_EINVAL);
    long_raw = apr_pstrcat(p, "alice.flow.", apr_pstrndup(p, long_raw + 11, 113), NULL);
    CHECK(parse(p, long_raw, &r) == APR_EINVAL);       /* key of 124 bytes */
    long_raw[strlen(long_raw) - 1] = '\0';
    CHECK(parse(p, long_raw, &r) == APR_SUCCESS);      /* key of exactly 123 */
    CHECK(strlen(lc_redivis_ref_key(&r, p)) == LC_REDIVIS_KEY_MAX);
    CHECK(LC_REDIVIS_KEY_MAX == 123);
}

/* A '/' in a display name: redivis-python sends quote(ref, safe=''), so it
 * arrives as %2F (any case); like any non-word character it counts as '_'. */
static void test_encoded_slash(apr_pool_t *p)
{
    lc_redivis_ref_t r;

    CHECK(parse(p, "alice.flow%2Fx.nb", &r) == APR_SUCCESS);
    CHECK_STR(r.workflow, "flow_x");
    CHECK(parse(p, "alice.flow%2fx.nb", &r) == APR_SUCCESS);
    CHECK_STR(r.workflow, "flow_x");
    /* quote("Alice.Q1/Q2 flow:W1.Sales / 2024 (draft)", safe='') */
    CHECK(parse(p, "Alice.Q1%2FQ2%20flow%3AW1.Sales%20%2F%202024%20%28draft%29", &r)
          == APR_SUCCESS);
    CHECK_STR(r.workflow, "q1_q2_flow");
    CHECK_STR(r.wf_id, "w1");
    CHECK_STR(r.notebook, "sales_2024_draft");
    CHECK(parse(p, "alice.%2F%2F.nb", &r) == APR_EINVAL);        /* only '_': no name, no id */
    CHECK(parse(p, "alice.%2F%2F:w1.nb", &r) == APR_SUCCESS);    /* an empty name with its id */
    CHECK(parse(p, "alice.flow:w%2F1.nb", &r) == APR_EINVAL);    /* not in an id */
    CHECK(parse(p, "alice%2F.flow.nb", &r) == APR_SUCCESS);
    CHECK_STR(r.owner, "alice");
}

static void test_ids_only(apr_pool_t *p)
{
    lc_redivis_ref_t r;

    CHECK(parse(p, "owner.:x7g2.:n93k", &r) == APR_SUCCESS);
    CHECK_STR(r.owner, "owner");
    CHECK_STR(r.workflow, "");
    CHECK_STR(r.wf_id, "x7g2");
    CHECK_STR(r.notebook, "");
    CHECK_STR(r.nb_id, "n93k");
    CHECK(!lc_redivis_ref_has_names(&r));
    CHECK(lc_redivis_ref_key(&r, p) == NULL);
    CHECK(parse(p, "owner%2E%3Ax7g2%2E%3AN93K", &r) == APR_SUCCESS);
    CHECK_STR(r.nb_id, "n93k");
    CHECK(parse(p, "owner.flow.:n93k", &r) == APR_SUCCESS);
    CHECK_STR(r.workflow, "flow");
    CHECK_STR(r.notebook, "");
}

static void test_keys_and_decoded(void)
{
    lc_redivis_ref_t r;
    const char *why;

    CHECK(lc_redivis_key_split("alice.my_flow.nb1", &r) == APR_SUCCESS);
    CHECK_STR(r.workflow, "my_flow");
    CHECK(lc_redivis_key_split("Alice.my_flow.nb1", &r) == APR_EINVAL);   /* not lowercase */
    CHECK(lc_redivis_key_split("alice.my__flow.nb1", &r) == APR_EINVAL);  /* not collapsed */
    CHECK(lc_redivis_key_split("alice._flow.nb1", &r) == APR_EINVAL);
    CHECK(lc_redivis_key_split("alice.flow:x1.nb1", &r) == APR_EINVAL);
    CHECK(lc_redivis_key_split("alice.flow", &r) == APR_EINVAL);
    CHECK(lc_redivis_key_split("alice-x.flow.nb", &r) == APR_EINVAL);
    /* Decoded text: '%' is just another non-word character. */
    CHECK(lc_redivis_ref_parse_decoded("alice.100%2F.nb:Q1", &r, &why) == APR_SUCCESS);
    CHECK_STR(r.workflow, "100_2f");
    CHECK_STR(r.nb_id, "q1");
    CHECK(lc_redivis_ref_parse_decoded("alice.a/b.nb", &r, &why) == APR_SUCCESS);
    CHECK_STR(r.workflow, "a_b");
    CHECK(lc_redivis_key_split("alice.a/b.nb", &r) == APR_EINVAL);      /* not canonical */
    CHECK(lc_redivis_refid_valid("x7g2"));
    CHECK(!lc_redivis_refid_valid(""));
    CHECK(!lc_redivis_refid_valid("x_1"));
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    test_norm();
    test_equivalence(p);
    test_invalid(p);
    test_ids_only(p);
    test_encoded_slash(p);
    test_keys_and_decoded();
    apr_pool_destroy(p);
    apr_terminate();
    return lc_test_done("test_redivis_ref");
}
