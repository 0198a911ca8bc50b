/*
 * harness/bench/work_meta.c - the metadata workloads of `vdcc bench`: caches
 * of many small extents (built once, kept in DIR), random miss lookups in
 * the big one, and the time to open each.  None has a raw equivalent: the
 * figures are absolute.  Contract: bench_int.h; definitions:
 * spec/performance.md section 1.
 *
 * An extent image of n extents caches virtual blocks 0, 2, 4, ... 2(n-1),
 * 512 bytes each, written in that order with a flush every cfg->flush_every
 * bytes: no two cached blocks are adjacent, so no backend can merge them and
 * the image holds exactly n extents.  Misses look up odd blocks, which were
 * never written.
 *
 * Every function runs in a workload child and returns VINF_SUCCESS or the
 * first failure (a backend status, VERR_NO_MEMORY, VERR_FILE_IO_ERROR),
 * described in res->error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_int.h"

#define BLOCK 512u

static uint64_t extents_capacity(unsigned n)
{
    uint64_t cb = (uint64_t)n * 1024 + 16 * VDC_BENCH_MIB;
    return (cb + VDC_BENCH_MIB - 1) / VDC_BENCH_MIB * VDC_BENCH_MIB;
}

static int prep_extents(const vdc_bench_cfg *cfg, vdc_bench_result *res, unsigned n)
{
    char name[256], part[300], path[4096], part_path[4096];
    vdc_bench_extents_name(cfg, n, name, sizeof name);
    snprintf(part, sizeof part, "%s.part", name);
    if ((size_t)snprintf(path, sizeof path, "%s/%s", cfg->dir, name) >= sizeof path ||
        (size_t)snprintf(part_path, sizeof part_path, "%s/%s", cfg->dir, part) >= sizeof part_path) {
        snprintf(res->error, sizeof res->error, "path too long under %s", cfg->dir);
        return VERR_BUFFER_OVERFLOW;
    }
    res->n = 1;
    res->as_expected = -1;
    res->ops_per_rep = n;
    vdc_bench_img img;
    int rc = vdc_bench_img_init(&img, cfg, res->error, sizeof res->error);
    if (rc != VINF_SUCCESS)
        return rc;
    double t0 = vdc_bench_now();
    if (cfg->keep_images && vdc_bench_img_open(&img, name) == VINF_SUCCESS) {
        vdc_bench_progress("reusing %s", name);
        rc = vdc_bench_img_close(&img, false);
        goto out_fini;
    }
    res->error[0] = '\0';
    vdc_bench_progress("building %s: %u extents of 512 bytes%s", name, n, n >= 100000 ? " (this takes a while)" : "");
    uint8_t block[BLOCK];
    vdc_bench_fill(block, sizeof block, 0x657874);
    rc = vdc_bench_img_create(&img, part, extents_capacity(n));
    if (rc != VINF_SUCCESS)
        goto out_fini;
    uint64_t since = 0;
    unsigned step = n / 10 ? n / 10 : 1;
    for (unsigned i = 0; i < n && rc == VINF_SUCCESS; i++) {
        rc = vdc_bench_img_write(&img, (uint64_t)i * 2 * BLOCK, block, BLOCK);
        since += BLOCK;
        if (rc == VINF_SUCCESS && since >= cfg->flush_every) {
            rc = vdc_bench_img_flush(&img);
            since = 0;
        }
        if (n >= 100000 && (i + 1) % step == 0)
            vdc_bench_progress("  %u of %u extents (%.0f s)", i + 1, n, vdc_bench_now() - t0);
    }
    if (rc == VINF_SUCCESS)
        rc = vdc_bench_img_close(&img, false);
    if (rc == VINF_SUCCESS && rename(part_path, path) != 0) {
        snprintf(res->error, sizeof res->error, "rename %.400s: %s", part_path, strerror(errno));
        rc = VERR_FILE_IO_ERROR;
    }
    res->backend[0] = vdc_bench_now() - t0;
out_fini:
    vdc_bench_img_fini(&img);
    return rc;
}

int vdc_bench_prep_extents_small(const vdc_bench_cfg *cfg, vdc_bench_result *res)
{
    return prep_extents(cfg, res, cfg->extents_small);
}

int vdc_bench_prep_extents_big(const vdc_bench_cfg *cfg, vdc_bench_result *res)
{
    return prep_extents(cfg, res, cfg->extents_big);
}

static int lookups(vdc_bench_img *img, unsigned n, unsigned count, uint64_t *seed, uint64_t *misses)
{
    uint8_t buf[BLOCK];
    for (unsigned i = 0; i < count; i++) {
        uint64_t v = 2 * (vdc_bench_rand(seed) % n) + 1;
        bool hit = false;
        int rc = vdc_bench_img_lookup(img, v * BLOCK, buf, BLOCK, &hit);
        if (rc != VINF_SUCCESS)
            return rc;
        *misses += !hit;
    }
    return VINF_SUCCESS;
}

int vdc_bench_miss_lookup(const vdc_bench_cfg *cfg, vdc_bench_result *res)
{
    char name[256];
    vdc_bench_extents_name(cfg, cfg->extents_big, name, sizeof name);
    res->ops_per_rep = cfg->lookups;
    vdc_bench_img img;
    int rc = vdc_bench_img_init(&img, cfg, res->error, sizeof res->error);
    if (rc != VINF_SUCCESS)
        return rc;
    rc = vdc_bench_img_open(&img, name);
    if (rc != VINF_SUCCESS)
        goto out_fini;
    uint64_t seed = 0x6d697373, misses = 0;
    /* A tenth of a repetition untimed: the backend's caches reach their
     * steady state (for a tree larger than the node cache, a thrashing one). */
    rc = lookups(&img, cfg->extents_big, cfg->lookups / 10, &seed, &misses);
    misses = 0;
    for (unsigned i = 0; i < cfg->reps && rc == VINF_SUCCESS; i++) {
        double t0 = vdc_bench_now();
        rc = lookups(&img, cfg->extents_big, cfg->lookups, &seed, &misses);
        double t = vdc_bench_now() - t0;
        if (rc != VINF_SUCCESS)
            break;
        res->backend[i] = t > 0 ? cfg->lookups / t : 0;
        res->n = i + 1;
    }
    if (res->n > 0)
        res->as_expected = (double)misses / ((double)cfg->lookups * res->n);
