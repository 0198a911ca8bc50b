/*
 * harness/commands.h - vdcc's subcommands.
 *
 * Each takes the program name as invoked (for the commands it prints, e.g.
 * the rerun line of a failure) and its own argv, argv[0] being the command
 * name; it returns the process exit status (cli.h: 0 ok, 1 failed, 2 usage
 * or unusable input).  "--help" prints the usage to stdout and returns 0.
 */
#ifndef VDCC_HARNESS_COMMANDS_H
#define VDCC_HARNESS_COMMANDS_H

#include "backend.h"

int vdc_cmd_lint(const char *prog, int argc, char **argv);
int vdc_cmd_replay(const char *prog, int argc, char **argv);
int vdc_cmd_conform(const char *prog, int argc, char **argv);
int vdc_cmd_record(const char *prog, int argc, char **argv);
/* Over ref/vci_check.h; in the command table when VDCC_HAVE_VCI_CHECK. */
int vdc_cmd_info(const char *prog, int argc, char **argv);
int vdc_cmd_check(const char *prog, int argc, char **argv);

/* The text describing backend SPECs, shared by the --help texts. */
extern const char vdc_backend_help[];

/*
 * Loads spec (name: --name or NULL) and lints it.  On a load failure prints
 * the reason and returns VDCC_EXIT_USAGE; when lint finds errors prints every
 * finding and returns VDCC_EXIT_FAIL (the backend is refused).  On success
 * (VDCC_EXIT_OK) *out holds the backend; unload it with vdc_backend_unload.
 */
int vdc_cmd_open_backend(const char *cmd, const char *spec, const char *name, vdc_backend *out);
/* The same, and on failure why[0..cb_why) holds the reason (the load error,
 * or lint's findings) for the reports. */
int vdc_cmd_open_backend_why(const char *cmd, const char *spec, const char *name, vdc_backend *out, char *why,
                             size_t cb_why);

#endif /* VDCC_HARNESS_COMMANDS_H */
