/*
 * harness/bench/tests/test_bench.c - unit tests of the pieces of `vdcc
 * bench` (harness/bench/bench_int.h): the summary statistics, the file-
 * system table, the child runner (result bytes, peak RSS, crash, deadline),
 * the session's VD loops and protocol checks, target judgement and the
 * JSON spelling.  No timing is asserted anywhere.
 */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/bench/bench_int.h"
#include "harness/scratch.h"
#include "ref/ref.h"
#include "tests/check.h"

static void test_summarize(void)
{
    double odd[] = { 5, 1, 3 };
    vdc_bench_spread s = vdc_bench_summarize(odd, 3);
    CHECK(s.min == 1 && s.median == 3 && s.max == 5);
    CHECK(odd[0] == 5 && odd[1] == 1); /* input untouched */
    double even[] = { 4, 1, 2, 10 };
    s = vdc_bench_summarize(even, 4);
    CHECK(s.min == 1 && s.median == 3 && s.max == 10);
    double with_nan[] = { NAN, 7, NAN };
    s = vdc_bench_summarize(with_nan, 3);
    CHECK(s.min == 7 && s.median == 7 && s.max == 7);
    s = vdc_bench_summarize(with_nan, 0);
    CHECK(isnan(s.min) && isnan(s.median) && isnan(s.max));
    double one[] = { 2.5 };
    s = vdc_bench_summarize(one, 1);
    CHECK(s.min == 2.5 && s.median == 2.5 && s.max == 2.5);
}

static void test_ratios(void)
{
    double a[] = { 9, 3, 1 }, b[] = { 10, 0, 4 }, r[3];
    vdc_bench_ratios(a, b, 3, r);
    CHECK(r[0] == 0.9);
    CHECK(isnan(r[1]));
    CHECK(r[2] == 0.25);
}

static void test_fs_names(void)
{
    char name[32];
    const char *kind = NULL;
    vdc_bench_fs_name(0x01021994ul, name, sizeof name, &kind);
    CHECK(strcmp(name, "tmpfs") == 0 && strcmp(kind, "memory") == 0);
    vdc_bench_fs_name(0xEF53ul, name, sizeof name, &kind);
    CHECK(strcmp(name, "ext4") == 0 && strcmp(kind, "disk") == 0);
    vdc_bench_fs_name(0x12345678ul, name, sizeof name, &kind);
    CHECK(strcmp(name, "0x12345678") == 0 && strcmp(kind, "unknown") == 0);
    CHECK(vdc_bench_fs_kind("/", name, sizeof name, &kind));
    CHECK(name[0] != '\0' && kind != NULL);
    CHECK(!vdc_bench_fs_kind("/nonexistent/vdcc-bench-test", name, sizeof name, &kind));
}

/* ---- the child runner ---------------------------------------------------- */

static int child_ok(void *arg, void *out)
{
    (void)arg;
    memcpy(out, "result!", 8);
    return VINF_SUCCESS;
}

static int child_fails(void *arg, void *out)
{
    (void)arg;
    memcpy(out, "partial", 8);
    return VERR_DISK_FULL;
}

static int child_big(void *arg, void *out)
{
    size_t cb = *(const size_t *)arg;
    char *p = malloc(cb);
    if (p == NULL)
        return VERR_NO_MEMORY;
    memset(p, 0x5A, cb);
    /* Keep the compiler from dropping the buffer. */
    ((char *)out)[0] = p[cb / 2];
    free(p);
    return VINF_SUCCESS;
}

static int child_dies(void *arg, void *out)
{
    (void)arg;
    (void)out;
    raise(SIGTERM);
    return VINF_SUCCESS;
}

static int child_hangs(void *arg, void *out)
{
    (void)arg;
    (void)out;
    for (;;)
        pause();
    return VINF_SUCCESS;
}

