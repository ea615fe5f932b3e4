/* lc_dialect_fail.c — how every dialect answers a store that failed.
 *
 * LC_EUNAVAIL (the dbd store's database unreachable or failing, nothing
 * committed): 503 with `Retry-After: 1`, in the dialect's own error shape
 * (its `error` hook), so that each API's clients retry as they would
 * against the original service.  Anything else is the 500 the dialect
 * asked for.
 */
#include <httpd.h>

#include "lc_dialect.h"

#define LC_RETRY_AFTER "1"

int lc_dialect_unavailable(lc_req_t *q, const char *code)
{
    apr_table_setn(q->r->headers_out, "Retry-After", LC_RETRY_AFTER);
    return q->dialect->error(q, HTTP_SERVICE_UNAVAILABLE, code,
                             "The resource store is unavailable (its database cannot be "
                             "reached); nothing was changed: retry shortly");
}

int lc_dialect_store_failed(lc_req_t *q, apr_status_t rv, const char *code,
                            const char *message)
{
    if (rv == LC_EUNAVAIL) {
        return lc_dialect_unavailable(q, "unavailable");
    }
    return q->dialect->error(q, HTTP_INTERNAL_SERVER_ERROR, code, message);
}
