/*
 * harness/reliability/tests/test_rel_sweep.c - the crash test and the fault
 * sweep end to end: zero violations on the reference backend and on toy
 * over short seeded workloads, and the planted defects of naive.h caught
 * (a crash-unsafe index, a read error served as data, a backend that
 * aborts: survived and counted when isolated).
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

static void faults_one(const VDCACHEBACKEND *be, bool deep, uint64_t seed, unsigned ops, uint64_t stride,
                       FILE *log, vdc_faults_result *r)
{
    vdc_workload *w = gen(seed, ops, 32768);
    vdc_faults_opts o = { .be = be, .w = w, .kind = be == &rel_sloppy_backend ? VDC_FAULT_READ : VDC_FAULT_ANY,
                          .stride = stride,
                          .deep_check = deep && vdc_rel_have_vci_check() ? vdc_rel_vci_check : NULL,
                          .log = log, .max_logged = 3 };
    memset(r, 0, sizeof *r);
    if (w == NULL || vdc_faults_run(&o, r) != VINF_SUCCESS)
        r->violations = UINT64_MAX;
    vdc_workload_free(w);
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

CHECK_MAIN(CHECK_CASE(test_model), CHECK_CASE(test_clean_workloads), CHECK_CASE(test_crash_ref),
           CHECK_CASE(test_crash_toy), CHECK_CASE(test_crash_catches_naive),
           CHECK_CASE(test_crash_after_failed_flush_ref), CHECK_CASE(test_crash_after_failed_flush_toy), CHECK_CASE(test_faults_ref),
           CHECK_CASE(test_faults_toy), CHECK_CASE(test_faults_catch_sloppy), CHECK_CASE(test_isolation_survives))
