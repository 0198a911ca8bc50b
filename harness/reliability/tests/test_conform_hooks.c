/*
 * harness/reliability/tests/test_conform_hooks.c - what `vdcc conform` adds
 * to its traces (conform_hooks.h, sweep.h), called directly: the clause
 * picked from a violation, the bounds and the rerun options, the after
 * hook on correct and broken backends (it must pass ref and toy, and fail
 * the naive index on CRASH-1 and the sloppy read on the fault sweep), the
 * crash sweep's FLUSH-2 warnings on a pass (the lazy index of naive.h), a
 * trace it cannot sweep (a note, not a failure), the deep check of a VCI
 * backend's images (VCI-1), the VCI rule, and the
 * hostile task on ref and on ref with a lax probe.
 */
#include <string.h>

#include "../../../tests/check.h"
#include "../../../ref/ref.h"
#include "../../host/status.h"
#include "../../tests/backends/tb.h"
#include "../../trace/trace.h"
#include "../conform_hooks.h"
#include "../faults.h"
#include "../sweep.h"
#include "naive.h"

static void test_clause(void)
{
    char c[24];
    vdc_sweep_clause("state 3: point 4: read-only open: READ-1/CRASH-1: read(0, 8) hit", "CRASH-1", c, sizeof c);
    CHECK(strcmp(c, "CRASH-1") == 0);
    vdc_sweep_clause("state 3: read-only open: READ-1/CRASH-1: read(0, 8) hit", NULL, c, sizeof c);
    CHECK(strcmp(c, "READ-1") == 0);
    vdc_sweep_clause("state 9: HOST-3: 1 storage handle(s) open", "CRASH-1", c, sizeof c);
    CHECK(strcmp(c, "HOST-3") == 0);
    vdc_sweep_clause("op 3: read returned -2 (VERR_INVALID_PARAMETER)", NULL, c, sizeof c);
    CHECK(strcmp(c, "") == 0);
    vdc_sweep_clause("XREAD-1x READ-12: y", NULL, c, sizeof c);
    CHECK(strcmp(c, "READ-12") == 0);
    vdc_sweep_clause("A-1 B2-3 OPEN-2", NULL, c, sizeof c);
    CHECK(strcmp(c, "OPEN-2") == 0);
}

static void test_bounds(void)
{
    vdc_sweep_bounds b;
    char a[256];
    vdc_sweep_bounds_for(10, 1 << 20, &b);
    CHECK(b.crash_points == 10 && b.crash_states == 8 && b.fault_points == 4 && b.fault_modes == VDC_FMODE_ALL
          && b.alloc_points == 32);
    vdc_sweep_crash_args(&b, a, sizeof a);
    CHECK(strcmp(a, "--max-points 10 --max-states-per-point 8 --allow-open-failure --no-deep-check") == 0);
    vdc_sweep_fault_args(&b, a, sizeof a);
    CHECK(strcmp(a, "--max-points 4 --max-alloc-points 32 --no-deep-check") == 0);
    vdc_sweep_bounds_for(301, 0, &b);
    CHECK(b.crash_points == 6 && b.crash_states == 6 && b.fault_points == 2 && b.alloc_points == 8);
    vdc_sweep_fault_args(&b, a, sizeof a);
    CHECK(strcmp(a, "--max-points 2 --max-alloc-points 8 --modes io,full-stuck,nomem,nomem-stuck --no-deep-check") == 0);
    vdc_sweep_bounds_for(1001, 0, &b);
    CHECK(b.crash_points == 4 && b.crash_states == 6 && b.fault_points == 1 && b.alloc_points == 4);
    vdc_sweep_bounds_for(50, (uint64_t)200 << 20, &b);
    CHECK(b.crash_points == 4 && b.fault_points == 1);
}

static const char small_trace[] =
    "vdcc-trace 1\n"
    "create c0 file=c0.cache size=256K -> OK\n"
    "vdwrite c0 off=0 len=16K data=pattern:1 -> OK\n"
    "flush c0 -> OK\n"
    "vdwrite c0 off=8K len=16K data=pattern:2 -> OK\n"
    "vdread c0 off=0 len=32K -> hit|miss\n"
    "close c0 -> OK\n";

static void after(const VDCACHEBACKEND *be, bool crash, bool faults, const char *text, vdc_run_out *out)
{
    vdc_trace *t = NULL;
    char err[256];
    memset(out, 0, sizeof *out);
    out->verdict = VDC_V_PASS;
    if (RT_FAILURE(vdc_trace_parse(text, strlen(text), "t.trace", &t, err, sizeof err))) {
        fprintf(stderr, "  parse: %s\n", err);
        out->verdict = VDC_V_ERROR;
        return;
    }
    vdc_conform_sweeps w = { crash, faults };
    vdc_conform_after(&w, t, be, out);
    vdc_trace_free(t);
}

