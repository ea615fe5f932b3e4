/* lc_dialect_redivis.c — Redivis notebooks (seed 000, SPEC §4.4), at /api/v1/notebooks.
 *
 *   POST /{ref}/stop    current job queued | running -> cancelled
 *   POST /{ref}/run     a new job, queued (-> running by runner or auto-advance)
 *   GET  /{ref}         the notebook's "get" representation (HEAD: no body)
 *
 * {ref} is a qualified reference, owner.workflow[:wfId].notebook[:nbId]
 * (lc_redivis_ref.c).  Errors: {"error","error_description","status"}
 * (+ "scope" on 403 insufficient_scope); on HEAD the same object, URL-encoded,
 * in X-REDIVIS-ERROR-PAYLOAD, as the official clients read it.
 *
 * Store id.  A notebook's store id is its canonical name key
 * "owner.workflow.notebook" (normalized, lowercase [a-z0-9_] and two dots, so
 * it passes lc_id_valid and the admin API uses it as it is); the reference
 * ids (wfId, nbId) live in its attributes.  So every reference that carries
 * the three names — what clients build from names and what qualifiedReference
 * returns — resolves with one lookup.  Only a reference whose names are empty
 * (owner.:x7g2.:n93k), or whose :nbId is not the one of the notebook of that
 * name (it was renamed: ids win over names, as on Redivis), needs a scan of
 * the notebooks for the id, bounded by NB_SCAN_MAX.
 *
 * State.  The kind's states are the current job's status, plus "none" before
 * any job: the notebook's own status derives from it.
 */
#include <string.h>
#include <sodium.h>
#include <httpd.h>
#include <http_protocol.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "lc_dialect.h"
#include "lc_engine.h"
#include "lc_http.h"
#include "lc_audit.h"
#include "lc_util.h"
#include "lc_redivis_ref.h"

/* ---- the kind: states, rules, representation ---------------------------- */

enum { NB_NONE, NB_QUEUED, NB_RUNNING, NB_COMPLETED, NB_FAILED, NB_CANCELLED, NB_NSTATES };

static const char *const nb_states[NB_NSTATES] = {
    "none", "queued", "running", "completed", "failed", "cancelled"
};

#define NB_ACTIVE   (LC_BIT(NB_QUEUED) | LC_BIT(NB_RUNNING))
#define NB_IDLE     (LC_BIT(NB_NONE) | LC_BIT(NB_COMPLETED) | LC_BIT(NB_FAILED) \
                     | LC_BIT(NB_CANCELLED))
#define NB_JOBID_LEN   16     /* hex characters of a job id this module makes */
#define NB_NAME_MAX    100    /* bytes of a display name */
#define NB_MESSAGE_MAX 100    /* bytes of a job's errorMessage */
#define NB_SCAN_MAX    100000 /* notebooks examined to resolve a reference by id */
#define NB_SCAN_PAGE   64

static void nb_new_job(lc_resource_t *r, apr_time_t now);

static const lc_rule_t nb_rules[] = {
    /* action  from       to            desired        flags            effect */
    { "stop",  NB_ACTIVE, NB_CANCELLED, LC_STATE_KEEP, 0,               NULL },
    { "run",   NB_IDLE,   NB_QUEUED,    LC_STATE_KEEP, LC_RULE_ADVANCE, nb_new_job },
    { NULL }
};

static const lc_advance_t nb_advances[] = {
    { NB_QUEUED, NB_RUNNING, 0 },
    { LC_STATE_KEEP }
};

extern const lc_kind_def_t lc_notebook_kind;

/* Attributes kept in r->data (compact, sorted; only what cannot be derived):
 *   "n" display name (absent when it is the canonical notebook name)
 *   "w" workflow reference id, "b" notebook reference id
 *   "j" current job id, "s" its startTime, "e" its endTime (ms since the
 *   epoch; a finished job without "e" ended when its state was entered),
 *   "m" its errorMessage. */

static json_t *new_job_id(void)
{
    unsigned char rnd[NB_JOBID_LEN / 2];
    char hex[NB_JOBID_LEN + 1];

    randombytes_buf(rnd, sizeof(rnd));
    return json_string(sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd)));
}

