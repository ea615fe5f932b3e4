/* lc_dialect_pending.c — the dialects not built yet.
 *
 * Their locations are configured and authorized like the others, and answer
 * 501 in each vendor's own error shape (SPEC §4), which later issues keep.
 */
#include <httpd.h>
#include <jansson.h>
#include <apr_tables.h>

#include "lc_dialect.h"
#include "lc_http.h"

static int not_built(lc_req_t *q)
{
    return q->dialect->error(q, HTTP_NOT_IMPLEMENTED, "not_implemented",
                             "this API is configured but not implemented yet");
}

/* Redivis: {"error","error_description","status"} (+ "scope" on 403). */
static int redivis_error(lc_req_t *q, int status, const char *code, const char *message)
{
    json_t *b = json_pack("{s:s, s:s, s:i}", "error", code, "error_description",
                          message ? message : "", "status", status);
    const char *scope = apr_table_get(q->r->notes, "lifecycle-scope");

    if (status == HTTP_FORBIDDEN && scope) {
        json_object_set_new(b, "scope", json_string(scope));
    }
    return lc_http_json(q->r, status, b);
}

/* FastAPI (Notte) and the wrapper API: {"detail": "..."}. */
static int detail_error(lc_req_t *q, int status, const char *code, const char *message)
{
    (void)code;
    return lc_http_json(q->r, status, json_pack("{s:s}", "detail", message ? message : ""));
}

/* Feldera: {"message","error_code","details"}. */
static int feldera_error(lc_req_t *q, int status, const char *code, const char *message)
{
    json_t *b = json_pack("{s:s, s:s, s:{}}", "message", message ? message : "",
                          "error_code", code, "details");
    return lc_http_json(q->r, status, b);
}

const lc_dialect_t lc_dialect_redivis = {
    "redivis", LC_KIND_NOTEBOOK, "workflow.read", "workflow.write", not_built, redivis_error
};
const lc_dialect_t lc_dialect_notte = {
    "notte", LC_KIND_AGENT, "agents.read", "agents.write", not_built, detail_error
};
const lc_dialect_t lc_dialect_wrapper = {
    "wrapper", LC_KIND_WRAPPER, "wrappers.read", "wrappers.write", not_built, detail_error
};
const lc_dialect_t lc_dialect_feldera = {
    "feldera", LC_KIND_PIPELINE, "pipelines.read", "pipelines.write", not_built, feldera_error
};
