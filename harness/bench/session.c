/*
 * harness/bench/session.c - one cache image driven through the host as VD
 * drives it: create/open/close/flush, VD's write loop and its read loop.
 * Contract: bench_int.h (vdc_bench_img_*); the loops follow
 * spec/vbox-behaviour.md section 7 and spec/contract.md.
 *
 * Status codes: every status the backend returns; VERR_NO_MEMORY (host or
 * fs); VERR_INVALID_PARAMETER (a config item that is not KEY=VALUE);
 * VERR_INTERNAL_ERROR when the backend breaks the protocol (success
 * with 0 bytes, more bytes than asked, a miss that moved data); VERR_INVALID_
 * STATE for a call on a closed image.  Each failure is described in the
 * caller's err buffer ("pfnWrite at 4096+65536: VERR_DISK_FULL (-152)").
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bench_int.h"
#include "../host/vd.h"

static int fail(vdc_bench_img *img, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(vdc_bench_img *img, int rc, const char *fmt, ...)
{
    char what[256], st[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(img->err, img->cb_err, "%s: %s", what, vdc_bench_status_text(rc, st, sizeof st));
    return rc;
}

static int set_config(vdc_bench_img *img, const char *const *kv, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        const char *eq = strchr(kv[i], '=');
        char key[256];
        if (eq == NULL || eq == kv[i] || (size_t)(eq - kv[i]) >= sizeof key)
            return fail(img, VERR_INVALID_PARAMETER, "config '%s' is not KEY=VALUE", kv[i]);
        memcpy(key, kv[i], (size_t)(eq - kv[i]));
        key[eq - kv[i]] = '\0';
        int rc = vdc_host_config_set(img->host, key, eq + 1);
        if (rc != VINF_SUCCESS)
            return fail(img, rc, "config %s", key);
    }
    return VINF_SUCCESS;
}

int vdc_bench_img_init(vdc_bench_img *img, const vdc_bench_cfg *cfg, char *err, size_t cb_err)
{
    memset(img, 0, sizeof *img);
    img->be = cfg->be;
    img->err = err;
    img->cb_err = cb_err;
    img->fs = vdc_fs_posix_new(cfg->dir);
    img->host = img->fs != NULL ? vdc_host_new(img->fs) : NULL;
    if (img->host == NULL) {
        vdc_fs_destroy(img->fs);
        img->fs = NULL;
        return fail(img, VERR_NO_MEMORY, "host over %s", cfg->dir);
    }
    int rc = set_config(img, cfg->config, cfg->nconfig);
    if (rc != VINF_SUCCESS)
        vdc_bench_img_fini(img);
    return rc;
}

void vdc_bench_img_fini(vdc_bench_img *img)
{
    if (img->bd != NULL)
        vdc_bench_img_close(img, false);
    vdc_host_free(img->host);
    vdc_fs_destroy(img->fs);
    img->host = NULL;
    img->fs = NULL;
}

int vdc_bench_img_create(vdc_bench_img *img, const char *name, uint64_t cb_capacity)
{
    int rc = img->be->pfnCreate(name, cb_capacity, VD_IMAGE_FLAGS_NONE, NULL, NULL, VD_OPEN_FLAGS_NORMAL, 0, 99,
                                vdc_host_disk_ifs(img->host), vdc_host_image_ifs(img->host),
                                vdc_host_op_ifs(img->host), &img->bd);
    if (RT_FAILURE(rc)) {
        img->bd = NULL;
        return fail(img, rc, "pfnCreate %s (%llu bytes)", name, (unsigned long long)cb_capacity);
    }
    return VINF_SUCCESS;
}

int vdc_bench_img_open(vdc_bench_img *img, const char *name)
{
    int rc = img->be->pfnOpen(name, VD_OPEN_FLAGS_NORMAL, vdc_host_disk_ifs(img->host),
                              vdc_host_image_ifs(img->host), &img->bd);
    if (RT_FAILURE(rc)) {
        img->bd = NULL;
        return fail(img, rc, "pfnOpen %s", name);
    }
    return VINF_SUCCESS;
}

int vdc_bench_img_close(vdc_bench_img *img, bool del)
{
    if (img->bd == NULL)
        return fail(img, VERR_INVALID_STATE, "pfnClose of a closed image");
    int rc = img->be->pfnClose(img->bd, del);
    img->bd = NULL; /* VD forgets the instance whatever close returned */
    return RT_FAILURE(rc) ? fail(img, rc, "pfnClose") : VINF_SUCCESS;
}

