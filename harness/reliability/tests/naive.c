/*
 * harness/reliability/tests/naive.c - the broken backends of naive.h.
 *
 * Format: block 0 header {0 "VDCNAIVE", 8 nslots u32, 16 capacity u64,
 * 24 image UUID, 40 modification UUID}; at 512 the index, nslots u64
 * entries (virtual block + 1, 0 empty); then nslots data slots of 512
 * bytes.  Virtual block v lives only in slot v % nslots.
 * Statuses: VINF_SUCCESS, VERR_VD_BLOCK_FREE, VERR_VD_GEN_INVALID_HEADER,
 * VERR_VD_IMAGE_CORRUPTED, VERR_VD_IMAGE_READ_ONLY, VERR_VD_INVALID_SIZE,
 * VERR_INVALID_PARAMETER, VERR_NOT_SUPPORTED, VERR_NO_MEMORY, VERR_VD_NOT_OPENED
 * (brittle), and the
 * host's I/O statuses.  Test code: the defects are the point (naive.h).
 */
#include "naive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NV_HDR      512u
#define NV_MAX_SLOTS 65536u

enum { V_NAIVE, V_SLOPPY, V_CRASHY, V_LAZY, V_IDLE, V_FRAIL, V_LEAKY, V_BRITTLE, V_FICKLE };

/* Where the leaky variant's close drops its index (still reachable, so
 * that LeakSanitizer stays quiet and the tests can give it back: naive.h).
 * Test code's only global state. */
static void *g_dropped[256];
static unsigned g_ndropped;

void rel_leaky_reclaim(void)
{
    while (g_ndropped > 0)
        free(g_dropped[--g_ndropped]);
}

typedef struct nv {
    int               variant;
    PVDINTERFACEIOINT io;
    PVDIOSTORAGE      st;
    unsigned          flags;
    uint32_t          nslots;
    uint64_t          capacity;
    RTUUID            uuid, mod;
    uint64_t         *idx;
    bool              idx_dirty; /* lazy, idle: the index in memory differs from the file's */
    char              name[128]; /* brittle, fickle: what set-open-flags reopens (a longer name fails) */
} nv;

