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

int vdc_bench_img_write(vdc_bench_img *img, uint64_t off, const void *buf, size_t cb)
{
    if (img->bd == NULL)
        return fail(img, VERR_INVALID_STATE, "pfnWrite on a closed image");
    const uint8_t *p = buf;
    while (cb > 0) {
        /* A fresh context per call over what is left, as VD's cache-write
         * loop presents the rest of the buffer. */
        struct VDIOCTX ctx;
        RTSGSEG seg = { (void *)p, cb };
        vdc_host_ioctx_init(img->host, &ctx, &seg, 1);
        size_t done = 0;
        int rc = img->be->pfnWrite(img->bd, off, cb, &ctx, &done);
        if (RT_FAILURE(rc))
            return fail(img, rc, "pfnWrite at %llu+%zu", (unsigned long long)off, cb);
        if (done == 0 || done > cb)
            return fail(img, VERR_INTERNAL_ERROR, "pfnWrite at %llu+%zu reported %zu bytes processed",
                        (unsigned long long)off, cb, done);
        off += done;
        p += done;
        cb -= done;
    }
    return VINF_SUCCESS;
}

int vdc_bench_img_read(vdc_bench_img *img, uint64_t off, void *buf, size_t cb, uint64_t *hit_bytes)
{
    if (img->bd == NULL)
        return fail(img, VERR_INVALID_STATE, "pfnRead on a closed image");
    uint8_t *p = buf;
    *hit_bytes = 0;
    while (cb > 0) {
        struct VDIOCTX ctx;
        RTSGSEG seg = { p, cb };
        vdc_host_ioctx_init(img->host, &ctx, &seg, 1);
        size_t done = 0;
        int rc = img->be->pfnRead(img->bd, off, cb, &ctx, &done);
        if (rc != VINF_SUCCESS && rc != VERR_VD_BLOCK_FREE)
            return fail(img, rc, "pfnRead at %llu+%zu", (unsigned long long)off, cb);
        if (done == 0 || done > cb)
            return fail(img, VERR_INTERNAL_ERROR, "pfnRead at %llu+%zu reported %zu bytes", (unsigned long long)off,
                        cb, done);
        if (rc == VINF_SUCCESS)
            *hit_bytes += done;
        off += done;
        p += done;
        cb -= done;
    }
    return VINF_SUCCESS;
}

int vdc_bench_img_lookup(vdc_bench_img *img, uint64_t off, void *buf, size_t cb, bool *hit)
{
    if (img->bd == NULL)
        return fail(img, VERR_INVALID_STATE, "pfnRead on a closed image");
    struct VDIOCTX ctx;
    RTSGSEG seg = { buf, cb };
    vdc_host_ioctx_init(img->host, &ctx, &seg, 1);
    size_t done = 0;
    int rc = img->be->pfnRead(img->bd, off, cb, &ctx, &done);
    if (rc != VINF_SUCCESS && rc != VERR_VD_BLOCK_FREE)
        return fail(img, rc, "pfnRead at %llu+%zu", (unsigned long long)off, cb);
    if (done == 0 || done > cb)
        return fail(img, VERR_INTERNAL_ERROR, "pfnRead at %llu+%zu reported %zu bytes", (unsigned long long)off, cb,
                    done);
    if (rc == VERR_VD_BLOCK_FREE && ctx.left != cb)
        return fail(img, VERR_INTERNAL_ERROR, "pfnRead at %llu+%zu: a miss that moved %zu bytes",
                    (unsigned long long)off, cb, cb - ctx.left);
    *hit = rc == VINF_SUCCESS;
    return VINF_SUCCESS;
}
