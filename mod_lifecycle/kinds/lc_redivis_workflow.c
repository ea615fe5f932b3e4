/* lc_redivis_workflow.c — Redivis workflows, found through their notebooks
 * (lc_redivis_workflow.h says why and what it costs). */
#include <string.h>
#include <apr_strings.h>

#include "lc_redivis_workflow.h"
#include "lc_kind.h"
#include "lc_kind_redivis.h"

/* The notebook's canonical key "owner.workflow.notebook" without parsing its
 * attributes: its "name:" alias, or, stored before aliases, its id. */
static const char *key_of(const lc_resource_t *r)
{
    size_t n = strlen(LC_REDIVIS_ALIAS_NAME);

    return strncmp(r->alias[0], LC_REDIVIS_ALIAS_NAME, n) == 0 ? r->alias[0] + n : r->id;
}

int lc_redivis_wf_holds(const lc_redivis_ref_t *wf, const lc_resource_t *r,
                        lc_redivis_ref_t *stored)
{
    const char *key = key_of(r);
    size_t ol = strlen(wf->owner), wl = strlen(wf->workflow);
    lc_redivis_ref_t s;

    /* Cheap refusals first: another owner, or by name another workflow. */
    if (strncmp(key, wf->owner, ol) != 0 || key[ol] != '.') {
        return 0;
    }
    if (!wf->wf_id[0] && (strncmp(key + ol + 1, wf->workflow, wl) != 0 || key[ol + 1 + wl] != '.')) {
        return 0;
    }
    if (!wf->wf_id[0] && !stored) {
        return 1;
    }
    if (lc_redivis_stored_ref(r, &s) != APR_SUCCESS || !lc_redivis_wf_fits(wf, &s)) {
        return 0;
    }
    if (stored) {
        *stored = s;
    }
    return 1;
}

/* ---- a page: the max + 1 smallest ids after `after` ---------------------------------- */

typedef struct wf_walk {
    const lc_redivis_ref_t *wf;
    const char *after;
    lc_redivis_wf_id_t *ids;    /* max + 1 of them */
    int *ord;                   /* ids[ord[0..n)] in id order */
    int n, cap;                 /* cap = max + 1: one past the page says "more" */
} wf_walk_t;

static int walk_keep(const lc_resource_t *r, void *baton)
{
    wf_walk_t *w = baton;
    int lo = 0, hi = w->n, slot;

    if ((w->after && strcmp(r->id, w->after) <= 0)
        || (w->n == w->cap && strcmp(r->id, w->ids[w->ord[w->n - 1]]) >= 0)
        || !lc_redivis_wf_holds(w->wf, r, NULL)) {
        return 0;
    }
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (strcmp(w->ids[w->ord[mid]], r->id) < 0) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    /* Full: the largest kept goes, and its storage takes the new one. */
    slot = w->n == w->cap ? w->ord[--w->n] : w->n;
    memmove(&w->ord[lo + 1], &w->ord[lo], sizeof(int) * (size_t)(w->n - lo));
    w->ord[lo] = slot;
    w->n++;
    apr_cpystrn(w->ids[slot], r->id, sizeof(w->ids[slot]));
    return 0;
}

/* Without `each`: the store's list in id order, batch after batch, until
 * the page has one past its end (ids come in order: the walk never
 * evicts). */
static apr_status_t walk_list(lc_store_t *st, wf_walk_t *w, apr_pool_t *p)
{
    lc_resource_t *batch = apr_palloc(p, sizeof(*batch) * LC_REDIVIS_WF_BATCH);
    lc_redivis_wf_id_t from;
    int n, more, i;
    apr_status_t rv;

    apr_cpystrn(from, w->after ? w->after : "", sizeof(from));
    do {
        rv = lc_store_list(st, LC_KIND_NOTEBOOK, -1, from, LC_REDIVIS_WF_BATCH, batch, &n,
                           &more, p);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        for (i = 0; i < n && w->n < w->cap; i++) {
            walk_keep(&batch[i], w);
        }
        if (n > 0) {
            apr_cpystrn(from, batch[n - 1].id, sizeof(from));
        }
    } while (more && n > 0 && w->n < w->cap);
    return APR_SUCCESS;
}

apr_status_t lc_redivis_wf_page(lc_store_t *st, const lc_redivis_ref_t *wf, const char *after,
                                int max, lc_redivis_wf_id_t *ids, int *n, int *more,
                                apr_pool_t *p)
{
    wf_walk_t w = { wf, after && *after ? after : NULL, NULL, NULL, 0, max + 1 };
    apr_status_t rv;
    int i;

    *n = *more = 0;
    if (max < 1 || max > LC_REDIVIS_WF_PAGE_MAX) {
        return APR_EINVAL;
    }
    w.ids = apr_palloc(p, sizeof(*w.ids) * (size_t)w.cap);
    w.ord = apr_palloc(p, sizeof(int) * (size_t)w.cap);
    rv = lc_store_each(st, LC_KIND_NOTEBOOK, walk_keep, &w, p);
    if (rv == APR_ENOTIMPL) {
        rv = walk_list(st, &w, p);
    }
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *more = w.n > max;
    *n = *more ? max : w.n;
    for (i = 0; i < *n; i++) {
        apr_cpystrn(ids[i], w.ids[w.ord[i]], sizeof(ids[i]));
    }
    return APR_SUCCESS;
}

/* ---- the workflow itself ------------------------------------------------------------- */

apr_status_t lc_redivis_wf_find(lc_store_t *st, const lc_redivis_ref_t *wf,
                                lc_redivis_ref_t *found, apr_pool_t *p)
{
    lc_redivis_wf_id_t id;
    lc_resource_t *r;
    apr_status_t rv;
    int n, more;

    /* The notebook with the smallest id (the first of the first page), read
     * again for its names: which notebook speaks for the workflow does not
     * depend on the store's order (its notebooks may disagree on the
     * workflow's id, one naming it and another not). */
    if ((rv = lc_redivis_wf_page(st, wf, NULL, 1, &id, &n, &more, p)) != APR_SUCCESS) {
        return rv;
    }
    if (n == 0) {
        return LC_ENOTFOUND;
    }
    r = apr_palloc(p, sizeof(*r));
    rv = lc_store_get(st, LC_KIND_NOTEBOOK, id, r, p);
    if (rv == APR_SUCCESS && !lc_redivis_wf_holds(wf, r, found)) {
        rv = LC_ENOTFOUND;                /* changed since: as if not found */
    }
    return rv;
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