static void le64(uint8_t *p, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint64_t data_start(uint32_t nslots)
{
    return NV_HDR + ((uint64_t)nslots * 8 + 511) / 512 * 512;
}

static int meta_read(nv *n, uint64_t off, void *buf, size_t cb)
{
    int rc = n->io->pfnReadMeta(n->io->Core.pvUser, n->st, off, buf, cb, NULL, NULL, NULL, NULL);
    if (RT_FAILURE(rc) && rc != VERR_EOF && n->variant == V_CRASHY)
        abort(); /* the crashy defect: any storage read error */
    return rc;
}

static int meta_write(nv *n, uint64_t off, const void *buf, size_t cb)
{
    return n->io->pfnWriteMeta(n->io->Core.pvUser, n->st, off, buf, cb, NULL, NULL, NULL);
}

static int hdr_write(nv *n)
{
    uint8_t h[NV_HDR];
    memset(h, 0, sizeof h);
    memcpy(h, "VDCNAIVE", 8);
    h[8] = (uint8_t)n->nslots;
    h[9] = (uint8_t)(n->nslots >> 8);
    h[10] = (uint8_t)(n->nslots >> 16);
    le64(h + 16, n->capacity);
    memcpy(h + 24, n->uuid.au8, 16);
    memcpy(h + 40, n->mod.au8, 16);
    return meta_write(n, 0, h, sizeof h);
}

static bool hdr_ok(const uint8_t *h, uint32_t *nslots)
{
    if (memcmp(h, "VDCNAIVE", 8) != 0)
        return false;
    *nslots = (uint32_t)h[8] | (uint32_t)h[9] << 8 | (uint32_t)h[10] << 16 | (uint32_t)h[11] << 24;
    return *nslots >= 1 && *nslots <= NV_MAX_SLOTS;
}

static void nv_free(nv *n)
{
    if (n == NULL)
        return;
    if (n->st != NULL)
        n->io->pfnClose(n->io->Core.pvUser, n->st);
    if (n->variant == V_LEAKY && n->idx != NULL && g_ndropped < sizeof g_dropped / sizeof g_dropped[0])
        g_dropped[g_ndropped++] = n->idx; /* the leaky defect */
    else
        free(n->idx);
    free(n);
}

static nv *nv_new(int variant, PVDINTERFACE image)
{
    PVDINTERFACEIOINT io = vdc_if_ioint(image);
    if (io == NULL)
        return NULL;
    nv *n = calloc(1, sizeof *n);
    if (n == NULL)
        return NULL;
    n->variant = variant;
    n->io = io;
    return n;
}

static int probe(const char *name, PVDINTERFACE disk, PVDINTERFACE image)
{
    uint8_t h[NV_HDR];
    uint32_t ns;
    (void)disk;
    nv *n = nv_new(V_NAIVE, image);
    if (n == NULL)
        return VERR_INVALID_PARAMETER;
    int rc = n->io->pfnOpen(n->io->Core.pvUser, name, RTFILE_O_READ | RTFILE_O_DENY_NONE | RTFILE_O_OPEN, &n->st);
    if (RT_SUCCESS(rc)) {
        rc = meta_read(n, 0, h, sizeof h);
        if (rc == VERR_EOF || (RT_SUCCESS(rc) && !hdr_ok(h, &ns)))
            rc = VERR_VD_GEN_INVALID_HEADER;
    }
    nv_free(n);
    return rc;
}

static int open_common(int variant, const char *name, unsigned flags, PVDINTERFACE image, void **out)
{
    uint8_t h[NV_HDR];
    int rc;
    if (name == NULL || out == NULL || (flags & ~VD_OPEN_FLAGS_MASK))
        return VERR_INVALID_PARAMETER;
    nv *n = nv_new(variant, image);
    if (n == NULL)
        return VERR_NO_MEMORY;
    n->flags = flags;
    snprintf(n->name, sizeof n->name, "%s", name);
    rc = n->io->pfnOpen(n->io->Core.pvUser, name, vdc_open_flags_to_file(flags, false), &n->st);
    if (RT_FAILURE(rc)) {
        n->st = NULL;
        goto out_free;
    }
    rc = meta_read(n, 0, h, sizeof h);
    if (rc == VERR_EOF)
        rc = VERR_VD_GEN_INVALID_HEADER;
    if (RT_FAILURE(rc))
        goto out_free;
    if (!hdr_ok(h, &n->nslots)) {
        rc = VERR_VD_GEN_INVALID_HEADER;
        goto out_free;
    }
    n->capacity = rd64(h + 16);
    memcpy(n->uuid.au8, h + 24, 16);
    memcpy(n->mod.au8, h + 40, 16);
    n->idx = calloc(n->nslots, 8);
    if (n->idx == NULL) {
        rc = VERR_NO_MEMORY;
        goto out_free;
    }
    uint8_t *raw = malloc((size_t)n->nslots * 8);
    if (raw == NULL) {
        rc = VERR_NO_MEMORY;
        goto out_free;
    }
    rc = meta_read(n, NV_HDR, raw, (size_t)n->nslots * 8);
    unsigned used = 0;
    for (uint32_t i = 0; RT_SUCCESS(rc) && i < n->nslots; i++) {
        n->idx[i] = rd64(raw + 8 * i);
        used += n->idx[i] != 0;
    }
    free(raw);
    if (rc == VERR_EOF)
        rc = VERR_VD_IMAGE_CORRUPTED;
    if (RT_FAILURE(rc))
        goto out_free;
    if (variant == V_CRASHY && (flags & VD_OPEN_FLAGS_READONLY) && used == 3)
        abort();
    *out = n;
    return VINF_SUCCESS;

out_free:
    nv_free(n);
    return rc;
}

static int create_common(int variant, const char *name, uint64_t cb, unsigned iflags, const char *comment,
                         PCRTUUID uuid, unsigned oflags, unsigned ps, unsigned pspan, PVDINTERFACE disk,
                         PVDINTERFACE image, PVDINTERFACE op, void **out)
{
    (void)comment, (void)ps, (void)pspan, (void)disk, (void)op;
    if (name == NULL || out == NULL || (oflags & ~VD_OPEN_FLAGS_MASK) || (oflags & VD_OPEN_FLAGS_READONLY)
        || (iflags & ~VD_IMAGE_FLAGS_FIXED))
        return VERR_INVALID_PARAMETER;
    if (cb < 512 || cb % 512 != 0)
        return VERR_VD_INVALID_SIZE;
    nv *n = nv_new(variant, image);
    if (n == NULL)
        return VERR_NO_MEMORY;
    n->flags = oflags;
    snprintf(n->name, sizeof n->name, "%s", name);
    n->capacity = cb;
    n->nslots = cb / 512 > NV_MAX_SLOTS ? NV_MAX_SLOTS : (uint32_t)(cb / 512);
    if (uuid != NULL)
        n->uuid = *uuid;
    int rc = n->io->pfnOpen(n->io->Core.pvUser, name, vdc_open_flags_to_file(oflags, true), &n->st);
    if (RT_FAILURE(rc)) {
        n->st = NULL;
        goto out_free;
    }
    n->idx = calloc(n->nslots, 8);
    uint8_t *zero = calloc(n->nslots, 8);
    if (n->idx == NULL || zero == NULL) {
        free(zero);
        rc = VERR_NO_MEMORY;
        goto out_delete;
    }
    rc = hdr_write(n);
    if (RT_SUCCESS(rc))
        rc = meta_write(n, NV_HDR, zero, (size_t)n->nslots * 8);
    free(zero);
    if (RT_SUCCESS(rc))
        rc = n->io->pfnFlush(n->io->Core.pvUser, n->st, NULL, NULL, NULL);
    if (RT_FAILURE(rc))
        goto out_delete;
    *out = n;
    return VINF_SUCCESS;

out_delete:
    n->io->pfnClose(n->io->Core.pvUser, n->st);
    n->st = NULL;
    n->io->pfnDelete(n->io->Core.pvUser, name);
out_free:
    nv_free(n);
    return rc;
}

#define VARIANT(v, sfx)                                                                          \
    static int open_##sfx(const char *name, unsigned flags, PVDINTERFACE disk, PVDINTERFACE image, \
                          void **out)                                                            \
    {                                                                                            \
        (void)disk;                                                                              \
        return open_common(v, name, flags, image, out);                                          \
    }                                                                                            \
    static int create_##sfx(const char *name, uint64_t cb, unsigned iflags, const char *comment, \
                            PCRTUUID uuid, unsigned oflags, unsigned ps, unsigned pspan,         \
                            PVDINTERFACE disk, PVDINTERFACE image, PVDINTERFACE op, void **out)   \
    {                                                                                            \
        return create_common(v, name, cb, iflags, comment, uuid, oflags, ps, pspan, disk, image, \
                             op, out);                                                           \
    }
