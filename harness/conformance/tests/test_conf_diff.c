/*
 * harness/conformance/tests/test_conf_diff.c - differential runs (diff.h,
 * observe.h): the comparison rules record by record; toy against a lying
 * backend reports the call of the lie; a forgetful backend differs only in
 * quality; ref and toy, two correct implementations, show no contract
 * difference on a generated trace; a crashing backend is survived.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../ref/ref.h"
#include "../../../tests/check.h"
#include "../../tests/backends/tb.h"
#include "../../core/isolate.h"
#include "../diff.h"
#include "../gen.h"
#include "mini.h"

static vdc_trace *parse(const char *text)
{
    vdc_trace *t = NULL;
    char err[256];
    if (vdc_trace_parse(text, strlen(text), "t", &t, err, sizeof err) != VINF_SUCCESS)
        fprintf(stderr, "  parse: %s\n", err);
    return t;
}

static vdc_obs done(int rc)
{
    vdc_obs o;
    memset(&o, 0, sizeof o);
    o.end = VDC_OBS_DONE;
    o.rc = rc;
    return o;
}

static void test_rules(void)
{
    vdc_record read = { .op = VDC_OP_READ }, write = { .op = VDC_OP_WRITE }, probe = { .op = VDC_OP_PROBE },
               ver = { .op = VDC_OP_GET_VERSION }, flags = { .op = VDC_OP_GET_OPEN_FLAGS },
               gmod = { .op = VDC_OP_GET_MOD_UUID }, disc = { .op = VDC_OP_DISCARD };
    vdc_obs hit = done(VINF_SUCCESS), miss = done(VERR_VD_BLOCK_FREE), err = done(VERR_READ_ERROR);
    hit.hit = 4096;
    miss.miss = 4096;
    char why[256];
    CHECK(vdc_diff_compare(&read, &hit, &miss, why, sizeof why) == VDC_DIFF_QUALITY);
    CHECK(vdc_diff_compare(&read, &miss, &err, why, sizeof why) == VDC_DIFF_CONTRACT);
    vdc_obs liar = hit;
    liar.lie = 1;
    liar.lie_off = 0x2000;
    CHECK(vdc_diff_compare(&read, &liar, &miss, why, sizeof why) == VDC_DIFF_CONTRACT);
    CHECK(strstr(why, "A lied") != NULL && strstr(why, "0x2000") != NULL);
    CHECK(vdc_diff_compare(&read, &hit, &hit, why, sizeof why) == VDC_DIFF_SAME);

    vdc_obs ro = done(VERR_VD_IMAGE_READ_ONLY), acc = done(VERR_ACCESS_DENIED), ok = done(VINF_SUCCESS);
    CHECK(vdc_diff_compare(&write, &ro, &acc, why, sizeof why) == VDC_DIFF_CONTRACT);
    CHECK(vdc_diff_compare(&write, &ok, &ro, why, sizeof why) == VDC_DIFF_CONTRACT);
    vdc_obs short_write = ok;
    short_write.count = 512;
    CHECK(vdc_diff_compare(&write, &ok, &short_write, why, sizeof why) == VDC_DIFF_SAME);

    vdc_obs hdr = done(VERR_VD_GEN_INVALID_HEADER), nf = done(VERR_FILE_NOT_FOUND);
    CHECK(vdc_diff_compare(&probe, &hdr, &nf, why, sizeof why) == VDC_DIFF_CONTRACT);

    vdc_obs v1 = done(0), v2 = done(0);
    v1.count = 1;
    v2.count = 2;
    CHECK(vdc_diff_compare(&ver, &v1, &v2, why, sizeof why) == VDC_DIFF_SAME);
    CHECK(vdc_diff_compare(&flags, &v1, &v2, why, sizeof why) == VDC_DIFF_CONTRACT);

    vdc_obs u1 = done(VINF_SUCCESS), u2 = done(VINF_SUCCESS), ns = done(VERR_NOT_SUPPORTED);
    u1.digest = 1;
    u2.digest = 2;
    CHECK(vdc_diff_compare(&gmod, &u1, &u2, why, sizeof why) == VDC_DIFF_SAME); /* never set: own business */
    u1.known = u2.known = 1;
    CHECK(vdc_diff_compare(&gmod, &u1, &u2, why, sizeof why) == VDC_DIFF_CONTRACT);
    CHECK(vdc_diff_compare(&gmod, &u1, &ns, why, sizeof why) == VDC_DIFF_QUALITY);

    vdc_obs align = done(VERR_VD_DISCARD_ALIGNMENT_NOT_MET);
    CHECK(vdc_diff_compare(&disc, &ok, &align, why, sizeof why) == VDC_DIFF_QUALITY);
    CHECK(vdc_diff_compare(&disc, &ro, &align, why, sizeof why) == VDC_DIFF_CONTRACT);

    vdc_obs crash;
    memset(&crash, 0, sizeof crash);
    crash.end = VDC_OBS_CRASH;
    CHECK(vdc_diff_compare(&read, &hit, &crash, why, sizeof why) == VDC_DIFF_CONTRACT);
    CHECK(strstr(why, "B crashed") != NULL);
    vdc_obs misuse = hit;
    misuse.misuse = 2;
    CHECK(vdc_diff_compare(&read, &misuse, &hit, why, sizeof why) == VDC_DIFF_CONTRACT);
}

static const char stale[] = "vdcc-trace 1\n"
                            "create c0 file=a.vci size=1M -> OK\n"
                            "vdwrite c0 off=0 len=8K data=pattern:1 -> OK\n"
                            "vdread c0 off=0 len=8K -> hit|miss data=pattern:1\n"
                            "flush c0 -> OK\n"
                            "vdwrite c0 off=0 len=8K data=pattern:2 -> OK\n"
                            "vdread c0 off=0 len=8K -> hit|miss data=pattern:2\n"
                            "close c0 -> OK\n";

