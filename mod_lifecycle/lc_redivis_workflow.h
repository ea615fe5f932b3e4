/* lc_redivis_workflow.h — Redivis workflows (SPEC §4.6): a workflow has no
 * resource of its own; it exists while at least one notebook's qualified
 * reference names it, and its notebooks are found through the store's list.
 * APR, jansson and the store interface only (no httpd).
 *
 * Cost.  There is no index by workflow: the store's aliases name one
 * resource each, and a workflow holds many notebooks.  Finding a workflow or
 * a page of its notebooks reads the notebook kind in store-id order, in
 * batches of LC_REDIVIS_WF_BATCH, until it has what it needs: O(notebooks
 * stored) per request in the worst case (a workflow that does not exist, or
 * the last page), O(position of the first match) for a get.  Both stores
 * answer list in id order, so a page token (the store id of the last
 * notebook sent) continues where the page ended, on either store. */
#ifndef LC_REDIVIS_WORKFLOW_H
#define LC_REDIVIS_WORKFLOW_H

#include <apr_pools.h>
#include <jansson.h>

#include "lc_store.h"
#include "lc_redivis_ref.h"

#define LC_REDIVIS_WF_BATCH 32      /* notebooks read per store list call */

/* Called for each notebook of the workflow, in store-id order, with its
 * stored names and ids; return non-zero to stop the scan there. */
typedef int lc_redivis_wf_each_fn(const lc_resource_t *r, const lc_redivis_ref_t *stored,
                                  void *baton);

/* Call fn for the notebooks of workflow `wf` with a store id after `after`
 * (NULL or "": from the first), until fn stops it or none is left.
 * APR_SUCCESS, or the store's error. */
apr_status_t lc_redivis_wf_scan(lc_store_t *st, const lc_redivis_ref_t *wf, const char *after,
                                lc_redivis_wf_each_fn *fn, void *baton, apr_pool_t *p);

/* Find the workflow: *found gets the stored names and ids of its first
 * notebook.  APR_SUCCESS, LC_ENOTFOUND when no notebook names it, or the
 * store's error. */
apr_status_t lc_redivis_wf_find(lc_store_t *st, const lc_redivis_ref_t *wf,
                                lc_redivis_ref_t *found, apr_pool_t *p);

/* The workflow's get form, from a notebook's stored names and ids:
 * {"kind":"workflow","name","qualifiedReference","scopedReference",
 *  "referenceId","uri","url","owner":{"name"}}. */
json_t *lc_redivis_wf_json(const lc_redivis_ref_t *found);

#endif