/* Rule effect, store locked: a new job starts now (its end and error go). */
static void nb_new_job(lc_resource_t *r, apr_time_t now)
{
    json_t *data = lc_kind_get_data(r);

    json_object_set_new(data, "j", new_job_id());
    json_object_set_new(data, "s", json_integer(apr_time_as_msec(now)));
    json_object_del(data, "e");
    json_object_del(data, "m");
    /* Fits: from_json kept room for the largest job this writes. */
    (void)lc_kind_set_data(r, data);
    json_decref(data);
}

static const char *data_str(json_t *data, const char *key)
{
    return json_string_value(json_object_get(data, key));
}

/* RFC 3986 unreserved characters stay, everything else is %XX (what the
 * clients' quote(ref, safe='') and encodeURIComponent produce for a ref). */
static void url_encode(const char *in, char *out, apr_size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    apr_size_t o = 0;

    for (; *in && o + 3 < size; in++) {
        unsigned char c = (unsigned char)*in;
        if (c < 0x80 && (apr_isalnum(c) || strchr("-_.~", c))) {
            out[o++] = (char)c;
        }
        else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
}

static json_t *nb_job_json(const lc_resource_t *r, json_t *data)
{
    json_t *start = json_object_get(data, "s"), *end = json_object_get(data, "e");
    const char *msg = data_str(data, "m");
    int finished = r->state >= NB_COMPLETED;

    if (r->state == NB_NONE || r->state >= NB_NSTATES) {
        return json_null();
    }
    return json_pack("{s:s?, s:s, s:s, s:s?, s:O, s:o}",
                     "id", data_str(data, "j"), "kind", "notebook",
                     "status", nb_states[r->state], "errorMessage", msg,
                     "startTime", start ? start : json_null(),
                     "endTime", !finished ? json_null() : end ? json_incref(end)
                                : json_integer(apr_time_as_msec(r->state_since)));
}

static json_t *nb_to_json(const lc_resource_t *r)
{
    json_t *data = lc_kind_get_data(r);
    const char *wf = data_str(data, "w"), *nb = data_str(data, "b");
    const char *name = data_str(data, "n");
    char qref[LC_ID_MAX + 2 * LC_REDIVIS_REFID_MAX + 8], scoped[sizeof(qref)];
    char enc[3 * sizeof(qref)], url[sizeof(enc) + 32];
    lc_redivis_ref_t k;
    json_t *o;

    if (lc_redivis_key_split(r->id, &k) != APR_SUCCESS) {
        memset(&k, 0, sizeof(k));          /* not one of ours: show the id as it is */
        apr_cpystrn(k.notebook, r->id, sizeof(k.notebook));
    }
    apr_snprintf(scoped, sizeof(scoped), "%s%s%s", k.notebook, nb ? ":" : "", nb ? nb : "");
    apr_snprintf(qref, sizeof(qref), "%s.%s%s%s.%s", k.owner, k.workflow, wf ? ":" : "",
                 wf ? wf : "", scoped);
    url_encode(qref, enc, sizeof(enc));
    apr_snprintf(url, sizeof(url), "/api/v1/notebooks/%s", enc);
    o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:s+, s:s, s:{s:s}, s:s, s:o}",
                  "kind", "notebook", "id", r->id, "name", name ? name : k.notebook,
                  "qualifiedReference", qref, "scopedReference", scoped,
                  "referenceId", nb, "uri", "/notebooks/", enc, "url", url,
                  "owner", "name", k.owner,
                  "status", (r->state == NB_QUEUED || r->state == NB_RUNNING)
                            ? "running" : "stopped",
                  "currentJob", nb_job_json(r, data));
    json_decref(data);
    return o;
}

/* ---- admin PUT: the get form back ------------------------------------------ */

typedef struct nb_put {
    lc_redivis_ref_t key;     /* names from the id */
    const char *name;         /* display name, or NULL */
    char wf_id[LC_REDIVIS_REFID_MAX + 1];
    char nb_id[LC_REDIVIS_REFID_MAX + 1];
    int state;
    json_t *job;              /* the job's attributes: j s e m */
} nb_put_t;

