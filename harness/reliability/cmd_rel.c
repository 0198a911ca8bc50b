/*
 * harness/reliability/cmd_rel.c - `vdcc crashtest` and `vdcc faults`, the
 * command-line faces of crash.h and faults.h.
 *
 * Contract: harness/commands.h conventions (exit 0 ok, 1 violations found or
 * the run failed, 2 usage or unusable backend/trace); the checks are
 * crash.h's and faults.h's (spec/contract.md CRASH-1, HOST-1..3).  Both run
 * isolated by default (a crashing or hanging backend costs one case).
 * When the build has ref's deep checker (VDCC_HAVE_VCI_CHECK) it is applied
 * to backends named "vci" (spec/contract.md VCI-1: after recovery, after a
 * fault point's reopen, and after every flush and close of the run without
 * faults), and such backends must open every crash state
 * (spec/vci-format.md section 10).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cli.h"
#include "../commands.h"
#include "../host/status.h"
#include "../trace/trace.h"
#include "crash.h"
#include "faults.h"
#include "reliability.h"

/* ---- shared by both commands -------------------------------------------- */

typedef struct common_args {
    const char   *spec, *name, *trace;
    uint64_t      seed, ops, capacity, vsize, max_write, timeout_ms;
    bool          fixed, no_isolate, no_deep;
} common_args;

static vdc_deep_check_fn deep_for(const common_args *a, const VDCACHEBACKEND *be)
{
    return a->no_deep ? NULL : vdc_rel_deep_check_for(be);
}

/* Builds the workload: from the trace, or generated. */
static int make_workload(const char *cmd, const common_args *a, vdc_workload **w)
{
    char err[1024];
    if (a->trace != NULL) {
        vdc_trace *t = NULL;
        int rc = vdc_trace_load(a->trace, &t, err, sizeof err);
        if (RT_FAILURE(rc)) {
            vdc_error(cmd, "%s", err[0] ? err : vdc_status_name(rc));
            return VDCC_EXIT_USAGE;
        }
        rc = vdc_workload_from_trace(t, w, err, sizeof err);
        vdc_trace_free(t);
        if (RT_FAILURE(rc)) {
            if (rc == VERR_NOT_SUPPORTED)
                vdc_error(cmd, "%s: unsupported by the workload converter: %s", a->trace, err);
            else
                vdc_error(cmd, "%s: %s", a->trace, err[0] ? err : vdc_status_name(rc));
            return VDCC_EXIT_USAGE;
        }
        return VDCC_EXIT_OK;
    }
    vdc_wl_params p = { .capacity = a->capacity, .vsize = a->vsize, .fixed = a->fixed,
                        .max_write = (unsigned)a->max_write };
    int rc = vdc_workload_gen(a->seed, (unsigned)a->ops, &p, w);
    if (RT_FAILURE(rc)) {
        vdc_error(cmd, "cannot generate the workload: %s", vdc_status_name(rc));
        return VDCC_EXIT_USAGE;
    }
    return VDCC_EXIT_OK;
}

static void describe_workload(const common_args *a, const vdc_workload *w)
{
    if (a->trace != NULL)
        printf("workload: trace %s (%zu ops on %s)\n", a->trace, w->n, w->name);
    else
        printf("workload: seed %llu, %llu ops, capacity %llu bytes%s, virtual range %llu bytes\n",
               (unsigned long long)a->seed, (unsigned long long)a->ops, (unsigned long long)w->ops[0].len,
               a->fixed ? " (fixed)" : "", (unsigned long long)w->span);
}

static const char common_help[] =
    "  --backend SPEC  the backend under test (default: ref)\n"
    "  --name NAME     which backend of a plugin that registers several\n"
    "  --seed S        workload seed (default 1)\n"
    "  --ops N         workload operations (default 200, 1..100000)\n"
    "  --capacity B    cache size in bytes, a multiple of 512 (default 128K; at most\n"
    "                  1T, for crashtest 128G: it records every cache file in\n"
    "                  memory, up to 64M each)\n"
    "  --vsize B       virtual-disk bytes the workload touches (default 2 x capacity,\n"
    "                  at most 1G)\n"
    "  --max-write B   largest write of the workload in bytes (default 16K, at most 16M)\n"

    "  --fixed         create a fixed (preallocated) cache\n"
    "  --no-isolate    run in this process (faster; a crash ends the run)\n"
    "  --no-deep-check no deep format check even for VCI backends (vdcc conform's sweeps\n"
    "                  check VCI backends deeply too, and say --no-deep-check in the rerun\n"
    "                  line of any other)\n"
    "  --timeout SEC   an isolated case making no progress this long is a hang (default 20)\n"
    "  -h, --help      this text\n"
    "Sizes take a suffix K, M, G or T (powers of 1024).\n";

