/*
 * harness/cmd_replay.c - `vdcc replay`: runs traces one after the other
 * and prints vdc_replay's divergence report.  Contract: commands.h and
 * replay.h.  TRACE operands may be directories (their *.trace files,
 * sorted: collect.h), as for conform.  Exit statuses: 0 every trace passed
 * (or was skipped), 1 a trace failed, crashed or could not be run, 2 usage
 * error, unusable backend, or a TRACE that is missing, unreadable or does
 * not parse (the others still run).
 *
 * Each replay runs in a child (harness/core/isolate.h) that prints its
 * report straight to our stdout, so a backend that crashes costs that trace
 * a CRASH line (the signal and the record reached, from the progress word
 * in shared memory), never vdcc itself: the rerun commands conform and
 * shrink print are safe to paste.  The child restores the default action
 * of the crash signals, so that under a sanitizer too the signal is what
 * ends it.  --in-process replays in vdcc itself, for a debugger.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "collect.h"
#include "commands.h"
#include "core/isolate.h"
#include "host/status.h"
#include "scratch.h"
#include "trace/replay.h"
#include "trace/trace.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: vdcc replay [--backend SPEC] [--name NAME] [--strict] [--scratch DIR]\n"
               "                   [--context N] [--in-process] TRACE|DIR...\n"
               "\n"
               "Replays each TRACE against the backend in a child process and explains the\n"
               "first divergence of each: the call, expected versus actual, the calls that\n"
               "led to it and the host's log.  A DIR stands for its *.trace files, in name\n"
               "order.  A backend that crashes makes that trace CRASH (the signal and the\n"
               "record reached); vdcc goes on.  The backend is linted first and refused\n"
               "when lint finds errors.  Exits 0 when every trace passed or was skipped, 1\n"
               "when one failed, crashed or could not be run, 2 on usage errors and\n"
               "unusable input (a backend that does not load, a TRACE that is missing or\n"
               "does not parse; the other traces still run).\n"
               "\n"
               "Options:\n"
               "  --backend SPEC  the backend under test (default: ref)\n"
               "  --name NAME     which backend of a plugin that registers several\n"
               "  --strict        also demand the statuses and counts the trace recorded\n"
               "  --scratch DIR   keep image files: each trace gets a new directory\n"
               "                  DIR/NAME.XXXXXX (DIR is created when missing); by default\n"
               "                  a temporary directory is used and removed\n"
               "  --context N     calls shown before a divergence (default 5, 1..1000)\n"
               "  --in-process    replay in vdcc itself, not in a child (for a debugger:\n"
               "                  a crash of the backend then ends vdcc)\n"
               "  -h, --help      this text\n"
               "\n%s",
            vdc_backend_help);
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s != NULL ? s + 1 : p;
}

typedef struct replay_args {
    const char    *spec, *name, *scratch;
    bool           strict, in_process;
    uint64_t       context;
    vdc_trace_list traces;
} replay_args;

/* What the replay's child leaves for the parent (shared memory). */
typedef struct replay_shared {
    volatile uint32_t progress; /* the call being made (1-based) */
    volatile uint32_t done;     /* vdc_replay returned */
    int               rc;
    unsigned          ncalls; /* the trace's records, as the child counted them */
    vdc_replay_result r;
} replay_shared;

typedef struct replay_job {
    const vdc_trace       *t;
    const vdc_replay_opts *ro;
    replay_shared         *sh;
} replay_job;

static int replay_child(void *p)
{
    replay_job *j = p;
    static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL };
    for (size_t i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++)
        signal(crash_signals[i], SIG_DFL);
    vdc_replay_opts ro = *j->ro;
    ro.progress = &j->sh->progress;
    j->sh->rc = vdc_replay(j->t, &ro, &j->sh->r);
    j->sh->ncalls = vdc_trace_ncalls(j->t); /* a streamed trace knows its length once run */
    j->sh->done = 1;
    return 0;
}

/*
 * Prints how the child died during call (1-based) of the trace at path:
 * "HEAD: WHY during call N of M", then the record.  The trace replays
 * streamed in the child, so only the child ever held the record; it is
 * found by reading the trace afresh (a parse of the whole trace, after a
 * crash only).  M is left out when the trace cannot be read to its end.
 */
