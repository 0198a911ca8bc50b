/*
 * harness/tests/backends/gallery/miss.c - "gmiss": the always-miss cache.
 * Contract: spec/contract.md ("a cache that always misses is poor but
 * conformant"); plumbing: gal.h.
 *
 * Layout: the header (gal.h) and nothing else.  Every read misses
 * (VERR_VD_BLOCK_FREE with the whole count); every write on a read-write
 * instance is declined: reported processed, no byte taken from the I/O
 * context.  Only dynamic images are declared (VD_CAP_CREATE_DYNAMIC).
 *
 * Status codes: VINF_SUCCESS, VERR_VD_BLOCK_FREE, and the IOINT's (flush).
 *
 * Defects: GAL_DEFECT_MISSZERO (a miss reports 0 bytes: READ-2),
 * GAL_DEFECT_PROBEALL (gal_common.c: probe claims any file, PROBE-1),
 * GAL_DEFECT_ROWRITE (gal_common.c: a read-only instance declines writes
 * instead of refusing them, WRITE-3).
 */
#include "gal.h"

static int miss_nothing(gal_img *g)
{
    (void)g;
    return VINF_SUCCESS;
}

static int miss_flush(gal_img *g)
{
    return gal_sync(g);
}

static void miss_release(gal_img *g)
{
    (void)g;
}

static int miss_read(gal_img *g, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *pcb)
{
    (void)g, (void)off, (void)ctx;
#ifdef GAL_DEFECT_MISSZERO
    *pcb = 0;
    (void)cb;
#else
    *pcb = cb;
#endif
    return VERR_VD_BLOCK_FREE;
}

static int miss_write(gal_img *g, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *pcb)
{
    (void)g, (void)off, (void)ctx;
    *pcb = cb; /* declined: nothing kept, nothing taken */
    return VINF_SUCCESS;
}

const gal_engine gal_this_engine = {
    .name = "gmiss",
    .magic = { 'G', 'A', 'L', 'M', 'I', 'S', 'S', '1' },
    .max_capacity = 1ull << 50,
    .create = miss_nothing,
    .load = miss_nothing,
    .writable = NULL,
    .flush = miss_flush,
    .release = miss_release,
    .read = miss_read,
    .write = miss_write,
};

static const char *const miss_exts[] = { "gmiss", NULL };
const VDCACHEBACKEND gal_backend = GAL_VTABLE("gmiss", VD_CAP_UUID | VD_CAP_CREATE_DYNAMIC | VD_CAP_FILE, miss_exts);
