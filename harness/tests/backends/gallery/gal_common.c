/*
 * harness/tests/backends/gallery/gal_common.c - what every gallery backend
 * shares: the header, probe/open/create/close, flags, UUIDs, comment, dump
 * and the plugin entry point.  Data goes through the engine's hooks
 * (gal.h).  Contract: spec/contract.md (PROBE, OPEN, CREATE, CLOSE, FLUSH,
 * UUID, INFO, HOST-5).
 *
 * Status codes: VINF_SUCCESS, VERR_VD_GEN_INVALID_HEADER (probe of a foreign
 * file; open of a file without the engine's magic), VERR_VD_IMAGE_CORRUPTED
 * (a header with the magic but a bad checksum or field), VERR_VD_INVALID_SIZE
 * (capacity 0, not a multiple of 512, or above the engine's limit),
 * VERR_INVALID_PARAMETER (NULL arguments, flags outside the masks, cb 0,
 * offset overflow), VERR_NOT_SUPPORTED (diff images; fixed images when the
 * engine does not declare VD_CAP_CREATE_FIXED), VERR_TOO_MUCH_DATA (comment
 * over 255 characters), VERR_BUFFER_OVERFLOW (comment buffer too small),
 * VERR_VD_IMAGE_READ_ONLY (writes and setters on a read-only instance),
 * VERR_VD_NOT_OPENED (an instance whose SetOpenFlags could not reopen),
 * VERR_NO_MEMORY, the engine's codes and the IOINT's.
 *
 * Defects (built into twins, see the engine files):
 *   GAL_DEFECT_UUIDLOST   the modification UUID is kept in memory only (UUID-2)
 *   GAL_DEFECT_PROBEALL   probe claims every readable file (PROBE-1)
 *   GAL_DEFECT_ROWRITE    writes on a read-only instance are declined, not refused (WRITE-3)
 */
#include "gal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define GAL_VERSION 1u

/* ---- storage helpers ----------------------------------------------------- */

int gal_rd(gal_img *g, uint64_t off, void *buf, size_t cb)
{
    return g->io->pfnReadMeta(g->io->Core.pvUser, g->stor, off, buf, cb, NULL, NULL, NULL, NULL);
}

int gal_wr(gal_img *g, uint64_t off, const void *buf, size_t cb)
{
    return g->io->pfnWriteMeta(g->io->Core.pvUser, g->stor, off, buf, cb, NULL, NULL, NULL);
}

int gal_sync(gal_img *g)
{
    return g->io->pfnFlush(g->io->Core.pvUser, g->stor, NULL, NULL, NULL);
}

int gal_file_size(gal_img *g, uint64_t *pcb)
{
    return g->io->pfnGetSize(g->io->Core.pvUser, g->stor, pcb);
}

int gal_set_size(gal_img *g, uint64_t cb)
{
    return g->io->pfnSetSize(g->io->Core.pvUser, g->stor, cb);
}

int gal_prealloc(gal_img *g, uint64_t cb)
{
    int rc = g->io->pfnSetAllocationSize(g->io->Core.pvUser, g->stor, cb, 0, NULL, 0, 0);
    if (rc == VERR_NOT_SUPPORTED)
        rc = gal_set_size(g, cb);
    return rc;
}

int gal_user_read(gal_img *g, uint64_t off, PVDIOCTX ctx, size_t cb)
{
    return g->io->pfnReadUser(g->io->Core.pvUser, g->stor, off, ctx, cb);
}

int gal_user_write(gal_img *g, uint64_t off, PVDIOCTX ctx, size_t cb)
{
    return g->io->pfnWriteUser(g->io->Core.pvUser, g->stor, off, ctx, cb, NULL, NULL);
}

int gal_ctx_take(gal_img *g, PVDIOCTX ctx, void *buf, size_t cb)
{
    return g->io->pfnIoCtxCopyFrom(g->io->Core.pvUser, ctx, buf, cb) == cb ? VINF_SUCCESS : VERR_INVALID_PARAMETER;
}

