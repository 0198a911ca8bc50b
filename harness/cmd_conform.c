/*
 * harness/cmd_conform.c - `vdcc conform`: the isolated conformance run.
 * Collects the traces (collect.h: directories are scanned for *.trace,
 * sorted), loads and lints the backend, runs every trace in its own child
 * (runner.h) and prints TAP 14 (or 13: --tap 13) in trace order,
 * optionally JUnit XML (report.h) and an HTML page with its JSON
 * (--report DIR, report_page.h).  --junit and --report are checked before
 * anything runs; once they are, every later way the run can end (a missing
 * path, no traces, a backend that does not load or that lint refuses)
 * still writes TAP and JUnit saying so, as one failed test point.
 *
 * Beyond the replay (reliability/conform_hooks.h):
 *   - every trace whose replay passed gets, in the same child, a bounded
 *     crash sweep and fault sweep (spec/contract.md CRASH-1; storage
 *     faults give failure statuses, never lies, leaks or misuse); off with
 *     --no-crash / --no-faults.  The trace fails with the clause, the first
 *     violation and the `vdcc crashtest` / `vdcc faults` command that
 *     reproduces it.  The crash sweep also judges FLUSH-2 right after each
 *     flush: data lost there is a quality warning of the trace;
 *   - for a VCI backend (pszBackendName "VCI", any case:
 *     vdc_conform_is_vci), every hostile VCI image (reliability/hostile.h)
 *     is a test point of its own, "hostile/NNN-name", judged up to
 *     HOSTILE_BATCH per child with the verdict it would get in a child of
 *     its own (runner.h: a crash, hang or sanitizer report is pinned on the
 *     image that caused it, the rest of the batch resumes in a fresh
 *     child, a failure after other images is confirmed alone); for other
 *     backends one skipped point says why.  They belong to
 *     the default corpus: they run when no PATH is given (unless
 *     --no-hostile), and --hostile LIST runs the cases listed, with or
 *     without PATHs.  A failure reruns alone with `vdcc conform --hostile N`.
 *
 * --jobs defaults to the number of online CPUs.  --fail-fast stops at the
 * first failure (runner.h fail_fast): the points that did not run are TAP
 * skips "not run", left out of the counts, and the summary says so.
 *
 * Exit statuses: 0 no test point failed, 1 some failed (FAIL, CRASH,
 * TIMEOUT, ERROR) or lint refused the backend, 2 usage error or unusable
 * input: a missing path, no traces, a trace that does not parse (the rest
 * still run), an unloadable backend, an unwritable JUnit file or report
 * directory; 128 + N when signal N
 * (INT, TERM, HUP, PIPE) stopped the run (children killed, directories
 * removed).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "collect.h"
#include "commands.h"
#include "datadir.h"
#include "host/status.h"
#include "reliability/conform_hooks.h"
#include "report.h"
#include "report_page.h"
#include "runner.h"
#include "trace/trace.h"
#include "version.h"

#define DEFAULT_CORPUS     "corpus/conformance"
#define DEFAULT_TIMEOUT_MS 10000u
#define DEFAULT_MEM_MB     2048u
/* Hostile images judged per child (runner.h: each keeps its own verdict;
 * a fork costs ~0.2 s under MSan, a case ~3 ms). */
#define HOSTILE_BATCH      32u

