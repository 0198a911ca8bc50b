/*
 * harness/record/tests/test_record.c - the recording wrapper (harness/record/record.h):
 * what it writes for each kind of call, in the in-process form (script) and
 * the plugin form (no script, data from the model), and that a recording
 * replays, strictly, against the backend it was made from.
 */
#include <limits.h>
#include <stdlib.h>

#include "tests/check.h"
#include "harness/backend.h"
#include "harness/record/record.h"
#include "harness/scratch.h"
#include "harness/trace/replay.h"
#include "harness/tests/backends/tb.h"

static char so_dir[PATH_MAX];

/* Records script through a wrapper around real; returns the trace text
 * (caller frees) and the script's replay outcome. */
static char *record(const VDCACHEBACKEND *real, const char *script, bool plugin_form, vdc_outcome *outcome,
                    unsigned *notes)
{
    char err[512], dir[PATH_MAX];
    vdc_trace *t = NULL;
    char *text = NULL;
    size_t len = 0;
    if (vdc_trace_parse(script, strlen(script), "script", &t, err, sizeof err) < 0) {
        fprintf(stderr, "  %s\n", err);
        return NULL;
    }
    FILE *f = open_memstream(&text, &len);
    volatile uint32_t progress = 0;
    vdc_recorder_opts ro = { .out = f, .name = "rec", .script = plugin_form ? NULL : t, .progress = &progress };
    vdc_recorder *rec = NULL;
    const VDCACHEBACKEND *w = NULL;
    if (f == NULL || vdc_recorder_start(&ro, &rec) < 0 || vdc_recorder_wrap(rec, real, &w) < 0
        || vdc_scratch_make(NULL, "vdcc-test-record", dir, sizeof dir) < 0) {
        fprintf(stderr, "  cannot set up the recording\n");
        goto out;
    }
    vdc_replay_opts po = { .backend = w, .scratch_dir = dir, .progress = &progress };
    vdc_replay_result r;
    if (vdc_replay(t, &po, &r) == VINF_SUCCESS)
        *outcome = r.outcome;
    else
        *outcome = VDC_ERROR;
    vdc_scratch_remove(dir);
    CHECK_EQ(vdc_recorder_finish(rec), VINF_SUCCESS);
    if (notes != NULL)
        *notes = vdc_recorder_notes(rec);
out:
    vdc_recorder_free(rec);
    if (f != NULL)
        fclose(f);
    vdc_trace_free(t);
    return text;
}

/* Replays text against be; returns the outcome (VDC_ERROR if it does not parse). */
static vdc_outcome replay_text(const VDCACHEBACKEND *be, const char *text, bool strict, char *msg, size_t cb)
{
    char err[512], dir[PATH_MAX];
    vdc_trace *t = NULL;
    if (vdc_trace_parse(text, strlen(text), "recording", &t, err, sizeof err) < 0) {
        snprintf(msg, cb, "%s", err);
        return VDC_ERROR;
    }
    vdc_outcome o = VDC_ERROR;
    if (vdc_scratch_make(NULL, "vdcc-test-replay", dir, sizeof dir) == 0) {
        vdc_replay_opts po = { .backend = be, .scratch_dir = dir, .strict = strict };
        vdc_replay_result r;
        if (vdc_replay(t, &po, &r) == VINF_SUCCESS)
            o = r.outcome;
        snprintf(msg, cb, "%s", r.message);
        vdc_scratch_remove(dir);
    }
    vdc_trace_free(t);
    return o;
}

static const char script_basic[] =
    "vdcc-trace 1\n"
    "requires CREATE_DYNAMIC\n"
    "file junk.bin len=4K data=fill:9\n"
    "probe junk.bin -> VERR_VD_GEN_INVALID_HEADER\n"
    "create c0 file=c0.cache size=1M comment=\"hello\" -> OK clause=CREATE-1\n"
    "vdwrite c0 off=0 len=8K data=pattern:5 -> OK\n"
    "vdread c0 off=0 len=8K -> hit|miss data=pattern:5\n"
    "read c0 off=64K len=4K -> miss\n"
    "write c0 off=100 len=10 data=hex:00112233445566778899 -> OK\n"
    "set-mod-uuid c0 uuid=11111111-2222-3333-4444-555555555555 -> OK\n"
    "get-mod-uuid c0 -> OK uuid=11111111-2222-3333-4444-555555555555\n"
    "get-comment c0 -> OK comment=\"hello\"\n"
    "get-size c0 -> value=1M\n"
    "get-open-flags c0 -> value=NORMAL\n"
    "dump c0 -> printed=any\n"
    "flush c0 -> OK\n"
    "close c0 -> OK\n"
    "gone nothing.bin\n"
    "open c1 file=c0.cache flags=READONLY -> OK\n"
    "write c1 off=0 len=4K data=zero -> VERR_VD_IMAGE_READ_ONLY\n"
    "close c1 delete -> OK\n"
    "gone c0.cache\n";

