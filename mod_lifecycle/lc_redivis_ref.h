/* lc_redivis_ref.h — Redivis qualified notebook references (SPEC §4.4), APR only.
 *
 *   owner.workflow[:wfId].notebook[:nbId]
 *
 * Case-insensitive.  In names, every character other than [A-Za-z0-9_] is
 * equivalent to '_', runs of '_' collapse, and leading and trailing '_' are
 * ignored; a name may be empty when its ":id" suffix is given
 * ("owner.:x7g2.:n93k").  The reference arrives percent-encoded as one path
 * segment; clients may encode '.' and ':' or not.
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

/* The canonical key "owner.workflow.notebook" is a notebook's store id, so
 * it has to fit LC_ID_MAX (128) bytes: each name is bounded by that. */
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
 * broken encoding, an encoded '/', NUL, non-UTF-8, a wrong number of parts,
 * an empty owner, an empty name without an id, a bad id, or too long. */
apr_status_t lc_redivis_ref_parse(apr_pool_t *p, const char *raw, apr_size_t len,
                                  lc_redivis_ref_t *ref, const char **why);

/* Parse a reference that is already decoded (the admin API's
 * "qualifiedReference" field). */
apr_status_t lc_redivis_ref_parse_decoded(const char *text, lc_redivis_ref_t *ref,
                                          const char **why);

/* Whether the reference carries all three names (it has a canonical key). */
int lc_redivis_ref_has_names(const lc_redivis_ref_t *ref);

/* The canonical key "owner.workflow.notebook" (a pool string), or NULL when
 * a name is missing or the key would not fit LC_ID_MAX. */
const char *lc_redivis_ref_key(const lc_redivis_ref_t *ref, apr_pool_t *p);

/* Split a canonical key back into its names; APR_EINVAL when `key` is not
 * one (not three normalized, non-empty names joined by '.'). */
apr_status_t lc_redivis_key_split(const char *key, lc_redivis_ref_t *ref);

/* Whether the two references are equivalent (name the same notebook by the
 * same parts). */
int lc_redivis_ref_equal(const lc_redivis_ref_t *a, const lc_redivis_ref_t *b);

/* Whether a reference id is well-formed ([A-Za-z0-9]{1,32}). */
int lc_redivis_refid_valid(const char *id);

#endif
