/*
 * ref/vci_plugin.c - the VirtualBox plugin entry point for the reference
 * VCI backend (spec/vdcache.h section 10).  VDPluginLoad is the only symbol
 * the shared object exports (everything else is built hidden).
 *
 * Returns: VERR_INVALID_PARAMETER for a NULL register structure or
 * callback, VERR_VERSION_MISMATCH when the host's register-callback version
 * is not compatible with VD_BACKENDREG_CB_VERSION, otherwise whatever
 * pfnRegisterCache answers (VINF_SUCCESS, or VERR_IGNORED when the host
 * refuses the backend's version).
 */
#include "ref.h"

__attribute__((visibility("default"))) int VDPluginLoad(void *pvUser, PVDBACKENDREGISTER pReg);

__attribute__((visibility("default"))) int VDPluginLoad(void *pvUser, PVDBACKENDREGISTER pReg)
{
    if (pReg == NULL || pReg->pfnRegisterCache == NULL)
        return VERR_INVALID_PARAMETER;
    if (!VD_VERSION_ARE_COMPATIBLE(pReg->u32Version, VD_BACKENDREG_CB_VERSION))
        return VERR_VERSION_MISMATCH;
    return pReg->pfnRegisterCache(pvUser, &vdcc_ref_backend);
}