static void test_script_form(void)
{
    vdc_outcome o;
    unsigned notes = 99;
    char *text = record(&vdcc_toy_backend, script_basic, false, &o, &notes);
    REQUIRE(text != NULL);
    CHECK_EQ(o, VDC_PASS);
    CHECK_EQ(notes, 0);
    /* Host-side records are copied in place; every call has its observation. */
    CHECK(strstr(text, "vdcc-trace 1\nname rec\n") == text);
    CHECK(strstr(text, "file junk.bin len=4K data=fill:9\nprobe junk.bin -> VERR_VD_GEN_INVALID_HEADER "
                       "seen=VERR_VD_GEN_INVALID_HEADER\n") != NULL);
    CHECK(strstr(text, "create h0 file=c0.cache size=1M image=NONE flags=NORMAL comment=\"hello\" uuid=") != NULL);
    CHECK(strstr(text, "clause=CREATE-1 -> OK seen=OK\n") != NULL);
    CHECK(strstr(text, "write h0 off=0 len=8K data=pattern:5 -> OK count=4K seen=OK:4K\n") != NULL);
    CHECK(strstr(text, "write h0 off=4K len=4K data=pattern:5 -> OK count=4K seen=OK:4K\n") != NULL);
    CHECK(strstr(text, "read h0 off=0 len=8K -> hit count=4K data=pattern:5@0+4K,any@4K+4K seen=OK:4K\n") != NULL);
    CHECK(strstr(text, "read h0 off=64K len=4K -> VERR_VD_BLOCK_FREE count=4K seen=VERR_VD_BLOCK_FREE:4K\n") != NULL);
    CHECK(strstr(text, "data=hex:00112233445566778899 -> OK count=10") != NULL);
    CHECK(strstr(text, "get-mod-uuid h0 -> OK uuid=11111111-2222-3333-4444-555555555555 seen=OK\n") != NULL);
    CHECK(strstr(text, "get-comment h0 buf=1K -> OK comment=\"hello\" seen=OK\n") != NULL);
    CHECK(strstr(text, "get-size h0 -> value=1M\n") != NULL);
    CHECK(strstr(text, "dump h0 -> printed=any\n") != NULL);
    CHECK(strstr(text, "close h0 -> OK seen=OK\ngone nothing.bin\nopen h0 file=c0.cache flags=READONLY") != NULL);
    CHECK(strstr(text, "-> VERR_VD_IMAGE_READ_ONLY seen=VERR_VD_IMAGE_READ_ONLY\n") != NULL);
    CHECK(strstr(text, "close h0 delete -> OK seen=OK\ngone c0.cache\n") != NULL);
    char msg[2048];
    CHECK_EQ(replay_text(&vdcc_toy_backend, text, false, msg, sizeof msg), VDC_PASS);
    CHECK_EQ(replay_text(&vdcc_toy_backend, text, true, msg, sizeof msg), VDC_PASS);
    free(text);
}

