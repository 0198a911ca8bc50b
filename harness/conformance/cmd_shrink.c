/*
 * harness/conformance/cmd_shrink.c - `vdcc shrink`: reduces a failing trace
 * to a minimal one that fails the same way (shrink.h).
 *
 * Contract: commands_conf.h.  Exit statuses: 0 a reduced trace was written
 * (it fails the same way as the input), 1 shrinking failed (out of memory,
 * fork, writing the output), 2 usage error, unusable backend or trace, or a
 * trace that does not fail on the backend.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cli.h"
#include "../commands.h"
#include "../host/status.h"
#include "commands_conf.h"
#include "gen.h"
#include "shrink.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: vdcc shrink [--backend SPEC] [--name NAME] [--timeout S] [--budget S]\n"
            "                   [--scratch] [-o OUT] [-q] TRACE\n"
            "\n"
            "Reduces TRACE, which must fail on the backend, to a small trace that fails\n"
            "the same way: same outcome (FAIL, CRASH, TIMEOUT, ERROR), same kind of\n"
            "record and the same kind of divergence.  Delta debugging over the records,\n"
            "keeping each handle's create/open and the closes later opens need; every\n"
            "candidate runs in its own process with a time limit.  Writes OUT (default\n"
            "TRACE.min) and prints the command that reruns it.\n"
            "\n"
            "Options:\n"
            "  --backend SPEC  the backend under test (default: ref)\n"
            "  --name NAME     which backend of a plugin that registers several\n"
            "  --timeout S     seconds per candidate run (default 10)\n"
            "  --budget S      stop reducing after S seconds (default: none); the output\n"
            "                  still fails the same way but may not be minimal\n"
            "  --scratch       replay on scratch directories, not in memory\n"
            "  -o, --output OUT  where to write the reduced trace\n"
            "  -q, --quiet     no progress lines\n"
            "  -h, --help      this text\n"
            "\n%s",
            vdc_backend_help);
}

enum { O_BACKEND = 1, O_NAME, O_TIMEOUT, O_BUDGET, O_SCRATCH, O_OUT, O_QUIET, O_HELP };
static const vdc_opt opts[] = {
    { O_BACKEND, "backend", 0, true }, { O_NAME, "name", 0, true },       { O_TIMEOUT, "timeout", 0, true },
    { O_BUDGET, "budget", 0, true },   { O_SCRATCH, "scratch", 0, false }, { O_OUT, "output", 'o', true },
    { O_QUIET, "quiet", 'q', false },  { O_HELP, "help", 'h', false },     { 0, NULL, 0, false },
};

static void progress(void *ctx, unsigned records, unsigned tests)
{
    (void)ctx;
    fprintf(stderr, "vdcc shrink: %u records after %u runs\n", records, tests);
}

int vdc_cmd_shrink(const char *prog, int argc, char **argv)
{
    const char *spec = "ref", *name = NULL, *trace_path = NULL, *out = NULL;
    uint64_t timeout_ms = 10000, budget_ms = 0;
    bool quiet = false, posix = false;
    vdc_optstate st;
    vdc_opt_init(&st, "shrink", argc, argv);
    const char *val;
    int id;
    while ((id = vdc_opt_next(&st, opts, &val)) != VDC_OPT_END) {
        switch (id) {
        case VDC_OPT_ERROR:
            return VDCC_EXIT_USAGE;
        case VDC_OPT_OPERAND:
            if (trace_path != NULL) {
                vdc_usage_error("shrink", "give one trace");
                return VDCC_EXIT_USAGE;
            }
            trace_path = val;
            break;
        case O_HELP:
            usage(stdout);
            return VDCC_EXIT_OK;
        case O_BACKEND:
            spec = val;
            break;
        case O_NAME:
            name = val;
            break;
        case O_TIMEOUT:
            if (!vdc_parse_seconds("shrink", "--timeout", val, 1, 3600000, &timeout_ms))
                return VDCC_EXIT_USAGE;
            break;
        case O_BUDGET:
            if (!vdc_parse_seconds("shrink", "--budget", val, 1, 86400000, &budget_ms))
                return VDCC_EXIT_USAGE;
            break;
        case O_SCRATCH:
            posix = true;
            break;
        case O_OUT:
            out = val;
            break;
        case O_QUIET:
            quiet = true;
            break;
        default:
            break;
        }
    }
    if (trace_path == NULL) {
        vdc_usage_error("shrink", "give the failing trace");
        return VDCC_EXIT_USAGE;
    }
    char out_buf[4200];
    if (out == NULL) {
        int n = snprintf(out_buf, sizeof out_buf, "%s.min", trace_path);
        if (n < 0 || (size_t)n >= sizeof out_buf) {
            vdc_usage_error("shrink", "the trace path is too long");
            return VDCC_EXIT_USAGE;
        }
        out = out_buf;
    }

    char err[1024];
    vdc_trace *t = NULL;
    int rc = vdc_trace_load(trace_path, &t, err, sizeof err);
    if (rc < 0) {
        vdc_error("shrink", "%s", err[0] ? err : vdc_status_name(rc));
        return VDCC_EXIT_USAGE;
    }
    vdc_backend b;
    int ex = vdc_cmd_open_backend("shrink", spec, name, &b);
    if (ex != VDCC_EXIT_OK) {
        vdc_trace_free(t);
        return ex;
    }

    vdc_shrink_opts o = { .backend = b.be, .timeout_ms = timeout_ms, .budget_ms = budget_ms, .posix = posix,
                          .progress = quiet ? NULL : progress };
    vdc_shrink_result r;
    rc = vdc_shrink(t, &o, &r);
    if (rc == VERR_NOT_FOUND) {
        vdc_error("shrink", "%s does not fail on %s: nothing to shrink", trace_path, spec);
        ex = VDCC_EXIT_USAGE;
        goto out_unload;
    }
    if (rc != VINF_SUCCESS) {
        vdc_error("shrink", "shrinking failed: %s", vdc_status_name(rc));
        ex = VDCC_EXIT_FAIL;
        goto out_unload;
    }

    if (!r.checked)
        fprintf(stderr,
                "vdcc shrink: warning: %s contradicts the contract model at call %u (%s); candidates were not\n"
                "  checked for consistency, so the reduced trace may fail on every backend\n",
                trace_path, r.inconsistent_call, r.inconsistent_why);
    char spec_q[2200], out_q[8500], comment[12800];
    vdc_shell_quote(spec, spec_q, sizeof spec_q);
    vdc_shell_quote(out, out_q, sizeof out_q);
    snprintf(comment, sizeof comment,
             "shrunk by vdcc shrink from %.1000s (%u records) to %u records%s\n"
             "fails as: %s\n"
             "rerun: vdcc replay --backend %s %s",
             trace_path, r.orig_records, r.final_records, r.complete ? "" : " (budget reached: not minimal)",
             r.final.sig, spec_q, out_q);
    FILE *f = fopen(out, "w");
    if (f == NULL) {
        vdc_error("shrink", "%s: %s", out, strerror(errno));
        ex = VDCC_EXIT_FAIL;
        goto out_free_min;
    }
    rc = vdc_gen_write(r.min, comment, f);
    if (fclose(f) != 0 && rc == VINF_SUCCESS)
        rc = VERR_WRITE_ERROR;
    if (rc != VINF_SUCCESS) {
        vdc_error("shrink", "writing %s failed: %s", out, vdc_status_name(rc));
        ex = VDCC_EXIT_FAIL;
        goto out_free_min;
    }
    printf("shrunk %s: %u -> %u records in %.2f s (%u runs, %u invalid candidates skipped)%s\n", trace_path,
           r.orig_records, r.final_records, r.seconds, r.tests, r.invalid,
           r.complete ? "" : "; budget reached, not minimal");
    printf("fails as: %s\n", r.final.sig);
    printf("wrote %s\n", out);
    printf("rerun: %s replay --backend %s %s\n", prog, spec_q, out_q);
    printf("   or: %s conform --backend %s %s\n", prog, spec_q, out_q);
    ex = VDCC_EXIT_OK;

out_free_min:
    vdc_trace_free(r.min);
out_unload:
    vdc_backend_unload(&b);
    vdc_trace_free(t);
    return ex;
}
