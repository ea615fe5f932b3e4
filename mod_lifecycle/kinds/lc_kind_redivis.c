/* lc_kind_redivis.c — the Redivis notebook kind: its states, rules
 * and representation.  Pure: the dialect's HTTP side is lc_dialect_redivis.c,
 * which also says how a notebook's store id, names and aliases relate.
 *
 *   stop   current job queued | running -> cancelled
 *   run    a new job, queued (-> running by a runner or auto-advance)
 *
 * The kind's states are the current job's status, plus "none" before any
 * job: the notebook's own status derives from it.
 */
#include <string.h>
#include <sodium.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "lc_kind_redivis.h"
#include "lc_redivis_ref.h"

static const char *const nb_states[NB_NSTATES] = {
    "none", "queued", "running", "completed", "failed", "cancelled"
};

#define NB_ACTIVE   (LC_BIT(NB_QUEUED) | LC_BIT(NB_RUNNING))
#define NB_IDLE     (LC_BIT(NB_NONE) | LC_BIT(NB_COMPLETED) | LC_BIT(NB_FAILED) \
                     | LC_BIT(NB_CANCELLED))
#define NB_JOBID_LEN   16     /* hex characters of a job id this module makes */
#define NB_NAME_MAX    100    /* bytes of a display name */
#define NB_MESSAGE_MAX 100    /* bytes of a job's errorMessage */

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

/* Attributes kept in r->data (compact; only what cannot be derived):
 *   "n" display name (absent when it is the canonical notebook name)
 *   "k" canonical key owner.workflow.notebook (absent in notebooks stored
 *   before opaque ids: their id is their key), "w" workflow reference id,
 *   "b" notebook reference id (all three kept by lc_redivis_store_ref)
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

void lc_redivis_url_encode(const char *in, char *out, apr_size_t size)
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
    const char *name = data_str(data, "n"), *wf, *nb;
    char qref[LC_REDIVIS_KEY_MAX + 2 * LC_REDIVIS_REFID_MAX + 8], scoped[sizeof(qref)];
    char enc[3 * sizeof(qref)], url[sizeof(enc) + 32];
    lc_redivis_ref_t k;
    json_t *o;

    if (lc_redivis_stored_ref(r, &k) != APR_SUCCESS) {
        memset(&k, 0, sizeof(k));          /* not one of ours: show the id as it is */
        apr_cpystrn(k.notebook, r->id, sizeof(k.notebook));
    }
    wf = k.wf_id[0] ? k.wf_id : NULL;
    nb = k.nb_id[0] ? k.nb_id : NULL;
    apr_snprintf(scoped, sizeof(scoped), "%s%s%s", k.notebook, nb ? ":" : "", nb ? nb : "");
    apr_snprintf(qref, sizeof(qref), "%s.%s%s%s.%s", k.owner, k.workflow, wf ? ":" : "",
                 wf ? wf : "", scoped);
    lc_redivis_url_encode(qref, enc, sizeof(enc));
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
    lc_redivis_ref_t key;     /* names and ids: qualifiedReference's, or the id's */
    const char *name;         /* display name, or NULL */
    int state;
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

/* The names and ids: from qualifiedReference, or, without one, from an id
 * that is a canonical key (how notebooks were named before opaque ids). */
static apr_status_t put_names(json_t *body, const char *id, nb_put_t *np, const char **field)
{
    json_t *qr = json_object_get(body, "qualifiedReference");
    const char *why;

    if (!qr ? lc_redivis_key_split(id, &np->key) != APR_SUCCESS
            : !json_is_string(qr)
              || lc_redivis_ref_parse_decoded(json_string_value(qr), &np->key,
                                              &why) != APR_SUCCESS
              || !lc_redivis_ref_has_names(&np->key)) {
        *field = "qualifiedReference";
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

/* referenceId: the notebook's reference id, as qualifiedReference's if both. */
static apr_status_t put_reference_id(json_t *body, nb_put_t *np, const char **field)
{
    json_t *rid = json_object_get(body, "referenceId");
    char id[LC_REDIVIS_REFID_MAX + 1];
    int i;

    if (!rid || json_is_null(rid)) {
        return APR_SUCCESS;
    }
    *field = "referenceId";
    if (!json_is_string(rid) || !lc_redivis_refid_valid(json_string_value(rid))) {
        return APR_EINVAL;
    }
    for (i = 0; json_string_value(rid)[i]; i++) {
        id[i] = (char)apr_tolower((unsigned char)json_string_value(rid)[i]);
    }
    id[i] = '\0';
    if (np->key.nb_id[0] && strcmp(np->key.nb_id, id)) {
        return APR_EINVAL;
    }
    memcpy(np->key.nb_id, id, sizeof(id));
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

/* The attributes, and r's aliases from the names and ids. */
static json_t *put_data(json_t *job, const nb_put_t *np, lc_resource_t *r)
{
    json_t *d = json_object(), *v;

    if (np->name && strcmp(np->name, np->key.notebook)) {
        json_object_set_new(d, "n", json_string(np->name));
    }
    lc_redivis_store_ref(d, r, &np->key);
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

/* The admin PUT body: the get form, as GET returns it.  r->id is the path's,
 * any id the admin API takes. */
static apr_status_t nb_from_json(json_t *body, lc_resource_t *r, const char **field,
                                 apr_pool_t *p)
{
    json_t *job = json_object_get(body, "currentJob"), *data;
    nb_put_t np;
    apr_status_t rv;

    (void)p;
    memset(&np, 0, sizeof(np));
    if ((*field = lc_kind_unknown_field(body, nb_fields)) != NULL) {
        return APR_EINVAL;
    }
    if ((rv = put_names(body, r->id, &np, field)) != APR_SUCCESS
        || (rv = put_plain_fields(body, &np, field)) != APR_SUCCESS
        || (rv = put_owner_name(json_object_get(body, "owner"), &np, field)) != APR_SUCCESS
        || (rv = put_reference_id(body, &np, field)) != APR_SUCCESS
        || (rv = put_job(job, &np, field)) != APR_SUCCESS) {
        return rv;
    }
    data = put_data(job, &np, r);
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
    .kind             = LC_KIND_NOTEBOOK,
    .name             = "notebook",
    .states           = nb_states,
    .nstates          = NB_NSTATES,
    .rules            = nb_rules,
    .advances         = nb_advances,
    .to_json          = nb_to_json,
    .from_json        = nb_from_json,
};
