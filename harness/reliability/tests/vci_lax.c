/*
 * harness/reliability/tests/vci_lax.c - rel_vcilax.so, a VirtualBox plugin
 * registering a VCI backend with one planted defect, for the test that
 * `vdcc conform` judges hostile VCI images (tests/suites/harness_cli.sh).
 *
 * It is the reference backend (ref/ref.h) in every callback but probe,
 * which looks only at the 4-byte signature "VCI\0" instead of validating
 * the whole header (spec/vci-format.md section 11): the lazy probe a
 * hurried implementation writes.  The conformance traces cannot tell (they
 * probe foreign files, whose signature differs), but every hostile image
 * with a correct signature and a broken header must then fail PROBE-1
 * (VD would take the file for a VCI cache).
 *
 * Statuses of the probe: VINF_SUCCESS, VERR_VD_GEN_INVALID_HEADER,
 * VERR_INVALID_PARAMETER (no IOINT interface), and the host's I/O
 * statuses.  VDPluginLoad: as ref/vci_plugin.c.  The vtable is copied from
 * ref's at load time (ref's callbacks are private to it); plugin loading
 * is single-threaded, and nothing changes it afterwards.
 */
#include <string.h>

#include "../../../ref/ref.h"

__attribute__((visibility("default"))) int VDPluginLoad(void *pvUser, PVDBACKENDREGISTER pReg);

static VDCACHEBACKEND lax_backend;

static int lax_probe(const char *name, PVDINTERFACE disk, PVDINTERFACE image)
{
    static const uint8_t sig[4] = { 0x56, 0x43, 0x49, 0x00 };
    uint8_t h[4];
    PVDIOSTORAGE st = NULL;
    (void)disk;
    PVDINTERFACEIOINT io = vdc_if_ioint(image);
    if (io == NULL || name == NULL)
        return VERR_INVALID_PARAMETER;
    int rc = io->pfnOpen(io->Core.pvUser, name, RTFILE_O_READ | RTFILE_O_DENY_NONE | RTFILE_O_OPEN, &st);
    if (RT_FAILURE(rc))
        return rc;
    rc = io->pfnReadMeta(io->Core.pvUser, st, 0, h, sizeof h, NULL, NULL, NULL, NULL);
    if (rc == VERR_EOF || (RT_SUCCESS(rc) && memcmp(h, sig, sizeof sig) != 0))
        rc = VERR_VD_GEN_INVALID_HEADER;
    io->pfnClose(io->Core.pvUser, st);
    return rc;
}

__attribute__((visibility("default"))) int VDPluginLoad(void *pvUser, PVDBACKENDREGISTER pReg)
{
    if (pReg == NULL || pReg->pfnRegisterCache == NULL)
        return VERR_INVALID_PARAMETER;
    if (!VD_VERSION_ARE_COMPATIBLE(pReg->u32Version, VD_BACKENDREG_CB_VERSION))
        return VERR_VERSION_MISMATCH;
    lax_backend = vdcc_ref_backend;
    lax_backend.pfnProbe = lax_probe;
    return pReg->pfnRegisterCache(pvUser, &lax_backend);
}