int vdc_bench_img_flush(vdc_bench_img *img)
{
    if (img->bd == NULL)
        return fail(img, VERR_INVALID_STATE, "pfnFlush of a closed image");
    struct VDIOCTX ctx;
    vdc_host_ioctx_init(img->host, &ctx, NULL, 0);
    int rc = img->be->pfnFlush(img->bd, &ctx);
    return RT_FAILURE(rc) ? fail(img, rc, "pfnFlush") : VINF_SUCCESS;
}

/* The instance as the driver sees it. */
static vdc_vd vd_of(const vdc_bench_img *img)
{
    vdc_vd vd = { img->be, img->bd, img->host, NULL, NULL, NULL };
    return vd;
}

/* How a loop of the driver ended, as this file's status and message. */
static int loop_status(vdc_bench_img *img, const vdc_vd_loop *l)
{
    const vdc_vd_io *io = &l->last;
    const char *fn = io->write ? "pfnWrite" : "pfnRead";
    if (l->end == VDC_VD_END_FAILED)
        return fail(img, l->rc, "%s at %llu+%zu", fn, (unsigned long long)io->off, io->asked);
    if (l->end == VDC_VD_END_BROKE)
        return fail(img, VERR_INTERNAL_ERROR, "%s at %llu+%zu reported %zu bytes%s", fn, (unsigned long long)io->off,
                    io->asked, io->count == VDC_VD_SENTINEL ? 0 : io->count, io->write ? " processed" : "");
    return VINF_SUCCESS;
}

int vdc_bench_img_write(vdc_bench_img *img, uint64_t off, const void *buf, size_t cb)
{
    if (img->bd == NULL)
        return fail(img, VERR_INVALID_STATE, "pfnWrite on a closed image");
    vdc_vd vd = vd_of(img);
    vdc_vd_loop_opts o = { .poison = -1 };
    vdc_vd_loop l = vdc_vd_write_loop(&vd, &o, off, buf, cb);
    return loop_status(img, &l);
}

int vdc_bench_img_read(vdc_bench_img *img, uint64_t off, void *buf, size_t cb, uint64_t *hit_bytes)
{
    if (img->bd == NULL)
        return fail(img, VERR_INVALID_STATE, "pfnRead on a closed image");
    vdc_vd vd = vd_of(img);
    vdc_vd_loop_opts o = { .poison = -1 };
    vdc_vd_loop l = vdc_vd_read_loop(&vd, &o, off, buf, cb);
    *hit_bytes = l.hit;
    return loop_status(img, &l);
}

int vdc_bench_img_lookup(vdc_bench_img *img, uint64_t off, void *buf, size_t cb, bool *hit)
{
    if (img->bd == NULL)
        return fail(img, VERR_INVALID_STATE, "pfnRead on a closed image");
    vdc_vd vd = vd_of(img);
    vdc_vd_io io = vdc_vd_read(&vd, off, buf, cb);
    if (!vdc_vd_counted(&io))
        return fail(img, io.rc, "pfnRead at %llu+%zu", (unsigned long long)off, cb);
    if (!vdc_vd_usable(&io))
        return fail(img, VERR_INTERNAL_ERROR, "pfnRead at %llu+%zu reported %zu bytes", (unsigned long long)off, cb,
                    io.count == VDC_VD_SENTINEL ? 0 : io.count);
    if (io.rule == VDC_VD_RULE_MISS_MOVED)
        return fail(img, VERR_INTERNAL_ERROR, "pfnRead at %llu+%zu: a miss that moved %zu bytes",
                    (unsigned long long)off, cb, io.moved);
    *hit = vdc_vd_is_hit(&io);
    return VINF_SUCCESS;
}
