/*
 * harness/bench/cmd_bench.c - `vdcc bench`: options, the working directory,
 * and the run of every workload in its own child.  Contract: bench.h (the
 * command) and bench_int.h (the pieces); spec/performance.md section 1.
 * Exit statuses (harness/cli.h): 0 every workload ran, 1 one failed or the
 * backend fails lint, 2 usage error, unusable directory or unloadable
 * backend.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../cli.h"
#include "../commands.h"
#include "../scratch.h"
#include "bench.h"
#include "bench_int.h"

#define CMD "bench"

static void usage(FILE *f)
{
    fprintf(f, "usage: vdcc bench [--backend SPEC] [--name NAME] [--json] [--quick] [--dir DIR]\n"
               "                  [--reps N] [--size MIB] [--extents N] [--calls N] [--only IDS]\n"
               "                  [--config KEY=VALUE]...\n"
               "\n"
               "Measures a cache backend against raw file I/O on this machine: read hits\n"
               "(sequential 64 KiB, random 4 KiB) and cache fills (the same shapes, a flush\n"
               "every 64 MiB) against pread/pwrite of the same ranges, interleaved; random\n"
               "miss lookups in a cache of 1,000,000 extents; the time to open caches of\n"
               "1,000 and 1,000,000 extents; the peak memory of each workload (each runs\n"
               "in its own process); and vdcc's own replay speed.  Prints min, median and\n"
               "max over the repetitions and the targets each figure meets; asserts\n"
               "nothing about speed.  Progress goes to stderr.\n"
               "\n"
               "Options:\n"
               "  --backend SPEC  the backend to measure (default: ref)\n"
               "  --name NAME     which backend of a plugin that registers several\n"
               "  --json          print one JSON object instead of the table\n"
               "  --quick         small sizes (16 MiB, 10,000 extents, 100,000 replay\n"
               "                  calls): the whole run takes seconds\n"
               "  --dir DIR       work in DIR (created when missing) and keep the images\n"
               "                  built there for later runs; by default a new directory\n"
               "                  under $TMPDIR or /tmp, removed at the end\n"
               "  --reps N        repetitions of every workload (default 5, 1..%u)\n"
               "  --size MIB      data read and written per repetition, in MiB or with a\n"
               "                  suffix K/M/G (default 256, quick 16; 1..65536 MiB)\n"
               "  --extents N     extents of the big cache (default 1000000, quick 10000;\n"
               "                  1000..4000000); the small one has 1000\n"
               "  --calls N       getter calls in the replay trace, streamed through the\n"
               "                  parser (default 10000000, quick 100000; 1..4000000000)\n"
               "  --only IDS      run only these workloads (comma-separated): read_seq_64k,\n"
               "                  read_rand_4k, write_seq_64k, write_rand_4k, miss_lookup,\n"
               "                  open_small, open_big, replay\n"
               "  --config K=V    a config value the backend's CONFIG interface serves\n"
               "                  (e.g. NodeCacheSize=16384 for ref); repeatable, at most %u\n"
               "  -h, --help      this text\n"
               "\n"
               "Exit status: 0 every workload ran, 1 a workload failed (the others still\n"
               "run), 2 usage error.\n"
               "\n%s",
            VDC_BENCH_MAX_REPS, VDC_BENCH_MAX_CONFIG, vdc_backend_help);
}

/* The workloads, in the order they run and print.  Targets:
 * spec/performance.md section 2. */
static const vdc_bench_workload workloads[] = {
    { "read_seq_64k", "read hits, sequential 64 KiB", "MiB/s", VDC_T_RATIO_MIN, 0.90, vdc_bench_read_seq },
    { "read_rand_4k", "read hits, random 4 KiB", "MiB/s", VDC_T_RATIO_MIN, 0.75, vdc_bench_read_rand },
    { "write_seq_64k", "writes, sequential 64 KiB", "MiB/s", VDC_T_RATIO_MIN, 0.70, vdc_bench_write_seq },
    { "write_rand_4k", "writes, random 4 KiB", "MiB/s", VDC_T_RATIO_MIN, 0.50, vdc_bench_write_rand },
    { "miss_lookup", "misses, random lookups", "lookups/s", VDC_T_ABS_MIN, 2000000, vdc_bench_miss_lookup },
    { "open_small", "open, small cache", "ms", VDC_T_NONE, 0, vdc_bench_open_small },
    { "open_big", "open, big cache", "ms", VDC_T_ABS_MAX, 10, vdc_bench_open_big },
    { "replay", "replay, calls without data", "calls/s", VDC_T_ABS_MIN, 1000000, vdc_bench_replay },
};
#define NWORK (sizeof workloads / sizeof workloads[0])