out_fini:
    vdc_bench_img_fini(&img);
    return rc;
}

static int open_times(const vdc_bench_cfg *cfg, vdc_bench_result *res, unsigned n)
{
    char name[256];
    vdc_bench_extents_name(cfg, n, name, sizeof name);
    res->as_expected = -1;
    res->ops_per_rep = 1;
    vdc_bench_img img;
    int rc = vdc_bench_img_init(&img, cfg, res->error, sizeof res->error);
    if (rc != VINF_SUCCESS)
        return rc;
    /* One untimed open and close: the file's pages are then as warm as a
     * recently used cache's. */
    rc = vdc_bench_img_open(&img, name);
    if (rc == VINF_SUCCESS)
        rc = vdc_bench_img_close(&img, false);
    for (unsigned i = 0; i < cfg->reps && rc == VINF_SUCCESS; i++) {
        double t0 = vdc_bench_now();
        rc = vdc_bench_img_open(&img, name);
        double t = vdc_bench_now() - t0;
        if (rc != VINF_SUCCESS)
            break;
        rc = vdc_bench_img_close(&img, false);
        res->backend[i] = t * 1e3;
        res->n = i + 1;
    }
    vdc_bench_img_fini(&img);
    return rc;
}

int vdc_bench_open_small(const vdc_bench_cfg *cfg, vdc_bench_result *res)
{
    return open_times(cfg, res, cfg->extents_small);
}

int vdc_bench_open_big(const vdc_bench_cfg *cfg, vdc_bench_result *res)
{
    return open_times(cfg, res, cfg->extents_big);
}
