/*
 * harness/host/ioctx.c - the scatter/gather cursor behind PVDIOCTX.
 *
 * Contract: ioctx.h (spec/contract.md, section HOST-IOCTX).  Nothing here
 * returns a status: each operation reports the bytes it moved (or a bool),
 * and moves nothing on an invalid context or NULL buffer.
 *
 * Invariants of a valid context, kept by every function below:
 *  - iseg <= nsegs, and segoff <= segs[iseg].cbSeg while iseg < nsegs;
 *  - left <= the bytes remaining in the segments after the cursor (init sets
 *    left to all of them; every move subtracts what it moved from both);
 * so a move bounded by `left` never walks off the end of the segments.  The
 * span walker still stops at the last segment, should a caller have changed
 * the fields behind our back.
 */
#include "ioctx.h"

#include <stdint.h>
#include <string.h>

void vdc_ioctx_init(struct VDIOCTX *ctx, const RTSGSEG *segs, unsigned nsegs)
{
    size_t total = 0;
    bool ok = segs != NULL || nsegs == 0;

    for (unsigned i = 0; ok && i < nsegs; i++) {
        if (segs[i].pvSeg == NULL && segs[i].cbSeg != 0)
            ok = false;
        else if (segs[i].cbSeg > SIZE_MAX - total)
            ok = false;
        else
            total += segs[i].cbSeg;
    }
    memset(ctx, 0, sizeof *ctx);
    ctx->magic = ok ? VDC_IOCTX_MAGIC : 0;
    ctx->segs = ok ? segs : NULL;
    ctx->nsegs = ok ? nsegs : 0;
    ctx->left = ok ? total : 0;
    ctx->total = ctx->left;
    ctx->sync = true;
    ctx->data_unit = 512;
}

void vdc_ioctx_init_buf(struct VDIOCTX *ctx, RTSGSEG *seg, void *buf, size_t cb)
{
    seg->pvSeg = buf;
    seg->cbSeg = cb;
    vdc_ioctx_init(ctx, seg, 1);
}

bool vdc_ioctx_valid(const struct VDIOCTX *ctx)
{
    return ctx != NULL && ctx->magic == VDC_IOCTX_MAGIC && (ctx->segs != NULL || ctx->nsegs == 0)
        && ctx->iseg <= ctx->nsegs;
}

/* The contiguous bytes at the cursor, at most `want`: skips used-up and
 * empty segments (moving the cursor past them, which moves no data) and
 * returns the span's start, or NULL when the segments are exhausted. */
static uint8_t *span_at_cursor(struct VDIOCTX *ctx, size_t want, size_t *pcb)
{
    while (ctx->iseg < ctx->nsegs && ctx->segoff >= ctx->segs[ctx->iseg].cbSeg) {
        ctx->iseg++;
        ctx->segoff = 0;
    }
    if (ctx->iseg >= ctx->nsegs) {
        *pcb = 0;
        return NULL;
    }
    size_t avail = ctx->segs[ctx->iseg].cbSeg - ctx->segoff;
    *pcb = avail < want ? avail : want;
    return (uint8_t *)ctx->segs[ctx->iseg].pvSeg + ctx->segoff;
}

static void advance(struct VDIOCTX *ctx, size_t cb)
{
    ctx->segoff += cb;
    ctx->left -= cb;
}

static size_t bound(const struct VDIOCTX *ctx, size_t cb)
{
    return cb < ctx->left ? cb : ctx->left;
}

size_t vdc_ioctx_copy_to(struct VDIOCTX *ctx, const void *src, size_t cb)
{
    if (!vdc_ioctx_valid(ctx) || (src == NULL && cb != 0))
        return 0;
    const uint8_t *p = src;
    size_t todo = bound(ctx, cb), done = 0;
    while (done < todo) {
        size_t n;
        uint8_t *dst = span_at_cursor(ctx, todo - done, &n);
        if (dst == NULL)
            break;
        memcpy(dst, p + done, n);
        advance(ctx, n);
        done += n;
    }
    return done;
}

size_t vdc_ioctx_copy_from(struct VDIOCTX *ctx, void *dst, size_t cb)
{
    if (!vdc_ioctx_valid(ctx) || (dst == NULL && cb != 0))
        return 0;
    uint8_t *p = dst;
    size_t todo = bound(ctx, cb), done = 0;
    while (done < todo) {
        size_t n;
        const uint8_t *src = span_at_cursor(ctx, todo - done, &n);
        if (src == NULL)
            break;
        memcpy(p + done, src, n);
        advance(ctx, n);
        done += n;
    }
    return done;
}

size_t vdc_ioctx_set(struct VDIOCTX *ctx, int ch, size_t cb)
{
    if (!vdc_ioctx_valid(ctx))
        return 0;
    size_t todo = bound(ctx, cb), done = 0;
    while (done < todo) {
        size_t n;
        uint8_t *dst = span_at_cursor(ctx, todo - done, &n);
        if (dst == NULL)
            break;
        memset(dst, (unsigned char)ch, n);
        advance(ctx, n);
        done += n;
    }
    return done;
}

static bool all_zero(const uint8_t *p, size_t cb)
{
    for (size_t i = 0; i < cb; i++)
        if (p[i] != 0)
            return false;
    return true;
}

bool vdc_ioctx_is_zero(struct VDIOCTX *ctx, size_t cb, bool fAdvance)
{
    if (!vdc_ioctx_valid(ctx) || cb > ctx->left)
        return false;
    struct VDIOCTX walk = *ctx; /* look ahead without moving ctx */
    size_t done = 0;
    while (done < cb) {
        size_t n;
        const uint8_t *p = span_at_cursor(&walk, cb - done, &n);
        if (p == NULL || !all_zero(p, n))
            return false;
        advance(&walk, n);
        done += n;
    }
    if (fAdvance) {
        ctx->iseg = walk.iseg;
        ctx->segoff = walk.segoff;
        ctx->left = walk.left;
    }
    return true;
}

size_t vdc_ioctx_seg_array(struct VDIOCTX *ctx, RTSGSEG *paSeg, unsigned *pcSeg, size_t cb)
{
    if (pcSeg == NULL)
        return 0;
    if (!vdc_ioctx_valid(ctx)) {
        *pcSeg = 0;
        return 0;
    }
    size_t todo = bound(ctx, cb), done = 0;
    unsigned count = 0;
    if (paSeg == NULL) {
        struct VDIOCTX walk = *ctx;
        while (done < todo) {
            size_t n;
            if (span_at_cursor(&walk, todo - done, &n) == NULL)
                break;
            advance(&walk, n);
            done += n;
            count++;
        }
        *pcSeg = count;
        return done;
    }
    while (done < todo && count < *pcSeg) {
        size_t n;
        uint8_t *p = span_at_cursor(ctx, todo - done, &n);
        if (p == NULL)
            break;
        paSeg[count].pvSeg = p;
        paSeg[count].cbSeg = n;
        advance(ctx, n);
        done += n;
        count++;
    }
    *pcSeg = count;
    return done;
}
