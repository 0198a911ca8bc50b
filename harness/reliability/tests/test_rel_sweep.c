/*
 * harness/reliability/tests/test_rel_sweep.c - the crash test and the fault
 * sweep end to end: zero violations on the reference backend and on toy
 * over short seeded workloads, and the planted defects of naive.h caught
 * (a crash-unsafe index, a read error served as data, a backend that
 * aborts: survived and counted when isolated), and FLUSH-2: the lazy index
 * of naive.h loses data in a crash right after each flush, ref and toy
 * do not.
 */
#include "../../../tests/check.h"
#include "../../../ref/ref.h"
#include "../../tests/backends/tb.h"
#include "../crash.h"
#include "../faults.h"
#include "../fs_fault.h"
#include "../model.h"
#include "../reliability.h"
#include "../workload.h"
#include "../../trace/trace.h"
#include "naive.h"

static vdc_workload *gen(uint64_t seed, unsigned ops, uint64_t capacity)
{
    vdc_workload *w = NULL;
    vdc_wl_params p = { .capacity = capacity, .max_write = 8192 };
    if (vdc_workload_gen(seed, ops, &p, &w) != VINF_SUCCESS)
        return NULL;
    return w;
}

static uint64_t clean_run(const VDCACHEBACKEND *be, uint64_t seed, uint64_t *hits, char *first, size_t cb)
{
    vdc_workload *w = gen(seed, 300, 65536);
    vdc_fs *mem = vdc_fs_mem_new(0, 0);
    vdc_wl_result r;
    uint64_t v = UINT64_MAX;
    vdc_wl_opts o = { .be = be, .fs = mem };
    if (w != NULL && mem != NULL && vdc_wl_run(w, &o, &r) == VINF_SUCCESS) {
        v = r.violations;
        *hits = r.hits;
        snprintf(first, cb, "%s", r.first);
    }
    vdc_wl_result_free(&r);
    vdc_fs_destroy(mem);
    vdc_workload_free(w);
    return v;
}

static void test_model(void)
{
    vdc_model *m = vdc_model_new();
    uint8_t a[16], b[16], got[16];
    uint64_t bad;
    uint8_t want;
    bool has;
    REQUIRE(m != NULL);
    memset(a, 'a', sizeof a);
    memset(b, 'b', sizeof b);
    CHECK(!vdc_model_check_hit(m, 4096, a, 1, NULL, false, &bad, &want, &has) && !has);
    CHECK_EQ(vdc_model_write(m, 4090, a, 16), VINF_SUCCESS); /* straddles a page */
    CHECK(vdc_model_check_hit(m, 4090, a, 16, NULL, false, &bad, &want, &has));
    CHECK(!vdc_model_check_hit(m, 4090, b, 16, NULL, false, &bad, &want, &has) && bad == 0 && has && want == 'a');
    CHECK_EQ(vdc_model_maybe(m, 4094, b, 4), VINF_SUCCESS);   /* a failed write: a or b */
    memcpy(got, a, 16);
    memcpy(got + 4, b, 4);
    CHECK(vdc_model_check_hit(m, 4090, got, 16, NULL, false, &bad, &want, &has));
    CHECK(vdc_model_check_hit(m, 4090, a, 16, NULL, false, &bad, &want, &has));
    vdc_model_alt alt = { 4090, 16, b };
    CHECK(vdc_model_check_hit(m, 4090, b, 16, &alt, false, &bad, &want, &has)); /* in flight */
    vdc_model_discard(m, 4090, 4);
    CHECK(!vdc_model_check_hit(m, 4090, a, 4, NULL, false, &bad, &want, &has) && !has);
    CHECK(vdc_model_check_hit(m, 4090, a, 4, NULL, true, &bad, &want, &has)); /* a crash may undo it */
    vdc_model_commit_discards(m);
    CHECK(!vdc_model_check_hit(m, 4090, a, 4, NULL, true, &bad, &want, &has) && !has);
    uint64_t lo, hi;
    CHECK(vdc_model_next_run(m, 0, &lo, &hi) && lo == 0 && hi == 8192);
    vdc_model_reset(m);
    CHECK(!vdc_model_next_run(m, 0, &lo, &hi));
    vdc_model_free(m);
}

