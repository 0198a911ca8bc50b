/*
 * harness/host/ioctx.h - I/O contexts: the VD side of PVDIOCTX.
 *
 * VD hands a backend's read and write callbacks an opaque I/O context; the
 * backend moves user data in and out of it only through the IOINT callbacks
 * (ReadUser, WriteUser, IoCtxCopyTo/From/Set, SegArrayCreate, IsZero).  vdcc
 * defines the context here: a scatter/gather list over the caller's buffers,
 * a cursor into it, and the count of bytes the transfer still allows.  Every
 * operation advances the cursor and decrements `left`, as VD does.
 *
 * The struct is public so callers can keep contexts on the stack; touch its
 * fields only through these functions.  Nothing here allocates.
 * spec/contract.md, section HOST-IOCTX.
 */
#ifndef VDCC_HARNESS_HOST_IOCTX_H
#define VDCC_HARNESS_HOST_IOCTX_H

#include <stdbool.h>
#include <stddef.h>

#include "../../spec/vdcache.h"

#define VDC_IOCTX_MAGIC 0x76646378u /* "vdcx" */

struct VDIOCTX {
    uint32_t       magic;     /* VDC_IOCTX_MAGIC while valid */
    const RTSGSEG *segs;      /* caller's segments, not copied */
    unsigned       nsegs;
    unsigned       iseg;      /* cursor: segment index ... */
    size_t         segoff;    /* ... and offset inside it */
    size_t         left;      /* bytes the transfer may still move */
    size_t         total;     /* bytes the transfer started with */
    bool           sync;      /* IoCtxIsSynchronous answer */
    size_t         data_unit; /* IoCtxGetDataUnitSize answer (512 by default) */
    /* Completion, as reported by IoCtxCompleted: how many calls, the first
     * failure status (VINF_SUCCESS while none), the sum of cbCompleted. */
    unsigned       completions;
    int            rc_completed;
    size_t         cb_completed;
};

/* Sets up ctx over segs[0..nsegs); left = total = sum of the segment sizes,
 * sync = true, data_unit = 512, no completions.  segs must stay valid while
 * ctx is used.  Empty segments are allowed (and skipped).  When segs cannot
 * be right (NULL with nsegs > 0, a NULL buffer with a non-zero size, sizes
 * whose sum overflows) ctx is set up invalid: vdc_ioctx_valid is false and
 * every operation moves nothing. */
void vdc_ioctx_init(struct VDIOCTX *ctx, const RTSGSEG *segs, unsigned nsegs);

/* One-buffer convenience: *seg is filled in and used as the only segment. */
void vdc_ioctx_init_buf(struct VDIOCTX *ctx, RTSGSEG *seg, void *buf, size_t cb);

/* True when ctx looks like a context this module initialised. */
bool vdc_ioctx_valid(const struct VDIOCTX *ctx);

/*
 * Cursor operations.  Each moves min(cb, ctx->left) bytes, advances the
 * cursor by what it moved and returns that count (0 once the transfer is
 * used up).  They never touch memory outside the segments.  An invalid ctx
 * or a NULL buffer with cb > 0 moves nothing.
 */
size_t vdc_ioctx_copy_to(struct VDIOCTX *ctx, const void *src, size_t cb);  /* into ctx */
size_t vdc_ioctx_copy_from(struct VDIOCTX *ctx, void *dst, size_t cb);      /* out of ctx */
size_t vdc_ioctx_set(struct VDIOCTX *ctx, int ch, size_t cb);
/* Is the next cb bytes (cb <= left) all zero?  Advances only when they are
 * and fAdvance is set.  False when cb > left. */
bool vdc_ioctx_is_zero(struct VDIOCTX *ctx, size_t cb, bool fAdvance);
/*
 * Describes the next min(cb, left) bytes as segments (pointers into the
 * caller's buffers; empty segments are never listed).  With paSeg NULL,
 * only counts the segments needed into *pcSeg, does not advance, and
 * returns the bytes they would describe.  Otherwise fills at most *pcSeg
 * entries, sets *pcSeg to the number filled, advances (cursor and left) by
 * the bytes described and returns them.  pcSeg NULL: returns 0.
 */
size_t vdc_ioctx_seg_array(struct VDIOCTX *ctx, RTSGSEG *paSeg, unsigned *pcSeg, size_t cb);

#endif /* VDCC_HARNESS_HOST_IOCTX_H */
