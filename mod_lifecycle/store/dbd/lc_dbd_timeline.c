/* lc_dbd_timeline.c — the timeline guard: never write
 * to a node on an older timeline than one this host has written to.
 *
 * libpq's multi-host DBDParams (target_session_attrs=read-write) takes the
 * first node that accepts writes.  After a failover the old primary, if
 * someone starts it again by hand, accepts writes too: on its own timeline,
 * diverged from the new primary's, its commits waiting forever for a
 * synchronous standby that now follows another node, and a server that
 * lands on it reads stale data.  Each promotion starts a new timeline, so
 * every new session reports its cluster (system identifier: a standby made
 * by pg_basebackup keeps its primary's) and the timeline it writes on (the
 * first 8 hex digits of the current WAL file's name: exact at once after a
 * promotion, unlike pg_control_checkpoint(), which waits for a checkpoint).
 * Both functions are open to any role.  A session on an older timeline, or
 * on another cluster, is refused: closed, and the operation answers 503.
 *
 * The highest timeline is kept in the host's shared area (all children see
 * it at once), not in the database: an old primary holds the old value.
 * A host that has not yet written to the new primary cannot tell the two
 * apart (conf/HA.md: never start an old primary by hand).
 */
#include <string.h>
#include <apr_strings.h>

#include "lc_dbd_int.h"
#include "lc_dbd_timeline.h"

/* 0 for the timeline on a standby (pg_current_wal_lsn() fails in recovery):
 * it refuses writes by itself (25006). */
#define TIMELINE_SQL "SELECT system_identifier::text, CASE WHEN pg_is_in_recovery() THEN 0 " \
    "ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint " \
    "END FROM pg_control_system()"

typedef enum { TL_OK, TL_OLDER, TL_OTHER } tl_verdict_e;

/* Record (sysid, tli) as written to, or say why not: lock-free, the first
 * cluster seen stays the host's until a full restart. */
static tl_verdict_e record(lc_dbd_shared_t *sh, uint64_t sysid, uint32_t tli, uint32_t *known)
{
    uint64_t have = 0;

    if (!__atomic_compare_exchange_n(&sh->tl_sysid, &have, sysid, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE) && have != sysid) {
        *known = 0;
        return TL_OTHER;
    }
    *known = __atomic_load_n(&sh->tl_tli, __ATOMIC_ACQUIRE);
    while (*known < tli && !__atomic_compare_exchange_n(&sh->tl_tli, known, tli, 0,
                                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
    }
    return tli >= *known ? TL_OK : TL_OLDER;
}

static apr_status_t refuse(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p, const char *why,
                           const char **line)
{
    __atomic_add_fetch(&d->sh->tl_refused, 1, __ATOMIC_RELAXED);
    *line = apr_psprintf(p, LC_LOGNO(00049) "refusing the database node DBDParams reached: %s; nothing is "
                         "written to it (conf/HA.md)", why);
    /* Closed, so that mod_dbd opens a new session (perhaps on the right node). */
    lc_dbd_call_break(c);
    return LC_EUNAVAIL;
}

apr_status_t lc_dbd_timeline_check(lc_dbd_t *d, lc_dbd_conn_t *c, apr_pool_t *p,
                                   const char **line)
{
    lc_dbd_call_t call;
    const char *v[2] = { NULL, NULL };
    uint64_t sysid;
    uint32_t tli, known;

    *line = NULL;
    lc_dbd_call_sql(c, p, TIMELINE_SQL, &call);
    if (call.outcome == LC_CALL_ERROR) {
        /* An engine without these functions (CockroachDB): no guard, said once. */
        if (!__atomic_exchange_n(&d->sh->tl_unsupported, 1, __ATOMIC_ACQ_REL)) {
            *line = apr_psprintf(p, LC_LOGNO(00050) "no timeline guard on this database (%s)",
                                 call.message);
        }
        return APR_SUCCESS;
    }
    if (call.outcome != LC_CALL_OK || lc_dbd_res_rows(call.res) != 1) {
        if (call.outcome == LC_CALL_TIMEOUT) {
            __atomic_add_fetch(&d->sh->timeouts, 1, __ATOMIC_RELAXED);
        }
        *line = apr_psprintf(p, LC_LOGNO(00051) "reading the node's timeline: %s", call.message);
        return LC_EUNAVAIL;
    }
    lc_dbd_res_row(call.res, 0, 0, 2, v);
    sysid = v[0] ? (uint64_t)apr_strtoi64(v[0], NULL, 10) : 0;
    tli = v[1] ? (uint32_t)apr_atoi64(v[1]) : 0;
    if (!sysid || !tli) {
        return APR_SUCCESS;     /* a standby: its writes fail on their own (25006) */
    }
    switch (record(d->sh, sysid, tli, &known)) {
    case TL_OLDER:
        return refuse(d, c, p, apr_psprintf(p, "it is on timeline %u, older than timeline "
                                            "%u this server has written to (an old primary "
                                            "started again?)", tli, known), line);
    case TL_OTHER:
        return refuse(d, c, p, apr_psprintf(p, "it is another database cluster (system "
                                            "identifier %s, not the one this server has "
                                            "written to): stop and start Apache to change "
                                            "databases", v[0]), line);
    default:
        return APR_SUCCESS;
    }
}