static void test_clean_workloads(void)
{
    const VDCACHEBACKEND *bes[] = { &vdcc_ref_backend, &vdcc_toy_backend, &rel_naive_backend };
    for (unsigned i = 0; i < 3; i++) {
        uint64_t hits = 0;
        char first[1024] = "";
        uint64_t v = clean_run(bes[i], 11 + i, &hits, first, sizeof first);
        if (v != 0)
            fprintf(stderr, "  %s: %s\n", bes[i]->pszBackendName, first);
        CHECK_EQ(v, 0);
        CHECK(hits > 0); /* the workload does read back cached data */
    }
}

static void crash_one(const VDCACHEBACKEND *be, bool deep, bool require_open, uint64_t seed, unsigned ops,
                      vdc_crashtest_result *r)
{
    vdc_workload *w = gen(seed, ops, 32768);
    vdc_crashtest_opts o = {
        .be = be, .w = w, .crash = { .seed = seed, .random_states = 4, .max_single = 8, .max_tears = 3 },
        .deep_check = deep && vdc_rel_have_vci_check() ? vdc_rel_vci_check : NULL,
        .require_open = require_open, .log = stderr, .max_logged = 3,
    };
    memset(r, 0, sizeof *r);
    if (w == NULL || vdc_crashtest_run(&o, r) != VINF_SUCCESS)
        r->violations = UINT64_MAX;
    vdc_workload_free(w);
}

static void test_crash_ref(void)
{
    vdc_crashtest_result r;
    crash_one(&vdcc_ref_backend, true, true, 3, 40, &r);
    printf("# ref crash: %llu points, %llu states, %llu write points, opens rw %llu/%llu, hits %llu\n",
           (unsigned long long)r.points, (unsigned long long)r.checked, (unsigned long long)r.write_points,
           (unsigned long long)r.open_ok_rw, (unsigned long long)r.open_failed_rw, (unsigned long long)r.hits);
    CHECK_EQ(r.workload_violations, 0);
    CHECK_EQ(r.violations, 0);
    CHECK(r.checked > 100);
    CHECK(r.open_ok_rw > 0);
}

/* A crash after a flush failed: the failed flush must not leave the
 * backend writing to an image marked clean (spec/vci-format.md section
 * 10: the file is modified only while the unclean flag is set on disk).
 * Each of the workload's flushes 3..6 fails once in turn (1 and 2 belong
 * to create), then every crash state is checked. */
static void flush_fault_crashes(const VDCACHEBACKEND *be, bool deep, uint64_t *violations, uint64_t *states)
{
    vdc_workload *w = gen(4, 40, 32768);
    *violations = 0;
    *states = 0;
    for (uint64_t n = 3; n <= 6 && w != NULL; n++) {
        vdc_crashtest_result r;
        vdc_crashtest_opts o = {
            .be = be, .w = w, .crash = { .seed = n, .random_states = 2, .max_single = 4, .max_tears = 2 },
            .deep_check = deep && vdc_rel_have_vci_check() ? vdc_rel_vci_check : NULL,
            .require_open = deep, .log = stderr, .max_logged = 2,
            .fault_kind = VDC_FAULT_FLUSH, .fault_nth = n, .fault_status = VERR_DISK_IO_ERROR,
        };
        if (vdc_crashtest_run(&o, &r) != VINF_SUCCESS) {
            *violations = UINT64_MAX;
            break;
        }
        if (r.violations != 0)
            fprintf(stderr, "  %s, flush %llu failing: %llu violation(s); rerun: vdcc crashtest --backend %s "
                            "--seed 4 --ops 40 --capacity 32768 --max-write 8192 --fault-kind flush --fault-at %llu\n",
                    be->pszBackendName, (unsigned long long)n, (unsigned long long)r.violations,
                    deep ? "ref" : "toy", (unsigned long long)n);
        *violations += r.violations + r.workload_violations;
        *states += r.checked;
    }
    vdc_workload_free(w);
}

