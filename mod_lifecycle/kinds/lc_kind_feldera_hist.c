/* lc_kind_feldera_hist.c — what a pipeline keeps beside its status:
 * its storage status, its status history (GET /events), the log
 * lines and global metrics a runner reported (GET /logs, GET /stats) and
 * the checkpoints it took (GET /checkpoints), all in the record's attribute
 * JSON (r->data, at most 16 KiB), each bounded so that together they fit:
 * the history drops its oldest entries, the log its oldest lines.  Pure,
 * like the kind (lc_kind_feldera.c) that calls it.
 *
 * An admin PUT replaces the whole record, these too (a new history begins
 * with its status); a runner's reports and every action append to them.
 * A runner reports them (POST /lifecycle/v1/resources/pipeline/{id}/report)
 * as {"log": "line" | ["line", ...], "storage_status": "Cleared",
 * "pipeline_complete": true, "total_input_records": N, ...} or inside
 * {"global_metrics": {...}}; /stats shows the defaults (zeros, complete
 * false) until it does.
 *
 * Kept compactly: an event is [ms, status, desired, resources, resources
 * desired, has_error, storage] (an entry only when one of the six changes);
 * a checkpoint [32 hex digits of its uuid, sequence number].
 */
#include <string.h>
#include <stdio.h>
#include <sodium.h>

#include "lc_kind_feldera_hist.h"
#include "lc_time.h"

/* Bounds: 48 events (~2 KiB), 4 KiB of log in lines of at most 512 bytes,
 * 8 checkpoints; the metrics are a fixed set of numbers. */
#define FH_EVENTS_MAX  48
#define FH_LOG_BYTES   4096
#define FH_LINE_MAX    512
#define FH_CKPTS_MAX   8

/* The global_metrics fields a runner may report (the pipeline's
 * GlobalControllerMetrics as the client's stats.py reads them): numbers,
 * and the two flags. */
static const char *const fh_numbers[] = {
    "transaction_id", "transaction_msecs", "transaction_records", "rss_bytes", "cpu_msecs",
    "uptime_msecs", "storage_bytes", "storage_mb_secs", "runtime_elapsed_msecs",
    "buffered_input_records", "total_input_records", "buffered_input_bytes", "total_input_bytes",
    "total_processed_records", "total_processed_bytes", "total_completed_records",
    "output_stall_msecs", "total_initiated_steps", "total_completed_steps", NULL
};
static const char *const fh_flags[] = { "pipeline_complete", "bootstrap_in_progress", NULL };

static int fh_in(const char *const *names, const char *k)
{
    int i;

    for (i = 0; names[i]; i++) {
        if (strcmp(names[i], k) == 0) {
            return 1;
        }
    }
    return 0;
}

int lc_feldera_is_metric(const char *k)
{
    return fh_in(fh_numbers, k) || fh_in(fh_flags, k);
}

int lc_feldera_storage_status(const lc_resource_t *r, json_t *data)
{
    json_t *s = json_object_get(data, FH_K_STORAGE);

    if (json_is_integer(s) && json_integer_value(s) >= 0 && json_integer_value(s) < FS_N) {
        return (int)json_integer_value(s);
    }
    /* A record written before the storage status was kept: never started
     * (no checkpoint, no error) is Cleared. */
    return r->state == FD_STOPPED && r->ckpt_seq == 0 && !json_object_get(data, FD_K_ERROR)
           ? FS_CLEARED : FS_INUSE;
}