static void test_after_passes_correct_backends(void)
{
    vdc_run_out out;
    after(&vdcc_ref_backend, true, true, small_trace, &out);
    CHECK_EQ(out.verdict, VDC_V_PASS);
    CHECK(out.count[VDC_CC_CRASH_STATES] > 0 && out.count[VDC_CC_FAULT_POINTS] > 0);
    CHECK_EQ(out.count[VDC_CC_SKIPPED], 0);
    CHECK(out.note[0] == '\0' && out.rerun[0] == '\0');
    after(&vdcc_toy_backend, true, true, small_trace, &out);
    CHECK_EQ(out.verdict, VDC_V_PASS);
    CHECK(out.count[VDC_CC_CRASH_STATES] > 0);
}

static void test_after_fails_broken_backends(void)
{
    vdc_run_out out;
    after(&rel_naive_backend, true, true, small_trace, &out);
    CHECK_EQ(out.verdict, VDC_V_FAIL);
    CHECK(strcmp(out.phase, "crash sweep") == 0);
    CHECK(strcmp(out.clause, "CRASH-1") == 0);
    CHECK(strncmp(out.message, "crash sweep: ", 13) == 0 && strstr(out.message, "violation(s)") != NULL);
    CHECK(strncmp(out.rerun, "crashtest --max-points 10 --max-states-per-point 8 ", 51) == 0);
    after(&rel_sloppy_backend, false, true, small_trace, &out);
    CHECK_EQ(out.verdict, VDC_V_FAIL);
    CHECK(strcmp(out.phase, "fault sweep") == 0);
    CHECK(strcmp(out.clause, "READ-1") == 0);
    CHECK(strcmp(out.rerun, "faults --max-points 4 --max-alloc-points 32 --no-deep-check") == 0);
    CHECK_EQ(out.count[VDC_CC_CRASH_STATES], 0);
}

/* "scribble": ref, except that each successful close of a read-write
 * instance that keeps the file then marks the image's last block
 * allocated in the bitmap when it is free.  ref opens and serves such an image (the bitmap is checked only
 * deeply), but spec/vci-format.md section 4 forbids a set bit that nothing
 * uses: only the deep check of VCI-1 finds it.  Test code: the table of
 * open instances is global. */
static struct {
    void             *bd;
    PVDINTERFACEIOINT io;
    char              name[128];
} g_scrib[4];

static void scrib_note(void *bd, const char *name, unsigned flags, PVDINTERFACE image)
{
    if (flags & VD_OPEN_FLAGS_READONLY)
        return; /* OPEN-3 */
    for (unsigned i = 0; i < 4; i++)
        if (g_scrib[i].bd == NULL) {
            g_scrib[i].bd = bd;
            g_scrib[i].io = vdc_if_ioint(image);
            snprintf(g_scrib[i].name, sizeof g_scrib[i].name, "%s", name);
            return;
        }
}

static int scrib_open(const char *name, unsigned flags, PVDINTERFACE disk, PVDINTERFACE image, void **ppbd)
{
    int rc = vdcc_ref_backend.pfnOpen(name, flags, disk, image, ppbd);
    if (RT_SUCCESS(rc))
        scrib_note(*ppbd, name, flags, image);
    return rc;
}

static int scrib_create(const char *name, uint64_t cb, unsigned iflags, const char *comment, PCRTUUID uuid,
                        unsigned flags, unsigned start, unsigned span, PVDINTERFACE disk, PVDINTERFACE image,
                        PVDINTERFACE op, void **ppbd)
{
    int rc = vdcc_ref_backend.pfnCreate(name, cb, iflags, comment, uuid, flags, start, span, disk, image, op, ppbd);
    if (RT_SUCCESS(rc))
        scrib_note(*ppbd, name, flags, image);
    return rc;
}

static uint64_t le64_at(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Sets the bitmap bit of the image's last block (header: cBlocks at 8,
 * block map address at 29; the bitmap follows the block-map header). */
static void scribble(PVDINTERFACEIOINT io, const char *name)
{
    PVDIOSTORAGE st = NULL;
    uint8_t hdr[64], byte = 0;
    if (RT_FAILURE(io->pfnOpen(io->Core.pvUser, name, RTFILE_O_OPEN | RTFILE_O_READWRITE | RTFILE_O_DENY_NONE, &st)))
        return;
    if (RT_SUCCESS(io->pfnReadMeta(io->Core.pvUser, st, 0, hdr, sizeof hdr, NULL, NULL, NULL, NULL))) {
        uint64_t last = le64_at(hdr + 8) - 1, off = (le64_at(hdr + 29) + 1) * 512 + last / 8;
        if (RT_SUCCESS(io->pfnReadMeta(io->Core.pvUser, st, off, &byte, 1, NULL, NULL, NULL, NULL))
            && !(byte & (1u << (last % 8)))) {
            byte |= (uint8_t)(1u << (last % 8));
            (void)io->pfnWriteMeta(io->Core.pvUser, st, off, &byte, 1, NULL, NULL, NULL);
        }
    }
    io->pfnClose(io->Core.pvUser, st);
}