static void test_crash_after_failed_flush_ref(void)
{
    uint64_t v, states;
    flush_fault_crashes(&vdcc_ref_backend, true, &v, &states);
    printf("# ref crash after a failed flush: %llu states\n", (unsigned long long)states);
    CHECK(states > 1000);
    CHECK_EQ(v, 0);
}

static void test_crash_after_failed_flush_toy(void)
{
    uint64_t v, states;
    flush_fault_crashes(&vdcc_toy_backend, false, &v, &states);
    printf("# toy crash after a failed flush: %llu states\n", (unsigned long long)states);
    CHECK(states > 100);
    CHECK_EQ(v, 0);
}

static void test_crash_toy(void)
{
    vdc_crashtest_result r;
    crash_one(&vdcc_toy_backend, false, false, 5, 120, &r);
    printf("# toy crash: %llu points, %llu states\n", (unsigned long long)r.points, (unsigned long long)r.checked);
    CHECK_EQ(r.workload_violations, 0);
    CHECK_EQ(r.violations, 0);
    CHECK(r.checked > 100);
}

static void test_crash_catches_naive(void)
{
    vdc_crashtest_result r;
    FILE *quiet = fopen("/dev/null", "w");
    vdc_workload *w = gen(3, 12, 32768);
    vdc_crashtest_opts o = { .be = &rel_naive_backend, .w = w,
                             .crash = { .seed = 3, .random_states = 2, .max_single = 4, .max_tears = 2 },
                             .log = quiet };
    REQUIRE(w != NULL);
    CHECK_EQ(vdc_crashtest_run(&o, &r), VINF_SUCCESS);
    printf("# naive crash: %llu violations in %llu states; first: %.300s\n", (unsigned long long)r.violations,
           (unsigned long long)r.checked, r.first);
    CHECK_EQ(r.workload_violations, 0); /* correct while nothing crashes */
    CHECK(r.violations > 0);
    CHECK(strstr(r.first, "CRASH-1") != NULL);
    vdc_workload_free(w);
    if (quiet != NULL)
        fclose(quiet);
}

static void faults_modes(const VDCACHEBACKEND *be, bool deep, uint64_t seed, unsigned ops, uint64_t stride,
                         unsigned modes, FILE *log, vdc_faults_result *r)
{
    vdc_workload *w = gen(seed, ops, 32768);
    vdc_faults_opts o = { .be = be, .w = w, .kind = be == &rel_sloppy_backend ? VDC_FAULT_READ : VDC_FAULT_ANY,
                          .stride = stride, .modes = modes,
                          .deep_check = deep && vdc_rel_have_vci_check() ? vdc_rel_vci_check : NULL,
                          .log = log, .max_logged = 3 };
    memset(r, 0, sizeof *r);
    if (w == NULL || vdc_faults_run(&o, r) != VINF_SUCCESS)
        r->violations = UINT64_MAX;
    vdc_workload_free(w);
}

static void faults_one(const VDCACHEBACKEND *be, bool deep, uint64_t seed, unsigned ops, uint64_t stride,
                       FILE *log, vdc_faults_result *r)
{
    faults_modes(be, deep, seed, ops, stride, VDC_FMODE_STORAGE, log, r);
}

static void test_faults_ref(void)
{
    vdc_faults_result r;
    faults_one(&vdcc_ref_backend, true, 4, 40, 1, stderr, &r);
    printf("# ref faults: %llu ops, %llu points (%llu fired), %llu failed calls, reopen %llu/%llu\n",
           (unsigned long long)r.ops, (unsigned long long)r.points, (unsigned long long)r.fired,
           (unsigned long long)r.failed_calls, (unsigned long long)r.reopen_ok, (unsigned long long)r.reopen_failed);
    if (r.violations != 0)
        fprintf(stderr, "  rerun: vdcc faults --backend ref --seed 4 --ops 40 --capacity 32768 --max-write 8192\n");
    CHECK_EQ(r.clean_violations, 0);
    CHECK_EQ(r.violations, 0);
    CHECK(r.points >= 4 * 50);
    CHECK(r.fired == r.points); /* every point of the clean count is reached */
}

/* Allocation failures (HOST-4): ref (linked through the allocation hook,
 * harness/host/alloc_hook.h) and naive survive every one; frail's lie is
 * found. */
