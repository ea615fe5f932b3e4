/* lc_redivis_ref.h — Redivis qualified notebook references, and
 * how a notebook is found by one: APR, jansson and the store interface only,
 * so that the unit tests run it without Apache.
 *
 *   owner.workflow[:wfId].notebook[:nbId]
 *
 * Case-insensitive.  In names, every character other than [A-Za-z0-9_] is
 * equivalent to '_', runs of '_' collapse, and leading and trailing '_' are
 * ignored; a name may be empty when its ":id" suffix is given
 * ("owner.:x7g2.:n93k").  The reference arrives percent-encoded as one path
 * segment; clients may encode '.' and ':' or not, and a '/' in a display name
 * arrives as %2F (redivis-python quotes the reference with safe=''), which
 * counts as '_' like any other character outside [A-Za-z0-9_].
 *
 * Parsing yields the normalized parts: lowercase names of [a-z0-9_] (no
 * leading, trailing or doubled '_') and lowercase ids.  Two references name
 * the same notebook exactly when their parts are equal, so equivalence is
 * plain comparison of parsed references.
 */
#ifndef LC_REDIVIS_REF_H
#define LC_REDIVIS_REF_H

#include <apr_errno.h>
#include <apr_pools.h>
#include <jansson.h>

#include "lc_store.h"

/* The canonical key "owner.workflow.notebook" is a notebook's "name:" alias,
 * so it has to fit LC_ALIAS_MAX bytes after that prefix; each name is bounded
 * by that. */
#define LC_REDIVIS_ALIAS_NAME "name:"
#define LC_REDIVIS_ALIAS_REF  "ref:"
#define LC_REDIVIS_KEY_MAX  (LC_ALIAS_MAX - 5)       /* 123: what "name:" leaves */
#define LC_REDIVIS_NAME_MAX 124
#define LC_REDIVIS_REFID_MAX 32       /* reference ids: [A-Za-z0-9]{1,32} */
#define LC_REDIVIS_RAW_MAX 1024       /* longest raw (encoded) reference accepted */

typedef struct lc_redivis_ref {
    char owner[LC_REDIVIS_NAME_MAX + 1];
    char workflow[LC_REDIVIS_NAME_MAX + 1];      /* "" when only wf_id names it */
    char wf_id[LC_REDIVIS_REFID_MAX + 1];        /* "" when absent */
    char notebook[LC_REDIVIS_NAME_MAX + 1];      /* "" when only nb_id names it */
    char nb_id[LC_REDIVIS_REFID_MAX + 1];        /* "" when absent */
} lc_redivis_ref_t;

/* Normalize one name into out (size bytes).  Returns APR_SUCCESS, or
 * APR_EINVAL when the normalized name does not fit.  Input is assumed to be
 * valid UTF-8 (each non-ASCII character is one non-word character). */
apr_status_t lc_redivis_name_norm(const char *in, apr_size_t len, char *out,
                                  apr_size_t size);

/* Parse a reference from its raw, percent-encoded path segment (len bytes).
 * APR_SUCCESS, or APR_EINVAL with *why (a static English sentence) for a
 * broken encoding, NUL, non-UTF-8, a wrong number of parts,
 * an empty owner, an empty name without an id, a bad id, or too long. */
apr_status_t lc_redivis_ref_parse(apr_pool_t *p, const char *raw, apr_size_t len,
                                  lc_redivis_ref_t *ref, const char **why);

/* Parse a workflow reference "owner.workflow[:wfId]" from its raw path
 * segment, by the same rules; ref->notebook and ref->nb_id stay empty. */
apr_status_t lc_redivis_wf_ref_parse(apr_pool_t *p, const char *raw, apr_size_t len,
                                     lc_redivis_ref_t *ref, const char **why);

/* Whether the notebook whose stored names and ids are `stored` belongs to
 * the workflow `wf` names: the same owner, and the same workflow id when wf
 * has one (ids win over names), else the same workflow name. */
int lc_redivis_wf_fits(const lc_redivis_ref_t *wf, const lc_redivis_ref_t *stored);

/* Parse a reference that is already decoded (the admin API's
 * "qualifiedReference" field). */
apr_status_t lc_redivis_ref_parse_decoded(const char *text, lc_redivis_ref_t *ref,
                                          const char **why);

/* Whether the reference carries all three names (it has a canonical key). */
int lc_redivis_ref_has_names(const lc_redivis_ref_t *ref);

/* The canonical key "owner.workflow.notebook" (a pool string), or NULL when
 * a name is missing or the key would not fit LC_REDIVIS_KEY_MAX. */
const char *lc_redivis_ref_key(const lc_redivis_ref_t *ref, apr_pool_t *p);

/* Split a canonical key back into its names; APR_EINVAL when `key` is not
 * one (not three normalized, non-empty names joined by '.'). */
apr_status_t lc_redivis_key_split(const char *key, lc_redivis_ref_t *ref);

/* Whether the two references are equivalent (name the same notebook by the
 * same parts). */
int lc_redivis_ref_equal(const lc_redivis_ref_t *a, const lc_redivis_ref_t *b);

/* Whether a reference id is well-formed ([A-Za-z0-9]{1,32}). */
int lc_redivis_refid_valid(const char *id);

/* ---- a stored notebook ------------------------------------------------------
 *
 * A notebook's store id is opaque (any admin id, e.g. "nb-4a9b").  What it
 * answers to is kept in its attributes — "k" the canonical key, "w" the
 * workflow reference id, "b" the notebook reference id — and indexed by two
 * aliases, alias[0] = "name:" + canonical key and alias[1] = "ref:" + the
 * notebook reference id ("" when it has none).  The workflow id is not
 * indexed: a workflow holds many notebooks, so it names none of them; it is
 * checked against "w" after the lookup.  Notebooks stored before aliases
 * existed have no "k" and no aliases: their id is their canonical key. */

/* Put ref's names and ids into the attribute object data ("k", "w", "b")
 * and set r's aliases from them.  ref must carry all three names. */
void lc_redivis_store_ref(json_t *data, lc_resource_t *r, const lc_redivis_ref_t *ref);

/* The names and ids the stored notebook r answers to (from its attributes,
 * or from its id for a notebook stored before aliases).  APR_EINVAL when r
 * carries none. */
apr_status_t lc_redivis_stored_ref(const lc_resource_t *r, lc_redivis_ref_t *out);

/* Find the notebook ref names, in O(1) whatever the count: one alias lookup,
 * two at most.  By names ("name:" alias) when ref has all three, and then its
 * ids, when given, must be the notebook's; else, or when the ids name another
 * notebook (ids win over names, as on Redivis: a reference keeps working
 * after a rename), by its notebook id ("ref:" alias), and then its owner and
 * its workflow id (or, without one, its workflow name) must be the
 * notebook's.  APR_SUCCESS, LC_ENOTFOUND or the store's error. */
apr_status_t lc_redivis_resolve(lc_store_t *st, const lc_redivis_ref_t *ref,
                                lc_resource_t *out, apr_pool_t *p);

#endif