enum {
    O_BACKEND = 1, O_NAME, O_SEED, O_OPS, O_CAPACITY, O_VSIZE, O_MAX_WRITE, O_FIXED, O_NO_ISOLATE, O_TIMEOUT,
    O_NO_DEEP, O_HELP,
    /* crashtest */
    O_RANDOM, O_MAX_POINTS, O_MAX_ALLOC_POINTS, O_MAX_STATES, O_MAX_SINGLE, O_MAX_TEARS, O_FIRST, O_LAST, O_STRIDE, O_REQUIRE_OPEN, O_ALLOW_OPEN_FAIL,
    O_SAVE, O_VERBOSE, O_FAULT_AT, O_FAULT_KIND, O_FAULT_MODE,
    /* faults */
    O_KIND, O_MODES
};

/* Handles an option both commands share; returns 1 handled, 0 not, -1 error. */
static int common_opt(const char *cmd, int id, const char *val, common_args *a)
{
    switch (id) {
    case O_BACKEND: a->spec = val; return 1;
    case O_NAME: a->name = val; return 1;
    case O_SEED: return vdc_parse_uint(cmd, "--seed", val, 0, UINT64_MAX, &a->seed) ? 1 : -1;
    case O_OPS: return vdc_parse_uint(cmd, "--ops", val, 1, 100000, &a->ops) ? 1 : -1;
    case O_CAPACITY:
        /* crashtest keeps every file of the cache in memory, each at most
         * VDC_CRASH_MAX_FILE: beyond 128G ref's index alone outgrows it. */
        if (!vdc_parse_size(cmd, "--capacity", val, 512, (uint64_t)1 << (strcmp(cmd, "crashtest") == 0 ? 37 : 40),
                            &a->capacity))
            return -1;
        if (a->capacity % 512 != 0) {
            vdc_usage_error(cmd, "--capacity must be a multiple of 512");
            return -1;
        }
        return 1;
    case O_VSIZE: return vdc_parse_size(cmd, "--vsize", val, 4096, (uint64_t)1 << 30, &a->vsize) ? 1 : -1;
    case O_MAX_WRITE:
        return vdc_parse_size(cmd, "--max-write", val, 512, (uint64_t)16 << 20, &a->max_write) ? 1 : -1;
    case O_FIXED: a->fixed = true; return 1;
    case O_NO_ISOLATE: a->no_isolate = true; return 1;
    case O_NO_DEEP: a->no_deep = true; return 1;
    case O_TIMEOUT: return vdc_parse_seconds(cmd, "--timeout", val, 100, 3600000, &a->timeout_ms) ? 1 : -1;
    case VDC_OPT_OPERAND:
        if (a->trace != NULL) {
            vdc_usage_error(cmd, "only one TRACE may be given");
            return -1;
        }
        a->trace = val;
        return 1;
    default: return 0;
    }
}

#define COMMON_OPTS                                                                                  \
    { O_BACKEND, "backend", 0, true }, { O_NAME, "name", 0, true }, { O_SEED, "seed", 0, true },    \
    { O_OPS, "ops", 0, true }, { O_CAPACITY, "capacity", 0, true }, { O_VSIZE, "vsize", 0, true },   \
    { O_MAX_WRITE, "max-write", 0, true },                                                           \
    { O_FIXED, "fixed", 0, false }, { O_NO_ISOLATE, "no-isolate", 0, false },                        \
    { O_TIMEOUT, "timeout", 0, true }, { O_NO_DEEP, "no-deep-check", 0, false },                     \
    { O_HELP, "help", 'h', false }

