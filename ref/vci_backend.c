/*
 * ref/vci_backend.c - the VDCACHEBACKEND vtable of the reference VCI
 * backend (spec/vci-format.md section 12).  Each callback checks what VD
 * may hand it and forwards to vci_cache; status codes are those listed in
 * vci_cache.h plus VERR_INVALID_PARAMETER for NULL handles or outputs and
 * VERR_NOT_SUPPORTED for comments and Compose*.
 */
#include "ref.h"

#include <stddef.h>

#include "vci_cache.h"

static const char *const s_extensions[] = { "vci", NULL };

static const VDCONFIGINFO s_config[] = {
    { "NodeCacheSize", "12288", VDCFGVALUETYPE_INTEGER, VD_CFGKEY_EXPERT },
    { "BitmapCacheSize", "64", VDCFGVALUETYPE_INTEGER, VD_CFGKEY_EXPERT },
    { NULL, NULL, (VDCFGVALUETYPE)0, 0 },
};

static int be_probe(const char *file, PVDINTERFACE disk, PVDINTERFACE image)
{
    return vci_probe(file, disk, image);
}

static int be_open(const char *file, unsigned flags, PVDINTERFACE disk, PVDINTERFACE image, void **ppbd)
{
    if (ppbd == NULL)
        return VERR_INVALID_PARAMETER;
    vci_cache *c;
    int rc = vci_cache_open(file, flags, disk, image, &c);
    if (RT_SUCCESS(rc))
        *ppbd = c;
    return rc;
}

static int be_create(const char *file, uint64_t cb, unsigned image_flags, const char *comment,
                     PCRTUUID uuid, unsigned flags, unsigned pct_start, unsigned pct_span,
                     PVDINTERFACE disk, PVDINTERFACE image, PVDINTERFACE op, void **ppbd)
{
    (void)comment; /* VCI has no comment field */
    if (ppbd == NULL)
        return VERR_INVALID_PARAMETER;
    vci_cache *c;
    int rc = vci_cache_create(file, cb, image_flags, uuid, flags, pct_start, pct_span, disk, image, op, &c);
    if (RT_SUCCESS(rc))
        *ppbd = c;
    return rc;
}

static int be_close(void *bd, bool fdelete)
{
    return vci_cache_close(bd, fdelete);
}

static int be_read(void *bd, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *pcb)
{
    if (bd == NULL)
        return VERR_INVALID_PARAMETER;
    return vci_cache_read(bd, off, cb, ctx, pcb);
}

static int be_write(void *bd, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *pcb)
{
    if (bd == NULL)
        return VERR_INVALID_PARAMETER;
    return vci_cache_write(bd, off, cb, ctx, pcb);
}

static int be_flush(void *bd, PVDIOCTX ctx)
{
    (void)ctx; /* all I/O is synchronous */
    if (bd == NULL)
        return VERR_INVALID_PARAMETER;
    return vci_cache_flush(bd);
}

static int be_discard(void *bd, PVDIOCTX ctx, uint64_t off, size_t cb, size_t *pcb_pre,
                      size_t *pcb_post, size_t *pcb_done, void **ppbm, unsigned fdiscard)
{
    (void)ctx;
    if (bd == NULL || (fdiscard & ~VD_DISCARD_MARK_UNUSED))
        return VERR_INVALID_PARAMETER;
    int rc = vci_cache_discard(bd, off, cb);
    if (RT_SUCCESS(rc)) {
        if (pcb_pre != NULL)
            *pcb_pre = 0;
        if (pcb_post != NULL)
            *pcb_post = 0;
        if (pcb_done != NULL)
            *pcb_done = cb;
        if (ppbm != NULL)
            *ppbm = NULL;
    }
    return rc;
}

static unsigned be_get_version(void *bd)
{
    return bd != NULL ? 1 : 0;
}

static uint64_t be_get_size(void *bd)
{
    return bd != NULL ? vci_cache_capacity(bd) : 0;
}