static void test_faults_nomem(void)
{
    vdc_faults_result r;
    FILE *quiet = fopen("/dev/null", "w");
    faults_modes(&vdcc_ref_backend, true, 4, 40, 1, VDC_FMODE_ALLOC, stderr, &r);
    printf("# ref nomem: %llu allocations, %llu points (%llu fired), %llu failed calls, reopen %llu/%llu\n",
           (unsigned long long)r.allocs, (unsigned long long)r.points, (unsigned long long)r.fired,
           (unsigned long long)r.failed_calls, (unsigned long long)r.reopen_ok, (unsigned long long)r.reopen_failed);
    CHECK_EQ(r.clean_violations, 0);
    CHECK_EQ(r.violations, 0);
    CHECK(r.allocs >= 5); /* the hook sees ref's allocations */
    CHECK_EQ(r.points, 2 * r.allocs);
    CHECK(r.fired == r.points);
    CHECK(r.failed_calls > 0);

    /* However few points the sample allows, every call site fails once. */
    vdc_workload *w = gen(4, 40, 32768);
    REQUIRE(w != NULL);
    vdc_faults_opts o = { .be = &vdcc_ref_backend, .w = w, .kind = VDC_FAULT_ANY, .modes = VDC_FMODE_NOMEM,
                          .max_alloc_points = 1 };
    CHECK_EQ(vdc_faults_run(&o, &r), VINF_SUCCESS);
    printf("# ref nomem, one sampled point: %llu call sites, %llu points\n", (unsigned long long)r.alloc_sites,
           (unsigned long long)r.points);
    CHECK(r.alloc_sites >= 5 && r.alloc_sites < r.allocs);
    CHECK(r.points >= r.alloc_sites && r.points <= r.alloc_sites + 1);
    CHECK_EQ(r.violations + r.clean_violations, 0);
    vdc_workload_free(w);

    faults_modes(&rel_naive_backend, false, 4, 40, 1, VDC_FMODE_ALLOC, stderr, &r);
    CHECK_EQ(r.violations + r.clean_violations, 0);
    CHECK(r.allocs > 0);

    faults_modes(&rel_frail_backend, false, 4, 200, 1, VDC_FMODE_ALLOC, quiet, &r);
    printf("# frail nomem: %llu violations in %llu points; first: %.300s\n", (unsigned long long)r.violations,
           (unsigned long long)r.points, r.first);
    CHECK_EQ(r.clean_violations, 0);
    CHECK(r.violations > 0 && r.violations != UINT64_MAX);
    CHECK(strstr(r.first, "backend allocation") != NULL);
    if (quiet != NULL)
        fclose(quiet);
}

/* HOST-3 by the allocation hook's balance, without LeakSanitizer. */
static void test_faults_leak(void)
{
    vdc_faults_result r;
    FILE *quiet = fopen("/dev/null", "w");
    faults_modes(&rel_leaky_backend, false, 4, 40, 1, VDC_FMODE_NOMEM, quiet, &r);
    rel_leaky_reclaim();
    printf("# leaky: clean %llu, %llu violations; first: %.300s\n", (unsigned long long)r.clean_violations,
           (unsigned long long)r.violations, r.first);
    CHECK(r.clean_violations > 0 && r.violations > 0 && r.violations != UINT64_MAX);
    CHECK(strstr(r.first, "HOST-3") != NULL && strstr(r.first, "still live") != NULL);
    faults_modes(&rel_naive_backend, false, 4, 40, 1, VDC_FMODE_NOMEM, quiet, &r);
    CHECK_EQ(r.violations + r.clean_violations, 0);
    if (quiet != NULL)
        fclose(quiet);
}

static void test_faults_toy(void)
{
    vdc_faults_result r;
    faults_one(&vdcc_toy_backend, false, 6, 40, 2, stderr, &r);
    printf("# toy faults: %llu points\n", (unsigned long long)r.points);
    CHECK_EQ(r.clean_violations, 0);
    CHECK_EQ(r.violations, 0);
    CHECK(r.points > 0);
}

