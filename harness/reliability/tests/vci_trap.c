/*
 * harness/reliability/tests/vci_trap.c - rel_vcitrap_{crash,hang,leak,poison}.so,
 * VirtualBox plugins registering the reference backend with a trap set for
 * ONE hostile VCI image, for the tests that `vdcc conform` judges its
 * hostile images in batches without one case's fate touching another's
 * (harness/runner.h; tests/suites/harness_cli.sh).
 *
 * The trap image is hostile case 031-version-0: the only one whose first
 * eight bytes are the signature "VCI\0" followed by a version of 0.  The
 * probe of that file, and nothing else, springs the trap chosen at build
 * time:
 *   VCI_TRAP_CRASH   a SIGSEGV (a write into the unmapped first page);
 *   VCI_TRAP_HANG    sleeps forever;
 *   VCI_TRAP_LEAK    leaks 4 KiB (seen only by LeakSanitizer, at exit);
 *   VCI_TRAP_POISON  poisons the process: every later probe in the same
 *                    process crashes.  Case 031 itself and every case in a
 *                    process of its own pass; a case judged after 031 in
 *                    the same child crashes, which must not cost it its
 *                    verdict.
 * Otherwise the probe is ref's, and every other callback is ref's.
 *
 * Statuses of the probe: ref's, plus VERR_INVALID_PARAMETER (no IOINT
 * interface) and the host's I/O statuses from reading the first bytes.
 * VDPluginLoad: as ref/vci_plugin.c.  The vtable is copied from ref's at
 * load time; plugin loading is single-threaded.  The poison flag is global
 * on purpose: it is the planted defect.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../ref/ref.h"

__attribute__((visibility("default"))) int VDPluginLoad(void *pvUser, PVDBACKENDREGISTER pReg);

static VDCACHEBACKEND trap_backend;
#ifdef VCI_TRAP_POISON
static volatile int poisoned;
#endif
#if defined(VCI_TRAP_CRASH) || defined(VCI_TRAP_POISON)
/* Written through to crash: nothing maps the first page.  Not address 0:
 * UBSan would report the null store before the SIGSEGV could happen (and
 * volatile, so that no compiler can see through it). */
static int *volatile nowhere = (int *)(uintptr_t)64;
#endif

/* Whether file `name` starts with "VCI\0" and a version of 0. */
static bool is_trap_image(const char *name, PVDINTERFACE image)
{
    static const uint8_t head[8] = { 0x56, 0x43, 0x49, 0x00, 0, 0, 0, 0 };
    uint8_t h[8];
    PVDIOSTORAGE st = NULL;
    PVDINTERFACEIOINT io = vdc_if_ioint(image);
    if (io == NULL || name == NULL)
        return false;
    if (RT_FAILURE(io->pfnOpen(io->Core.pvUser, name, RTFILE_O_READ | RTFILE_O_DENY_NONE | RTFILE_O_OPEN, &st)))
        return false;
    int rc = io->pfnReadMeta(io->Core.pvUser, st, 0, h, sizeof h, NULL, NULL, NULL, NULL);
    io->pfnClose(io->Core.pvUser, st);
    return RT_SUCCESS(rc) && memcmp(h, head, sizeof head) == 0;
}

static int trap_probe(const char *name, PVDINTERFACE disk, PVDINTERFACE image)
{
#ifdef VCI_TRAP_POISON
    if (poisoned)
        *nowhere = 1; /* a SIGSEGV */
#endif
    if (is_trap_image(name, image)) {
#if defined(VCI_TRAP_CRASH)
        *nowhere = 1; /* a SIGSEGV */
#elif defined(VCI_TRAP_HANG)
        for (;;)
            pause();
#elif defined(VCI_TRAP_LEAK)
        void *volatile lost = malloc(4096);
        memset(lost, 0x55, 4096);
        lost = NULL;
#elif defined(VCI_TRAP_POISON)
        poisoned = 1;
#else
# error "define one of VCI_TRAP_CRASH, VCI_TRAP_HANG, VCI_TRAP_LEAK, VCI_TRAP_POISON"
#endif
    }
    return vdcc_ref_backend.pfnProbe(name, disk, image);
}

__attribute__((visibility("default"))) int VDPluginLoad(void *pvUser, PVDBACKENDREGISTER pReg)
{
    if (pReg == NULL || pReg->pfnRegisterCache == NULL)
        return VERR_INVALID_PARAMETER;
    if (!VD_VERSION_ARE_COMPATIBLE(pReg->u32Version, VD_BACKENDREG_CB_VERSION))
        return VERR_VERSION_MISMATCH;
    trap_backend = vdcc_ref_backend;
    trap_backend.pfnProbe = trap_probe;
    return pReg->pfnRegisterCache(pvUser, &trap_backend);
}
