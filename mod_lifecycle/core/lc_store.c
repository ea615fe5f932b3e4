/* lc_store.c — the store contract's common steps (lc_store.h), written once.
 *
 * Every backend runs an update's callback the same way: the key checked,
 * the callback given the stored record (or a new one holding only the
 * key), then the key put back, a duplicate alias refused, the due time
 * normalised and the change's operation worked out.  What is left to a
 * backend is storing the result: where it looks the record up, how it
 * refuses an alias another resource holds, how it numbers the change.
 */
#include <string.h>
#include <apr_strings.h>

#include "lc_store.h"

int lc_store_valid_key(lc_kind_e kind, const char *id)
{
    size_t len = id ? strlen(id) : 0;

    return kind > LC_KIND_NONE && kind < LC_KIND_COUNT && len > 0 && len <= LC_ID_MAX;
}

int lc_store_valid_alias(lc_kind_e kind, const char *alias)
{
    size_t len = alias ? strlen(alias) : 0;

    return kind > LC_KIND_NONE && kind < LC_KIND_COUNT && len > 0 && len <= LC_ALIAS_MAX;
}

/* Bounded by LC_ALIAS_MAX, as the backends store them: a callback that
 * filled the whole array is read the same way everywhere. */
static int same_alias_twice(const lc_resource_t *r)
{
    size_t l0 = strnlen(r->alias[0], LC_ALIAS_MAX), l1 = strnlen(r->alias[1], LC_ALIAS_MAX);

    return l0 && l0 == l1 && memcmp(r->alias[0], r->alias[1], l0) == 0;
}

/* A due time needs a class to be queued under, and a class a time: half
 * of one is none, so what an update answers is what a get reads back. */
static void normalize_due(lc_resource_t *r)
{
    if (!r->due || r->due_class == LC_DUE_NONE || r->due_class >= LC_DUE_CLASSES) {
        r->due = 0;
        r->due_class = LC_DUE_NONE;
    }
}

/* After a callback that accepted: the rules every backend stores by. */
static apr_status_t settle(lc_resource_t *r, lc_kind_e kind, const char *id)
{
    r->kind = (uint8_t)kind;             /* the key is not the callback's to change */
    apr_cpystrn(r->id, id, sizeof(r->id));
    if (same_alias_twice(r)) {
        return APR_EINVAL;
    }
    normalize_due(r);
    return APR_SUCCESS;
}

apr_status_t lc_store_apply(lc_resource_t *r, int exists, lc_kind_e kind, const char *id,
                            lc_store_update_fn *fn, void *baton)
{
    apr_status_t rv;

    if (!exists) {
        lc_resource_clear(r);
        r->kind = (uint8_t)kind;
        apr_cpystrn(r->id, id, sizeof(r->id));
    }
    r->op = LC_OP_NONE;
    if ((rv = fn(r, exists, baton)) != APR_SUCCESS || (rv = settle(r, kind, id)) != APR_SUCCESS) {
        return rv;
    }
    r->op = !exists ? LC_OP_CREATE : r->op ? r->op : LC_OP_REPLACE;
    return APR_SUCCESS;
}

apr_status_t lc_store_apply_due(lc_resource_t *r, lc_store_update_fn *fn, void *baton)
{
    /* Copied: settle() writes the key back into r itself. */
    char id[LC_ID_MAX + 1];
    lc_kind_e kind = (lc_kind_e)r->kind;
    apr_status_t rv;

    apr_cpystrn(id, r->id, sizeof(id));
    r->op = LC_OP_TRANSITION;
    if ((rv = fn(r, 1, baton)) != APR_SUCCESS || (rv = settle(r, kind, id)) != APR_SUCCESS) {
        return rv;
    }
    r->op = LC_OP_TRANSITION;            /* a due move is a transition, whatever fn set */
    return APR_SUCCESS;
}