/* The number of online CPUs, in [1, 256]. */
static unsigned default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1u : n > 256 ? 256u : (unsigned)n;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vdcc conform [--backend SPEC] [--name NAME] [--timeout S] [--jobs N]\n"
            "                    [--fail-fast] [--junit FILE] [--report DIR] [--tap 13|14]\n"
            "                    [--mem-limit MB] [--no-crash] [--no-faults] [--no-hostile]\n"
            "                    [--hostile LIST] [PATH...]\n"
            "\n"
            "Runs conformance traces against a cache backend, each in its own process,\n"
            "and reports TAP version 14 on stdout.  PATH is a trace or a directory whose\n"
            "*.trace files are run in name order (default: " DEFAULT_CORPUS " of vdcc's data\n"
            "directory: $VDCC_DATADIR, else <prefix>/share/vdcc, else the source tree).\n"
            "A trace that crashes the backend is CRASH (signal and call reached), one that\n"
            "takes too long is TIMEOUT (its process group is killed), a sanitizer report\n"
            "in its output is a FAIL; traces needing capabilities the backend does not\n"
            "declare are skipped.  Every failure shows the command that reruns it alone.\n"
            "After a trace passes, the same process runs a bounded crash sweep (every\n"
            "sampled crash state opened and read back: CRASH-1) and fault sweep (storage\n"
            "operations failing in turn) of its workload; a violation fails the trace\n"
            "with the clause and the vdcc crashtest/faults command that reproduces it.\n"
            "The crash sweep also visits the point right after each successful flush:\n"
            "data a crash there loses is a FLUSH-2 quality warning.\n"
            "For a VCI backend (its name is VCI, in any case) the default run also judges\n"
            "every hostile VCI image (corpus/hostile; built in memory), one test point\n"
            "each (several per process, each judged as if alone); other backends get\n"
            "one skipped point instead.\n"
            "Quality warnings (SHOULD clauses) are counted, never failures.  The last\n"
            "line is 'N passed, N failed' (', N skipped' when any; ', N not run' after\n"
            "--fail-fast stopped the run; a TAP comment with --tap 13).  The backend is\n"
            "linted first and refused when lint finds errors.\n"
            "A refused or unloadable backend, a missing PATH or no traces still give TAP\n"
            "and JUnit, as one failed test point saying why.\n"
            "Exit status: 0 nothing failed, 1 something failed or lint refused the\n"
            "backend, 2 usage error or unusable input (a missing PATH, a trace that does\n"
            "not parse, a backend that does not load, an unwritable FILE or DIR).\n"
            "\n"
            "Options:\n"
            "  --backend SPEC   the backend under test (default: ref)\n"
            "  --name NAME      which backend of a plugin that registers several\n"
            "  --timeout S      seconds per trace or hostile image, decimals allowed\n"
            "                   (default 10); the sweeps after a trace may run longer\n"
            "                   but are killed when they make no progress for S seconds\n"
            "                   or run for 30 S in all\n"
            "  --jobs N         test points run at once (default: the number of online\n"
            "                   CPUs, here %u; at most 256)\n"
            "  --fail-fast      stop at the first failure: running test points are\n"
            "                   killed, the rest are not started (TAP: skipped, not run)\n"
            "  --junit FILE     also write JUnit XML to FILE (checked before the run;\n"
            "                   quality warnings are in each test case's system-out)\n"
            "  --report DIR     also write DIR/index.html and DIR/report.json: the\n"
            "                   verdict per clause, trace and hostile image, the\n"
            "                   warnings by clause, the backend and vdcc versions\n"
            "  --tap 13|14      the TAP version (default 14); 13 with YAMLish that\n"
            "                   older consumers (Test::Harness 3.44's prove) read\n"
            "  --mem-limit MB   address-space limit per trace (default %u; 0: none)%s\n"
            "  --no-crash       no crash sweep after the traces\n"
            "  --no-faults      no fault sweep after the traces\n"
            "  --no-hostile     no hostile VCI images in the default run\n"
            "  --hostile LIST   run these hostile images (numbers and ranges, e.g.\n"
            "                   112 or 1-20,112; 'all'), also with PATHs or alone\n"
            "  -h, --help       this text\n"
            "\n%s",
            default_jobs(), DEFAULT_MEM_MB,
            vdc_run_sanitized() ? "\n                   (ignored: this vdcc is built with a sanitizer, whose\n"
                                  "                   shadow memory needs more address space than any limit)"
                                : "",
            vdc_backend_help);
}

/* ---- --hostile LIST ------------------------------------------------------ */

#define MAX_HOSTILE_RANGES 64u
#define MAX_HOSTILE_NUMBER 1000000u

typedef struct hsel {
    bool     all;
    unsigned n;
    struct { unsigned lo, hi; } r[MAX_HOSTILE_RANGES];
} hsel;

