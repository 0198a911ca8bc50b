/*
 * harness/reliability/fs_fault.c - the fault-injecting vdc_fs.
 *
 * Contract: fs_fault.h; every forwarded operation keeps the inner fs's
 * contract (harness/host/fs.h).  Statuses: whatever the inner fs returns,
 * the armed status for an injected failure, VERR_NO_MEMORY (open cannot
 * allocate its handle), VERR_INVALID_PARAMETER (NULL handle or out pointer,
 * bad arming).  Implements the fault half of spec/contract.md HOST-2 tests.
 */
#include "fs_fault.h"

#include <stdlib.h>
#include <string.h>

typedef struct fault_file fault_file;
struct fault_file {
    vdc_file    base;
    vdc_file   *inner;
    fault_file *prev, *next; /* open handles, for destroy */
};

typedef struct fault_fs {
    vdc_fs          base;
    vdc_fs         *inner;
    uint64_t        count[VDC_FAULT_KINDS_];
    bool            armed;
    vdc_fault_kind  kind;
    uint64_t        target;  /* the counter value of the op that fails first */
    int             status;
    unsigned        flags;
    uint64_t        fired;
    fault_file     *live;
} fault_fs;

static const vdc_fs_ops fault_ops;

static fault_fs *as_fault(const vdc_fs *fs)
{
    return fs != NULL && fs->ops == &fault_ops ? (fault_fs *)(uintptr_t)fs : NULL;
}

/* Counts one operation of kind k and says whether it must fail. */
static bool tick(fault_fs *fs, vdc_fault_kind k)
{
    fs->count[k]++;
    fs->count[VDC_FAULT_ANY]++;
    if (!fs->armed || (fs->kind != VDC_FAULT_ANY && fs->kind != k))
        return false;
    uint64_t c = fs->count[fs->kind];
    bool fail = c == fs->target || ((fs->flags & VDC_FAULT_PERSISTENT) && c > fs->target);
    if (fail)
        fs->fired++;
    return fail;
}

static int fault_open(vdc_fs *fsp, const char *name, uint32_t fOpen, vdc_file **out)
{
    fault_fs *fs = (fault_fs *)fsp;
    fault_file *f;
    vdc_file *inner = NULL;
    int rc;

    if (out == NULL)
        return VERR_INVALID_PARAMETER;
    *out = NULL;
    if (tick(fs, VDC_FAULT_OPEN))
        return fs->status;
    f = calloc(1, sizeof *f);
    if (f == NULL)
        return VERR_NO_MEMORY;
    rc = fs->inner->ops->open(fs->inner, name, fOpen, &inner);
    if (RT_FAILURE(rc))
        goto out_free_handle;
    f->base.fs = fsp;
    f->inner = inner;
    f->next = fs->live;
    if (fs->live != NULL)
        fs->live->prev = f;
    fs->live = f;
    *out = &f->base;
    return rc;

out_free_handle:
    free(f);
    return rc;
}

static int fault_close(vdc_file *fp)
{
    if (fp == NULL)
        return VERR_INVALID_PARAMETER;
    fault_fs *fs = (fault_fs *)fp->fs;
    fault_file *f = (fault_file *)fp;
    int rc = f->inner->fs->ops->close(f->inner);
    if (f->prev != NULL)
        f->prev->next = f->next;
    else
        fs->live = f->next;
    if (f->next != NULL)
        f->next->prev = f->prev;
    free(f);
    return rc;
}

static int fault_remove(vdc_fs *fsp, const char *name)
{
    fault_fs *fs = (fault_fs *)fsp;
    if (tick(fs, VDC_FAULT_NAME))
        return fs->status;
    return fs->inner->ops->remove(fs->inner, name);
}

static int fault_rename(vdc_fs *fsp, const char *src, const char *dst, unsigned fMove)
{
    fault_fs *fs = (fault_fs *)fsp;
    if (tick(fs, VDC_FAULT_NAME))
        return fs->status;
    return fs->inner->ops->rename(fs->inner, src, dst, fMove);
}

static int fault_free_space(vdc_fs *fsp, const char *name, int64_t *pcb)
{
    fault_fs *fs = (fault_fs *)fsp;
    if (tick(fs, VDC_FAULT_STAT))
        return fs->status;
    return fs->inner->ops->free_space(fs->inner, name, pcb);
}

static int fault_mtime(vdc_fs *fsp, const char *name, int64_t *pns)
{
    fault_fs *fs = (fault_fs *)fsp;
    if (tick(fs, VDC_FAULT_STAT))
        return fs->status;
    return fs->inner->ops->mtime(fs->inner, name, pns);
}

static int fault_get_size(vdc_file *fp, uint64_t *pcb)
{
    if (fp == NULL)
        return VERR_INVALID_PARAMETER;
    fault_fs *fs = (fault_fs *)fp->fs;
    vdc_file *in = ((fault_file *)fp)->inner;
    if (tick(fs, VDC_FAULT_STAT))
        return fs->status;
    return in->fs->ops->get_size(in, pcb);
}

static int fault_set_size(vdc_file *fp, uint64_t cb)
{
    if (fp == NULL)
        return VERR_INVALID_PARAMETER;
    fault_fs *fs = (fault_fs *)fp->fs;
    vdc_file *in = ((fault_file *)fp)->inner;
    if (tick(fs, VDC_FAULT_SIZE))
        return fs->status;
    return in->fs->ops->set_size(in, cb);
}

