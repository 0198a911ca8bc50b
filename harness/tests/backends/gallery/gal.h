/*
 * harness/tests/backends/gallery/gal.h - plumbing shared by the gallery of
 * outsider-built cache backends (spec/contract.md, spec/vdcache.h).
 *
 * Each gallery backend is a VirtualBox plugin (VDPluginLoad, in gal_common.c)
 * that registers one cache backend.  It is written from the ABI header alone,
 * sharing nothing with ref/ or toy.c: gal_common.c does what every file-based
 * cache needs (a 512-byte header with the capacity, UUIDs and comment; probe,
 * open, create, close, flags, getters and setters), and one engine file
 * (sector.c, decline.c, miss.c, log.c) stores the data its own way through
 * the hooks of `gal_engine`.  Defective twins are the same sources built with
 * one GAL_DEFECT_* define (listed in each engine's header comment).
 *
 * Header (sector 0 of the file, integers little-endian):
 *   0 magic[8] (the engine's), 8 u32 version 1, 12 u32 image flags,
 *   16 u64 capacity, 24 image UUID[16], 40 modification UUID[16],
 *   56 comment[256] NUL-padded, 312..503 zero, 504 u64 checksum of 0..503.
 *
 * Status codes of the hooks: VINF_SUCCESS, VERR_VD_BLOCK_FREE (read miss),
 * VERR_INVALID_PARAMETER (a request the engine refuses), VERR_NO_MEMORY,
 * VERR_VD_IMAGE_CORRUPTED (load of a damaged layout), and the IOINT's.
 */
#ifndef VDCC_GALLERY_GAL_H
#define VDCC_GALLERY_GAL_H

#include "../../../../spec/vdcache.h"

#define GAL_SECTOR      512u
#define GAL_HDR_SIZE    512u
#define GAL_COMMENT_MAX 255u

typedef struct gal_img {
    PVDINTERFACEIOINT io;
    PVDINTERFACEERROR err;      /* NULL when the caller passed none */
    PVDIOSTORAGE      stor;     /* NULL after a SetOpenFlags that could not reopen */
    char             *path;
    unsigned          open_flags;
    uint32_t          image_flags;
    uint64_t          capacity;
    RTUUID            uuid, mod_uuid;
    char              comment[GAL_COMMENT_MAX + 1];
    void             *eng;      /* the engine's state */
} gal_img;

/* What an engine supplies.  Every hook but release returns a status. */
typedef struct gal_engine {
    const char *name;
    uint8_t     magic[8];
    uint64_t    max_capacity;   /* larger creates get VERR_VD_INVALID_SIZE */
    /* An empty cache laid out after the header was written (fixed: preallocate). */
    int  (*create)(gal_img *g);
    /* The engine's structures read back on open (any open flags). */
    int  (*load)(gal_img *g);
    /* The instance becomes writable (read-write open or SetOpenFlags). May be NULL. */
    int  (*writable)(gal_img *g);
    /* Everything written so far made durable (read-write instances only). */
    int  (*flush)(gal_img *g);
    void (*release)(gal_img *g);
    int  (*read)(gal_img *g, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *pcb);
    /* Writes: the instance is read-write and healthy when called. */
    int  (*write)(gal_img *g, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *pcb);
} gal_engine;

/* Defined by the engine file of each plugin. */
extern const gal_engine gal_this_engine;
extern const VDCACHEBACKEND gal_backend;

/* Storage helpers: synchronous meta I/O on the instance's file. */
int gal_rd(gal_img *g, uint64_t off, void *buf, size_t cb);
int gal_wr(gal_img *g, uint64_t off, const void *buf, size_t cb);
int gal_sync(gal_img *g);
int gal_file_size(gal_img *g, uint64_t *pcb);
int gal_set_size(gal_img *g, uint64_t cb);
/* Fixed images: reserve cb bytes (sizes the file where preallocation is not supported). */
int gal_prealloc(gal_img *g, uint64_t cb);
/* Bytes between the I/O context and storage, exactly cb or a failure. */
int gal_user_read(gal_img *g, uint64_t off, PVDIOCTX ctx, size_t cb);
int gal_user_write(gal_img *g, uint64_t off, PVDIOCTX ctx, size_t cb);
/* Bytes taken from the I/O context into buf; a failure if fewer came. */
int gal_ctx_take(gal_img *g, PVDIOCTX ctx, void *buf, size_t cb);
int gal_ctx_give(gal_img *g, PVDIOCTX ctx, const void *buf, size_t cb);
uint32_t gal_crc32(uint32_t crc, const void *p, size_t cb);
/* A fast 32-bit check of a data block (not a CRC; gal_common.c). */
uint32_t gal_sum32(const void *p, size_t cb);

