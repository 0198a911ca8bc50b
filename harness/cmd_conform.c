/*
 * harness/cmd_conform.c - `vdcc conform`: the isolated conformance run.
 * Collects the traces (directories are scanned for *.trace, sorted), loads
 * and lints the backend, runs every trace in its own child (runner.h) and
 * prints TAP 14 in trace order, optionally JUnit XML (report.h).  Exit
 * statuses: 0 no trace failed, 1 some trace failed (FAIL, CRASH, TIMEOUT,
 * ERROR) or lint refused the backend, 2 usage error, no traces, an
 * unloadable backend or an unwritable JUnit file, 128 + N when signal N
 * (INT, TERM, HUP, PIPE) stopped the run (children killed, directories
 * removed).
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "commands.h"
#include "report.h"
#include "runner.h"

#define DEFAULT_CORPUS     "corpus/conformance"
#define DEFAULT_TIMEOUT_MS 10000u
#define DEFAULT_MEM_MB     2048u
#define MAX_TRACES         1000000u

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vdcc conform [--backend SPEC] [--name NAME] [--timeout S] [--jobs N]\n"
            "                    [--junit FILE] [--mem-limit MB] [PATH...]\n"
            "\n"
            "Runs conformance traces against a cache backend, each in its own process,\n"
            "and reports TAP version 14 on stdout.  PATH is a trace or a directory whose\n"
            "*.trace files are run in name order (default: " DEFAULT_CORPUS ").\n"
            "A trace that crashes the backend is CRASH (signal and call reached), one that\n"
            "takes too long is TIMEOUT (its process group is killed), a sanitizer report\n"
            "in its output is a FAIL; traces needing capabilities the backend does not\n"
            "declare are skipped.  Every failure shows the command that reruns it alone.\n"
            "Quality warnings (SHOULD clauses) are counted, never failures.  The last\n"
            "line is 'N passed, N failed' (', N skipped' when any).  The backend is linted\n"
            "first and refused when lint finds errors.\n"
            "Exit status: 0 nothing failed, 1 something failed, 2 usage error.\n"
            "\n"
            "Options:\n"
            "  --backend SPEC   the backend under test (default: ref)\n"
            "  --name NAME      which backend of a plugin that registers several\n"
            "  --timeout S      seconds per trace, decimals allowed (default 10)\n"
            "  --jobs N         traces run at once (default 1, at most 256)\n"
            "  --junit FILE     also write JUnit XML to FILE\n"
            "  --mem-limit MB   address-space limit per trace (default %u; 0: none)%s\n"
            "  -h, --help       this text\n"
            "\n%s",
            DEFAULT_MEM_MB,
            vdc_run_sanitized() ? "\n                   (ignored: this vdcc is built with a sanitizer, whose\n"
                                  "                   shadow memory needs more address space than any limit)"
                                : "",
            vdc_backend_help);
}

/* ---- trace collection ---------------------------------------------------- */

typedef struct list {
    char   **v;
    unsigned n, cap;
} list;

static bool list_add(list *l, const char *s, size_t len)
{
    if (l->n == MAX_TRACES)
        return false;
    if (l->n == l->cap) {
        unsigned cap = l->cap ? l->cap * 2 : 64;
        char **v = realloc(l->v, (size_t)cap * sizeof *v);
        if (v == NULL)
            return false;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n] = strndup(s, len);
    if (l->v[l->n] == NULL)
        return false;
    l->n++;
    return true;
}

