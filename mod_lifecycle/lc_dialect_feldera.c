/* lc_dialect_feldera.c — Feldera pipelines (seed 004, SPEC §4.5), at /v0/pipelines.
 * Errors: {"message","error_code","details"}.
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

static int feldera_error(lc_req_t *q, int status, const char *code, const char *message)
{
    json_t *b = json_pack("{s:s, s:s, s:{}}", "message", message ? message : "",
                          "error_code", code, "details");
    return lc_http_json(q->r, status, b);
}

const lc_dialect_t lc_dialect_feldera = {
    "feldera", LC_KIND_PIPELINE, NULL, "pipelines.read", "pipelines.write", not_built,
    feldera_error
};
