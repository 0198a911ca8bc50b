/*
 * harness/bench/stats.c - small pure helpers of `vdcc bench`: the clock, a
 * seeded PRNG, min/median/max, the kind of file system under DIR, test data
 * and progress lines.  Contract: bench_int.h; spec/performance.md section 1
 * says how figures are summarised.  No status codes (vdc_bench_fs_kind
 * reports failure as false with errno kept).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <time.h>

#include "../host/status.h"
#include "bench_int.h"

double vdc_bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

uint64_t vdc_bench_rand(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

vdc_bench_spread vdc_bench_summarize(const double *v, unsigned n)
{
    vdc_bench_spread s = { NAN, NAN, NAN };
    double sorted[VDC_BENCH_MAX_REPS];
    unsigned m = 0;
    /* NaN repetitions (a ratio over a zero time) are left out. */
    for (unsigned i = 0; i < n && m < VDC_BENCH_MAX_REPS; i++)
        if (!isnan(v[i]))
            sorted[m++] = v[i];
    if (m == 0)
        return s;
    qsort(sorted, m, sizeof sorted[0], cmp_double);
    s.min = sorted[0];
    s.max = sorted[m - 1];
    s.median = m % 2 ? sorted[m / 2] : (sorted[m / 2 - 1] + sorted[m / 2]) / 2;
    return s;
}

void vdc_bench_ratios(const double *a, const double *b, unsigned n, double *out)
{
    for (unsigned i = 0; i < n; i++)
        out[i] = b[i] > 0 ? a[i] / b[i] : NAN;
}

/* statfs f_type values (linux/magic.h), spelled out to need no kernel headers. */
static const struct {
    unsigned long magic;
    const char   *name;
    const char   *kind;
} fs_table[] = {
    { 0x01021994ul, "tmpfs", "memory" },   { 0x858458F6ul, "ramfs", "memory" },
    { 0x0000EF53ul, "ext4", "disk" },      { 0x58465342ul, "xfs", "disk" },
    { 0x9123683Eul, "btrfs", "disk" },     { 0xF2F52010ul, "f2fs", "disk" },
    { 0x2FC12FC1ul, "zfs", "disk" },       { 0x4D44ul, "vfat", "disk" },
    { 0x5346544Eul, "ntfs", "disk" },      { 0x794C7630ul, "overlay", "unknown" },
    { 0x65735546ul, "fuse", "unknown" },   { 0x6969ul, "nfs", "network" },
    { 0xFF534D42ul, "cifs", "network" },   { 0x01021997ul, "9p", "network" },
};

void vdc_bench_fs_name(unsigned long magic, char *name, size_t cb, const char **kind)
{
    for (size_t i = 0; i < sizeof fs_table / sizeof fs_table[0]; i++) {
        if (fs_table[i].magic == (magic & 0xFFFFFFFFul)) {
            snprintf(name, cb, "%s", fs_table[i].name);
            *kind = fs_table[i].kind;
            return;
        }
    }
    snprintf(name, cb, "0x%lx", magic);
    *kind = "unknown";
}

bool vdc_bench_fs_kind(const char *dir, char *name, size_t cb, const char **kind)
{
    struct statfs sf;
    if (statfs(dir, &sf) != 0)
        return false;
    vdc_bench_fs_name((unsigned long)sf.f_type, name, cb, kind);
    return true;
}

void vdc_bench_fill(uint8_t *buf, size_t cb, uint64_t seed)
{
    size_t i = 0;
    for (; i + 8 <= cb; i += 8) {
        uint64_t w = vdc_bench_rand(&seed) | 1; /* never an all-zero word */
        memcpy(buf + i, &w, 8);
    }
    for (; i < cb; i++)
        buf[i] = (uint8_t)(vdc_bench_rand(&seed) | 1);
}

void vdc_bench_progress(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("vdcc bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

const char *vdc_bench_status_text(int rc, char *buf, size_t cb)
{
    const char *name = vdc_status_name(rc);
    snprintf(buf, cb, "%s (%d)", name != NULL ? name : "?", rc);
    return buf;
}
