/* lc_redivis_workflow.h — Redivis workflows: a workflow has no
 * resource of its own; it exists while at least one notebook's qualified
 * reference names it.  APR, jansson and the store interface only (no httpd).
 *
 * Cost.  There is no index by workflow: the store's aliases name one
 * resource each, and a workflow holds many notebooks.  Finding a workflow,
 * or a page of its notebooks, is one pass over the notebooks: the store's
 * `each` (shared memory: one chunked pass over the slots, ~0.5 ms per
 * 10,000 notebooks, ~4 ms per 100,000, measured on the development
 * machine; PostgreSQL: index ranges of 1,000 rows on one connection), else
 * batches of its `list` in id order.  A
 * notebook is matched by its "name:" alias first (a prefix compare; its
 * attributes are parsed only when the reference carries a workflow id), so
 * the pass costs little per notebook but grows with the count; a workflow
 * index kept by both stores would make it O(page).  A get speaks with the
 * names of the workflow's notebook of the smallest id.  The page is then read by id, one O(1) get per notebook. */
#ifndef LC_REDIVIS_WORKFLOW_H
#define LC_REDIVIS_WORKFLOW_H

#include <apr_pools.h>
#include <jansson.h>

#include "lc_store.h"
#include "lc_redivis_ref.h"

#define LC_REDIVIS_WF_BATCH 32      /* notebooks read per list call (no `each`) */
#define LC_REDIVIS_WF_PAGE_MAX 1000 /* the largest page asked for */

typedef char lc_redivis_wf_id_t[LC_ID_MAX + 1];

/* The store ids of up to `max` (1..LC_REDIVIS_WF_PAGE_MAX) notebooks of
 * workflow `wf` whose id is after `after` (NULL or "": from the first), in
 * id order, into ids[]; *more is set when further ones exist.  APR_SUCCESS
 * or the store's error. */
apr_status_t lc_redivis_wf_page(lc_store_t *st, const lc_redivis_ref_t *wf, const char *after,
                                int max, lc_redivis_wf_id_t *ids, int *n, int *more,
                                apr_pool_t *p);

/* Find the workflow: *found gets the stored names and ids of its notebook
 * of the smallest id.  APR_SUCCESS, LC_ENOTFOUND when no notebook names it, or the store's
 * error. */
apr_status_t lc_redivis_wf_find(lc_store_t *st, const lc_redivis_ref_t *wf,
                                lc_redivis_ref_t *found, apr_pool_t *p);

/* Whether the stored notebook r belongs to workflow wf (*stored, when not
 * NULL and it does, gets its names and ids). */
int lc_redivis_wf_holds(const lc_redivis_ref_t *wf, const lc_resource_t *r,
                        lc_redivis_ref_t *stored);

/* The workflow's get form, from a notebook's stored names and ids:
 * {"kind":"workflow","name","qualifiedReference","scopedReference",
 *  "referenceId","uri","url","owner":{"name"}}. */
json_t *lc_redivis_wf_json(const lc_redivis_ref_t *found);

#endif