void lc_feldera_event(json_t *data, const lc_resource_t *r, apr_time_t now)
{
    json_t *ev = json_object_get(data, FH_K_EVENTS), *last, *e;
    size_t n, i;

    if (!json_is_array(ev)) {
        ev = json_array();
        json_object_set_new(data, FH_K_EVENTS, ev);
    }
    e = json_pack("[I, i, i, i, i, b, i]", (json_int_t)apr_time_as_msec(now ? now : apr_time_now()),
                  r->state, r->desired, r->res_state, r->res_desired,
                  json_object_get(data, FD_K_ERROR) != NULL, lc_feldera_storage_status(r, data));
    n = json_array_size(ev);
    last = n ? json_array_get(ev, n - 1) : NULL;
    for (i = 1; last && i < 7 && json_equal(json_array_get(last, i), json_array_get(e, i)); i++) {
    }
    if (last && i == 7) {
        json_decref(e);
        return;
    }
    json_array_append_new(ev, e);
    while (json_array_size(ev) > FH_EVENTS_MAX) {
        json_array_remove(ev, 0);
    }
}

/* One line, cut at FH_LINE_MAX bytes on a UTF-8 boundary, without its end of line. */
static json_t *fh_line(const char *s)
{
    size_t n = strcspn(s, "\r\n");

    if (n > FH_LINE_MAX) {
        n = FH_LINE_MAX;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) {
            n--;
        }
    }
    return json_stringn(s, n);
}

apr_status_t lc_feldera_log_append(json_t *data, json_t *lines)
{
    json_t *log = json_object_get(data, FH_K_LOG), *v;
    size_t i, total = 0;

    if (json_is_string(lines)) {
        lines = json_pack("[O]", lines);
    }
    else if (json_is_array(lines)) {
        json_incref(lines);
    }
    else {
        return APR_EINVAL;
    }
    json_array_foreach(lines, i, v) {
        if (!json_is_string(v)) {
            json_decref(lines);
            return APR_EINVAL;
        }
    }
    if (!json_is_array(log)) {
        log = json_array();
        json_object_set_new(data, FH_K_LOG, log);
    }
    json_array_foreach(lines, i, v) {
        json_array_append_new(log, fh_line(json_string_value(v)));
    }
    json_decref(lines);
    json_array_foreach(log, i, v) {
        total += json_string_length(v) + 1;
    }
    while (total > FH_LOG_BYTES && json_array_size(log) > 0) {
        total -= json_string_length(json_array_get(log, 0)) + 1;
        json_array_remove(log, 0);
    }
    return APR_SUCCESS;
}

apr_status_t lc_feldera_metrics_set(json_t *data, const char *k, json_t *v)
{
    json_t *g = json_object_get(data, FH_K_METRICS);

    if (fh_in(fh_numbers, k) ? !json_is_number(v) || json_number_value(v) < 0
                             : !fh_in(fh_flags, k) || !json_is_boolean(v)) {
        return APR_EINVAL;
    }
    if (!json_is_object(g)) {
        g = json_object();
        json_object_set_new(data, FH_K_METRICS, g);
    }
    json_object_set(g, k, v);
    return APR_SUCCESS;
}

void lc_feldera_checkpoint_taken(json_t *data, uint64_t seq)
{
    json_t *k = json_object_get(data, FH_K_CKPTS);
    unsigned char id[16];
    char hex[33];

    randombytes_buf(id, sizeof(id));
    id[6] = (unsigned char)((id[6] & 0x0f) | 0x40);
    id[8] = (unsigned char)((id[8] & 0x3f) | 0x80);
    sodium_bin2hex(hex, sizeof(hex), id, sizeof(id));
    if (!json_is_array(k)) {
        k = json_array();
        json_object_set_new(data, FH_K_CKPTS, k);
    }
    json_array_append_new(k, json_pack("[s, I]", hex, (json_int_t)seq));
    while (json_array_size(k) > FH_CKPTS_MAX) {
        json_array_remove(k, 0);
    }
}

