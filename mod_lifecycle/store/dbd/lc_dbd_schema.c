/* lc_dbd_schema.c — the dbd backend's tables, created and upgraded by the module.
 *
 * At start-up (the parent, on a connection of its own) and once in every
 * child before its first statement, in one transaction under an advisory
 * lock, so that hosts starting at once take turns and each finds the work
 * done: create what is missing, read the version in lc_meta, upgrade it
 * step by step, or refuse a version newer than LC_DBD_SCHEMA.  DDL is
 * transactional in PostgreSQL: a failed upgrade leaves nothing half made.
 * Where advisory locks are no-ops (CockroachDB), every step is idempotent.
 */
#include <stdlib.h>
#include <string.h>
#include <apr_strings.h>

#include "lc_dbd_int.h"
#include "lc_dbd_schema.h"
#include "lc_dbd_call.h"

/* Version 1.  Times are apr_time_t (microseconds since the epoch); the
 * attributes are text (jsonb would reorder keys and refuse \u0000). */
static const char *const schema_v1[] = {
    "CREATE SEQUENCE IF NOT EXISTS lc_pos",
    "CREATE TABLE IF NOT EXISTS lc_resources ("
    " kind smallint NOT NULL, id text COLLATE \"C\" NOT NULL, version bigint NOT NULL,"
    " pos bigint NOT NULL, state smallint NOT NULL, desired smallint NOT NULL,"
    " res_state smallint NOT NULL, res_desired smallint NOT NULL,"
    " due_class smallint NOT NULL DEFAULT 0, ckpt_seq bigint NOT NULL DEFAULT 0,"
    " created bigint NOT NULL, state_since bigint NOT NULL, closed bigint NOT NULL DEFAULT 0,"
    " due bigint NOT NULL DEFAULT 0, owner text NOT NULL DEFAULT '',"
    " alias0 text COLLATE \"C\" NOT NULL DEFAULT '',"
    " alias1 text COLLATE \"C\" NOT NULL DEFAULT '', data text NOT NULL DEFAULT '',"
    " PRIMARY KEY (kind, id)) WITH (fillfactor = 80)",
    "CREATE INDEX IF NOT EXISTS lc_resources_due ON lc_resources (due) WHERE due_class <> 0",
    "CREATE TABLE IF NOT EXISTS lc_aliases ("
    " kind smallint NOT NULL, alias text COLLATE \"C\" NOT NULL,"
    " id text COLLATE \"C\" NOT NULL, PRIMARY KEY (kind, alias))",
    "CREATE TABLE IF NOT EXISTS lc_changes ("
    " pos bigint PRIMARY KEY, seq bigint UNIQUE, op smallint NOT NULL,"
    " kind smallint NOT NULL, id text COLLATE \"C\" NOT NULL, version bigint NOT NULL,"
    " state smallint NOT NULL, desired smallint NOT NULL, res_state smallint NOT NULL,"
    " res_desired smallint NOT NULL, due_class smallint NOT NULL, ckpt_seq bigint NOT NULL,"
    " created bigint NOT NULL, state_since bigint NOT NULL, closed bigint NOT NULL,"
    " due bigint NOT NULL, owner text NOT NULL, alias0 text NOT NULL, alias1 text NOT NULL,"
    " data text NOT NULL)",
    "CREATE INDEX IF NOT EXISTS lc_changes_unnumbered ON lc_changes (pos) WHERE seq IS NULL",
    "CREATE TABLE IF NOT EXISTS lc_feed_head ("
    " one boolean PRIMARY KEY CHECK (one), seq bigint NOT NULL)",
    "INSERT INTO lc_feed_head VALUES (true, 0) ON CONFLICT DO NOTHING",
    "INSERT INTO lc_meta VALUES ('schema', '1') "
    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
    NULL
};

/* Version 2: the timeline the feed head was last moved on.
 * A failover that loses commits (an asynchronous standby, a restore from a
 * backup) moves the head back, and the numbers after it would be given to
 * other changes: the first numbering on a newer timeline starts the feed
 * at a block of its own (lc_dbd_sql.c, LC_Q_FEED_LOCK).  Existing rows
 * are on timeline 1 (an upgrade on a later one jumps once). */
static const char *const schema_v2[] = {
    "ALTER TABLE lc_feed_head ADD COLUMN IF NOT EXISTS tli bigint NOT NULL DEFAULT 1",
    "UPDATE lc_meta SET value = '2' WHERE key = 'schema'",
    NULL
};

