/* lc_redivis_workflow.c — Redivis workflows, found through their notebooks
 * (lc_redivis_workflow.h says why and what it costs). */
#include <string.h>
#include <apr_strings.h>

#include "lc_redivis_workflow.h"
#include "lc_kind.h"
#include "lc_kind_redivis.h"

apr_status_t lc_redivis_wf_scan(lc_store_t *st, const lc_redivis_ref_t *wf, const char *after,
                                lc_redivis_wf_each_fn *fn, void *baton, apr_pool_t *p)
{
    /* One batch buffer for the whole scan: a record is ~17 KiB. */
    lc_resource_t *page = apr_palloc(p, sizeof(*page) * LC_REDIVIS_WF_BATCH);
    char from[LC_ID_MAX + 1];
    int n, more, i;
    apr_status_t rv;

    apr_cpystrn(from, after ? after : "", sizeof(from));
    do {
        rv = lc_store_list(st, LC_KIND_NOTEBOOK, -1, from, LC_REDIVIS_WF_BATCH, page, &n,
                           &more, p);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        for (i = 0; i < n; i++) {
            lc_redivis_ref_t s;

            if (lc_redivis_stored_ref(&page[i], &s) == APR_SUCCESS
                && lc_redivis_wf_fits(wf, &s) && fn(&page[i], &s, baton)) {
                return APR_SUCCESS;
            }
        }
        if (n > 0) {
            apr_cpystrn(from, page[n - 1].id, sizeof(from));
        }
    } while (more && n > 0);
    return APR_SUCCESS;
}

static int take_first(const lc_resource_t *r, const lc_redivis_ref_t *stored, void *baton)
{
    lc_redivis_ref_t *found = baton;

    (void)r;
    *found = *stored;
    return 1;
}

apr_status_t lc_redivis_wf_find(lc_store_t *st, const lc_redivis_ref_t *wf,
                                lc_redivis_ref_t *found, apr_pool_t *p)
{
    apr_status_t rv;

    memset(found, 0, sizeof(*found));
    rv = lc_redivis_wf_scan(st, wf, NULL, take_first, found, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    return found->owner[0] ? APR_SUCCESS : LC_ENOTFOUND;
}

json_t *lc_redivis_wf_json(const lc_redivis_ref_t *s)
{
    const char *wf = s->wf_id[0] ? s->wf_id : NULL;
    char scoped[LC_REDIVIS_NAME_MAX + LC_REDIVIS_REFID_MAX + 2];
    char qref[LC_REDIVIS_NAME_MAX + sizeof(scoped) + 1];
    char enc[3 * sizeof(qref)], url[sizeof(enc) + 32];

    apr_snprintf(scoped, sizeof(scoped), "%s%s%s", s->workflow, wf ? ":" : "", wf ? wf : "");
    apr_snprintf(qref, sizeof(qref), "%s.%s", s->owner, scoped);
    lc_redivis_url_encode(qref, enc, sizeof(enc));
    apr_snprintf(url, sizeof(url), "/api/v1/workflows/%s", enc);
    return json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s+, s:s, s:{s:s}}",
                     "kind", "workflow", "name", s->workflow, "qualifiedReference", qref,
                     "scopedReference", scoped, "referenceId", wf,
                     "uri", "/workflows/", enc, "url", url, "owner", "name", s->owner);
}
