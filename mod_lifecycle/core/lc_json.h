/* lc_json.h — the one way JSON text is read (and turned back into text).
 *
 * Every text the module or its CLIs parse goes through lc_json_parse() or
 * lc_json_load(), so the limits below are checked in one place: the size,
 * the nesting depth (before jansson sees the text), duplicate member names
 * (refused unless the caller speaks for a client that takes them).
 * APR and jansson only: the unit tests and the CLIs link it as it is. */
#ifndef LC_JSON_H
#define LC_JSON_H

#include <apr_pools.h>
#include <jansson.h>

/* Objects and arrays nested deeper than this (16) are refused. */
#define LC_JSON_DEPTH_MAX 16
/* The longest text read: a request body (LC_BODY_MAX), a key file. */
#define LC_JSON_TEXT_MAX  (64 * 1024)

/* What a caller may relax; 0 is the strict default (an object or an array
 * at the top, a duplicate member name refused). */
#define LC_JSON_ANY_VALUE 0x1   /* a string, number, ... at the top too */
#define LC_JSON_LAST_WINS 0x2   /* a duplicate name replaces the earlier
                                 * member, as Python's json does (FastAPI) */

/* Parse text[0..len).  The value belongs to p: it is released when p is,
 * never by the caller (json_incref it to keep it longer).  NULL when the
 * text is refused, with *why (may be NULL) saying why, in p. */
json_t *lc_json_parse(apr_pool_t *p, const char *text, size_t len, int flags,
                      const char **why);

/* The same rules, for a value with no pool at hand or one that outlives it
 * (a record's attributes, token claims): a new reference the caller
 * releases with json_decref.  NULL when refused. */
json_t *lc_json_load(const char *text, size_t len, int flags);

/* Hand a reference to p: j is released when p is.  Returns j (NULL stays
 * NULL), so that `return lc_json_pool_own(p, json_pack(...))` reads well. */
json_t *lc_json_pool_own(apr_pool_t *p, json_t *j);

/* j as text in p (jansson's flags: JSON_COMPACT, ...), its length in *len
 * when len is not NULL; NULL when jansson cannot encode it. */
char *lc_json_dump(apr_pool_t *p, const json_t *j, size_t flags, apr_size_t *len);

#endif
