/*
 * harness/cmd_replay.c - `vdcc replay`: runs traces in this process, one
 * after the other, and prints vdc_replay's divergence report.  Contract:
 * commands.h and replay.h.  Exit statuses: 0 every trace passed (or was
 * skipped), 1 a trace failed or could not be run, 2 usage error or unusable
 * backend.  No fork: a crashing backend takes vdcc down (use conform).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "commands.h"
#include "host/status.h"
#include "scratch.h"
#include "trace/replay.h"
#include "trace/trace.h"
#include "tracelist.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: vdcc replay [--backend SPEC] [--name NAME] [--strict] [--scratch DIR]\n"
               "                   [--context N] TRACE|DIR...\n"
               "\n"
               "Replays each TRACE against the backend in this process (no isolation:\n"
               "use 'vdcc conform' for backends that may crash or hang) and explains the\n"
               "first divergence of each: the call, expected versus actual, the calls that\n"
               "led to it and the host's log.  The backend is linted first and refused\n"
               "when lint finds errors.  A DIR stands for the *.trace files in it, in the\n"
               "order of their names (a directory of recordings replays oldest first).\n"
               "Exits 0 when every trace passed or was skipped,\n"
               "1 when one failed or could not be run, 2 on usage errors.\n"
               "\n"
               "Options:\n"
               "  --backend SPEC  the backend under test (default: ref)\n"
               "  --name NAME     which backend of a plugin that registers several\n"
               "  --strict        also demand the statuses and counts the trace recorded\n"
               "  --scratch DIR   keep image files: each trace gets a new directory\n"
               "                  DIR/NAME.XXXXXX (DIR is created when missing); by default\n"
               "                  a temporary directory is used and removed\n"
               "  --context N     calls shown before a divergence (default 5, 1..1000)\n"
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
    const char  *spec, *name, *scratch;
    bool         strict;
    uint64_t     context;
    const char **traces;
    unsigned     ntraces;
} replay_args;

static int replay_all(const replay_args *a)
{
    vdc_backend b;
    int ex = vdc_cmd_open_backend("replay", a->spec, a->name, &b);
    if (ex != VDCC_EXIT_OK)
        return ex;

    unsigned passed = 0, failed = 0, skipped = 0;
    for (unsigned i = 0; i < a->ntraces; i++) {
        const char *path = a->traces[i];
        char err[1024], dir[4096];
        vdc_trace *t = NULL;
        int rc = vdc_trace_open(path, &t, err, sizeof err); /* streamed: read as it runs */
        if (rc < 0) {
            printf("ERROR %s: %s\n", path, err[0] ? err : vdc_status_name(rc));
            failed++;
            continue;
        }
        rc = vdc_scratch_make(a->scratch, a->scratch != NULL ? base_name(path) : "vdcc-replay", dir, sizeof dir);
        if (rc < 0) {
            printf("ERROR %s: cannot make a scratch directory under %s: %s\n", path,
                   a->scratch != NULL ? a->scratch : "$TMPDIR", strerror(errno));
            vdc_trace_free(t);
            failed++;
            continue;
        }
        vdc_replay_opts ro = {
            .backend = b.be, .scratch_dir = dir, .strict = a->strict, .report = stdout,
            .context_calls = (unsigned)a->context,
        };
        vdc_replay_result r;
        memset(&r, 0, sizeof r);
        fflush(stdout);
        rc = vdc_replay(t, &ro, &r);
        if (rc < 0) {
            printf("ERROR %s: the replay could not run (%s): %s\n", path, vdc_status_name(rc), r.message);
            failed++;
        } else {
            printf("%s %s (%u of %u calls", vdc_outcome_name(r.outcome), path, r.calls_run, vdc_trace_ncalls(t));
            if (r.warnings)
                printf(", %u quality warning(s)", r.warnings);
            printf(")\n");
            if (r.outcome == VDC_PASS) {
                if (r.message[0])
                    printf("%s\n", r.message);
                passed++;
            } else if (r.outcome == VDC_SKIP) {
                printf("  skipped: %s\n", r.message);
                skipped++;
            } else {
                failed++;
            }
        }
        if (a->scratch != NULL)
            printf("  image files kept in %s\n", dir);
        else
            vdc_scratch_remove(dir);
        vdc_trace_free(t);
    }
    vdc_backend_unload(&b);
    printf("%u passed, %u failed", passed, failed);
    if (skipped)
        printf(", %u skipped", skipped);
    printf("\n");
    return failed ? VDCC_EXIT_FAIL : VDCC_EXIT_OK;
}

int vdc_cmd_replay(const char *prog, int argc, char **argv)
{
    (void)prog;
    enum { O_BACKEND = 1, O_NAME, O_STRICT, O_SCRATCH, O_CONTEXT, O_HELP };
    static const vdc_opt opts[] = {
        { O_BACKEND, "backend", 0, true }, { O_NAME, "name", 0, true },       { O_STRICT, "strict", 0, false },
        { O_SCRATCH, "scratch", 0, true }, { O_CONTEXT, "context", 0, true }, { O_HELP, "help", 'h', false },
        { 0 },
    };
    replay_args a = { .spec = "ref" };
    vdc_trace_list paths = { 0 };
    unsigned operands = 0;
    const char *val;
    int ex = VDCC_EXIT_USAGE;
    vdc_optstate st;
    vdc_opt_init(&st, "replay", argc, argv);
    for (int id; (id = vdc_opt_next(&st, opts, &val)) != VDC_OPT_END;) {
        switch (id) {
        case O_BACKEND: a.spec = val; break;
        case O_NAME: a.name = val; break;
        case O_STRICT: a.strict = true; break;
        case O_SCRATCH: a.scratch = val; break;
        case O_CONTEXT:
            if (!vdc_parse_uint("replay", "--context", val, 1, 1000, &a.context))
                goto out_free;
            break;
        case O_HELP: usage(stdout); ex = VDCC_EXIT_OK; goto out_free;
        case VDC_OPT_OPERAND:
            operands++;
            if (!vdc_trace_list_collect(&paths, val, "replay")) /* a directory: its *.trace files, by name */
                goto out_free;
            break;
        default: goto out_free;
        }
    }
    a.traces = (const char **)paths.v;
    a.ntraces = paths.n;
    if (a.ntraces == 0) {
        vdc_usage_error("replay", operands > 0 ? "no *.trace file in the directories given" : "no TRACE given");
        goto out_free;
    }
    if (a.scratch != NULL && mkdir(a.scratch, 0777) != 0 && errno != EEXIST) {
        vdc_error("replay", "cannot create --scratch %s: %s", a.scratch, strerror(errno));
        goto out_free;
    }
    ex = replay_all(&a);
out_free:
    vdc_trace_list_free(&paths);
    return ex;
}
