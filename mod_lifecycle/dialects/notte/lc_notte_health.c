/* lc_notte_health.c — GET /health, the SDK's health_check()
 * (packages/notte-sdk/src/notte_sdk/endpoints/base.py: a GET of
 * {server_url}/health without Authorization that wants a 200).
 *
 * The one route of the dialect served without a token: the dispatcher asks
 * lc_notte_health_open() before authorization (lc_dialect_t.open), and
 * what it lets through is only this collection, whose routes touch no store
 * and say nothing about any resource.  Everything else under /health is
 * FastAPI's 404 / 405 JSON, with no token either (FastAPI matches the route
 * before any dependency asks for one).
 */
#include <string.h>
#include <httpd.h>
#include <http_protocol.h>

#include "lc_notte.h"
#include "lc_http.h"

int lc_notte_health_open(const lc_req_t *q)
{
    return q->collection && strcmp(q->collection, "health") == 0;
}

int lc_notte_health(lc_req_t *q)
{
    int m = q->r->method_number;
    int rc, big;

    if (q->nseg != 0) {
        return lc_notte_error(q, HTTP_NOT_FOUND, "not_found", "Not Found");
    }
    if (m != M_GET) {
        return lc_notte_method_not_allowed(q, "GET, HEAD");
    }
    if ((rc = lc_http_refuse_body(q->r, &big)) != 0) {
        return lc_notte_error(q, rc, "invalid_request", big ? "The request body is too large"
                                                      : "This endpoint does not take a request body");
    }
    return lc_http_json(q->r, HTTP_OK, json_pack("{s:s}", "status", "ok"));
}
