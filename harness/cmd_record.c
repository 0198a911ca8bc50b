/*
 * harness/cmd_record.c - `vdcc record`: replays a script through the
 * recording wrapper (record.h) and writes what the backend did as a trace.
 * Exit statuses: 0 the trace was written and the script passed (or was
 * skipped), 1 it was written but the script failed or could not run to the
 * end (the output then holds the calls up to that point), 2 usage error,
 * unusable backend, unreadable script or unwritable output.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "host/status.h"
#include "record/record.h"
#include "scratch.h"
#include "trace/replay.h"
#include "trace/trace.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: vdcc record [--backend SPEC] [--name NAME] --script TRACE -o OUT\n"
               "\n"
               "Replays TRACE against the backend through a recording wrapper and writes\n"
               "every call the backend received, with the statuses, counts, data, strings\n"
               "and UUIDs it answered, to OUT as a trace (spec/trace-format.md) with seen=\n"
               "on every record.  'vdcc replay OUT' then passes against the same backend,\n"
               "and 'vdcc replay --strict OUT' demands the same behaviour.  Data is kept\n"
               "as generators; what cannot be kept exactly is listed in '#' lines.\n"
               "Exit status: 0 recorded and the script passed, 1 recorded but the script\n"
               "failed (OUT holds the calls up to the failure), 2 usage or I/O error.\n"
               "\n"
               "To record inside VirtualBox, load the plugin VDPluginVdccRecord.so instead,\n"
               "with VDCC_RECORD_PLUGIN=the backend plugin to wrap, VDCC_RECORD_OUT=a\n"
               "directory (one trace per process) or a file name (%%p: the pid; an existing\n"
               "file is never appended to), and VDCC_RECORD_IMAGES=meta|full|none (how much\n"
               "of an image that predates the recording its sidecar keeps; default meta).\n"
               "README.md, \"Recording a VirtualBox session\", walks through it.\n"
               "\n"
               "Options:\n"
               "  --backend SPEC  the backend to record (default: ref)\n"
               "  --name NAME     which backend of a plugin that registers several\n"
               "  --script TRACE  the calls to make\n"
               "  -o, --output OUT  where the recorded trace goes ('-': stdout)\n"
               "  -h, --help      this text\n"
               "\n%s",
            vdc_backend_help);
}

typedef struct record_args {
    const char *spec, *name, *script, *out;
} record_args;

static int record_run(const record_args *a)
{
    int ex = VDCC_EXIT_USAGE;
    char err[1024], dir[4096];
    vdc_trace *t = NULL;
    vdc_backend b;
    vdc_recorder *rec = NULL;
    FILE *out = NULL;
    int rc = vdc_trace_load(a->script, &t, err, sizeof err);
    if (rc < 0) {
        vdc_error("record", "%s", err[0] ? err : vdc_status_name(rc));
        return VDCC_EXIT_USAGE;
    }
    ex = vdc_cmd_open_backend("record", a->spec, a->name, &b);
    if (ex != VDCC_EXIT_OK)
        goto out_free_trace;
    ex = VDCC_EXIT_USAGE;
    bool to_stdout = strcmp(a->out, "-") == 0;
    out = to_stdout ? stdout : fopen(a->out, "w");
    if (out == NULL) {
        vdc_error("record", "cannot write %s: %s", a->out, strerror(errno));
        goto out_unload;
    }
    volatile uint32_t progress = 0;
    char comment[1200];
    snprintf(comment, sizeof comment, "recorded by vdcc record: backend %s (%s), script %s", a->spec,
             b.be->pszBackendName, a->script);
    vdc_recorder_opts ro = {
        .out = out, .name = vdc_trace_name(t), .comment = comment, .caps = vdc_trace_required_caps(t),
        .script = t, .progress = &progress,
    };
    rc = vdc_recorder_start(&ro, &rec);
    const VDCACHEBACKEND *wrapped = NULL;
    if (rc >= 0)
        rc = vdc_recorder_wrap(rec, b.be, &wrapped);
    if (rc < 0) {
        vdc_error("record", "cannot start recording (%s)", vdc_status_name(rc));
        goto out_close;
    }
    rc = vdc_scratch_make(NULL, "vdcc-record", dir, sizeof dir);
    if (rc < 0) {
        vdc_error("record", "cannot make a scratch directory: %s", strerror(errno));
        goto out_close;
    }
    vdc_replay_opts po = { .backend = wrapped, .scratch_dir = dir, .report = stderr, .progress = &progress };
    vdc_replay_result r;
    memset(&r, 0, sizeof r);
    rc = vdc_replay(t, &po, &r);
    vdc_scratch_remove(dir);
    int wrc = vdc_recorder_finish(rec);
    if (wrc < 0) {
        vdc_error("record", "writing %s failed (%s)", a->out, vdc_status_name(wrc));
        goto out_close;
    }
    fprintf(to_stdout ? stderr : stdout, "recorded %u record(s) from %s into %s; script %s%s\n",
            vdc_recorder_records(rec), a->script, a->out, rc < 0 ? "could not run" : vdc_outcome_name(r.outcome),
            vdc_recorder_notes(rec) ? " (some data replaced: see '#' lines)" : "");
    ex = rc >= 0 && (r.outcome == VDC_PASS || r.outcome == VDC_SKIP) ? VDCC_EXIT_OK : VDCC_EXIT_FAIL;
out_close:
    if (out != NULL && !to_stdout && fclose(out) != 0 && ex != VDCC_EXIT_USAGE) {
        vdc_error("record", "writing %s failed: %s", a->out, strerror(errno));
        ex = VDCC_EXIT_USAGE;
    }
    vdc_recorder_free(rec);
out_unload:
    vdc_backend_unload(&b);
out_free_trace:
    vdc_trace_free(t);
    return ex;
}

int vdc_cmd_record(const char *prog, int argc, char **argv)
{
    (void)prog;
    enum { O_BACKEND = 1, O_NAME, O_SCRIPT, O_OUT, O_HELP };
    static const vdc_opt opts[] = {
        { O_BACKEND, "backend", 0, true }, { O_NAME, "name", 0, true }, { O_SCRIPT, "script", 0, true },
        { O_OUT, "output", 'o', true },    { O_HELP, "help", 'h', false }, { 0 },
    };
    record_args a = { .spec = "ref" };
    const char *val;
    vdc_optstate st;
    vdc_opt_init(&st, "record", argc, argv);
    for (int id; (id = vdc_opt_next(&st, opts, &val)) != VDC_OPT_END;) {
        switch (id) {
        case O_BACKEND: a.spec = val; break;
        case O_NAME: a.name = val; break;
        case O_SCRIPT: a.script = val; break;
        case O_OUT: a.out = val; break;
        case O_HELP: usage(stdout); return VDCC_EXIT_OK;
        case VDC_OPT_OPERAND: vdc_usage_error("record", "unexpected argument '%s'", val); return VDCC_EXIT_USAGE;
        default: return VDCC_EXIT_USAGE;
        }
    }
    if (a.script == NULL || a.out == NULL) {
        vdc_usage_error("record", "--script TRACE and -o OUT are required");
        return VDCC_EXIT_USAGE;
    }
    return record_run(&a);
}
