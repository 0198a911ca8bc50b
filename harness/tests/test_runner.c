/*
 * harness/tests/test_runner.c - the isolated runner (harness/runner.h):
 * verdicts, the call reached, signals, timeouts, sanitizer reports, skips,
 * parse errors, and that one bad trace never stops the others.  Broken
 * backends are the tb_*.so plugins next to this binary's t/ directory.
 */
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../tests/check.h"
#include "../backend.h"
#include "../runner.h"
#include "../scratch.h"

static char so_dir[PATH_MAX];
static char tmp_dir[PATH_MAX];

#define MAX_T 8
typedef struct results {
    vdc_run_result r[MAX_T];
    unsigned       seen[MAX_T];
} results;

static void on_done(void *ctx, unsigned i, const vdc_run_result *r)
{
    results *res = ctx;
    if (i < MAX_T) {
        res->r[i] = *r;
        res->seen[i]++;
    }
}

/* Writes text to tmp_dir/name and returns the path (static, per name slot). */
static const char *trace_file(unsigned slot, const char *name, const char *text)
{
    static char paths[MAX_T][PATH_MAX + 64];
    snprintf(paths[slot], sizeof paths[slot], "%s/%s", tmp_dir, name);
    FILE *f = fopen(paths[slot], "w");
    if (f != NULL) {
        fputs(text, f);
        fclose(f);
    }
    return paths[slot];
}

static const char io_trace[] = "vdcc-trace 1\n"
                               "create c0 file=c0.cache size=1M -> OK\n"               /* call 1 */
                               "vdwrite c0 off=0 len=16K data=pattern:5 -> OK\n"       /* call 2 */
                               "vdread c0 off=0 len=16K -> hit|miss data=pattern:5\n"  /* call 3 */
                               "close c0 -> OK\n";                                     /* call 4 */

static int run(const char *spec, uint64_t timeout_ms, unsigned jobs, const char *const *paths, unsigned n,
               results *res)
{
    vdc_backend b;
    char err[1024];
    memset(res, 0, sizeof *res);
    if (vdc_backend_load(spec, NULL, &b, err, sizeof err) < 0) {
        fprintf(stderr, "  cannot load %s: %s\n", spec, err);
        return -1;
    }
    vdc_run_opts o = { .backend = b.be, .timeout_ms = timeout_ms, .jobs = jobs, .mem_limit_mb = 4096 };
    int rc = vdc_run_traces(&o, paths, n, on_done, res);
    vdc_backend_unload(&b);
    return rc;
}

static const char *so(const char *name)
{
    static char buf[PATH_MAX + 64];
    snprintf(buf, sizeof buf, "%s/tb_%s.so", so_dir, name);
    return buf;
}

static void test_pass_skip_error(void)
{
    const char *paths[4] = {
        trace_file(0, "io.trace", io_trace),
        trace_file(1, "caps.trace", "vdcc-trace 1\nrequires DISCARD\ncreate c0 file=x size=1M -> OK\n"),
        trace_file(2, "bad.trace", "vdcc-trace 1\ncreate c0 file=x size=1M -> OK\nraed c0 off=0 len=1\n"),
        "/nonexistent/none.trace",
    };
    results res;
    REQUIRE(run("toy", 5000, 2, paths, 4, &res) == VINF_SUCCESS);
    for (unsigned i = 0; i < 4; i++)
        CHECK_EQ(res.seen[i], 1);
    CHECK_EQ(res.r[0].verdict, VDC_V_PASS);
    CHECK_EQ(res.r[0].calls, 4);
    CHECK_EQ(res.r[1].verdict, VDC_V_SKIP);
    CHECK(strstr(res.r[1].message, "VD_CAP_DISCARD") != NULL);
    CHECK_EQ(res.r[2].verdict, VDC_V_ERROR);
    CHECK(strstr(res.r[2].message, "bad.trace:3:") != NULL);
    CHECK_EQ(res.r[3].verdict, VDC_V_ERROR);
}

static void test_crash_then_continue(void)
{
    const char *paths[2] = { trace_file(0, "io.trace", io_trace),
                             trace_file(1, "noread.trace", "vdcc-trace 1\ncreate c0 file=c0.cache size=1M -> OK\n"
                                                           "close c0 -> OK\n") };
    results res;
    REQUIRE(run(so("crash"), 5000, 1, paths, 2, &res) == VINF_SUCCESS);
    CHECK_EQ(res.r[0].verdict, VDC_V_CRASH);
    CHECK_EQ(res.r[0].signal, SIGSEGV);
    CHECK_EQ(res.r[0].call, 3); /* the first read */
    CHECK_EQ(res.r[0].line, 4);
    CHECK(strncmp(res.r[0].record, "vdread c0 off=0 len=16K", 23) == 0);
    CHECK(strstr(res.r[0].message, "SIGSEGV during call 3 of 4") != NULL);
    if (vdc_run_sanitized())
        CHECK(strstr(res.r[0].sanitizer, "Sanitizer: SEGV") != NULL);
    CHECK_EQ(res.r[1].verdict, VDC_V_PASS); /* the run went on */
}