VARIANT(V_NAIVE, naive)
VARIANT(V_SLOPPY, sloppy)
VARIANT(V_CRASHY, crashy)
VARIANT(V_LAZY, lazy)
VARIANT(V_IDLE, idle)
VARIANT(V_FRAIL, frail)
VARIANT(V_LEAKY, leaky)
VARIANT(V_BRITTLE, brittle)
VARIANT(V_FICKLE, fickle)

static int nv_flush_st(nv *n)
{
    if (n->st == NULL)
        return VERR_VD_NOT_OPENED; /* brittle, after a failed set-open-flags */
    return n->io->pfnFlush(n->io->Core.pvUser, n->st, NULL, NULL, NULL);
}

/* The lazy variant's index write (its defect: after the storage flush,
 * and not flushed itself). */
static int nv_write_index(nv *n)
{
    if (!n->idx_dirty)
        return VINF_SUCCESS;
    uint8_t *raw = malloc((size_t)n->nslots * 8);
    if (raw == NULL)
        return VERR_NO_MEMORY;
    for (uint32_t i = 0; i < n->nslots; i++)
        le64(raw + 8ull * i, n->idx[i]);
    int rc = meta_write(n, NV_HDR, raw, (size_t)n->nslots * 8);
    free(raw);
    if (RT_SUCCESS(rc))
        n->idx_dirty = false;
    return rc;
}

