/*
 * harness/cmd_lint.c - `vdcc lint`, and the load-then-lint gate every
 * command that calls a backend goes through.  Contract: commands.h; the
 * rules: lint.h.  Exit statuses: 0 no errors (warnings allowed), 1 lint
 * errors, 2 usage error or a backend that cannot be loaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "lint.h"

const char vdc_backend_help[] =
    "Backend SPEC:\n"
    "  NAME            a built-in backend: ref (the reference VCI backend, when\n"
    "                  this vdcc has it) or toy (a small non-VCI cache)\n"
    "  PATH.so         a VirtualBox plugin exporting VDPluginLoad; when it\n"
    "                  registers several cache backends, pick one with --name\n"
    "  PATH.so:SYMBOL  the VDCACHEBACKEND named SYMBOL in that shared object\n"
    "A .so is first loaded in a child process, so a plugin that crashes or\n"
    "hangs while loading is refused instead of taking vdcc down; the child\n"
    "gets VDCC_LOAD_TIMEOUT seconds (1-3600, default 10).\n";

int vdc_cmd_open_backend_why(const char *cmd, const char *spec, const char *name, vdc_backend *out, char *why,
                             size_t cb_why)
{
    char err[2048];
    if (vdc_backend_load(spec, name, out, err, sizeof err) < 0) {
        vdc_error(cmd, "%s", err);
        snprintf(why, cb_why, "%s", err);
        return VDCC_EXIT_USAGE;
    }
    vdc_lint_report rep;
    vdc_lint(out->be, NULL, &rep);
    if (rep.errors == 0)
        return VDCC_EXIT_OK;
    vdc_error(cmd, "backend %s fails lint with %u error(s); refusing to run it:", spec, rep.errors);
    vdc_lint(out->be, stderr, &rep);
    /* The same findings again, for the reports. */
    int n = snprintf(why, cb_why, "backend %s fails lint with %u error(s); refusing to run it:\n", spec, rep.errors);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f != NULL) {
        vdc_lint(out->be, f, &rep);
        if (fclose(f) == 0 && n > 0 && (size_t)n < cb_why)
            snprintf(why + n, cb_why - (size_t)n, "%s", text);
        free(text);
    }
    vdc_backend_unload(out);
    return VDCC_EXIT_FAIL;
}

int vdc_cmd_open_backend(const char *cmd, const char *spec, const char *name, vdc_backend *out)
{
    char why[4096];
    return vdc_cmd_open_backend_why(cmd, spec, name, out, why, sizeof why);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: vdcc lint [--backend SPEC] [--name NAME]\n"
               "\n"
               "Checks a cache backend's vtable without calling it: version fields,\n"
               "name, capabilities, extension and config lists, and which callbacks\n"
               "are present.  Prints one 'error:' or 'warning:' line per finding and\n"
               "a summary; exits 0 when there are no errors, 1 when there are, 2 on a\n"
               "usage error or a backend that cannot be loaded.\n"
               "\n"
               "Options:\n"
               "  --backend SPEC  the backend to check (default: ref)\n"
               "  --name NAME     which backend of a plugin that registers several\n"
               "  -h, --help      this text\n"
               "\n%s",
            vdc_backend_help);
}

int vdc_cmd_lint(const char *prog, int argc, char **argv)
{
    (void)prog;
    enum { O_BACKEND = 1, O_NAME, O_HELP };
    static const vdc_opt opts[] = {
        { O_BACKEND, "backend", 0, true }, { O_NAME, "name", 0, true }, { O_HELP, "help", 'h', false }, { 0 },
    };
    const char *spec = "ref", *name = NULL, *val;
    vdc_optstate st;
    vdc_opt_init(&st, "lint", argc, argv);
    for (int id; (id = vdc_opt_next(&st, opts, &val)) != VDC_OPT_END;) {
        switch (id) {
        case O_BACKEND: spec = val; break;
        case O_NAME: name = val; break;
        case O_HELP: usage(stdout); return VDCC_EXIT_OK;
        case VDC_OPT_OPERAND: vdc_usage_error("lint", "unexpected argument '%s'", val); return VDCC_EXIT_USAGE;
        default: return VDCC_EXIT_USAGE;
        }
    }
    vdc_backend b;
    char err[2048];
    if (vdc_backend_load(spec, name, &b, err, sizeof err) < 0) {
        vdc_error("lint", "%s", err);
        return VDCC_EXIT_USAGE;
    }
    vdc_lint_report rep;
    vdc_lint(b.be, stdout, &rep);
    printf("lint %s: %u error(s), %u warning(s)\n", spec, rep.errors, rep.warnings);
    vdc_backend_unload(&b);
    return rep.errors ? VDCC_EXIT_FAIL : VDCC_EXIT_OK;
}
