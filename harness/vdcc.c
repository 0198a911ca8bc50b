/*
 * harness/vdcc.c - the vdcc program: dispatches to a subcommand
 * (commands.h).  `vdcc --help` lists them, `vdcc help CMD` is `vdcc CMD
 * --help`, `vdcc --version` prints version.h's string.  Exit statuses are
 * the subcommand's; 2 for an unknown command or option (cli.h).
 */
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "cli.h"
#include "commands.h"
#include "conformance/commands_conf.h"
#include "reliability/reliability.h"
#include "version.h"

typedef struct command {
    const char *name;
    int (*fn)(const char *prog, int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    { "conform", vdc_cmd_conform, "run conformance traces, each in its own process (TAP, JUnit)" },
    { "replay", vdc_cmd_replay, "run traces (in a child) and explain the first divergence" },
    { "record", vdc_cmd_record, "record a backend's calls and results as a trace" },
    { "lint", vdc_cmd_lint, "check a backend's vtable without calling it" },
    { "gen", vdc_cmd_gen, "write a generated conformance trace (random or exhaustive)" },
    { "shrink", vdc_cmd_shrink, "reduce a failing trace to a minimal one that fails the same way" },
    { "diff", vdc_cmd_diff, "replay a trace on two backends, report where the contract tells them apart" },
    { "coverage", vdc_cmd_coverage, "list contract clauses and the traces that test them" },
    { "crashtest", vdc_cmd_crashtest, "check every crash state of a workload for lies" },
    { "faults", vdc_cmd_faults, "fail each I/O of a workload in turn and check what follows" },
    { "bench", vdc_cmd_bench, "measure a backend against raw file I/O" },
#ifdef VDCC_HAVE_VCI_CHECK
    { "info", vdc_cmd_info, "describe a VCI image" },
    { "check", vdc_cmd_check, "verify a VCI image's structures" },
#endif
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: vdcc COMMAND [OPTIONS] [ARGS]\n\nCommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "  %-10s %s\n", "help", "help CMD: the usage of CMD (same as vdcc CMD --help)");
    fprintf(f, "\n--version prints the source revision and the contract's version.\n");
    fprintf(f, "\nExit status, in every command: 0 success, 1 the checked thing failed, 2 usage error\n"
               "or unusable input (a missing, unreadable or malformed file, a backend that does\n"
               "not load, an output that cannot be written).\n\n%s", vdc_backend_help);
}

static const command *find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    const char *prog = argc > 0 && argv[0] != NULL ? argv[0] : "vdcc";
    if (argc < 2) {
        usage(stderr);
        return VDCC_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return VDCC_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("%s\n", vdc_version());
        return VDCC_EXIT_OK;
    }
    if (strcmp(cmd, "help") == 0) {
        if (argc == 2) {
            usage(stdout);
            return VDCC_EXIT_OK;
        }
        if (argc > 3) {
            vdc_usage_error(NULL, "help takes one command name");
            return VDCC_EXIT_USAGE;
        }
        const command *c = find(argv[2]);
        if (c == NULL) {
            vdc_usage_error(NULL, "unknown command '%s'", argv[2]);
            return VDCC_EXIT_USAGE;
        }
        char *hargv[] = { argv[2], "--help", NULL };
        return c->fn(prog, 2, hargv);
    }
    if (cmd[0] == '-') {
        vdc_usage_error(NULL, "unknown option '%s' (options follow the command)", cmd);
        return VDCC_EXIT_USAGE;
    }
    const command *c = find(cmd);
    if (c == NULL) {
        vdc_usage_error(NULL, "unknown command '%s'", cmd);
        return VDCC_EXIT_USAGE;
    }
    return c->fn(prog, argc - 1, argv + 1);
}
