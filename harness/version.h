/*
 * harness/version.h - what `vdcc --version` prints: the source revision
 * captured at build time (tools/version.sh: `git describe`, or "unknown"
 * outside a git checkout) and the version of spec/contract.md it judges by.
 */
#ifndef VDCC_HARNESS_VERSION_H
#define VDCC_HARNESS_VERSION_H

/* "vdcc REVISION (contract VERSION)"; a static string, never NULL. */
const char *vdc_version(void);

#endif /* VDCC_HARNESS_VERSION_H */