static uint64_t be_get_file_size(void *bd)
{
    return bd != NULL ? vci_cache_file_size(bd) : 0;
}

static unsigned be_get_image_flags(void *bd)
{
    return bd != NULL ? vci_cache_image_flags(bd) : 0;
}

static unsigned be_get_open_flags(void *bd)
{
    return bd != NULL ? vci_cache_open_flags(bd) : 0;
}

static int be_set_open_flags(void *bd, unsigned flags)
{
    if (bd == NULL)
        return VERR_INVALID_PARAMETER;
    return vci_cache_set_open_flags(bd, flags);
}

static int be_get_comment(void *bd, char *buf, size_t cb)
{
    (void)buf;
    (void)cb;
    return bd != NULL ? VERR_NOT_SUPPORTED : VERR_INVALID_PARAMETER;
}

static int be_set_comment(void *bd, const char *comment)
{
    (void)comment;
    if (bd == NULL)
        return VERR_INVALID_PARAMETER;
    return vci_cache_read_only(bd) ? VERR_VD_IMAGE_READ_ONLY : VERR_NOT_SUPPORTED;
}

static int be_get_uuid(void *bd, PRTUUID uuid)
{
    if (bd == NULL || uuid == NULL)
        return VERR_INVALID_PARAMETER;
    return vci_cache_get_uuid(bd, false, uuid);
}

static int be_set_uuid(void *bd, PCRTUUID uuid)
{
    if (bd == NULL || uuid == NULL)
        return VERR_INVALID_PARAMETER;
    return vci_cache_set_uuid(bd, false, uuid);
}

static int be_get_mod_uuid(void *bd, PRTUUID uuid)
{
    if (bd == NULL || uuid == NULL)
        return VERR_INVALID_PARAMETER;
    return vci_cache_get_uuid(bd, true, uuid);
}

static int be_set_mod_uuid(void *bd, PCRTUUID uuid)
{
    if (bd == NULL || uuid == NULL)
        return VERR_INVALID_PARAMETER;
    return vci_cache_set_uuid(bd, true, uuid);
}

static void be_dump(void *bd)
{
    if (bd != NULL)
        vci_cache_dump(bd);
}

static int be_compose(PVDINTERFACE cfg, char **out)
{
    (void)cfg;
    if (out != NULL)
        *out = NULL;
    return VERR_NOT_SUPPORTED;
}

const VDCACHEBACKEND vdcc_ref_backend = {
    .u32Version = VD_CACHEBACKEND_VERSION,
    .pszBackendName = "vci",
    .uBackendCaps = VD_CAP_CREATE_FIXED | VD_CAP_CREATE_DYNAMIC | VD_CAP_FILE | VD_CAP_VFS
                  | VD_CAP_DISCARD | VD_CAP_CONFIG,
    .papszFileExtensions = s_extensions,
    .paConfigInfo = s_config,
    .pfnProbe = be_probe,
    .pfnOpen = be_open,
    .pfnCreate = be_create,
    .pfnClose = be_close,
    .pfnRead = be_read,
    .pfnWrite = be_write,
    .pfnFlush = be_flush,
    .pfnDiscard = be_discard,
    .pfnGetVersion = be_get_version,
    .pfnGetSize = be_get_size,
    .pfnGetFileSize = be_get_file_size,
    .pfnGetImageFlags = be_get_image_flags,
    .pfnGetOpenFlags = be_get_open_flags,
    .pfnSetOpenFlags = be_set_open_flags,
    .pfnGetComment = be_get_comment,
    .pfnSetComment = be_set_comment,
    .pfnGetUuid = be_get_uuid,
    .pfnSetUuid = be_set_uuid,
    .pfnGetModificationUuid = be_get_mod_uuid,
    .pfnSetModificationUuid = be_set_mod_uuid,
    .pfnDump = be_dump,
    .pfnComposeLocation = be_compose,
    .pfnComposeName = be_compose,
    .u32VersionEnd = VD_CACHEBACKEND_VERSION,
};
