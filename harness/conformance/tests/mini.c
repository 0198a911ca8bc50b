/*
 * harness/conformance/tests/mini.c - "mini", a tiny in-memory cache backend
 * and its planted-defect variants, for the conformance-tool tests.
 * Contract, variants and status codes: mini.h; the obligations are
 * spec/contract.md.
 *
 * Header file (64 bytes, little-endian): 0 magic "VDCMINI1", 8 capacity,
 * 16 image flags (u32), 20 zero, 24 image UUID, 40 modification UUID,
 * 56 zero.  Data never reaches the file: it lives in 64 direct-mapped slots
 * of 4 KiB (block b in slot b % 64) while the instance is open.  Writes
 * process at most one block per call, reads serve or miss at most one block
 * per call (VD loops); a partial write to a block that is not cached is
 * accepted and forgotten.
 */
#include "mini.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MINI_BLOCK 4096u
#define MINI_SLOTS 64u
#define MINI_HDR   64u

enum { V_MINI, V_PLANTED, V_LYING, V_FORGET };

typedef struct mini {
    PVDINTERFACEIOINT io;
    PVDINTERFACEERROR err;
    PVDIOSTORAGE      stor;
    char             *name;
    int               variant;
    unsigned          open_flags, image_flags;
    uint64_t          capacity;
    RTUUID            uuid, mod;
    uint64_t          tag[MINI_SLOTS];    /* block + 1, 0 empty */
    unsigned          writes[MINI_SLOTS]; /* pfnWrite calls to the cached block */
    uint8_t           data[MINI_SLOTS][MINI_BLOCK];
    uint8_t           tmp[MINI_BLOCK];
} mini;

static const uint8_t magic[8] = { 'V', 'D', 'C', 'M', 'I', 'N', 'I', '1' };