static void test_faults_catch_sloppy(void)
{
    vdc_faults_result r;
    FILE *quiet = fopen("/dev/null", "w");
    faults_one(&rel_sloppy_backend, false, 4, 40, 1, quiet, &r);
    printf("# sloppy faults: %llu violations; first: %.300s\n", (unsigned long long)r.violations, r.first);
    CHECK_EQ(r.clean_violations, 0);
    CHECK(r.violations > 0 && r.violations != UINT64_MAX);
    CHECK(strstr(r.first, "0xdb") != NULL); /* the poison a failed read leaves */
    if (quiet != NULL)
        fclose(quiet);
}

static void test_isolation_survives(void)
{
    FILE *quiet = fopen("/dev/null", "w");
    vdc_workload *w = gen(3, 12, 32768);
    REQUIRE(w != NULL);
    vdc_crashtest_opts co = { .be = &rel_crashy_backend, .w = w,
                              .crash = { .seed = 3, .random_states = 2, .max_single = 4, .max_tears = 2 },
                              .log = quiet };
    vdc_crashtest_result cr;
    CHECK_EQ(vdc_crashtest_run_isolated(&co, 10000, &cr), VINF_SUCCESS);
    printf("# crashy crash: %llu crashed of %llu states checked\n", (unsigned long long)cr.crashed,
           (unsigned long long)cr.checked);
    CHECK(cr.crashed > 0);
    CHECK(cr.checked > cr.crashed);          /* it went on after each crash */
    CHECK(cr.violations >= cr.crashed);
    vdc_faults_opts fo = { .be = &rel_crashy_backend, .w = w, .kind = VDC_FAULT_ANY, .stride = 4,
                           .modes = VDC_FMODE_IO, .log = quiet };
    vdc_faults_result fr;
    CHECK_EQ(vdc_faults_run_isolated(&fo, 10000, &fr), VINF_SUCCESS);
    printf("# crashy faults: %llu crashed of %llu points\n", (unsigned long long)fr.crashed,
           (unsigned long long)fr.points);
    CHECK(fr.crashed > 0);
    CHECK(fr.points > fr.crashed);
    vdc_workload_free(w);
    if (quiet != NULL)
        fclose(quiet);
}

/* ---- trace expectations and the work bounds ------------------------------ */

/* A trace whose read-only handle refuses a write and a set-mod-uuid, as it
 * must; `refused_status` is what the trace expects of the refused write. */
static vdc_workload *ro_workload(const char *refused_status, char *err, size_t cb, int *prc)
{
    char text[1024];
    vdc_trace *t = NULL;
    vdc_workload *w = NULL;
    snprintf(text, sizeof text,
             "vdcc-trace 1\n"
             "create c0 file=t.vci size=1M -> OK\n"
             "vdwrite c0 off=0 len=4K data=fill:17 -> OK\n"
             "close c0 -> OK\n"
             "open c0 file=t.vci flags=READONLY -> OK\n"
             "vdwrite c0 off=0 len=4K data=fill:34 -> %s\n"
             "set-mod-uuid c0 uuid=11111111-2222-3333-4444-555555555555 -> VERR_VD_IMAGE_READ_ONLY|VERR_NOT_SUPPORTED\n"
             "vdread c0 off=0 len=4K -> hit|miss data=fill:17\n"
             "set-open-flags c0 flags=NORMAL -> OK\n"
             "vdwrite c0 off=4K len=4K data=fill:51 -> OK\n"
             "close c0 -> OK\n",
             refused_status);
    *prc = vdc_trace_parse(text, strlen(text), "ro", &t, err, cb);
    if (*prc == VINF_SUCCESS)
        *prc = vdc_workload_from_trace(t, &w, err, cb);
    vdc_trace_free(t);
    return w;
}

/* INFO-6: a fault that fires once in set-open-flags' reopen leaves brittle
 * without storage (a warning) and fickle with the refused flags (a
 * warning); a persistent one is not judged so; ref reopens with its old
 * flags (no warning). */
