/*
 * harness/reliability/reliability.h - what the reliability part offers the
 * rest of vdcc: its two subcommands (commands.h conventions) and the VCI
 * deep check adapter they use.
 *
 *   vdcc crashtest  crash.h: every crash state of a workload, CRASH-1
 *   vdcc faults     faults.h: every storage operation failing in turn
 *
 * Link: libvdcrel.a before libvdcc.a, libvdctrace.a and libvdchost.a (the
 * commands use cli.h, commands.h and the trace parser); libvciref.a too
 * when libvdcrel.a was built with VDCC_HAVE_VCI_CHECK.
 */
#ifndef VDCC_HARNESS_RELIABILITY_RELIABILITY_H
#define VDCC_HARNESS_RELIABILITY_RELIABILITY_H

#include <stdbool.h>
#include <stddef.h>

#include "../../spec/vdcache.h"
#include "../host/fs.h"
#include "crash.h"

int vdc_cmd_crashtest(const char *prog, int argc, char **argv);
int vdc_cmd_faults(const char *prog, int argc, char **argv);

/* True when this build can deep-check VCI images (ref's vci_check). */
bool vdc_rel_have_vci_check(void);

/* A vdc_deep_check_fn (crash.h) over ref's vci_check, for images a backend
 * has just closed or flushed successfully: VINF_SUCCESS when image `name`
 * in fs passes vci_check AND is clean (a successful flush or close clears
 * the unclean flag, spec/vci-format.md section 10); else a failure status with msg set
 * (vci_check's own, or VERR_VD_IMAGE_CORRUPTED for an unclean image);
 * VERR_NOT_SUPPORTED when the build has no vci_check.  user is ignored. */
int vdc_rel_vci_check(void *user, vdc_fs *fs, const char *name, char *msg, size_t cb_msg);

/* True when be declares the VCI format (pszBackendName "VCI", any case):
 * its images must then meet spec/vci-format.md (spec/contract.md VCI-1). */
bool vdc_rel_is_vci(const VDCACHEBACKEND *be);

/* The deep check for images of be: vdc_rel_vci_check when be is a VCI
 * backend and this build has vci_check, else NULL (no deep check). */
vdc_deep_check_fn vdc_rel_deep_check_for(const VDCACHEBACKEND *be);

#endif /* VDCC_HARNESS_RELIABILITY_RELIABILITY_H */