static void test_child_result(void)
{
    char out[8] = "";
    vdc_bench_child info;
    REQUIRE(vdc_bench_run_child(child_ok, NULL, out, sizeof out, 30, &info) == VINF_SUCCESS);
    CHECK(info.completed);
    CHECK_EQ(info.exit_status, 0);
    CHECK(memcmp(out, "result!", 8) == 0);
    CHECK(info.maxrss_kib > 0);

    memset(out, 0, sizeof out);
    REQUIRE(vdc_bench_run_child(child_fails, NULL, out, sizeof out, 30, &info) == VINF_SUCCESS);
    CHECK(info.completed); /* exit 1 with a whole result: a workload failure, reported */
    CHECK_EQ(info.exit_status, 1);
    CHECK(memcmp(out, "partial", 8) == 0);
}

static void test_child_rss(void)
{
    char out[8];
    vdc_bench_child small, big;
    size_t none = 1, lots = 48u << 20;
    REQUIRE(vdc_bench_run_child(child_big, &none, out, sizeof out, 60, &small) == VINF_SUCCESS);
    REQUIRE(vdc_bench_run_child(child_big, &lots, out, sizeof out, 60, &big) == VINF_SUCCESS);
    CHECK(small.completed && big.completed);
    /* 48 MiB touched shows as at least 40 MiB more peak RSS. */
    CHECK(big.maxrss_kib - small.maxrss_kib >= 40 * 1024);
}

static void test_child_crash_and_deadline(void)
{
    char out[8], why[128];
    vdc_bench_child info;
    REQUIRE(vdc_bench_run_child(child_dies, NULL, out, sizeof out, 30, &info) == VINF_SUCCESS);
    CHECK(!info.completed);
    CHECK_EQ(info.term_signal, SIGTERM);
    vdc_bench_child_describe(&info, 30, why, sizeof why);
    CHECK(strstr(why, "signal 15") != NULL);

    REQUIRE(vdc_bench_run_child(child_hangs, NULL, out, sizeof out, 1, &info) == VINF_SUCCESS);
    CHECK(!info.completed);
    CHECK(info.timed_out);
    vdc_bench_child_describe(&info, 1, why, sizeof why);
    CHECK(strstr(why, "timed out after 1 s") != NULL);
}

/* ---- the session over the reference backend -------------------------------- */

static void test_session_ref(void)
{
    char dir[4096], err[512] = "";
    REQUIRE(vdc_scratch_make(NULL, "test-bench", dir, sizeof dir) == VINF_SUCCESS);
    vdc_bench_cfg cfg = { .be = &vdcc_ref_backend, .dir = dir };
    vdc_bench_img img;
    REQUIRE(vdc_bench_img_init(&img, &cfg, err, sizeof err) == VINF_SUCCESS);
    uint8_t *in = malloc(65536), *back = malloc(65536);
    REQUIRE(in != NULL && back != NULL);
    vdc_bench_fill(in, 65536, 7);
    CHECK(vdc_bench_img_create(&img, "s.img", 16u << 20) == VINF_SUCCESS);
    CHECK(vdc_bench_img_write(&img, 1 << 20, in, 65536) == VINF_SUCCESS);
    CHECK(vdc_bench_img_flush(&img) == VINF_SUCCESS);
    uint64_t hits = 0;
    memset(back, 0, 65536);
    CHECK(vdc_bench_img_read(&img, 1 << 20, back, 65536, &hits) == VINF_SUCCESS);
    CHECK_EQ(hits, 65536);
    CHECK(memcmp(in, back, 65536) == 0);
    /* Half of the range was never written: the loop skips the miss. */
    CHECK(vdc_bench_img_read(&img, (1 << 20) - 32768, back, 65536, &hits) == VINF_SUCCESS);
    CHECK_EQ(hits, 32768);
    bool hit = true;
    CHECK(vdc_bench_img_lookup(&img, 0, back, 512, &hit) == VINF_SUCCESS);
    CHECK(!hit);
    CHECK(vdc_bench_img_lookup(&img, 1 << 20, back, 512, &hit) == VINF_SUCCESS);
    CHECK(hit);
    CHECK(vdc_bench_img_close(&img, false) == VINF_SUCCESS);
    CHECK(vdc_bench_img_close(&img, false) == VERR_INVALID_STATE);
    CHECK(strstr(err, "closed") != NULL);
    CHECK(vdc_bench_img_open(&img, "s.img") == VINF_SUCCESS);
    CHECK(vdc_bench_img_read(&img, 1 << 20, back, 4096, &hits) == VINF_SUCCESS);
    CHECK_EQ(hits, 4096);
    vdc_bench_img_fini(&img);
    CHECK(vdc_bench_img_init(&img, &cfg, err, sizeof err) == VINF_SUCCESS);
    CHECK(RT_FAILURE(vdc_bench_img_open(&img, "missing.img")));
    CHECK(strstr(err, "pfnOpen missing.img") != NULL);
    vdc_bench_img_fini(&img);
    /* Config reaches the backend: ref refuses a node cache of 1. */
    cfg.config[0] = "NodeCacheSize=1";
    cfg.nconfig = 1;
    CHECK(vdc_bench_img_init(&img, &cfg, err, sizeof err) == VINF_SUCCESS);
    CHECK(vdc_bench_img_open(&img, "s.img") == VERR_VD_UNKNOWN_CFG_VALUES);
    vdc_bench_img_fini(&img);
    cfg.config[0] = "NodeCacheSize=4096";
    CHECK(vdc_bench_img_init(&img, &cfg, err, sizeof err) == VINF_SUCCESS);
    CHECK(vdc_bench_img_open(&img, "s.img") == VINF_SUCCESS);
    vdc_bench_img_fini(&img);
    cfg.config[0] = "no-equals-sign";
    CHECK(vdc_bench_img_init(&img, &cfg, err, sizeof err) == VERR_INVALID_PARAMETER);
    CHECK(strstr(err, "not KEY=VALUE") != NULL);
    free(in);
    free(back);
    vdc_scratch_remove(dir);
}