static int scrib_close(void *bd, bool del)
{
    for (unsigned i = 0; i < 4; i++)
        if (g_scrib[i].bd == bd) {
            int rc = vdcc_ref_backend.pfnClose(bd, del);
            if (RT_SUCCESS(rc) && !del)
                scribble(g_scrib[i].io, g_scrib[i].name);
            g_scrib[i].bd = NULL;
            return rc;
        }
    return vdcc_ref_backend.pfnClose(bd, del);
}

/* A VCI backend whose images break the format: only the deep check sees
 * it, and it fails the fault sweep on VCI-1 with a rerun that keeps the
 * deep check on; the same corruption under another name passes. */
static void test_after_deep_check(void)
{
    VDCACHEBACKEND be = vdcc_ref_backend;
    be.pfnOpen = scrib_open;
    be.pfnCreate = scrib_create;
    be.pfnClose = scrib_close;
    vdc_run_out out;
    after(&be, false, true, small_trace, &out);
    CHECK_EQ(out.verdict, VDC_V_FAIL);
    CHECK(strcmp(out.phase, "fault sweep") == 0);
    CHECK(strcmp(out.clause, "VCI-1") == 0);
    CHECK(strstr(out.message, "the workload without faults: VCI-1: op ") != NULL);
    CHECK(strstr(out.message, "after a successful close the image fails the deep check: block 511 ") != NULL);
    CHECK(strcmp(out.rerun, "faults --max-points 4 --max-alloc-points 32") == 0);
    after(&be, true, false, small_trace, &out);
    CHECK_EQ(out.verdict, VDC_V_FAIL);
    CHECK(strcmp(out.clause, "VCI-1") == 0);
    CHECK(strcmp(out.rerun, "crashtest --max-points 10 --max-states-per-point 8 --allow-open-failure") == 0);
    be.pszBackendName = "VCIX";
    after(&be, true, true, small_trace, &out);
    CHECK_EQ(out.verdict, VDC_V_PASS);
    for (unsigned i = 0; i < 4; i++)
        CHECK(g_scrib[i].bd == NULL);
}

/* A backend that accepts set-mod-uuid and then says it is not open: the
 * fault sweep reads the UUID back after every set (UUID-1). */
static int deaf_get_mod(void *bd, PRTUUID u)
{
    (void)bd, (void)u;
    return VERR_VD_NOT_OPENED;
}

static void test_after_uuid_read_back(void)
{
    static const char trace[] = "vdcc-trace 1\n"
                                "create c0 file=c0.cache size=256K -> OK\n"
                                "set-mod-uuid c0 uuid=6d6f6469-6669-4564-8175-756964000001 -> OK\n"
                                "close c0 -> OK\n";
    VDCACHEBACKEND be = vdcc_ref_backend;
    vdc_run_out out;
    after(&be, false, true, trace, &out);
    CHECK_EQ(out.verdict, VDC_V_PASS);
    be.pfnGetModificationUuid = deaf_get_mod;
    after(&be, false, true, trace, &out);
    CHECK_EQ(out.verdict, VDC_V_FAIL);
    CHECK(strcmp(out.clause, "UUID-1") == 0);
    CHECK(strstr(out.message, "set-mod-uuid succeeded, then get-mod-uuid returned -3203 (VERR_VD_NOT_OPENED)") != NULL);
}

static void test_after_cannot_sweep(void)
{
    vdc_run_out out;
    after(&vdcc_ref_backend, true, true,
          "vdcc-trace 1\nfile f.bin len=4K data=pattern:6\nprobe f.bin -> VERR_VD_GEN_INVALID_HEADER\n", &out);
    CHECK_EQ(out.verdict, VDC_V_PASS);
    CHECK_EQ(out.count[VDC_CC_SKIPPED], 1);
    CHECK(strncmp(out.note, "no sweeps: ", 11) == 0);
    after(&vdcc_ref_backend, false, false, small_trace, &out);
    CHECK_EQ(out.verdict, VDC_V_PASS);
    CHECK_EQ(out.count[VDC_CC_CRASH_STATES] + out.count[VDC_CC_FAULT_POINTS], 0);
}