/* The vtable of a gallery backend; the engine file instantiates it. */
int gal_probe(const char *pszFilename, PVDINTERFACE pVDIfsDisk, PVDINTERFACE pVDIfsImage);
int gal_open(const char *pszFilename, unsigned uOpenFlags, PVDINTERFACE pVDIfsDisk, PVDINTERFACE pVDIfsImage,
             void **ppBackendData);
int gal_create(const char *pszFilename, uint64_t cbSize, unsigned uImageFlags, const char *pszComment,
               PCRTUUID pUuid, unsigned uOpenFlags, unsigned uPercentStart, unsigned uPercentSpan,
               PVDINTERFACE pVDIfsDisk, PVDINTERFACE pVDIfsImage, PVDINTERFACE pVDIfsOperation,
               void **ppBackendData);
int gal_close(void *pBackendData, bool fDelete);
int gal_read(void *pBackendData, uint64_t uOffset, size_t cbToRead, PVDIOCTX pIoCtx, size_t *pcbActuallyRead);
int gal_write(void *pBackendData, uint64_t uOffset, size_t cbToWrite, PVDIOCTX pIoCtx, size_t *pcbWriteProcess);
int gal_flush(void *pBackendData, PVDIOCTX pIoCtx);
unsigned gal_get_version(void *pBackendData);
uint64_t gal_get_size(void *pBackendData);
uint64_t gal_get_file_size(void *pBackendData);
unsigned gal_get_image_flags(void *pBackendData);
unsigned gal_get_open_flags(void *pBackendData);
int gal_set_open_flags(void *pBackendData, unsigned uOpenFlags);
int gal_get_comment(void *pBackendData, char *pszComment, size_t cbComment);
int gal_set_comment(void *pBackendData, const char *pszComment);
int gal_get_uuid(void *pBackendData, PRTUUID pUuid);
int gal_set_uuid(void *pBackendData, PCRTUUID pUuid);
int gal_get_mod_uuid(void *pBackendData, PRTUUID pUuid);
int gal_set_mod_uuid(void *pBackendData, PCRTUUID pUuid);
void gal_dump(void *pBackendData);
int gal_compose(PVDINTERFACE pConfig, char **ppszOut);
int VDPluginLoad(void *pvUser, PVDBACKENDREGISTER pReg);

/* The vtable for a backend NAME with capabilities CAPS. */
#define GAL_VTABLE(NAME, CAPS, EXTS)                                                                 \
    {                                                                                                \
        .u32Version = VD_CACHEBACKEND_VERSION, .pszBackendName = (NAME), .uBackendCaps = (CAPS),     \
        .papszFileExtensions = (EXTS), .paConfigInfo = NULL, .pfnProbe = gal_probe,                  \
        .pfnOpen = gal_open, .pfnCreate = gal_create, .pfnClose = gal_close, .pfnRead = gal_read,    \
        .pfnWrite = gal_write, .pfnFlush = gal_flush, .pfnDiscard = NULL,                            \
        .pfnGetVersion = gal_get_version, .pfnGetSize = gal_get_size,                                \
        .pfnGetFileSize = gal_get_file_size, .pfnGetImageFlags = gal_get_image_flags,                \
        .pfnGetOpenFlags = gal_get_open_flags, .pfnSetOpenFlags = gal_set_open_flags,                \
        .pfnGetComment = gal_get_comment, .pfnSetComment = gal_set_comment,                          \
        .pfnGetUuid = gal_get_uuid, .pfnSetUuid = gal_set_uuid,                                      \
        .pfnGetModificationUuid = gal_get_mod_uuid, .pfnSetModificationUuid = gal_set_mod_uuid,      \
        .pfnDump = gal_dump, .pfnComposeLocation = gal_compose, .pfnComposeName = gal_compose,       \
        .u32VersionEnd = VD_CACHEBACKEND_VERSION                                                     \
    }

#endif /* VDCC_GALLERY_GAL_H */