static void put64(uint8_t *p, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static int hdr_write(mini *m)
{
    uint8_t h[MINI_HDR];
    memset(h, 0, sizeof h);
    memcpy(h, magic, sizeof magic);
    put64(h + 8, m->capacity);
    put64(h + 16, m->image_flags);
    memcpy(h + 24, m->uuid.au8, 16);
    memcpy(h + 40, m->mod.au8, 16);
    return m->io->pfnWriteMeta(m->io->Core.pvUser, m->stor, 0, h, sizeof h, NULL, NULL, NULL);
}

/* Reads and checks the header of an open storage: VERR_VD_GEN_INVALID_HEADER
 * for anything that is not one. */
static int hdr_read(PVDINTERFACEIOINT io, PVDIOSTORAGE stor, mini *m)
{
    uint64_t size = 0;
    int rc = io->pfnGetSize(io->Core.pvUser, stor, &size);
    if (rc < 0)
        return rc;
    if (size < MINI_HDR)
        return VERR_VD_GEN_INVALID_HEADER;
    uint8_t h[MINI_HDR];
    rc = io->pfnReadMeta(io->Core.pvUser, stor, 0, h, sizeof h, NULL, NULL, NULL, NULL);
    if (rc < 0)
        return rc;
    uint64_t flags = get64(h + 16);
    if (memcmp(h, magic, sizeof magic) != 0 || get64(h + 8) == 0 || (flags & ~(uint64_t)VD_IMAGE_FLAGS_FIXED))
        return VERR_VD_GEN_INVALID_HEADER;
    if (m != NULL) {
        m->capacity = get64(h + 8);
        m->image_flags = (unsigned)flags;
        memcpy(m->uuid.au8, h + 24, 16);
        memcpy(m->mod.au8, h + 40, 16);
    }
    return VINF_SUCCESS;
}

static int open_storage(mini *m, unsigned flags, bool create)
{
    return m->io->pfnOpen(m->io->Core.pvUser, m->name, vdc_open_flags_to_file(flags, create), &m->stor);
}

static void close_storage(mini *m)
{
    if (m->stor != NULL)
        m->io->pfnClose(m->io->Core.pvUser, m->stor);
    m->stor = NULL;
}

static mini *alloc_mini(const char *name, PVDINTERFACE disk, PVDINTERFACE image, int variant)
{
    mini *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    m->name = strdup(name);
    if (m->name == NULL) {
        free(m);
        return NULL;
    }
    m->io = vdc_if_ioint(image);
    m->err = vdc_if_error(disk);
    m->variant = variant;
    return m;
}

static void free_mini(mini *m)
{
    free(m->name);
    free(m);
}

/* ---- lifecycle ------------------------------------------------------------ */

static int mini_probe(const char *file, PVDINTERFACE disk, PVDINTERFACE image)
{
    (void)disk;
    PVDINTERFACEIOINT io = vdc_if_ioint(image);
    if (file == NULL || io == NULL)
        return VERR_INVALID_PARAMETER;
    PVDIOSTORAGE stor = NULL;
    int rc = io->pfnOpen(io->Core.pvUser, file, vdc_open_flags_to_file(VD_OPEN_FLAGS_READONLY, false), &stor);
    if (rc < 0)
        return rc;
    rc = hdr_read(io, stor, NULL);
    io->pfnClose(io->Core.pvUser, stor);
    return rc;
}

static int open_common(const char *file, unsigned flags, PVDINTERFACE disk, PVDINTERFACE image, void **pbd,
                       int variant)
{
    if (file == NULL || pbd == NULL || (flags & ~VD_OPEN_FLAGS_MASK) || vdc_if_ioint(image) == NULL)
        return VERR_INVALID_PARAMETER;
    mini *m = alloc_mini(file, disk, image, variant);
    if (m == NULL)
        return VERR_NO_MEMORY;
    m->open_flags = flags;
    int rc = open_storage(m, flags, false);
    if (rc < 0)
        goto out_free;
    rc = hdr_read(m->io, m->stor, m);
    if (rc < 0) {
        if (rc == VERR_VD_GEN_INVALID_HEADER)
            rc = VERR_VD_IMAGE_CORRUPTED;
        goto out_close;
    }
    *pbd = m;
    return VINF_SUCCESS;
out_close:
    close_storage(m);
out_free:
    free_mini(m);
    return rc;
}

static int create_common(const char *file, uint64_t size, unsigned image_flags, PCRTUUID uuid, unsigned flags,
                         PVDINTERFACE disk, PVDINTERFACE image, void **pbd, int variant)
{
    if (file == NULL || pbd == NULL || (flags & ~VD_OPEN_FLAGS_MASK) || (flags & VD_OPEN_FLAGS_READONLY)
        || (image_flags & ~VD_IMAGE_FLAGS_FIXED) || vdc_if_ioint(image) == NULL)
        return VERR_INVALID_PARAMETER;
    if (size == 0)
        return VERR_VD_INVALID_SIZE;
    mini *m = alloc_mini(file, disk, image, variant);
    if (m == NULL)
        return VERR_NO_MEMORY;
    m->open_flags = flags;
    m->capacity = size;
    m->image_flags = image_flags;
    if (uuid != NULL)
        m->uuid = *uuid;
    int rc = open_storage(m, flags, true);
    if (rc < 0)
        goto out_free;
    rc = hdr_write(m);
    if (rc < 0)
        goto out_delete;
    *pbd = m;
    return VINF_SUCCESS;
out_delete:
    close_storage(m);
    m->io->pfnDelete(m->io->Core.pvUser, m->name);
out_free:
    free_mini(m);
    return rc;
}

static int mini_close(void *bd, bool del)
{
    mini *m = bd;
    if (m == NULL)
        return VERR_INVALID_PARAMETER;
    int rc = VINF_SUCCESS;
    close_storage(m);
    if (del)
        rc = m->io->pfnDelete(m->io->Core.pvUser, m->name);
    free_mini(m);
    return rc;
}

/* ---- data path ------------------------------------------------------------ */

static int mini_read(void *bd, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *pcb)
{
    mini *m = bd;
    if (m == NULL || ctx == NULL || pcb == NULL || cb == 0)
        return VERR_INVALID_PARAMETER;
    uint64_t b = off / MINI_BLOCK;
    size_t in = (size_t)(off % MINI_BLOCK);
    size_t n = MINI_BLOCK - in < cb ? MINI_BLOCK - in : cb;
    unsigned s = (unsigned)(b % MINI_SLOTS);
    *pcb = n;
    if (m->variant == V_FORGET || m->tag[s] != b + 1)
        return VERR_VD_BLOCK_FREE;
    if (m->io->pfnIoCtxCopyTo(m->io->Core.pvUser, ctx, m->data[s] + in, n) != n)
        return VERR_INVALID_STATE;
    return VINF_SUCCESS;
}

static int mini_write(void *bd, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *pcb)
{
    mini *m = bd;
    if (m == NULL || ctx == NULL || pcb == NULL || cb == 0)
        return VERR_INVALID_PARAMETER;
    if (m->open_flags & VD_OPEN_FLAGS_READONLY)
        return VERR_VD_IMAGE_READ_ONLY;
    uint64_t b = off / MINI_BLOCK;
    size_t in = (size_t)(off % MINI_BLOCK);
    size_t n = MINI_BLOCK - in < cb ? MINI_BLOCK - in : cb;
    unsigned s = (unsigned)(b % MINI_SLOTS);
    if (m->io->pfnIoCtxCopyFrom(m->io->Core.pvUser, ctx, m->tmp, n) != n)
        return VERR_INVALID_STATE;
    *pcb = n;
    bool cached = m->tag[s] == b + 1;
    if (cached && m->variant == V_LYING)
        return VINF_SUCCESS; /* the defect: the old bytes stay */
    if (n == MINI_BLOCK || cached) {
        if (!cached) {
            m->tag[s] = b + 1;
            m->writes[s] = 0;
        }
        memcpy(m->data[s] + in, m->tmp, n);
        if (++m->writes[s] >= 3 && m->variant == V_PLANTED)
            m->data[s][in] ^= 0x40; /* the defect */
    }
    return VINF_SUCCESS;
}

static int mini_flush(void *bd, PVDIOCTX ctx)
{
    (void)ctx;
    mini *m = bd;
    if (m == NULL)
        return VERR_INVALID_PARAMETER;
    return m->io->pfnFlush(m->io->Core.pvUser, m->stor, NULL, NULL, NULL);
}

/* ---- getters and setters ---------------------------------------------------- */

static unsigned mini_get_version(void *bd)
{
    return bd != NULL ? 1 : 0;
}

static uint64_t mini_get_size(void *bd)
{
    return bd != NULL ? ((mini *)bd)->capacity : 0;
}

static uint64_t mini_get_file_size(void *bd)
{
    mini *m = bd;
    uint64_t cb = 0;
    if (m != NULL && m->stor != NULL)
        m->io->pfnGetSize(m->io->Core.pvUser, m->stor, &cb);
    return cb;
}

static unsigned mini_get_image_flags(void *bd)
{
    return bd != NULL ? ((mini *)bd)->image_flags : 0;
}

static unsigned mini_get_open_flags(void *bd)
{
    return bd != NULL ? ((mini *)bd)->open_flags : 0;
}

static int mini_set_open_flags(void *bd, unsigned flags)
{
    mini *m = bd;
    if (m == NULL || (flags & ~VD_OPEN_FLAGS_MASK))
        return VERR_INVALID_PARAMETER;
    close_storage(m);
    int rc = open_storage(m, flags, false);
    if (rc < 0) {
        int rc2 = open_storage(m, m->open_flags, false);
        return rc2 < 0 ? rc2 : rc;
    }
    m->open_flags = flags;
    return VINF_SUCCESS;
}

static int mini_get_comment(void *bd, char *buf, size_t cb)
{
    (void)bd;
    (void)buf;
    (void)cb;
    return VERR_NOT_SUPPORTED;
}

static int mini_set_comment(void *bd, const char *comment)
{
    (void)bd;
    (void)comment;
    return VERR_NOT_SUPPORTED;
}

static int set_uuid(void *bd, PCRTUUID u, bool mod)
{
    mini *m = bd;
    if (m == NULL || u == NULL)
        return VERR_INVALID_PARAMETER;
    if (m->open_flags & VD_OPEN_FLAGS_READONLY)
        return VERR_VD_IMAGE_READ_ONLY;
    RTUUID old = mod ? m->mod : m->uuid;
    if (mod)
        m->mod = *u;
    else
        m->uuid = *u;
    int rc = hdr_write(m);
    if (rc < 0) {
        if (mod)
            m->mod = old;
        else
            m->uuid = old;
    }
    return rc;
}

static int mini_get_uuid(void *bd, PRTUUID u)
{
    if (bd == NULL || u == NULL)
        return VERR_INVALID_PARAMETER;
    *u = ((mini *)bd)->uuid;
    return VINF_SUCCESS;
}

static int mini_set_uuid(void *bd, PCRTUUID u)
{
    return set_uuid(bd, u, false);
}

static int mini_get_mod_uuid(void *bd, PRTUUID u)
{
    if (bd == NULL || u == NULL)
        return VERR_INVALID_PARAMETER;
    *u = ((mini *)bd)->mod;
    return VINF_SUCCESS;
}

static int mini_set_mod_uuid(void *bd, PCRTUUID u)
{
    return set_uuid(bd, u, true);
}

static int message(mini *m, const char *fmt, ...)
{
    if (m->err == NULL || m->err->pfnMessage == NULL)
        return VINF_SUCCESS;
    va_list ap;
    va_start(ap, fmt);
    int rc = m->err->pfnMessage(m->err->Core.pvUser, fmt, ap);
    va_end(ap);
    return rc;
}

static void mini_dump(void *bd)
{
    mini *m = bd;
    if (m != NULL)
        message(m, "mini cache %s: capacity %llu\n", m->name, (unsigned long long)m->capacity);
}

static int mini_compose(PVDINTERFACE cfg, char **out)
{
    (void)cfg;
    (void)out;
    return VERR_NOT_SUPPORTED;
}

/* ---- the vtables ------------------------------------------------------------ */

#define VARIANT_FNS(tag, v)                                                                               \
    static int tag##_open(const char *f, unsigned fl, PVDINTERFACE d, PVDINTERFACE i, void **bd)          \
    {                                                                                                     \
        return open_common(f, fl, d, i, bd, v);                                                           \
    }                                                                                                     \
    static int tag##_create(const char *f, uint64_t sz, unsigned imf, const char *c, PCRTUUID u,          \
                            unsigned fl, unsigned ps, unsigned pn, PVDINTERFACE d, PVDINTERFACE i,        \
                            PVDINTERFACE op, void **bd)                                                   \
    {                                                                                                     \
        (void)c;                                                                                          \
        (void)ps;                                                                                         \
        (void)pn;                                                                                         \
        (void)op;                                                                                         \
        return create_common(f, sz, imf, u, fl, d, i, bd, v);                                             \
    }

