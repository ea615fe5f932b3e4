/* lc_redivis_ref.c — Redivis qualified notebook references, and finding a
 * notebook by one (APR, jansson, the store interface). */
#include <string.h>
#include <apr_strings.h>
#include <apr_lib.h>

#include "lc_redivis_ref.h"
#include "lc_resource.h"
#include "lc_kind.h"
#include "lc_util.h"

static int word_char(int c)
{
    return c < 0x80 && (apr_isalnum(c) || c == '_');
}

apr_status_t lc_redivis_name_norm(const char *in, apr_size_t len, char *out,
                                  apr_size_t size)
{
    apr_size_t i, o = 0;
    int gap = 0;        /* a run of '_' or other characters is pending */

    for (i = 0; i < len; i++) {
        int c = (unsigned char)in[i];

        if (c == '_' || !word_char(c)) {
            gap = 1;
            continue;
        }
        /* A gap becomes one '_', but only between word characters: leading
         * and trailing ones are dropped. */
        if (o + (gap && o) + 1 >= size) {
            return APR_EINVAL;
        }
        if (gap && o) {
            out[o++] = '_';
        }
        out[o++] = (char)apr_tolower(c);
        gap = 0;
    }
    out[o] = '\0';
    return APR_SUCCESS;
}

int lc_redivis_refid_valid(const char *id)
{
    apr_size_t i;

    for (i = 0; id[i]; i++) {
        if (i >= LC_REDIVIS_REFID_MAX || (unsigned char)id[i] >= 0x80
            || !apr_isalnum((unsigned char)id[i])) {
            return 0;
        }
    }
    return i > 0;
}

/* One dotted part, "name[:id]", into name and id (id NULL: none allowed). */
static apr_status_t parse_part(const char *s, apr_size_t len, char *name, char *id,
                               const char **why)
{
    const char *colon = memchr(s, ':', len);
    apr_size_t nlen = colon ? (apr_size_t)(colon - s) : len;

    if (colon && !id) {
        *why = "the owner name cannot have a ':' suffix";
        return APR_EINVAL;
    }
    if (lc_redivis_name_norm(s, nlen, name, LC_REDIVIS_NAME_MAX + 1) != APR_SUCCESS) {
        *why = "a name in the reference is too long";
        return APR_EINVAL;
    }
    if (id) {
        apr_size_t ilen = colon ? len - nlen - 1 : 0;
        apr_size_t i;

        id[0] = '\0';
        if (colon && (ilen == 0 || ilen > LC_REDIVIS_REFID_MAX
                      || memchr(colon + 1, ':', ilen))) {
            *why = "a reference id must be 1 to 32 letters or digits after one ':'";
            return APR_EINVAL;
        }
        for (i = 0; i < ilen; i++) {
            id[i] = (char)apr_tolower((unsigned char)colon[1 + i]);
        }
        id[ilen] = '\0';
        if (colon && !lc_redivis_refid_valid(id)) {
            *why = "a reference id must be 1 to 32 letters or digits after one ':'";
            return APR_EINVAL;
        }
    }
    return APR_SUCCESS;
}

