/*
 * ref/tests/test_ref_crash.c - crash emulation for the unclean-flag model
 * (spec/vci-format.md section 10, spec/contract.md CRASH-1, FLUSH-2).
 *
 * A vdc_fs wrapper sits between the host and a memory fs and watches the
 * cache file: it keeps the file as of the last flush ("durable") and every
 * write and size change since ("pending").  At random write calls in the
 * middle of a workload it builds a crash image: the durable file plus a
 * random subset of the pending writes, applied in random order, some of them
 * torn at 512-byte sector boundaries.  Each image is then opened read-only
 * and read-write: the opens must succeed, and every byte served must be the
 * last data written for it by a write that had returned before the crash
 * (spec/contract.md's definition: no rollback to older data, even of
 * writes and discards that were never flushed); a clean image must pass
 * vci_check.  Right after each flush, an image of the durable file alone
 * must serve every byte the live cache serves (flushed data survives).
 */
#include <stdlib.h>
#include <string.h>

#include "ref/ref.h"
#include "ref/vci_check.h"
#include "tests/check.h"
#include "tutil.h"

#define KiB 1024u
#define MiB (1024u * 1024u)
#define MAX_IMAGES 2

/* ---- the recording fs ---------------------------------------------------------- */

typedef struct pend {
    int      kind; /* 0 write, 1 size */
    uint64_t off, len;
    uint8_t *data;
} pend;

typedef struct crash_img {
    uint8_t *bytes;
    uint64_t size;
    bool     in_flush;
} crash_img;

typedef struct cw_fs {
    vdc_fs     base;
    vdc_fs    *inner;
    const char *tracked;
    uint8_t   *durable;
    uint64_t   dsize;
    pend      *p;
    size_t     np, capp;
    uint64_t   rng;
    bool       in_flush;        /* set by the test around flush/close */
    unsigned   capture_one_in;  /* capture before 1 in N tracked writes */
    crash_img  img[MAX_IMAGES];
    unsigned   nimg;
    bool       oom;
} cw_fs;

typedef struct cw_file {
    vdc_file  base;
    vdc_file *inner;
    bool      tracked;
} cw_file;

static cw_fs *fs_of(vdc_fs *fs) { return (cw_fs *)(void *)fs; }
static cw_file *file_of(vdc_file *f) { return (cw_file *)(void *)f; }

static void pend_clear(cw_fs *w)
{
    for (size_t i = 0; i < w->np; i++)
        free(w->p[i].data);
    w->np = 0;
}

static void pend_add(cw_fs *w, int kind, uint64_t off, const void *data, uint64_t len)
{
    if (w->np == w->capp) {
        size_t cap = w->capp ? 2 * w->capp : 64;
        pend *n = realloc(w->p, cap * sizeof(*n));
        if (n == NULL) {
            w->oom = true;
            return;
        }
        w->p = n;
        w->capp = cap;
    }
    pend *p = &w->p[w->np];
    p->kind = kind;
    p->off = off;
    p->len = len;
    p->data = NULL;
    if (kind == 0) {
        p->data = malloc(len ? len : 1);
        if (p->data == NULL) {
            w->oom = true;
            return;
        }
        memcpy(p->data, data, len);
    }
    w->np++;
}

/* The crash image: durable + a shuffled, partly applied, partly torn
 * subset of the pending changes. */
