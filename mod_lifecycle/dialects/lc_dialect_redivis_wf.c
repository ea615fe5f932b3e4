/* lc_dialect_redivis_wf.c — Redivis workflows, at /api/v1/workflows.
 *
 *   GET  /{ref}             the workflow's get form (HEAD: no body) — Workflow.get()
 *                           and Workflow.exists() (redivis-python Workflow.py)
 *   GET  /{ref}/notebooks   a page of its notebooks — Workflow.list_notebooks()
 *
 * {ref} is "owner.workflow[:wfId]", percent-encoded as Workflow.py quotes it
 * (quote(qualified_reference, '')), by the rules of a notebook reference.  A
 * workflow exists while a notebook names it (lc_redivis_workflow.h, which
 * also says what finding one costs).
 *
 * Paging, as api_request.py's make_paginated_request follows it: the query
 * has maxResults and, after the first page, pageToken; the answer is
 * {"results":[...], "nextPageToken": string or null}, and the client stops at
 * a null token.  The token is the store id of the page's last notebook.
 * Errors go through the dialect's own error function (lc_dialect_redivis.c),
 * so a HEAD carries them in X-REDIVIS-ERROR-PAYLOAD.
 */
#include <string.h>
#include <stdlib.h>
#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "lc_dialect_redivis_wf.h"
#include "lc_dialect_act.h"
#include "lc_kind_redivis.h"
#include "lc_redivis_workflow.h"
#include "lc_http.h"
#include "lc_util.h"

#define WF_PAGE_DEFAULT 100     /* make_paginated_request's page_size */

static int wf_error(lc_req_t *q, int status, const char *code, const char *message)
{
    return q->dialect->error(q, status, code, message);
}

static int wf_not_found(lc_req_t *q, const char *raw)
{
    return wf_error(q, HTTP_NOT_FOUND, "not_found",
                    apr_psprintf(q->r->pool, "Couldn't find workflow with reference %s", raw));
}

static int wf_store_failed(lc_req_t *q, apr_status_t rv)
{
    return lc_dialect_store_failed(q, rv, "internal_error",
                                   apr_psprintf(q->r->pool, "The store failed (error %d)", rv));
}

static int wf_get(lc_req_t *q, const lc_redivis_ref_t *ref, const char *raw)
{
    lc_redivis_ref_t found;
    apr_status_t rv = lc_redivis_wf_find(q->store, ref, &found, q->r->pool);

    if (rv == LC_ENOTFOUND) {
        return wf_not_found(q, raw);
    }
    return rv == APR_SUCCESS ? lc_http_json(q->r, HTTP_OK, lc_redivis_wf_json(&found))
                             : wf_store_failed(q, rv);
}

/* maxResults and pageToken, nothing else; *why for the 400. */
static int page_query(lc_req_t *q, int *max, const char **token, const char **why)
{
    static const char *const allowed[] = { "maxResults", "pageToken", NULL };
    apr_table_t *args;
    const char *v, *bad;
    char *end;
    long n;

    *max = WF_PAGE_DEFAULT;
    *token = NULL;
    if (lc_http_query(q->r, &args) != 0) {
        *why = "The query string is malformed, too long or repeats a parameter";
        return -1;
    }
    if ((bad = lc_http_query_unknown(args, allowed)) != NULL) {
        *why = apr_psprintf(q->r->pool, "Unknown query parameter %s", bad);
        return -1;
    }
    if ((v = apr_table_get(args, "maxResults")) != NULL) {
        n = strtol(v, &end, 10);
        if (!*v || *end || n < 1 || n > LC_REDIVIS_WF_PAGE_MAX) {
            *why = "maxResults must be an integer from 1 to 1000";
            return -1;
        }
        *max = (int)n;
    }
    if ((v = apr_table_get(args, "pageToken")) != NULL && *v) {
        if (strlen(v) > LC_ID_MAX || !lc_utf8_valid(v, strlen(v))) {
            *why = "pageToken is not one this server gave";
            return -1;
        }
        *token = v;
    }
    return 0;
}

/* The page's notebooks, read by id; one removed or renamed since the page
 * was chosen is left out. */
static json_t *page_items(lc_req_t *q, const lc_redivis_ref_t *ref,
                          const lc_redivis_wf_id_t *ids, int n)
{
    json_t *items = json_array();
    lc_resource_t *r = apr_palloc(q->r->pool, sizeof(*r));
    int i;

    for (i = 0; i < n; i++) {
        if (lc_store_get(q->store, LC_KIND_NOTEBOOK, ids[i], r, q->r->pool) == APR_SUCCESS
            && lc_redivis_wf_holds(ref, r, NULL)) {
            json_array_append_new(items, lc_notebook_kind.to_json(r));
        }
    }
    return items;
}

static int wf_notebooks(lc_req_t *q, const lc_redivis_ref_t *ref, const char *raw)
{
    lc_redivis_wf_id_t *ids;
    lc_redivis_ref_t found;
    const char *token, *why = "";
    int max, n, more;
    apr_status_t rv;

    if (page_query(q, &max, &token, &why) != 0) {
        return wf_error(q, HTTP_BAD_REQUEST, "invalid_request", why);
    }
    ids = apr_palloc(q->r->pool, sizeof(*ids) * (size_t)max);
    rv = lc_redivis_wf_page(q->store, ref, token, max, ids, &n, &more, q->r->pool);
    /* An empty page: a workflow no notebook names is a 404, not an empty list. */
    if (rv == APR_SUCCESS && n == 0) {
        rv = lc_redivis_wf_find(q->store, ref, &found, q->r->pool);
    }
    if (rv != APR_SUCCESS) {
        return rv == LC_ENOTFOUND ? wf_not_found(q, raw) : wf_store_failed(q, rv);
    }
    return lc_http_json(q->r, HTTP_OK,
                        json_pack("{s:o, s:s?}", "results", page_items(q, ref, ids, n),
                                  "nextPageToken", more ? ids[n - 1] : NULL));
}

static int wf_method_not_allowed(lc_req_t *q)
{
    return q->dialect->method_not_allowed(q, "GET, HEAD");
}

/* The route from the raw path: the reference is the first segment, which
 * lc_redivis_wf_ref_parse decodes itself (%2F is a '_'); then nothing or
 * "notebooks". */
int lc_redivis_workflows_handle(lc_req_t *q)
{
    const char *raw = q->path + (q->path[0] == '/');
    const char *end = strchr(raw, '/');
    const char *sub = end ? end + 1 : NULL;
    lc_redivis_ref_t ref;
    const char *why = "";

    if (!raw[0] || (sub && strcmp(sub, "notebooks") != 0)) {
        return wf_error(q, HTTP_NOT_FOUND, "not_found", "No such route");
    }
    if (q->r->method_number != M_GET) {
        return wf_method_not_allowed(q);
    }
    if (end) {
        raw = apr_pstrmemdup(q->r->pool, raw, (apr_size_t)(end - raw));
    }
    if (lc_redivis_wf_ref_parse(q->r->pool, raw, strlen(raw), &ref, &why) != APR_SUCCESS) {
        return wf_error(q, HTTP_BAD_REQUEST, "invalid_request",
                        apr_pstrcat(q->r->pool, "Invalid workflow reference: ", why, NULL));
    }
    return sub ? wf_notebooks(q, &ref, raw) : wf_get(q, &ref, raw);
}
