/*
 * harness/tests/backends/gallery/decline.c - "gdecline": a block cache that
 * keeps only disk offsets below its capacity and declines the rest.
 * Contract: spec/contract.md; plumbing: gal.h.
 *
 * Layout: the header (gal.h), then a table of nblk = capacity / 4096 entries
 * of 8 bytes at offset 512 ({u32 check of the block (gal_sum32), u32 1 =
 * valid}), then
 * the blocks in place: disk offset X (X < nblk * 4096) lives at
 * data_start + X, data_start being the table's end rounded up to 4096.
 *
 * Writes at or past nblk * 4096 are declined: the whole rest of the request
 * is reported processed and no byte is taken.  Inside, requests of any
 * alignment are served one block per call: a whole block is stored; a piece
 * of a block is merged when the block is valid, and otherwise taken and
 * forgotten (the block stays a miss).
 *
 * Crash safety: an entry is served only when the block's bytes match its
 * check, and entries are written at flush.  Before a block whose entry is
 * valid on disk is overwritten, that entry is zeroed on disk and flushed, so
 * an older version can never come back.  Open drops every entry whose block
 * does not match.
 *
 * Status codes: VINF_SUCCESS, VERR_VD_BLOCK_FREE, VERR_VD_INVALID_SIZE
 * (capacity below one block), VERR_VD_IMAGE_CORRUPTED (file shorter than
 * its table), VERR_NO_MEMORY, and the IOINT's.
 *
 * Defects: GAL_DEFECT_ZEROCOUNT (a declined write reports 0 bytes: WRITE-1),
 * GAL_DEFECT_NOINVALIDATE (a valid block is overwritten without zeroing its
 * entry first: CRASH-1).
 */
#include "gal.h"

#include <stdlib.h>
#include <string.h>

#define DB_BLOCK 4096u
#define DB_ENTRY 8u

typedef struct dblk {
    uint32_t crc;
    bool     valid;   /* served */
    bool     durable; /* its entry on disk says valid */
    bool     dirty;   /* its entry must be written at the next flush */
} dblk;

typedef struct decl {
    uint64_t nblk, data_start;
    dblk    *blk;
    uint8_t  buf[DB_BLOCK];
} decl;

static void entry_put(uint8_t *p, uint32_t crc, uint32_t state)
{
    for (unsigned i = 0; i < 4; i++) {
        p[i] = (uint8_t)(crc >> (8 * i));
        p[4 + i] = (uint8_t)(state >> (8 * i));
    }
}

static int db_setup(gal_img *g)
{
    if (g->capacity < DB_BLOCK)
        return VERR_VD_INVALID_SIZE;
    decl *e = calloc(1, sizeof *e);
    if (e == NULL)
        return VERR_NO_MEMORY;
    g->eng = e;
    e->nblk = g->capacity / DB_BLOCK;
    e->data_start = (GAL_HDR_SIZE + e->nblk * DB_ENTRY + DB_BLOCK - 1) / DB_BLOCK * DB_BLOCK;
    e->blk = calloc(e->nblk, sizeof *e->blk);
    return e->blk != NULL ? VINF_SUCCESS : VERR_NO_MEMORY;
}

static int db_create(gal_img *g)
{
    int rc = db_setup(g);
    if (RT_FAILURE(rc))
        return rc;
    decl *e = g->eng;
    if (g->image_flags & VD_IMAGE_FLAGS_FIXED)
        return gal_prealloc(g, e->data_start + e->nblk * DB_BLOCK);
    return gal_set_size(g, e->data_start);
}

static int db_load(gal_img *g)
{
    int rc = db_setup(g);
    if (RT_FAILURE(rc))
        return rc;
    decl *e = g->eng;
    uint64_t cb = 0;
    rc = gal_file_size(g, &cb);
    if (RT_FAILURE(rc))
        return rc;
    if (cb < e->data_start)
        return VERR_VD_IMAGE_CORRUPTED;
    uint8_t ent[DB_ENTRY * 64];
    for (uint64_t b0 = 0; b0 < e->nblk; b0 += 64) {
        uint64_t n = e->nblk - b0 < 64 ? e->nblk - b0 : 64;
        rc = gal_rd(g, GAL_HDR_SIZE + b0 * DB_ENTRY, ent, (size_t)(n * DB_ENTRY));
        if (RT_FAILURE(rc))
            return rc;
        for (uint64_t i = 0; i < n; i++) {
            const uint8_t *p = ent + i * DB_ENTRY;
            uint32_t crc = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
            uint64_t at = e->data_start + (b0 + i) * DB_BLOCK;
            if (p[4] != 1 || p[5] != 0 || p[6] != 0 || p[7] != 0 || at + DB_BLOCK > cb)
                continue;
            rc = gal_rd(g, at, e->buf, DB_BLOCK);
            if (RT_FAILURE(rc))
                return rc;
            if (gal_sum32(e->buf, DB_BLOCK) != crc)
                continue; /* torn or never completed: a miss */
            e->blk[b0 + i] = (dblk){ .crc = crc, .valid = true, .durable = true, .dirty = false };
        }
    }
    return VINF_SUCCESS;
}

