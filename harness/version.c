/*
 * harness/version.c - vdcc's version string (version.h).  The one file that
 * includes the generated build/version.h, so a new revision recompiles only
 * this file.
 */
#include "version.h"

#include "build/version.h"

const char *vdc_version(void)
{
    return "vdcc " VDCC_REVISION " (contract " VDCC_CONTRACT_VERSION ")";
}
