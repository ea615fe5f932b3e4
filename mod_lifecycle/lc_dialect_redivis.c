/* lc_dialect_redivis.c — Redivis notebooks (seed 000, SPEC §4.4), at
 * /api/v1/notebooks.  Errors: {"error","error_description","status"} (+ "scope" on 403).
 */
#include <httpd.h>
#include <jansson.h>
#include <apr_tables.h>

#include "lc_dialect.h"
#include "lc_http.h"

/* Not built yet: configured and authorized like the others, answering 501. */
static int not_built(lc_req_t *q)
{
    return q->dialect->error(q, HTTP_NOT_IMPLEMENTED, "not_implemented",
                             "this API is configured but not implemented yet");
}

static int redivis_error(lc_req_t *q, int status, const char *code, const char *message)
{
    json_t *b = json_pack("{s:s, s:s, s:i}", "error", code, "error_description",
                          message ? message : "", "status", status);
    const char *scope = lc_dialect_refused_scope(q);

    if (status == HTTP_FORBIDDEN && scope) {
        json_object_set_new(b, "scope", json_string(scope));
    }
    return lc_http_json(q->r, status, b);
}

const lc_dialect_t lc_dialect_redivis = {
    "redivis", LC_KIND_NOTEBOOK, NULL, "workflow.read", "workflow.write", not_built, redivis_error
};
