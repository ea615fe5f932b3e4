/* lifecycle-journal — check and salvage a LifecycleStateDir, server stopped.
 *
 *   lifecycle-journal check DIR [--capacity N] [--attribute-memory MIB]
 *   lifecycle-journal salvage DIR [--capacity N] [--attribute-memory MIB]
 *
 * `check` runs the server's own recovery into a scratch store, changing
 * nothing on disk, and prints what the server would do at start-up.
 * `salvage` is the way out when the server refuses to start because of
 * damage: it keeps every intact change, writes a new snapshot, and moves
 * every old file (damaged ones as *.corrupt) into DIR/salvaged-<time>/.
 * Both take the directory's lock: they refuse while a server uses it.
 *
 * --help (also after a subcommand) prints the usage.  Exit status: 0 ok,
 * 1 refused or failed, 2 usage.  Manual: lifecycle-journal.1. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_global_mutex.h>

#include "lc_store_shm.h"
#include "lc_journal.h"
#include "lc_record.h"
#include "lc_snapshot.h"
#include "lc_journal_recover.h"
#include "lc_version.h"

static const char *prog = "lifecycle-journal";

static void usage(FILE *f)
{
    fprintf(f,
        "%s: check and salvage mod_lifecycle's LifecycleStateDir, server stopped\n"
        "usage:\n"
        "  %s check DIR [--capacity N] [--attribute-memory MIB]\n"
        "      what the server's recovery would do with DIR (changes nothing)\n"
        "  %s salvage DIR [--capacity N] [--attribute-memory MIB]\n"
        "      keep every intact change of DIR in a new snapshot; move every old file\n"
        "      into DIR/salvaged-<time>/ (damaged ones as *.corrupt); nothing is deleted\n"
        "  N: at least the server's LifecycleCapacity (default 100000)\n"
        "  MIB: at least its LifecycleAttributeMemory (default 4096: only what is\n"
        "       used is ever touched)\n"
        "  %s --help\n"
        "      this text (also after a subcommand); the manual: man lifecycle-journal\n"
        "  %s --version\n"
        "      the version (mod_lifecycle's: one VERSION for both)\n"
        "  Run with the server stopped, as root or the server's User.\n"
        "  Exit status: 0 ok, 1 refused or failed, 2 usage.\n", prog, prog, prog, prog, prog);
}

static int is_help(const char *a)
{
    return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "help") == 0;
}

/* Asked for, the usage is an answer (stdout, 0); after a mistake it goes
 * to stderr with 2 (see main). */
static int wants_help(int argc, const char *const *argv)
{
    return (argc >= 2 && is_help(argv[1]))
           || (argc >= 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0));
}

static void to_stderr(void *baton, int warning, const char *msg)
{
    (void)baton;
    fprintf(stderr, "%s: %s%s\n", prog, warning ? "warning: " : "", msg);
}

static int cmd_check(lc_store_t *st, lc_journal_opts_t *o, apr_pool_t *p)
{
    lc_recovery_t rec;
    apr_status_t rv;

    o->dry_run = 1;
    rv = lc_journal_recover(st, o, p, &rec);
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "%s: %s: the server would refuse to start: %s\n", prog, o->dir,
                rec.problem[0] ? rec.problem : "see above");
        return 1;
    }
    printf("%s: ok: snapshot at change %llu, %llu journal records, last change %llu\n",
           o->dir, (unsigned long long)rec.snapshot_seq, (unsigned long long)rec.records,
           (unsigned long long)rec.last_seq);
    return 0;
}

static int cmd_salvage(lc_store_t *st, lc_journal_opts_t *o, apr_pool_t *p)
{
    lc_salvage_t sv;
    apr_status_t rv = lc_journal_salvage(st, o, p, &sv);
    char err[256];

    if (rv != APR_SUCCESS) {
        fprintf(stderr, "%s: salvage of %s failed: %s%s\n", prog, o->dir,
                apr_strerror(rv, err, sizeof(err)),
                rv == APR_ENOSPC ? " (use a larger --capacity or --attribute-memory)" : "");
        return 1;
    }
    printf("%s: salvaged: %llu resources as of change %llu in a new snapshot "
           "(base snapshot %llu, %llu journal records applied)\n", o->dir,
           (unsigned long long)sv.resources, (unsigned long long)sv.last_seq,
           (unsigned long long)sv.base_seq, (unsigned long long)sv.records);
    printf("lost: %llu changes%s%s; %llu unreadable bytes skipped\n",
           (unsigned long long)sv.lost, sv.lost ? ": " : "",
           sv.lost_ranges ? sv.lost_ranges : "", (unsigned long long)sv.damaged_bytes);
    printf("old files, byte for byte (%d damaged, named *.corrupt): %s\n", sv.damaged_files,
           sv.aside);
    return 0;
}

int main(int argc, const char *const *argv)
{
    lc_journal_opts_t o = { NULL, -1, -1, to_stderr, NULL, 0 };
    unsigned long capacity = 100000, heap_mib = 4096;
    lc_store_t *st;
    apr_pool_t *p;
    int i, lock;

    if (wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("%s %s\n", prog, LC_VERSION_STRING);
        return 0;
    }
    if (argc < 3 || (strcmp(argv[1], "check") && strcmp(argv[1], "salvage"))) {
        usage(stderr);
        return 2;
    }
    for (i = 3; i < argc; i++) {
        char *end;
        if (strcmp(argv[i], "--capacity") == 0 && i + 1 < argc) {
            capacity = strtoul(argv[++i], &end, 10);
            if (*end || capacity < LC_CAPACITY_MIN || capacity > LC_CAPACITY_MAX) {
                fprintf(stderr, "%s: --capacity must be %u to %u\n", prog, LC_CAPACITY_MIN,
                        LC_CAPACITY_MAX);
                return 2;
            }
        }
        else if (strcmp(argv[i], "--attribute-memory") == 0 && i + 1 < argc) {
            heap_mib = strtoul(argv[++i], &end, 10);
            if (*end || ((apr_size_t)heap_mib << 20) < LC_HEAP_MIN
                || ((apr_size_t)heap_mib << 20) > LC_HEAP_MAX) {
                fprintf(stderr, "%s: --attribute-memory must be 1 to %lu (MiB)\n", prog,
                        (unsigned long)(LC_HEAP_MAX >> 20));
                return 2;
            }
        }
        else {
            usage(stderr);
            return 2;
        }
    }
    if (apr_app_initialize(&argc, &argv, NULL) != APR_SUCCESS || sodium_init() < 0) {
        fprintf(stderr, "%s: cannot initialise APR or libsodium\n", prog);
        return 1;
    }
    apr_pool_create(&p, NULL);
    o.dir = argv[2];
    if ((lock = lc_journal_lock(o.dir)) < 0) {
        fprintf(stderr, "%s: cannot lock %s/lock: %s\n", prog, o.dir,
                errno == EWOULDBLOCK ? "a server (or another lifecycle-journal) is using it; "
                                       "stop the server first" : strerror(errno));
        return 1;
    }
    /* A scratch store in this process, made as httpd makes the real one. */
    if (!(st = lc_store_shm_local(p, (uint32_t)capacity, (apr_size_t)heap_mib << 20,
                                  APR_LOCK_DEFAULT, NULL))) {
        fprintf(stderr, "%s: cannot make a store of %lu slots and %lu MiB\n", prog, capacity,
                heap_mib);
        return 1;
    }
    return strcmp(argv[1], "check") == 0 ? cmd_check(st, &o, p) : cmd_salvage(st, &o, p);
}