void lc_feldera_trim(json_t *data)
{
    json_t *log = json_object_get(data, FH_K_LOG), *ev = json_object_get(data, FH_K_EVENTS);
    size_t n;

    /* Halve the log, then the history: what a full record gives up first. */
    if ((n = json_array_size(log)) > 0) {
        while (json_array_size(log) > n / 2) {
            json_array_remove(log, 0);
        }
    }
    else if ((n = json_array_size(ev)) > 1) {
        while (json_array_size(ev) > n / 2) {
            json_array_remove(ev, 0);
        }
    }
    else {
        json_object_del(data, FH_K_LOG);
        json_object_del(data, FH_K_EVENTS);
        json_object_del(data, FH_K_CKPTS);
    }
}

/* ---- the representations -------------------------------------------------------- */

static json_t *fh_uuid(const char *h)
{
    return json_sprintf("%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

static json_t *fh_time(apr_time_t t)
{
    char buf[LC_TIME_TEXT_MAX];

    return json_string(lc_time_rfc3339_auto(buf, t));
}

static const char *fh_name(const char *const *names, unsigned n, json_int_t v)
{
    return v >= 0 && (unsigned)v < n ? names[v] : names[0];
}

/* An event's id: a UUID v7 layout from its time, the rest from its content
 * (stable across calls; two events of one pipeline never share both). */
static json_t *fh_event_id(const lc_resource_t *r, json_t *e)
{
    char *text = json_dumps(e, JSON_COMPACT);
    unsigned char h[16];
    char hex[33];
    uint64_t ms = (uint64_t)json_integer_value(json_array_get(e, 0));
    int i;

    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof(h));
    crypto_generichash_update(&st, (const unsigned char *)r->id, strlen(r->id) + 1);
    crypto_generichash_update(&st, (const unsigned char *)(text ? text : ""),
                              text ? strlen(text) : 0);
    crypto_generichash_final(&st, h, sizeof(h));
    free(text);
    for (i = 0; i < 6; i++) {
        h[i] = (unsigned char)(ms >> (8 * (5 - i)));
    }
    h[6] = (unsigned char)((h[6] & 0x0f) | 0x70);
    h[8] = (unsigned char)((h[8] & 0x3f) | 0x80);
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    return fh_uuid(hex);
}

static json_t *fh_event_json(const lc_resource_t *r, json_t *e, int all)
{
    json_int_t st = json_integer_value(json_array_get(e, 1));
    json_int_t de = json_integer_value(json_array_get(e, 2));
    json_int_t rs = json_integer_value(json_array_get(e, 3));
    json_int_t rd = json_integer_value(json_array_get(e, 4));
    int provisioned = rs == FR_PROVISIONED, wanted = provisioned && rd == FRD_PROVISIONED;
    json_t *o = json_object();

    json_object_set_new(o, "event_id", fh_event_id(r, e));
    json_object_set_new(o, "recorded_at",
        fh_time(apr_time_from_msec(json_integer_value(json_array_get(e, 0)))));
    json_object_set_new(o, "deployment_resources_status",
                        json_string(fh_name(lc_feldera_res, FR_N, rs)));
    if (all) {
        json_object_set_new(o, "deployment_resources_status_details", json_null());
    }
    json_object_set_new(o, "deployment_resources_desired_status",
                        json_string(fh_name(lc_feldera_res_desired, FRD_N, rd)));
    json_object_set_new(o, "deployment_runtime_status", provisioned
        ? json_string(fh_name(lc_feldera_states, FD_NSTATES, st)) : json_null());
    if (all) {
        json_object_set_new(o, "deployment_runtime_status_details", json_null());
    }
    json_object_set_new(o, "deployment_runtime_desired_status",
                        wanted ? json_string(fh_name(lc_feldera_desired, FDD_N, de)) : json_null());
    json_object_set_new(o, "deployment_has_error", json_copy(json_array_get(e, 5)));
    if (all) {
        json_object_set_new(o, "deployment_error", json_null());
    }
    json_object_set_new(o, "program_status", json_string("Success"));
    json_object_set_new(o, "storage_status", json_string(
        fh_name(lc_feldera_storage, FS_N, json_integer_value(json_array_get(e, 6)))));
    if (all) {
        json_object_set_new(o, "storage_status_details", json_null());
    }
    return o;
}

json_t *lc_feldera_events_json(const lc_resource_t *r, int all)
{
    json_t *data = lc_kind_get_data(r), *ev = json_object_get(data, FH_K_EVENTS);
    json_t *list = json_array();
    size_t n = json_array_size(ev);

    while (n-- > 0) {                  /* newest first, as the manager lists them */
        json_array_append_new(list, fh_event_json(r, json_array_get(ev, n), all));
    }
    json_decref(data);
    return list;
}

json_t *lc_feldera_log_lines(const lc_resource_t *r)
{
    json_t *data = lc_kind_get_data(r), *log = json_object_get(data, FH_K_LOG);
    json_t *out = json_is_array(log) ? json_incref(log) : json_array();

    json_decref(data);
    return out;
}

json_t *lc_feldera_stats_json(const lc_resource_t *r, apr_time_t now)
{
    json_t *data = lc_kind_get_data(r), *g = json_object(), *rep, *id;
    json_t *t0 = json_object_get(data, FH_K_STARTED);
    json_int_t start = json_is_integer(t0) ? json_integer_value(t0)
                                           : (json_int_t)apr_time_sec(r->state_since);
    int i;

    id = lc_feldera_deployment_id(data);
    json_object_set_new(g, "state", json_string(fd_name(lc_feldera_states, FD_NSTATES, r->state)));
    json_object_set_new(g, "bootstrap_in_progress", json_boolean(r->state == FD_BOOTSTRAPPING));
    json_object_set_new(g, "transaction_status", json_string("NoTransaction"));
    json_object_set_new(g, "commit_progress", json_null());
    json_object_set_new(g, "transaction_initiators", json_pack("{s:n, s:n, s:{}}",
        "transaction_id", "initiated_by_api", "initiated_by_connectors"));
    for (i = 0; fh_numbers[i]; i++) {
        json_object_set_new(g, fh_numbers[i], json_integer(0));
    }
    json_object_set_new(g, "uptime_msecs", json_integer(
        (json_int_t)apr_time_as_msec(now - apr_time_from_sec(start)) > 0
        ? (json_int_t)apr_time_as_msec(now - apr_time_from_sec(start)) : 0));
    json_object_set_new(g, "start_time", json_integer(start));
    json_object_set_new(g, "initial_start_time", json_integer(start));
    json_object_set_new(g, "incarnation_uuid", json_is_string(id) ? json_incref(id)
                        : json_string("00000000-0000-0000-0000-000000000000"));
    /* Until a runner says so, the inputs have not ended. */
    json_object_set_new(g, "pipeline_complete", json_false());
    if (json_is_object(rep = json_object_get(data, FH_K_METRICS))) {
        json_object_update(g, rep);
    }
    json_decref(id);
    json_decref(data);
    return json_pack("{s:o, s:n, s:[], s:[]}", "global_metrics", g, "suspend_error",
                     "inputs", "outputs");
}

json_t *lc_feldera_checkpoints_json(const lc_resource_t *r)
{
    json_t *data = lc_kind_get_data(r), *k = json_object_get(data, FH_K_CKPTS), *v, *list;
    json_t *g = json_object_get(data, FH_K_METRICS);
    json_t *done = json_object_get(g, "total_processed_records");
    size_t i;

    list = json_array();
    json_array_foreach(k, i, v) {
        const char *h = json_string_value(json_array_get(v, 0));
        if (h && strlen(h) == 32) {
            json_array_append_new(list, json_pack("{s:o, s:n, s:I, s:I, s:O, s:I}",
                "uuid", fh_uuid(h), "identifier",
                "fingerprint", (json_int_t)0, "size", (json_int_t)0,
                "steps", json_array_get(v, 1),
                "processed_records", json_is_integer(done) ? json_integer_value(done)
                                                           : (json_int_t)0));
        }
    }
    json_decref(data);
    return list;
}