static void test_faults_setflags(void)
{
    char err[256];
    int rc;
    vdc_workload *w = ro_workload("VERR_VD_IMAGE_READ_ONLY", err, sizeof err, &rc);
    REQUIRE(w != NULL);
    vdc_faults_opts fo = { .be = &rel_brittle_backend, .w = w, .kind = VDC_FAULT_OPEN, .modes = VDC_FMODE_IO };
    vdc_faults_result fr;
    CHECK_EQ(vdc_faults_run(&fo, &fr), VINF_SUCCESS);
    printf("# brittle: %llu opens, %llu warning(s); first: %.300s\n", (unsigned long long)fr.ops,
           (unsigned long long)fr.warnings, fr.warning);
    CHECK_EQ(fr.violations + fr.clean_violations, 0);
    CHECK_EQ(fr.warnings, 1); /* the open of set-open-flags, of 3 */
    CHECK(strstr(fr.warning, "INFO-6") != NULL && strstr(fr.warning, "VERR_VD_NOT_OPENED") != NULL);
    fo.modes = VDC_FMODE_IO_STUCK;
    CHECK_EQ(vdc_faults_run(&fo, &fr), VINF_SUCCESS);
    CHECK_EQ(fr.violations + fr.clean_violations + fr.warnings, 0);
    /* fickle serves on, but with the flags the failed call asked for */
    fo.be = &rel_fickle_backend;
    fo.modes = VDC_FMODE_IO;
    CHECK_EQ(vdc_faults_run(&fo, &fr), VINF_SUCCESS);
    printf("# fickle: %llu warning(s); first: %.300s\n", (unsigned long long)fr.warnings, fr.warning);
    CHECK_EQ(fr.violations + fr.clean_violations, 0);
    CHECK_EQ(fr.warnings, 1);
    CHECK(strstr(fr.warning, "INFO-6") != NULL && strstr(fr.warning, "yet the instance now reports those flags") != NULL);
    fo.be = &vdcc_ref_backend;
    fo.kind = VDC_FAULT_ANY;
    fo.modes = VDC_FMODE_IO | VDC_FMODE_FULL | VDC_FMODE_NOMEM;
    CHECK_EQ(vdc_faults_run(&fo, &fr), VINF_SUCCESS);
    CHECK(fr.points > 20);
    CHECK_EQ(fr.violations + fr.clean_violations + fr.warnings, 0);
    vdc_workload_free(w);
}

