/*
 * harness/collect.c - VD's plugin registration callbacks, collecting cache
 * backends.  Contract and statuses: collect.h.  No state but the caller's
 * vdc_plugin_collect.
 */
#include "collect.h"

#include <string.h>

#include "peek.h"

static int reg_image(void *pvUser, const VDIMAGEBACKEND *pBackend)
{
    vdc_plugin_collect *c = pvUser;
    (void)pBackend;
    c->images++;
    return VINF_SUCCESS;
}

static int reg_filter(void *pvUser, const VDFILTERBACKEND *pBackend)
{
    vdc_plugin_collect *c = pvUser;
    (void)pBackend;
    c->filters++;
    return VINF_SUCCESS;
}

static int reg_cache(void *pvUser, const VDCACHEBACKEND *pBackend)
{
    vdc_plugin_collect *c = pvUser;
    if (pBackend == NULL) {
        c->dropped++;
        return VERR_INVALID_POINTER;
    }
    uint32_t version;
    vdc_peek pk;
    bool readable = vdc_peek_open(&pk);
    readable = readable && vdc_peek_bytes(&pk, &pBackend->u32Version, &version, sizeof version);
    vdc_peek_close(&pk);
    if (!readable) {
        c->dropped++;
        return VERR_INVALID_POINTER;
    }
    if (!VD_VERSION_ARE_COMPATIBLE(VD_CACHEBACKEND_VERSION, version)) {
        c->ignored++;
        c->ignored_version = version;
        return VERR_IGNORED;
    }
    /* As VD: success even when the table is full. */
    if (c->n < VDC_PLUGIN_MAX_CACHE)
        c->be[c->n++] = pBackend;
    else
        c->dropped++;
    return VINF_SUCCESS;
}

int vdc_plugin_collect_run(PFNVDPLUGINLOAD pfnLoad, vdc_plugin_collect *c)
{
    memset(c, 0, sizeof *c);
    VDBACKENDREGISTER reg = {
        .u32Version = VD_BACKENDREG_CB_VERSION,
        .pfnRegisterImage = reg_image,
        .pfnRegisterCache = reg_cache,
        .pfnRegisterFilter = reg_filter,
    };
    return pfnLoad(c, &reg);
}

