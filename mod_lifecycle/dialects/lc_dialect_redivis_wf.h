/* lc_dialect_redivis_wf.h — the redivis dialect's workflows collection
 * (lc_dialect_redivis_wf.c), which lc_dialect_redivis.c hands the requests
 * of a Location ending in "workflows". */
#ifndef LC_DIALECT_REDIVIS_WF_H
#define LC_DIALECT_REDIVIS_WF_H

#include "lc_dialect.h"

int lc_redivis_workflows_handle(lc_req_t *q);

#endif
