/* lc_kind_redivis.h — what lc_dialect_redivis.c needs of its kind
 * (lc_kind_redivis.c). */
#ifndef LC_KIND_REDIVIS_H
#define LC_KIND_REDIVIS_H

#include <apr.h>
#include "lc_kind.h"

/* The current job's status; NB_NONE: no job yet. */
enum { NB_NONE, NB_QUEUED, NB_RUNNING, NB_COMPLETED, NB_FAILED, NB_CANCELLED, NB_NSTATES };

extern const lc_kind_def_t lc_notebook_kind;

/* RFC 3986 unreserved characters stay, everything else is %XX (what the
 * clients' quote(ref, safe='') and encodeURIComponent produce for a ref);
 * cut short rather than overflow out[size]. */
void lc_redivis_url_encode(const char *in, char *out, apr_size_t size);

#endif