static void test_trace_expectations(void)
{
    char err[256];
    int rc;
    vdc_workload *w = ro_workload("VERR_VD_IMAGE_READ_ONLY", err, sizeof err, &rc);
    CHECK_EQ(rc, VINF_SUCCESS);
    REQUIRE(w != NULL);
    vdc_fs *mem = vdc_fs_mem_new(0, 0);
    REQUIRE(mem != NULL);
    vdc_wl_result r;
    vdc_wl_opts o = { .be = &vdcc_ref_backend, .fs = mem };
    CHECK_EQ(vdc_wl_run(w, &o, &r), VINF_SUCCESS);
    CHECK_EQ(r.violations, 0);
    if (r.violations != 0)
        fprintf(stderr, "  %s\n", r.first);
    /* The refused write left nothing acceptable behind; the first did. */
    uint8_t b34[16], b17[16], b51[16], want;
    uint64_t bad;
    bool has;
    memset(b34, 34, sizeof b34);
    memset(b17, 17, sizeof b17);
    memset(b51, 51, sizeof b51);
    CHECK(!vdc_model_check_hit(r.model, 0, b34, sizeof b34, NULL, false, &bad, &want, &has));
    CHECK(vdc_model_check_hit(r.model, 0, b17, sizeof b17, NULL, false, &bad, &want, &has));
    CHECK(vdc_model_check_hit(r.model, 4096, b51, sizeof b51, NULL, false, &bad, &want, &has));
    vdc_wl_result_free(&r);
    vdc_fs_destroy(mem);

    /* The crash test over it, bounded: at most 3 points, 4 states each. */
    vdc_crashtest_opts co = { .be = &vdcc_ref_backend, .w = w,
                              .crash = { .seed = 1, .max_points = 3, .max_states = 4 } };
    vdc_crashtest_result cr;
    CHECK_EQ(vdc_crashtest_run(&co, &cr), VINF_SUCCESS);
    CHECK_EQ(cr.points, 3);
    CHECK(cr.states >= 3 && cr.states <= 12);
    CHECK_EQ(cr.violations + cr.workload_violations, 0);
    vdc_faults_opts fo = { .be = &vdcc_ref_backend, .w = w, .kind = VDC_FAULT_ANY, .modes = VDC_FMODE_IO,
                           .max_points = 2 };
    vdc_faults_result fr;
    CHECK_EQ(vdc_faults_run(&fo, &fr), VINF_SUCCESS);
    CHECK_EQ(fr.points, 2);
    CHECK_EQ(fr.violations + fr.clean_violations, 0);
    vdc_workload_free(w);

    /* The same trace expecting the write to succeed: ref refuses it, which
     * is now a violation of the trace's expectation. */
    w = ro_workload("OK", err, sizeof err, &rc);
    CHECK_EQ(rc, VINF_SUCCESS);
    REQUIRE(w != NULL);
    mem = vdc_fs_mem_new(0, 0);
    REQUIRE(mem != NULL);
    o.fs = mem;
    CHECK_EQ(vdc_wl_run(w, &o, &r), VINF_SUCCESS);
    CHECK(r.violations != 0);
    vdc_wl_result_free(&r);
    vdc_fs_destroy(mem);
    vdc_workload_free(w);

    /* A record the workload cannot express is reported, not dropped. */
    vdc_trace *t = NULL;
    static const char bad_flags[] = "vdcc-trace 1\ncreate c0 file=t.vci size=1M -> OK\n"
                                    "set-open-flags c0 flags=HONOR_ZEROES -> OK\n";
    w = NULL;
    CHECK_EQ(vdc_trace_parse(bad_flags, strlen(bad_flags), "bad", &t, err, sizeof err), VINF_SUCCESS);
    CHECK_EQ(vdc_workload_from_trace(t, &w, err, sizeof err), VERR_NOT_SUPPORTED);
    CHECK(w == NULL && strstr(err, "set-open-flags") != NULL);
    vdc_trace_free(t);

    /* Config keys do not reach the workload, so a create they are meant
     * to make fail would succeed there: such a trace is not expressed. */
    static const char cfg_fail[] = "vdcc-trace 1\nconfig NodeCacheSize value=\"1\"\n"
                                   "create c0 file=t.vci size=1M -> VERR_VD_UNKNOWN_CFG_VALUES\n"
                                   "config NodeCacheSize value=\"64\"\n"
                                   "create c0 file=t.vci size=1M -> OK\nclose c0 -> OK\n";
    static const char cfg_ok[] = "vdcc-trace 1\nconfig NodeCacheSize value=\"64\"\n"
                                 "create c0 file=t.vci size=1M -> OK\nclose c0 -> OK\n";
    t = NULL;
    w = NULL;
    CHECK_EQ(vdc_trace_parse(cfg_fail, strlen(cfg_fail), "cfg", &t, err, sizeof err), VINF_SUCCESS);
    CHECK_EQ(vdc_workload_from_trace(t, &w, err, sizeof err), VERR_NOT_SUPPORTED);
    CHECK(w == NULL && strstr(err, "config keys") != NULL);
    vdc_trace_free(t);
    t = NULL;
    CHECK_EQ(vdc_trace_parse(cfg_ok, strlen(cfg_ok), "cfg", &t, err, sizeof err), VINF_SUCCESS);
    CHECK_EQ(vdc_workload_from_trace(t, &w, err, sizeof err), VINF_SUCCESS);
    vdc_workload_free(w);
    vdc_trace_free(t);
}

/* FLUSH-2 (crash.h): the points right after each successful flush are
 * visited besides the sampled ones, and a state there that misses what
 * the all-applied state hits is a loss (a warning, never a violation). */
static const char flush_text[] = "vdcc-trace 1\n"
                                 "create c0 file=c0.cache size=1M -> OK\n"
                                 "vdwrite c0 off=0 len=4K data=pattern:1 -> OK\n"
                                 "flush c0 -> OK\n"
                                 "vdwrite c0 off=64K len=4K data=pattern:2 -> OK\n"
                                 "flush c0 -> OK\n"
                                 "vdread c0 off=0 len=128K -> hit|miss\n"
                                 "close c0 -> OK\n";

