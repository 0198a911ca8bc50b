/*
 * harness/bench/bench_ref.c - throughput of the reference VCI backend against
 * raw pread/pwrite, and the cost of opening a large cache.  Prints figures,
 * asserts nothing (timings depend on the machine).
 *
 * Part 1, on a POSIX file in a fresh directory under /tmp: the backend
 * writes (fills) and then reads (hits) sequential 64 KiB and random 4 KiB
 * requests through the host; then raw pwrite/pread move the same sizes at
 * the same offsets of the same file.  The ratio ref/raw is printed.
 * Part 2, in memory: a 2 TiB dynamic cache filled with 1,000,000 separate
 * extents is closed and reopened; the time and heap growth of the open,
 * and the heap after 100,000 random read hits, are printed.
 *
 * Usage: bench_ref [MiB for part 1, default 256] [extents for part 2,
 * default 1000000]
 */
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness/host/host.h"
#include "ref/ref.h"

#define KiB 1024u
#define MiB (1024u * 1024u)

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static size_t heap_used(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

typedef struct bench {
    vdc_host *host;
    const VDCACHEBACKEND *be;
    void *bd;
} bench;

static int write_all(bench *b, uint64_t off, void *buf, size_t cb)
{
    struct VDIOCTX ctx;
    RTSGSEG seg = { buf, cb };
    vdc_host_ioctx_init(b->host, &ctx, &seg, 1);
    while (cb > 0) {
        size_t done = 0;
        int rc = b->be->pfnWrite(b->bd, off, cb, &ctx, &done);
        if (RT_FAILURE(rc) || done == 0)
            return RT_FAILURE(rc) ? rc : VERR_INTERNAL_ERROR;
        off += done;
        cb -= done;
    }
    return VINF_SUCCESS;
}

/* Reads cb bytes; returns the bytes that were hits. */
static size_t read_all(bench *b, uint64_t off, uint8_t *buf, size_t cb)
{
    size_t hits = 0, pos = 0;
    while (pos < cb) {
        struct VDIOCTX ctx;
        RTSGSEG seg = { buf + pos, cb - pos };
        vdc_host_ioctx_init(b->host, &ctx, &seg, 1);
        size_t done = 0;
        int rc = b->be->pfnRead(b->bd, off + pos, cb - pos, &ctx, &done);
        if ((rc != VINF_SUCCESS && rc != VERR_VD_BLOCK_FREE) || done == 0)
            return hits;
        if (rc == VINF_SUCCESS)
            hits += done;
        pos += done;
    }
    return hits;
}

static void report(const char *what, double bytes, double t_ref, double t_raw)
{
    printf("  %-22s ref %8.1f MB/s   raw %8.1f MB/s   ref/raw %.2f\n", what, bytes / t_ref / 1e6,
           bytes / t_raw / 1e6, t_raw / t_ref);
}

static int part1(unsigned mib)
{
    char dir[] = "/tmp/vdcc-bench-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    char path[64];
    snprintf(path, sizeof(path), "%s/bench.vci", dir);
    vdc_fs *fs = vdc_fs_posix_new(dir);
    bench b = { .host = fs != NULL ? vdc_host_new(fs) : NULL, .be = &vdcc_ref_backend };
    uint8_t *buf = malloc(64 * KiB);
    if (b.host == NULL || buf == NULL)
        return 1;
    memset(buf, 0x5A, 64 * KiB);
    const uint64_t total = (uint64_t)mib * MiB;
    int rc = b.be->pfnCreate("bench.vci", 2 * total + 64 * MiB, 0, NULL, NULL, 0, 0, 99,
                             vdc_host_disk_ifs(b.host), vdc_host_image_ifs(b.host), vdc_host_op_ifs(b.host),
                             &b.bd);
    if (rc != VINF_SUCCESS) {
        fprintf(stderr, "create: %d\n", rc);
        return 1;
    }
    printf("bench_ref part 1: %u MiB sequential in 64 KiB requests, 4 KiB random, file %s\n", mib, path);

    /* Sequential 64 KiB: fill, then hit. */
    double t0 = now();
    for (uint64_t off = 0; off < total && rc == VINF_SUCCESS; off += 64 * KiB)
        rc = write_all(&b, off, buf, 64 * KiB);
    double t_w = now() - t0;
    t0 = now();
    size_t hits = 0;
    for (uint64_t off = 0; off < total; off += 64 * KiB)
        hits += read_all(&b, off, buf, 64 * KiB);
    double t_r = now() - t0;

    /* Random 4 KiB in a 64 MiB window beyond the sequential range. */
    const unsigned nrand = 16384;
    const uint64_t win = 64 * MiB, base = 4 * total;
    uint64_t *offs = malloc(nrand * sizeof(*offs)), s = 42;
    if (offs == NULL)
        return 1;
    for (unsigned i = 0; i < nrand; i++)
        offs[i] = base + (rnd(&s) % (win / (4 * KiB))) * 4 * KiB;
    t0 = now();
    for (unsigned i = 0; i < nrand && rc == VINF_SUCCESS; i++)
        rc = write_all(&b, offs[i], buf, 4 * KiB);
    double t_rw = now() - t0;
    t0 = now();
    size_t rhits = 0;
    for (unsigned i = 0; i < nrand; i++)
        rhits += read_all(&b, offs[i], buf, 4 * KiB);
    double t_rr = now() - t0;
    if (rc != VINF_SUCCESS)
        fprintf(stderr, "write: %d\n", rc);
    rc = b.be->pfnClose(b.bd, false);

    /* The same sizes at the same offsets of the same file, raw. */
    int fd = open(path, O_RDWR);
    if (fd < 0) {
        perror("open");
        return 1;
    }
    const off_t data0 = 1 * MiB;
    t0 = now();
    for (uint64_t off = 0; off < total; off += 64 * KiB)
        if (pwrite(fd, buf, 64 * KiB, data0 + (off_t)off) != 64 * KiB)
            perror("pwrite");
    double r_w = now() - t0;
    t0 = now();
    for (uint64_t off = 0; off < total; off += 64 * KiB)
        if (pread(fd, buf, 64 * KiB, data0 + (off_t)off) != 64 * KiB)
            perror("pread");
    double r_r = now() - t0;
    t0 = now();
    for (unsigned i = 0; i < nrand; i++)
        if (pwrite(fd, buf, 4 * KiB, data0 + (off_t)(offs[i] - base)) != 4 * KiB)
            perror("pwrite");
    double r_rw = now() - t0;
    t0 = now();
    for (unsigned i = 0; i < nrand; i++)
        if (pread(fd, buf, 4 * KiB, data0 + (off_t)(offs[i] - base)) != 4 * KiB)
            perror("pread");
    double r_rr = now() - t0;
    close(fd);

    report("sequential 64K write", (double)total, t_w, r_w);
    report("sequential 64K read", (double)total, t_r, r_r);
    report("random 4K write", (double)nrand * 4 * KiB, t_rw, r_rw);
    report("random 4K read", (double)nrand * 4 * KiB, t_rr, r_rr);
    printf("  hits: %.1f%% sequential, %.1f%% random (close: %d)\n", 100.0 * (double)hits / (double)total,
           100.0 * (double)rhits / ((double)nrand * 4 * KiB), rc);
    unlink(path);
    rmdir(dir);
    free(offs);
    free(buf);
    vdc_host_free(b.host);
    vdc_fs_destroy(fs);
    return 0;
}

static int part2(unsigned n)
{
    vdc_fs *fs = vdc_fs_mem_new(UINT64_C(4) << 30, 0);
    bench b = { .host = fs != NULL ? vdc_host_new(fs) : NULL, .be = &vdcc_ref_backend };
    uint8_t buf[512];
    memset(buf, 0xC3, sizeof(buf));
    if (b.host == NULL)
        return 1;
    int rc = b.be->pfnCreate("big.vci", UINT64_C(2) << 40, 0, NULL, NULL, 0, 0, 99, vdc_host_disk_ifs(b.host),
                             vdc_host_image_ifs(b.host), vdc_host_op_ifs(b.host), &b.bd);
    if (rc != VINF_SUCCESS) {
        fprintf(stderr, "create: %d\n", rc);
        return 1;
    }
    double t0 = now();
    for (unsigned i = 0; i < n && rc == VINF_SUCCESS; i++)
        rc = write_all(&b, (uint64_t)i * 2048, buf, 512); /* every 4th block: no merging */
    double t_fill = now() - t0;
    int rc2 = b.be->pfnClose(b.bd, false);
    if (rc != VINF_SUCCESS || rc2 != VINF_SUCCESS) {
        fprintf(stderr, "fill: %d, close %d\n", rc, rc2);
        return 1;
    }
    size_t h0 = heap_used();
    uint64_t reads0 = vdc_host_get_stats(b.host)->meta_reads;
    t0 = now();
    rc = b.be->pfnOpen("big.vci", 0, vdc_host_disk_ifs(b.host), vdc_host_image_ifs(b.host), &b.bd);
    double t_open = now() - t0;
    size_t h1 = heap_used();
    uint64_t reads1 = vdc_host_get_stats(b.host)->meta_reads;
    if (rc != VINF_SUCCESS) {
        fprintf(stderr, "open: %d\n", rc);
        return 1;
    }
    uint64_t s = 7;
    size_t hits = 0;
    t0 = now();
    for (unsigned i = 0; i < 100000; i++)
        hits += read_all(&b, (rnd(&s) % n) * 2048, buf, 512);
    double t_reads = now() - t0;
    size_t h2 = heap_used();
    b.be->pfnClose(b.bd, false);
    printf("bench_ref part 2: 2 TiB dynamic cache, %u extents (filled in %.1f s)\n", n, t_fill);
    printf("  open: %.3f ms, %llu metadata reads, heap +%.2f MiB\n", t_open * 1e3,
           (unsigned long long)(reads1 - reads0), (double)(h1 - h0) / MiB);
    printf("  100000 random read hits: %.0f per s, %.1f%% hit, heap +%.2f MiB over the open\n",
           100000.0 / t_reads, 100.0 * (double)hits / (100000.0 * 512), (double)(h2 - h0) / MiB);
    vdc_host_free(b.host);
    vdc_fs_destroy(fs);
    return 0;
}

int main(int argc, char **argv)
{
    unsigned mib = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 256;
    unsigned n = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 1000000;
    if (mib == 0)
        mib = 256;
    if (n == 0)
        n = 1000000;
    int rc = part1(mib);
    if (rc == 0)
        rc = part2(n);
    return rc;
}
