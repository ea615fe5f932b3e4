/* lc_admin_feed.c — GET /lifecycle/v1/changes?since=SEQ&wait=S&limit=N
 *
 * The changes after SEQ, read back through the store's changes interface
 * (durable ones only), in order.  With none yet, it long-polls up to `wait` seconds (default 30, at
 * most 60).  A `since` older than the retained journal is 410 with the
 * oldest retained sequence number: the runner re-lists, then follows on.
 */
#include <string.h>
#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "lc_admin.h"
#include "lc_http.h"
#include "lc_util.h"

#define FEED_WAIT_DEFAULT 30
#define FEED_WAIT_MAX     60
#define FEED_LIMIT_MAX    1000

static const char *const op_names[] = {
    "none", "create", "replace", "transition", "report", "delete"
};

static json_t *change_json(const lc_change_t *c)
{
    const lc_kind_def_t *def = lc_kind_def((lc_kind_e)c->r.kind);
    json_t *res = (c->op == LC_OP_DELETE || !def) ? json_null() : def->to_json(&c->r);

    return json_pack("{s:I, s:s, s:s, s:s, s:I, s:o}", "seq", (json_int_t)c->seq,
                     "kind", lc_kind_name((lc_kind_e)c->r.kind), "id", c->r.id,
                     "op", op_names[c->op <= LC_OP_DELETE ? c->op : 0],
                     "version", (json_int_t)c->r.version, "resource", res);
}

/* A feed number: digits only, at most 2^53 - 1 (exact in any JSON
 * reader).  The dbd store numbers a new timeline's changes from a block of
 * its own, 2^40 per timeline (lc_dbd_sql.c, LC_Q_FEED_LOCK). */
static int parse_seq(const char *s, long *out)
{
    long v = 0;
    const char *c;

    if (!*s || strlen(s) > 16) {
        return -1;
    }
    for (c = s; *c; c++) {
        if (!apr_isdigit(*c)) {
            return -1;
        }
        v = v * 10 + (*c - '0');
    }
    if (v > 9007199254740991L) {
        return -1;
    }
    *out = v;
    return 0;
}

/* since, wait, limit: strict, or the error already sent. */
static int feed_params(lc_req_t *q, long *since, long *wait, long *limit)
{
    static const char *const allowed[] = { "since", "wait", "limit", NULL };
    apr_table_t *args;
    const char *v;
    int rc;

    if ((rc = lc_admin_query(q, allowed, &args)) != LC_PROCEED) {
        return rc;
    }
    *since = 0;
    *wait = FEED_WAIT_DEFAULT;
    *limit = FEED_LIMIT_MAX;
    if ((v = apr_table_get(args, "since")) && parse_seq(v, since) != 0) {
        return lc_admin_error(q, HTTP_BAD_REQUEST, "invalid_request",
                              "since must be a sequence number (a whole number)");
    }
    if ((v = apr_table_get(args, "wait")) && lc_parse_uint(v, 0, FEED_WAIT_MAX, wait) != 0) {
        return lc_admin_error(q, HTTP_BAD_REQUEST, "invalid_request",
                              "wait must be a whole number of seconds from 0 to 60");
    }
    if ((v = apr_table_get(args, "limit")) && lc_parse_uint(v, 1, FEED_LIMIT_MAX, limit) != 0) {
        return lc_admin_error(q, HTTP_BAD_REQUEST, "invalid_request",
                              "limit must be a whole number from 1 to 1000");
    }
    return LC_PROCEED;
}

int lc_admin_changes(lc_req_t *q)
{
    lc_change_t *out;
    uint64_t oldest;
    long since, wait, limit;
    apr_status_t rv;
    json_t *list;
    int n, i, rc;

    if ((rc = feed_params(q, &since, &wait, &limit)) != LC_PROCEED) {
        return rc;
    }
    rv = lc_store_changes_wait(q->store, (uint64_t)since, apr_time_from_sec(wait), q->r->pool);
    if (rv == APR_ENOTIMPL) {
        return lc_admin_error(q, HTTP_NOT_IMPLEMENTED, "not_implemented",
                              "the change feed needs LifecycleStateDir (a journal)");
    }
    if (rv == LC_EUNAVAIL) {
        return lc_dialect_unavailable(q, "unavailable");
    }
    out = apr_palloc(q->r->pool, sizeof(*out) * (apr_size_t)limit);
    rv = lc_store_changes_read(q->store, (uint64_t)since, out, (int)limit, &n, &oldest,
                               q->r->pool);
    if (rv == LC_EUNAVAIL) {
        return lc_dialect_unavailable(q, "unavailable");
    }
    if (rv != APR_SUCCESS) {
        return lc_http_json(q->r, HTTP_GONE, json_pack(
            "{s:s, s:s, s:I}", "error", "gone", "message",
            apr_psprintf(q->r->pool, "changes after %ld are no longer retained: list the "
                         "resources again, then follow the feed from oldest_seq - 1", since),
            "oldest_seq", (json_int_t)oldest));
    }
    list = json_array();
    for (i = 0; i < n; i++) {
        json_array_append_new(list, change_json(&out[i]));
    }
    return lc_http_json(q->r, HTTP_OK, json_pack("{s:o, s:I}", "changes", list, "last_seq",
                                                 (json_int_t)(n ? out[n - 1].seq
                                                                : (uint64_t)since)));
}
