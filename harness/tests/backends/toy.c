/*
 * harness/tests/backends/toy.c - "toy", a small correct cache backend that is
 * not VCI, and (with one TB_DEFECT_* define) each broken backend the harness
 * must catch.  Contract: spec/contract.md; declarations: tb.h.
 *
 * Format (all integers little-endian; a block is 4096 bytes):
 *
 *   off   size  field
 *   0     8     magic "VDCCTOY\0"
 *   8     4     version, 1
 *   12    4     block size, 4096
 *   16    4     nslots: cache blocks, 1..TOY_MAX_SLOTS
 *   20    4     image flags (VD_IMAGE_FLAGS_FIXED or 0)
 *   24    8     capacity given to create, in bytes
 *   32    16    image UUID
 *   48    16    modification UUID
 *   64    256   comment, NUL-padded (at most 255 characters)
 *   320   184   zero
 *   504   8     checksum of bytes 0..503 (toy_hash)
 *   512         slot table: nslots entries of 16 bytes {tag, hash}
 *   data_start  = 512 + 16*nslots rounded up to a block; slot s at
 *                 data_start + 4096*s
 *
 * Direct mapping: virtual block b lives only in slot b mod nslots.  A slot
 * entry holds tag = b + 1 (0: empty) and hash = toy_hash(b, block data).
 * A hit is served only when the entry's tag is b+1 AND the data read back
 * hashes to the entry's hash; anything else is a miss.  That makes torn,
 * lost or reordered writes after a crash harmless (they show as misses),
 * with one exception handled by a barrier: an OLDER consistent version of
 * the same block could reappear if the newer write is lost.  So before block
 * b is written into a slot that may show b on disk (its entry is b, or the
 * slot was written since the last flush), the entry is zeroed and flushed.
 *
 * Writes process one block per call (VD loops); a partial block is merged
 * when the slot holds a verified copy, otherwise it is forgotten (reported as
 * processed, which the contract allows).  Reads serve one block per hit and
 * merge consecutive misses.
 *
 * Status codes: VINF_SUCCESS, VERR_VD_BLOCK_FREE (read miss),
 * VERR_VD_GEN_INVALID_HEADER (probe of a foreign file), VERR_VD_IMAGE_CORRUPTED
 * (open of a damaged image), VERR_VD_IMAGE_READ_ONLY (writes and setters on a
 * read-only instance), VERR_VD_INVALID_SIZE (capacity below one block),
 * VERR_INVALID_PARAMETER (bad flags, NULL arguments, offset overflow),
 * VERR_NOT_SUPPORTED (diff images), VERR_BUFFER_OVERFLOW (comment buffer too
 * small), VERR_TOO_MUCH_DATA (comment too long), VERR_NO_MEMORY,
 * VERR_VD_NOT_OPENED (an instance whose SetOpenFlags could not reopen), and
 * whatever the host's IOINT returns.
 *
 * Defects (exactly one may be defined):
 *   TB_DEFECT_CRASH      first read dereferences a bad pointer (SIGSEGV)
 *   TB_DEFECT_HANG       write spins forever
 *   TB_DEFECT_LEAK       close never frees the instance
 *   TB_DEFECT_WRONGDATA  a hit on an odd block serves the next slot's bytes
 *   TB_DEFECT_ZEROBYTES  write reports success with 0 bytes processed
 *   TB_DEFECT_PROBELIES  probe answers VERR_FILE_NOT_FOUND for foreign files
 *   TB_DEFECT_MISUSE     read first calls ReadMeta with a NULL storage
 *   TB_QUALITY_FORGET    not a defect: takes every write and stores nothing,
 *                        so every read misses (conformant, but a poor cache:
 *                        SHOULD clauses give quality warnings)
 *
 * Loader variants (plugin entry point or vtable; for the loader and lint tests):
 *   TB_LOAD_MULTI        registers toy, "toy-alt" and an incompatible version
 *   TB_LOAD_FAIL         VDPluginLoad fails with VERR_NOT_SUPPORTED
 *   TB_LOAD_NOCACHE      VDPluginLoad registers nothing
 *   TB_LOAD_OLDVERSION   the only backend registered has major version 2
 *   TB_BAD_VTABLE        u32VersionEnd differs and pfnRead is NULL
 *   TB_LOAD_CRASH        VDPluginLoad stores through a NULL-based pointer
 *                        (address 16: SIGSEGV, or a sanitizer's SEGV report)
 *   TB_LOAD_HANG         VDPluginLoad never returns (pause() forever)
 */
#include "tb.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef TB_LOAD_HANG
# include <unistd.h>
#endif

#define TOY_BLOCK        4096u
#define TOY_HDR_SIZE     512u
#define TOY_ENTRY_SIZE   16u
#define TOY_MAX_SLOTS    16384u
#define TOY_VERSION      1u
#define TOY_COMMENT_MAX  255u
#define TOY_OFF_CKSUM    504u
static const uint8_t toy_magic[8] = { 'V', 'D', 'C', 'C', 'T', 'O', 'Y', 0 };

#ifdef TB_PLUGIN
# define TOY_VTABLE tb_backend
#else
# define TOY_VTABLE vdcc_toy_backend
#endif

typedef struct toy_slot {
    uint64_t tag;    /* block + 1, 0 = empty; as on disk */
    uint64_t hash;
    uint32_t wepoch; /* epoch of the last write to this slot; dirty when == toy.epoch */
} toy_slot;