typedef struct step {
    lc_dbd_conn_t *c;
    apr_pool_t    *p;
    const char   **why;
} step_t;

/* Each with the connection's deadline (lc_dbd_call.c): a database that
 * does not answer fails the check instead of holding the first request. */
static apr_status_t query(step_t *s, const char *sql)
{
    lc_dbd_call_t call;

    lc_dbd_call_sql(s->c, s->p, sql, &call);
    if (call.outcome != LC_CALL_OK) {
        *s->why = apr_psprintf(s->p, LC_LOGNO(00036) "creating the lifecycle schema failed at \"%.60s\": %s",
                               sql, call.message);
        return LC_EUNAVAIL;
    }
    return APR_SUCCESS;
}

/* The first column of the only row of sql, or "" when there is none. */
static apr_status_t value(step_t *s, const char *sql, const char **out)
{
    lc_dbd_call_t call;
    const char *v = NULL;

    lc_dbd_call_sql(s->c, s->p, sql, &call);
    if (call.outcome != LC_CALL_OK) {
        *s->why = apr_psprintf(s->p, LC_LOGNO(00037) "creating the lifecycle schema failed at \"%.60s\": %s",
                               sql, call.message);
        return LC_EUNAVAIL;
    }
    if (lc_dbd_res_rows(call.res) > 0) {
        lc_dbd_res_row(call.res, 0, 0, 1, &v);
    }
    *out = apr_pstrdup(s->p, v ? v : "");
    return APR_SUCCESS;
}

static apr_status_t upgrade(step_t *s, long have)
{
    apr_status_t rv = APR_SUCCESS;
    int i;

    if (have > LC_DBD_SCHEMA) {
        *s->why = apr_psprintf(s->p, LC_LOGNO(00038) "the database holds lifecycle schema version %ld, newer "
                               "than this module's %d: upgrade mod_lifecycle, or point "
                               "DBDParams at another database", have, LC_DBD_SCHEMA);
        return APR_EINVAL;
    }
    if (have < 1) {
        for (i = 0; schema_v1[i] && rv == APR_SUCCESS; i++) {
            rv = query(s, schema_v1[i]);
        }
    }
    if (have < 2) {
        for (i = 0; schema_v2[i] && rv == APR_SUCCESS; i++) {
            rv = query(s, schema_v2[i]);
        }
    }
    return rv;
}

apr_status_t lc_dbd_schema_ensure(lc_dbd_conn_t *c, apr_pool_t *p, const char **why)
{
    step_t s = { c, p, why };
    const char *v = "";
    apr_status_t rv;

    *why = NULL;
    if ((rv = query(&s, "BEGIN")) != APR_SUCCESS) {
        return rv;
    }
    if ((rv = value(&s, "SELECT pg_advisory_xact_lock(hashtext('mod_lifecycle schema'))::text",
                    &v)) == APR_SUCCESS
        && (rv = query(&s, "CREATE TABLE IF NOT EXISTS lc_meta (key text PRIMARY KEY, "
                           "value text NOT NULL)")) == APR_SUCCESS
        && (rv = value(&s, "SELECT value FROM lc_meta WHERE key = 'schema'", &v))
           == APR_SUCCESS) {
        rv = upgrade(&s, v[0] ? strtol(v, NULL, 10) : 0);
    }
    if (rv != APR_SUCCESS) {
        const char *keep = *why;
        query(&s, "ROLLBACK");
        *why = keep;
        return rv;
    }
    if ((rv = query(&s, "COMMIT")) != APR_SUCCESS) {
        return rv;
    }
    /* A 2xx means committed and flushed; say so when the database disagrees. */
    if (value(&s, "SELECT current_setting('synchronous_commit')", &v) == APR_SUCCESS
        && (strcmp(v, "off") == 0 || strcmp(v, "local") == 0)) {
        *why = apr_psprintf(p, LC_LOGNO(00039) "the database runs with synchronous_commit = %s: a change "
                            "acknowledged just before it crashes can be lost", v);
    }
    /* Without one, a failover can lose acknowledged changes. */
    if (value(&s, "SELECT current_setting('synchronous_standby_names')", &v) == APR_SUCCESS
        && !v[0]) {
        *why = apr_psprintf(p, "%s%s" LC_LOGNO(00065) "no synchronous standby is configured "
                            "(synchronous_standby_names is empty): a failover can lose "
                            "acknowledged changes (conf/HA.md)", *why ? *why : "",
                            *why ? "; " : "");
    }
    return APR_SUCCESS;
}