static void init_common(common_args *a)
{
    memset(a, 0, sizeof *a);
    a->spec = "ref";
    a->seed = VDC_CT_SEED;
    a->ops = 200;
    a->timeout_ms = 20000;
}

/* Comma-separated fault modes; errors name opt, the option as typed. */
static bool parse_modes(const char *cmd, const char *opt, const char *s, unsigned *out)
{
    unsigned m = 0;
    char buf[128];
    if (strlen(s) >= sizeof buf) {
        vdc_usage_error(cmd, "%s: too long", opt);
        return false;
    }
    strcpy(buf, s);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        unsigned b = 0;
        for (unsigned x = 1; x <= VDC_FMODE_LAST; x <<= 1)
            if (strcmp(tok, vdc_fmode_name(x)) == 0)
                b = x;
        if (b == 0) {
            vdc_usage_error(cmd, "%s: unknown mode '%s'", opt, tok);
            return false;
        }
        m |= b;
    }
    if (m == 0) {
        vdc_usage_error(cmd, "%s: empty", opt);
        return false;
    }
    *out = m;
    return true;
}

static bool parse_kind(const char *cmd, const char *what, const char *val, int *out)
{
    for (int i = 0; i < VDC_FAULT_KINDS_; i++) {
        if (strcmp(val, vdc_fault_kind_name((vdc_fault_kind)i)) == 0) {
            *out = i;
            return true;
        }
    }
    vdc_usage_error(cmd, "%s: unknown kind '%s'", what, val);
    return false;
}

/* ---- crashtest ---------------------------------------------------------- */

static void crash_usage(FILE *f)
{
    fprintf(f, "usage: vdcc crashtest [OPTIONS] [TRACE]\n"
               "\n"
               "Runs a workload (TRACE's create/open/read/write/flush/discard/close\n"
               "records, or a seeded random one) on storage that records every write\n"
               "and flush, then, for every point of it, builds the images a crash could\n"
               "leave (unflushed writes lost, torn at 512-byte sectors, applied in part\n"
               "or reordered) and checks each: opening fails cleanly or succeeds; what\n"
               "opens serves only the last data written for each range, or misses\n"
               "(spec/contract.md CRASH-1, strict form: see harness/reliability/crash.h);\n"
               "recovery leaves an image that closes, passes the deep check (VCI) and\n"
               "reopens.  Right after every successful flush it also compares each\n"
               "crash state's read hits with those of the state with every pending write\n"
               "applied: data lost there is a FLUSH-2 quality warning (a SHOULD clause),\n"
               "never a violation.  Prints the counts; exits 1 on any violation.\n"
               "\n"
               "Options:\n%s"
               "  --random N      random sector subsets per point (default 16, 0..10000)\n"
               "  --max-single N  pending writes dropped/torn one by one per point (default 64)\n"
               "  --max-tears N   sector boundaries torn per write (default 8)\n"
               "  --first K       first crash point (storage event count) checked\n"
               "  --last K        last crash point checked\n"
               "  --stride N      check every Nth point\n"
               "  --max-points N  of the points selected, check at most N, spread evenly\n"
               "                  (deterministic; the last point is always checked)\n"
               "  --max-states-per-point N  at most N distinct states per point (a quarter\n"
               "                  kept for the random ones)\n"
               "  --require-open  every state after create must open (default for VCI)\n"
               "  --allow-open-failure  a clean open failure is fine (default otherwise)\n"
               "  --save FILE     write the first violating crash image to FILE\n"
               "  --fault-at N    also fail the Nth storage operation during the workload\n"
               "  --fault-kind K  which operations --fault-at counts (as for vdcc faults; default any)\n"
               "  --fault-mode M  io, io-stuck, full or full-stuck (as for vdcc faults; default io)\n"
               "  --verbose N     explain up to N violations (default 10)\n"
               "\n%s",
            common_help, vdc_backend_help);
}

