/* lc_dbd_sql.c — the statements of the dbd backend, as apr_dbd prepares them.
 *
 * apr_dbd numbers its parameters in order of appearance (%hd smallint,
 * %lld bigint, %pDt text) and cannot name one twice, so a statement that
 * needs a value twice takes its parameters once, in a first CTE `p`, and
 * refers to p's columns.  Text parameters carry COLLATE "C", as the key
 * columns do: ids compare bytewise (lc_store.h's list order) whatever the
 * database's own collation.
 *
 * Every change is one statement (autocommit, READ COMMITTED): the row is
 * written only when its version is still the one the callback saw
 * (optimistic concurrency: a lost race is 0 rows, never a serialization
 * error), and its change row goes in with it, in the same statement.
 * Aliases have a table of their own whose primary key makes an alias
 * unique per kind across both of a resource's positions.
 */
#include "lc_dbd_int.h"

/* The parameters of a write: key, expected version, op, image. */
#define P_WRITE "p AS (SELECT %hd::smallint AS kind, %pDt::text COLLATE \"C\" AS id, " \
    "%lld::bigint AS expect, %hd::smallint AS op, %hd::smallint AS state, " \
    "%hd::smallint AS desired, %hd::smallint AS res_state, %hd::smallint AS res_desired, " \
    "%hd::smallint AS due_class, %lld::bigint AS ckpt_seq, %lld::bigint AS created, " \
    "%lld::bigint AS state_since, %lld::bigint AS closed, %lld::bigint AS due, " \
    "%pDt::text AS owner, %pDt::text COLLATE \"C\" AS alias0, " \
    "%pDt::text COLLATE \"C\" AS alias1, %pDt::text AS data"

#define SET_IMAGE "state = p.state, desired = p.desired, res_state = p.res_state, " \
    "res_desired = p.res_desired, due_class = p.due_class, ckpt_seq = p.ckpt_seq, " \
    "created = p.created, state_since = p.state_since, closed = p.closed, due = p.due, " \
    "owner = p.owner, alias0 = p.alias0, alias1 = p.alias1, data = p.data"

/* The change row of CTE u, and the statement's answer: u's row. */
#define CHANGE_OF_U "c AS (INSERT INTO lc_changes (op, " LC_DBD_COLS("") ") " \
    "SELECT p.op, " LC_DBD_COLS("u.") " FROM u, p) " \
    "SELECT " LC_DBD_COLS("u.") " FROM u"

/* Another resource of the kind holds one of p's aliases. */
#define ALIAS_TAKEN "EXISTS (SELECT 1 FROM lc_aliases a WHERE a.kind = p.kind " \
    "AND a.alias IN (p.alias0, p.alias1) AND a.id <> p.id)"