enum { P_HITS, P_EXT_SMALL, P_EXT_BIG, NPREP };
static const vdc_bench_workload preps[NPREP] = {
    [P_HITS] = { "prep_hits", "fill of the read-hit image and file", "s", VDC_T_NONE, 0, vdc_bench_prep_hits },
    [P_EXT_SMALL] = { "prep_extents_small", "build of the small extent image", "s", VDC_T_NONE, 0,
                      vdc_bench_prep_extents_small },
    [P_EXT_BIG] = { "prep_extents_big", "build of the big extent image", "s", VDC_T_NONE, 0,
                    vdc_bench_prep_extents_big },
};
static const vdc_bench_workload baseline = { "baseline", "idle child", "-", VDC_T_NONE, 0, vdc_bench_baseline };

/* Which preparation each workload needs (NPREP: none). */
static unsigned needs(const char *id)
{
    if (strncmp(id, "read_", 5) == 0)
        return P_HITS;
    if (strcmp(id, "miss_lookup") == 0 || strcmp(id, "open_big") == 0)
        return P_EXT_BIG;
    if (strcmp(id, "open_small") == 0)
        return P_EXT_SMALL;
    return NPREP;
}

typedef struct child_arg {
    const vdc_bench_cfg      *cfg;
    const vdc_bench_workload *w;
} child_arg;

static int child_main(void *arg, void *out)
{
    const child_arg *a = arg;
    vdc_bench_result *res = out;
    res->as_expected = -1;
    int rc = a->w->run(a->cfg, res);
    res->status = rc;
    if (rc != VINF_SUCCESS && res->error[0] == '\0')
        vdc_bench_status_text(rc, res->error, sizeof res->error);
    return rc;
}

static void run_one(const vdc_bench_cfg *cfg, const vdc_bench_workload *w, vdc_bench_outcome *o)
{
    memset(o, 0, sizeof *o);
    o->w = w;
    child_arg a = { cfg, w };
    vdc_bench_child info;
    int rc = vdc_bench_run_child(child_main, &a, &o->res, sizeof o->res, cfg->timeout_s, &info);
    if (rc != VINF_SUCCESS) {
        snprintf(o->failure, sizeof o->failure, "cannot start a child: %s", strerror(errno));
        memset(&o->res, 0, sizeof o->res);
        return;
    }
    o->peak_rss_kib = info.maxrss_kib;
    o->wall_s = info.wall_s;
    if (!info.completed) {
        char why[128];
        vdc_bench_child_describe(&info, cfg->timeout_s, why, sizeof why);
        snprintf(o->failure, sizeof o->failure, "the workload's process %s", why);
        memset(&o->res, 0, sizeof o->res);
        o->res.as_expected = -1;
        return;
    }
    o->ran = true;
    o->res.error[sizeof o->res.error - 1] = '\0';
    if (o->res.n > VDC_BENCH_MAX_REPS)
        o->res.n = VDC_BENCH_MAX_REPS;
    if (o->res.status != VINF_SUCCESS)
        snprintf(o->failure, sizeof o->failure, "%s", o->res.error);
}

typedef struct bench_args {
    const char *spec, *name, *dir, *only;
    bool        json, quick;
    uint64_t    reps, size_mib, extents, calls;
    bool        size_given, extents_given, calls_given;
    const char *config[VDC_BENCH_MAX_CONFIG];
    unsigned    nconfig;
} bench_args;

/* Is id one of the comma-separated names in list (NULL: all)? */
static bool selected(const char *list, const char *id)
{
    if (list == NULL)
        return true;
    size_t n = strlen(id);
    for (const char *p = list; *p != '\0';) {
        const char *e = strchr(p, ',');
        size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, id, n) == 0)
            return true;
        p += len + (e != NULL);
    }
    return false;
}

/* Every name in list is a workload id; else prints a usage error. */
static bool only_valid(const char *list)
{
    for (const char *p = list;;) {
        const char *e = strchr(p, ',');
        size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
        bool known = false;
        for (size_t i = 0; i < NWORK; i++)
            known |= strlen(workloads[i].id) == len && strncmp(p, workloads[i].id, len) == 0;
        if (!known) {
            vdc_usage_error(CMD, "--only: unknown workload '%.*s'", (int)len, p);
            return false;
        }
        if (e == NULL)
            return true;
        p = e + 1;
    }
}

