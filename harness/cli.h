/*
 * harness/cli.h - command-line plumbing shared by vdcc's subcommands.
 *
 * Conventions every subcommand follows:
 *  - exit status VDCC_EXIT_OK (0) success, VDCC_EXIT_FAIL (1) the checked
 *    thing failed, VDCC_EXIT_USAGE (2) a usage error or an input that could
 *    not be used at all (the message says which);
 *  - errors go to stderr as "vdcc CMD: message", usage errors add a line
 *    pointing at "vdcc CMD --help";
 *  - numbers are parsed strictly: decimal digits only, no sign, no spaces,
 *    no junk after them, no overflow, within the documented range.
 *
 * Options: "--name VALUE", "--name=VALUE", short "-x VALUE", flags without a
 * value, and "--" ending the options.  Options and operands may be mixed.
 */
#ifndef VDCC_HARNESS_CLI_H
#define VDCC_HARNESS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VDCC_EXIT_OK    0
#define VDCC_EXIT_FAIL  1
#define VDCC_EXIT_USAGE 2

/* One option a subcommand accepts.  Tables end with an entry whose id is 0. */
typedef struct vdc_opt {
    int         id;         /* > 0, returned by vdc_opt_next */
    const char *long_name;  /* without "--"; NULL: none */
    char        short_name; /* 0: none */
    bool        has_arg;
} vdc_opt;

typedef struct vdc_optstate {
    int          argc;
    char       **argv;     /* argv[0] is the subcommand name */
    int          i;        /* next argument to look at */
    bool         operands_only; /* after "--" */
    const char  *cmd;      /* for messages: "conform" etc. */
} vdc_optstate;

#define VDC_OPT_OPERAND  0  /* *val is an operand */
#define VDC_OPT_END     (-1)
#define VDC_OPT_ERROR   (-2) /* message printed; exit VDCC_EXIT_USAGE */

void vdc_opt_init(vdc_optstate *st, const char *cmd, int argc, char **argv);
/* The next option (its id, *val = its value or NULL), an operand
 * (VDC_OPT_OPERAND, *val = it), VDC_OPT_END, or VDC_OPT_ERROR after printing
 * an unknown-option or missing-value message.  "-h" and "--help" must be in
 * the table to be accepted. */
int vdc_opt_next(vdc_optstate *st, const vdc_opt *opts, const char **val);

/* Prints "vdcc CMD: <message>" and "Try 'vdcc CMD --help'." to stderr. */
void vdc_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "vdcc CMD: <message>" to stderr. */
void vdc_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Strict unsigned decimal in [min, max].  Returns false (and prints a usage
 * error naming what) on junk, sign, empty input, overflow or range. */
bool vdc_parse_uint(const char *cmd, const char *what, const char *s, uint64_t min, uint64_t max,
                    uint64_t *out);
/* Seconds with up to three decimals ("10", "2.5", "0.25") into milliseconds,
 * in [min_ms, max_ms]; same strictness and messages as vdc_parse_uint. */
bool vdc_parse_seconds(const char *cmd, const char *what, const char *s, uint64_t min_ms, uint64_t max_ms,
                       uint64_t *out_ms);

/* A size in bytes: decimal digits, optionally followed by one suffix K, M,
 * G or T (binary: 1024, 1024^2, ...; lower case too, an optional trailing
 * 'B' or 'iB' allowed), in [min, max].  Same strictness as vdc_parse_uint;
 * the message names what (the option as typed) and the accepted range. */
bool vdc_parse_size(const char *cmd, const char *what, const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Checks, before a command runs anything, that an output it was asked for
 * can be written: a file (dir false) is opened for writing without being
 * truncated (created when missing), a directory (dir true) is created when
 * missing (one level) and must be writable.  path NULL: nothing asked,
 * true.  On failure prints "vdcc CMD: OPTION PATH: reason" and returns
 * false. */
bool vdc_check_output(const char *cmd, const char *option, const char *path, bool dir);

/* Quotes s for a POSIX shell when it needs it (else copies it) into
 * buf[0..cb); truncates safely. */
void vdc_shell_quote(const char *s, char *buf, size_t cb);

#endif /* VDCC_HARNESS_CLI_H */
