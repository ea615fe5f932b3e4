/* lc_dialect_wrapper.c — the data-wrapper API (seed 003, SPEC §4.2), at
 * /resources/wrappers.  Errors: {"detail": "..."}.
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

/* {"detail": "..."}, as the seed shows. */
static int wrapper_error(lc_req_t *q, int status, const char *code, const char *message)
{
    (void)code;
    return lc_http_json(q->r, status, json_pack("{s:s}", "detail", message ? message : ""));
}

const lc_dialect_t lc_dialect_wrapper = {
    "wrapper", LC_KIND_WRAPPER, NULL, "wrappers.read", "wrappers.write", not_built, wrapper_error
};
