/*
 * harness/tests/backends/gallery/sector.c - "gsector": a sector cache.
 * Contract: spec/contract.md; plumbing: gal.h.
 *
 * Layout: the header (gal.h), then a bitmap of valid 512-byte sectors at
 * offset 512 (bit s of byte s/8, least significant first), then the data in
 * place: disk offset X lives at data_start + X, data_start being the end of
 * the bitmap rounded up to 512.  Only offsets below the capacity are kept;
 * writes beyond are declined (reported processed, no byte taken) and reads
 * there miss.  The file is sparse for dynamic images, preallocated for fixed.
 *
 * Requests whose offset or length is not a multiple of 512 are refused with
 * VERR_INVALID_PARAMETER, as VirtualBox's image backends assert alignment.
 *
 * Crash safety: a bit is set on disk only at flush, after a flush of the
 * data; before a sector whose bit is set on disk is overwritten, the bit is
 * cleared on disk and flushed.  So a crash leaves bits only over the last
 * data written, and anything else misses.
 *
 * Status codes: VINF_SUCCESS, VERR_VD_BLOCK_FREE, VERR_INVALID_PARAMETER
 * (unaligned), VERR_NO_MEMORY, VERR_VD_IMAGE_CORRUPTED (file shorter than its
 * bitmap), and the IOINT's.
 *
 * Defects: GAL_DEFECT_LIE (a hit of several sectors serves each one's successor:
 * READ-1), GAL_DEFECT_NOBARRIER (flush writes the bitmap without first
 * flushing the data: CRASH-1), GAL_DEFECT_UUIDLOST (gal_common.c: UUID-2).
 */
#include "gal.h"

#include <stdlib.h>
#include <string.h>

typedef struct sec {
    uint64_t nsect, bm_bytes, data_start;
    uint8_t *valid;  /* sectors served */
    uint8_t *ondisk; /* the bitmap as last written to the file */
    bool     dirty;  /* valid has bits ondisk lacks */
} sec;

static bool bit(const uint8_t *bm, uint64_t s)
{
    return (bm[s / 8] >> (s % 8)) & 1u;
}

static void set_bit(uint8_t *bm, uint64_t s, bool on)
{
    if (on)
        bm[s / 8] |= (uint8_t)(1u << (s % 8));
    else
        bm[s / 8] &= (uint8_t)~(1u << (s % 8));
}

static int sec_setup(gal_img *g)
{
    sec *e = calloc(1, sizeof *e);
    if (e == NULL)
        return VERR_NO_MEMORY;
    g->eng = e;
    e->nsect = g->capacity / GAL_SECTOR;
    e->bm_bytes = (e->nsect + 7) / 8;
    e->data_start = GAL_HDR_SIZE + (e->bm_bytes + GAL_SECTOR - 1) / GAL_SECTOR * GAL_SECTOR;
    e->valid = calloc(e->bm_bytes, 1);
    e->ondisk = calloc(e->bm_bytes, 1);
    return e->valid != NULL && e->ondisk != NULL ? VINF_SUCCESS : VERR_NO_MEMORY;
}

static int sec_create(gal_img *g)
{
    int rc = sec_setup(g);
    if (RT_FAILURE(rc))
        return rc;
    sec *e = g->eng;
    if (g->image_flags & VD_IMAGE_FLAGS_FIXED)
        return gal_prealloc(g, e->data_start + g->capacity);
    return gal_set_size(g, e->data_start);
}

static int sec_load(gal_img *g)
{
    int rc = sec_setup(g);
    if (RT_FAILURE(rc))
        return rc;
    sec *e = g->eng;
    uint64_t cb = 0;
    rc = gal_file_size(g, &cb);
    if (RT_FAILURE(rc))
        return rc;
    if (cb < e->data_start)
        return VERR_VD_IMAGE_CORRUPTED;
    rc = gal_rd(g, GAL_HDR_SIZE, e->ondisk, e->bm_bytes);
    if (RT_FAILURE(rc))
        return rc;
    for (uint64_t s = 0; s < e->bm_bytes * 8; s++) /* nothing past the capacity or the file's end */
        if (s >= e->nsect || e->data_start + (s + 1) * GAL_SECTOR > cb)
            set_bit(e->ondisk, s, false);
    memcpy(e->valid, e->ondisk, e->bm_bytes);
    return VINF_SUCCESS;
}

/* Writes bitmap bytes [first, last] of ondisk to the file. */
static int sec_put_bitmap(gal_img *g, uint64_t first, uint64_t last)
{
    sec *e = g->eng;
    return gal_wr(g, GAL_HDR_SIZE + first, e->ondisk + first, last - first + 1);
}