typedef struct toy {
    PVDINTERFACEIOINT io;
    PVDINTERFACEERROR err;      /* may be NULL */
    PVDIOSTORAGE      stor;     /* NULL only after a failed SetOpenFlags */
    char             *name;
    unsigned          open_flags;
    uint32_t          nslots;
    uint32_t          image_flags;
    uint64_t          capacity;
    uint64_t          data_start;
    uint64_t          file_size;
    RTUUID            uuid, mod_uuid;
    char              comment[TOY_COMMENT_MAX + 1];
    toy_slot         *slots;
    uint32_t          epoch;    /* bumped by every flush */
#ifdef TB_DEFECT_CRASH
    int               reads;
#endif
    uint8_t           blk[TOY_BLOCK];
    uint8_t           blk2[TOY_BLOCK];
} toy;

/* ---- little-endian helpers over fixed-size buffers ---------------------- */

static uint32_t get_le32(const uint8_t *b, size_t cb, size_t off)
{
    if (off > cb || cb - off < 4)
        return 0;
    return (uint32_t)b[off] | (uint32_t)b[off + 1] << 8 | (uint32_t)b[off + 2] << 16
         | (uint32_t)b[off + 3] << 24;
}

static uint64_t get_le64(const uint8_t *b, size_t cb, size_t off)
{
    if (off > cb || cb - off < 8)
        return 0;
    return (uint64_t)get_le32(b, cb, off) | (uint64_t)get_le32(b, cb, off + 4) << 32;
}

