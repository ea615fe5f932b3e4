/* lc_state.c — LifecycleStateDir in httpd's life cycle.
 *
 * Recovery runs once, in the parent, when the shared store is created (first
 * start or after a full stop); a graceful restart keeps the store and skips
 * it.  The parent runs as root at that point: it makes the directory and the
 * new journal segment belong to the server's User, who appends from the
 * children.  Snapshots are taken by whichever child's watchdog tick finds one
 * due; the journal lets only one process do it at a time.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <httpd.h>
#include <http_log.h>
#include <unixd.h>
#include <apr_strings.h>

#include "lc_state.h"
#include "lc_config.h"
#include "lc_stopping.h"
#include "lc_snapshot.h"
#include "lc_journal_recover.h"
#include "lc_log.h"

APLOG_USE_MODULE(lifecycle);

static lc_journal_t *process_journal;
/* The state directory's lock, kept by the parent (and inherited by every
 * child) for as long as the server runs, across restarts. */
static int dir_lock = -1;
static char *dir_locked;

static void log_to_httpd(void *baton, int warning, const char *msg)
{
    ap_log_error(APLOG_MARK, warning ? APLOG_WARNING : APLOG_INFO, 0, baton, "%s", LC_TAGGED(msg));
}

static lc_journal_opts_t opts_for(server_rec *s, const lc_server_conf_t *sc)
{
    lc_journal_opts_t o = { sc->state_dir, -1, -1, log_to_httpd, s };

    if (geteuid() == 0) {
        o.uid = (long)ap_unixd_config.user_id;
        o.gid = (long)ap_unixd_config.group_id;
    }
    return o;
}

/* The directory exists, belongs to the User, and the User may write it. */
static apr_status_t prepare_dir(server_rec *s, const lc_server_conf_t *sc, apr_pool_t *p)
{
    struct stat sb;
    int writable;

    if (apr_dir_make_recursive(sc->state_dir, APR_FPROT_UREAD | APR_FPROT_UWRITE
                               | APR_FPROT_UEXECUTE | APR_FPROT_GREAD | APR_FPROT_GEXECUTE, p) != APR_SUCCESS
        || stat(sc->state_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, errno, s, LC_LOGNO(00019) "LifecycleStateDir %s (%s): "
                     "cannot create the directory", sc->state_dir, sc->state_dir_where);
        return APR_EGENERAL;
    }
    if (geteuid() == 0) {
        uid_t u = ap_unixd_config.user_id;
        gid_t g = ap_unixd_config.group_id;
        if (sb.st_uid != u && chown(sc->state_dir, u, g) == 0) {
            stat(sc->state_dir, &sb);
        }
        writable = (sb.st_uid == u && (sb.st_mode & S_IWUSR))
                   || (sb.st_gid == g && (sb.st_mode & S_IWGRP)) || (sb.st_mode & S_IWOTH);
    }
    else {
        writable = access(sc->state_dir, W_OK | X_OK) == 0;
    }
    if (!writable) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, LC_LOGNO(00020) "LifecycleStateDir %s (%s): not "
                     "writable by the server's User %s", sc->state_dir, sc->state_dir_where,
                     ap_unixd_config.user_name ? ap_unixd_config.user_name : "?");
        return APR_EACCES;
    }
    return APR_SUCCESS;
}

/* Processes of a server that was just stopped or killed may take a moment
 * to exit and release the lock: wait for them, up to LOCK_PATIENCE. */
#define LOCK_PATIENCE apr_time_from_sec(15)

static int lock_dir(const char *dir)
{
    apr_time_t until = apr_time_now() + LOCK_PATIENCE;
    int fd;

    while ((fd = lc_journal_lock(dir)) < 0 && errno == EWOULDBLOCK && apr_time_now() < until) {
        apr_sleep(apr_time_from_msec(100));
    }
    return fd;
}