/* A backend that breaks VD's loops: writes report 0 bytes, reads report
 * more than asked. */
static int fake_create(const char *f, uint64_t cb, unsigned fl, const char *c, PCRTUUID u, unsigned of, unsigned ps,
                       unsigned pp, PVDINTERFACE d, PVDINTERFACE i, PVDINTERFACE o, void **bd)
{
    (void)f, (void)cb, (void)fl, (void)c, (void)u, (void)of, (void)ps, (void)pp, (void)d, (void)i, (void)o;
    static int instance;
    *bd = &instance;
    return VINF_SUCCESS;
}
static int fake_close(void *bd, bool del)
{
    (void)bd, (void)del;
    return VINF_SUCCESS;
}
static int fake_write(void *bd, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *done)
{
    (void)bd, (void)off, (void)cb, (void)ctx;
    *done = 0;
    return VINF_SUCCESS;
}
static int fake_read(void *bd, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *done)
{
    (void)bd, (void)off, (void)ctx;
    *done = cb + 1;
    return VERR_VD_BLOCK_FREE;
}

static void test_session_protocol(void)
{
    VDCACHEBACKEND fake;
    memset(&fake, 0, sizeof fake);
    fake.pfnCreate = fake_create;
    fake.pfnClose = fake_close;
    fake.pfnWrite = fake_write;
    fake.pfnRead = fake_read;
    char err[512] = "";
    vdc_bench_cfg cfg = { .be = &fake, .dir = "/tmp" };
    vdc_bench_img img;
    REQUIRE(vdc_bench_img_init(&img, &cfg, err, sizeof err) == VINF_SUCCESS);
    REQUIRE(vdc_bench_img_create(&img, "unused", 1 << 20) == VINF_SUCCESS);
    uint8_t buf[512] = { 0 };
    CHECK(vdc_bench_img_write(&img, 0, buf, sizeof buf) == VERR_INTERNAL_ERROR);
    CHECK(strstr(err, "reported 0 bytes processed") != NULL);
    uint64_t hits;
    CHECK(vdc_bench_img_read(&img, 0, buf, sizeof buf, &hits) == VERR_INTERNAL_ERROR);
    CHECK(strstr(err, "reported 513 bytes") != NULL);
    bool hit;
    CHECK(vdc_bench_img_lookup(&img, 0, buf, sizeof buf, &hit) == VERR_INTERNAL_ERROR);
    vdc_bench_img_fini(&img);
}