static int name_matches(const char *name, const char *canonical)
{
    char norm[LC_REDIVIS_NAME_MAX + 1];

    return lc_redivis_name_norm(name, strlen(name), norm, sizeof(norm)) == APR_SUCCESS
           && strcmp(norm, canonical) == 0;
}

static int optional_string(json_t *v)
{
    return !v || json_is_string(v);
}

static int time_ok(json_t *v)
{
    return !v || json_is_null(v) || (json_is_integer(v) && json_integer_value(v) >= 0);
}

static apr_status_t put_owner_name(json_t *owner, nb_put_t *np, const char **field)
{
    const char *k;
    json_t *v;

    if (!owner) {
        return APR_SUCCESS;
    }
    if (!json_is_object(owner)) {
        *field = "owner";
        return APR_EINVAL;
    }
    json_object_foreach(owner, k, v) {
        if (strcmp(k, "name") || !json_is_string(v) || !name_matches(json_string_value(v),
                                                                     np->key.owner)) {
            *field = strcmp(k, "name") ? "owner" : "owner.name";
            return APR_EINVAL;
        }
    }
    return APR_SUCCESS;
}

/* qualifiedReference (names must be the id's) and referenceId give the ids. */
static apr_status_t put_refs(json_t *body, nb_put_t *np, const char **field)
{
    json_t *qr = json_object_get(body, "qualifiedReference");
    json_t *rid = json_object_get(body, "referenceId");
    lc_redivis_ref_t ref;
    const char *why;
    int i;

    if (qr) {
        if (!json_is_string(qr)
            || lc_redivis_ref_parse_decoded(json_string_value(qr), &ref, &why) != APR_SUCCESS
            || strcmp(ref.owner, np->key.owner) || strcmp(ref.workflow, np->key.workflow)
            || strcmp(ref.notebook, np->key.notebook)) {
            *field = "qualifiedReference";
            return APR_EINVAL;
        }
        memcpy(np->wf_id, ref.wf_id, sizeof(np->wf_id));
        memcpy(np->nb_id, ref.nb_id, sizeof(np->nb_id));
    }
    if (rid && !json_is_null(rid)) {
        if (!json_is_string(rid) || !lc_redivis_refid_valid(json_string_value(rid))) {
            *field = "referenceId";
            return APR_EINVAL;
        }
        for (i = 0; json_string_value(rid)[i]; i++) {
            ref.nb_id[i] = (char)apr_tolower((unsigned char)json_string_value(rid)[i]);
        }
        ref.nb_id[i] = '\0';
        if (np->nb_id[0] && strcmp(np->nb_id, ref.nb_id)) {
            *field = "referenceId";
            return APR_EINVAL;
        }
        memcpy(np->nb_id, ref.nb_id, sizeof(np->nb_id));
    }
    return APR_SUCCESS;
}