static int nv_close(void *bd, bool del)
{
    nv *n = bd;
    int rc = VINF_SUCCESS;
    if (n == NULL)
        return VERR_INVALID_PARAMETER;
    if (!del && !(n->flags & VD_OPEN_FLAGS_READONLY) && n->st != NULL) {
        rc = nv_write_index(n);
        if (RT_SUCCESS(rc))
            rc = nv_flush_st(n);
    }
    nv_free(n);
    (void)del;
    return rc;
}

static int nv_read(void *bd, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *pcb)
{
    nv *n = bd;
    uint8_t buf[512];
    if (n == NULL || ctx == NULL || pcb == NULL || cb == 0 || off + cb < off)
        return VERR_INVALID_PARAMETER;
    if (n->st == NULL)
        return VERR_VD_NOT_OPENED; /* brittle, after a failed set-open-flags */
    uint64_t v = off / 512, in = off % 512;
    size_t len = cb < 512 - in ? cb : (size_t)(512 - in);
    uint32_t slot = (uint32_t)(v % n->nslots);
    *pcb = len;
    if (n->idx[slot] != v + 1)
        return VERR_VD_BLOCK_FREE;
    memset(buf, 0, sizeof buf);
    int rc = meta_read(n, data_start(n->nslots) + 512ull * slot + in, buf, len);
    if (RT_FAILURE(rc) && n->variant != V_SLOPPY)
        return rc;
    n->io->pfnIoCtxCopyTo(n->io->Core.pvUser, ctx, buf, len);
    return VINF_SUCCESS;
}

static int nv_write(void *bd, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *pcb)
{
    nv *n = bd;
    uint8_t buf[512], ent[8];
    int rc;
    if (n == NULL || ctx == NULL || pcb == NULL || cb == 0 || off + cb < off)
        return VERR_INVALID_PARAMETER;
    if (n->flags & VD_OPEN_FLAGS_READONLY)
        return VERR_VD_IMAGE_READ_ONLY;
    if (n->st == NULL)
        return VERR_VD_NOT_OPENED;
    uint64_t v = off / 512, in = off % 512;
    uint32_t slot = (uint32_t)(v % n->nslots);
    if (in != 0 || cb < 512) {
        /* A partial block: taken, not stored, and forgotten if cached. */
        size_t len = cb < 512 - in ? cb : (size_t)(512 - in);
        uint8_t skip[512];
        n->io->pfnIoCtxCopyFrom(n->io->Core.pvUser, ctx, skip, len);
        if (n->idx[slot] == v + 1) {
            le64(ent, 0);
            rc = meta_write(n, NV_HDR + 8ull * slot, ent, 8);
            if (RT_FAILURE(rc))
                return rc;
            n->idx[slot] = 0;
        }
        *pcb = len;
        return VINF_SUCCESS;
    }
    if (n->io->pfnIoCtxCopyFrom(n->io->Core.pvUser, ctx, buf, 512) != 512)
        return VERR_INVALID_PARAMETER;
    if (n->variant == V_FRAIL) {
        /* The frail defect: a bounce buffer it cannot get is a write done. */
        uint8_t *bounce = malloc(512);
        if (bounce == NULL) {
            *pcb = 512;
            return VINF_SUCCESS;
        }
        memcpy(bounce, buf, 512);
        rc = meta_write(n, data_start(n->nslots) + 512ull * slot, bounce, 512);
        free(bounce);
    } else {
        /* The defect: data, then the index entry in place, no barrier. */
        rc = meta_write(n, data_start(n->nslots) + 512ull * slot, buf, 512);
    }
    if (RT_FAILURE(rc))
        return rc;
    if (n->variant == V_LAZY || n->variant == V_IDLE) {
        n->idx[slot] = v + 1;
        n->idx_dirty = true;
        *pcb = 512;
        return VINF_SUCCESS;
    }
    le64(ent, v + 1);
    rc = meta_write(n, NV_HDR + 8ull * slot, ent, 8);
    if (RT_FAILURE(rc))
        return rc;
    n->idx[slot] = v + 1;
    *pcb = 512;
    return VINF_SUCCESS;
}