/* Parses "all" or comma-separated numbers and ranges ("1-20,112"). */
static bool parse_hostile(const char *s, hsel *h)
{
    if (strcmp(s, "all") == 0) {
        h->all = true;
        return true;
    }
    for (const char *p = s;;) {
        unsigned lo = 0, hi;
        const char *q = p;
        while (*q >= '0' && *q <= '9' && lo <= MAX_HOSTILE_NUMBER)
            lo = lo * 10 + (unsigned)(*q++ - '0');
        if (q == p || lo == 0 || lo > MAX_HOSTILE_NUMBER)
            goto out_bad;
        hi = lo;
        if (*q == '-') {
            const char *d = ++q;
            hi = 0;
            while (*q >= '0' && *q <= '9' && hi <= MAX_HOSTILE_NUMBER)
                hi = hi * 10 + (unsigned)(*q++ - '0');
            if (q == d || hi < lo || hi > MAX_HOSTILE_NUMBER)
                goto out_bad;
        }
        if (h->n == MAX_HOSTILE_RANGES) {
            vdc_usage_error("conform", "--hostile: more than %u numbers or ranges", MAX_HOSTILE_RANGES);
            return false;
        }
        h->r[h->n].lo = lo;
        h->r[h->n++].hi = hi;
        if (*q == '\0')
            return true;
        if (*q != ',')
            goto out_bad;
        p = q + 1;
    }
out_bad:
    vdc_usage_error("conform", "--hostile: '%s' is not 'all' or a list of case numbers and ranges (e.g. 1-20,112)", s);
    return false;
}

static bool hsel_want(void *user, unsigned number)
{
    const hsel *h = user;
    if (h->all)
        return true;
    for (unsigned i = 0; i < h->n; i++)
        if (number >= h->r[i].lo && number <= h->r[i].hi)
            return true;
    return false;
}

/* ---- in-order reporting -------------------------------------------------- */

typedef struct run_ctx {
    const char      *prog, *spec, *name;
    unsigned         ntraces;     /* points [0, ntraces) are traces, then hostile images */
    unsigned         npoints;
    const char     **names;       /* per point */
    const vdc_hostile_set *hostile;
    vdc_run_result **results;     /* per point, NULL until done */
    char           **reruns;
    unsigned         printed;
    unsigned         passed, failed, skipped, warnings;
    unsigned         not_run;     /* points --fail-fast left out */
    unsigned         not_run_hostile; /* ... of them hostile images */
    uint64_t         crash_states, fault_points;
    unsigned         swept, unswept; /* traces whose sweeps ran / were left out */
    unsigned         unreadable;  /* traces that did not parse */
    vdc_tap          tap;
} run_ctx;

/* "PROG CMD --backend SPEC [--name NAME] MIDDLE [LAST]", each part quoted
 * (MIDDLE is options vdcc wrote itself, already safe). */
static char *command(const run_ctx *c, const char *cmd, const char *middle, const char *last)
{
    char q[4][1100];
    vdc_shell_quote(c->prog, q[0], sizeof q[0]);
    vdc_shell_quote(c->spec, q[1], sizeof q[1]);
    q[2][0] = q[3][0] = '\0';
    if (c->name != NULL)
        vdc_shell_quote(c->name, q[2], sizeof q[2]);
    if (last != NULL)
        vdc_shell_quote(last, q[3], sizeof q[3]);
    size_t cb = strlen(q[0]) + strlen(cmd) + strlen(q[1]) + strlen(q[2]) + strlen(middle) + strlen(q[3]) + 64;
    char *s = malloc(cb);
    if (s != NULL)
        snprintf(s, cb, "%s %s --backend %s%s%s%s%s%s%s", q[0], cmd, q[1], c->name ? " --name " : "", q[2],
                 middle[0] ? " " : "", middle, last ? " " : "", q[3]);
    return s;
}

/* The command that reruns point i alone: the replay, the sweep that
 * failed (its subcommand and options came from the child), or the hostile
 * image. */
static char *rerun_command(const run_ctx *c, unsigned i, const vdc_run_result *r)
{
    if (i >= c->ntraces) {
        char opt[32];
        snprintf(opt, sizeof opt, "--hostile %u", c->hostile->v[i - c->ntraces].number);
        return command(c, "conform", opt, NULL);
    }
    if (r->rerun[0] != '\0' && r->phase[0] != '\0') {
        char sub[32];
        const char *sp = strchr(r->rerun, ' ');
        size_t n = sp != NULL ? (size_t)(sp - r->rerun) : strlen(r->rerun);
        snprintf(sub, sizeof sub, "%.*s", (int)(n < sizeof sub ? n : sizeof sub - 1), r->rerun);
        return command(c, sub, sp != NULL ? sp + 1 : "", c->names[i]);
    }
    return command(c, "replay", "", c->names[i]);
}