static void put_le32(uint8_t *b, size_t cb, size_t off, uint32_t v)
{
    if (off > cb || cb - off < 4)
        return;
    for (unsigned i = 0; i < 4; i++)
        b[off + i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *b, size_t cb, size_t off, uint64_t v)
{
    put_le32(b, cb, off, (uint32_t)v);
    put_le32(b, cb, off + 4, (uint32_t)(v >> 32));
}

/* FNV-1a over a key and bytes, finished with a 64-bit avalanche. */
static uint64_t toy_hash(uint64_t key, const uint8_t *p, size_t cb)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned i = 0; i < 8; i++) {
        h ^= (uint8_t)(key >> (8 * i));
        h *= 0x100000001b3ull;
    }
    for (size_t i = 0; i < cb; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

/* ---- header ------------------------------------------------------------- */

typedef struct toy_hdr {
    uint32_t nslots, image_flags;
    uint64_t capacity;
    RTUUID   uuid, mod_uuid;
    char     comment[TOY_COMMENT_MAX + 1];
} toy_hdr;

static uint64_t toy_data_start(uint32_t nslots)
{
    uint64_t end = TOY_HDR_SIZE + (uint64_t)TOY_ENTRY_SIZE * nslots;
    return (end + TOY_BLOCK - 1) / TOY_BLOCK * TOY_BLOCK;
}

static void toy_hdr_encode(const toy_hdr *h, uint8_t out[TOY_HDR_SIZE])
{
    memset(out, 0, TOY_HDR_SIZE);
    memcpy(out, toy_magic, sizeof toy_magic);
    put_le32(out, TOY_HDR_SIZE, 8, TOY_VERSION);
    put_le32(out, TOY_HDR_SIZE, 12, TOY_BLOCK);
    put_le32(out, TOY_HDR_SIZE, 16, h->nslots);
    put_le32(out, TOY_HDR_SIZE, 20, h->image_flags);
    put_le64(out, TOY_HDR_SIZE, 24, h->capacity);
    memcpy(out + 32, h->uuid.au8, 16);
    memcpy(out + 48, h->mod_uuid.au8, 16);
    memcpy(out + 64, h->comment, strnlen(h->comment, TOY_COMMENT_MAX));
    put_le64(out, TOY_HDR_SIZE, TOY_OFF_CKSUM, toy_hash(0, out, TOY_OFF_CKSUM));
}

/* Validates every field; returns false for anything that is not a toy header. */
static bool toy_hdr_decode(const uint8_t in[TOY_HDR_SIZE], toy_hdr *h)
{
    if (memcmp(in, toy_magic, sizeof toy_magic) != 0)
        return false;
    if (get_le64(in, TOY_HDR_SIZE, TOY_OFF_CKSUM) != toy_hash(0, in, TOY_OFF_CKSUM))
        return false;
    if (get_le32(in, TOY_HDR_SIZE, 8) != TOY_VERSION || get_le32(in, TOY_HDR_SIZE, 12) != TOY_BLOCK)
        return false;
    h->nslots = get_le32(in, TOY_HDR_SIZE, 16);
    h->image_flags = get_le32(in, TOY_HDR_SIZE, 20);
    h->capacity = get_le64(in, TOY_HDR_SIZE, 24);
    if (h->nslots == 0 || h->nslots > TOY_MAX_SLOTS)
        return false;
    if ((h->image_flags & ~(uint32_t)VD_IMAGE_FLAGS_FIXED) != 0)
        return false;
    if (h->capacity < TOY_BLOCK)
        return false;
    memcpy(h->uuid.au8, in + 32, 16);
    memcpy(h->mod_uuid.au8, in + 48, 16);
    memcpy(h->comment, in + 64, TOY_COMMENT_MAX);
    h->comment[TOY_COMMENT_MAX] = '\0';
    if (in[64 + TOY_COMMENT_MAX] != 0)
        return false;
    for (size_t i = 320; i < TOY_OFF_CKSUM; i++)
        if (in[i] != 0)
            return false;
    return true;
}

/* ---- storage helpers ---------------------------------------------------- */

static int toy_read(toy *t, uint64_t off, void *buf, size_t cb)
{
    return t->io->pfnReadMeta(t->io->Core.pvUser, t->stor, off, buf, cb, NULL, NULL, NULL, NULL);
}

static int toy_write(toy *t, uint64_t off, const void *buf, size_t cb)
{
    int rc = t->io->pfnWriteMeta(t->io->Core.pvUser, t->stor, off, buf, cb, NULL, NULL, NULL);
    if (RT_SUCCESS(rc) && off + cb > t->file_size)
        t->file_size = off + cb;
    return rc;
}

static int toy_flush_storage(toy *t)
{
    int rc = t->io->pfnFlush(t->io->Core.pvUser, t->stor, NULL, NULL, NULL);
    if (RT_SUCCESS(rc))
        t->epoch++;
    return rc;
}

static int toy_write_header(toy *t)
{
    toy_hdr h = { .nslots = t->nslots, .image_flags = t->image_flags, .capacity = t->capacity,
                  .uuid = t->uuid, .mod_uuid = t->mod_uuid };
    uint8_t buf[TOY_HDR_SIZE];
    memcpy(h.comment, t->comment, sizeof h.comment);
    toy_hdr_encode(&h, buf);
    return toy_write(t, 0, buf, sizeof buf);
}

static int toy_write_entry(toy *t, uint32_t s, uint64_t tag, uint64_t hash)
{
    uint8_t e[TOY_ENTRY_SIZE];
    put_le64(e, sizeof e, 0, tag);
    put_le64(e, sizeof e, 8, hash);
    return toy_write(t, TOY_HDR_SIZE + (uint64_t)TOY_ENTRY_SIZE * s, e, sizeof e);
}

static uint64_t toy_slot_off(const toy *t, uint32_t s)
{
    return t->data_start + (uint64_t)TOY_BLOCK * s;
}

/* Reads slot s into buf and checks it holds a consistent copy of block b. */
static bool toy_slot_holds(toy *t, uint32_t s, uint64_t b, uint8_t *buf)
{
    if (t->slots[s].tag != b + 1)
        return false;
    if (toy_slot_off(t, s) + TOY_BLOCK > t->file_size)
        return false;
    if (RT_FAILURE(toy_read(t, toy_slot_off(t, s), buf, TOY_BLOCK)))
        return false;
    return toy_hash(b, buf, TOY_BLOCK) == t->slots[s].hash;
}

/* Makes sure no version of block b can show in slot s after a crash. */
static int toy_barrier(toy *t, uint32_t s, uint64_t b)
{
    bool dirty = t->slots[s].wepoch == t->epoch;
    if (!dirty && t->slots[s].tag != b + 1)
        return VINF_SUCCESS;
    if (t->slots[s].tag == b + 1) {
        int rc = toy_write_entry(t, s, 0, 0);
        if (RT_FAILURE(rc))
            return rc;
        t->slots[s].tag = 0;
        t->slots[s].hash = 0;
        /* The cleared entry is a write to the slot: until a flush succeeds
         * the old entry is what the disk holds, so the slot stays dirty
         * (if this flush fails, the next barrier flushes again rather than
         * trusting the tag 0 kept in memory). */
        t->slots[s].wepoch = t->epoch;
    }
    return toy_flush_storage(t);
}

static int toy_store_block(toy *t, uint32_t s, uint64_t b, const uint8_t *data)
{
    int rc = toy_barrier(t, s, b);
    if (RT_FAILURE(rc))
        return rc;
    t->slots[s].wepoch = t->epoch;
    rc = toy_write(t, toy_slot_off(t, s), data, TOY_BLOCK);
    if (RT_FAILURE(rc))
        return rc;
    uint64_t h = toy_hash(b, data, TOY_BLOCK);
    rc = toy_write_entry(t, s, b + 1, h);
    if (RT_FAILURE(rc))
        return rc;
    t->slots[s].tag = b + 1;
    t->slots[s].hash = h;
    return VINF_SUCCESS;
}

static void toy_free(toy *t)
{
    if (t == NULL)
        return;
    free(t->slots);
    free(t->name);
    free(t);
}

/* ---- open / create / close ---------------------------------------------- */

static toy *toy_alloc(const char *name, PVDINTERFACE disk, PVDINTERFACE image)
{
    toy *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->name = strdup(name);
    if (t->name == NULL) {
        free(t);
        return NULL;
    }
    t->io = vdc_if_ioint(image);
    t->err = vdc_if_error(disk);
    t->epoch = 1;
    return t;
}

/* Loads header and slot table from the open storage. */
static int toy_load(toy *t)
{
    uint8_t hb[TOY_HDR_SIZE];
    toy_hdr h;
    int rc = t->io->pfnGetSize(t->io->Core.pvUser, t->stor, &t->file_size);
    if (RT_FAILURE(rc))
        return rc;
    if (t->file_size < TOY_HDR_SIZE)
        return VERR_VD_GEN_INVALID_HEADER;
    rc = toy_read(t, 0, hb, sizeof hb);
    if (RT_FAILURE(rc))
        return rc;
    if (memcmp(hb, toy_magic, sizeof toy_magic) != 0)
        return VERR_VD_GEN_INVALID_HEADER;
    if (!toy_hdr_decode(hb, &h))
        return VERR_VD_IMAGE_CORRUPTED;
    t->nslots = h.nslots;
    t->image_flags = h.image_flags;
    t->capacity = h.capacity;
    t->uuid = h.uuid;
    t->mod_uuid = h.mod_uuid;
    memcpy(t->comment, h.comment, sizeof t->comment);
    t->data_start = toy_data_start(t->nslots);
    if (t->file_size < t->data_start)
        return VERR_VD_IMAGE_CORRUPTED;

    size_t cb_table = (size_t)TOY_ENTRY_SIZE * t->nslots;
    uint8_t *table = malloc(cb_table);
    t->slots = calloc(t->nslots, sizeof *t->slots);
    if (table == NULL || t->slots == NULL) {
        free(table);
        return VERR_NO_MEMORY;
    }
    rc = toy_read(t, TOY_HDR_SIZE, table, cb_table);
    if (RT_SUCCESS(rc)) {
        for (uint32_t s = 0; s < t->nslots; s++) {
            uint64_t tag = get_le64(table, cb_table, (size_t)TOY_ENTRY_SIZE * s);
            /* An entry that cannot belong to its slot is garbage: a miss. */
            if (tag != 0 && (tag - 1) % t->nslots == s) {
                t->slots[s].tag = tag;
                t->slots[s].hash = get_le64(table, cb_table, (size_t)TOY_ENTRY_SIZE * s + 8);
            }
        }
    }
    free(table);
    return rc;
}

static int toy_open_storage(toy *t, unsigned flags, bool create)
{
    return t->io->pfnOpen(t->io->Core.pvUser, t->name, vdc_open_flags_to_file(flags, create), &t->stor);
}

static void toy_close_storage(toy *t)
{
    if (t->stor != NULL)
        t->io->pfnClose(t->io->Core.pvUser, t->stor);
    t->stor = NULL;
}

static int toy_probe(const char *pszFilename, PVDINTERFACE pVDIfsDisk, PVDINTERFACE pVDIfsImage)
{
    (void)pVDIfsDisk;
    PVDINTERFACEIOINT io = vdc_if_ioint(pVDIfsImage);
    if (pszFilename == NULL || *pszFilename == '\0' || io == NULL)
        return VERR_INVALID_PARAMETER;
    PVDIOSTORAGE stor = NULL;
    int rc = io->pfnOpen(io->Core.pvUser, pszFilename, vdc_open_flags_to_file(VD_OPEN_FLAGS_READONLY, false),
                         &stor);
    if (RT_FAILURE(rc))
        return rc;
    uint64_t cb = 0;
    uint8_t hb[TOY_HDR_SIZE];
    toy_hdr h;
    rc = io->pfnGetSize(io->Core.pvUser, stor, &cb);
    if (RT_SUCCESS(rc)) {
        if (cb < TOY_HDR_SIZE) {
            rc = VERR_VD_GEN_INVALID_HEADER;
        } else {
            rc = io->pfnReadMeta(io->Core.pvUser, stor, 0, hb, sizeof hb, NULL, NULL, NULL, NULL);
            if (RT_SUCCESS(rc) && (!toy_hdr_decode(hb, &h) || cb < toy_data_start(h.nslots)))
                rc = VERR_VD_GEN_INVALID_HEADER;
        }
    }
    io->pfnClose(io->Core.pvUser, stor);
#ifdef TB_DEFECT_PROBELIES
    if (rc == VERR_VD_GEN_INVALID_HEADER)
        rc = VERR_FILE_NOT_FOUND;
#endif
    return rc;
}

static int toy_open(const char *pszFilename, unsigned uOpenFlags, PVDINTERFACE pVDIfsDisk,
                    PVDINTERFACE pVDIfsImage, void **ppBackendData)
{
    if (pszFilename == NULL || *pszFilename == '\0' || ppBackendData == NULL)
        return VERR_INVALID_PARAMETER;
    if (uOpenFlags & ~VD_OPEN_FLAGS_MASK)
        return VERR_INVALID_PARAMETER;
    if (vdc_if_ioint(pVDIfsImage) == NULL)
        return VERR_INVALID_PARAMETER;
    toy *t = toy_alloc(pszFilename, pVDIfsDisk, pVDIfsImage);
    if (t == NULL)
        return VERR_NO_MEMORY;
    t->open_flags = uOpenFlags;
    int rc = toy_open_storage(t, uOpenFlags, false);
    if (RT_FAILURE(rc))
        goto out_free;
    rc = toy_load(t);
    if (RT_FAILURE(rc))
        goto out_close_storage;
    *ppBackendData = t;
    return VINF_SUCCESS;

out_close_storage:
    toy_close_storage(t);
out_free:
    toy_free(t);
    return rc;
}

static int toy_create(const char *pszFilename, uint64_t cbSize, unsigned uImageFlags, const char *pszComment,
                      PCRTUUID pUuid, unsigned uOpenFlags, unsigned uPercentStart, unsigned uPercentSpan,
                      PVDINTERFACE pVDIfsDisk, PVDINTERFACE pVDIfsImage, PVDINTERFACE pVDIfsOperation,
                      void **ppBackendData)
{
    if (pszFilename == NULL || *pszFilename == '\0' || ppBackendData == NULL)
        return VERR_INVALID_PARAMETER;
    if ((uOpenFlags & ~VD_OPEN_FLAGS_MASK) || (uOpenFlags & VD_OPEN_FLAGS_READONLY))
        return VERR_INVALID_PARAMETER;
    if (uImageFlags & ~VD_IMAGE_FLAGS_MASK)
        return VERR_INVALID_PARAMETER;
    if (uImageFlags & VD_IMAGE_FLAGS_DIFF)
        return VERR_NOT_SUPPORTED;
    if (cbSize < TOY_BLOCK)
        return VERR_VD_INVALID_SIZE;
    if (pszComment != NULL && strlen(pszComment) > TOY_COMMENT_MAX)
        return VERR_TOO_MUCH_DATA;
    if (vdc_if_ioint(pVDIfsImage) == NULL)
        return VERR_INVALID_PARAMETER;

    toy *t = toy_alloc(pszFilename, pVDIfsDisk, pVDIfsImage);
    if (t == NULL)
        return VERR_NO_MEMORY;
    t->open_flags = uOpenFlags;
    t->capacity = cbSize;
    t->nslots = cbSize / TOY_BLOCK > TOY_MAX_SLOTS ? TOY_MAX_SLOTS : (uint32_t)(cbSize / TOY_BLOCK);
    t->image_flags = uImageFlags & VD_IMAGE_FLAGS_FIXED;
    t->data_start = toy_data_start(t->nslots);
    if (pUuid != NULL)
        t->uuid = *pUuid;
    if (pszComment != NULL)
        memcpy(t->comment, pszComment, strlen(pszComment));
    t->slots = calloc(t->nslots, sizeof *t->slots);
    if (t->slots == NULL) {
        toy_free(t);
        return VERR_NO_MEMORY;
    }

    int rc = toy_open_storage(t, uOpenFlags, true);
    if (RT_FAILURE(rc))
        goto out_free;
    if (t->image_flags & VD_IMAGE_FLAGS_FIXED) {
        uint64_t cb = t->data_start + (uint64_t)TOY_BLOCK * t->nslots;
        rc = t->io->pfnSetAllocationSize(t->io->Core.pvUser, t->stor, cb, 0, NULL, 0, 0);
        if (rc == VERR_NOT_SUPPORTED) /* a file system that cannot preallocate: size it instead */
            rc = t->io->pfnSetSize(t->io->Core.pvUser, t->stor, cb);
        t->file_size = cb;
    } else {
        rc = t->io->pfnSetSize(t->io->Core.pvUser, t->stor, t->data_start);
        t->file_size = t->data_start;
    }
    if (RT_FAILURE(rc))
        goto out_delete;
    rc = toy_write_header(t);
    if (RT_SUCCESS(rc))
        rc = toy_flush_storage(t);
    if (RT_FAILURE(rc))
        goto out_delete;

    PVDINTERFACEPROGRESS prog = vdc_if_progress(pVDIfsOperation);
    if (prog != NULL && prog->pfnProgress != NULL && uPercentStart <= 100 && uPercentSpan <= 100 - uPercentStart)
        prog->pfnProgress(prog->Core.pvUser, uPercentStart + uPercentSpan);
    *ppBackendData = t;
    return VINF_SUCCESS;

out_delete:
    toy_close_storage(t);
    t->io->pfnDelete(t->io->Core.pvUser, t->name);
    toy_free(t);
    return rc;
out_free:
    toy_free(t);
    return rc;
}

static int toy_close(void *pBackendData, bool fDelete)
{
    toy *t = pBackendData;
    if (t == NULL)
        return VERR_INVALID_PARAMETER;
    int rc = VINF_SUCCESS;
    if (t->stor != NULL && !(t->open_flags & VD_OPEN_FLAGS_READONLY) && !fDelete)
        rc = toy_flush_storage(t);
    toy_close_storage(t);
    if (fDelete) {
        int rc2 = t->io->pfnDelete(t->io->Core.pvUser, t->name);
        if (RT_SUCCESS(rc))
            rc = rc2;
    }
#ifdef TB_DEFECT_LEAK
    t->stor = NULL; /* the defect: the instance is never freed */
#else
    toy_free(t);
#endif
    return rc;
}

/* ---- I/O ------------------------------------------------------------------ */

static int toy_check_io(const toy *t, uint64_t off, size_t cb, PVDIOCTX ioctx, const size_t *pcb)
{
    if (t == NULL || ioctx == NULL || pcb == NULL || cb == 0)
        return VERR_INVALID_PARAMETER;
    if (off + cb < off)
        return VERR_INVALID_PARAMETER;
    if (t->stor == NULL)
        return VERR_VD_NOT_OPENED;
    return VINF_SUCCESS;
}

#ifdef TB_BAD_VTABLE
__attribute__((unused))
#endif
static int toy_read_cb(void *pBackendData, uint64_t uOffset, size_t cbToRead, PVDIOCTX pIoCtx,
                       size_t *pcbActuallyRead)
{
    toy *t = pBackendData;
    int rc = toy_check_io(t, uOffset, cbToRead, pIoCtx, pcbActuallyRead);
    if (RT_FAILURE(rc))
        return rc;
#ifdef TB_DEFECT_CRASH
    if (t->reads++ == 0) {
        /* Through a volatile so no compiler can prove (and warn) what happens. */
        volatile uintptr_t bad = 16;
        *(volatile int *)bad = 1;
    }
#endif
#ifdef TB_DEFECT_MISUSE
    {
        uint8_t probe_byte;
        t->io->pfnReadMeta(t->io->Core.pvUser, NULL, 0, &probe_byte, 1, NULL, NULL, NULL, NULL);
    }
#endif
    uint64_t b = uOffset / TOY_BLOCK;
    size_t in_blk = (size_t)(uOffset % TOY_BLOCK);
    size_t cb = TOY_BLOCK - in_blk < cbToRead ? TOY_BLOCK - in_blk : cbToRead;
    uint32_t s = (uint32_t)(b % t->nslots);
    if (toy_slot_holds(t, s, b, t->blk)) {
        const uint8_t *src = t->blk;
#ifdef TB_DEFECT_WRONGDATA
        if (b & 1) {
            uint32_t s2 = (s + 1) % t->nslots;
            memset(t->blk2, 0, TOY_BLOCK);
            if (toy_slot_off(t, s2) + TOY_BLOCK <= t->file_size)
                toy_read(t, toy_slot_off(t, s2), t->blk2, TOY_BLOCK);
            src = t->blk2;
        }
#endif
        size_t moved = t->io->pfnIoCtxCopyTo(t->io->Core.pvUser, pIoCtx, src + in_blk, cb);
        if (moved != cb)
            return VERR_INVALID_STATE;
        *pcbActuallyRead = cb;
        return VINF_SUCCESS;
    }
    /* A miss: extend over the following blocks that miss too (no data read
     * beyond checking tags: a tag mismatch is a sure miss). */
    size_t miss = cb;
    while (miss < cbToRead) {
        uint64_t nb = (uOffset + miss) / TOY_BLOCK;
        uint32_t ns = (uint32_t)(nb % t->nslots);
        if (t->slots[ns].tag == nb + 1)
            break;
        miss += cbToRead - miss < TOY_BLOCK ? cbToRead - miss : TOY_BLOCK;
    }
    *pcbActuallyRead = miss;
    return VERR_VD_BLOCK_FREE;
}

static int toy_write_cb(void *pBackendData, uint64_t uOffset, size_t cbToWrite, PVDIOCTX pIoCtx,
                        size_t *pcbWriteProcess)
{
    toy *t = pBackendData;
    int rc = toy_check_io(t, uOffset, cbToWrite, pIoCtx, pcbWriteProcess);
    if (RT_FAILURE(rc))
        return rc;
    if (t->open_flags & VD_OPEN_FLAGS_READONLY)
        return VERR_VD_IMAGE_READ_ONLY;
#ifdef TB_DEFECT_HANG
    for (volatile int spin = 1; spin;)
        ;
#endif
#ifdef TB_DEFECT_ZEROBYTES
    *pcbWriteProcess = 0;
    return VINF_SUCCESS;
#endif
    uint64_t b = uOffset / TOY_BLOCK;
    size_t in_blk = (size_t)(uOffset % TOY_BLOCK);
    size_t cb = TOY_BLOCK - in_blk < cbToWrite ? TOY_BLOCK - in_blk : cbToWrite;
    uint32_t s = (uint32_t)(b % t->nslots);

#ifdef TB_QUALITY_FORGET
    (void)s;
    if (t->io->pfnIoCtxCopyFrom(t->io->Core.pvUser, pIoCtx, t->blk2, cb) != cb)
        return VERR_INVALID_STATE;
    *pcbWriteProcess = cb;
    return VINF_SUCCESS;
#endif
    if (cb == TOY_BLOCK) {
        if (t->io->pfnIoCtxCopyFrom(t->io->Core.pvUser, pIoCtx, t->blk, cb) != cb)
            return VERR_INVALID_STATE;
        rc = toy_store_block(t, s, b, t->blk);
    } else if (toy_slot_holds(t, s, b, t->blk)) {
        if (t->io->pfnIoCtxCopyFrom(t->io->Core.pvUser, pIoCtx, t->blk + in_blk, cb) != cb)
            return VERR_INVALID_STATE;
        rc = toy_store_block(t, s, b, t->blk);
    } else {
        /* Cannot hold part of a block: forget it, but make sure no older
         * copy of b can show up after a crash. */
        if (t->io->pfnIoCtxCopyFrom(t->io->Core.pvUser, pIoCtx, t->blk2, cb) != cb)
            return VERR_INVALID_STATE;
        rc = toy_barrier(t, s, b);
    }
    if (RT_FAILURE(rc))
        return rc;
    *pcbWriteProcess = cb;
    return VINF_SUCCESS;
}

static int toy_flush_cb(void *pBackendData, PVDIOCTX pIoCtx)
{
    (void)pIoCtx;
    toy *t = pBackendData;
    if (t == NULL)
        return VERR_INVALID_PARAMETER;
    if (t->stor == NULL)
        return VERR_VD_NOT_OPENED;
    if (t->open_flags & VD_OPEN_FLAGS_READONLY)
        return VINF_SUCCESS;
    return toy_flush_storage(t);
}

/* ---- getters and setters ------------------------------------------------ */

static unsigned toy_get_version(void *pBackendData)
{
    return pBackendData != NULL ? TOY_VERSION : 0;
}

static uint64_t toy_get_size(void *pBackendData)
{
    toy *t = pBackendData;
    return t != NULL ? t->capacity : 0;
}

static uint64_t toy_get_file_size(void *pBackendData)
{
    toy *t = pBackendData;
    uint64_t cb = 0;
    if (t == NULL || t->stor == NULL || RT_FAILURE(t->io->pfnGetSize(t->io->Core.pvUser, t->stor, &cb)))
        return 0;
    return cb;
}

static unsigned toy_get_image_flags(void *pBackendData)
{
    toy *t = pBackendData;
    return t != NULL ? t->image_flags : 0;
}

static unsigned toy_get_open_flags(void *pBackendData)
{
    toy *t = pBackendData;
    return t != NULL ? t->open_flags : 0;
}

static int toy_set_open_flags(void *pBackendData, unsigned uOpenFlags)
{
    toy *t = pBackendData;
    if (t == NULL || (uOpenFlags & ~VD_OPEN_FLAGS_MASK))
        return VERR_INVALID_PARAMETER;
    if (t->stor != NULL && !(t->open_flags & VD_OPEN_FLAGS_READONLY)) {
        int rc = toy_flush_storage(t);
        if (RT_FAILURE(rc))
            return rc;
    }
    toy_close_storage(t);
    int rc = toy_open_storage(t, uOpenFlags, false);
    if (RT_SUCCESS(rc)) {
        t->open_flags = uOpenFlags;
        return VINF_SUCCESS;
    }
    if (RT_FAILURE(toy_open_storage(t, t->open_flags, false)))
        t->stor = NULL; /* unusable from now on: I/O answers VERR_VD_NOT_OPENED */
    return rc;
}

static int toy_get_comment(void *pBackendData, char *pszComment, size_t cbComment)
{
    toy *t = pBackendData;
    if (t == NULL || pszComment == NULL)
        return VERR_INVALID_PARAMETER;
    size_t len = strnlen(t->comment, TOY_COMMENT_MAX);
    if (cbComment < len + 1)
        return VERR_BUFFER_OVERFLOW;
    memcpy(pszComment, t->comment, len);
    pszComment[len] = '\0';
    return VINF_SUCCESS;
}

static int toy_set_header_field(toy *t, void *field, const void *value, size_t cb)
{
    if (t->stor == NULL)
        return VERR_VD_NOT_OPENED;
    if (t->open_flags & VD_OPEN_FLAGS_READONLY)
        return VERR_VD_IMAGE_READ_ONLY;
    uint8_t old[TOY_COMMENT_MAX + 1];
    memcpy(old, field, cb);
    memcpy(field, value, cb);
    int rc = toy_write_header(t);
    if (RT_FAILURE(rc))
        memcpy(field, old, cb);
    return rc;
}

static int toy_set_comment(void *pBackendData, const char *pszComment)
{
    toy *t = pBackendData;
    if (t == NULL)
        return VERR_INVALID_PARAMETER;
    char buf[TOY_COMMENT_MAX + 1] = { 0 };
    if (pszComment != NULL) {
        size_t len = strlen(pszComment);
        if (len > TOY_COMMENT_MAX)
            return VERR_TOO_MUCH_DATA;
        memcpy(buf, pszComment, len);
    }
    return toy_set_header_field(t, t->comment, buf, sizeof buf);
}

static int toy_get_uuid(void *pBackendData, PRTUUID pUuid)
{
    toy *t = pBackendData;
    if (t == NULL || pUuid == NULL)
        return VERR_INVALID_PARAMETER;
    *pUuid = t->uuid;
    return VINF_SUCCESS;
}

static int toy_set_uuid(void *pBackendData, PCRTUUID pUuid)
{
    toy *t = pBackendData;
    if (t == NULL || pUuid == NULL)
        return VERR_INVALID_PARAMETER;
    return toy_set_header_field(t, &t->uuid, pUuid, sizeof *pUuid);
}

static int toy_get_mod_uuid(void *pBackendData, PRTUUID pUuid)
{
    toy *t = pBackendData;
    if (t == NULL || pUuid == NULL)
        return VERR_INVALID_PARAMETER;
    *pUuid = t->mod_uuid;
    return VINF_SUCCESS;
}

static int toy_set_mod_uuid(void *pBackendData, PCRTUUID pUuid)
{
    toy *t = pBackendData;
    if (t == NULL || pUuid == NULL)
        return VERR_INVALID_PARAMETER;
    return toy_set_header_field(t, &t->mod_uuid, pUuid, sizeof *pUuid);
}

static void toy_message(toy *t, const char *fmt, ...)
{
    if (t->err == NULL || t->err->pfnMessage == NULL)
        return;
    va_list va;
    va_start(va, fmt);
    t->err->pfnMessage(t->err->Core.pvUser, fmt, va);
    va_end(va);
}

static void toy_dump(void *pBackendData)
{
    toy *t = pBackendData;
    if (t == NULL)
        return;
    unsigned used = 0;
    for (uint32_t s = 0; s < t->nslots; s++)
        used += t->slots[s].tag != 0;
    toy_message(t, "toy cache '%s': capacity %llu bytes, %u slots (%u used), %s, open flags %#x\n", t->name,
                (unsigned long long)t->capacity, (unsigned)t->nslots, used,
                (t->image_flags & VD_IMAGE_FLAGS_FIXED) ? "fixed" : "dynamic", t->open_flags);
}

static int toy_compose(PVDINTERFACE pConfig, char **ppsz)
{
    (void)pConfig;
    if (ppsz == NULL)
        return VERR_INVALID_PARAMETER;
    *ppsz = NULL; /* file-based: the location is the file name itself */
    return VINF_SUCCESS;
}

static const char *const toy_extensions[] = { "toy", NULL };

#ifdef TB_BAD_VTABLE
# define TOY_VERSION_END (VD_CACHEBACKEND_VERSION + 1)
# define TOY_READ        NULL
#else
# define TOY_VERSION_END VD_CACHEBACKEND_VERSION
# define TOY_READ        toy_read_cb
#endif

#define TOY_VTABLE_INIT(name, version)                                                          \
    {                                                                                           \
        .u32Version = (version),                                                                \
        .pszBackendName = (name),                                                               \
        .uBackendCaps = VD_CAP_UUID | VD_CAP_CREATE_FIXED | VD_CAP_CREATE_DYNAMIC | VD_CAP_FILE  \
                      | VD_CAP_VFS,                                                             \
        .papszFileExtensions = toy_extensions,                                                  \
        .paConfigInfo = NULL,                                                                   \
        .pfnProbe = toy_probe,                                                                  \
        .pfnOpen = toy_open,                                                                    \
        .pfnCreate = toy_create,                                                                \
        .pfnClose = toy_close,                                                                  \
        .pfnRead = TOY_READ,                                                                    \
        .pfnWrite = toy_write_cb,                                                               \
        .pfnFlush = toy_flush_cb,                                                               \
        .pfnDiscard = NULL,                                                                     \
        .pfnGetVersion = toy_get_version,                                                       \
        .pfnGetSize = toy_get_size,                                                             \
        .pfnGetFileSize = toy_get_file_size,                                                    \
        .pfnGetImageFlags = toy_get_image_flags,                                                \
        .pfnGetOpenFlags = toy_get_open_flags,                                                  \
        .pfnSetOpenFlags = toy_set_open_flags,                                                  \
        .pfnGetComment = toy_get_comment,                                                       \
        .pfnSetComment = toy_set_comment,                                                       \
        .pfnGetUuid = toy_get_uuid,                                                             \
        .pfnSetUuid = toy_set_uuid,                                                             \
        .pfnGetModificationUuid = toy_get_mod_uuid,                                             \
        .pfnSetModificationUuid = toy_set_mod_uuid,                                             \
        .pfnDump = toy_dump,                                                                    \
        .pfnComposeLocation = toy_compose,                                                      \
        .pfnComposeName = toy_compose,                                                          \
        .u32VersionEnd = (version) == VD_CACHEBACKEND_VERSION ? TOY_VERSION_END : (version),    \
    }

#ifdef TB_LOAD_OLDVERSION
const VDCACHEBACKEND TOY_VTABLE = TOY_VTABLE_INIT("toy", VD_VERSION_MAKE(0xff03, 2, 0));
#else
const VDCACHEBACKEND TOY_VTABLE = TOY_VTABLE_INIT("toy", VD_CACHEBACKEND_VERSION);
#endif

#ifdef TB_PLUGIN
# ifdef TB_LOAD_MULTI
static const VDCACHEBACKEND toy_alt = TOY_VTABLE_INIT("toy-alt", VD_CACHEBACKEND_VERSION);
static const VDCACHEBACKEND toy_future = TOY_VTABLE_INIT("toy-future", VD_VERSION_MAKE(0xff03, 1, 1));
# endif

int VDPluginLoad(void *pvUser, PVDBACKENDREGISTER pReg)
{
    if (pReg == NULL || pReg->pfnRegisterCache == NULL)
        return VERR_INVALID_PARAMETER;
# if defined(TB_LOAD_CRASH)
    (void)pvUser;
    /* A field of a NULL struct pointer, through a volatile so no compiler
     * can prove (and warn about) what happens. */
    volatile uintptr_t bad = 16;
    *(volatile int *)bad = 1;
    return VERR_INTERNAL_ERROR;
# elif defined(TB_LOAD_HANG)
    (void)pvUser;
    for (;;)
        pause();
# elif defined(TB_LOAD_FAIL)
    (void)pvUser;
    return VERR_NOT_SUPPORTED;
# elif defined(TB_LOAD_NOCACHE)
    (void)pvUser;
    return VINF_SUCCESS;
# elif defined(TB_LOAD_MULTI)
    int rc = pReg->pfnRegisterCache(pvUser, &TOY_VTABLE);
    if (RT_SUCCESS(rc))
        rc = pReg->pfnRegisterCache(pvUser, &toy_alt);
    /* A newer minor than the host knows: VD answers VERR_IGNORED; not fatal. */
    if (RT_SUCCESS(rc) && pReg->pfnRegisterCache(pvUser, &toy_future) != VERR_IGNORED)
        rc = VERR_INTERNAL_ERROR;
    return rc;
# elif defined(TB_LOAD_OLDVERSION)
    int rc = pReg->pfnRegisterCache(pvUser, &TOY_VTABLE);
    return rc == VERR_IGNORED ? VINF_SUCCESS : rc;
# else
    return pReg->pfnRegisterCache(pvUser, &TOY_VTABLE);
# endif
}
#endif
