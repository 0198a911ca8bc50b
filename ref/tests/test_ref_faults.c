/*
 * ref/tests/test_ref_faults.c - every I/O of a workload fails once
 * (spec/vci-format.md sections 10 and 12: broken instances, error paths).
 *
 * A vdc_fs wrapper fails the N-th read, write, flush or size change of the
 * cache file (N = 1, 2, ... until a run sees no fault).  The workload keeps
 * a model of the last data of each successful write; whatever fails, no
 * operation may crash, hang or leak, no read may serve anything but the
 * model's bytes, close must release everything, and afterwards the image
 * must open (without faults), serve only model bytes, and pass vci_check
 * once closed again.
 */
#include <stdlib.h>
#include <string.h>

#include "ref/ref.h"
#include "ref/vci_check.h"
#include "tests/check.h"
#include "tutil.h"

#define KiB 1024u

typedef struct ff_fs {
    vdc_fs    base;
    vdc_fs   *inner;
    uint64_t  calls;     /* I/O calls on the cache file so far */
    uint64_t  fail_at;   /* 0: never */
    int       fail_rc;
    bool      failed;
} ff_fs;

typedef struct ff_file {
    vdc_file  base;
    vdc_file *inner;
    bool      tracked;
} ff_file;

static ff_fs *ffo(vdc_fs *fs) { return (ff_fs *)(void *)fs; }
static ff_file *ffl(vdc_file *f) { return (ff_file *)(void *)f; }

/* True when this call is the one to fail. */
static bool trip(vdc_file *fp)
{
    ff_fs *w = ffo(fp->fs);
    if (!ffl(fp)->tracked)
        return false;
    if (++w->calls == w->fail_at) {
        w->failed = true;
        return true;
    }
    return false;
}

static int ff_open(vdc_fs *fs, const char *name, uint32_t fl, vdc_file **out)
{
    ff_file *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return VERR_NO_MEMORY;
    int rc = ffo(fs)->inner->ops->open(ffo(fs)->inner, name, fl, &f->inner);
    if (RT_FAILURE(rc)) {
        free(f);
        return rc;
    }
    f->base.fs = fs;
    f->tracked = strcmp(name, "f.vci") == 0;
    *out = &f->base;
    return VINF_SUCCESS;
}

static int ff_close(vdc_file *fp)
{
    int rc = ffl(fp)->inner->fs->ops->close(ffl(fp)->inner);
    free(fp);
    return rc;
}

static int ff_remove(vdc_fs *fs, const char *n) { return ffo(fs)->inner->ops->remove(ffo(fs)->inner, n); }
static int ff_rename(vdc_fs *fs, const char *a, const char *b, unsigned f)
{
    return ffo(fs)->inner->ops->rename(ffo(fs)->inner, a, b, f);
}
static int ff_free_space(vdc_fs *fs, const char *n, int64_t *p)
{
    return ffo(fs)->inner->ops->free_space(ffo(fs)->inner, n, p);
}
static int ff_mtime(vdc_fs *fs, const char *n, int64_t *p) { return ffo(fs)->inner->ops->mtime(ffo(fs)->inner, n, p); }
static int ff_get_size(vdc_file *fp, uint64_t *p) { return ffl(fp)->inner->fs->ops->get_size(ffl(fp)->inner, p); }

static int ff_set_size(vdc_file *fp, uint64_t cb)
{
    if (trip(fp))
        return ffo(fp->fs)->fail_rc;
    return ffl(fp)->inner->fs->ops->set_size(ffl(fp)->inner, cb);
}

static int ff_allocate(vdc_file *fp, uint64_t cb)
{
    if (trip(fp))
        return ffo(fp->fs)->fail_rc;
    return ffl(fp)->inner->fs->ops->allocate(ffl(fp)->inner, cb);
}

static int ff_read(vdc_file *fp, uint64_t off, void *buf, size_t cb)
{
    if (trip(fp)) {
        if (getenv("FAULTS_VERBOSE"))
            fprintf(stderr, "  fault: read %llu+%zu\n", (unsigned long long)off, cb);
        return VERR_READ_ERROR;
    }
    return ffl(fp)->inner->fs->ops->read(ffl(fp)->inner, off, buf, cb);
}