static void count_result(run_ctx *c, unsigned i, const vdc_run_result *r)
{
    switch (r->verdict) {
    case VDC_V_PASS: c->passed++; break;
    case VDC_V_SKIP: c->skipped++; break;
    default: c->failed++; break;
    }
    c->warnings += r->warnings;
    /* The runner parses in the parent: an ERROR before any call is a trace
     * that could not be read or parsed. */
    if (i < c->ntraces && r->verdict == VDC_V_ERROR && r->calls == 0 && r->phase[0] == '\0')
        c->unreadable++;
    if (i < c->ntraces && (r->verdict == VDC_V_PASS || r->phase[0] != '\0')) {
        c->crash_states += r->count[VDC_CC_CRASH_STATES];
        c->fault_points += r->count[VDC_CC_FAULT_POINTS];
        if (r->count[VDC_CC_SKIPPED])
            c->unswept++;
        else if (r->count[VDC_CC_CRASH_STATES] + r->count[VDC_CC_FAULT_POINTS] != 0)
            c->swept++;
    }
}

static void print_ready(run_ctx *c)
{
    while (c->printed < c->npoints && c->results[c->printed] != NULL) {
        unsigned k = c->printed++;
        vdc_report_item it = { c->names[k], c->results[k], c->reruns[k] };
        vdc_tap_item(&c->tap, k + 1, &it);
    }
    fflush(stdout);
}

static void on_done(void *ctx, unsigned i, const vdc_run_result *r)
{
    run_ctx *c = ctx;
    c->results[i] = malloc(sizeof *r);
    if (c->results[i] == NULL) {
        fprintf(stderr, "vdcc conform: out of memory keeping a result\n");
        exit(VDCC_EXIT_USAGE);
    }
    *c->results[i] = *r;
    count_result(c, i, r);
    if (r->verdict != VDC_V_PASS && r->verdict != VDC_V_SKIP)
        c->reruns[i] = rerun_command(c, i, r);
    print_ready(c);
}

/* After --fail-fast stopped the run: every point without a result gets a
 * skip saying it did not run (so the TAP plan holds), outside the counts.
 * False when out of memory. */
static bool mark_not_run(run_ctx *c)
{
    for (unsigned i = 0; i < c->npoints; i++) {
        if (c->results[i] != NULL)
            continue;
        c->results[i] = calloc(1, sizeof *c->results[i]);
        if (c->results[i] == NULL)
            return false;
        c->results[i]->verdict = VDC_V_SKIP;
        c->results[i]->exit_status = -1;
        snprintf(c->results[i]->message, sizeof c->results[i]->message,
                 "not run: --fail-fast stopped the run at the first failure");
        c->not_run++;
        if (i >= c->ntraces)
            c->not_run_hostile++;
    }
    print_ready(c);
    return true;
}

static void print_warnings(const run_ctx *c)
{
    if (c->warnings == 0)
        return;
    printf("# %u quality warnings:", c->warnings);
    unsigned shown = 0;
    for (unsigned i = 0; i < c->npoints; i++) {
        if (c->results[i] == NULL || c->results[i]->warnings == 0)
            continue;
        if (shown++ == 20) {
            printf(" ...");
            break;
        }
        printf(" %s (%u)", c->names[i], c->results[i]->warnings);
    }
    printf("\n");
}

typedef struct conform_args {
    const char *spec, *name, *junit, *report;
    uint64_t    timeout_ms, jobs, mem_mb, tap;
    bool        fail_fast;
    bool        no_crash, no_faults, no_hostile;
    bool        hostile_given;  /* --hostile LIST */
    bool        hostile_on;     /* the hostile images are part of this run */
    hsel        hostile;
} conform_args;

