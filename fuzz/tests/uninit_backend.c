/*
 * fuzz/tests/uninit_backend.c - a deliberately broken backend: its probe
 * reads 2 bytes of header into a 1024-byte buffer and then decides on byte
 * 512, which nothing initialised (the mistake VirtualBox's VCI open makes,
 * spec/vci-format.md section 15).
 *
 * It exists to prove the MemorySanitizer build catches what ASan cannot:
 * tests/suites/fuzz_uninit.sh runs fuzz_probe over it and expects a
 * use-of-uninitialized-value report under build/msan and a clean pass under
 * build/asan.  Only pfnProbe is implemented; nothing else may be called.
 * Probe returns VINF_SUCCESS or VERR_VD_GEN_INVALID_HEADER, or the status
 * of a failed storage open.
 */
#include "../../spec/vdcache.h"

#include <stddef.h>

static int uninit_probe(const char *pszFilename, PVDINTERFACE pVDIfsDisk, PVDINTERFACE pVDIfsImage)
{
    PVDINTERFACEIOINT io = vdc_if_ioint(pVDIfsImage);
    PVDIOSTORAGE st;
    uint64_t cb = 0;
    unsigned char hdr[1024]; /* deliberately not initialised */
    int rc;

    (void)pVDIfsDisk;
    if (io == NULL)
        return VERR_INVALID_PARAMETER;
    rc = io->pfnOpen(io->Core.pvUser, pszFilename, RTFILE_O_READ | RTFILE_O_OPEN | RTFILE_O_DENY_NONE, &st);
    if (RT_FAILURE(rc))
        return rc;
    rc = io->pfnGetSize(io->Core.pvUser, st, &cb);
    if (RT_SUCCESS(rc) && cb >= 2)
        rc = io->pfnReadMeta(io->Core.pvUser, st, 0, hdr, 2, NULL, NULL, NULL, NULL);
    else
        rc = VERR_VD_GEN_INVALID_HEADER;
    io->pfnClose(io->Core.pvUser, st);
    if (RT_FAILURE(rc))
        return VERR_VD_GEN_INVALID_HEADER;
    /* The bug: byte 512 was never read from the file. */
    if (hdr[512] == 0x55)
        return VINF_SUCCESS;
    return VERR_VD_GEN_INVALID_HEADER;
}

static const char *const uninit_exts[] = { "vci", NULL };

/* Declared by fuzz/fuzz.h when built with -DFUZZ_BACKEND=vdcc_uninit_backend. */
extern const VDCACHEBACKEND vdcc_uninit_backend;
const VDCACHEBACKEND vdcc_uninit_backend = {
    .u32Version = VD_CACHEBACKEND_VERSION,
    .pszBackendName = "uninit",
    .uBackendCaps = VD_CAP_FILE,
    .papszFileExtensions = uninit_exts,
    .paConfigInfo = NULL,
    .pfnProbe = uninit_probe,
    .u32VersionEnd = VD_CACHEBACKEND_VERSION,
};