static int sec_flush(gal_img *g)
{
    sec *e = g->eng;
    if (!e->dirty)
        return gal_sync(g);
    uint64_t first = e->bm_bytes, last = 0;
    for (uint64_t i = 0; i < e->bm_bytes; i++)
        if (e->valid[i] != e->ondisk[i]) {
            if (first == e->bm_bytes)
                first = i;
            last = i;
        }
    int rc = VINF_SUCCESS;
#ifndef GAL_DEFECT_NOBARRIER
    rc = gal_sync(g); /* the data before the bits that announce it */
#endif
    if (RT_SUCCESS(rc) && first < e->bm_bytes) {
        memcpy(e->ondisk + first, e->valid + first, last - first + 1);
        rc = sec_put_bitmap(g, first, last);
    }
    if (RT_SUCCESS(rc))
        rc = gal_sync(g);
    if (RT_SUCCESS(rc))
        e->dirty = false;
    return rc;
}

static void sec_release(gal_img *g)
{
    sec *e = g->eng;
    free(e->valid);
    free(e->ondisk);
    free(e);
    g->eng = NULL;
}

static bool aligned(uint64_t off, size_t cb)
{
    return off % GAL_SECTOR == 0 && cb % GAL_SECTOR == 0;
}

static int sec_read(gal_img *g, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *pcb)
{
    sec *e = g->eng;
    if (!aligned(off, cb))
        return VERR_INVALID_PARAMETER;
    uint64_t s = off / GAL_SECTOR, n = cb / GAL_SECTOR;
    if (s >= e->nsect) {
        *pcb = cb;
        return VERR_VD_BLOCK_FREE;
    }
    bool hit = bit(e->valid, s);
    uint64_t k = 1;
    while (k < n && s + k < e->nsect && bit(e->valid, s + k) == hit)
        k++;
    if (!hit) {
        if (s + k == e->nsect) /* past the capacity, everything misses */
            k = n;
        *pcb = (size_t)(k * GAL_SECTOR);
        return VERR_VD_BLOCK_FREE;
    }
    uint64_t src = e->data_start + off;
#ifdef GAL_DEFECT_LIE
    if (k > 1) /* serves the run one sector late */
        src += GAL_SECTOR;
#endif
    int rc = gal_user_read(g, src, ctx, (size_t)(k * GAL_SECTOR));
    if (RT_FAILURE(rc))
        return rc;
    *pcb = (size_t)(k * GAL_SECTOR);
    return VINF_SUCCESS;
}

static int sec_write(gal_img *g, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *pcb)
{
    sec *e = g->eng;
    if (!aligned(off, cb))
        return VERR_INVALID_PARAMETER;
    uint64_t s = off / GAL_SECTOR, n = cb / GAL_SECTOR;
    if (s >= e->nsect) { /* declined: this cache keeps nothing there */
        *pcb = cb;
        return VINF_SUCCESS;
    }
    if (n > e->nsect - s)
        n = e->nsect - s;
    /* Bits set on disk over these sectors go first, durably. */
    uint64_t first = e->bm_bytes, last = 0;
    for (uint64_t i = s; i < s + n; i++) {
        if (bit(e->ondisk, i)) {
            set_bit(e->ondisk, i, false);
            first = first < i / 8 ? first : i / 8;
            last = i / 8;
        }
        set_bit(e->valid, i, false);
    }
    int rc = VINF_SUCCESS;
    if (first < e->bm_bytes) {
        rc = sec_put_bitmap(g, first, last);
        if (RT_SUCCESS(rc))
            rc = gal_sync(g);
        if (RT_FAILURE(rc)) { /* the file may still hold those bits: the next flush clears them */
            for (uint64_t i = s; i < s + n; i++)
                set_bit(e->ondisk, i, true);
            e->dirty = true;
        }
    }
    if (RT_SUCCESS(rc))
        rc = gal_user_write(g, e->data_start + off, ctx, (size_t)(n * GAL_SECTOR));
    if (RT_FAILURE(rc))
        return rc;
    for (uint64_t i = s; i < s + n; i++)
        set_bit(e->valid, i, true);
    e->dirty = true;
    *pcb = (size_t)(n * GAL_SECTOR);
    return VINF_SUCCESS;
}

const gal_engine gal_this_engine = {
    .name = "gsector",
    .magic = { 'G', 'A', 'L', 'S', 'E', 'C', 'T', '1' },
    .max_capacity = 8ull << 30,
    .create = sec_create,
    .load = sec_load,
    .writable = NULL,
    .flush = sec_flush,
    .release = sec_release,
    .read = sec_read,
    .write = sec_write,
};

static const char *const sec_exts[] = { "gsec", NULL };
const VDCACHEBACKEND gal_backend =
    GAL_VTABLE("gsector", VD_CAP_UUID | VD_CAP_CREATE_FIXED | VD_CAP_CREATE_DYNAMIC | VD_CAP_FILE, sec_exts);