static void flush_run(const VDCACHEBACKEND *be, bool no_flush_check, vdc_crashtest_result *r)
{
    char err[256];
    vdc_trace *t = NULL;
    vdc_workload *w = NULL;
    memset(r, 0, sizeof *r);
    r->violations = UINT64_MAX;
    if (vdc_trace_parse(flush_text, strlen(flush_text), "flush", &t, err, sizeof err) == VINF_SUCCESS
        && vdc_workload_from_trace(t, &w, err, sizeof err) == VINF_SUCCESS) {
        /* Two sampled points: the flush points (at most two) come on top. */
        vdc_crashtest_opts co = { .be = be, .w = w, .crash = { .seed = 1, .max_points = 2, .max_states = 8 },
                                  .no_flush_check = no_flush_check };
        if (vdc_crashtest_run(&co, r) != VINF_SUCCESS)
            r->violations = UINT64_MAX;
    }
    vdc_workload_free(w);
    vdc_trace_free(t);
}

static void test_flush2(void)
{
    vdc_crashtest_result r;
    flush_run(&rel_lazy_backend, false, &r);
    CHECK_EQ(r.violations + r.workload_violations, 0);
    CHECK(r.points >= 3 && r.points <= 4);
    CHECK_EQ(r.flush_points, 2);
    CHECK_EQ(r.flush_lossy, 2);
    CHECK(r.flush_loss_states >= 2);
    CHECK(strncmp(r.flush_first, "FLUSH-2: state ", 15) == 0);
    CHECK(strstr(r.flush_first, "right after op 3 (flush, storage events ") != NULL);
    CHECK(strstr(r.flush_first, "none state (") != NULL);
    CHECK(strstr(r.flush_first, "[0, +4096) misses here but hits in the state with every pending write applied") != NULL);
    if (r.flush_first[0] != '\0')
        printf("# lazy: %s\n", r.flush_first);
    /* A flush that writes nothing: the all-applied state lacks the data
     * too, so only the clean-close reference shows the loss. */
    flush_run(&rel_idle_backend, false, &r);
    CHECK_EQ(r.violations + r.workload_violations, 0);
    CHECK_EQ(r.flush_points, 2);
    CHECK_EQ(r.flush_lossy, 2);
    CHECK(strstr(r.flush_first, "misses here but hits in the image a clean close right after the flush leaves")
          != NULL);
    if (r.flush_first[0] != '\0')
        printf("# idle: %s\n", r.flush_first);
    /* Off: only the sampled points, no warning. */
    flush_run(&rel_lazy_backend, true, &r);
    CHECK_EQ(r.points, 2);
    CHECK_EQ(r.flush_points + r.flush_lossy + r.flush_loss_states, 0);
    CHECK(r.flush_first[0] == '\0');
    /* Backends whose flush makes everything durable: nothing pending, one
     * state per flush point, no loss. */
    const VDCACHEBACKEND *keep[] = { &vdcc_ref_backend, &vdcc_toy_backend };
    for (unsigned i = 0; i < 2; i++) {
        flush_run(keep[i], false, &r);
        CHECK_EQ(r.violations + r.workload_violations, 0);
        CHECK_EQ(r.flush_points, 2);
        CHECK_EQ(r.flush_lossy, 0);
        if (r.flush_lossy != 0)
            fprintf(stderr, "  %s: %s\n", keep[i]->pszBackendName, r.flush_first);
    }
}

CHECK_MAIN(CHECK_CASE(test_model), CHECK_CASE(test_faults_nomem), CHECK_CASE(test_faults_leak), CHECK_CASE(test_faults_setflags), CHECK_CASE(test_clean_workloads), CHECK_CASE(test_crash_ref),
           CHECK_CASE(test_crash_toy), CHECK_CASE(test_crash_catches_naive),
           CHECK_CASE(test_crash_after_failed_flush_ref), CHECK_CASE(test_crash_after_failed_flush_toy), CHECK_CASE(test_faults_ref),
           CHECK_CASE(test_faults_toy), CHECK_CASE(test_faults_catch_sloppy), CHECK_CASE(test_isolation_survives),
           CHECK_CASE(test_trace_expectations), CHECK_CASE(test_flush2))