static apr_status_t parse_text(const char *s, apr_size_t len, lc_redivis_ref_t *ref,
                               const char **why)
{
    const char *d1 = memchr(s, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (apr_size_t)(d1 + 1 - s)) : NULL;
    const char *end = s + len;

    /* A '/' (from %2F) is just another non-word character in a name. */
    memset(ref, 0, sizeof(*ref));
    if (memchr(s, '\0', len) || !lc_utf8_valid(s, len)) {
        *why = "the reference contains NUL or bytes that are not UTF-8";
        return APR_EINVAL;
    }
    if (!d2 || memchr(d2 + 1, '.', (apr_size_t)(end - d2 - 1))) {
        *why = "a notebook reference has the form owner.workflow[:id].notebook[:id]";
        return APR_EINVAL;
    }
    if (parse_part(s, (apr_size_t)(d1 - s), ref->owner, NULL, why) != APR_SUCCESS
        || parse_part(d1 + 1, (apr_size_t)(d2 - d1 - 1), ref->workflow, ref->wf_id,
                      why) != APR_SUCCESS
        || parse_part(d2 + 1, (apr_size_t)(end - d2 - 1), ref->notebook, ref->nb_id,
                      why) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (!ref->owner[0]) {
        *why = "the reference must name the owner";
        return APR_EINVAL;
    }
    if ((!ref->workflow[0] && !ref->wf_id[0]) || (!ref->notebook[0] && !ref->nb_id[0])) {
        *why = "the workflow and the notebook each need a name or a ':id'";
        return APR_EINVAL;
    }
    if (strlen(ref->owner) + strlen(ref->workflow) + strlen(ref->notebook) + 2
        > LC_REDIVIS_KEY_MAX) {
        *why = "the reference is too long";
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

static int hex_digit(int c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decode len bytes into out (len + 1 bytes).  Unlike
 * lc_segment_decode, an encoded '/' is kept: redivis-python sends a display
 * name's '/' as %2F, and in a name it counts as '_'.  Returns the decoded
 * length, or -1 for a broken escape. */
static long percent_decode(const char *raw, apr_size_t len, char *out)
{
    apr_size_t i, o = 0;

    for (i = 0; i < len; i++) {
        int c = (unsigned char)raw[i];

        if (c == '%') {
            int hi = i + 2 < len ? hex_digit((unsigned char)raw[i + 1]) : -1;
            int lo = i + 2 < len ? hex_digit((unsigned char)raw[i + 2]) : -1;

            if (hi < 0 || lo < 0) {
                return -1;
            }
            c = hi * 16 + lo;
            i += 2;
        }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return (long)o;
}

/* A reference as the path carries it, bounded and percent-decoded into
 * *text (*n bytes, NUL-terminated; NUL and non-UTF-8 are the caller's to
 * refuse).  Both references, notebook and workflow, start here. */
static apr_status_t decode_raw(apr_pool_t *p, const char *raw, apr_size_t len,
                               lc_redivis_ref_t *ref, char **text, apr_size_t *n,
                               const char **why)
{
    long got;

    memset(ref, 0, sizeof(*ref));
    if (len == 0 || len > LC_REDIVIS_RAW_MAX) {
        *why = len ? "the reference is too long" : "the reference is empty";
        return APR_EINVAL;
    }
    *text = apr_palloc(p, len + 1);
    if ((got = percent_decode(raw, len, *text)) < 0) {
        *why = "the reference has a broken percent-encoding";
        return APR_EINVAL;
    }
    *n = (apr_size_t)got;
    return APR_SUCCESS;
}

apr_status_t lc_redivis_ref_parse(apr_pool_t *p, const char *raw, apr_size_t len,
                                  lc_redivis_ref_t *ref, const char **why)
{
    char *text;
    apr_size_t n;

    if (decode_raw(p, raw, len, ref, &text, &n, why) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    return parse_text(text, n, ref, why);   /* NUL and non-UTF-8 refused there */
}

/* A workflow reference, "owner.workflow[:wfId]" (Workflow.py's uri quotes
 * it as the notebook's).  Same rules per part as a notebook reference. */
apr_status_t lc_redivis_wf_ref_parse(apr_pool_t *p, const char *raw, apr_size_t len,
                                     lc_redivis_ref_t *ref, const char **why)
{
    char *text;
    const char *dot;
    apr_size_t n;

    if (decode_raw(p, raw, len, ref, &text, &n, why) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (memchr(text, '\0', n) || !lc_utf8_valid(text, n)) {
        *why = "the reference contains NUL or bytes that are not UTF-8";
        return APR_EINVAL;
    }
    dot = memchr(text, '.', n);
    if (!dot || memchr(dot + 1, '.', (apr_size_t)(text + n - dot - 1))) {
        *why = "a workflow reference has the form owner.workflow[:id]";
        return APR_EINVAL;
    }
    if (parse_part(text, (apr_size_t)(dot - text), ref->owner, NULL, why) != APR_SUCCESS
        || parse_part(dot + 1, (apr_size_t)(text + n - dot - 1), ref->workflow, ref->wf_id,
                      why) != APR_SUCCESS) {
        return APR_EINVAL;
    }
    if (!ref->owner[0] || (!ref->workflow[0] && !ref->wf_id[0])) {
        *why = !ref->owner[0] ? "the reference must name the owner"
                              : "the workflow needs a name or a ':id'";
        return APR_EINVAL;
    }
    if (strlen(ref->owner) + strlen(ref->workflow) + 1 > LC_REDIVIS_KEY_MAX) {
        *why = "the reference is too long";
        return APR_EINVAL;
    }
    return APR_SUCCESS;
}

int lc_redivis_wf_fits(const lc_redivis_ref_t *wf, const lc_redivis_ref_t *stored)
{
    if (strcmp(wf->owner, stored->owner) != 0) {
        return 0;
    }
    /* Ids win over names, as for a notebook: a renamed workflow keeps its id. */
    return wf->wf_id[0] ? strcmp(wf->wf_id, stored->wf_id) == 0
                        : strcmp(wf->workflow, stored->workflow) == 0;
}

apr_status_t lc_redivis_ref_parse_decoded(const char *text, lc_redivis_ref_t *ref,
                                          const char **why)
{
    apr_size_t len = strlen(text);

    if (len == 0 || len > LC_REDIVIS_RAW_MAX) {
        *why = len ? "the reference is too long" : "the reference is empty";
        memset(ref, 0, sizeof(*ref));
        return APR_EINVAL;
    }
    return parse_text(text, len, ref, why);
}

int lc_redivis_ref_has_names(const lc_redivis_ref_t *ref)
{
    return ref->owner[0] && ref->workflow[0] && ref->notebook[0];
}

const char *lc_redivis_ref_key(const lc_redivis_ref_t *ref, apr_pool_t *p)
{
    const char *key;

    if (!lc_redivis_ref_has_names(ref)) {
        return NULL;
    }
    key = apr_pstrcat(p, ref->owner, ".", ref->workflow, ".", ref->notebook, NULL);
    return strlen(key) <= LC_REDIVIS_KEY_MAX ? key : NULL;
}

apr_status_t lc_redivis_key_split(const char *key, lc_redivis_ref_t *ref)
{
    const char *why;
    char check[LC_REDIVIS_KEY_MAX + 1];

    if (strlen(key) > LC_REDIVIS_KEY_MAX || strchr(key, ':')
        || parse_text(key, strlen(key), ref, &why) != APR_SUCCESS
        || !lc_redivis_ref_has_names(ref)) {
        return APR_EINVAL;
    }
    /* Canonical means it normalizes to itself. */
    apr_snprintf(check, sizeof(check), "%s.%s.%s", ref->owner, ref->workflow, ref->notebook);
    return strcmp(check, key) == 0 ? APR_SUCCESS : APR_EINVAL;
}

int lc_redivis_ref_equal(const lc_redivis_ref_t *a, const lc_redivis_ref_t *b)
{
    return strcmp(a->owner, b->owner) == 0 && strcmp(a->workflow, b->workflow) == 0
           && strcmp(a->wf_id, b->wf_id) == 0 && strcmp(a->notebook, b->notebook) == 0
           && strcmp(a->nb_id, b->nb_id) == 0;
}

/* ---- a stored notebook ------------------------------------------------------ */

void lc_redivis_store_ref(json_t *data, lc_resource_t *r, const lc_redivis_ref_t *ref)
{
    apr_snprintf(r->alias[0], sizeof(r->alias[0]), LC_REDIVIS_ALIAS_NAME "%s.%s.%s",
                 ref->owner, ref->workflow, ref->notebook);
    json_object_set_new(data, "k", json_string(r->alias[0] + strlen(LC_REDIVIS_ALIAS_NAME)));
    if (ref->wf_id[0]) {
        json_object_set_new(data, "w", json_string(ref->wf_id));
    }
    r->alias[1][0] = '\0';
    if (ref->nb_id[0]) {
        json_object_set_new(data, "b", json_string(ref->nb_id));
        apr_snprintf(r->alias[1], sizeof(r->alias[1]), LC_REDIVIS_ALIAS_REF "%s", ref->nb_id);
    }
}

static void copy_refid(char *dst, const char *src)
{
    if (src && lc_redivis_refid_valid(src)) {
        apr_cpystrn(dst, src, LC_REDIVIS_REFID_MAX + 1);
    }
}

apr_status_t lc_redivis_stored_ref(const lc_resource_t *r, lc_redivis_ref_t *out)
{
    json_t *data = lc_kind_get_data(r);
    const char *key = json_string_value(json_object_get(data, "k"));
    apr_status_t rv = lc_redivis_key_split(key ? key : r->id, out);

    if (rv == APR_SUCCESS) {
        copy_refid(out->wf_id, json_string_value(json_object_get(data, "w")));
        copy_refid(out->nb_id, json_string_value(json_object_get(data, "b")));
    }
    json_decref(data);
    return rv;
}

/* Does the reference fit the notebook found?  Found by name, its ids (when
 * given) must be the notebook's; found by notebook id, its owner, and its
 * workflow id or else workflow name, must be.  The notebook name is not
 * compared then: ids win over names. */
static int ref_fits(const lc_redivis_ref_t *ref, const lc_resource_t *r, int by_id)
{
    lc_redivis_ref_t s;

    if (lc_redivis_stored_ref(r, &s) != APR_SUCCESS || strcmp(s.owner, ref->owner)) {
        return 0;
    }
    if (ref->nb_id[0] && strcmp(s.nb_id, ref->nb_id)) {
        return 0;
    }
    if (ref->wf_id[0]) {
        return strcmp(s.wf_id, ref->wf_id) == 0;
    }
    return !by_id || strcmp(s.workflow, ref->workflow) == 0;
}

/* By the "name:" alias; a notebook stored before aliases is found by its id. */
static apr_status_t find_by_name(lc_store_t *st, const lc_redivis_ref_t *ref,
                                 lc_resource_t *out, apr_pool_t *p)
{
    char key[LC_ALIAS_MAX + 1];
    apr_status_t rv;

    apr_snprintf(key, sizeof(key), LC_REDIVIS_ALIAS_NAME "%s.%s.%s", ref->owner,
                 ref->workflow, ref->notebook);
    rv = lc_store_get_alias(st, LC_KIND_NOTEBOOK, key, out, p);
    if (rv == LC_ENOTFOUND) {
        rv = lc_store_get(st, LC_KIND_NOTEBOOK, key + strlen(LC_REDIVIS_ALIAS_NAME), out, p);
        if (rv == APR_SUCCESS && out->alias[0][0]) {
            rv = LC_ENOTFOUND;         /* has aliases: its id is no name */
        }
    }
    return rv;
}

apr_status_t lc_redivis_resolve(lc_store_t *st, const lc_redivis_ref_t *ref,
                                lc_resource_t *out, apr_pool_t *p)
{
    char key[LC_ALIAS_MAX + 1];
    apr_status_t rv;

    if (lc_redivis_ref_has_names(ref)) {
        rv = find_by_name(st, ref, out, p);
        if (rv == APR_SUCCESS && ref_fits(ref, out, 0)) {
            return APR_SUCCESS;
        }
        if (rv != APR_SUCCESS && rv != LC_ENOTFOUND) {
            return rv;
        }
    }
    if (!ref->nb_id[0]) {
        return LC_ENOTFOUND;
    }
    apr_snprintf(key, sizeof(key), LC_REDIVIS_ALIAS_REF "%s", ref->nb_id);
    rv = lc_store_get_alias(st, LC_KIND_NOTEBOOK, key, out, p);
    return rv == APR_SUCCESS && !ref_fits(ref, out, 1) ? LC_ENOTFOUND : rv;
}
