/*
 * harness/conformance/cmd_diff.c - `vdcc diff`: one trace on two backends,
 * the first call where the contract tells their answers apart (diff.h).
 *
 * Contract: commands_conf.h.  Exit statuses: 0 no contract difference
 * (quality differences are listed), 1 a contract difference (or a run that
 * could not be made: out of memory, fork), 2 usage error, unusable backend
 * or trace.
 */
#include <stdio.h>
#include <string.h>

#include "../cli.h"
#include "../commands.h"
#include "../host/status.h"
#include "commands_conf.h"
#include "diff.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vdcc diff --backend A --backend B [--timeout S] TRACE\n"
            "\n"
            "Runs TRACE on backends A and B (each in its own process), records every\n"
            "call's outcome (status, counts, a digest of the bytes delivered) without\n"
            "judging the trace's expectations, and compares them call by call.\n"
            "Reports the first call where the contract tells the two apart (one lies,\n"
            "crashes, hangs, misuses the host, breaks the call protocol, fails a call\n"
            "that must succeed, or answers another code where the contract names one)\n"
            "and, before it, the quality differences (a hit against a miss, different\n"
            "error codes the contract does not name, optional callbacks one side does\n"
            "not support).  Lies are judged against the last data each backend itself\n"
            "accepted.  Exit status: 0 no contract difference, 1 one found, 2 usage.\n"
            "\n"
            "Options:\n"
            "  --backend SPEC  give exactly twice: A, then B\n"
            "  --timeout S     seconds per backend run (default 60)\n"
            "  -h, --help      this text\n"
            "\n%s",
            vdc_backend_help);
}

enum { O_BACKEND = 1, O_TIMEOUT, O_HELP };
static const vdc_opt opts[] = {
    { O_BACKEND, "backend", 0, true },
    { O_TIMEOUT, "timeout", 0, true },
    { O_HELP, "help", 'h', false },
    { 0, NULL, 0, false },
};

static void print_call(const vdc_trace *t, unsigned call)
{
    printf("call %u (line %u): %.300s\n", call, vdc_trace_record_line(t, call - 1), vdc_trace_record_text(t, call - 1));
}

static void print_end(const char *who, const vdc_observe_summary *s, unsigned calls)
{
    if (s->crashed)
        printf("%s crashed at call %u of %u (%s %d)\n", who, s->calls_run + 1, calls,
               s->signal >= 0 ? "signal" : "exit status", s->signal >= 0 ? s->signal : -s->signal);
    else if (s->timed_out)
        printf("%s did not finish: time limit at call %u of %u\n", who, s->calls_run + 1, calls);
}

int vdc_cmd_diff(const char *prog, int argc, char **argv)
{
    (void)prog;
    const char *spec[2] = { NULL, NULL }, *trace_path = NULL;
    unsigned nspec = 0;
    uint64_t timeout_ms = 60000;
    vdc_optstate st;
    vdc_opt_init(&st, "diff", argc, argv);
    const char *val;
    int id;
    while ((id = vdc_opt_next(&st, opts, &val)) != VDC_OPT_END) {
        switch (id) {
        case VDC_OPT_ERROR:
            return VDCC_EXIT_USAGE;
        case VDC_OPT_OPERAND:
            if (trace_path != NULL) {
                vdc_usage_error("diff", "give one trace");
                return VDCC_EXIT_USAGE;
            }
            trace_path = val;
            break;
        case O_HELP:
            usage(stdout);
            return VDCC_EXIT_OK;
        case O_BACKEND:
            if (nspec == 2) {
                vdc_usage_error("diff", "give --backend exactly twice");
                return VDCC_EXIT_USAGE;
            }
            spec[nspec++] = val;
            break;
        case O_TIMEOUT:
            if (!vdc_parse_seconds("diff", "--timeout", val, 1, 86400000, &timeout_ms))
                return VDCC_EXIT_USAGE;
            break;
        default:
            break;
        }
    }
    if (nspec != 2 || trace_path == NULL) {
        vdc_usage_error("diff", "give --backend A --backend B and one trace");
        return VDCC_EXIT_USAGE;
    }

    char err[1024];
    vdc_trace *t = NULL;
    int rc = vdc_trace_load(trace_path, &t, err, sizeof err);
    if (rc < 0) {
        vdc_error("diff", "%s", err[0] ? err : vdc_status_name(rc));
        return VDCC_EXIT_USAGE;
    }
    vdc_backend ba, bb;
    int ex = vdc_cmd_open_backend("diff", spec[0], NULL, &ba);
    if (ex != VDCC_EXIT_OK)
        goto out_free_trace;
    ex = vdc_cmd_open_backend("diff", spec[1], NULL, &bb);
    if (ex != VDCC_EXIT_OK)
        goto out_unload_a;

    vdc_diff_result r;
    rc = vdc_diff_run(t, ba.be, bb.be, timeout_ms, &r);
    if (rc != VINF_SUCCESS) {
        vdc_error("diff", "the runs could not be made: %s", vdc_status_name(rc));
        ex = VDCC_EXIT_FAIL;
        goto out_unload_b;
    }
    printf("vdcc diff: A = %s (%s), B = %s (%s); %s: %u calls\n", spec[0], ba.be->pszBackendName, spec[1],
           bb.be->pszBackendName, trace_path, r.calls);
    print_end("A", &r.sa, r.calls);
    print_end("B", &r.sb, r.calls);
    printf("quality differences%s: %u\n", r.contract_call ? " before it" : "", r.quality);
    for (unsigned i = 0; i < r.quality && i < VDC_DIFF_MAX_QUALITY; i++) {
        printf("  ");
        print_call(t, r.quality_calls[i]);
        printf("    %s\n", r.quality_why[i]);
    }
    if (r.quality > VDC_DIFF_MAX_QUALITY)
        printf("  ... and %u more\n", r.quality - VDC_DIFF_MAX_QUALITY);
    if (r.contract_call == 0) {
        printf("no contract difference in %u of %u calls compared\n", r.compared, r.calls);
        ex = VDCC_EXIT_OK;
    } else {
        unsigned c = r.contract_call;
        const vdc_record *rec = vdc_trace_record(t, c - 1);
        char da[512], db[512];
        vdc_obs_describe(rec, &r.obs_a[c - 1], da, sizeof da);
        vdc_obs_describe(rec, &r.obs_b[c - 1], db, sizeof db);
        printf("first contract difference: ");
        print_call(t, c);
        printf("  A (%s): %s\n", spec[0], da);
        printf("  B (%s): %s\n", spec[1], db);
        printf("  %s\n", r.contract_why);
        ex = VDCC_EXIT_FAIL;
    }
    vdc_diff_free(&r);
out_unload_b:
    vdc_backend_unload(&bb);
out_unload_a:
    vdc_backend_unload(&ba);
out_free_trace:
    vdc_trace_free(t);
    return ex;
}