int vdc_cmd_crashtest(const char *prog, int argc, char **argv)
{
    static const vdc_opt opts[] = {
        COMMON_OPTS,
        { O_RANDOM, "random", 0, true }, { O_MAX_SINGLE, "max-single", 0, true },
        { O_MAX_TEARS, "max-tears", 0, true }, { O_FIRST, "first", 0, true }, { O_LAST, "last", 0, true },
        { O_STRIDE, "stride", 0, true }, { O_REQUIRE_OPEN, "require-open", 0, false },
        { O_MAX_POINTS, "max-points", 0, true }, { O_MAX_STATES, "max-states-per-point", 0, true },
        { O_ALLOW_OPEN_FAIL, "allow-open-failure", 0, false }, { O_SAVE, "save", 0, true },
        { O_VERBOSE, "verbose", 0, true }, { O_FAULT_AT, "fault-at", 0, true },
        { O_FAULT_KIND, "fault-kind", 0, true }, { O_FAULT_MODE, "fault-mode", 0, true },
        { 0 },
    };
    const char *cmd = "crashtest";
    unsigned fmode = VDC_FMODE_IO;
    int fkind = VDC_FAULT_ANY;
    common_args a;
    vdc_crashtest_opts co;
    uint64_t nrandom = VDC_CT_RANDOM, max_single = VDC_CT_MAX_SINGLE, max_tears = VDC_CT_MAX_TEARS, first = 0,
             last = UINT64_MAX, stride = 1, verbose = 10;
    uint64_t max_points = 0, max_states = 0;
    int require = -1; /* -1: by backend */
    const char *val;
    (void)prog;

    init_common(&a);
    memset(&co, 0, sizeof co);
    vdc_optstate st;
    vdc_opt_init(&st, cmd, argc, argv);
    for (int id; (id = vdc_opt_next(&st, opts, &val)) != VDC_OPT_END;) {
        int h = common_opt(cmd, id, val, &a);
        if (h < 0)
            return VDCC_EXIT_USAGE;
        if (h > 0)
            continue;
        switch (id) {
        case O_HELP: crash_usage(stdout); return VDCC_EXIT_OK;
        case O_RANDOM:
            if (!vdc_parse_uint(cmd, "--random", val, 0, 10000, &nrandom))
                return VDCC_EXIT_USAGE;
            break;
        case O_MAX_SINGLE:
            if (!vdc_parse_uint(cmd, "--max-single", val, 1, 100000, &max_single))
                return VDCC_EXIT_USAGE;
            break;
        case O_MAX_TEARS:
            if (!vdc_parse_uint(cmd, "--max-tears", val, 1, 100000, &max_tears))
                return VDCC_EXIT_USAGE;
            break;
        case O_FIRST:
            if (!vdc_parse_uint(cmd, "--first", val, 0, UINT64_MAX, &first))
                return VDCC_EXIT_USAGE;
            break;
        case O_LAST:
            if (!vdc_parse_uint(cmd, "--last", val, 1, UINT64_MAX, &last))
                return VDCC_EXIT_USAGE;
            break;
        case O_STRIDE:
            if (!vdc_parse_uint(cmd, "--stride", val, 1, UINT64_MAX, &stride))
                return VDCC_EXIT_USAGE;
            break;
        case O_MAX_POINTS:
            if (!vdc_parse_uint(cmd, "--max-points", val, 1, UINT64_MAX, &max_points))
                return VDCC_EXIT_USAGE;
            break;
        case O_MAX_STATES:
            if (!vdc_parse_uint(cmd, "--max-states-per-point", val, 1, 1000000, &max_states))
                return VDCC_EXIT_USAGE;
            break;
        case O_REQUIRE_OPEN: require = 1; break;
        case O_ALLOW_OPEN_FAIL: require = 0; break;
        case O_SAVE: co.save_path = val; break;
        case O_VERBOSE:
            if (!vdc_parse_uint(cmd, "--verbose", val, 0, 1000000, &verbose))
                return VDCC_EXIT_USAGE;
            break;
        case O_FAULT_AT:
            if (!vdc_parse_uint(cmd, "--fault-at", val, 1, UINT64_MAX / 4, &co.fault_nth))
                return VDCC_EXIT_USAGE;
            break;
        case O_FAULT_KIND:
            if (!parse_kind(cmd, "--fault-kind", val, &fkind))
                return VDCC_EXIT_USAGE;
            break;
        case O_FAULT_MODE:
            if (!parse_modes(cmd, "--fault-mode", val, &fmode) || (fmode & (fmode - 1)) != 0 || (fmode & VDC_FMODE_ALLOC) != 0) {
                if (fmode & (fmode - 1))
                    vdc_usage_error(cmd, "--fault-mode takes one mode");
                else if (fmode & VDC_FMODE_ALLOC)
                    vdc_usage_error(cmd, "--fault-mode: '%s' is not a storage fault (io, io-stuck, full, full-stuck)",
                                    val);
                return VDCC_EXIT_USAGE;
            }
            break;
        default: return VDCC_EXIT_USAGE;
        }
    }
    co.fault_kind = fkind;
    vdc_fmode_arm(fmode, &co.fault_status, &co.fault_flags);
    if (first > last) {
        vdc_usage_error(cmd, "--first is after --last");
        return VDCC_EXIT_USAGE;
    }

    vdc_backend b;
    int ex = vdc_cmd_open_backend(cmd, a.spec, a.name, &b);
    if (ex != VDCC_EXIT_OK)
        return ex;
    vdc_workload *w = NULL;
    ex = make_workload(cmd, &a, &w);
    if (ex != VDCC_EXIT_OK)
        goto out_unload;

    co.be = b.be;
    co.w = w;
    co.crash = (vdc_crash_opts){ .seed = a.seed, .random_states = (unsigned)nrandom, .no_random = nrandom == 0,
                                 .max_single = (unsigned)max_single, .max_tears = (unsigned)max_tears,
                                 .first_point = first, .last_point = last, .stride = stride,
                                 .max_points = max_points, .max_states = (unsigned)max_states };
    co.deep_check = deep_for(&a, b.be);
    co.require_open = require < 0 ? vdc_rel_is_vci(b.be) : require == 1;
    co.log = stdout;
    co.max_logged = (unsigned)verbose;

    printf("crashtest: backend %s (%s)%s\n", a.spec, b.be->pszBackendName ? b.be->pszBackendName : "?",
           co.deep_check != NULL ? ", deep check on" : "");
    describe_workload(&a, w);
    if (co.fault_nth != 0)
        printf("fault: %s operation %llu fails (%s)\n", vdc_fault_kind_name((vdc_fault_kind)co.fault_kind),
               (unsigned long long)co.fault_nth, vdc_fmode_name(fmode));
    fflush(stdout);
    vdc_crashtest_result r;
    int rc = a.no_isolate ? vdc_crashtest_run(&co, &r) : vdc_crashtest_run_isolated(&co, (unsigned)a.timeout_ms, &r);
    if (RT_FAILURE(rc)) {
        vdc_error(cmd, "the crash test could not run: %s%s", vdc_status_name(rc) ? vdc_status_name(rc) : "?",
                  rc == VERR_TOO_MUCH_DATA ? " (a cache file outgrew the crash recorder's 64M: try a smaller --capacity)"
                                           : "");
        ex = VDCC_EXIT_FAIL;
        goto out_free;
    }
    printf("workload: %llu backend calls, %llu violation(s)\n", (unsigned long long)r.workload_calls,
           (unsigned long long)r.workload_violations);
    printf("storage events: %llu (write points %llu, flushes %llu)\n", (unsigned long long)r.events,
           (unsigned long long)r.write_points, (unsigned long long)r.flushes);
    printf("crash points: %llu, crash states checked: %llu (%llu duplicates skipped)\n",
           (unsigned long long)r.points, (unsigned long long)r.checked, (unsigned long long)r.duplicates);
    printf("opens: read-only %llu ok / %llu failed, read-write %llu ok / %llu failed; reads: %llu hits, %llu misses\n",
           (unsigned long long)r.open_ok_ro, (unsigned long long)r.open_failed_ro, (unsigned long long)r.open_ok_rw,
           (unsigned long long)r.open_failed_rw, (unsigned long long)r.hits, (unsigned long long)r.misses);
    printf("violations: %llu", (unsigned long long)(r.violations + r.workload_violations));
    if (r.crashed)
        printf(" (%llu crash/hang)", (unsigned long long)r.crashed);
    printf("\n");
    if (r.first[0] != '\0')
        printf("first violation: %s\n", r.first);
    /* FLUSH-2 is a SHOULD: reported, never the exit status. */
    printf("FLUSH-2: %llu flush point(s) checked, %llu lose data in a crash right after the flush "
           "(%llu crash state(s)) - quality warnings\n",
           (unsigned long long)r.flush_points, (unsigned long long)r.flush_lossy,
           (unsigned long long)r.flush_loss_states);
    if (r.flush_first[0] != '\0')
        printf("first warning: %s\n", r.flush_first);
    ex = r.violations + r.workload_violations != 0 ? VDCC_EXIT_FAIL : VDCC_EXIT_OK;
out_free:
    vdc_workload_free(w);
out_unload:
    vdc_backend_unload(&b);
    return ex;
}

