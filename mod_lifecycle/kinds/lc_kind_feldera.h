/* lc_kind_feldera.h — what lc_dialect_feldera.c needs of its kind
 * (lc_kind_feldera.c): the statuses and their names
 * (lc_kind_feldera_names.h), what a pipeline keeps beside them
 * (lc_kind_feldera_hist.h), and the representation. */
#ifndef LC_KIND_FELDERA_H
#define LC_KIND_FELDERA_H

#include "lc_kind.h"
#include "lc_kind_feldera_names.h"
#include "lc_kind_feldera_hist.h"

/* The Feldera release whose manager API this dialect follows (/v0/config's
 * "version", and every pipeline's platform_version). */
#define LC_FELDERA_VERSION "0.337.0"

extern const lc_kind_def_t lc_pipeline_kind;

/* The pipeline as the manager's GET answers it (PipelineSelectedInfo), without
 * its "id"; `all` adds the program and runtime configuration fields. */
json_t *lc_feldera_pipeline_json(const lc_resource_t *r, int all);

#endif