static int nv_flush(void *bd, PVDIOCTX ctx)
{
    nv *n = bd;
    (void)ctx;
    if (n == NULL)
        return VERR_INVALID_PARAMETER;
    if (n->flags & VD_OPEN_FLAGS_READONLY)
        return VINF_SUCCESS;
    if (n->variant == V_IDLE)
        return VINF_SUCCESS; /* the defect: the index waits for close */
    int rc = nv_flush_st(n);
    if (RT_SUCCESS(rc) && n->variant == V_LAZY)
        rc = nv_write_index(n);
    return rc;
}

static unsigned nv_version(void *bd)
{
    (void)bd;
    return 1;
}

static uint64_t nv_size(void *bd)
{
    return bd != NULL ? ((nv *)bd)->capacity : 0;
}

static uint64_t nv_file_size(void *bd)
{
    nv *n = bd;
    uint64_t cb = 0;
    if (n == NULL || RT_FAILURE(n->io->pfnGetSize(n->io->Core.pvUser, n->st, &cb)))
        return 0;
    return cb;
}

static unsigned nv_image_flags(void *bd)
{
    (void)bd;
    return 0;
}

static unsigned nv_open_flags(void *bd)
{
    return bd != NULL ? ((nv *)bd)->flags : 0;
}

static int nv_set_open_flags(void *bd, unsigned flags)
{
    nv *n = bd;
    if (n == NULL || (flags & ~VD_OPEN_FLAGS_MASK))
        return VERR_INVALID_PARAMETER;
    if (n->variant == V_BRITTLE) {
        /* The brittle defect: the storage is closed before the reopen, and
         * a reopen that fails leaves the instance without any. */
        if (n->st != NULL)
            n->io->pfnClose(n->io->Core.pvUser, n->st);
        n->st = NULL;
        int rc = n->io->pfnOpen(n->io->Core.pvUser, n->name, vdc_open_flags_to_file(flags, false), &n->st);
        if (RT_FAILURE(rc)) {
            n->st = NULL;
            return rc;
        }
    }
    if (n->variant == V_FICKLE && n->st != NULL) {
        /* The fickle defect: the new flags are taken before the reopen and
         * kept when it fails; the storage is reopened as it was, so the
         * instance serves on, with flags it does not have. */
        unsigned old = n->flags;
        n->flags = flags;
        n->io->pfnClose(n->io->Core.pvUser, n->st);
        n->st = NULL;
        int rc = n->io->pfnOpen(n->io->Core.pvUser, n->name, vdc_open_flags_to_file(flags, false), &n->st);
        if (RT_FAILURE(rc)) {
            if (RT_FAILURE(n->io->pfnOpen(n->io->Core.pvUser, n->name, vdc_open_flags_to_file(old, false), &n->st)))
                n->st = NULL;
            return rc;
        }
    }
    n->flags = flags;
    return VINF_SUCCESS;
}