VARIANT_FNS(v_mini, V_MINI)
VARIANT_FNS(v_planted, V_PLANTED)
VARIANT_FNS(v_lying, V_LYING)
VARIANT_FNS(v_forget, V_FORGET)

static const char *const mini_ext[] = { "vci", NULL };

#define MINI_VTABLE(nm, tag)                                                                               \
    {                                                                                                     \
        .u32Version = VD_CACHEBACKEND_VERSION, .pszBackendName = nm,                                      \
        .uBackendCaps = VD_CAP_CREATE_FIXED | VD_CAP_CREATE_DYNAMIC | VD_CAP_FILE | VD_CAP_VFS,           \
        .papszFileExtensions = mini_ext, .paConfigInfo = NULL, .pfnProbe = mini_probe,                    \
        .pfnOpen = tag##_open, .pfnCreate = tag##_create, .pfnClose = mini_close, .pfnRead = mini_read,   \
        .pfnWrite = mini_write, .pfnFlush = mini_flush, .pfnDiscard = NULL,                               \
        .pfnGetVersion = mini_get_version, .pfnGetSize = mini_get_size,                                   \
        .pfnGetFileSize = mini_get_file_size, .pfnGetImageFlags = mini_get_image_flags,                   \
        .pfnGetOpenFlags = mini_get_open_flags, .pfnSetOpenFlags = mini_set_open_flags,                   \
        .pfnGetComment = mini_get_comment, .pfnSetComment = mini_set_comment,                             \
        .pfnGetUuid = mini_get_uuid, .pfnSetUuid = mini_set_uuid,                                         \
        .pfnGetModificationUuid = mini_get_mod_uuid, .pfnSetModificationUuid = mini_set_mod_uuid,         \
        .pfnDump = mini_dump, .pfnComposeLocation = mini_compose, .pfnComposeName = mini_compose,         \
        .u32VersionEnd = VD_CACHEBACKEND_VERSION,                                                         \
    }

const VDCACHEBACKEND conf_mini_backend = MINI_VTABLE("mini", v_mini);
const VDCACHEBACKEND conf_planted_backend = MINI_VTABLE("mini-planted", v_planted);
const VDCACHEBACKEND conf_lying_backend = MINI_VTABLE("mini-lying", v_lying);
const VDCACHEBACKEND conf_forget_backend = MINI_VTABLE("mini-forget", v_forget);

#ifdef MINI_PLUGIN
int VDPluginLoad(void *pvUser, PVDBACKENDREGISTER pReg)
{
    static const VDCACHEBACKEND *const variants[] = { &conf_mini_backend, &conf_planted_backend,
                                                      &conf_lying_backend, &conf_forget_backend };
    if (pReg == NULL || pReg->pfnRegisterCache == NULL)
        return VERR_INVALID_PARAMETER;
    return pReg->pfnRegisterCache(pvUser, variants[MINI_PLUGIN]);
}
#endif
