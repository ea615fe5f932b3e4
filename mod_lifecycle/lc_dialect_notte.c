/* lc_dialect_notte.c — the Notte agents API (seed 001, SPEC §4.3), at /agents.
 *
 * Errors are FastAPI's: {"detail": "..."} (401, 403, 404) and 422 lists.
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

/* FastAPI: {"detail": "..."}. */
static int notte_error(lc_req_t *q, int status, const char *code, const char *message)
{
    (void)code;
    return lc_http_json(q->r, status, json_pack("{s:s}", "detail", message ? message : ""));
}

const lc_dialect_t lc_dialect_notte = {
    "notte", LC_KIND_AGENT, NULL, "agents.read", "agents.write", not_built, notte_error
};
