/* lc_notte_list.c — GET /agents/ and GET /sessions/: the SDK's
 * AgentsClient.list() and SessionsClient.list().
 *
 * The SDK (packages/notte-sdk/src/notte_sdk/types.py: ListRequest,
 * AgentListRequest, SessionListRequest) always sends only_active (default
 * True), page_size (default 10) and page (default 1), agents also only_saved
 * (default False), sessions include_system when set; requests writes a bool
 * as "True"/"False".  Each is a FastAPI query parameter: validated as
 * pydantic's lax mode reads a string (422 with loc ["query", name]),
 * unknown parameters ignored, the last of repeated ones counting.
 * endpoints/base.py request_list() takes a JSON list or an object's
 * "items"; the answer is Notte's paginated shape (as ListFunctionsResponse):
 * {"items", "page", "page_size", "has_next", "has_previous"}.
 *
 * Order: the store's (ids, bytewise), stable while pages are read.  A page
 * is found by reading the store's list from the start and skipping the
 * earlier pages (filters apply before paging), so page N costs N pages.
 * Under LifecycleOwnerCheck a user lists only what it may act on (its own;
 * everything with lifecycle.admin), as another user's agent is unknown to it.
 * include_system changes nothing: no session here is a system one.
 */
#include <string.h>
#include <limits.h>
#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>

#include "lc_notte.h"
#include "lc_http.h"
#include "lc_util.h"

/* page_size: the SDK's default is 10 (types.py DEFAULT_LIMIT_LIST_ITEMS);
 * 100 bounds the records one answer holds. */
#define NL_SIZE_MAX   100
#define NL_CHUNK      16          /* records per store read (up to 16 KiB each) */

typedef struct nl_params {
    int  only_active;
    int  only_saved;              /* agents */
    long page, page_size;
} nl_params_t;

/* The query's errors (appended from `from` on) are the query's, not the body's. */
static void nl_in_query(json_t *errors, size_t from)
{
    size_t i;

    for (i = from; i < json_array_size(errors); i++) {
        json_array_set_new(json_object_get(json_array_get(errors, i), "loc"), 0,
                           json_string("query"));
    }
}

/* The query parameter `name` as the string pydantic would read, or NULL. */
static json_t *nl_param(request_rec *r, const char *name)
{
    lc_notte_session_ref_t v;

    return lc_notte_query(r, name, &v) == 0 ? json_stringn_nocheck(v.value, v.len) : NULL;
}

static void nl_bool(json_t *errors, request_rec *r, const char *name, int *out)
{
    json_t *v = nl_param(r, name);
    size_t from = json_array_size(errors);

    lc_notte_check_bool(errors, name, v, out);
    nl_in_query(errors, from);
    json_decref(v);
}

static void nl_int(json_t *errors, request_rec *r, const lc_notte_int_t *f, long *out)
{
    json_t *v = nl_param(r, f->name);
    size_t from = json_array_size(errors);

    lc_notte_check_int(errors, f, v, out);
    nl_in_query(errors, from);
    json_decref(v);
}

/* The list's parameters; LC_PROCEED, or the 422 sent. */
static int nl_params(lc_req_t *q, int agents, nl_params_t *pr)
{
    static const lc_notte_int_t size_f = { "page_size", 1, NL_SIZE_MAX, 0, 0 };
    static const lc_notte_int_t page_f = { "page", 1, LONG_MAX, 0, 0 };
    json_t *errors = json_array();
    int system = 0;

    pr->only_active = 1;
    pr->only_saved = 0;
    pr->page = 1;
    pr->page_size = 10;
    nl_bool(errors, q->r, "only_active", &pr->only_active);
    nl_int(errors, q->r, &size_f, &pr->page_size);
    nl_int(errors, q->r, &page_f, &pr->page);
    if (agents) {
        nl_bool(errors, q->r, "only_saved", &pr->only_saved);
    }
    else {
        nl_bool(errors, q->r, "include_system", &system);   /* bool | None: validated only */
    }
    if (json_array_size(errors) > 0) {
        return lc_notte_unprocessable(q, errors);
    }
    json_decref(errors);
    return LC_PROCEED;
}