static int run_all(const bench_args *a)
{
    vdc_backend b;
    int ex = vdc_cmd_open_backend(CMD, a->spec, a->name, &b);
    if (ex != VDCC_EXIT_OK)
        return ex;

    char dir[4096];
    bool own_dir = a->dir == NULL;
    if (own_dir) {
        if (vdc_scratch_make(NULL, "vdcc-bench", dir, sizeof dir) < 0) {
            vdc_error(CMD, "cannot make a directory under %s: %s", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
                      strerror(errno));
            ex = VDCC_EXIT_USAGE;
            goto out_unload;
        }
    } else {
        struct stat st;
        if (strlen(a->dir) >= sizeof dir - 300) { /* room for file names below it */
            vdc_error(CMD, "--dir is too long");
            ex = VDCC_EXIT_USAGE;
            goto out_unload;
        }
        if (mkdir(a->dir, 0777) != 0 && errno != EEXIST) {
            vdc_error(CMD, "cannot create --dir %s: %s", a->dir, strerror(errno));
            ex = VDCC_EXIT_USAGE;
            goto out_unload;
        }
        if (stat(a->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            vdc_error(CMD, "--dir %s is not a directory", a->dir);
            ex = VDCC_EXIT_USAGE;
            goto out_unload;
        }
        snprintf(dir, sizeof dir, "%s", a->dir);
    }

    vdc_bench_cfg cfg = {
        .be = b.be, .spec = a->spec, .dir = dir, .keep_images = !own_dir, .quick = a->quick,
        .reps = (unsigned)a->reps, .flush_every = 64 * VDC_BENCH_MIB, .extents_small = 1000,
        .lookups = a->quick ? 100000 : 1000000, .timeout_s = a->quick ? 600 : 3600,
    };
    cfg.io_bytes = (a->size_given ? a->size_mib : a->quick ? 16 : 256) * VDC_BENCH_MIB;
    cfg.extents_big = (unsigned)(a->extents_given ? a->extents : a->quick ? 10000 : 1000000);
    cfg.replay_calls = (unsigned)(a->calls_given ? a->calls : a->quick ? 100000 : 10000000);
    for (unsigned i = 0; i < a->nconfig; i++)
        cfg.config[cfg.nconfig++] = a->config[i];

    char fs_name[32] = "?";
    const char *fs_kind = "unknown";
    if (!vdc_bench_fs_kind(dir, fs_name, sizeof fs_name, &fs_kind))
        snprintf(fs_name, sizeof fs_name, "? (statfs: %s)", strerror(errno));
    vdc_bench_progress("backend %s, %u reps, in %s on %s (%s)", b.be->pszBackendName ? b.be->pszBackendName : "?",
                       cfg.reps, dir, fs_name, fs_kind);

    vdc_bench_outcome base, prep[NPREP], out[NWORK];
    unsigned nout = 0, nsel = 0;
    for (unsigned i = 0; i < NWORK; i++)
        nsel += selected(a->only, workloads[i].id);
    bool prep_ran[NPREP] = { false };
    run_one(&cfg, &baseline, &base);
    for (unsigned i = 0; i < NPREP; i++) {
        memset(&prep[i], 0, sizeof prep[i]);
        prep[i].w = &preps[i];
        snprintf(prep[i].failure, sizeof prep[i].failure, "not needed");
    }
    bool failed = !base.ran;
    for (unsigned i = 0; i < NWORK; i++) {
        if (!selected(a->only, workloads[i].id))
            continue;
        vdc_bench_outcome *o = &out[nout++];
        unsigned p = needs(workloads[i].id);
        if (p < NPREP && !prep_ran[p]) {
            vdc_bench_progress("%s", preps[p].title);
            run_one(&cfg, &preps[p], &prep[p]);
            prep_ran[p] = true;
            failed |= !prep[p].ran || prep[p].failure[0] != '\0';
        }
        if (p < NPREP && (!prep[p].ran || prep[p].failure[0] != '\0')) {
            memset(o, 0, sizeof *o);
            o->w = &workloads[i];
            o->res.as_expected = -1;
            snprintf(o->failure, sizeof o->failure, "not run: the %s failed", preps[p].title);
            failed = true;
            continue;
        }
        vdc_bench_progress("[%u/%u] %s", nout, nsel, workloads[i].title);
        run_one(&cfg, &workloads[i], o);
        failed |= !o->ran || o->failure[0] != '\0';
    }
    unsigned nprep = 0;
    vdc_bench_outcome shown_prep[NPREP];
    for (unsigned i = 0; i < NPREP; i++)
        if (prep_ran[i])
            shown_prep[nprep++] = prep[i];

    vdc_bench_run run = {
        .cfg = &cfg, .fs_name = fs_name, .fs_kind = fs_kind, .baseline_rss_kib = base.peak_rss_kib,
        .prep = shown_prep, .nprep = nprep, .out = out, .nout = nout,
    };
    if (a->json)
        vdc_bench_print_json(stdout, &run);
    else
        vdc_bench_print_text(stdout, &run);
    fflush(stdout);
    ex = failed ? VDCC_EXIT_FAIL : VDCC_EXIT_OK;
    if (own_dir && vdc_scratch_remove(dir) < 0)
        vdc_error(CMD, "could not remove %s entirely", dir);
out_unload:
    vdc_backend_unload(&b);
    return ex;
}

int vdc_cmd_bench(const char *prog, int argc, char **argv)
{
    (void)prog;
    enum { O_BACKEND = 1, O_NAME, O_JSON, O_QUICK, O_DIR, O_REPS, O_SIZE, O_EXTENTS, O_CALLS, O_ONLY, O_CONFIG, O_HELP };
    static const vdc_opt opts[] = {
        { O_BACKEND, "backend", 0, true }, { O_NAME, "name", 0, true },       { O_JSON, "json", 0, false },
        { O_QUICK, "quick", 0, false },    { O_DIR, "dir", 0, true },         { O_REPS, "reps", 0, true },
        { O_SIZE, "size", 0, true },       { O_EXTENTS, "extents", 0, true }, { O_CALLS, "calls", 0, true },
        { O_ONLY, "only", 0, true },       { O_CONFIG, "config", 0, true },   { O_HELP, "help", 'h', false },
        { 0 },
    };
    bench_args a = { .spec = "ref", .reps = 5 };
    const char *val;
    vdc_optstate st;
    vdc_opt_init(&st, CMD, argc, argv);
    for (int id; (id = vdc_opt_next(&st, opts, &val)) != VDC_OPT_END;) {
        switch (id) {
        case O_BACKEND: a.spec = val; break;
        case O_NAME: a.name = val; break;
        case O_JSON: a.json = true; break;
        case O_QUICK: a.quick = true; break;
        case O_DIR: a.dir = val; break;
        case O_REPS:
            if (!vdc_parse_uint(CMD, "--reps", val, 1, VDC_BENCH_MAX_REPS, &a.reps))
                return VDCC_EXIT_USAGE;
            break;
        case O_SIZE: {
            /* A bare number is MiB (as always); with a suffix, a size. */
            size_t n = strlen(val);
            uint64_t bytes;
            if (n > 0 && val[n - 1] >= '0' && val[n - 1] <= '9') {
                if (!vdc_parse_uint(CMD, "--size", val, 1, 65536, &a.size_mib))
                    return VDCC_EXIT_USAGE;
            } else {
                if (!vdc_parse_size(CMD, "--size", val, (uint64_t)1 << 20, (uint64_t)64 << 30, &bytes))
                    return VDCC_EXIT_USAGE;
                if (bytes % ((uint64_t)1 << 20) != 0) {
                    vdc_usage_error(CMD, "--size: %s is not a whole number of MiB", val);
                    return VDCC_EXIT_USAGE;
                }
                a.size_mib = bytes >> 20;
            }
            a.size_given = true;
            break;
        }
        case O_EXTENTS:
            if (!vdc_parse_uint(CMD, "--extents", val, 1000, 4000000, &a.extents))
                return VDCC_EXIT_USAGE;
            a.extents_given = true;
            break;
        case O_CALLS:
            if (!vdc_parse_uint(CMD, "--calls", val, 1, 4000000000u, &a.calls))
                return VDCC_EXIT_USAGE;
            a.calls_given = true;
            break;
        case O_ONLY:
            if (!only_valid(val))
                return VDCC_EXIT_USAGE;
            a.only = val;
            break;
        case O_CONFIG: {
            /* The trace format limits keys to [A-Za-z][A-Za-z0-9_]* (the
             * replay workload passes them as config records). */
            const char *eq = strchr(val, '=');
            bool ok = eq != NULL && eq != val && eq - val <= 64 &&
                      ((val[0] >= 'A' && val[0] <= 'Z') || (val[0] >= 'a' && val[0] <= 'z')) &&
                      strlen(eq + 1) <= 256;
            for (const char *c = eq + 1; ok && *c != '\0'; c++)
                ok = *c >= 0x20 && *c <= 0x7E && *c != '"' && *c != '\\';
            for (const char *c = val; ok && c < eq; c++)
                ok = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_';
            if (!ok) {
                vdc_usage_error(CMD, "--config '%s' is not KEY=VALUE (KEY: a letter, then letters, digits, _)", val);
                return VDCC_EXIT_USAGE;
            }
            if (a.nconfig == VDC_BENCH_MAX_CONFIG) {
                vdc_usage_error(CMD, "at most %u --config values", VDC_BENCH_MAX_CONFIG);
                return VDCC_EXIT_USAGE;
            }
            a.config[a.nconfig++] = val;
            break;
        }
        case O_HELP: usage(stdout); return VDCC_EXIT_OK;
        case VDC_OPT_OPERAND: vdc_usage_error(CMD, "unexpected argument '%s'", val); return VDCC_EXIT_USAGE;
        default: return VDCC_EXIT_USAGE;
        }
    }
    if (a.dir != NULL && a.dir[0] == '\0') {
        vdc_usage_error(CMD, "--dir must not be empty");
        return VDCC_EXIT_USAGE;
    }
    return run_all(&a);
}
