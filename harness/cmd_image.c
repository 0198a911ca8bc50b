/*
 * harness/cmd_image.c - `vdcc info` and `vdcc check`: thin wrappers over
 * the reference backend's vci_info / vci_check (ref/vci_check.h), reading
 * the image through a vdc_host over the POSIX file system (nothing is
 * written).  Exit statuses: 0 the image is a valid VCI image, 1 it is not
 * (corrupt, or not VCI at all: the first problem is explained, and for a
 * corrupt image a line "  corrupt: <file>:<line> <what>" names the check in
 * ref/ that refused it), 2 usage error, or the file could not be opened or
 * read (I/O error, no memory).
 */
#include <stdio.h>
#include <string.h>

#include "../ref/vci_check.h"
#include "cli.h"
#include "commands.h"
#include "host/host.h"
#include "host/status.h"

typedef struct image_host {
    vdc_fs   *fs;
    vdc_host *host;
} image_host;

static bool host_open(image_host *h)
{
    h->fs = vdc_fs_posix_new(".");
    h->host = h->fs != NULL ? vdc_host_new(h->fs) : NULL;
    return h->host != NULL;
}

static void host_close(image_host *h)
{
    vdc_host_free(h->host);
    vdc_fs_destroy(h->fs);
}

/* 0 valid, 1 not a valid VCI image, 2 could not be read. */
static int exit_for(int rc)
{
    if (rc >= 0)
        return VDCC_EXIT_OK;
    return rc == VERR_VD_IMAGE_CORRUPTED || rc == VERR_VD_GEN_INVALID_HEADER ? VDCC_EXIT_FAIL : VDCC_EXIT_USAGE;
}

static const char *rcname(int rc)
{
    const char *n = vdc_status_name(rc);
    return n != NULL ? n : "unknown status";
}

static void usage(FILE *f, const char *cmd)
{
    if (strcmp(cmd, "info") == 0)
        fprintf(f, "usage: vdcc info IMAGE...\n"
                   "\n"
                   "Describes each VCI image: header, geometry, tree, allocation, and the\n"
                   "verdict of the deep check (see 'vdcc check').  Read-only.\n");
    else
        fprintf(f, "usage: vdcc check IMAGE...\n"
                   "\n"
                   "Verifies every structure of each VCI image (spec/vci-format.md sections\n"
                   "3-7): header, block map, every tree node, extent order, allocation and\n"
                   "counters, the LRU list.  Prints one verdict line per image and explains\n"
                   "the first problem found.  Read-only.\n");
    fprintf(f, "Exit status: 0 every image is valid, 1 an image is corrupt or not VCI,\n"
               "2 usage error or an image that cannot be read.\n"
               "\n"
               "Options:\n"
               "  -h, --help  this text\n");
}

static int image_cmd(const char *cmd, int argc, char **argv)
{
    enum { O_HELP = 1 };
    static const vdc_opt opts[] = { { O_HELP, "help", 'h', false }, { 0 } };
    const char *val;
    unsigned nimages = 0;
    vdc_optstate st;
    vdc_opt_init(&st, cmd, argc, argv);
    for (int id; (id = vdc_opt_next(&st, opts, &val)) != VDC_OPT_END;) {
        if (id == O_HELP) {
            usage(stdout, cmd);
            return VDCC_EXIT_OK;
        }
        if (id != VDC_OPT_OPERAND)
            return VDCC_EXIT_USAGE;
        nimages++;
    }
    if (nimages == 0) {
        vdc_usage_error(cmd, "no IMAGE given");
        return VDCC_EXIT_USAGE;
    }
    image_host h = { 0 };
    if (!host_open(&h)) {
        vdc_error(cmd, "out of memory");
        host_close(&h);
        return VDCC_EXIT_USAGE;
    }
    int worst = VDCC_EXIT_OK;
    vdc_opt_init(&st, cmd, argc, argv);
    for (int id; (id = vdc_opt_next(&st, opts, &val)) != VDC_OPT_END;) {
        if (id != VDC_OPT_OPERAND)
            continue;
        int rc, ex;
        if (strcmp(cmd, "info") == 0) {
            rc = vci_info(val, vdc_host_image_ifs(h.host), stdout);
            ex = exit_for(rc);
            if (ex == VDCC_EXIT_USAGE)
                vdc_error(cmd, "%s: cannot read it (%s)", val, rcname(rc));
        } else {
            char msg[1024] = "";
            vci_check_stats stats;
            rc = vci_check(val, vdc_host_image_ifs(h.host), msg, sizeof msg, &stats);
            ex = exit_for(rc);
            if (ex == VDCC_EXIT_OK)
                printf("%s: valid: %s\n", val, msg);
            else if (ex == VDCC_EXIT_FAIL) {
                printf("%s: %s: %s\n", val, rc == VERR_VD_GEN_INVALID_HEADER ? "not a VCI image" : "corrupt", msg);
                vci_corrupt_print(&stats.corrupt, "  ", stdout);
            } else
                vdc_error(cmd, "%s: cannot read it (%s): %s", val, rcname(rc), msg);
        }
        if (ex > worst)
            worst = ex;
    }
    host_close(&h);
    return worst;
}

int vdc_cmd_info(const char *prog, int argc, char **argv)
{
    (void)prog;
    return image_cmd("info", argc, argv);
}

int vdc_cmd_check(const char *prog, int argc, char **argv)
{
    (void)prog;
    return image_cmd("check", argc, argv);
}