/* Whether r belongs in the list: the caller may act on it, and the filters. */
static int nl_wanted(lc_req_t *q, const lc_kind_def_t *def, const nl_params_t *pr,
                     const lc_resource_t *r, json_t *item)
{
    lc_act_t act;

    lc_dialect_act_init(q, def, r->id, "stop", NULL, &act);
    if (!lc_engine_may_act(&act, r)) {
        return 0;
    }
    return !pr->only_saved || json_is_true(json_object_get(item, "saved"));
}

typedef struct nl_page {
    json_t *items;
    long    skip;            /* matching records still to pass over */
    int     has_next;
} nl_page_t;

/* Walk the store's list of the kind, filling pg; APR_SUCCESS or the store's error. */
static apr_status_t nl_walk(lc_req_t *q, const lc_kind_def_t *def, int state,
                            const nl_params_t *pr, json_t *(*item_of)(const lc_resource_t *),
                            nl_page_t *pg)
{
    lc_resource_t *chunk = apr_palloc(q->r->pool, NL_CHUNK * sizeof(*chunk));
    const char *from = NULL;
    apr_status_t rv;
    int n, more, i;

    do {
        if ((rv = lc_store_list(q->store, def->kind, state, from, NL_CHUNK, chunk, &n, &more,
                                q->r->pool)) != APR_SUCCESS) {
            return rv;
        }
        for (i = 0; i < n; i++) {
            json_t *item = item_of(&chunk[i]);

            if (!nl_wanted(q, def, pr, &chunk[i], item)) {
                json_decref(item);
            }
            else if (pg->skip > 0) {
                pg->skip--;
                json_decref(item);
            }
            else if ((long)json_array_size(pg->items) < pr->page_size) {
                json_array_append_new(pg->items, item);
            }
            else {
                json_decref(item);
                pg->has_next = 1;
                return APR_SUCCESS;
            }
        }
        from = n > 0 ? apr_pstrdup(q->r->pool, chunk[n - 1].id) : from;
    } while (more && n > 0);
    return APR_SUCCESS;
}

static int nl_list(lc_req_t *q, const lc_kind_def_t *def, int active_state,
                   json_t *(*item_of)(const lc_resource_t *))
{
    nl_params_t pr;
    nl_page_t pg = { NULL, 0, 0 };
    apr_status_t rv;
    int rc, big;

    if ((rc = lc_http_refuse_body(q->r, &big)) != 0) {
        return lc_notte_error(q, rc, "invalid_request", big ? "The request body is too large"
                                                      : "This endpoint does not take a request body");
    }
    if ((rc = nl_params(q, def == &lc_agent_kind, &pr)) != LC_PROCEED) {
        return rc;
    }
    /* Saturating: a page beyond every record is empty, not an overflow. */
    pg.skip = pr.page - 1 > LONG_MAX / pr.page_size ? LONG_MAX : (pr.page - 1) * pr.page_size;
    pg.items = json_array();
    rv = nl_walk(q, def, pr.only_active ? active_state : -1, &pr, item_of, &pg);
    if (rv != APR_SUCCESS) {
        json_decref(pg.items);
        return lc_dialect_store_failed(q, rv, "internal", "The store failed");
    }
    return lc_http_json(q->r, HTTP_OK, json_pack("{s:o, s:I, s:I, s:b, s:b}",
                        "items", pg.items, "page", (json_int_t)pr.page,
                        "page_size", (json_int_t)pr.page_size, "has_next", pg.has_next,
                        "has_previous", pr.page > 1));
}

static json_t *nl_agent(const lc_resource_t *r)
{
    return lc_notte_agent_json(r, 0);
}

int lc_notte_list_agents(lc_req_t *q)
{
    return nl_list(q, &lc_agent_kind, AG_ACTIVE, nl_agent);
}

int lc_notte_list_sessions(lc_req_t *q)
{
    return nl_list(q, &lc_session_kind, SS_ACTIVE, lc_session_kind.to_json);
}