/* Loads the hostile cases the run judges (a VCI backend only). */
static int load_hostile(const conform_args *a, vdc_hostile_set *hs)
{
    int rc = vdc_hostile_set_load(hs, a->hostile_given ? hsel_want : NULL, (void *)&a->hostile);
    if (RT_FAILURE(rc)) {
        vdc_error("conform", "out of memory building the hostile images");
        return VDCC_EXIT_USAGE;
    }
    for (unsigned i = 0; a->hostile_given && !a->hostile.all && i < a->hostile.n; i++) {
        if (a->hostile.r[i].hi > hs->total) {
            vdc_usage_error("conform", "--hostile: there is no case %u (cases are 1..%u)", a->hostile.r[i].hi,
                            hs->total);
            return VDCC_EXIT_USAGE;
        }
    }
    return VDCC_EXIT_OK;
}

static void print_summary(const run_ctx *c, const conform_args *a, bool vci)
{
    if (c->ntraces > 0 && (!a->no_crash || !a->no_faults)) {
        printf("# sweeps: %llu crash state(s) checked, %llu fault point(s) run, over %u trace(s)",
               (unsigned long long)c->crash_states, (unsigned long long)c->fault_points, c->swept);
        if (c->unswept != 0) {
            printf("; %u trace(s) not swept (see their notes):", c->unswept);
            unsigned shown = 0;
            for (unsigned i = 0; i < c->ntraces; i++) {
                if (c->results[i] == NULL || !c->results[i]->count[VDC_CC_SKIPPED])
                    continue;
                if (shown++ == 10) {
                    printf(" ...");
                    break;
                }
                printf(" %s", c->names[i]);
            }
        }
        printf("\n");
    }
    if (a->hostile_on && vci)
        printf("# hostile VCI images: %u judged\n", c->npoints - c->ntraces - c->not_run_hostile);
    if (c->not_run != 0)
        printf("# stopped early (--fail-fast): %u of %u test point(s) not run after the first failure\n",
               c->not_run, c->npoints);
}

/* The reports of the run's items[0..n): JUnit and the --report page.
 * be NULL: the backend never loaded. */
static int write_reports(const conform_args *a, const VDCACHEBACKEND *be, unsigned ntraces,
                         const vdc_report_item *items, unsigned n)
{
    char suite[1200], caps[256] = "", version[16] = "";
    snprintf(suite, sizeof suite, "vdcc conform %s", a->spec);
    if (be != NULL) {
        vdc_caps_text(be->uBackendCaps, "", caps, sizeof caps);
        snprintf(version, sizeof version, "0x%08x", (unsigned)be->u32Version);
    }
    const vdc_report_prop props[] = {
        { "backend", a->spec },
        { "backend.name", be != NULL && be->pszBackendName != NULL ? be->pszBackendName : "" },
        { "backend.capabilities", caps },
        { "backend.interface_version", version },
        { "vdcc.version", vdc_version() },
    };
    int ex = VDCC_EXIT_OK;
    if (a->junit != NULL && vdc_junit_write(a->junit, suite, props, sizeof props / sizeof props[0], items, n) != 0) {
        vdc_error("conform", "--junit %s: cannot write it: %s", a->junit, strerror(errno));
        ex = VDCC_EXIT_USAGE;
    }
    if (a->report != NULL && be != NULL) {
        vdc_page_info pi = { a->spec, be->pszBackendName != NULL ? be->pszBackendName : "", be->uBackendCaps,
                             be->u32Version, ntraces, vdc_version() };
        if (vdc_report_page_write(a->report, &pi, items, n) != 0) {
            vdc_error("conform", "--report %s: cannot write the report: %s", a->report, strerror(errno));
            ex = VDCC_EXIT_USAGE;
        }
    }
    return ex;
}

static int write_run_reports(const run_ctx *c, const conform_args *a, const VDCACHEBACKEND *be)
{
    vdc_report_item *items = calloc(c->npoints ? c->npoints : 1, sizeof *items);
    if (items == NULL) {
        vdc_error("conform", "out of memory");
        return VDCC_EXIT_USAGE;
    }
    for (unsigned i = 0; i < c->npoints; i++)
        items[i] = (vdc_report_item){ c->names[i], c->results[i], c->reruns[i] };
    int ex = write_reports(a, be, c->ntraces, items, c->npoints);
    free(items);
    return ex;
}

