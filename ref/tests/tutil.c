/*
 * ref/tests/tutil.c - helpers shared by the ref tests (tutil.h).
 */
#include "tutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref/ref.h"

tenv *tenv_new(uint64_t max_bytes)
{
    tenv *e = calloc(1, sizeof(*e));
    if (e == NULL)
        abort();
    e->fs = vdc_fs_mem_new(max_bytes, 0);
    e->host = e->fs != NULL ? vdc_host_new(e->fs) : NULL;
    if (e->host == NULL)
        abort();
    e->be = &vdcc_ref_backend;
    return e;
}

void tenv_free(tenv *e)
{
    if (e == NULL)
        return;
    vdc_host_free(e->host);
    vdc_fs_destroy(e->fs);
    free(e);
}

int tenv_create(tenv *e, const char *name, uint64_t cb, unsigned img_flags, void **bd)
{
    return e->be->pfnCreate(name, cb, img_flags, NULL, NULL, VD_OPEN_FLAGS_NORMAL, 0, 99,
                            vdc_host_disk_ifs(e->host), vdc_host_image_ifs(e->host),
                            vdc_host_op_ifs(e->host), bd);
}

int tenv_open(tenv *e, const char *name, unsigned flags, void **bd)
{
    return e->be->pfnOpen(name, flags, vdc_host_disk_ifs(e->host), vdc_host_image_ifs(e->host), bd);
}

int tenv_read(tenv *e, void *bd, uint64_t off, void *buf, size_t cb, size_t *done)
{
    struct VDIOCTX ctx;
    RTSGSEG seg = { buf, cb };
    vdc_host_ioctx_init(e->host, &ctx, &seg, 1);
    *done = 0;
    return e->be->pfnRead(bd, off, cb, &ctx, done);
}

int tenv_write(tenv *e, void *bd, uint64_t off, const void *buf, size_t cb, size_t *done)
{
    struct VDIOCTX ctx;
    RTSGSEG seg = { (void *)buf, cb };
    vdc_host_ioctx_init(e->host, &ctx, &seg, 1);
    *done = 0;
    return e->be->pfnWrite(bd, off, cb, &ctx, done);
}

int tenv_write_all(tenv *e, void *bd, uint64_t off, const void *buf, size_t cb, unsigned *calls)
{
    struct VDIOCTX ctx;
    RTSGSEG seg = { (void *)buf, cb };
    vdc_host_ioctx_init(e->host, &ctx, &seg, 1);
    size_t left = cb;
    if (calls != NULL)
        *calls = 0;
    while (left > 0) {
        size_t done = 0;
        size_t before = ctx.left;
        int rc = e->be->pfnWrite(bd, off, left, &ctx, &done);
        if (calls != NULL)
            (*calls)++;
        if (RT_FAILURE(rc))
            return rc;
        if (done == 0 || done > left || before - ctx.left != done)
            return VERR_INTERNAL_ERROR;
        off += done;
        left -= done;
    }
    return VINF_SUCCESS;
}

int tenv_read_all(tenv *e, void *bd, uint64_t off, uint8_t *buf, size_t cb, uint8_t *hit)
{
    size_t pos = 0;
    while (pos < cb) {
        struct VDIOCTX ctx;
        RTSGSEG seg = { buf + pos, cb - pos };
        vdc_host_ioctx_init(e->host, &ctx, &seg, 1);
        size_t done = 0;
        int rc = e->be->pfnRead(bd, off + pos, cb - pos, &ctx, &done);
        if (rc != VINF_SUCCESS && rc != VERR_VD_BLOCK_FREE)
            return rc;
        if (done == 0 || done > cb - pos)
            return VERR_INTERNAL_ERROR;
        if (rc == VINF_SUCCESS && ctx.total - ctx.left != done)
            return VERR_INTERNAL_ERROR; /* a hit must move exactly what it reports */
        if (rc == VERR_VD_BLOCK_FREE && ctx.left != ctx.total)
            return VERR_INTERNAL_ERROR; /* a miss moves nothing */
        for (size_t i = 0; i < done; i++)
            hit[pos + i] = rc == VINF_SUCCESS;
        pos += done;
    }
    return VINF_SUCCESS;
}

int tenv_raw_io(tenv *e, const char *name, bool create, vci_io *io)
{
    PVDINTERFACEIOINT ioint = vdc_host_ioint(e->host);
    memset(io, 0, sizeof(*io));
    io->ioint = ioint;
    io->epoch = true;
    int rc = ioint->pfnOpen(ioint->Core.pvUser, name,
                            vdc_open_flags_to_file(VD_OPEN_FLAGS_NORMAL, create), &io->stor);
    if (RT_SUCCESS(rc))
        rc = vci_io_refresh_size(io);
    return rc;
}

void tenv_raw_close(tenv *e, vci_io *io)
{
    PVDINTERFACEIOINT ioint = vdc_host_ioint(e->host);
    ioint->pfnClose(ioint->Core.pvUser, io->stor);
    io->stor = NULL;
}

int tenv_copy(tenv *e, const char *src, const char *dst, uint64_t *size)
{
    vdc_file *f;
    int rc = e->fs->ops->open(e->fs, src, RTFILE_O_READ | RTFILE_O_OPEN | RTFILE_O_DENY_NONE, &f);
    if (RT_FAILURE(rc))
        return rc;
    uint64_t cb = 0;
    rc = e->fs->ops->get_size(f, &cb);
    e->fs->ops->close(f);
    if (RT_FAILURE(rc))
        return rc;
    uint8_t *buf = malloc(cb > 0 ? (size_t)cb : 1);
    if (buf == NULL)
        return VERR_NO_MEMORY;
    rc = cb > 0 ? vdc_fs_mem_peek(e->fs, src, 0, buf, (size_t)cb) : VINF_SUCCESS;
    if (RT_SUCCESS(rc))
        rc = vdc_fs_mem_put(e->fs, dst, buf, (size_t)cb);
    free(buf);
    if (size != NULL)
        *size = cb;
    return rc;
}

uint64_t trand(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

void tfill(uint8_t *buf, size_t cb, uint64_t seed)
{
    uint64_t st = seed;
    for (size_t i = 0; i < cb; i += 8) {
        uint64_t v = trand(&st);
        for (size_t j = 0; j < 8 && i + j < cb; j++)
            buf[i + j] = (uint8_t)(v >> (8 * j));
    }
}