static int fault_allocate(vdc_file *fp, uint64_t cb)
{
    if (fp == NULL)
        return VERR_INVALID_PARAMETER;
    fault_fs *fs = (fault_fs *)fp->fs;
    vdc_file *in = ((fault_file *)fp)->inner;
    if (tick(fs, VDC_FAULT_SIZE))
        return fs->status;
    return in->fs->ops->allocate(in, cb);
}

static int fault_read(vdc_file *fp, uint64_t off, void *buf, size_t cb)
{
    if (fp == NULL)
        return VERR_INVALID_PARAMETER;
    fault_fs *fs = (fault_fs *)fp->fs;
    vdc_file *in = ((fault_file *)fp)->inner;
    if (tick(fs, VDC_FAULT_READ)) {
        if (buf != NULL)
            memset(buf, VDC_FAULT_POISON, cb);
        return fs->status;
    }
    return in->fs->ops->read(in, off, buf, cb);
}

static int fault_write(vdc_file *fp, uint64_t off, const void *buf, size_t cb)
{
    if (fp == NULL)
        return VERR_INVALID_PARAMETER;
    fault_fs *fs = (fault_fs *)fp->fs;
    vdc_file *in = ((fault_file *)fp)->inner;
    if (tick(fs, VDC_FAULT_WRITE)) {
        size_t half = cb / 1024 * 512;
        if ((fs->flags & VDC_FAULT_TORN) && half != 0 && buf != NULL)
            (void)in->fs->ops->write(in, off, buf, half);
        return fs->status;
    }
    return in->fs->ops->write(in, off, buf, cb);
}

static int fault_flush(vdc_file *fp)
{
    if (fp == NULL)
        return VERR_INVALID_PARAMETER;
    fault_fs *fs = (fault_fs *)fp->fs;
    vdc_file *in = ((fault_file *)fp)->inner;
    if (tick(fs, VDC_FAULT_FLUSH))
        return fs->status;
    return in->fs->ops->flush(in);
}

static void fault_destroy(vdc_fs *fsp)
{
    fault_fs *fs = (fault_fs *)fsp;
    while (fs->live != NULL)
        fault_close(&fs->live->base);
    free(fs);
}

static const vdc_fs_ops fault_ops = {
    .open = fault_open,
    .close = fault_close,
    .remove = fault_remove,
    .rename = fault_rename,
    .free_space = fault_free_space,
    .mtime = fault_mtime,
    .get_size = fault_get_size,
    .set_size = fault_set_size,
    .allocate = fault_allocate,
    .read = fault_read,
    .write = fault_write,
    .flush = fault_flush,
    .destroy = fault_destroy,
};

vdc_fs *vdc_fs_fault_new(vdc_fs *inner)
{
    if (inner == NULL)
        return NULL;
    fault_fs *fs = calloc(1, sizeof *fs);
    if (fs == NULL)
        return NULL;
    fs->base.ops = &fault_ops;
    fs->inner = inner;
    return &fs->base;
}

int vdc_fs_fault_arm(vdc_fs *fsp, vdc_fault_kind kind, uint64_t nth, int status, unsigned flags)
{
    fault_fs *fs = as_fault(fsp);
    if (fs == NULL || (unsigned)kind >= VDC_FAULT_KINDS_ || nth == 0 || nth > UINT64_MAX / 2
        || RT_SUCCESS(status) || (flags & ~(VDC_FAULT_PERSISTENT | VDC_FAULT_TORN)) != 0)
        return VERR_INVALID_PARAMETER;
    fs->armed = true;
    fs->kind = kind;
    fs->target = fs->count[kind] + nth;
    fs->status = status;
    fs->flags = flags;
    fs->fired = 0;
    return VINF_SUCCESS;
}

void vdc_fs_fault_clear(vdc_fs *fsp)
{
    fault_fs *fs = as_fault(fsp);
    if (fs != NULL)
        fs->armed = false;
}

uint64_t vdc_fs_fault_count(const vdc_fs *fsp, vdc_fault_kind kind)
{
    fault_fs *fs = as_fault(fsp);
    return fs != NULL && (unsigned)kind < VDC_FAULT_KINDS_ ? fs->count[kind] : 0;
}

uint64_t vdc_fs_fault_fired(const vdc_fs *fsp)
{
    fault_fs *fs = as_fault(fsp);
    return fs != NULL ? fs->fired : 0;
}

void vdc_fs_fault_reset_counts(vdc_fs *fsp)
{
    fault_fs *fs = as_fault(fsp);
    if (fs == NULL)
        return;
    if (fs->armed) {
        uint64_t c = fs->count[fs->kind];
        if (c < fs->target)
            fs->target -= c;                      /* the same distance from now */
        else if (fs->flags & VDC_FAULT_PERSISTENT)
            fs->target = 1;                       /* still failing */
        else
            fs->armed = false;                    /* a transient fault that fired */
    }
    memset(fs->count, 0, sizeof fs->count);
    fs->fired = 0;
}

const char *vdc_fault_kind_name(vdc_fault_kind kind)
{
    static const char *const names[VDC_FAULT_KINDS_] = {
        "open", "read", "write", "flush", "size", "name", "stat", "any",
    };
    return (unsigned)kind < VDC_FAULT_KINDS_ ? names[kind] : "?";
}
