/*
 * harness/host/vd.c - the one VD driver: judged single calls and VD's read
 * and cache-write loops.
 *
 * Contract, statuses and clauses: vd.h (spec/contract.md READ-1, READ-2,
 * READ-4, READ-5, WRITE-1; spec/trace-format.md sections 6.4, 7.6, 7.7).
 */
#include "vd.h"

#include <string.h>

#include "ioctx.h"

bool vdc_vd_unaligned(const vdc_vd_io *io)
{
    return io->off % 512 != 0 || io->asked % 512 != 0;
}

bool vdc_vd_counted(const vdc_vd_io *io)
{
    return RT_SUCCESS(io->rc) || (!io->write && io->rc == VERR_VD_BLOCK_FREE);
}

bool vdc_vd_usable(const vdc_vd_io *io)
{
    return vdc_vd_counted(io) && io->rule != VDC_VD_RULE_UNSET && io->rule != VDC_VD_RULE_ZERO
        && io->rule != VDC_VD_RULE_OVERRUN;
}

bool vdc_vd_is_hit(const vdc_vd_io *io)
{
    return !io->write && RT_SUCCESS(io->rc);
}

bool vdc_vd_is_miss(const vdc_vd_io *io)
{
    return !io->write && io->rc == VERR_VD_BLOCK_FREE;
}

/* Which rule the answer breaks (vd.h), and the clause that states it. */
static void judge(vdc_vd_io *io)
{
    bool miss = vdc_vd_is_miss(io);
    io->rule = VDC_VD_RULE_NONE;
    if (io->rc == VERR_VD_ASYNC_IO_IN_PROGRESS)
        io->rule = VDC_VD_RULE_ASYNC;
    else if (!vdc_vd_counted(io))
        return;
    else if (io->count == VDC_VD_SENTINEL)
        io->rule = VDC_VD_RULE_UNSET;
    else if (io->count == 0)
        io->rule = VDC_VD_RULE_ZERO;
    else if (io->count > io->asked)
        io->rule = VDC_VD_RULE_OVERRUN;
    else if (miss && io->moved != 0)
        io->rule = VDC_VD_RULE_MISS_MOVED;
    else if (io->write && io->count == io->asked && io->moved < io->count)
        io->declined = true; /* the rest is forgotten, not misplaced (vd.h) */
    else if (!miss && io->moved != io->count)
        io->rule = VDC_VD_RULE_MOVED;
    if (io->rule == VDC_VD_RULE_NONE)
        return;
    io->clause = io->write ? "WRITE-1" : io->rule == VDC_VD_RULE_ASYNC ? "READ-4" : miss ? "READ-2" : "READ-1";
}

static vdc_vd_io call(const vdc_vd *vd, bool write, uint64_t off, void *buf, size_t cb)
{
    struct VDIOCTX ctx;
    RTSGSEG seg = { buf, cb };
    vdc_vd_io io;

    memset(&io, 0, sizeof io);
    io.write = write;
    io.off = off;
    io.asked = cb;
    io.count = VDC_VD_SENTINEL;
    if (vd->host != NULL)
        vdc_host_ioctx_init(vd->host, &ctx, &seg, 1);
    else
        vdc_ioctx_init(&ctx, &seg, 1);
    if (vd->before != NULL)
        vd->before(vd->user, write, off, cb);
    io.rc = write ? vd->be->pfnWrite(vd->bd, off, cb, &ctx, &io.count)
                  : vd->be->pfnRead(vd->bd, off, cb, &ctx, &io.count);
    io.moved = ctx.total - ctx.left;
    if (vd->after != NULL && !vd->after(vd->user, write))
        io.stopped = true;
    judge(&io);
    return io;
}

vdc_vd_io vdc_vd_read(const vdc_vd *vd, uint64_t off, void *buf, size_t cb)
{
    return call(vd, false, off, buf, cb);
}

vdc_vd_io vdc_vd_write(const vdc_vd *vd, uint64_t off, const void *buf, size_t cb)
{
    /* The context only reads from buf; the cast is what RTSGSEG demands. */
    return call(vd, true, off, (void *)(uintptr_t)buf, cb);
}