static void print_death(const char *head, const char *path, const char *why, unsigned call, const char *after)
{
    char err[1024], text[1024] = "";
    vdc_trace *t = NULL;
    const vdc_record *rec;
    unsigned line = 0, n = 0;
    bool counted = false;
    if (vdc_trace_open(path, &t, err, sizeof err) >= 0) {
        int rc;
        while ((rc = vdc_trace_next(t, n, &rec, err, sizeof err)) == VINF_SUCCESS) {
            if (++n == call) {
                line = vdc_trace_record_line(t, n - 1);
                snprintf(text, sizeof text, "%s", vdc_trace_record_text(t, n - 1));
            }
        }
        counted = rc == VINF_EOF;
        vdc_trace_free(t);
    }
    if (counted)
        printf("%s %s: %s during call %u of %u%s\n", head, path, why, call, n, after);
    else
        printf("%s %s: %s during call %u%s\n", head, path, why, call, after);
    if (line != 0)
        printf("  record (line %u): %s\n", line, text);
}

/*
 * Replays t in a child: *rc and *r as vdc_replay's when it returned, and
 * *ncalls the records it ran through.
 * Returns false (after printing the CRASH or FAIL line) when the child
 * died before, or ended badly after (a sanitizer's report at exit).
 */
static bool replay_isolated(const char *path, const vdc_trace *t, const vdc_replay_opts *ro, int *rc,
                            vdc_replay_result *r, unsigned *ncalls)
{
    replay_shared *sh = vdc_iso_shared_new(sizeof *sh);
    if (sh == NULL) {
        *rc = VERR_NO_MEMORY;
        return true;
    }
    replay_job job = { t, ro, sh };
    vdc_iso_result ir;
    vdc_iso_opts io = { .flags = VDC_ISO_EXIT_HOOKS | VDC_ISO_PDEATHSIG };
    int st = vdc_iso_run(replay_child, &job, &io, &ir);
    bool ok = true;
    if (st != VINF_SUCCESS) {
        *rc = st;
        snprintf(r->message, sizeof r->message, "cannot start a child: %s", strerror(errno));
    } else if (!sh->done) {
        unsigned call = sh->progress;
        if (ir.end == VDC_ISO_SIGNAL) {
            const char *abbrev = sigabbrev_np(ir.code);
            char why[32];
            snprintf(why, sizeof why, "SIG%s", abbrev != NULL ? abbrev : "?");
            print_death("CRASH", path, why, call, "");
        } else {
            char why[64];
            snprintf(why, sizeof why, "the process exited with status %d", ir.code);
            print_death("FAIL", path, why, call, " (a sanitizer report or an exit in the backend)");
        }
        printf("  (rerun with --in-process under a debugger for the backtrace)\n");
        ok = false;
    } else {
        *rc = sh->rc;
        *r = sh->r;
        *ncalls = sh->ncalls;
        if (ir.end != VDC_ISO_OK) {
            printf("FAIL %s: the replay returned, then the process %s %d (a sanitizer report at exit?)\n", path,
                   ir.end == VDC_ISO_SIGNAL ? "died of signal" : "exited with status", ir.code);
            ok = false;
        }
    }
    vdc_iso_shared_free(sh, sizeof *sh);
    return ok;
}

/* Prints the verdict of one replay; returns the counter it adds to
 * (0 passed, 1 failed, 2 skipped). */
static int print_outcome(const char *path, unsigned ncalls, int rc, const vdc_replay_result *r)
{
    if (rc < 0) {
        printf("ERROR %s: the replay could not run (%s): %s\n", path, vdc_status_name(rc), r->message);
        return 1;
    }
    printf("%s %s (%u of %u calls", vdc_outcome_name(r->outcome), path, r->calls_run, ncalls);
    if (r->warnings)
        printf(", %u quality warning(s)", r->warnings);
    printf(")\n");
    if (r->outcome == VDC_PASS) {
        if (r->message[0])
            printf("%s\n", r->message);
        return 0;
    }
    if (r->outcome == VDC_SKIP) {
        printf("  skipped: %s\n", r->message);
        return 2;
    }
    return 1;
}