apr_status_t lc_state_recover(lc_store_t *st, server_rec *s, apr_pool_t *p)
{
    const lc_server_conf_t *sc = lc_config_global(s);
    lc_journal_opts_t o;
    lc_recovery_t rec;
    apr_status_t rv;

    if (!sc->state_dir) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, LC_LOGNO(00021) "no LifecycleStateDir: resource state "
                     "is kept in memory only and is lost when the server stops");
        return APR_SUCCESS;
    }
    if ((rv = prepare_dir(s, sc, p)) != APR_SUCCESS) {
        return rv;
    }
    if (dir_lock < 0 || strcmp(dir_locked, sc->state_dir) != 0) {
        if (dir_lock >= 0) {
            close(dir_lock);
        }
        if ((dir_lock = lock_dir(sc->state_dir)) < 0) {
            int busy = errno == EWOULDBLOCK;
            ap_log_error(APLOG_MARK, APLOG_EMERG, busy ? 0 : errno, s, LC_LOGNO(00022) "LifecycleStateDir %s "
                         "(%s): cannot lock %s/lock%s", sc->state_dir, sc->state_dir_where,
                         sc->state_dir, busy ? ": another server or lifecycle-journal has held "
                         "it for 15 s" : "");
            return APR_EGENERAL;
        }
        free(dir_locked);
        dir_locked = strdup(sc->state_dir);
        if (geteuid() == 0 && fchown(dir_lock, ap_unixd_config.user_id,
                                     ap_unixd_config.group_id) != 0) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, errno, s, LC_LOGNO(00023) "cannot give %s/lock to the "
                         "server's User", sc->state_dir);
        }
    }
    o = opts_for(s, sc);
    if ((rv = lc_journal_recover(st, &o, p, &rec)) != APR_SUCCESS) {
        /* One line: what is damaged, where, which changes, and the way out. */
        ap_log_error(APLOG_MARK, APLOG_EMERG, rec.problem[0] ? 0 : rv, s, LC_LOGNO(00024) "LifecycleStateDir "
                     "%s (%s): recovery refused to start: %s", sc->state_dir,
                     sc->state_dir_where, rec.problem[0] ? rec.problem : "see the lines above");
        return rv;
    }
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, LC_LOGNO(00025) "state recovered from %s: snapshot at %"
                 APR_UINT64_T_FMT ", %" APR_UINT64_T_FMT " journal records, last change %"
                 APR_UINT64_T_FMT ", in %" APR_TIME_T_FMT " ms", sc->state_dir,
                 rec.snapshot_seq, rec.records, rec.last_seq, apr_time_as_msec(rec.elapsed));
    return APR_SUCCESS;
}

void lc_state_attach(lc_store_t *st, server_rec *s, apr_pool_t *p)
{
    const lc_server_conf_t *sc = lc_config_global(s);
    lc_journal_opts_t o;

    if (!sc->state_dir || !st) {
        process_journal = NULL;
        return;
    }
    o = opts_for(s, sc);
    process_journal = lc_journal_attach(st, &o, p);
    /* A feed's long-poll ends when this child is told to stop. */
    lc_journal_wait_stop_check(lc_stopping);
}

void lc_state_tick(server_rec *s)
{
    const lc_server_conf_t *sc = lc_config_global(s);
    apr_interval_time_t every = sc->snapshot_every ? sc->snapshot_every : LC_SNAPSHOT_DEFAULT;
    uint64_t seq;
    apr_status_t rv;

    if (!process_journal || !lc_journal_snapshot_due(process_journal, every)) {
        return;
    }
    rv = lc_journal_snapshot(process_journal, &seq);
    if (rv == APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, LC_LOGNO(00026) "snapshot written at change %"
                     APR_UINT64_T_FMT, seq);
    }
    else if (rv != APR_EBUSY) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, LC_LOGNO(00027) "snapshot failed in %s", sc->state_dir);
    }
}
