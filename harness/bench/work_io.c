/*
 * harness/bench/work_io.c - the data-moving workloads of `vdcc bench`: read
 * hits (sequential 64 KiB, random 4 KiB) and writes that fill a fresh cache
 * (the same two shapes, a flush every cfg->flush_every bytes), each against
 * pread/pwrite of the same byte ranges on a plain file of the same size.
 * Contract: bench_int.h; definitions: spec/performance.md section 1.
 *
 * Every function runs in a workload child and returns VINF_SUCCESS or the
 * first failure (a backend status, VERR_NO_MEMORY, or VERR_FILE_IO_ERROR
 * for a raw-file error), described in res->error.  Backend and raw
 * repetitions alternate (backend first), so drift of the machine during the
 * run (page cache, CPU frequency, other load) touches both alike.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_int.h"

#define SEQ_CHUNK  (64 * 1024u)
#define RAND_CHUNK (4 * 1024u)

static int raw_fail(vdc_bench_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int raw_fail(vdc_bench_result *res, const char *fmt, ...)
{
    int e = errno;
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(res->error, sizeof res->error, "%s: %s", what, e ? strerror(e) : "short transfer");
    return VERR_FILE_IO_ERROR;
}

/* Capacity for a cache that must hold `bytes` of data without evicting:
 * the data, an eighth for metadata, 16 MiB of slack, whole MiB. */
static uint64_t capacity_for(uint64_t bytes)
{
    uint64_t cb = bytes + bytes / 8 + 16 * VDC_BENCH_MIB;
    return (cb + VDC_BENCH_MIB - 1) / VDC_BENCH_MIB * VDC_BENCH_MIB;
}