/* After an answer: VDC_VD_END_DONE to go on, else how the loop ends. */
static vdc_vd_end after_answer(const vdc_vd_loop_opts *o, vdc_vd_loop *l, vdc_vd_io *io, uint8_t *data,
                               bool *skip)
{
    vdc_vd_next next = io->stopped ? VDC_VD_ABORT
                     : o->answer != NULL ? o->answer(o->user, io, data) : VDC_VD_NEXT;
    l->last = *io;
    l->rc = io->rc;
    *skip = false;
    if (next == VDC_VD_ABORT)
        return VDC_VD_END_STOPPED;
    if (!vdc_vd_counted(io)) {
        *skip = next == VDC_VD_SKIP;
        return *skip ? VDC_VD_END_DONE : VDC_VD_END_FAILED;
    }
    return vdc_vd_usable(io) ? VDC_VD_END_DONE : VDC_VD_END_BROKE;
}

static bool over_limit(const vdc_vd_loop_opts *o, vdc_vd_loop *l, uint64_t own_calls)
{
    if (o->max_calls == 0 || own_calls <= o->max_calls)
        return false;
    l->end = VDC_VD_END_LIMIT;
    return true;
}

/* A miss at [pos, pos + cb) in window: VD writes it into the cache.  Ends
 * the read loop (returns false) when the cache write does not complete. */
static bool fill(const vdc_vd *vd, const vdc_vd_loop_opts *o, vdc_vd_loop *l, uint64_t pos, uint8_t *window,
                 size_t cb)
{
    const uint8_t *src = o->fill_data != NULL ? o->fill_data(o->user, pos, window, cb) : NULL;
    if (src == NULL) {
        l->end = VDC_VD_END_NOMEM;
        l->rc = VERR_NO_MEMORY;
        return false;
    }
    vdc_vd_loop_opts wo = *o;
    wo.max_calls = 0;
    vdc_vd_loop w = vdc_vd_write_loop(vd, &wo, pos, src, cb);
    l->calls += w.calls;
    if (w.end == VDC_VD_END_DONE)
        return true;
    l->end = w.end;
    l->rc = w.rc;
    l->last = w.last;
    return false;
}

/* Both loops: the read loop (windows of at most max_xfer, hits, misses and
 * their fills) or the cache-write loop (the rest of src each time). */
static vdc_vd_loop run(const vdc_vd *vd, const vdc_vd_loop_opts *o, bool write, uint64_t off, uint8_t *buf,
                       uint64_t len)
{
    vdc_vd_loop l;
    uint64_t own = 0;
    bool windows = !write && o->max_xfer != 0;

    memset(&l, 0, sizeof l);
    while (l.done < len) {
        uint64_t pos = off + l.done, left = len - l.done;
        size_t cb = windows && left > o->max_xfer ? o->max_xfer : (size_t)left;
        uint8_t *window = windows ? buf : buf + l.done;
        bool skip;
        if (over_limit(o, &l, ++own))
            return l;
        if (!write && o->poison >= 0)
            memset(window, o->poison, cb);
        vdc_vd_io io = call(vd, write, pos, window, cb);
        l.calls++;
        l.end = after_answer(o, &l, &io, window, &skip);
        if (l.end != VDC_VD_END_DONE)
            return l;
        if (skip) {
            l.done += cb;
            continue;
        }
        if (vdc_vd_is_hit(&io)) {
            l.hit += io.count;
        } else if (vdc_vd_is_miss(&io)) {
            l.miss += io.count;
            if (o->fill && !fill(vd, o, &l, pos, window, io.count))
                return l;
        }
        l.done += io.count;
    }
    l.rc = l.miss > 0 ? VERR_VD_BLOCK_FREE : VINF_SUCCESS;
    return l;
}

vdc_vd_loop vdc_vd_read_loop(const vdc_vd *vd, const vdc_vd_loop_opts *o, uint64_t off, uint8_t *buf,
                             uint64_t len)
{
    return run(vd, o, false, off, buf, len);
}

vdc_vd_loop vdc_vd_write_loop(const vdc_vd *vd, const vdc_vd_loop_opts *o, uint64_t off, const uint8_t *src,
                              uint64_t len)
{
    /* The loop only reads from src when writing; the cast is RTSGSEG's. */
    return run(vd, o, true, off, (uint8_t *)(uintptr_t)src, len);
}