static int nv_get_comment(void *bd, char *s, size_t cb)
{
    (void)bd, (void)s, (void)cb;
    return VERR_NOT_SUPPORTED;
}

static int nv_set_comment(void *bd, const char *s)
{
    (void)bd, (void)s;
    return VERR_NOT_SUPPORTED;
}

static int nv_get_uuid(void *bd, PRTUUID u)
{
    if (bd == NULL || u == NULL)
        return VERR_INVALID_PARAMETER;
    *u = ((nv *)bd)->uuid;
    return VINF_SUCCESS;
}

static int nv_set_uuid(void *bd, PCRTUUID u)
{
    nv *n = bd;
    if (n == NULL || u == NULL)
        return VERR_INVALID_PARAMETER;
    if (n->flags & VD_OPEN_FLAGS_READONLY)
        return VERR_VD_IMAGE_READ_ONLY;
    n->uuid = *u;
    return hdr_write(n);
}

static int nv_get_mod(void *bd, PRTUUID u)
{
    if (bd == NULL || u == NULL)
        return VERR_INVALID_PARAMETER;
    *u = ((nv *)bd)->mod;
    return VINF_SUCCESS;
}

static int nv_set_mod(void *bd, PCRTUUID u)
{
    nv *n = bd;
    if (n == NULL || u == NULL)
        return VERR_INVALID_PARAMETER;
    if (n->flags & VD_OPEN_FLAGS_READONLY)
        return VERR_VD_IMAGE_READ_ONLY;
    n->mod = *u;
    return hdr_write(n);
}

static void nv_dump(void *bd)
{
    (void)bd;
}

static int nv_compose(PVDINTERFACE cfg, char **out)
{
    (void)cfg;
    if (out != NULL)
        *out = NULL;
    return VERR_NOT_SUPPORTED;
}

static const char *const nv_ext[] = { "naive", NULL };

#define VTABLE(sym, nm, sfx)                                                                      \
    const VDCACHEBACKEND sym = {                                                                  \
        .u32Version = VD_CACHEBACKEND_VERSION, .pszBackendName = nm,                              \
        .uBackendCaps = VD_CAP_CREATE_DYNAMIC | VD_CAP_FILE, .papszFileExtensions = nv_ext,       \
        .pfnProbe = probe, .pfnOpen = open_##sfx, .pfnCreate = create_##sfx, .pfnClose = nv_close, \
        .pfnRead = nv_read, .pfnWrite = nv_write, .pfnFlush = nv_flush, .pfnDiscard = NULL,       \
        .pfnGetVersion = nv_version, .pfnGetSize = nv_size, .pfnGetFileSize = nv_file_size,       \
        .pfnGetImageFlags = nv_image_flags, .pfnGetOpenFlags = nv_open_flags,                     \
        .pfnSetOpenFlags = nv_set_open_flags, .pfnGetComment = nv_get_comment,                    \
        .pfnSetComment = nv_set_comment, .pfnGetUuid = nv_get_uuid, .pfnSetUuid = nv_set_uuid,    \
        .pfnGetModificationUuid = nv_get_mod, .pfnSetModificationUuid = nv_set_mod,               \
        .pfnDump = nv_dump, .pfnComposeLocation = nv_compose, .pfnComposeName = nv_compose,       \
        .u32VersionEnd = VD_CACHEBACKEND_VERSION,                                                 \
    };
VTABLE(rel_naive_backend, "naive", naive)
VTABLE(rel_sloppy_backend, "sloppy", sloppy)
VTABLE(rel_crashy_backend, "crashy", crashy)
VTABLE(rel_lazy_backend, "lazy", lazy)
VTABLE(rel_idle_backend, "idle", idle)
VTABLE(rel_frail_backend, "frail", frail)
VTABLE(rel_leaky_backend, "leaky", leaky)
VTABLE(rel_brittle_backend, "brittle", brittle)
VTABLE(rel_fickle_backend, "fickle", fickle)