static void backend_tag(const vdc_bench_cfg *cfg, char *buf, size_t cb)
{
    const char *n = cfg->be->pszBackendName != NULL ? cfg->be->pszBackendName : "backend";
    size_t i = 0;
    for (; n[i] != '\0' && i + 1 < cb && i < 32; i++) {
        char c = n[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        buf[i] = ok ? c : '_';
    }
    buf[i] = '\0';
}

void vdc_bench_hits_names(const vdc_bench_cfg *cfg, char *img, char *raw, size_t cb)
{
    char tag[40];
    backend_tag(cfg, tag, sizeof tag);
    unsigned long long mib = (unsigned long long)(cfg->io_bytes / VDC_BENCH_MIB);
    snprintf(img, cb, "bench-%s-hits-%llum.img", tag, mib);
    snprintf(raw, cb, "bench-hits-%llum.raw", mib);
}

void vdc_bench_extents_name(const vdc_bench_cfg *cfg, unsigned n, char *img, size_t cb)
{
    char tag[40];
    backend_tag(cfg, tag, sizeof tag);
    snprintf(img, cb, "bench-%s-ext-%u.img", tag, n);
}

static int path_in(const vdc_bench_cfg *cfg, const char *name, char *buf, size_t cb, vdc_bench_result *res)
{
    if ((size_t)snprintf(buf, cb, "%s/%s", cfg->dir, name) >= cb) {
        snprintf(res->error, sizeof res->error, "path too long: %s/%s", cfg->dir, name);
        return VERR_BUFFER_OVERFLOW;
    }
    return VINF_SUCCESS;
}

static bool pwrite_all(int fd, const void *buf, size_t cb, uint64_t off)
{
    const char *p = buf;
    while (cb > 0) {
        ssize_t n = pwrite(fd, p, cb, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        off += (uint64_t)n;
        cb -= (size_t)n;
    }
    return true;
}

static bool pread_all(int fd, void *buf, size_t cb, uint64_t off)
{
    char *p = buf;
    while (cb > 0) {
        ssize_t n = pread(fd, p, cb, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        off += (uint64_t)n;
        cb -= (size_t)n;
    }
    return true;
}

/* ---- the shapes: a list of offsets, each of `chunk` bytes --------------- */

typedef struct shape {
    uint64_t *offs;
    size_t    n;
    size_t    chunk;
} shape;

static int shape_seq(shape *s, uint64_t bytes, vdc_bench_result *res)
{
    s->chunk = SEQ_CHUNK;
    s->n = (size_t)(bytes / SEQ_CHUNK);
    s->offs = malloc((s->n ? s->n : 1) * sizeof *s->offs);
    if (s->offs == NULL) {
        snprintf(res->error, sizeof res->error, "out of memory for %zu offsets", s->n);
        return VERR_NO_MEMORY;
    }
    for (size_t i = 0; i < s->n; i++)
        s->offs[i] = (uint64_t)i * SEQ_CHUNK;
    return VINF_SUCCESS;
}

/* Random 4 KiB: with `permute`, every 4 KiB block of [0, bytes) once in a
 * random order (a fill); otherwise as many blocks drawn with replacement. */
static int shape_rand(shape *s, uint64_t bytes, bool permute, uint64_t seed, vdc_bench_result *res)
{
    s->chunk = RAND_CHUNK;
    s->n = (size_t)(bytes / RAND_CHUNK);
    s->offs = malloc((s->n ? s->n : 1) * sizeof *s->offs);
    if (s->offs == NULL) {
        snprintf(res->error, sizeof res->error, "out of memory for %zu offsets", s->n);
        return VERR_NO_MEMORY;
    }
    for (size_t i = 0; i < s->n; i++)
        s->offs[i] = permute ? (uint64_t)i * RAND_CHUNK : vdc_bench_rand(&seed) % s->n * RAND_CHUNK;
    if (permute)
        for (size_t i = s->n; i > 1; i--) {
            size_t j = (size_t)(vdc_bench_rand(&seed) % i);
            uint64_t t = s->offs[i - 1];
            s->offs[i - 1] = s->offs[j];
            s->offs[j] = t;
        }
    return VINF_SUCCESS;
}

/* ---- one pass of each kind ------------------------------------------------ */

static int backend_read_pass(vdc_bench_img *img, const shape *s, uint8_t *buf, uint64_t *hits)
{
    for (size_t i = 0; i < s->n; i++) {
        uint64_t h = 0;
        int rc = vdc_bench_img_read(img, s->offs[i], buf, s->chunk, &h);
        if (RT_FAILURE(rc))
            return rc;
        *hits += h;
    }
    return VINF_SUCCESS;
}

static int raw_read_pass(int fd, const shape *s, uint8_t *buf, vdc_bench_result *res)
{
    for (size_t i = 0; i < s->n; i++)
        if (!pread_all(fd, buf, s->chunk, s->offs[i]))
            return raw_fail(res, "pread at %llu", (unsigned long long)s->offs[i]);
    return VINF_SUCCESS;
}

/* Writes the shape into an open image, flushing every flush_every bytes and
 * at the end. */
static int backend_write_pass(vdc_bench_img *img, const shape *s, const uint8_t *buf, uint64_t flush_every)
{
    uint64_t since = 0;
    for (size_t i = 0; i < s->n; i++) {
        int rc = vdc_bench_img_write(img, s->offs[i], buf, s->chunk);
        if (RT_FAILURE(rc))
            return rc;
        since += s->chunk;
        if (since >= flush_every) {
            rc = vdc_bench_img_flush(img);
            if (RT_FAILURE(rc))
                return rc;
            since = 0;
        }
    }
    return vdc_bench_img_flush(img);
}

static int raw_write_pass(int fd, const shape *s, const uint8_t *buf, uint64_t flush_every, vdc_bench_result *res)
{
    uint64_t since = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (!pwrite_all(fd, buf, s->chunk, s->offs[i]))
            return raw_fail(res, "pwrite at %llu", (unsigned long long)s->offs[i]);
        since += s->chunk;
        if (since >= flush_every) {
            if (fdatasync(fd) != 0)
                return raw_fail(res, "fdatasync");
            since = 0;
        }
    }
    return fdatasync(fd) == 0 ? VINF_SUCCESS : raw_fail(res, "fdatasync");
}

static double mib_per_s(uint64_t bytes, double secs)
{
    return secs > 0 ? (double)bytes / (double)VDC_BENCH_MIB / secs : 0;
}

/* ---- preparation: the warm image the read workloads hit ------------------ */

static bool raw_file_ok(const char *path, uint64_t size)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == size;
}

int vdc_bench_prep_hits(const vdc_bench_cfg *cfg, vdc_bench_result *res)
{
    char img_name[256], raw_name[256], raw_path[4096], tmp_path[4096], img_path[4096], part_name[300];
    vdc_bench_hits_names(cfg, img_name, raw_name, sizeof img_name);
    snprintf(part_name, sizeof part_name, "%s.part", img_name);
    int rc = path_in(cfg, raw_name, raw_path, sizeof raw_path, res);
    if (rc == VINF_SUCCESS)
        rc = path_in(cfg, img_name, img_path, sizeof img_path, res);
    if (rc == VINF_SUCCESS)
        rc = path_in(cfg, part_name, tmp_path, sizeof tmp_path, res);
    if (rc != VINF_SUCCESS)
        return rc;
    res->n = 1;
    res->as_expected = -1;
    res->bytes_per_rep = cfg->io_bytes;

    vdc_bench_img img;
    rc = vdc_bench_img_init(&img, cfg, res->error, sizeof res->error);
    if (rc != VINF_SUCCESS)
        return rc;
    double t0 = vdc_bench_now();
    bool reuse = cfg->keep_images && raw_file_ok(raw_path, cfg->io_bytes) &&
                 vdc_bench_img_open(&img, img_name) == VINF_SUCCESS;
    if (reuse) {
        vdc_bench_progress("reusing %s and %s", img_name, raw_name);
        vdc_bench_img_close(&img, false);
        res->error[0] = '\0';
        vdc_bench_img_fini(&img);
        res->backend[0] = 0;
        return VINF_SUCCESS;
    }
    res->error[0] = '\0';
    vdc_bench_progress("filling %llu MiB into %s and %s", (unsigned long long)(cfg->io_bytes / VDC_BENCH_MIB),
                       img_name, raw_name);
    shape s = { 0 };
    uint8_t *buf = malloc(SEQ_CHUNK);
    int fd = -1;
    if (buf == NULL) {
        rc = VERR_NO_MEMORY;
        snprintf(res->error, sizeof res->error, "out of memory");
        goto out_fini;
    }
    vdc_bench_fill(buf, SEQ_CHUNK, 0x6869747321);
    rc = shape_seq(&s, cfg->io_bytes, res);
    if (rc != VINF_SUCCESS)
        goto out_free_buf;
    rc = vdc_bench_img_create(&img, part_name, capacity_for(cfg->io_bytes));
    if (rc == VINF_SUCCESS)
        rc = backend_write_pass(&img, &s, buf, cfg->flush_every);
    if (rc == VINF_SUCCESS)
        rc = vdc_bench_img_close(&img, false);
    if (rc == VINF_SUCCESS && rename(tmp_path, img_path) != 0)
        rc = raw_fail(res, "rename %s", tmp_path);
    if (rc != VINF_SUCCESS)
        goto out_free_shape;
    fd = open(raw_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = raw_fail(res, "create %s", raw_path);
        goto out_free_shape;
    }
    rc = raw_write_pass(fd, &s, buf, cfg->flush_every, res);
    close(fd);
    res->backend[0] = vdc_bench_now() - t0;
out_free_shape:
    free(s.offs);
out_free_buf:
    free(buf);
out_fini:
    vdc_bench_img_fini(&img);
    return rc;
}

/* ---- read hits --------------------------------------------------------- */

static int read_hits(const vdc_bench_cfg *cfg, vdc_bench_result *res, bool random)
{
    char img_name[256], raw_name[256], raw_path[4096];
    vdc_bench_hits_names(cfg, img_name, raw_name, sizeof img_name);
    int rc = path_in(cfg, raw_name, raw_path, sizeof raw_path, res);
    if (rc != VINF_SUCCESS)
        return rc;
    res->has_raw = true;
    shape s = { 0 };
    rc = random ? shape_rand(&s, cfg->io_bytes, false, 0x72656164, res) : shape_seq(&s, cfg->io_bytes, res);
    if (rc != VINF_SUCCESS)
        return rc;
    res->bytes_per_rep = (uint64_t)s.n * s.chunk;
    res->ops_per_rep = s.n;
    uint8_t *buf = malloc(SEQ_CHUNK);
    vdc_bench_img img;
    int fd = -1;
    if (buf == NULL) {
        rc = VERR_NO_MEMORY;
        snprintf(res->error, sizeof res->error, "out of memory");
        goto out_free_shape;
    }
    rc = vdc_bench_img_init(&img, cfg, res->error, sizeof res->error);
    if (rc != VINF_SUCCESS)
        goto out_free_buf;
    rc = vdc_bench_img_open(&img, img_name);
    if (rc != VINF_SUCCESS)
        goto out_fini;
    fd = open(raw_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = raw_fail(res, "open %s", raw_path);
        goto out_fini;
    }
    /* One untimed pass of each warms the page cache and the backend's own
     * caches: the workload is "hits over a warm cache". */
    uint64_t hits = 0;
    rc = backend_read_pass(&img, &s, buf, &hits);
    if (rc == VINF_SUCCESS)
        rc = raw_read_pass(fd, &s, buf, res);
    hits = 0;
    for (unsigned i = 0; i < cfg->reps && rc == VINF_SUCCESS; i++) {
        double t0 = vdc_bench_now();
        rc = backend_read_pass(&img, &s, buf, &hits);
        double t1 = vdc_bench_now();
        if (rc != VINF_SUCCESS)
            break;
        rc = raw_read_pass(fd, &s, buf, res);
        double t2 = vdc_bench_now();
        res->backend[i] = mib_per_s(res->bytes_per_rep, t1 - t0);
        res->raw[i] = mib_per_s(res->bytes_per_rep, t2 - t1);
        res->n = i + 1;
    }
    if (res->n > 0)
        res->as_expected = (double)hits / ((double)res->bytes_per_rep * res->n);
    close(fd);
out_fini:
    vdc_bench_img_fini(&img);
out_free_buf:
    free(buf);
out_free_shape:
    free(s.offs);
    return rc;
}

int vdc_bench_read_seq(const vdc_bench_cfg *cfg, vdc_bench_result *res)
{
    return read_hits(cfg, res, false);
}

int vdc_bench_read_rand(const vdc_bench_cfg *cfg, vdc_bench_result *res)
{
    return read_hits(cfg, res, true);
}

/* ---- writes: each repetition fills a new cache and a new file ------------- */

static int writes(const vdc_bench_cfg *cfg, vdc_bench_result *res, bool random)
{
    char img_name[256], raw_path[4096];
    char tag[40];
    backend_tag(cfg, tag, sizeof tag);
    snprintf(img_name, sizeof img_name, "bench-%s-write.img", tag);
    int rc = path_in(cfg, "bench-write.raw", raw_path, sizeof raw_path, res);
    if (rc != VINF_SUCCESS)
        return rc;
    res->has_raw = true;
    res->as_expected = -1;
    shape s = { 0 };
    rc = random ? shape_rand(&s, cfg->io_bytes, true, 0x7772697465, res) : shape_seq(&s, cfg->io_bytes, res);
    if (rc != VINF_SUCCESS)
        return rc;
    res->bytes_per_rep = (uint64_t)s.n * s.chunk;
    res->ops_per_rep = s.n;
    uint8_t *buf = malloc(SEQ_CHUNK);
    vdc_bench_img img;
    if (buf == NULL) {
        rc = VERR_NO_MEMORY;
        snprintf(res->error, sizeof res->error, "out of memory");
        goto out_free_shape;
    }
    vdc_bench_fill(buf, SEQ_CHUNK, 0x77726974);
    rc = vdc_bench_img_init(&img, cfg, res->error, sizeof res->error);
    if (rc != VINF_SUCCESS)
        goto out_free_buf;
    for (unsigned i = 0; i < cfg->reps && rc == VINF_SUCCESS; i++) {
        /* Creating, closing and deleting are outside the timed part. */
        rc = vdc_bench_img_create(&img, img_name, capacity_for(cfg->io_bytes));
        if (rc != VINF_SUCCESS)
            break;
        double t0 = vdc_bench_now();
        rc = backend_write_pass(&img, &s, buf, cfg->flush_every);
        double t1 = vdc_bench_now();
        int rc2 = vdc_bench_img_close(&img, true);
        if (rc == VINF_SUCCESS)
            rc = rc2;
        if (rc != VINF_SUCCESS)
            break;
        int fd = open(raw_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            rc = raw_fail(res, "create %s", raw_path);
            break;
        }
        double t2 = vdc_bench_now();
        rc = raw_write_pass(fd, &s, buf, cfg->flush_every, res);
        double t3 = vdc_bench_now();
        close(fd);
        unlink(raw_path);
        res->backend[i] = mib_per_s(res->bytes_per_rep, t1 - t0);
        res->raw[i] = mib_per_s(res->bytes_per_rep, t3 - t2);
        res->n = i + 1;
        if (cfg->reps > 1 && !cfg->quick)
            vdc_bench_progress("  %s writes: rep %u/%u", random ? "random" : "sequential", i + 1, cfg->reps);
    }
    vdc_bench_img_fini(&img);
out_free_buf:
    free(buf);
out_free_shape:
    free(s.offs);
    return rc;
}

int vdc_bench_write_seq(const vdc_bench_cfg *cfg, vdc_bench_result *res)
{
    return writes(cfg, res, false);
}

int vdc_bench_write_rand(const vdc_bench_cfg *cfg, vdc_bench_result *res)
{
    return writes(cfg, res, true);
}