static void list_free(list *l)
{
    for (unsigned i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_suffix(const char *s, const char *suf)
{
    size_t ls = strlen(s), lf = strlen(suf);
    return ls > lf && strcmp(s + ls - lf, suf) == 0;
}

/* Adds path, or the sorted *.trace files of a directory. */
static bool collect(list *l, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        vdc_error("conform", "%s: %s", path, strerror(errno));
        return false;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (list_add(l, path, strlen(path)))
            return true;
        vdc_error("conform", "too many traces or out of memory");
        return false;
    }
    DIR *d = opendir(path);
    if (d == NULL) {
        vdc_error("conform", "%s: %s", path, strerror(errno));
        return false;
    }
    unsigned first = l->n;
    bool ok = true;
    size_t plen = strlen(path);
    while (plen > 1 && path[plen - 1] == '/')
        plen--;
    for (struct dirent *e; ok && (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.' || !has_suffix(e->d_name, ".trace"))
            continue;
        char full[4096];
        int n = snprintf(full, sizeof full, "%.*s/%s", (int)plen, path, e->d_name);
        ok = n > 0 && (size_t)n < sizeof full && list_add(l, full, (size_t)n);
        if (!ok)
            vdc_error("conform", "%s: path too long, too many traces or out of memory", path);
    }
    closedir(d);
    if (ok && l->n > first)
        qsort(l->v + first, l->n - first, sizeof *l->v, cmp_str);
    return ok;
}

/* ---- in-order reporting -------------------------------------------------- */

typedef struct run_ctx {
    const char      *prog, *spec, *name;
    list            *traces;
    vdc_run_result **results;  /* per trace, NULL until done */
    char           **reruns;
    unsigned         printed;
    unsigned         passed, failed, skipped, warnings;
} run_ctx;

static char *rerun_command(const run_ctx *c, const char *trace)
{
    char q[4][1100];
    vdc_shell_quote(c->prog, q[0], sizeof q[0]);
    vdc_shell_quote(c->spec, q[1], sizeof q[1]);
    vdc_shell_quote(trace, q[2], sizeof q[2]);
    q[3][0] = '\0';
    if (c->name != NULL)
        vdc_shell_quote(c->name, q[3], sizeof q[3]);
    size_t cb = strlen(q[0]) + strlen(q[1]) + strlen(q[2]) + strlen(q[3]) + 64;
    char *s = malloc(cb);
    if (s != NULL)
        snprintf(s, cb, "%s replay --backend %s%s%s %s", q[0], q[1], c->name ? " --name " : "", q[3], q[2]);
    return s;
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
    switch (r->verdict) {
    case VDC_V_PASS: c->passed++; break;
    case VDC_V_SKIP: c->skipped++; break;
    default: c->failed++; break;
    }
    c->warnings += r->warnings;
    if (r->verdict != VDC_V_PASS && r->verdict != VDC_V_SKIP)
        c->reruns[i] = rerun_command(c, c->traces->v[i]);
    while (c->printed < c->traces->n && c->results[c->printed] != NULL) {
        unsigned k = c->printed++;
        vdc_report_item it = { c->traces->v[k], c->results[k], c->reruns[k] };
        vdc_tap_item(stdout, k + 1, &it);
    }
    fflush(stdout);
}

static void print_warnings(const run_ctx *c)
{
    if (c->warnings == 0)
        return;
    printf("# %u quality warnings:", c->warnings);
    unsigned shown = 0;
    for (unsigned i = 0; i < c->traces->n; i++) {
        if (c->results[i] == NULL || c->results[i]->warnings == 0)
            continue;
        if (shown++ == 20) {
            printf(" ...");
            break;
        }
        printf(" %s (%u)", c->traces->v[i], c->results[i]->warnings);
    }
    printf("\n");
}

typedef struct conform_args {
    const char *spec, *name, *junit;
    uint64_t    timeout_ms, jobs, mem_mb;
} conform_args;

static int conform_run(const char *prog, const conform_args *a, list *traces)
{
    vdc_backend b;
    int ex = vdc_cmd_open_backend("conform", a->spec, a->name, &b);
    if (ex != VDCC_EXIT_OK)
        return ex;
    run_ctx c = { .prog = prog, .spec = a->spec, .name = a->name, .traces = traces };
    c.results = calloc(traces->n, sizeof *c.results);
    c.reruns = calloc(traces->n, sizeof *c.reruns);
    if (c.results == NULL || c.reruns == NULL) {
        vdc_error("conform", "out of memory");
        ex = VDCC_EXIT_USAGE;
        goto out_free;
    }
    vdc_tap_begin(stdout, traces->n);
    printf("# vdcc conform: backend %s (%s), %u trace(s), timeout %llu.%03llu s, %llu job(s)%s\n", a->spec,
           b.be->pszBackendName, traces->n, (unsigned long long)(a->timeout_ms / 1000),
           (unsigned long long)(a->timeout_ms % 1000), (unsigned long long)a->jobs,
           vdc_run_sanitized() ? ", sanitizer build (no memory limit)" : "");
    vdc_run_opts ro = {
        .backend = b.be, .timeout_ms = a->timeout_ms, .mem_limit_mb = a->mem_mb, .jobs = (unsigned)a->jobs,
    };
    int rc = vdc_run_traces(&ro, (const char *const *)traces->v, traces->n, on_done, &c);
    if (rc == VERR_INVALID_STATE) {
        int sig = vdc_run_stop_signal();
        vdc_error("conform", "interrupted by SIG%s after %u of %u traces", sigabbrev_np(sig) ? sigabbrev_np(sig) : "?",
                  c.passed + c.failed + c.skipped, traces->n);
        ex = 128 + sig;
        goto out_free;
    }
    if (rc < 0) {
        vdc_error("conform", "the runner failed (status %d)", rc);
        ex = VDCC_EXIT_USAGE;
        goto out_free;
    }
    print_warnings(&c);
    ex = c.failed ? VDCC_EXIT_FAIL : VDCC_EXIT_OK;
    if (a->junit != NULL) {
        vdc_report_item *items = calloc(traces->n, sizeof *items);
        if (items == NULL) {
            vdc_error("conform", "out of memory");
            ex = VDCC_EXIT_USAGE;
        } else {
            for (unsigned i = 0; i < traces->n; i++)
                items[i] = (vdc_report_item){ traces->v[i], c.results[i], c.reruns[i] };
            char suite[1200];
            snprintf(suite, sizeof suite, "vdcc conform %s", a->spec);
            if (vdc_junit_write(a->junit, suite, items, traces->n) != 0) {
                vdc_error("conform", "cannot write %s: %s", a->junit, strerror(errno));
                ex = VDCC_EXIT_USAGE;
            }
            free(items);
        }
    }
    printf("%u passed, %u failed", c.passed, c.failed);
    if (c.skipped)
        printf(", %u skipped", c.skipped);
    printf("\n");
out_free:
    if (c.results != NULL)
        for (unsigned i = 0; i < traces->n; i++)
            free(c.results[i]);
    if (c.reruns != NULL)
        for (unsigned i = 0; i < traces->n; i++)
            free(c.reruns[i]);
    free(c.results);
    free(c.reruns);
    vdc_backend_unload(&b);
    return ex;
}

int vdc_cmd_conform(const char *prog, int argc, char **argv)
{
    enum { O_BACKEND = 1, O_NAME, O_TIMEOUT, O_JOBS, O_JUNIT, O_MEM, O_HELP };
    static const vdc_opt opts[] = {
        { O_BACKEND, "backend", 0, true }, { O_NAME, "name", 0, true },       { O_TIMEOUT, "timeout", 0, true },
        { O_JOBS, "jobs", 'j', true },     { O_JUNIT, "junit", 0, true },     { O_MEM, "mem-limit", 0, true },
        { O_HELP, "help", 'h', false },    { 0 },
    };
    conform_args a = { .spec = "ref", .timeout_ms = DEFAULT_TIMEOUT_MS, .jobs = 1, .mem_mb = DEFAULT_MEM_MB };
    list traces = { 0 };
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
        case O_JUNIT: a.junit = val; break;
        case O_MEM:
            if (!vdc_parse_uint("conform", "--mem-limit", val, 0, 1u << 24, &a.mem_mb))
                return VDCC_EXIT_USAGE;
            break;
        case O_HELP: usage(stdout); return VDCC_EXIT_OK;
        case VDC_OPT_OPERAND: npaths++; break;
        default: return VDCC_EXIT_USAGE;
        }
    }
    vdc_opt_init(&st, "conform", argc, argv);
    for (int id; (id = vdc_opt_next(&st, opts, &val)) != VDC_OPT_END;)
        if (id == VDC_OPT_OPERAND && !collect(&traces, val))
            goto out_free;
    if (npaths == 0 && !collect(&traces, DEFAULT_CORPUS))
        goto out_free;
    if (traces.n == 0) {
        vdc_error("conform", "no traces found (directories are scanned for *.trace)");
        goto out_free;
    }
    ex = conform_run(prog, &a, &traces);
out_free:
    list_free(&traces);
    return ex;
}