int gal_ctx_give(gal_img *g, PVDIOCTX ctx, const void *buf, size_t cb)
{
    return g->io->pfnIoCtxCopyTo(g->io->Core.pvUser, ctx, buf, cb) == cb ? VINF_SUCCESS : VERR_INVALID_PARAMETER;
}

/* CRC-32 (IEEE, reflected), four bits at a time from a 16-entry table. */
uint32_t gal_crc32(uint32_t crc, const void *p, size_t cb)
{
    static const uint32_t nib[16] = {
        0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u, 0x4db26158u, 0x5005713cu,
        0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu, 0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu,
    };
    const uint8_t *b = p;
    crc = ~crc;
    for (size_t i = 0; i < cb; i++) {
        crc ^= b[i];
        crc = (crc >> 4) ^ nib[crc & 15u];
        crc = (crc >> 4) ^ nib[crc & 15u];
    }
    return ~crc;
}

/* A 32-bit check of data blocks: 8-byte little-endian words mixed by a
 * multiply and a shift, then finalised.  It only has to notice torn or
 * stale blocks, not resist an adversary, and is many times faster than
 * CRC-32 (the crash and fault sweeps reopen the cache thousands of times). */
uint32_t gal_sum32(const void *p, size_t cb)
{
    const uint8_t *b = p;
    uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ cb;
    size_t i = 0;
    for (; i + 8 <= cb; i += 8) {
        uint64_t w = 0;
        for (unsigned k = 0; k < 8; k++)
            w |= (uint64_t)b[i + k] << (8 * k);
        h = (h ^ w) * UINT64_C(0xff51afd7ed558ccd);
        h ^= h >> 29;
    }
    for (; i < cb; i++)
        h = (h ^ b[i]) * UINT64_C(0x100000001b3);
    h ^= h >> 33;
    h *= UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 33;
    return (uint32_t)h;
}

/* ---- header -------------------------------------------------------------- */