static void capture(cw_fs *w)
{
    if (w->nimg == MAX_IMAGES)
        return;
    size_t *order = malloc((w->np + 1) * sizeof(*order));
    uint64_t size = w->dsize;
    for (size_t i = 0; i < w->np; i++)
        if (w->p[i].kind == 0 && w->p[i].off + w->p[i].len > size)
            size = w->p[i].off + w->p[i].len;
    uint8_t *img = calloc(1, size ? size : 1);
    if (order == NULL || img == NULL) {
        free(order);
        free(img);
        w->oom = true;
        return;
    }
    memcpy(img, w->durable, w->dsize);
    uint64_t cur = w->dsize;
    for (size_t i = 0; i < w->np; i++)
        order[i] = i;
    for (size_t i = w->np; i > 1; i--) {
        size_t j = (size_t)(trand(&w->rng) % i), t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    for (size_t k = 0; k < w->np; k++) {
        const pend *p = &w->p[order[k]];
        unsigned mode = (unsigned)(trand(&w->rng) % 10); /* <4 apply, <7 drop, else tear */
        if (mode >= 4 && mode < 7)
            continue;
        if (p->kind == 1) {
            if (p->off < cur)
                memset(img + p->off, 0, cur - p->off);
            cur = p->off;
            continue;
        }
        uint64_t s = p->off, end = p->off + p->len;
        while (s < end) {
            uint64_t e = (s / 512 + 1) * 512;
            if (e > end)
                e = end;
            if (mode < 4 || trand(&w->rng) % 2)
                memcpy(img + s, p->data + (s - p->off), e - s);
            s = e;
        }
        if (end > cur)
            cur = end;
    }
    if (cur > size)
        cur = size;
    w->img[w->nimg].bytes = img;
    w->img[w->nimg].size = cur;
    w->img[w->nimg].in_flush = w->in_flush;
    w->nimg++;
    free(order);
}

static int cw_open(vdc_fs *fs, const char *name, uint32_t fOpen, vdc_file **out)
{
    cw_fs *w = fs_of(fs);
    cw_file *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return VERR_NO_MEMORY;
    int rc = w->inner->ops->open(w->inner, name, fOpen, &f->inner);
    if (RT_FAILURE(rc)) {
        free(f);
        return rc;
    }
    f->base.fs = fs;
    f->tracked = strcmp(name, w->tracked) == 0;
    if (f->tracked && (fOpen & RTFILE_O_ACTION_MASK) == RTFILE_O_CREATE) {
        w->dsize = 0;
        pend_clear(w);
    }
    *out = &f->base;
    return VINF_SUCCESS;
}

static int cw_close(vdc_file *fp)
{
    cw_file *f = file_of(fp);
    int rc = f->inner->fs->ops->close(f->inner);
    free(f);
    return rc;
}

static int cw_remove(vdc_fs *fs, const char *name) { return fs_of(fs)->inner->ops->remove(fs_of(fs)->inner, name); }
static int cw_rename(vdc_fs *fs, const char *a, const char *b, unsigned fl)
{
    return fs_of(fs)->inner->ops->rename(fs_of(fs)->inner, a, b, fl);
}
static int cw_free_space(vdc_fs *fs, const char *name, int64_t *pcb)
{
    return fs_of(fs)->inner->ops->free_space(fs_of(fs)->inner, name, pcb);
}
static int cw_mtime(vdc_fs *fs, const char *name, int64_t *pns)
{
    return fs_of(fs)->inner->ops->mtime(fs_of(fs)->inner, name, pns);
}
static int cw_get_size(vdc_file *fp, uint64_t *pcb)
{
    return file_of(fp)->inner->fs->ops->get_size(file_of(fp)->inner, pcb);
}

static int cw_set_size(vdc_file *fp, uint64_t cb)
{
    cw_file *f = file_of(fp);
    int rc = f->inner->fs->ops->set_size(f->inner, cb);
    if (RT_SUCCESS(rc) && f->tracked)
        pend_add(fs_of(fp->fs), 1, cb, NULL, 0);
    return rc;
}

static int cw_allocate(vdc_file *fp, uint64_t cb)
{
    cw_file *f = file_of(fp);
    int rc = f->inner->fs->ops->allocate(f->inner, cb);
    if (RT_SUCCESS(rc) && f->tracked)
        pend_add(fs_of(fp->fs), 1, cb, NULL, 0);
    return rc;
}

static int cw_read(vdc_file *fp, uint64_t off, void *buf, size_t cb)
{
    return file_of(fp)->inner->fs->ops->read(file_of(fp)->inner, off, buf, cb);
}

static int cw_write(vdc_file *fp, uint64_t off, const void *buf, size_t cb)
{
    cw_file *f = file_of(fp);
    cw_fs *w = fs_of(fp->fs);
    if (f->tracked && w->capture_one_in > 0 && trand(&w->rng) % w->capture_one_in == 0)
        capture(w);
    int rc = f->inner->fs->ops->write(f->inner, off, buf, cb);
    if (RT_SUCCESS(rc) && f->tracked)
        pend_add(w, 0, off, buf, cb);
    return rc;
}

static int cw_flush(vdc_file *fp)
{
    cw_file *f = file_of(fp);
    cw_fs *w = fs_of(fp->fs);
    int rc = f->inner->fs->ops->flush(f->inner);
    if (RT_FAILURE(rc) || !f->tracked)
        return rc;
    uint64_t size = 0;
    rc = f->inner->fs->ops->get_size(f->inner, &size);
    if (RT_FAILURE(rc))
        return rc;
    uint8_t *d = realloc(w->durable, size ? size : 1);
    if (d == NULL) {
        w->oom = true;
        return VERR_NO_MEMORY;
    }
    w->durable = d;
    rc = size ? f->inner->fs->ops->read(f->inner, 0, d, size) : VINF_SUCCESS;
    w->dsize = size;
    pend_clear(w);
    return rc;
}

static void cw_destroy(vdc_fs *fs)
{
    cw_fs *w = fs_of(fs);
    pend_clear(w);
    free(w->p);
    free(w->durable);
    for (unsigned i = 0; i < w->nimg; i++)
        free(w->img[i].bytes);
    vdc_fs_destroy(w->inner);
    free(w);
}

static const vdc_fs_ops cw_ops = {
    .open = cw_open, .close = cw_close, .remove = cw_remove, .rename = cw_rename,
    .free_space = cw_free_space, .mtime = cw_mtime, .get_size = cw_get_size, .set_size = cw_set_size,
    .allocate = cw_allocate, .read = cw_read, .write = cw_write, .flush = cw_flush, .destroy = cw_destroy,
};

static cw_fs *cw_new(const char *tracked, uint64_t seed)
{
    cw_fs *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    w->base.ops = &cw_ops;
    w->inner = vdc_fs_mem_new(0, 0);
    w->tracked = tracked;
    w->rng = seed;
    if (w->inner == NULL) {
        free(w);
        return NULL;
    }
    return w;
}

/* ---- the workload ----------------------------------------------------------------- */

typedef struct crun {
    cw_fs    *w;
    vdc_host *host;
    const VDCACHEBACKEND *be;
    void     *bd;
    uint64_t  vsize;
    uint8_t  *data, *valid;      /* the model now */
    uint8_t  *pdata, *pvalid;    /* the model before the operation in progress */
    uint8_t  *buf, *out, *hit, *hit2;
    uint64_t  images, clean_images, survive_checks;
    char      msg[256];
} crun;

static int read_all(crun *r, void *bd, uint64_t off, uint8_t *out, size_t cb, uint8_t *hit)
{
    size_t pos = 0;
    while (pos < cb) {
        struct VDIOCTX ctx;
        RTSGSEG seg = { out + pos, cb - pos };
        vdc_host_ioctx_init(r->host, &ctx, &seg, 1);
        size_t done = 0;
        int rc = r->be->pfnRead(bd, off + pos, cb - pos, &ctx, &done);
        if (rc != VINF_SUCCESS && rc != VERR_VD_BLOCK_FREE)
            return rc;
        if (done == 0 || done > cb - pos)
            return VERR_INTERNAL_ERROR;
        memset(hit + pos, rc == VINF_SUCCESS, done);
        pos += done;
    }
    return VINF_SUCCESS;
}

/* Opens one crash image both ways and checks what it serves. */
static int verify_image(crun *r, const crash_img *img)
{
    int rc = vdc_fs_mem_put(r->w->inner, "crash.vci", img->bytes, (size_t)img->size);
    if (RT_FAILURE(rc))
        return rc;
    r->images++;
    vci_check_stats st;
    rc = vci_check("crash.vci", vdc_host_image_ifs(r->host), r->msg, sizeof(r->msg), &st);
    if (rc != VINF_SUCCESS) {
        fprintf(stderr, "  crash image fails vci_check: %d %s\n", rc, r->msg);
        return VERR_INVALID_STATE;
    }
    if (!st.unclean)
        r->clean_images++;
    for (int pass = 0; pass < 2; pass++) {
        void *bd;
        unsigned flags = pass == 0 ? VD_OPEN_FLAGS_READONLY : VD_OPEN_FLAGS_NORMAL;
        rc = r->be->pfnOpen("crash.vci", flags, vdc_host_disk_ifs(r->host), vdc_host_image_ifs(r->host), &bd);
        if (rc != VINF_SUCCESS) {
            fprintf(stderr, "  crash image does not open (%s): %d\n", pass ? "rw" : "ro", rc);
            return VERR_INVALID_STATE;
        }
        for (uint64_t off = 0; off < r->vsize && rc == VINF_SUCCESS; off += 256 * KiB) {
            rc = read_all(r, bd, off, r->out, 256 * KiB, r->hit);
            for (size_t i = 0; i < 256 * KiB && rc == VINF_SUCCESS; i++) {
                if (!r->hit[i])
                    continue;
                uint64_t b = off + i;
                if (!r->pvalid[b] || r->out[i] != r->pdata[b]) {
                    fprintf(stderr, "  crash image (%s, %s%s) serves wrong byte %llu: %02x, model %02x/%d\n",
                            pass ? "rw" : "ro", st.unclean ? "unclean" : "clean",
                            img->in_flush ? ", in a flush" : "", (unsigned long long)b, r->out[i],
                            r->pdata[b], r->pvalid[b]);
                    rc = VERR_INVALID_STATE;
                }
            }
        }
        int rc2 = r->be->pfnClose(bd, false);
        if (rc == VINF_SUCCESS)
            rc = rc2;
        if (rc != VINF_SUCCESS)
            return rc;
    }
    /* After the read-write open (reinitialised if it was unclean): clean. */
    rc = vci_check("crash.vci", vdc_host_image_ifs(r->host), r->msg, sizeof(r->msg), &st);
    if (rc != VINF_SUCCESS || st.unclean) {
        fprintf(stderr, "  reopened crash image: %d %s\n", rc, r->msg);
        return VERR_INVALID_STATE;
    }
    return vdc_fs_mem_put(r->w->inner, "crash.vci", "", 0);
}

static int verify_pending_images(crun *r)
{
    int rc = VINF_SUCCESS;
    for (unsigned i = 0; i < r->w->nimg; i++) {
        if (rc == VINF_SUCCESS)
            rc = verify_image(r, &r->w->img[i]);
        free(r->w->img[i].bytes);
    }
    r->w->nimg = 0;
    return rc;
}

/* Right after a flush: the durable file alone serves whatever the live
 * cache serves. */
static int verify_survival(crun *r)
{
    if (r->w->np != 0)
        return VINF_SUCCESS; /* a read-only flush wrote nothing: nothing new is durable */
    int rc = vdc_fs_mem_put(r->w->inner, "crash.vci", r->w->durable, (size_t)r->w->dsize);
    if (RT_FAILURE(rc))
        return rc;
    void *bd;
    rc = r->be->pfnOpen("crash.vci", VD_OPEN_FLAGS_READONLY, vdc_host_disk_ifs(r->host),
                        vdc_host_image_ifs(r->host), &bd);
    if (rc != VINF_SUCCESS)
        return rc;
    r->survive_checks++;
    for (uint64_t off = 0; off < r->vsize && rc == VINF_SUCCESS; off += 256 * KiB) {
        rc = read_all(r, r->bd, off, r->out, 256 * KiB, r->hit);
        if (rc == VINF_SUCCESS)
            rc = read_all(r, bd, off, r->buf, 256 * KiB, r->hit2);
        for (size_t i = 0; i < 256 * KiB && rc == VINF_SUCCESS; i++) {
            if (r->hit[i] && (!r->hit2[i] || r->buf[i] != r->out[i])) {
                fprintf(stderr, "  flushed byte %llu did not survive\n", (unsigned long long)(off + i));
                rc = VERR_INVALID_STATE;
            }
        }
    }
    int rc2 = r->be->pfnClose(bd, false);
    return rc == VINF_SUCCESS ? rc2 : rc;
}

static void snapshot(crun *r)
{
    memcpy(r->pdata, r->data, r->vsize);
    memcpy(r->pvalid, r->valid, r->vsize);
}

static int run_crash(uint64_t seed, unsigned nops, crun *tot)
{
    static const uint64_t caps[] = { 16 * KiB, 64 * KiB, 256 * KiB, 1 * MiB };
    uint64_t st = seed * 7919;
    crun r;
    memset(&r, 0, sizeof(r));
    r.be = &vdcc_ref_backend;
    r.vsize = 512 * KiB;
    r.w = cw_new("c.vci", seed);
    r.host = r.w != NULL ? vdc_host_new(&r.w->base) : NULL;
    r.data = calloc(1, r.vsize);
    r.valid = calloc(1, r.vsize);
    r.pdata = calloc(1, r.vsize);
    r.pvalid = calloc(1, r.vsize);
    r.buf = malloc(256 * KiB);
    r.out = malloc(256 * KiB);
    r.hit = malloc(256 * KiB);
    r.hit2 = malloc(256 * KiB);
    int rc = VERR_NO_MEMORY;
    if (r.host == NULL || !r.data || !r.valid || !r.pdata || !r.pvalid || !r.buf || !r.out || !r.hit || !r.hit2)
        goto out;
    if (trand(&st) % 2)
        vdc_host_config_set(r.host, "NodeCacheSize", "32");
    uint64_t cap = caps[trand(&st) % 4];
    rc = r.be->pfnCreate("c.vci", cap, (trand(&st) % 2) ? VD_IMAGE_FLAGS_FIXED : 0, NULL, NULL, 0, 0, 99,
                         vdc_host_disk_ifs(r.host), vdc_host_image_ifs(r.host), vdc_host_op_ifs(r.host), &r.bd);
    if (rc != VINF_SUCCESS)
        goto out;
    r.w->capture_one_in = 10;

    for (unsigned op = 0; op < nops && rc == VINF_SUCCESS; op++) {
        unsigned kind = (unsigned)(trand(&st) % 100);
        uint64_t off = trand(&st) % r.vsize;
        size_t cb = (size_t)(1 + trand(&st) % (32 * KiB));
        if (trand(&st) % 4) {
            off &= ~(uint64_t)511;
            cb = (cb + 511) & ~(size_t)511;
        }
        if (cb > r.vsize - off)
            cb = (size_t)(r.vsize - off);
        bool flushing = false;
        snapshot(&r);
        if (kind < 55) {
            tfill(r.buf, cb, trand(&st));
            struct VDIOCTX ctx;
            RTSGSEG seg = { r.buf, cb };
            vdc_host_ioctx_init(r.host, &ctx, &seg, 1);
            size_t left = cb, pos = 0;
            while (left > 0 && rc == VINF_SUCCESS) {
                size_t done = 0;
                rc = r.be->pfnWrite(r.bd, off + pos, left, &ctx, &done);
                if (rc == VINF_SUCCESS && done == 0)
                    rc = VERR_INTERNAL_ERROR;
                pos += done;
                left -= done;
            }
            if (rc == VINF_SUCCESS) {
                memcpy(r.data + off, r.buf, cb);
                memset(r.valid + off, 1, cb);
            }
        } else if (kind < 70) {
            size_t a, b, c;
            void *bm;
            rc = r.be->pfnDiscard(r.bd, NULL, off, cb, &a, &b, &c, &bm, 0);
            memset(r.valid + off, 0, cb);
        } else if (kind < 85) {
            r.w->in_flush = flushing = true;
            rc = r.be->pfnFlush(r.bd, NULL);
        } else if (kind < 95) {
            r.w->in_flush = flushing = true;
            rc = r.be->pfnClose(r.bd, false);
            r.bd = NULL;
            if (rc == VINF_SUCCESS)
                rc = r.be->pfnOpen("c.vci", 0, vdc_host_disk_ifs(r.host), vdc_host_image_ifs(r.host), &r.bd);
        } else {
            uint8_t *o = r.out, *h = r.hit;
            rc = read_all(&r, r.bd, off, o, cb, h);
        }
        r.w->in_flush = false;
        if (rc == VINF_SUCCESS)
            rc = r.w->oom ? VERR_NO_MEMORY : verify_pending_images(&r);
        if (rc == VINF_SUCCESS && flushing)
            rc = verify_survival(&r);
        if (rc != VINF_SUCCESS)
            fprintf(stderr, "  seed %llu op %u (kind %u) failed: %d\n", (unsigned long long)seed, op, kind, rc);
    }
out:
    if (r.bd != NULL)
        r.be->pfnClose(r.bd, false);
    tot->images += r.images;
    tot->clean_images += r.clean_images;
    tot->survive_checks += r.survive_checks;
    if (r.host != NULL)
        vdc_host_free(r.host);
    if (r.w != NULL)
        vdc_fs_destroy(&r.w->base);
    free(r.data);
    free(r.valid);
    free(r.pdata);
    free(r.pvalid);
    free(r.buf);
    free(r.out);
    free(r.hit);
    free(r.hit2);
    return rc;
}

static void test_crash_images(void)
{
    crun tot;
    memset(&tot, 0, sizeof(tot));
    unsigned seeds = 0;
    for (uint64_t seed = 1; seed <= 24; seed++, seeds++) {
        int rc = run_crash(seed, 100, &tot);
        CHECK_EQ(rc, VINF_SUCCESS);
        if (rc != VINF_SUCCESS)
            break;
    }
    printf("# crash: %u seeds, %llu crash images opened (%llu clean, the rest unclean), %llu survival checks\n",
           seeds, (unsigned long long)tot.images, (unsigned long long)tot.clean_images,
           (unsigned long long)tot.survive_checks);
    CHECK(tot.images > 100);
    CHECK(tot.clean_images > 0 && tot.clean_images < tot.images);
    CHECK(tot.survive_checks > 50);
}

CHECK_MAIN(CHECK_CASE(test_crash_images))