/*
 * The run ended before any test point (why: the reason, already printed
 * on stderr): TAP and JUnit still say so, as one failed point named what.
 * Returns ex, or VDCC_EXIT_USAGE when the JUnit file cannot be written.
 */
static int refuse_run(const conform_args *a, const char *what, const char *why, int ex)
{
    vdc_tap tap = { stdout, (unsigned)a->tap };
    vdc_run_result r;
    memset(&r, 0, sizeof r);
    r.verdict = VDC_V_ERROR;
    r.exit_status = -1;
    snprintf(r.message, sizeof r.message, "%s", why);
    vdc_report_item it = { what, &r, NULL };
    vdc_tap_begin(&tap, 1);
    vdc_tap_item(&tap, 1, &it);
    vdc_tap_summary(&tap, 0, 1, 0, 0);
    fflush(stdout);
    if (a->junit != NULL && write_reports(a, NULL, 0, &it, 1) != VDCC_EXIT_OK)
        return VDCC_EXIT_USAGE;
    return ex;
}

static int conform_run(const char *prog, const conform_args *a, vdc_trace_list *traces)
{
    vdc_backend b;
    vdc_hostile_set hs = { 0 };
    vdc_run_result skip_point;
    char why[4096], what[1100];
    int ex = vdc_cmd_open_backend_why("conform", a->spec, a->name, &b, why, sizeof why);
    if (ex != VDCC_EXIT_OK) {
        snprintf(what, sizeof what, "backend %s", a->spec);
        return refuse_run(a, what, why, ex);
    }
    bool vci = vdc_conform_is_vci(b.be);
    bool hostile_skipped = a->hostile_on && !vci;
    run_ctx c = { .prog = prog, .spec = a->spec, .name = a->name, .ntraces = traces->n, .hostile = &hs,
                  .tap = { stdout, (unsigned)a->tap } };
    if (a->hostile_on && vci && (ex = load_hostile(a, &hs)) != VDCC_EXIT_OK)
        goto out_free;
    c.npoints = traces->n + hs.n + (hostile_skipped ? 1 : 0);
    c.results = calloc(c.npoints, sizeof *c.results);
    c.reruns = calloc(c.npoints, sizeof *c.reruns);
    c.names = calloc(c.npoints, sizeof *c.names);
    if (c.results == NULL || c.reruns == NULL || c.names == NULL)
        goto out_nomem;
    for (unsigned i = 0; i < traces->n; i++)
        c.names[i] = traces->v[i];
    for (unsigned k = 0; k < hs.n; k++) {
        size_t cb = strlen(hs.v[k].name) + 16;
        char *name = malloc(cb);
        if (name == NULL)
            goto out_nomem;
        snprintf(name, cb, "hostile/%s", hs.v[k].name);
        c.names[traces->n + k] = name;
    }
    if (hostile_skipped) {
        /* One point says why, so the omission shows in every report. */
        memset(&skip_point, 0, sizeof skip_point);
        skip_point.verdict = VDC_V_SKIP;
        skip_point.exit_status = -1;
        snprintf(skip_point.message, sizeof skip_point.message,
                 "the backend is not VCI (it is named %.200s): the hostile images are VCI v1 files",
                 b.be->pszBackendName != NULL ? b.be->pszBackendName : "(null)");
        c.names[traces->n] = "hostile";
        c.results[traces->n] = &skip_point;
        count_result(&c, traces->n, &skip_point);
    }
    vdc_tap_begin(&c.tap, c.npoints);
    printf("# vdcc conform: backend %s (%s), %u trace(s), timeout %llu.%03llu s, %llu job(s)%s\n", a->spec,
           b.be->pszBackendName, traces->n, (unsigned long long)(a->timeout_ms / 1000),
           (unsigned long long)(a->timeout_ms % 1000), (unsigned long long)a->jobs,
           vdc_run_sanitized() ? ", sanitizer build (no memory limit)" : "");
    printf("# after each passing trace: %s; hostile VCI images: %s\n",
           !a->no_crash && !a->no_faults ? "crash and fault sweeps"
           : !a->no_crash               ? "crash sweep"
           : !a->no_faults              ? "fault sweep"
                                        : "nothing",
           !a->hostile_on ? "not in this run" : vci ? "one test point each" : "skipped (the backend is not VCI)");
    vdc_conform_sweeps sweeps = { .crash = !a->no_crash, .faults = !a->no_faults };
    vdc_run_opts ro = {
        .backend = b.be, .timeout_ms = a->timeout_ms, .mem_limit_mb = a->mem_mb, .jobs = (unsigned)a->jobs,
        .after = sweeps.crash || sweeps.faults ? vdc_conform_after : NULL, .after_user = &sweeps,
        .ntasks = hs.n, .task = vdc_conform_hostile, .task_user = &hs, .task_batch = HOSTILE_BATCH,
        .fail_fast = a->fail_fast,
    };
    print_ready(&c); /* a run of no traces and only the skipped point */
    int rc = vdc_run_traces(&ro, (const char *const *)traces->v, traces->n, on_done, &c);
    if (rc == VERR_INVALID_STATE) {
        int sig = vdc_run_stop_signal();
        vdc_error("conform", "interrupted by SIG%s after %u of %u test points",
                  sigabbrev_np(sig) ? sigabbrev_np(sig) : "?", c.passed + c.failed + c.skipped, c.npoints);
        ex = 128 + sig;
        goto out_free;
    }
    if (rc < 0) {
        vdc_error("conform", "the runner failed (status %d)", rc);
        ex = VDCC_EXIT_USAGE;
        goto out_free;
    }
    if (!mark_not_run(&c))
        goto out_nomem;
    print_warnings(&c);
    print_summary(&c, a, vci);
    ex = c.unreadable ? VDCC_EXIT_USAGE : c.failed ? VDCC_EXIT_FAIL : VDCC_EXIT_OK;
    if (c.unreadable)
        vdc_error("conform", "%u trace(s) could not be read or parsed (their test points say why)", c.unreadable);
    if (write_run_reports(&c, a, b.be) != VDCC_EXIT_OK)
        ex = VDCC_EXIT_USAGE;
    vdc_tap_summary(&c.tap, c.passed, c.failed, c.skipped, c.not_run);
    goto out_free;
out_nomem:
    vdc_error("conform", "out of memory");
    ex = VDCC_EXIT_USAGE;
out_free:
    for (unsigned i = 0; c.results != NULL && i < c.npoints; i++)
        if (c.results[i] != &skip_point)
            free(c.results[i]);
    for (unsigned i = 0; c.reruns != NULL && i < c.npoints; i++)
        free(c.reruns[i]);
    for (unsigned k = 0; c.names != NULL && k < hs.n; k++)
        free((char *)c.names[traces->n + k]);
    free(c.results);
    free(c.reruns);
    free((void *)c.names);
    vdc_hostile_set_free(&hs);
    vdc_backend_unload(&b);
    return ex;
}