static int job_id_valid(const char *s)
{
    apr_size_t i;

    for (i = 0; s[i]; i++) {
        if (i >= 32 || (unsigned char)s[i] >= 0x80
            || !(apr_isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-')) {
            return 0;
        }
    }
    return i > 0;
}

/* currentJob: null, or {"id"?, "kind"?, "status", "errorMessage"?, "startTime"?,
 * "endTime"?}; a job without an id gets one. */
static apr_status_t put_job(json_t *job, nb_put_t *np, const char **field)
{
    json_t *st = json_object_get(job, "status"), *id = json_object_get(job, "id");
    json_t *msg = json_object_get(job, "errorMessage"), *v;
    const char *k;

    np->state = NB_NONE;
    if (!job || json_is_null(job)) {
        return APR_SUCCESS;
    }
    *field = "currentJob";
    if (!json_is_object(job)) {
        return APR_EINVAL;
    }
    json_object_foreach(job, k, v) {
        if (strcmp(k, "id") && strcmp(k, "kind") && strcmp(k, "status")
            && strcmp(k, "errorMessage") && strcmp(k, "startTime") && strcmp(k, "endTime")) {
            return APR_EINVAL;
        }
    }
    if (!json_is_string(st) || (np->state = lc_kind_state(&lc_notebook_kind,
                                                          json_string_value(st))) <= NB_NONE) {
        *field = "currentJob.status";
        return APR_EINVAL;
    }
    if ((v = json_object_get(job, "kind"))
        && !(json_is_string(v) && strcmp(json_string_value(v), "notebook") == 0)) {
        *field = "currentJob.kind";
        return APR_EINVAL;
    }
    if (id && !json_is_null(id) && (!json_is_string(id) || !job_id_valid(json_string_value(id)))) {
        *field = "currentJob.id";
        return APR_EINVAL;
    }
    if (msg && !json_is_null(msg) && (!json_is_string(msg)
                                      || json_string_length(msg) > NB_MESSAGE_MAX)) {
        *field = "currentJob.errorMessage";
        return APR_EINVAL;
    }
    if (!time_ok(json_object_get(job, "startTime"))) {
        *field = "currentJob.startTime";
        return APR_EINVAL;
    }
    if (!time_ok(json_object_get(job, "endTime"))) {
        *field = "currentJob.endTime";
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

static const char *const nb_fields[] = {
    "kind", "id", "name", "qualifiedReference", "scopedReference", "referenceId",
    "uri", "url", "owner", "status", "currentJob", NULL
};

/* The fields derived on GET are checked for type and otherwise ignored. */
static apr_status_t put_plain_fields(json_t *body, nb_put_t *np, const char **field)
{
    json_t *kind = json_object_get(body, "kind"), *name = json_object_get(body, "name");
    json_t *status = json_object_get(body, "status");

    if ((*field = lc_kind_unknown_field(body, nb_fields)) != NULL) {
        return APR_EINVAL;
    }
    if (kind && !(json_is_string(kind) && strcmp(json_string_value(kind), "notebook") == 0)) {
        *field = "kind";
        return APR_EINVAL;
    }
    if (name && (!json_is_string(name) || json_string_length(name) > NB_NAME_MAX
                 || !name_matches(json_string_value(name), np->key.notebook))) {
        *field = "name";
        return APR_EINVAL;
    }
    np->name = name ? json_string_value(name) : NULL;
    if (status && !(json_is_string(status) && (strcmp(json_string_value(status), "running") == 0
                                               || strcmp(json_string_value(status), "stopped") == 0))) {
        *field = "status";
        return APR_EINVAL;
    }
    *field = !optional_string(json_object_get(body, "scopedReference")) ? "scopedReference"
             : !optional_string(json_object_get(body, "uri")) ? "uri"
             : !optional_string(json_object_get(body, "url")) ? "url" : NULL;
    return *field ? APR_EINVAL : APR_SUCCESS;
}

static json_t *put_data(json_t *job, const nb_put_t *np)
{
    json_t *d = json_object(), *v;

    if (np->name && strcmp(np->name, np->key.notebook)) {
        json_object_set_new(d, "n", json_string(np->name));
    }
    if (np->wf_id[0]) {
        json_object_set_new(d, "w", json_string(np->wf_id));
    }
    if (np->nb_id[0]) {
        json_object_set_new(d, "b", json_string(np->nb_id));
    }
    if (np->state == NB_NONE) {
        return d;
    }
    if (json_is_string(v = json_object_get(job, "id"))) {
        json_object_set(d, "j", v);
    }
    if (json_is_integer(v = json_object_get(job, "startTime"))) {
        json_object_set(d, "s", v);
    }
    if (np->state >= NB_COMPLETED && json_is_integer(v = json_object_get(job, "endTime"))) {
        json_object_set(d, "e", v);
    }
    if (json_is_string(v = json_object_get(job, "errorMessage"))) {
        json_object_set(d, "m", v);
    }
    return d;
}

/* Whether a later run still fits: its job id and startTime replace the job. */
static int room_for_run(json_t *data)
{
    json_t *d = json_deep_copy(data);
    char *text;
    int ok;

    json_object_set_new(d, "j", json_string("0123456789abcdef"));
    json_object_set_new(d, "s", json_integer(INT64_C(9999999999999)));
    json_object_del(d, "e");
    json_object_del(d, "m");
    text = json_dumps(d, JSON_COMPACT);
    ok = text && strlen(text) <= LC_DATA_MAX;
    free(text);
    json_decref(d);
    return ok;
}

/* The admin PUT body: the get form, as GET returns it.  r->id is the path's. */
static apr_status_t nb_from_json(json_t *body, lc_resource_t *r, const char **field,
                                 apr_pool_t *p)
{
    json_t *job = json_object_get(body, "currentJob"), *data;
    nb_put_t np;
    apr_status_t rv;

    (void)p;
    memset(&np, 0, sizeof(np));
    if (lc_redivis_key_split(r->id, &np.key) != APR_SUCCESS) {
        *field = "id";         /* a notebook's id is its canonical owner.workflow.notebook */
        return APR_EINVAL;
    }
    if ((rv = put_plain_fields(body, &np, field)) != APR_SUCCESS
        || (rv = put_owner_name(json_object_get(body, "owner"), &np, field)) != APR_SUCCESS
        || (rv = put_refs(body, &np, field)) != APR_SUCCESS
        || (rv = put_job(job, &np, field)) != APR_SUCCESS) {
        return rv;
    }
    data = put_data(job, &np);
    if (np.state != NB_NONE && !json_object_get(data, "j")) {
        json_object_set_new(data, "j", new_job_id());    /* a job given without an id */
    }
    rv = room_for_run(data) ? lc_kind_set_data(r, data) : APR_ENOSPC;
    json_decref(data);
    if (rv != APR_SUCCESS) {
        *field = json_is_string(json_object_get(job, "errorMessage"))
                 ? "currentJob.errorMessage" : "name";
        return rv;
    }
    r->state = (uint8_t)np.state;
    return APR_SUCCESS;
}

const lc_kind_def_t lc_notebook_kind = {
    LC_KIND_NOTEBOOK, "notebook", nb_states, NB_NSTATES,
    nb_rules, nb_advances, nb_to_json, nb_from_json
};

/* ---- HTTP ------------------------------------------------------------------ */

/* On HEAD the clients read the error from X-REDIVIS-ERROR-PAYLOAD, URL-encoded
 * JSON of the same object; the body is never sent. */
static int redivis_error(lc_req_t *q, int status, const char *code, const char *message)
{
    json_t *b = json_pack("{s:s, s:s, s:i}", "error", code, "error_description",
                          message ? message : "", "status", status);
    const char *scope = lc_dialect_refused_scope(q);

    if (status == HTTP_FORBIDDEN && scope && strcmp(code, "insufficient_scope") == 0) {
        json_object_set_new(b, "scope", json_string(scope));
    }
    if (q->r->header_only) {
        char *text = json_dumps(b, JSON_COMPACT);
        apr_size_t size = text ? 3 * strlen(text) + 1 : 1;
        char *enc = apr_palloc(q->r->pool, size);

        url_encode(text ? text : "", enc, size);
        apr_table_setn(q->r->headers_out, "X-REDIVIS-ERROR-PAYLOAD", enc);
        free(text);
    }
    return lc_http_json(q->r, status, b);
}

static int nb_send(lc_req_t *q, const lc_resource_t *r)
{
    lc_http_etag(q->r, r->version);
    return lc_http_json(q->r, HTTP_OK, nb_to_json(r));
}

static int nb_not_found(lc_req_t *q)
{
    return redivis_error(q, HTTP_NOT_FOUND, "not_found",
                         apr_psprintf(q->r->pool, "Couldn't find notebook with reference %s",
                                      q->seg[0]));
}

static int nb_store_failed(lc_req_t *q, apr_status_t rv)
{
    return redivis_error(q, HTTP_INTERNAL_SERVER_ERROR, "internal_error",
                         apr_psprintf(q->r->pool, "The store failed (error %d)", rv));
}

/* Store locked or not: do the reference's ids (and, found by id, its owner
 * and workflow) fit the notebook r? */
static int ref_fits(const lc_redivis_ref_t *ref, const lc_resource_t *r, int by_id)
{
    json_t *data = lc_kind_get_data(r);
    const char *wf = data_str(data, "w"), *nb = data_str(data, "b");
    lc_redivis_ref_t k;
    int ok = lc_redivis_key_split(r->id, &k) == APR_SUCCESS
             && strcmp(k.owner, ref->owner) == 0
             && (!ref->nb_id[0] || (nb && strcmp(nb, ref->nb_id) == 0))
             && (ref->wf_id[0] ? (wf && strcmp(wf, ref->wf_id) == 0)
                               : (!by_id || strcmp(k.workflow, ref->workflow) == 0));

    json_decref(data);
    return ok;
}

/* The first notebook, in id order, whose reference id is ref's. */
static apr_status_t nb_scan(lc_req_t *q, const lc_redivis_ref_t *ref, lc_resource_t *out)
{
    lc_resource_t *page = apr_palloc(q->r->pool, NB_SCAN_PAGE * sizeof(*page));
    const char *needle = apr_psprintf(q->r->pool, "\"b\":\"%s\"", ref->nb_id);
    char after[LC_ID_MAX + 1] = "";
    int seen = 0, n = 0, more = 0, i;
    apr_status_t rv;

    do {
        rv = lc_store_list(q->store, LC_KIND_NOTEBOOK, -1, after[0] ? after : NULL,
                           NB_SCAN_PAGE, page, &n, &more);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        for (i = 0; i < n; i++) {
            /* The compact data names the id exactly so: a cheap first test. */
            if (strstr(page[i].data, needle) && ref_fits(ref, &page[i], 1)) {
                lc_resource_copy(out, &page[i]);
                return APR_SUCCESS;
            }
        }
        seen += n;
        if (n > 0) {
            apr_cpystrn(after, page[n - 1].id, sizeof(after));
        }
    } while (more && n > 0 && seen < NB_SCAN_MAX);
    return LC_ENOTFOUND;
}

/* One lookup by the canonical key when the reference has all three names;
 * a scan by :nbId when it has none, or when the ids name another notebook. */
static apr_status_t nb_resolve(lc_req_t *q, const lc_redivis_ref_t *ref, lc_resource_t *out)
{
    const char *key = lc_redivis_ref_key(ref, q->r->pool);
    apr_status_t rv;

    if (key) {
        rv = lc_store_get(q->store, LC_KIND_NOTEBOOK, key, out);
        if (rv == APR_SUCCESS && ref_fits(ref, out, 0)) {
            return APR_SUCCESS;
        }
        if (rv != APR_SUCCESS && rv != LC_ENOTFOUND) {
            return rv;
        }
    }
    return ref->nb_id[0] ? nb_scan(q, ref, out) : LC_ENOTFOUND;
}

static int nb_get(lc_req_t *q, const lc_redivis_ref_t *ref)
{
    lc_resource_t r;
    apr_status_t rv = nb_resolve(q, ref, &r);

    if (rv == LC_ENOTFOUND) {
        return nb_not_found(q);
    }
    return rv == APR_SUCCESS ? nb_send(q, &r) : nb_store_failed(q, rv);
}

static const char *illegal_message(lc_req_t *q, const char *action, const lc_resource_t *cur)
{
    if (strcmp(action, "stop") == 0) {
        return apr_psprintf(q->r->pool, "Notebook %s cannot be stopped: its current job is "
                            "not queued or running (%s)", cur->id,
                            cur->state == NB_NONE ? "no job" : nb_states[cur->state]);
    }
    return apr_psprintf(q->r->pool, "Notebook %s is already running (job %s)", cur->id,
                        nb_states[cur->state]);
}

/* Empty body only; If-Match well-formed.  LC_PROCEED or the error sent. */
static int nb_act_checks(lc_req_t *q, lc_precond_t *if_match)
{
    int rc, big;

    if ((rc = lc_http_refuse_body(q->r, &big)) != 0) {
        return redivis_error(q, rc, "invalid_request",
                             big ? "The request body is too large"
                                 : "The request body for this endpoint should be empty");
    }
    if (lc_precond_parse(apr_table_get(q->r->headers_in, "If-Match"), if_match) != 0) {
        return redivis_error(q, HTTP_BAD_REQUEST, "invalid_request", "Malformed If-Match header");
    }
    return LC_PROCEED;
}

static int nb_act(lc_req_t *q, const lc_redivis_ref_t *ref, const char *action)
{
    lc_resource_t cur, before, after;
    lc_precond_t if_match;
    lc_act_t act;
    apr_status_t rv;
    int rc;

    if ((rc = nb_act_checks(q, &if_match)) != LC_PROCEED) {
        return rc;
    }
    if ((rv = nb_resolve(q, ref, &cur)) != APR_SUCCESS) {
        return rv == LC_ENOTFOUND ? nb_not_found(q) : nb_store_failed(q, rv);
    }
    lc_dialect_act_init(q, &lc_notebook_kind, cur.id, action, &if_match, &act);
    rv = lc_engine_act(q->store, &act, &before, &after);
    switch (rv) {
    case APR_SUCCESS:
        lc_audit_request(q->r, &q->actor, LC_KIND_NOTEBOOK, cur.id,
                         nb_states[before.state], nb_states[after.state]);
        return nb_send(q, &after);
    case LC_NOCHANGE:
        return nb_send(q, &after);
    case LC_ENOTFOUND:
        return nb_not_found(q);
    case LC_EILLEGAL:
        return redivis_error(q, HTTP_BAD_REQUEST, "invalid_request",
                             illegal_message(q, action, &after));
    case LC_EFORBIDDEN:
        /* Not insufficient_scope: the clients answer that one by asking for a
         * new token with more scope, which would not help here. */
        return redivis_error(q, HTTP_FORBIDDEN, "forbidden",
                             apr_psprintf(q->r->pool, "Notebook %s belongs to another user; "
                                          "you may read it but not %s it", cur.id, action));
    case LC_EVERSION:
        lc_http_etag(q->r, after.version);
        return redivis_error(q, HTTP_PRECONDITION_FAILED, "precondition_failed",
                             apr_psprintf(q->r->pool, "If-Match does not match the current "
                                          "version %" APR_UINT64_T_FMT, after.version));
    default:
        return nb_store_failed(q, rv);
    }
}

static int nb_method_not_allowed(lc_req_t *q, const char *allow)
{
    lc_http_allow(q->r, allow);
    return redivis_error(q, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                         apr_psprintf(q->r->pool, "%s is not allowed here; use %s",
                                      q->r->method, allow));
}

/* The reference, parsed from the raw first segment: the parser does its own
 * decoding, so that '.' and ':' may come encoded or not. */
static int nb_parse_ref(lc_req_t *q, lc_redivis_ref_t *ref)
{
    const char *raw = q->path + (q->path[0] == '/');
    const char *end = strchr(raw, '/');
    const char *why = "";

    if (lc_redivis_ref_parse(q->r->pool, raw, end ? (apr_size_t)(end - raw) : strlen(raw),
                             ref, &why) != APR_SUCCESS) {
        return redivis_error(q, HTTP_BAD_REQUEST, "invalid_request",
                             apr_pstrcat(q->r->pool, "Invalid notebook reference: ", why,
                                         NULL));
    }
    return LC_PROCEED;
}

static int redivis_handle(lc_req_t *q)
{
    lc_redivis_ref_t ref;
    int rc;

    if (q->nseg == 0 || q->nseg > 2 || (q->nseg == 2 && strcmp(q->seg[1], "stop")
                                        && strcmp(q->seg[1], "run"))) {
        return redivis_error(q, HTTP_NOT_FOUND, "not_found", "No such route");
    }
    if ((rc = nb_parse_ref(q, &ref)) != LC_PROCEED) {
        return rc;
    }
    if (q->nseg == 1) {
        return q->r->method_number == M_GET ? nb_get(q, &ref)
                                            : nb_method_not_allowed(q, "GET, HEAD");
    }
    if (q->r->method_number != M_POST) {
        return nb_method_not_allowed(q, "POST");
    }
    return nb_act(q, &ref, q->seg[1]);
}

const lc_dialect_t lc_dialect_redivis = {
    "redivis", LC_KIND_NOTEBOOK, &lc_notebook_kind, "workflow.read", "workflow.write",
    redivis_handle, redivis_error
};