/* ---- faults --------------------------------------------------------------- */

static void faults_usage(FILE *f)
{
    fprintf(f, "usage: vdcc faults [OPTIONS] [TRACE]\n"
               "\n"
               "Runs a workload (TRACE, or a seeded random one) once to count its storage\n"
               "operations and the backend's allocations, then once per operation N and\n"
               "fault mode with that operation failing (storage modes), or per allocation\n"
               "N with it failing (nomem modes), and checks: every call has a legal shape,\n"
               "no read returns data that was not the last written (a failed write's data\n"
               "counts as possibly written), no host misuse, leaked storage or leaked\n"
               "allocation, no crash or hang; after the fault is cleared, reopening fails\n"
               "cleanly or serves only such data, closes, and passes the deep check (VCI).\n"
               "Allocations are seen only in backends built into vdcc (ref); a plugin's\n"
               "give no nomem points.  Prints the counts; exits 1 on any violation.\n"
               "\n"
               "Options:\n%s"
               "  --kind K        which operations are numbered: any (default), open, read,\n"
               "                  write, flush, size, name, stat\n"
               "  --modes LIST    comma-separated: io, io-stuck, full, full-stuck (storage),\n"
               "                  nomem, nomem-stuck (allocations) (default all)\n"
               "  --first N       first operation (or allocation) number tried (1-based)\n"
               "  --last N        last operation (or allocation) number tried\n"
               "  --stride N      try every Nth operation (or allocation)\n"
               "  --max-points N  of the operations selected, try at most N, spread evenly\n"
               "                  (deterministic; each in every mode)\n"
               "  --max-alloc-points N  the same for allocations (default: --max-points);\n"
               "                  the first allocation of every call site is tried too\n"
               "  --verbose N     explain up to N violations (default 10)\n"
               "\n%s",
            common_help, vdc_backend_help);
}