static void test_timeout(void)
{
    const char *paths[2] = { trace_file(0, "io.trace", io_trace),
                             trace_file(1, "noread.trace", "vdcc-trace 1\ncreate c0 file=c0.cache size=1M -> OK\n"
                                                           "close c0 -> OK\n") };
    results res;
    REQUIRE(run(so("hang"), 1000, 2, paths, 2, &res) == VINF_SUCCESS);
    CHECK_EQ(res.r[0].verdict, VDC_V_TIMEOUT);
    CHECK_EQ(res.r[0].call, 2); /* the first write */
    CHECK(res.r[0].seconds >= 0.9 && res.r[0].seconds < 5.0);
    CHECK(strstr(res.r[0].message, "killed during call 2 of 4") != NULL);
    CHECK_EQ(res.r[1].verdict, VDC_V_PASS);
}

static void test_data_and_protocol_failures(void)
{
    const char *paths[1] = { trace_file(0, "io.trace", io_trace) };
    results res;
    REQUIRE(run(so("wrongdata"), 5000, 1, paths, 1, &res) == VINF_SUCCESS);
    CHECK_EQ(res.r[0].verdict, VDC_V_FAIL);
    CHECK_EQ(res.r[0].call, 3);
    CHECK(strstr(res.r[0].message, "data differs at virtual offset 0x1000") != NULL);
    REQUIRE(run(so("zerobytes"), 5000, 1, paths, 1, &res) == VINF_SUCCESS);
    CHECK_EQ(res.r[0].verdict, VDC_V_FAIL);
    CHECK_EQ(res.r[0].call, 2);
    CHECK(strstr(res.r[0].message, "VD would loop forever") != NULL);
    REQUIRE(run(so("misuse"), 5000, 1, paths, 1, &res) == VINF_SUCCESS);
    CHECK_EQ(res.r[0].verdict, VDC_V_FAIL);
    CHECK_EQ(res.r[0].call, 3);
    CHECK(res.r[0].misuse >= 1);
    CHECK(strstr(res.r[0].message, "NULL storage handle") != NULL);
}

static void test_leak(void)
{
    const char *paths[1] = { trace_file(0, "io.trace", io_trace) };
    results res;
    REQUIRE(run(so("leak"), 5000, 1, paths, 1, &res) == VINF_SUCCESS);
#if defined(__SANITIZE_ADDRESS__)
# define HAVE_LSAN 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer)
#  define HAVE_LSAN 1
# endif
#endif
#ifdef HAVE_LSAN
    CHECK_EQ(res.r[0].verdict, VDC_V_FAIL);
    CHECK(strstr(res.r[0].sanitizer, "ERROR: LeakSanitizer: detected memory leaks") != NULL);
    CHECK(strstr(res.r[0].message, "after the replay finished") != NULL);
#else
    /* Without LeakSanitizer a leak is invisible; the replay itself passes. */
    CHECK_EQ(res.r[0].verdict, VDC_V_PASS);
#endif
}

static void test_many_jobs(void)
{
    const char *paths[MAX_T];
    char name[32];
    for (unsigned i = 0; i < MAX_T; i++) {
        snprintf(name, sizeof name, "t%u.trace", i);
        paths[i] = trace_file(i, name, i % 3 == 2 ? "vdcc-trace 1\nnonsense\n" : io_trace);
    }
    results res;
    REQUIRE(run(so("toy"), 5000, 4, paths, MAX_T, &res) == VINF_SUCCESS);
    for (unsigned i = 0; i < MAX_T; i++) {
        CHECK_EQ(res.seen[i], 1);
        CHECK_EQ(res.r[i].verdict, i % 3 == 2 ? VDC_V_ERROR : VDC_V_PASS);
    }
}

int main(int argc, char **argv)
{
    snprintf(so_dir, sizeof so_dir, "%s", argv[0]);
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(so_dir, '/');
        if (slash == NULL) {
            snprintf(so_dir, sizeof so_dir, "%s", up == 0 ? ".." : ".");
            break;
        }
        *slash = '\0';
    }
    if (vdc_scratch_make(NULL, "vdcc-test-runner", tmp_dir, sizeof tmp_dir) < 0) {
        fprintf(stderr, "cannot make a temporary directory\n");
        return 1;
    }
    static const check_case cases[] = {
        CHECK_CASE(test_pass_skip_error), CHECK_CASE(test_crash_then_continue),
        CHECK_CASE(test_timeout),         CHECK_CASE(test_data_and_protocol_failures),
        CHECK_CASE(test_leak),            CHECK_CASE(test_many_jobs),
    };
    int rc = check_run(cases, sizeof cases / sizeof cases[0], argc, argv);
    vdc_scratch_remove(tmp_dir);
    return rc;
}
