/*
 * ref/vci_cache.h - one open VCI cache: open, create, read, write, discard,
 * flush, close and the crash-safety protocol (spec/vci-format.md sections
 * 9-12).  vci_backend.c adapts these to the VDCACHEBACKEND vtable.
 *
 * Everything an instance needs lives in its vci_cache (no global state), so
 * any number can be open at once.  All I/O goes through the IOINT found in
 * the image interface list.
 *
 * Status codes, by function:
 *  - vci_probe: VINF_SUCCESS, VERR_VD_GEN_INVALID_HEADER, VERR_INVALID_PARAMETER
 *    (no IOINT, no name), or the status of opening/sizing/reading the file.
 *  - vci_cache_open / vci_cache_create: VINF_SUCCESS, VERR_INVALID_PARAMETER
 *    (flags, name, missing IOINT), VERR_VD_INVALID_SIZE (create),
 *    VERR_VD_UNKNOWN_CFG_VALUES (bad config value), VERR_VD_GEN_INVALID_HEADER,
 *    VERR_VD_IMAGE_CORRUPTED, VERR_NO_MEMORY, or any storage status.
 *  - vci_cache_read: VINF_SUCCESS (hit), VERR_VD_BLOCK_FREE (miss; *pcb is
 *    the miss length, >= 1), VERR_INVALID_PARAMETER, VERR_VD_NOT_OPENED,
 *    VERR_VD_IMAGE_CORRUPTED, or an I/O status.
 *  - vci_cache_write: VINF_SUCCESS (*pcb >= 1), VERR_INVALID_PARAMETER,
 *    VERR_VD_IMAGE_READ_ONLY, VERR_VD_NOT_OPENED, VERR_VD_IMAGE_CORRUPTED,
 *    VERR_NO_MEMORY, or an I/O status; after a failure in the middle of a
 *    metadata change the instance is broken (spec section 12).
 *  - vci_cache_discard: as write.
 *  - vci_cache_flush / vci_cache_close: VINF_SUCCESS, VERR_VD_NOT_OPENED
 *    (flush), the status that broke the instance, or an I/O status.
 *  - UUID setters: VINF_SUCCESS, VERR_VD_IMAGE_READ_ONLY, VERR_VD_NOT_OPENED.
 *  - vci_cache_set_open_flags: as open, plus the flush's status.
 */
#ifndef VDCC_REF_VCI_CACHE_H
#define VDCC_REF_VCI_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec/vdcache.h"
#include "vci_corrupt.h"

typedef struct vci_cache vci_cache;

#define VCI_NODE_CACHE_DEFAULT   12288u /* ~4.1 KiB each, allocated as used */
#define VCI_NODE_CACHE_MIN       32u
#define VCI_NODE_CACHE_MAX       65536u
#define VCI_BM_CACHE_DEFAULT     64u
#define VCI_BM_CACHE_MIN         4u
#define VCI_BM_CACHE_MAX         65536u

int  vci_probe(const char *filename, PVDINTERFACE ifs_disk, PVDINTERFACE ifs_image);
int  vci_cache_open(const char *filename, unsigned open_flags, PVDINTERFACE ifs_disk,
                    PVDINTERFACE ifs_image, vci_cache **out);
int  vci_cache_create(const char *filename, uint64_t cb, unsigned image_flags, PCRTUUID uuid,
                      unsigned open_flags, unsigned pct_start, unsigned pct_span,
                      PVDINTERFACE ifs_disk, PVDINTERFACE ifs_image, PVDINTERFACE ifs_op,
                      vci_cache **out);
/* Flushes (read-write) or deletes the file (fDelete), then frees c. */
int  vci_cache_close(vci_cache *c, bool fdelete);

int  vci_cache_read(vci_cache *c, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *pcb);
int  vci_cache_write(vci_cache *c, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *pcb);
int  vci_cache_discard(vci_cache *c, uint64_t off, size_t cb);
int  vci_cache_flush(vci_cache *c);

uint64_t vci_cache_capacity(const vci_cache *c);   /* bytes; 0 when not open */
uint64_t vci_cache_file_size(vci_cache *c);        /* bytes; 0 when unknown */
unsigned vci_cache_image_flags(const vci_cache *c);
unsigned vci_cache_open_flags(const vci_cache *c);
int  vci_cache_set_open_flags(vci_cache *c, unsigned open_flags);
int  vci_cache_get_uuid(const vci_cache *c, bool modification, PRTUUID uuid);
int  vci_cache_set_uuid(vci_cache *c, bool modification, PCRTUUID uuid);
bool vci_cache_read_only(const vci_cache *c);
void vci_cache_dump(vci_cache *c);

/* For tests: whether the instance serves every read as a miss (unclean,
 * read-only). */
bool vci_cache_all_miss(const vci_cache *c);
/* The first corruption check that fired in this opening (ref/vci_corrupt.h;
 * its file is NULL while none has), or NULL when the instance is not open
 * (a reopen failed).  Each instance has its own. */
const vci_corrupt *vci_cache_corrupt(const vci_cache *c);

#endif /* VDCC_REF_VCI_CACHE_H */
