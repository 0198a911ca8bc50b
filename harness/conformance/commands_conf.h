/*
 * harness/conformance/commands_conf.h - vdcc's conformance-tool subcommands.
 *
 * Same convention as harness/commands.h: each takes the program name as
 * invoked (for the commands it prints) and its own argv, argv[0] being the
 * command name, and returns the exit status (harness/cli.h: 0 ok, 1 the
 * checked thing failed, 2 usage error or unusable input).  "--help" prints
 * the usage to stdout and returns 0.  They live in $d/libvdcconf.a, which
 * links before libvdcc.a (they use its CLI helpers and backend loading).
 *
 *   gen       write a generated trace: seeded random, or bounded-exhaustive
 *             (gen.h)
 *   shrink    reduce a failing trace to a minimal one that fails the same
 *             way (shrink.h)
 *   diff      replay a trace on two backends and report the first call
 *             where the contract tells their answers apart (diff.h)
 *   coverage  list each clause of spec/contract.md with the traces that
 *             name it; exit 1 when one has none (coverage.h)
 *
 * Wiring into vdcc's command table (harness/vdcc.c):
 *   { "gen", vdc_cmd_gen, "write a generated conformance trace (random or exhaustive)" },
 *   { "shrink", vdc_cmd_shrink, "reduce a failing trace to a minimal one that fails the same way" },
 *   { "diff", vdc_cmd_diff, "replay a trace on two backends, report where the contract tells them apart" },
 *   { "coverage", vdc_cmd_coverage, "list contract clauses and the traces that test them" },
 */
#ifndef VDCC_HARNESS_CONFORMANCE_COMMANDS_CONF_H
#define VDCC_HARNESS_CONFORMANCE_COMMANDS_CONF_H

int vdc_cmd_gen(const char *prog, int argc, char **argv);
int vdc_cmd_shrink(const char *prog, int argc, char **argv);
int vdc_cmd_diff(const char *prog, int argc, char **argv);
int vdc_cmd_coverage(const char *prog, int argc, char **argv);

#endif /* VDCC_HARNESS_CONFORMANCE_COMMANDS_CONF_H */