int vdc_cmd_conform(const char *prog, int argc, char **argv)
{
    enum {
        O_BACKEND = 1, O_NAME, O_TIMEOUT, O_JOBS, O_FAIL_FAST, O_JUNIT, O_MEM, O_NO_CRASH, O_NO_FAULTS,
        O_NO_HOSTILE, O_HOSTILE, O_REPORT, O_TAP, O_HELP
    };
    static const vdc_opt opts[] = {
        { O_BACKEND, "backend", 0, true },        { O_NAME, "name", 0, true },
        { O_TIMEOUT, "timeout", 0, true },        { O_JOBS, "jobs", 'j', true },
        { O_JUNIT, "junit", 0, true },            { O_MEM, "mem-limit", 0, true },
        { O_NO_CRASH, "no-crash", 0, false },     { O_NO_FAULTS, "no-faults", 0, false },
        { O_NO_HOSTILE, "no-hostile", 0, false }, { O_HOSTILE, "hostile", 0, true },
        { O_REPORT, "report", 0, true },          { O_TAP, "tap", 0, true },
        { O_FAIL_FAST, "fail-fast", 0, false },   { O_HELP, "help", 'h', false },
        { 0 },
    };
    conform_args a = { .spec = "ref", .timeout_ms = DEFAULT_TIMEOUT_MS, .jobs = default_jobs(), .mem_mb = DEFAULT_MEM_MB,
                       .tap = 14 };
    vdc_trace_list traces = { 0 };
    char err[4200];
    unsigned npaths = 0;
    int ex = VDCC_EXIT_USAGE;
    const char *val;
    vdc_optstate st;
    vdc_opt_init(&st, "conform", argc, argv);
    /* First pass: options (operands are collected in the second). */
    for (int id; (id = vdc_opt_next(&st, opts, &val)) != VDC_OPT_END;) {
        switch (id) {
        case O_BACKEND: a.spec = val; break;
        case O_NAME: a.name = val; break;
        case O_TIMEOUT:
            if (!vdc_parse_seconds("conform", "--timeout", val, 1, 86400000u, &a.timeout_ms))
                return VDCC_EXIT_USAGE;
            break;
        case O_JOBS:
            if (!vdc_parse_uint("conform", "--jobs", val, 1, 256, &a.jobs))
                return VDCC_EXIT_USAGE;
            break;
        case O_FAIL_FAST: a.fail_fast = true; break;
        case O_JUNIT: a.junit = val; break;
        case O_REPORT: a.report = val; break;
        case O_TAP:
            if (!vdc_parse_uint("conform", "--tap", val, 13, 14, &a.tap))
                return VDCC_EXIT_USAGE;
            break;
        case O_MEM:
            if (!vdc_parse_uint("conform", "--mem-limit", val, 0, 1u << 24, &a.mem_mb))
                return VDCC_EXIT_USAGE;
            break;
        case O_NO_CRASH: a.no_crash = true; break;
        case O_NO_FAULTS: a.no_faults = true; break;
        case O_NO_HOSTILE: a.no_hostile = true; break;
        case O_HOSTILE:
            if (!parse_hostile(val, &a.hostile))
                return VDCC_EXIT_USAGE;
            a.hostile_given = true;
            break;
        case O_HELP: usage(stdout); return VDCC_EXIT_OK;
        case VDC_OPT_OPERAND: npaths++; break;
        default: return VDCC_EXIT_USAGE;
        }
    }
    if (a.hostile_given && a.no_hostile) {
        vdc_usage_error("conform", "--hostile and --no-hostile contradict each other");
        return VDCC_EXIT_USAGE;
    }
    /* The default corpus is the traces of DEFAULT_CORPUS plus the hostile
     * images; PATHs replace it, --hostile asks for images explicitly. */
    a.hostile_on = a.hostile_given || (npaths == 0 && !a.no_hostile);
    if (!vdc_check_output("conform", "--junit", a.junit, false) || !vdc_check_output("conform", "--report", a.report, true))
        return VDCC_EXIT_USAGE;
    /* From here on every way out reports through TAP and JUnit. */
    vdc_opt_init(&st, "conform", argc, argv);
    for (int id; (id = vdc_opt_next(&st, opts, &val)) != VDC_OPT_END;) {
        if (id == VDC_OPT_OPERAND && !vdc_trace_list_add(&traces, val, err, sizeof err)) {
            vdc_error("conform", "%s", err);
            ex = refuse_run(&a, val, err, VDCC_EXIT_USAGE);
            goto out_free;
        }
    }
    if (npaths == 0 && !a.hostile_given) {
        char corpus[4096];
        if (!vdc_datadir_find("conform", DEFAULT_CORPUS, "the conformance corpus", corpus, sizeof corpus)) {
            snprintf(err, sizeof err, "cannot find the conformance corpus (see vdcc conform --help)");
            ex = refuse_run(&a, DEFAULT_CORPUS, err, VDCC_EXIT_USAGE);
            goto out_free;
        }
        if (!vdc_trace_list_add(&traces, corpus, err, sizeof err)) {
            vdc_error("conform", "%s", err);
            ex = refuse_run(&a, corpus, err, VDCC_EXIT_USAGE);
            goto out_free;
        }
    }
    if (traces.n == 0 && !a.hostile_given) {
        snprintf(err, sizeof err, "no traces found (directories are scanned for *.trace)");
        vdc_error("conform", "%s", err);
        ex = refuse_run(&a, "traces", err, VDCC_EXIT_USAGE);
        goto out_free;
    }
    ex = conform_run(prog, &a, &traces);
out_free:
    vdc_trace_list_free(&traces);
    return ex;
}