/* FLUSH-2: the crash sweep's quality warnings (sweep.h) on a pass. */
static const char flush_trace[] =
    "vdcc-trace 1\n"
    "create c0 file=c0.cache size=1M -> OK\n"
    "vdwrite c0 off=0 len=4K data=pattern:1 -> OK\n"
    "flush c0 -> OK\n"
    "vdwrite c0 off=64K len=4K data=pattern:2 -> OK\n"
    "flush c0 -> OK\n"
    "close c0 -> OK\n";

static void test_after_flush2_warnings(void)
{
    vdc_run_out out;
    after(&rel_lazy_backend, true, false, flush_trace, &out);
    CHECK_EQ(out.verdict, VDC_V_PASS);
    CHECK_EQ(out.warnings, 2);
    CHECK(strncmp(out.message, "warning: crash sweep: 2 of 2 flush point(s) lose data", 53) == 0);
    CHECK(strstr(out.message, "first: FLUSH-2: state ") != NULL);
    CHECK(strstr(out.message, "(vdcc crashtest --max-points 10 --max-states-per-point 8 ") != NULL);
    CHECK(out.rerun[0] == '\0');
    const VDCACHEBACKEND *keep[] = { &vdcc_ref_backend, &vdcc_toy_backend };
    for (unsigned i = 0; i < 2; i++) {
        after(keep[i], true, false, flush_trace, &out);
        CHECK_EQ(out.verdict, VDC_V_PASS);
        CHECK_EQ(out.warnings, 0);
        CHECK(out.message[0] == '\0');
        if (out.message[0] != '\0')
            fprintf(stderr, "  %s: %s\n", keep[i]->pszBackendName, out.message);
    }
}

static void test_is_vci(void)
{
    VDCACHEBACKEND b = vdcc_ref_backend;
    CHECK(vdc_conform_is_vci(&vdcc_ref_backend));
    CHECK(!vdc_conform_is_vci(&vdcc_toy_backend));
    b.pszBackendName = "VCI";
    CHECK(vdc_conform_is_vci(&b));
    b.pszBackendName = "vci2";
    CHECK(!vdc_conform_is_vci(&b));
    b.pszBackendName = NULL;
    CHECK(!vdc_conform_is_vci(&b));
}

/* ref's probe, minus everything but the signature (tests/vci_lax.c). */
static int lax_probe(const char *name, PVDINTERFACE disk, PVDINTERFACE image)
{
    (void)name, (void)disk, (void)image;
    return VINF_SUCCESS;
}

static bool only_31_and_1(void *user, unsigned number)
{
    (void)user;
    return number == 1 || number == 31;
}

static void test_hostile_task(void)
{
    vdc_hostile_set all, two;
    vdc_run_out out;
    REQUIRE(vdc_hostile_set_load(&all, NULL, NULL) == VINF_SUCCESS);
    CHECK(all.n >= 250 && all.n == all.total);
    vdc_hostile_set_free(&all);
    REQUIRE(vdc_hostile_set_load(&two, only_31_and_1, NULL) == VINF_SUCCESS);
    REQUIRE(two.n == 2);
    CHECK(two.total >= 250);
    CHECK_EQ(two.v[1].number, 31);
    for (unsigned k = 0; k < 2; k++) {
        memset(&out, 0, sizeof out);
        out.verdict = VDC_V_PASS;
        vdc_conform_hostile(&two, k, &vdcc_ref_backend, &out);
        CHECK_EQ(out.verdict, VDC_V_PASS);
        CHECK(out.heartbeat > 0);
    }
    VDCACHEBACKEND lax = vdcc_ref_backend;
    lax.pfnProbe = lax_probe;
    memset(&out, 0, sizeof out);
    out.verdict = VDC_V_PASS;
    vdc_conform_hostile(&two, 0, &lax, &out); /* valid: probe ok is right */
    CHECK_EQ(out.verdict, VDC_V_PASS);
    vdc_conform_hostile(&two, 1, &lax, &out);
    CHECK_EQ(out.verdict, VDC_V_FAIL);
    CHECK(strcmp(out.clause, "PROBE-1") == 0);
    CHECK(strstr(out.message, "corpus/hostile/031-version-0.vci") != NULL);
    memset(&out, 0, sizeof out);
    vdc_conform_hostile(&two, 2, &vdcc_ref_backend, &out);
    CHECK_EQ(out.verdict, VDC_V_ERROR);
    vdc_hostile_set_free(&two);
}

CHECK_MAIN(CHECK_CASE(test_clause), CHECK_CASE(test_bounds), CHECK_CASE(test_after_passes_correct_backends),
           CHECK_CASE(test_after_fails_broken_backends), CHECK_CASE(test_after_deep_check),
           CHECK_CASE(test_after_uuid_read_back),
           CHECK_CASE(test_after_cannot_sweep),
           CHECK_CASE(test_after_flush2_warnings), CHECK_CASE(test_is_vci),
           CHECK_CASE(test_hostile_task))
