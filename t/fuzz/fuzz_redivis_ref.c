/* fuzz_redivis_ref: the Redivis reference grammar (lc_redivis_ref.c).
 *
 * The input is a raw, percent-encoded path segment, and also (when it has no
 * NUL) a decoded reference.  A parsed reference is normalized: parsing its
 * canonical key gives the same names, the key splits back into them, and a
 * reference is equivalent to itself; name normalization is idempotent. */
#include "lc_fuzz.h"
#include "lc_redivis_ref.h"
#include "lc_resource.h"
#include "lc_util.h"

static void check_ref(const lc_redivis_ref_t *ref, apr_pool_t *p)
{
    lc_redivis_ref_t back, split;
    const char *key, *why = NULL;

    LC_FUZZ_CHECK(ref->owner[0] != '\0');
    LC_FUZZ_CHECK(lc_redivis_ref_equal(ref, ref));
    LC_FUZZ_CHECK(ref->wf_id[0] == '\0' || lc_redivis_refid_valid(ref->wf_id));
    LC_FUZZ_CHECK(ref->nb_id[0] == '\0' || lc_redivis_refid_valid(ref->nb_id));
    if (!lc_redivis_ref_has_names(ref) || (key = lc_redivis_ref_key(ref, p)) == NULL) {
        return;
    }
    /* The key is a store id as it is (README: passes the admin id grammar). */
    LC_FUZZ_CHECK(strlen(key) <= LC_ID_MAX && lc_id_valid(key));
    LC_FUZZ_CHECK(lc_redivis_key_split(key, &split) == APR_SUCCESS);
    LC_FUZZ_CHECK(strcmp(split.owner, ref->owner) == 0
                  && strcmp(split.workflow, ref->workflow) == 0
                  && strcmp(split.notebook, ref->notebook) == 0);
    LC_FUZZ_CHECK(lc_redivis_ref_parse_decoded(key, &back, &why) == APR_SUCCESS);
    LC_FUZZ_CHECK(strcmp(back.owner, ref->owner) == 0
                  && strcmp(back.workflow, ref->workflow) == 0
                  && strcmp(back.notebook, ref->notebook) == 0
                  && back.wf_id[0] == '\0' && back.nb_id[0] == '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = lc_fuzz_pool();
    lc_redivis_ref_t ref;
    const char *why = NULL, *text = (const char *)data;
    char name[LC_REDIVIS_NAME_MAX + 1], again[LC_REDIVIS_NAME_MAX + 1];

    if (lc_redivis_ref_parse(p, text, size, &ref, &why) == APR_SUCCESS) {
        check_ref(&ref, p);
    }
    else {
        LC_FUZZ_CHECK(why != NULL);
    }
    if (memchr(data, '\0', size) == NULL) {
        const char *s = apr_pstrmemdup(p, text, size);

        why = NULL;
        if (lc_redivis_ref_parse_decoded(s, &ref, &why) == APR_SUCCESS) {
            check_ref(&ref, p);
        }
        else {
            LC_FUZZ_CHECK(why != NULL);
        }
        if (lc_utf8_valid(s, size)
            && lc_redivis_name_norm(s, size, name, sizeof(name)) == APR_SUCCESS) {
            LC_FUZZ_CHECK(lc_redivis_name_norm(name, strlen(name), again, sizeof(again))
                          == APR_SUCCESS && strcmp(name, again) == 0);
        }
        (void)lc_redivis_key_split(s, &ref);
    }
    apr_pool_destroy(p);
    return 0;
}