static int db_put_entry(gal_img *g, uint64_t b, uint32_t crc, uint32_t state)
{
    uint8_t p[DB_ENTRY];
    entry_put(p, crc, state);
    return gal_wr(g, GAL_HDR_SIZE + b * DB_ENTRY, p, sizeof p);
}

static int db_flush(gal_img *g)
{
    decl *e = g->eng;
    int rc = VINF_SUCCESS;
    for (uint64_t b = 0; b < e->nblk && RT_SUCCESS(rc); b++) {
        dblk *k = &e->blk[b];
        if (!k->dirty)
            continue;
        rc = db_put_entry(g, b, k->valid ? k->crc : 0, k->valid ? 1 : 0);
        if (RT_SUCCESS(rc)) {
            k->dirty = false;
            k->durable = k->valid;
        }
    }
    if (RT_SUCCESS(rc))
        rc = gal_sync(g);
    return rc;
}

static void db_release(gal_img *g)
{
    decl *e = g->eng;
    free(e->blk);
    free(e);
    g->eng = NULL;
}

static int db_read(gal_img *g, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *pcb)
{
    decl *e = g->eng;
    uint64_t b = off / DB_BLOCK;
    if (b >= e->nblk || !e->blk[b].valid) {
        uint64_t end = off + cb; /* the miss runs to the next valid block */
        for (uint64_t c = b + 1; c < e->nblk && c * DB_BLOCK < end; c++)
            if (e->blk[c].valid) {
                end = c * DB_BLOCK;
                break;
            }
        *pcb = (size_t)(end - off);
        return VERR_VD_BLOCK_FREE;
    }
    size_t n = DB_BLOCK - (size_t)(off % DB_BLOCK);
    n = n < cb ? n : cb;
    int rc = gal_user_read(g, e->data_start + off, ctx, n);
    if (RT_FAILURE(rc))
        return rc;
    *pcb = n;
    return VINF_SUCCESS;
}

static int db_write(gal_img *g, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *pcb)
{
    decl *e = g->eng;
    uint64_t b = off / DB_BLOCK;
    if (b >= e->nblk) { /* declined: beyond what this cache keeps */
#ifdef GAL_DEFECT_ZEROCOUNT
        *pcb = 0;
#else
        *pcb = cb;
#endif
        return VINF_SUCCESS;
    }
    dblk *k = &e->blk[b];
    size_t in = (size_t)(off % DB_BLOCK);
    size_t n = DB_BLOCK - in < cb ? DB_BLOCK - in : cb;
    int rc;
    if (n < DB_BLOCK && !k->valid) { /* a piece of a block we do not hold: forgotten */
        rc = gal_ctx_take(g, ctx, e->buf, n);
        if (RT_SUCCESS(rc))
            *pcb = n;
        return rc;
    }
    if (n < DB_BLOCK) {
        rc = gal_rd(g, e->data_start + b * DB_BLOCK, e->buf, DB_BLOCK);
        if (RT_FAILURE(rc))
            return rc;
    }
#ifndef GAL_DEFECT_NOINVALIDATE
    if (k->durable) { /* the old version must not come back after a crash */
        rc = db_put_entry(g, b, 0, 0);
        if (RT_SUCCESS(rc))
            rc = gal_sync(g);
        if (RT_FAILURE(rc))
            return rc;
        k->durable = false;
    }
#endif
    k->valid = false;
    k->dirty = true;
    rc = gal_ctx_take(g, ctx, e->buf + in, n);
    if (RT_SUCCESS(rc))
        rc = gal_wr(g, e->data_start + b * DB_BLOCK, e->buf, DB_BLOCK);
    if (RT_FAILURE(rc))
        return rc;
    k->crc = gal_sum32(e->buf, DB_BLOCK);
    k->valid = true;
    *pcb = n;
    return VINF_SUCCESS;
}

const gal_engine gal_this_engine = {
    .name = "gdecline",
    .magic = { 'G', 'A', 'L', 'D', 'E', 'C', 'L', '1' },
    .max_capacity = 4ull << 30,
    .create = db_create,
    .load = db_load,
    .writable = NULL,
    .flush = db_flush,
    .release = db_release,
    .read = db_read,
    .write = db_write,
};

static const char *const db_exts[] = { "gdec", NULL };
const VDCACHEBACKEND gal_backend =
    GAL_VTABLE("gdecline", VD_CAP_UUID | VD_CAP_CREATE_FIXED | VD_CAP_CREATE_DYNAMIC | VD_CAP_FILE, db_exts);