static void le_put(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t le_get(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint64_t hdr_sum(const uint8_t *h)
{
    uint32_t a = gal_crc32(0, h, 504), b = gal_crc32(a, h, 252);
    return (uint64_t)a | (uint64_t)b << 32;
}

static bool capacity_ok(uint64_t cb)
{
    return cb != 0 && cb % GAL_SECTOR == 0 && cb <= gal_this_engine.max_capacity;
}

static int hdr_write(gal_img *g)
{
    uint8_t h[GAL_HDR_SIZE] = { 0 };
    memcpy(h, gal_this_engine.magic, 8);
    le_put(h + 8, GAL_VERSION, 4);
    le_put(h + 12, g->image_flags, 4);
    le_put(h + 16, g->capacity, 8);
    memcpy(h + 24, g->uuid.au8, 16);
#ifndef GAL_DEFECT_UUIDLOST
    memcpy(h + 40, g->mod_uuid.au8, 16);
#endif
    memcpy(h + 56, g->comment, strnlen(g->comment, GAL_COMMENT_MAX));
    le_put(h + 504, hdr_sum(h), 8);
    return gal_wr(g, 0, h, sizeof h);
}

/* VERR_VD_GEN_INVALID_HEADER without the magic, VERR_VD_IMAGE_CORRUPTED with
 * the magic but anything else wrong; g (may be NULL) gets the fields. */
static int hdr_check(const uint8_t *h, gal_img *g)
{
    if (memcmp(h, gal_this_engine.magic, 8) != 0)
        return VERR_VD_GEN_INVALID_HEADER;
    uint32_t flags = (uint32_t)le_get(h + 12, 4);
    if (le_get(h + 504, 8) != hdr_sum(h) || le_get(h + 8, 4) != GAL_VERSION
        || (flags & ~VD_IMAGE_FLAGS_FIXED) != 0 || !capacity_ok(le_get(h + 16, 8)) || h[56 + GAL_COMMENT_MAX] != 0)
        return VERR_VD_IMAGE_CORRUPTED;
    if (g != NULL) {
        g->image_flags = flags;
        g->capacity = le_get(h + 16, 8);
        memcpy(g->uuid.au8, h + 24, 16);
        memcpy(g->mod_uuid.au8, h + 40, 16);
        memcpy(g->comment, h + 56, GAL_COMMENT_MAX + 1);
    }
    return VINF_SUCCESS;
}

/* ---- instances ----------------------------------------------------------- */

static gal_img *img_new(const char *path, PVDINTERFACE disk, PVDINTERFACE image)
{
    PVDINTERFACEIOINT io = vdc_if_ioint(image);
    if (io == NULL)
        return NULL;
    gal_img *g = calloc(1, sizeof *g);
    if (g == NULL)
        return NULL;
    g->path = strdup(path);
    if (g->path == NULL) {
        free(g);
        return NULL;
    }
    g->io = io;
    g->err = vdc_if_error(disk);
    return g;
}

static void img_free(gal_img *g)
{
    if (g->eng != NULL && gal_this_engine.release != NULL)
        gal_this_engine.release(g);
    free(g->path);
    free(g);
}

static int stor_open(gal_img *g, unsigned flags, bool create)
{
    return g->io->pfnOpen(g->io->Core.pvUser, g->path, vdc_open_flags_to_file(flags, create), &g->stor);
}

static void stor_close(gal_img *g)
{
    if (g->stor != NULL)
        g->io->pfnClose(g->io->Core.pvUser, g->stor);
    g->stor = NULL;
}

static bool is_ro(const gal_img *g)
{
    return (g->open_flags & VD_OPEN_FLAGS_READONLY) != 0;
}

/* ---- vtable -------------------------------------------------------------- */

int gal_probe(const char *pszFilename, PVDINTERFACE pVDIfsDisk, PVDINTERFACE pVDIfsImage)
{
    (void)pVDIfsDisk;
    PVDINTERFACEIOINT io = vdc_if_ioint(pVDIfsImage);
    if (pszFilename == NULL || *pszFilename == '\0' || io == NULL)
        return VERR_INVALID_PARAMETER;
    PVDIOSTORAGE stor = NULL;
    int rc = io->pfnOpen(io->Core.pvUser, pszFilename, vdc_open_flags_to_file(VD_OPEN_FLAGS_READONLY, false), &stor);
    if (RT_FAILURE(rc))
        return rc;
    uint64_t cb = 0;
    uint8_t h[GAL_HDR_SIZE];
    rc = io->pfnGetSize(io->Core.pvUser, stor, &cb);
    if (RT_SUCCESS(rc) && cb >= GAL_HDR_SIZE)
        rc = io->pfnReadMeta(io->Core.pvUser, stor, 0, h, sizeof h, NULL, NULL, NULL, NULL);
    else if (RT_SUCCESS(rc))
        rc = VERR_VD_GEN_INVALID_HEADER;
    io->pfnClose(io->Core.pvUser, stor);
#ifdef GAL_DEFECT_PROBEALL
    return VINF_SUCCESS;
#else
    if (RT_FAILURE(rc))
        return VERR_VD_GEN_INVALID_HEADER;
    return RT_SUCCESS(hdr_check(h, NULL)) ? VINF_SUCCESS : VERR_VD_GEN_INVALID_HEADER;
#endif
}

int gal_open(const char *pszFilename, unsigned uOpenFlags, PVDINTERFACE pVDIfsDisk, PVDINTERFACE pVDIfsImage,
             void **ppBackendData)
{
    if (pszFilename == NULL || *pszFilename == '\0' || ppBackendData == NULL || (uOpenFlags & ~VD_OPEN_FLAGS_MASK))
        return VERR_INVALID_PARAMETER;
    gal_img *g = img_new(pszFilename, pVDIfsDisk, pVDIfsImage);
    if (g == NULL)
        return vdc_if_ioint(pVDIfsImage) == NULL ? VERR_INVALID_PARAMETER : VERR_NO_MEMORY;
    g->open_flags = uOpenFlags;
    int rc = stor_open(g, uOpenFlags, false);
    if (RT_FAILURE(rc))
        goto free_img;
    uint64_t cb = 0;
    uint8_t h[GAL_HDR_SIZE];
    rc = gal_file_size(g, &cb);
    if (RT_SUCCESS(rc) && cb < GAL_HDR_SIZE)
        rc = VERR_VD_GEN_INVALID_HEADER;
    if (RT_SUCCESS(rc))
        rc = gal_rd(g, 0, h, sizeof h);
    if (RT_SUCCESS(rc))
        rc = hdr_check(h, g);
    if (RT_SUCCESS(rc))
        rc = gal_this_engine.load(g);
    if (RT_SUCCESS(rc) && !is_ro(g) && gal_this_engine.writable != NULL)
        rc = gal_this_engine.writable(g);
    if (RT_FAILURE(rc))
        goto close_stor;
    *ppBackendData = g;
    return VINF_SUCCESS;

close_stor:
    stor_close(g);
free_img:
    img_free(g);
    return rc;
}

int gal_create(const char *pszFilename, uint64_t cbSize, unsigned uImageFlags, const char *pszComment,
               PCRTUUID pUuid, unsigned uOpenFlags, unsigned uPercentStart, unsigned uPercentSpan,
               PVDINTERFACE pVDIfsDisk, PVDINTERFACE pVDIfsImage, PVDINTERFACE pVDIfsOperation,
               void **ppBackendData)
{
    if (pszFilename == NULL || *pszFilename == '\0' || ppBackendData == NULL
        || (uOpenFlags & ~VD_OPEN_FLAGS_MASK) || (uOpenFlags & VD_OPEN_FLAGS_READONLY)
        || (uImageFlags & ~VD_IMAGE_FLAGS_MASK))
        return VERR_INVALID_PARAMETER;
    if (uImageFlags & VD_IMAGE_FLAGS_DIFF)
        return VERR_NOT_SUPPORTED;
    if ((uImageFlags & VD_IMAGE_FLAGS_FIXED) && !(gal_backend.uBackendCaps & VD_CAP_CREATE_FIXED))
        return VERR_NOT_SUPPORTED;
    if (!capacity_ok(cbSize))
        return VERR_VD_INVALID_SIZE;
    if (pszComment != NULL && strlen(pszComment) > GAL_COMMENT_MAX)
        return VERR_TOO_MUCH_DATA;
    gal_img *g = img_new(pszFilename, pVDIfsDisk, pVDIfsImage);
    if (g == NULL)
        return vdc_if_ioint(pVDIfsImage) == NULL ? VERR_INVALID_PARAMETER : VERR_NO_MEMORY;
    g->open_flags = uOpenFlags;
    g->capacity = cbSize;
    g->image_flags = uImageFlags & VD_IMAGE_FLAGS_FIXED;
    if (pUuid != NULL)
        g->uuid = *pUuid;
    if (pszComment != NULL)
        memcpy(g->comment, pszComment, strlen(pszComment));

    int rc = stor_open(g, uOpenFlags, true);
    if (RT_FAILURE(rc))
        goto free_img;
    rc = gal_set_size(g, GAL_HDR_SIZE);
    if (RT_SUCCESS(rc))
        rc = hdr_write(g);
    if (RT_SUCCESS(rc))
        rc = gal_this_engine.create(g);
    if (RT_SUCCESS(rc))
        rc = gal_sync(g);
    if (RT_FAILURE(rc))
        goto delete_file;
    PVDINTERFACEPROGRESS prog = vdc_if_progress(pVDIfsOperation);
    if (prog != NULL && prog->pfnProgress != NULL && uPercentStart <= 100 && uPercentSpan <= 100 - uPercentStart)
        prog->pfnProgress(prog->Core.pvUser, uPercentStart + uPercentSpan);
    *ppBackendData = g;
    return VINF_SUCCESS;

delete_file:
    stor_close(g);
    g->io->pfnDelete(g->io->Core.pvUser, g->path);
free_img:
    img_free(g);
    return rc;
}

int gal_close(void *pBackendData, bool fDelete)
{
    gal_img *g = pBackendData;
    if (g == NULL)
        return VERR_INVALID_PARAMETER;
    int rc = VINF_SUCCESS;
    if (g->stor != NULL && !is_ro(g) && !fDelete)
        rc = gal_this_engine.flush(g);
    stor_close(g);
    if (fDelete) {
        int rc2 = g->io->pfnDelete(g->io->Core.pvUser, g->path);
        if (RT_SUCCESS(rc))
            rc = rc2;
    }
    img_free(g);
    return rc;
}

int gal_read(void *pBackendData, uint64_t uOffset, size_t cbToRead, PVDIOCTX pIoCtx, size_t *pcbActuallyRead)
{
    gal_img *g = pBackendData;
    if (g == NULL || pIoCtx == NULL || pcbActuallyRead == NULL || cbToRead == 0 || uOffset + cbToRead < uOffset)
        return VERR_INVALID_PARAMETER;
    if (g->stor == NULL) {
        *pcbActuallyRead = cbToRead;
        return VERR_VD_BLOCK_FREE;
    }
    return gal_this_engine.read(g, uOffset, cbToRead, pIoCtx, pcbActuallyRead);
}

int gal_write(void *pBackendData, uint64_t uOffset, size_t cbToWrite, PVDIOCTX pIoCtx, size_t *pcbWriteProcess)
{
    gal_img *g = pBackendData;
    if (g == NULL || pIoCtx == NULL || pcbWriteProcess == NULL || cbToWrite == 0 || uOffset + cbToWrite < uOffset)
        return VERR_INVALID_PARAMETER;
    if (is_ro(g)) {
#ifdef GAL_DEFECT_ROWRITE
        *pcbWriteProcess = cbToWrite;
        return VINF_SUCCESS;
#else
        return VERR_VD_IMAGE_READ_ONLY;
#endif
    }
    if (g->stor == NULL)
        return VERR_VD_NOT_OPENED;
    return gal_this_engine.write(g, uOffset, cbToWrite, pIoCtx, pcbWriteProcess);
}

int gal_flush(void *pBackendData, PVDIOCTX pIoCtx)
{
    (void)pIoCtx;
    gal_img *g = pBackendData;
    if (g == NULL)
        return VERR_INVALID_PARAMETER;
    if (g->stor == NULL)
        return VERR_VD_NOT_OPENED;
    return is_ro(g) ? VINF_SUCCESS : gal_this_engine.flush(g);
}

unsigned gal_get_version(void *pBackendData)
{
    (void)pBackendData;
    return GAL_VERSION;
}

uint64_t gal_get_size(void *pBackendData)
{
    gal_img *g = pBackendData;
    return g != NULL ? g->capacity : 0;
}

uint64_t gal_get_file_size(void *pBackendData)
{
    gal_img *g = pBackendData;
    uint64_t cb = 0;
    if (g == NULL || g->stor == NULL || RT_FAILURE(gal_file_size(g, &cb)))
        return 0;
    return cb;
}

unsigned gal_get_image_flags(void *pBackendData)
{
    gal_img *g = pBackendData;
    return g != NULL ? g->image_flags : 0;
}

unsigned gal_get_open_flags(void *pBackendData)
{
    gal_img *g = pBackendData;
    return g != NULL ? g->open_flags : 0;
}

int gal_set_open_flags(void *pBackendData, unsigned uOpenFlags)
{
    gal_img *g = pBackendData;
    if (g == NULL || (uOpenFlags & ~VD_OPEN_FLAGS_MASK))
        return VERR_INVALID_PARAMETER;
    if (g->stor != NULL && !is_ro(g)) {
        int rc = gal_this_engine.flush(g);
        if (RT_FAILURE(rc))
            return rc;
    }
    stor_close(g);
    int rc = stor_open(g, uOpenFlags, false);
    if (RT_SUCCESS(rc) && !(uOpenFlags & VD_OPEN_FLAGS_READONLY) && gal_this_engine.writable != NULL)
        rc = gal_this_engine.writable(g);
    if (RT_SUCCESS(rc)) {
        g->open_flags = uOpenFlags;
        return VINF_SUCCESS;
    }
    /* Back to the flags we had; without storage, reads miss and writes fail. */
    stor_close(g);
    if (RT_FAILURE(stor_open(g, g->open_flags, false)))
        g->stor = NULL;
    return rc;
}

int gal_get_comment(void *pBackendData, char *pszComment, size_t cbComment)
{
    gal_img *g = pBackendData;
    if (g == NULL || pszComment == NULL)
        return VERR_INVALID_PARAMETER;
    size_t n = strnlen(g->comment, GAL_COMMENT_MAX);
    if (cbComment <= n)
        return VERR_BUFFER_OVERFLOW;
    memcpy(pszComment, g->comment, n + 1);
    return VINF_SUCCESS;
}

/* Replaces cb bytes at field with value and rewrites the header; undone on failure. */
static int hdr_update(gal_img *g, void *field, const void *value, size_t cb)
{
    if (g->stor == NULL)
        return VERR_VD_NOT_OPENED;
    if (is_ro(g))
        return VERR_VD_IMAGE_READ_ONLY;
    char old[GAL_COMMENT_MAX + 1];
    memcpy(old, field, cb);
    memcpy(field, value, cb);
    int rc = hdr_write(g);
    if (RT_FAILURE(rc))
        memcpy(field, old, cb);
    return rc;
}

int gal_set_comment(void *pBackendData, const char *pszComment)
{
    gal_img *g = pBackendData;
    if (g == NULL)
        return VERR_INVALID_PARAMETER;
    char c[GAL_COMMENT_MAX + 1] = { 0 };
    size_t n = pszComment != NULL ? strlen(pszComment) : 0;
    if (n > GAL_COMMENT_MAX)
        return VERR_TOO_MUCH_DATA;
    if (n != 0)
        memcpy(c, pszComment, n);
    return hdr_update(g, g->comment, c, sizeof c);
}

int gal_get_uuid(void *pBackendData, PRTUUID pUuid)
{
    gal_img *g = pBackendData;
    if (g == NULL || pUuid == NULL)
        return VERR_INVALID_PARAMETER;
    memcpy(pUuid->au8, g->uuid.au8, 16);
    return VINF_SUCCESS;
}

int gal_set_uuid(void *pBackendData, PCRTUUID pUuid)
{
    gal_img *g = pBackendData;
    if (g == NULL || pUuid == NULL)
        return VERR_INVALID_PARAMETER;
    return hdr_update(g, g->uuid.au8, pUuid->au8, 16);
}

int gal_get_mod_uuid(void *pBackendData, PRTUUID pUuid)
{
    gal_img *g = pBackendData;
    if (g == NULL || pUuid == NULL)
        return VERR_INVALID_PARAMETER;
    memcpy(pUuid->au8, g->mod_uuid.au8, 16);
    return VINF_SUCCESS;
}

int gal_set_mod_uuid(void *pBackendData, PCRTUUID pUuid)
{
    gal_img *g = pBackendData;
    if (g == NULL || pUuid == NULL)
        return VERR_INVALID_PARAMETER;
    return hdr_update(g, g->mod_uuid.au8, pUuid->au8, 16);
}

static void say(gal_img *g, const char *fmt, ...)
{
    if (g->err == NULL || g->err->pfnMessage == NULL)
        return;
    va_list va;
    va_start(va, fmt);
    g->err->pfnMessage(g->err->Core.pvUser, fmt, va);
    va_end(va);
}

void gal_dump(void *pBackendData)
{
    gal_img *g = pBackendData;
    if (g == NULL)
        return;
    say(g, "%s cache %s: %llu bytes, %s, open flags %#x, comment \"%s\"\n", gal_this_engine.name, g->path,
        (unsigned long long)g->capacity, (g->image_flags & VD_IMAGE_FLAGS_FIXED) ? "fixed" : "dynamic",
        g->open_flags, g->comment);
}

int gal_compose(PVDINTERFACE pConfig, char **ppszOut)
{
    (void)pConfig;
    if (ppszOut == NULL)
        return VERR_INVALID_PARAMETER;
    *ppszOut = NULL; /* a plain file: its name is the location */
    return VINF_SUCCESS;
}

int VDPluginLoad(void *pvUser, PVDBACKENDREGISTER pReg)
{
    if (pReg == NULL || pReg->pfnRegisterCache == NULL || !VD_VERSION_ARE_COMPATIBLE(pReg->u32Version, VD_BACKENDREG_CB_VERSION))
        return VERR_VERSION_MISMATCH;
    return pReg->pfnRegisterCache(pvUser, &gal_backend);
}