static void test_toy_vs_liar(void)
{
    vdc_trace *t = parse(stale);
    REQUIRE(t != NULL);
    vdc_diff_result r;
    REQUIRE(vdc_diff_run(t, &vdcc_toy_backend, &conf_lying_backend, 10000, &r) == VINF_SUCCESS);
    CHECK_EQ(r.contract_call, 6);
    CHECK(strstr(r.contract_why, "B lied") != NULL);
    CHECK(r.obs_b[5].lie && !r.obs_a[5].lie);
    CHECK_EQ(r.obs_b[5].lie_off, 0);
    char d[512];
    vdc_obs_describe(vdc_trace_record(t, 5), &r.obs_b[5], d, sizeof d);
    printf("# B at call 6: %s\n", d);
    CHECK(strstr(d, "LIED") != NULL);
    vdc_diff_free(&r);

    /* The other way round it is A that lies. */
    REQUIRE(vdc_diff_run(t, &conf_lying_backend, &conf_mini_backend, 10000, &r) == VINF_SUCCESS);
    CHECK_EQ(r.contract_call, 6);
    CHECK(strstr(r.contract_why, "A lied") != NULL);
    vdc_diff_free(&r);
    vdc_trace_free(t);
}

static void test_forgetting_is_quality(void)
{
    vdc_trace *t = parse(stale);
    REQUIRE(t != NULL);
    vdc_diff_result r;
    REQUIRE(vdc_diff_run(t, &conf_mini_backend, &conf_forget_backend, 10000, &r) == VINF_SUCCESS);
    CHECK_EQ(r.contract_call, 0);
    CHECK_EQ(r.compared, 7);
    CHECK(r.quality >= 2); /* both reads: hits against misses */
    CHECK_EQ(r.quality_calls[0], 3);
    vdc_diff_free(&r);
    vdc_trace_free(t);
}

static void test_ref_vs_toy_generated(void)
{
    vdc_gen_opts g = { .seed = 11, .ops = 1500 };
    vdc_trace *t = NULL;
    char err[256];
    REQUIRE(vdc_gen_random(&g, &t, err, sizeof err) == VINF_SUCCESS);
    vdc_diff_result r;
    REQUIRE(vdc_diff_run(t, &vdcc_ref_backend, &vdcc_toy_backend, 60000, &r) == VINF_SUCCESS);
    if (r.contract_call != 0)
        fprintf(stderr, "  call %u: %s\n  %s\n", r.contract_call, vdc_trace_record_text(t, r.contract_call - 1),
                r.contract_why);
    CHECK_EQ(r.contract_call, 0);
    CHECK_EQ(r.compared, vdc_trace_ncalls(t));
    printf("# ref vs toy on %u generated calls: %u quality differences\n", r.calls, r.quality);
    /* and the planted defect is found against either */
    vdc_diff_free(&r);
    g.capacity = UINT64_C(64) << 10;
    vdc_trace_free(t);
    REQUIRE(vdc_gen_random(&g, &t, err, sizeof err) == VINF_SUCCESS);
    REQUIRE(vdc_diff_run(t, &vdcc_ref_backend, &conf_planted_backend, 60000, &r) == VINF_SUCCESS);
    CHECK(r.contract_call != 0);
    CHECK(strstr(r.contract_why, "B lied") != NULL);
    vdc_diff_free(&r);
    vdc_trace_free(t);
}

/* A backend whose read crashes: its vtable is mini's with pfnRead replaced. */
static int crash_read(void *bd, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *pcb)
{
    (void)bd;
    (void)off;
    (void)cb;
    (void)ctx;
    (void)pcb;
    abort();
}

static void test_crash_survived(void)
{
    vdc_trace *t = parse(stale);
    REQUIRE(t != NULL);
    VDCACHEBACKEND crashing = conf_mini_backend;
    crashing.pfnRead = crash_read;
    vdc_diff_result r;
    REQUIRE(vdc_diff_run(t, &conf_mini_backend, &crashing, 10000, &r) == VINF_SUCCESS);
    CHECK(r.sb.crashed);
    CHECK_EQ(r.sb.calls_run, 2);
    CHECK_EQ(r.contract_call, 3);
    CHECK(strstr(r.contract_why, "B crashed") != NULL);
    vdc_diff_free(&r);
    vdc_trace_free(t);
}

/* A UUID getter's observation shows the UUID as traces write it, not a
 * digest. */
static void test_uuid_described(void)
{
    vdc_trace *t = parse("vdcc-trace 1\ncreate c0 file=c0.x size=1M -> OK\nget-uuid c0 -> any\n");
    REQUIRE(t != NULL);
    vdc_obs o = done(0);
    for (unsigned i = 0; i < 16; i++)
        o.uuid[i] = (uint8_t)(i * 0x11);
    char d[256];
    vdc_obs_describe(vdc_trace_record(t, 1), &o, d, sizeof d);
    CHECK(strstr(d, "00112233-4455-6677-8899-aabbccddeeff") != NULL);
    CHECK(strstr(d, "digest") == NULL);
    vdc_trace_free(t);
}

CHECK_MAIN(CHECK_CASE(test_rules), CHECK_CASE(test_toy_vs_liar), CHECK_CASE(test_forgetting_is_quality),
           CHECK_CASE(test_ref_vs_toy_generated), CHECK_CASE(test_crash_survived), CHECK_CASE(test_uuid_described))