static int ff_write(vdc_file *fp, uint64_t off, const void *buf, size_t cb)
{
    if (trip(fp)) {
        if (getenv("FAULTS_VERBOSE"))
            fprintf(stderr, "  fault: write %llu+%zu\n", (unsigned long long)off, cb);
        /* A failed write may still have written a part: the first half. */
        if (cb > 1)
            (void)ffl(fp)->inner->fs->ops->write(ffl(fp)->inner, off, buf, cb / 2);
        return ffo(fp->fs)->fail_rc;
    }
    return ffl(fp)->inner->fs->ops->write(ffl(fp)->inner, off, buf, cb);
}

static int ff_flush(vdc_file *fp)
{
    if (trip(fp)) {
        if (getenv("FAULTS_VERBOSE"))
            fprintf(stderr, "  fault: flush\n");
        return ffo(fp->fs)->fail_rc;
    }
    return ffl(fp)->inner->fs->ops->flush(ffl(fp)->inner);
}

static void ff_destroy(vdc_fs *fs)
{
    vdc_fs_destroy(ffo(fs)->inner);
    free(fs);
}

static const vdc_fs_ops ff_ops = {
    .open = ff_open, .close = ff_close, .remove = ff_remove, .rename = ff_rename,
    .free_space = ff_free_space, .mtime = ff_mtime, .get_size = ff_get_size, .set_size = ff_set_size,
    .allocate = ff_allocate, .read = ff_read, .write = ff_write, .flush = ff_flush, .destroy = ff_destroy,
};

typedef struct frun {
    ff_fs    *w;
    vdc_host *host;
    const VDCACHEBACKEND *be;
    uint8_t   data[256 * KiB], valid[256 * KiB];
    uint8_t   buf[64 * KiB], out[256 * KiB], hit[256 * KiB];
} frun;

static int read_check(frun *r, void *bd, uint64_t off, size_t cb)
{
    size_t pos = 0;
    while (pos < cb) {
        struct VDIOCTX ctx;
        RTSGSEG seg = { r->out, cb - pos };
        vdc_host_ioctx_init(r->host, &ctx, &seg, 1);
        size_t done = 0;
        int rc = r->be->pfnRead(bd, off + pos, cb - pos, &ctx, &done);
        if (rc != VINF_SUCCESS && rc != VERR_VD_BLOCK_FREE)
            return VINF_SUCCESS; /* a failed read is allowed; it must only not lie */
        if (done == 0 || done > cb - pos)
            return VERR_INTERNAL_ERROR;
        if (rc == VINF_SUCCESS)
            for (size_t i = 0; i < done; i++)
                if (!r->valid[off + pos + i] || r->out[i] != r->data[off + pos + i]) {
                    fprintf(stderr, "  lie at %llu\n", (unsigned long long)(off + pos + i));
                    return VERR_INVALID_STATE;
                }
        pos += done;
    }
    return VINF_SUCCESS;
}

/* The workload: fixed, so that run N fails its N-th I/O. */
static int workload(frun *r, void **pbd)
{
    uint64_t st = 99;
    int rc = VINF_SUCCESS;
    for (unsigned op = 0; op < 60 && rc == VINF_SUCCESS; op++) {
        unsigned kind = (unsigned)(trand(&st) % 10);
        uint64_t off = trand(&st) % (200 * KiB);
        size_t cb = (size_t)(1 + trand(&st) % (48 * KiB));
        if (kind < 7)
            off &= ~(uint64_t)511;
        if (*pbd == NULL)
            return VINF_SUCCESS; /* a reopen failed: nothing more to do */
        if (getenv("FAULTS_VERBOSE"))
            fprintf(stderr, "  op %u kind %u off %llu cb %zu (calls %llu)\n", op, kind, (unsigned long long)off, cb,
                    (unsigned long long)r->w->calls);
        if (kind < 5) {
            tfill(r->buf, cb, trand(&st));
            struct VDIOCTX ctx;
            RTSGSEG seg = { r->buf, cb };
            vdc_host_ioctx_init(r->host, &ctx, &seg, 1);
            size_t pos = 0;
            int wrc = VINF_SUCCESS;
            while (pos < cb && wrc == VINF_SUCCESS) {
                size_t done = 0;
                wrc = r->be->pfnWrite(*pbd, off + pos, cb - pos, &ctx, &done);
                if (wrc == VINF_SUCCESS) {
                    if (done == 0)
                        return VERR_INTERNAL_ERROR;
                    memcpy(r->data + off + pos, r->buf + pos, done);
                    memset(r->valid + off + pos, 1, done);
                    pos += done;
                }
            }
            /* A failed call processed nothing: its bytes keep the data of the
             * last successful write (which may be served, or missed). */
        } else if (kind < 7) {
            rc = read_check(r, *pbd, off, cb);
        } else if (kind < 8) {
            size_t a, b, c;
            void *bm;
            if (r->be->pfnDiscard(*pbd, NULL, off, cb, &a, &b, &c, &bm, 0) == VINF_SUCCESS)
                memset(r->valid + off, 0, cb);
        } else if (kind < 9) {
            (void)r->be->pfnFlush(*pbd, NULL);
        } else {
            (void)r->be->pfnClose(*pbd, false);
            *pbd = NULL;
            int orc = r->be->pfnOpen("f.vci", 0, vdc_host_disk_ifs(r->host), vdc_host_image_ifs(r->host), pbd);
            if (orc != VINF_SUCCESS)
                *pbd = NULL;
        }
    }
    return rc;
}