static const char *const sql[LC_Q_COUNT] = {
    /* LC_Q_GET: kind, id */
    "SELECT " LC_DBD_COLS("") " FROM lc_resources WHERE kind = %hd AND id = %pDt",

    /* LC_Q_GET_ALIAS: kind, alias */
    "SELECT " LC_DBD_COLS("r.") " FROM lc_aliases a JOIN lc_resources r "
    "ON r.kind = a.kind AND r.id = a.id WHERE a.kind = %hd AND a.alias = %pDt",

    /* LC_Q_GET_LOCK: kind, id.  In a transaction: an update that lost
     * LC_DBD_OPTIMISTIC races in a row takes the lock, and then cannot lose. */
    "SELECT " LC_DBD_COLS("") " FROM lc_resources WHERE kind = %hd AND id = %pDt FOR UPDATE",

    /* LC_Q_CREATE: P_WRITE (expect unused).  0 rows: the id exists, or an
     * alias is taken. */
    "WITH " P_WRITE "), "
    "u AS (INSERT INTO lc_resources (" LC_DBD_COLS("") ") "
    "SELECT p.kind, p.id, 1, nextval('lc_pos'), " LC_DBD_IMAGE("p.") " FROM p "
    "WHERE NOT " ALIAS_TAKEN " ON CONFLICT (kind, id) DO NOTHING "
    "RETURNING " LC_DBD_COLS("") "), "
    "x AS (INSERT INTO lc_aliases (kind, alias, id) SELECT u.kind, v.alias, u.id "
    "FROM u, LATERAL (VALUES (u.alias0), (u.alias1)) v(alias) WHERE v.alias <> ''), "
    CHANGE_OF_U,

    /* LC_Q_UPDATE: the image, kind, id, expected version, op (each used
     * once, so in place: no CTE `p` joined in, whose executor start-up
     * showed in perf); the aliases stay as they are.  Answers the new
     * version and pos only: the rest of the row is the image sent.  Both
     * together took PostgreSQL's CPU a transition from about 250 to about
     * 200 us in make bench.  0 rows: the version moved (or the row went). */
    "WITH u AS (UPDATE lc_resources SET version = version + 1, pos = nextval('lc_pos'), "
    "state = %hd, desired = %hd, res_state = %hd, res_desired = %hd, due_class = %hd, "
    "ckpt_seq = %lld, created = %lld, state_since = %lld, closed = %lld, due = %lld, "
    "owner = %pDt, alias0 = %pDt, alias1 = %pDt, data = %pDt "
    "WHERE kind = %hd AND id = %pDt AND version = %lld RETURNING " LC_DBD_COLS("") "), "
    "c AS (INSERT INTO lc_changes (op, " LC_DBD_COLS("") ") "
    "SELECT %hd, " LC_DBD_COLS("u.") " FROM u) "
    "SELECT u.version, u.pos FROM u",

    /* LC_Q_UPDATE_ALIAS: P_WRITE, then the aliases the row had.  0 rows:
     * the version moved, or a new alias is another resource's. */
    "WITH " P_WRITE ", %pDt::text COLLATE \"C\" AS old0, %pDt::text COLLATE \"C\" AS old1), "
    "u AS (UPDATE lc_resources r SET version = r.version + 1, pos = nextval('lc_pos'), "
    SET_IMAGE " FROM p WHERE r.kind = p.kind AND r.id = p.id AND r.version = p.expect "
    "AND NOT " ALIAS_TAKEN " RETURNING " LC_DBD_COLS("r.") "), "
    "d AS (DELETE FROM lc_aliases a USING u, p WHERE a.kind = u.kind AND a.id = u.id "
    "AND a.alias IN (p.old0, p.old1) AND a.alias NOT IN (p.alias0, p.alias1)), "
    "x AS (INSERT INTO lc_aliases (kind, alias, id) SELECT u.kind, v.alias, u.id "
    "FROM u, p, LATERAL (VALUES (p.alias0), (p.alias1)) v(alias) "
    "WHERE v.alias <> '' AND v.alias NOT IN (p.old0, p.old1)), "
    CHANGE_OF_U,

    /* LC_Q_REMOVE: kind, id, expected version (0 = any).  The change row
     * holds the last image and a position of its own. */
    "WITH p AS (SELECT %hd::smallint AS kind, %pDt::text COLLATE \"C\" AS id, "
    "%lld::bigint AS expect), "
    "d AS (DELETE FROM lc_resources r USING p WHERE r.kind = p.kind AND r.id = p.id "
    "AND (p.expect = 0 OR r.version = p.expect) RETURNING " LC_DBD_COLS("r.") "), "
    "x AS (DELETE FROM lc_aliases a USING d WHERE a.kind = d.kind AND a.id = d.id), "
    "c AS (INSERT INTO lc_changes (op, " LC_DBD_COLS("") ") SELECT 5, d.kind, d.id, "
    "d.version, nextval('lc_pos'), " LC_DBD_IMAGE("d.") " FROM d RETURNING pos) "
    "SELECT d.kind, d.id, d.version, c.pos, " LC_DBD_IMAGE("d.") " FROM d, c",

    /* LC_Q_LIST: kind, state (-1 = any), after, limit */
    "WITH p AS (SELECT %hd::smallint AS kind, %hd::smallint AS state, "
    "%pDt::text COLLATE \"C\" AS after) "
    "SELECT " LC_DBD_COLS("r.") " FROM lc_resources r, p WHERE r.kind = p.kind "
    "AND (p.state < 0 OR r.state = p.state) AND r.id > p.after ORDER BY r.id LIMIT %lld",

    /* LC_Q_DUE_CLAIM: now.  In a transaction: the row stays ours until it
     * commits, and every other host skips it. */
    "SELECT " LC_DBD_COLS("") " FROM lc_resources WHERE due_class <> 0 AND due <= %lld "
    "ORDER BY due LIMIT 1 FOR UPDATE SKIP LOCKED",

    /* LC_Q_DUE_CLEAR: kind, id.  Nothing to do after all: off the queue,
     * no new version, no change (as the shm store). */
    "UPDATE lc_resources SET due = 0, due_class = 0 WHERE kind = %hd AND id = %pDt",

    /* LC_Q_NEXT_DUE */
    "SELECT coalesce(min(due), 0) FROM lc_resources WHERE due_class <> 0",

    /* LC_Q_FEED_PEEK: the head, and whether anything waits for a number. */
    "SELECT (SELECT seq FROM lc_feed_head), "
    "EXISTS (SELECT 1 FROM lc_changes WHERE seq IS NULL)::int",

    /* LC_Q_FEED_LOCK: the timeline written on (0: unknown).  In the
     * sequencer's transaction, before it numbers: the numbering statement's
     * snapshot then sees every earlier batch.  On a newer timeline than the
     * head's, the head first jumps to that timeline's block of 2^40 numbers
     * (timeline 1's is 0): numbers a failover lost are never given again,
     * and a reader past the new head's old value gets 410 (a gap).  2^40
     * changes a timeline; JSON's exact integers last to timeline 8192. */
    "WITH p AS (SELECT %lld::bigint AS tli) "
    "UPDATE lc_feed_head f SET seq = CASE WHEN p.tli > f.tli "
    "THEN greatest(f.seq, (p.tli - 1) * 1099511627776) ELSE f.seq END, "
    "tli = greatest(f.tli, p.tli) FROM p RETURNING f.seq",

    /* LC_Q_FEED_NUMBER: batch size.  Numbers the oldest committed changes
     * densely after the head; answers the new head (0: none numbered). */
    "WITH b AS (SELECT pos, row_number() OVER (ORDER BY pos) AS rn FROM lc_changes "
    "WHERE seq IS NULL ORDER BY pos LIMIT %d), "
    "n AS (SELECT count(*) AS n FROM b), "
    "h AS (UPDATE lc_feed_head f SET seq = f.seq + n.n FROM n WHERE n.n > 0 "
    "RETURNING f.seq, f.seq - n.n AS base), "
    "u AS (UPDATE lc_changes c SET seq = h.base + b.rn FROM b, h WHERE c.pos = b.pos "
    "RETURNING 1) "
    "SELECT coalesce((SELECT seq FROM h), 0), (SELECT count(*) FROM u)",

    /* LC_Q_FEED_READ: since, max */
    "SELECT seq, op, " LC_DBD_COLS("") " FROM lc_changes WHERE seq > %lld "
    "ORDER BY seq LIMIT %d",

    /* LC_Q_FEED_TRIM: the last sequence number retention drops */
    "DELETE FROM lc_changes WHERE seq <= %lld",

    /* LC_Q_UPDATE_MANY: LC_Q_UPDATE for several rows of distinct keys
     * (lc_dbd_batch.c), each parameter an array of one column: kind, id,
     * expected version, op, then the image.  Each row written only at its
     * own version; answers the written rows' ordinals (1-based), new
     * versions and positions.  The rows come in key order and are locked
     * in it (a nested loop over the arrays). */
    "WITH p AS (SELECT * FROM unnest(%pDt::smallint[], %pDt::text[], %pDt::bigint[], "
    "%pDt::smallint[], %pDt::smallint[], %pDt::smallint[], %pDt::smallint[], "
    "%pDt::smallint[], %pDt::smallint[], %pDt::bigint[], %pDt::bigint[], %pDt::bigint[], "
    "%pDt::bigint[], %pDt::bigint[], %pDt::text[], %pDt::text[], %pDt::text[], %pDt::text[]) "
    "WITH ORDINALITY AS p(kind, id, expect, op, " LC_DBD_IMAGE("") ", n)), "
    "u AS (UPDATE lc_resources r SET version = r.version + 1, pos = nextval('lc_pos'), "
    SET_IMAGE " FROM p WHERE r.kind = p.kind AND r.id = p.id COLLATE \"C\" "
    "AND r.version = p.expect RETURNING p.n, p.op, " LC_DBD_COLS("r.") "), "
    "c AS (INSERT INTO lc_changes (op, " LC_DBD_COLS("") ") "
    "SELECT u.op, " LC_DBD_COLS("u.") " FROM u) "
    "SELECT u.n, u.version, u.pos FROM u",

    /* LC_Q_GET_MANY: LC_Q_GET for several keys: an array of kinds, one of ids. */
    "SELECT " LC_DBD_COLS("r.") " FROM unnest(%pDt::smallint[], %pDt::text[]) AS k(kind, id) "
    "JOIN lc_resources r ON r.kind = k.kind AND r.id = k.id COLLATE \"C\"",

    /* LC_Q_TALLY: resources by kind and state (the status page) */
    "SELECT kind, state, count(*) FROM lc_resources GROUP BY kind, state",

    /* LC_Q_SYNC_STANDBYS: the synchronous standbys the node streams to now
     * (the metrics); -1 when this role may not see them (pg_stat_replication
     * shows a walsender's state only to superusers and pg_read_all_stats). */
    "SELECT CASE WHEN pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') "
    "THEN (SELECT count(*) FROM pg_stat_replication WHERE sync_state IN ('sync', 'quorum')) "
    "ELSE -1 END",
};

static const char *const labels[LC_Q_COUNT] = {
    "lc_get", "lc_get_alias", "lc_get_lock", "lc_create", "lc_update", "lc_update_alias", "lc_remove",
    "lc_list", "lc_due_claim", "lc_due_clear", "lc_next_due",
    "lc_feed_peek", "lc_feed_lock", "lc_feed_number", "lc_feed_read", "lc_feed_trim",
    "lc_update_many", "lc_get_many", "lc_tally", "lc_sync_standbys"
};

const char *lc_dbd_sql_text(lc_dbd_q_e q)
{
    return sql[q];
}

const char *lc_dbd_sql_label(lc_dbd_q_e q)
{
    return q < LC_Q_COUNT ? labels[q] : "sql";
}

int lc_dbd_sql_nargs(lc_dbd_q_e q)
{
    const char *s = q < LC_Q_COUNT ? sql[q] : "";
    int n = 0;

    for (; *s; s++) {
        if (s[0] == '%' && s[1] == '%') {
            s++;
        }
        else if (s[0] == '%') {
            n++;
        }
    }
    return n;
}