static void test_plugin_form(void)
{
    /* No script: write data is kept as zero/fill/hex when small, as a fresh
     * pattern when not, and hits are described by what was written. */
    static const char script[] = "vdcc-trace 1\n"
                                 "file junk.bin len=100 data=fill:3\n"
                                 "probe junk.bin -> VERR_VD_GEN_INVALID_HEADER\n"
                                 "create c0 file=c0.cache size=1M -> OK\n"
                                 "vdwrite c0 off=0 len=4K data=zero@0+2K,fill:7@2K+2K -> OK\n"
                                 "vdwrite c0 off=4K len=8K data=pattern:9 -> OK\n"
                                 "vdread c0 off=0 len=12K -> hit|miss data=zero@0+2K,fill:7@2K+2K,pattern:9@4K+8K\n"
                                 "close c0 -> OK\n";
    vdc_outcome o;
    char *text = record(&vdcc_toy_backend, script, true, &o, NULL);
    REQUIRE(text != NULL);
    CHECK_EQ(o, VDC_PASS);
    CHECK(strstr(text, "file junk.bin len=100 data=fill:3\nprobe junk.bin") != NULL);
    CHECK(strstr(text, "write h0 off=0 len=4K data=zero@0+2K,fill:7@2K+2K -> OK") != NULL);
    CHECK(strstr(text, "write h0 off=4K len=8K data=pattern:") != NULL);
    CHECK(strstr(text, "data=pattern:9") == NULL); /* the recorder could not know the seed */
    CHECK(strstr(text, "read h0 off=0 len=12K -> hit count=4K data=zero@0+2K,fill:7@2K+2K,any@4K+8K") != NULL);
    char msg[2048];
    CHECK_EQ(replay_text(&vdcc_toy_backend, text, true, msg, sizeof msg), VDC_PASS);
    free(text);
}

static void test_lie_is_kept(void)
{
    vdc_backend b;
    char err[512], path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/tb_wrongdata.so", so_dir);
    REQUIRE(vdc_backend_load(path, NULL, &b, err, sizeof err) == VINF_SUCCESS);
    static const char script[] = "vdcc-trace 1\n"
                                 "create c0 file=c0.cache size=1M -> OK\n"
                                 "vdwrite c0 off=0 len=16K data=pattern:5 -> OK\n"
                                 "vdread c0 off=0 len=16K -> hit|miss data=pattern:5\n"
                                 "close c0 -> OK\n";
    vdc_outcome o;
    unsigned notes = 0;
    char *text = record(b.be, script, false, &o, &notes);
    REQUIRE(text != NULL);
    CHECK_EQ(o, VDC_FAIL); /* the script caught the lie... */
    CHECK_EQ(notes, 1);    /* ...and the recording says what it kept */
    CHECK(strstr(text, "# read off=4096 len=12288: the backend served bytes that differ") != NULL);
    char msg[2048];
    /* The recording reproduces the failure on the liar and passes on a correct backend. */
    CHECK_EQ(replay_text(b.be, text, false, msg, sizeof msg), VDC_FAIL);
    CHECK(strstr(msg, "data differs") != NULL);
    CHECK_EQ(replay_text(&vdcc_toy_backend, text, true, msg, sizeof msg), VDC_PASS);
    free(text);
    vdc_backend_unload(&b);
}

static void test_wrap_limit(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    REQUIRE(f != NULL);
    vdc_recorder_opts ro = { .out = f };
    vdc_recorder *rec = NULL;
    REQUIRE(vdc_recorder_start(&ro, &rec) == VINF_SUCCESS);
    const VDCACHEBACKEND *w[VDC_RECORD_MAX_WRAP + 1];
    for (unsigned i = 0; i < VDC_RECORD_MAX_WRAP; i++)
        CHECK_EQ(vdc_recorder_wrap(rec, &vdcc_toy_backend, &w[i]), VINF_SUCCESS);
    CHECK_EQ(vdc_recorder_wrap(rec, &vdcc_toy_backend, &w[VDC_RECORD_MAX_WRAP]), VERR_TOO_MUCH_DATA);
    CHECK(w[0] != w[1] && w[0]->pfnOpen != w[1]->pfnOpen); /* own entry points per wrap */
    CHECK(strcmp(w[0]->pszBackendName, "toy") == 0 && w[0]->uBackendCaps == vdcc_toy_backend.uBackendCaps);
    CHECK(w[0]->pfnDiscard == NULL); /* NULL stays NULL */
    vdc_recorder_free(rec);
    /* Freed wraps are reusable. */
    REQUIRE(vdc_recorder_start(&ro, &rec) == VINF_SUCCESS);
    CHECK_EQ(vdc_recorder_wrap(rec, &vdcc_toy_backend, &w[0]), VINF_SUCCESS);
    vdc_recorder_free(rec);
    fclose(f);
    free(text);
    CHECK_EQ(vdc_recorder_start(NULL, &rec), VERR_INVALID_PARAMETER);
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
    static const check_case cases[] = {
        CHECK_CASE(test_script_form), CHECK_CASE(test_plugin_form), CHECK_CASE(test_lie_is_kept),
        CHECK_CASE(test_wrap_limit),
    };
    return check_run(cases, sizeof cases / sizeof cases[0], argc, argv);
}