static void test_every_io_fails_once(void)
{
    static frun r;
    unsigned runs = 0, broken_seen = 0;
    for (uint64_t n = 1; n < 100000; n++) {
        memset(&r, 0, sizeof(r));
        r.be = &vdcc_ref_backend;
        r.w = calloc(1, sizeof(*r.w));
        REQUIRE(r.w != NULL);
        r.w->base.ops = &ff_ops;
        r.w->inner = vdc_fs_mem_new(0, 0);
        r.w->fail_rc = n % 2 ? VERR_WRITE_ERROR : VERR_DISK_FULL;
        r.host = vdc_host_new(&r.w->base);
        REQUIRE(r.w->inner != NULL && r.host != NULL);
        void *bd = NULL;
        r.w->fail_at = 0;
        int rc = r.be->pfnCreate("f.vci", 96 * KiB, 0, NULL, NULL, 0, 0, 99, vdc_host_disk_ifs(r.host),
                                 vdc_host_image_ifs(r.host), vdc_host_op_ifs(r.host), &bd);
        REQUIRE(rc == VINF_SUCCESS);
        r.w->calls = 0;
        r.w->fail_at = n;
        rc = workload(&r, &bd);
        if (rc != VINF_SUCCESS) {
            fprintf(stderr, "  run %llu: workload: %d\n", (unsigned long long)n, rc);
            CHECK_EQ(rc, VINF_SUCCESS);
        }
        if (bd != NULL) {
            broken_seen += RT_FAILURE(r.be->pfnFlush(bd, NULL));
            (void)r.be->pfnClose(bd, false);
        }
        bool failed = r.w->failed;
        r.w->fail_at = 0;
        CHECK_EQ(vdc_host_get_stats(r.host)->open_storages, 0);
        CHECK_EQ(vdc_host_get_stats(r.host)->misuse, 0);
        /* Without faults: opens, serves only model bytes, closes clean. */
        rc = r.be->pfnOpen("f.vci", 0, vdc_host_disk_ifs(r.host), vdc_host_image_ifs(r.host), &bd);
        CHECK_EQ(rc, VINF_SUCCESS);
        if (rc == VINF_SUCCESS) {
            CHECK_EQ(read_check(&r, bd, 0, 256 * KiB), VINF_SUCCESS);
            CHECK_EQ(r.be->pfnClose(bd, false), VINF_SUCCESS);
            char msg[256];
            vci_check_stats cst;
            rc = vci_check("f.vci", vdc_host_image_ifs(r.host), msg, sizeof(msg), &cst);
            if (rc != VINF_SUCCESS || cst.unclean)
                fprintf(stderr, "  run %llu: %s\n", (unsigned long long)n, msg);
            CHECK(rc == VINF_SUCCESS && !cst.unclean);
        }
        vdc_host_free(r.host);
        vdc_fs_destroy(&r.w->base);
        runs++;
        if (!failed || check_failures_in_test > 0)
            break; /* the workload ran out of I/O before the fault point */
    }
    printf("# faults: %u runs, each failing one I/O of the workload (%u ended broken)\n", runs, broken_seen);
    CHECK(runs > 50);
}

CHECK_MAIN(CHECK_CASE(test_every_io_fails_once))
