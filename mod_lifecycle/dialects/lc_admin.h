/* lc_admin.h — pieces of the admin API shared by its files.
 *
 *   lc_admin_http.c      answers and query strings (used by the three below)
 *   lc_dialect_admin.c   routing, PUT / GET / DELETE / list, /metrics
 *   lc_admin_feed.c      GET /changes
 *   lc_admin_report.c    POST .../report
 */
#ifndef LC_ADMIN_H
#define LC_ADMIN_H

#include "lc_dialect_act.h"

/* ---- lc_admin_http.c --------------------------------------------------------- */

/* {"error":"<code>","message":"..."} */
int lc_admin_error(lc_req_t *q, int status, const char *code, const char *message);

/* The answers every store call shares: unknown (404), stale If-Match (412),
 * full (507), anything else (500); and a malformed If-Match (400). */
extern const lc_act_refusals_t lc_admin_refusals;

/* The answer to a store call's result (not a success) in lc_admin_refusals. */
int lc_admin_store_error(lc_req_t *q, const lc_kind_def_t *def, const char *id,
                         apr_status_t rv);

/* The query string, strictly: only `allowed` names (NULL-terminated), each
 * at most once.  LC_PROCEED with *args, or the 400 already sent. */
int lc_admin_query(lc_req_t *q, const char *const *allowed, apr_table_t **args);

/* The kind's representation with its ETag. */
int lc_admin_send(lc_req_t *q, int status, const lc_kind_def_t *def, const lc_resource_t *r);

/* ---- the routes the dispatcher of lc_dialect_admin.c hands on ------------------- */

/* GET /changes?since=&wait=&limit= (lc_admin_feed.c) */
int lc_admin_changes(lc_req_t *q);

/* POST /resources/{kind}/{id}/report (lc_admin_report.c) */
int lc_admin_report(lc_req_t *q, const lc_kind_def_t *def, const char *id);

#endif
