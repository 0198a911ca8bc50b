/*
 * harness/conformance/conf_main.c - vdcc-conf, a stand-alone front end for
 * the conformance-tool subcommands (commands_conf.h) while they are not yet
 * in vdcc's own command table; the test suite uses it when `vdcc gen` is
 * missing.  `vdcc-conf CMD ARGS...` is `vdcc CMD ARGS...`.  Exit statuses
 * are the subcommand's; 2 for an unknown command.
 */
#include <stdio.h>
#include <string.h>

#include "../cli.h"
#include "commands_conf.h"

typedef struct conf_command {
    const char *name;
    int (*fn)(const char *prog, int argc, char **argv);
} conf_command;

static const conf_command conf_commands[] = {
    { "gen", vdc_cmd_gen },
    { "shrink", vdc_cmd_shrink },
    { "diff", vdc_cmd_diff },
    { "coverage", vdc_cmd_coverage },
};

int main(int argc, char **argv)
{
    /* The commands print rerun lines naming the program; those need vdcc
     * (replay, conform), which sits beside vdcc-conf in every build. */
    char prog[4096] = "vdcc";
    if (argc > 0 && argv[0] != NULL) {
        size_t n = strlen(argv[0]);
        if (n >= 5 && n < sizeof prog && strcmp(argv[0] + n - 5, "-conf") == 0) {
            memcpy(prog, argv[0], n - 5);
            prog[n - 5] = '\0';
        }
    }
    if (argc >= 2) {
        for (size_t i = 0; i < sizeof conf_commands / sizeof conf_commands[0]; i++)
            if (strcmp(argv[1], conf_commands[i].name) == 0)
                return conf_commands[i].fn(prog, argc - 1, argv + 1);
    }
    fprintf(stderr, "usage: vdcc-conf gen|shrink|diff|coverage [OPTIONS] (each has --help)\n");
    return VDCC_EXIT_USAGE;
}