int vdc_cmd_faults(const char *prog, int argc, char **argv)
{
    static const vdc_opt opts[] = {
        COMMON_OPTS,
        { O_KIND, "kind", 0, true }, { O_MODES, "modes", 0, true }, { O_FIRST, "first", 0, true },
        { O_LAST, "last", 0, true }, { O_STRIDE, "stride", 0, true }, { O_VERBOSE, "verbose", 0, true },
        { O_MAX_POINTS, "max-points", 0, true }, { O_MAX_ALLOC_POINTS, "max-alloc-points", 0, true },
        { 0 },
    };
    const char *cmd = "faults";
    common_args a;
    vdc_faults_opts fo;
    uint64_t verbose = 10;
    const char *val;
    (void)prog;

    init_common(&a);
    memset(&fo, 0, sizeof fo);
    fo.kind = VDC_FAULT_ANY;
    vdc_optstate st;
    vdc_opt_init(&st, cmd, argc, argv);
    for (int id; (id = vdc_opt_next(&st, opts, &val)) != VDC_OPT_END;) {
        int h = common_opt(cmd, id, val, &a);
        if (h < 0)
            return VDCC_EXIT_USAGE;
        if (h > 0)
            continue;
        switch (id) {
        case O_HELP: faults_usage(stdout); return VDCC_EXIT_OK;
        case O_KIND: {
            int k;
            if (!parse_kind(cmd, "--kind", val, &k))
                return VDCC_EXIT_USAGE;
            fo.kind = (vdc_fault_kind)k;
            break;
        }
        case O_MODES:
            if (!parse_modes(cmd, "--modes", val, &fo.modes))
                return VDCC_EXIT_USAGE;
            break;
        case O_FIRST:
            if (!vdc_parse_uint(cmd, "--first", val, 1, UINT64_MAX, &fo.first))
                return VDCC_EXIT_USAGE;
            break;
        case O_LAST:
            if (!vdc_parse_uint(cmd, "--last", val, 1, UINT64_MAX, &fo.last))
                return VDCC_EXIT_USAGE;
            break;
        case O_STRIDE:
            if (!vdc_parse_uint(cmd, "--stride", val, 1, UINT64_MAX, &fo.stride))
                return VDCC_EXIT_USAGE;
            break;
        case O_MAX_POINTS:
            if (!vdc_parse_uint(cmd, "--max-points", val, 1, UINT64_MAX, &fo.max_points))
                return VDCC_EXIT_USAGE;
            break;
        case O_MAX_ALLOC_POINTS:
            if (!vdc_parse_uint(cmd, "--max-alloc-points", val, 1, UINT64_MAX, &fo.max_alloc_points))
                return VDCC_EXIT_USAGE;
            break;
        case O_VERBOSE:
            if (!vdc_parse_uint(cmd, "--verbose", val, 0, 1000000, &verbose))
                return VDCC_EXIT_USAGE;
            break;
        default: return VDCC_EXIT_USAGE;
        }
    }
    if (fo.first != 0 && fo.last != 0 && fo.first > fo.last) {
        vdc_usage_error(cmd, "--first is after --last");
        return VDCC_EXIT_USAGE;
    }

    vdc_backend b;
    int ex = vdc_cmd_open_backend(cmd, a.spec, a.name, &b);
    if (ex != VDCC_EXIT_OK)
        return ex;
    vdc_workload *w = NULL;
    ex = make_workload(cmd, &a, &w);
    if (ex != VDCC_EXIT_OK)
        goto out_unload;
    fo.be = b.be;
    fo.w = w;
    fo.deep_check = deep_for(&a, b.be);
    fo.log = stdout;
    fo.max_logged = (unsigned)verbose;

    printf("faults: backend %s (%s)%s\n", a.spec, b.be->pszBackendName ? b.be->pszBackendName : "?",
           fo.deep_check != NULL ? ", deep check on" : "");
    describe_workload(&a, w);
    fflush(stdout);
    vdc_faults_result r;
    int rc = a.no_isolate ? vdc_faults_run(&fo, &r) : vdc_faults_run_isolated(&fo, (unsigned)a.timeout_ms, &r);
    if (RT_FAILURE(rc)) {
        vdc_error(cmd, "the fault sweep could not run: %s", vdc_status_name(rc) ? vdc_status_name(rc) : "?");
        ex = VDCC_EXIT_FAIL;
        goto out_free;
    }
    printf("storage operations (%s): %llu; backend allocations: %llu from %llu call site(s)%s; without faults: "
           "%llu violation(s)\n",
           vdc_fault_kind_name(fo.kind), (unsigned long long)r.ops, (unsigned long long)r.allocs,
           (unsigned long long)r.alloc_sites,
           r.allocs == 0 && (fo.modes == 0 || (fo.modes & VDC_FMODE_ALLOC) != 0)
               ? " (not visible: only backends built into vdcc are counted; no nomem points)"
               : "",
           (unsigned long long)r.clean_violations);
    printf("fault points tried: %llu (fired %llu), backend calls failed: %llu\n", (unsigned long long)r.points,
           (unsigned long long)r.fired, (unsigned long long)r.failed_calls);
    printf("reopen after clearing: %llu ok / %llu failed cleanly\n", (unsigned long long)r.reopen_ok,
           (unsigned long long)r.reopen_failed);
    printf("quality warnings: %llu (fault points where a failed set-open-flags left an instance that no longer "
           "serves: INFO-6)\n", (unsigned long long)r.warnings);
    if (r.warning[0] != '\0')
        printf("first warning: %s\n", r.warning);
    printf("violations: %llu", (unsigned long long)(r.violations + r.clean_violations));
    if (r.crashed)
        printf(" (%llu crash/hang)", (unsigned long long)r.crashed);
    printf("\n");
    if (r.first[0] != '\0')
        printf("first violation: %s\n", r.first);
    ex = r.violations + r.clean_violations != 0 ? VDCC_EXIT_FAIL : VDCC_EXIT_OK;
out_free:
    vdc_workload_free(w);
out_unload:
    vdc_backend_unload(&b);
    return ex;
}
