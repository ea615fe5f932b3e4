/* lc_json_pyerr.h — where Python's json.loads() would refuse a text, and
 * with what message: FastAPI answers its json_invalid 422 with them
 * (the Notte dialect, lc_notte_fastapi.c). */
#ifndef LC_JSON_PYERR_H
#define LC_JSON_PYERR_H

#include <stddef.h>

typedef struct lc_json_pyerr {
    const char *msg;    /* CPython's message: "Expecting value", "Extra data", ... */
    long        pos;    /* where, in characters as Python counts them */
    int         deep;   /* nested past LC_JSON_DEPTH_MAX instead: no Python error */
} lc_json_pyerr_t;

/* 0 when json.loads() reads text[0..len) (NaN and Infinity included), else
 * -1 with *e as it reports the first error (CPython 3.12 and before).
 * Checks the grammar only: the caller has checked the text is UTF-8. */
int lc_json_pyerr_scan(const char *text, size_t len, lc_json_pyerr_t *e);

#endif