static int replay_all(const replay_args *a)
{
    vdc_backend b;
    int ex = vdc_cmd_open_backend("replay", a->spec, a->name, &b);
    if (ex != VDCC_EXIT_OK)
        return ex;

    unsigned count[3] = { 0, 0, 0 }; /* passed, failed, skipped */
    unsigned unreadable = 0;
    for (unsigned i = 0; i < a->traces.n; i++) {
        const char *path = a->traces.v[i];
        char err[1024], dir[4096];
        vdc_trace *t = NULL;
        int rc = vdc_trace_open(path, &t, err, sizeof err); /* streamed: read as it runs */
        if (rc < 0) {
            printf("ERROR %s: %s\n", path, err[0] ? err : vdc_status_name(rc));
            count[1]++;
            unreadable++;
            continue;
        }
        rc = vdc_scratch_make(a->scratch, a->scratch != NULL ? base_name(path) : "vdcc-replay", dir, sizeof dir);
        if (rc < 0) {
            printf("ERROR %s: cannot make a scratch directory under %s: %s\n", path,
                   a->scratch != NULL ? a->scratch : "$TMPDIR", strerror(errno));
            vdc_trace_free(t);
            count[1]++;
            continue;
        }
        vdc_replay_opts ro = {
            .backend = b.be, .scratch_dir = dir, .strict = a->strict, .report = stdout,
            .context_calls = (unsigned)a->context,
        };
        vdc_replay_result r;
        memset(&r, 0, sizeof r);
        fflush(stdout);
        unsigned ncalls = 0;
        if (a->in_process) {
            rc = vdc_replay(t, &ro, &r);
            count[print_outcome(path, vdc_trace_ncalls(t), rc, &r)]++;
        } else if (replay_isolated(path, t, &ro, &rc, &r, &ncalls)) {
            count[print_outcome(path, ncalls, rc, &r)]++;
        } else {
            count[1]++;
        }
        if (a->scratch != NULL)
            printf("  image files kept in %s\n", dir);
        else
            vdc_scratch_remove(dir);
        vdc_trace_free(t);
    }
    vdc_backend_unload(&b);
    printf("%u passed, %u failed", count[0], count[1]);
    if (count[2])
        printf(", %u skipped", count[2]);
    printf("\n");
    if (unreadable != 0) {
        vdc_error("replay", "%u trace(s) could not be read or parsed", unreadable);
        return VDCC_EXIT_USAGE;
    }
    return count[1] ? VDCC_EXIT_FAIL : VDCC_EXIT_OK;
}

int vdc_cmd_replay(const char *prog, int argc, char **argv)
{
    (void)prog;
    enum { O_BACKEND = 1, O_NAME, O_STRICT, O_SCRATCH, O_CONTEXT, O_IN_PROCESS, O_HELP };
    static const vdc_opt opts[] = {
        { O_BACKEND, "backend", 0, true }, { O_NAME, "name", 0, true },       { O_STRICT, "strict", 0, false },
        { O_SCRATCH, "scratch", 0, true }, { O_CONTEXT, "context", 0, true }, { O_HELP, "help", 'h', false },
        { O_IN_PROCESS, "in-process", 0, false }, { 0 },
    };
    replay_args a = { .spec = "ref" };
    const char *val;
    char err[4200];
    int ex = VDCC_EXIT_USAGE;
    unsigned noperands = 0;
    vdc_optstate st;
    vdc_opt_init(&st, "replay", argc, argv);
    for (int id; (id = vdc_opt_next(&st, opts, &val)) != VDC_OPT_END;) {
        switch (id) {
        case O_BACKEND: a.spec = val; break;
        case O_NAME: a.name = val; break;
        case O_STRICT: a.strict = true; break;
        case O_IN_PROCESS: a.in_process = true; break;
        case O_SCRATCH: a.scratch = val; break;
        case O_CONTEXT:
            if (!vdc_parse_uint("replay", "--context", val, 1, 1000, &a.context))
                goto out_free;
            break;
        case O_HELP: usage(stdout); ex = VDCC_EXIT_OK; goto out_free;
        case VDC_OPT_OPERAND:
            noperands++;
            if (!vdc_trace_list_add(&a.traces, val, err, sizeof err)) {
                vdc_error("replay", "%s", err);
                goto out_free;
            }
            break;
        default: goto out_free;
        }
    }
    if (noperands == 0) {
        vdc_usage_error("replay", "no TRACE given");
        goto out_free;
    }
    if (a.traces.n == 0) {
        vdc_error("replay", "no traces found (directories are scanned for *.trace)");
        goto out_free;
    }
    if (a.scratch != NULL && mkdir(a.scratch, 0777) != 0 && errno != EEXIST) {
        vdc_error("replay", "cannot create --scratch %s: %s", a.scratch, strerror(errno));
        goto out_free;
    }
    ex = replay_all(&a);
out_free:
    vdc_trace_list_free(&a.traces);
    return ex;
}