/* ---- targets and JSON --------------------------------------------------- */

static void test_targets(void)
{
    vdc_bench_workload ratio_w = { "r", "r", "MiB/s", VDC_T_RATIO_MIN, 0.9, NULL };
    vdc_bench_workload max_w = { "o", "o", "ms", VDC_T_ABS_MAX, 10, NULL };
    vdc_bench_workload min_w = { "m", "m", "calls/s", VDC_T_ABS_MIN, 1000, NULL };
    vdc_bench_outcome o;
    memset(&o, 0, sizeof o);
    o.w = &ratio_w;
    o.ran = true;
    o.res.n = 3;
    o.res.has_raw = true;
    o.res.as_expected = -1; /* not a hit or miss workload */
    double b[] = { 9, 8, 9.5 }, r[] = { 10, 10, 10 };
    memcpy(o.res.backend, b, sizeof b);
    memcpy(o.res.raw, r, sizeof r);
    CHECK(vdc_bench_target_met(&o)); /* ratios 0.9, 0.8, 0.95: median 0.9 */
    /* Read hits that missed measure nothing a target speaks of. */
    o.res.as_expected = 0;
    CHECK(!vdc_bench_target_met(&o));
    o.res.as_expected = 0.5;
    CHECK(!vdc_bench_target_met(&o));
    o.res.as_expected = 0.95;
    CHECK(vdc_bench_target_met(&o));
    o.res.as_expected = -1;
    o.res.backend[0] = 8.5;
    CHECK(!vdc_bench_target_met(&o)); /* median 0.85 */
    o.w = &max_w;
    o.res.has_raw = false;
    CHECK(vdc_bench_target_met(&o)); /* median 8.5 ms < 10 */
    o.res.backend[1] = 12;
    o.res.backend[2] = 11;
    CHECK(!vdc_bench_target_met(&o));
    o.w = &min_w;
    CHECK(!vdc_bench_target_met(&o));
    o.res.backend[0] = o.res.backend[1] = o.res.backend[2] = 2000;
    CHECK(vdc_bench_target_met(&o));
    o.ran = false;
    CHECK(!vdc_bench_target_met(&o)); /* nothing measured, nothing met */
    o.peak_rss_kib = 65536;
    CHECK(vdc_bench_rss_met(&o));
    o.peak_rss_kib = 65537;
    CHECK(!vdc_bench_rss_met(&o));
}

static void test_json(void)
{
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);
    REQUIRE(f != NULL);
    vdc_bench_json_str(f, "a\"b\\c\nd\x01");
    fputc(' ', f);
    vdc_bench_json_num(f, NAN);
    fputc(' ', f);
    vdc_bench_json_num(f, 1.5);
    fputc(' ', f);
    vdc_bench_json_num(f, 2000000);
    fputc(' ', f);
    vdc_bench_json_num(f, INFINITY);
    fclose(f);
    CHECK(strcmp(mem, "\"a\\\"b\\\\c\\nd\\u0001\" null 1.5 2e+06 null") == 0);
    if (strcmp(mem, "\"a\\\"b\\\\c\\nd\\u0001\" null 1.5 2e+06 null") != 0)
        fprintf(stderr, "  got: %s\n", mem);
    free(mem);
}

int main(int argc, char **argv)
{
    static const check_case cases[] = {
        CHECK_CASE(test_summarize),        CHECK_CASE(test_ratios),
        CHECK_CASE(test_fs_names),         CHECK_CASE(test_child_result),
        CHECK_CASE(test_child_rss),        CHECK_CASE(test_child_crash_and_deadline),
        CHECK_CASE(test_session_ref),      CHECK_CASE(test_session_protocol),
        CHECK_CASE(test_targets),          CHECK_CASE(test_json),
    };
    return check_run(cases, sizeof cases / sizeof cases[0], argc, argv);
}
