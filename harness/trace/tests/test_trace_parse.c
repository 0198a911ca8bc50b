/*
 * harness/trace/tests/test_trace_parse.c - the trace parser, writer and
 * generators (spec/trace-format.md sections 2-5, 8, 9, 11).
 *
 * Good traces parse with the values the spec gives; malformed ones are
 * rejected with "name:line: message" naming the right line and problem;
 * 10,000 random and mutated inputs never crash (run under ASan and MSan)
 * and whatever parses survives the writer round trip: parse(write(t)) ==
 * t, and writing again gives identical text.
 */
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "../../../tests/check.h"
#include "../trace.h"
#include "../trace_write.h"

static const char example[] =
    "vdcc-trace 1                         # format version\n"
    "name example-annotated\n"
    "requires CREATE_DYNAMIC UUID\n"
    "clauses PROBE-1 READ-1\n"
    "\n"
    "# a foreign file\n"
    "file junk.bin len=4K data=pattern:3\n"
    "probe junk.bin -> VERR_VD_GEN_INVALID_HEADER clause=PROBE-1\n"
    "create c0 file=c0.vci size=1G image=NONE flags=NORMAL comment=\"test\" uuid=$u -> OK clause=CREATE-1\n"
    "get-uuid c0 -> OK uuid=$u\n"
    "get-comment c0 buf=64 -> OK comment=\"test\"\n"
    "write c0 off=1M len=64K data=pattern:1@1M+32K,pattern:2@1056K+32K -> OK count=64K\n"
    "read c0 off=1M len=4K -> hit|miss data=pattern:1 should=hit clause=READ-1\n"
    "vdread c0 off=1M len=64K -> hit|miss data=pattern:1@1M+32K,pattern:2@1056K+32K\n"
    "read c0 off=0 len=4K -> miss>=512\n"
    "flush c0 -> OK\n"
    "get-size c0 -> value=1G\n"
    "dump c0 -> printed=yes\n"
    "close c0 -> OK\n"
    "open c0 flags=READONLY -> OK\n"
    "vdread c0 off=1M len=32K -> hit|miss data=pattern:1 should=hit\n"
    "close c0 delete -> OK\n"
    "gone c0.vci\n";

/* Every record kind and most value forms. */
static const char everything[] =
    "vdcc-trace 1\r\n"
    "name \"a name with spaces\"\n"
    "format Some_backend-2.x\n"
    "requires DISCARD 0x1000\n"
    "config Path value=\"/x y\\\\z\\x7f\"\n"
    "file f.bin len=0\n"
    "file g.bin len=16 data=hex:000102030405060708090a0b0c0d0e0f\n"
    "exists g.bin -> value>=16\n"
    "probe g.bin -> VERR_VD_GEN_INVALID_HEADER|failure\n"
    "create h1 file=h1.img size=0x100000 image=FIXED|0x4000 flags=READONLY|0x8000 comment=null uuid=01234567-89ab-cdef-0123-456789ABCDEF start=10 span=50\n"
    "get-version h1 -> value=1\n"
    "get-file-size h1 -> value<=2M\n"
    "get-image-flags h1 -> value=FIXED\n"
    "get-open-flags h1 -> value=NORMAL\n"
    "set-open-flags h1 flags=INFO|SHAREABLE -> OK|VERR_NOT_SUPPORTED should=OK seen=OK\n"
    "set-comment h1 comment=\"q\\\"uote\"\n"
    "get-comment h1 buf=3 -> VERR_BUFFER_OVERFLOW\n"
    "set-uuid h1 uuid=nil\n"
    "set-mod-uuid h1 uuid=null -> any\n"
    "get-mod-uuid h1 -> success uuid=any\n"
    "write h1 off=0 len=4096 data=zero -> OK count>=512 seen=OK:4096\n"
    "write h1 off=4096 len=8 data=fill:255 -> OK count=8\n"
    "vdwrite h1 off=8K len=12K data=p:5@8K+4K,zero@12K+4K,fill:0x7@16K+4K\n"
    "read h1 off=0 len=4K -> OK|VERR_VD_BLOCK_FREE data=zero count<=4K seen=VERR_VD_BLOCK_FREE:4096\n"
    "vdread h1 off=8K len=12K fill -> hit data=p:5@8K+4K,zero@12K+4K,fill:7@16K+4K\n"
    "vdread h1 off=8K len=12K -> miss|hit data=any@8K+4K,zero@12K+8K\n"
    "discard h1 off=0 len=1G flags=MARK_UNUSED -> OK|VERR_VD_DISCARD_ALIGNMENT_NOT_MET pre=0 post<=4K discarded>=1\n"
    "flush h1 -> -3207|VERR_EOF|VINF_EOF\n"
    "dump h1 -> printed=any\n"
    "compose-location -> OK string=null\n"
    "compose-name -> OK string=\"n\"\n"
    "close h1 delete clause=CLOSE-1,CLOSE-2b -> OK\n"
    "gone h1.img\n"
    "open h2 file=f.bin -> failure\n"
    "open h2 file=f.bin -> VERR_VD_GEN_INVALID_HEADER|OK\n"
    "close h2\n"
    "interfaces nomessage\n";

static vdc_trace *parse_ok(const char *text, const char *name)
{
    char err[512];
    vdc_trace *t = NULL;
    int rc = vdc_trace_parse(text, strlen(text), name, &t, err, sizeof err);
    if (rc != VINF_SUCCESS)
        fprintf(stderr, "  parse failed (%d): %s\n", rc, err);
    return t;
}

/* write(t) -> parse -> equal, and writing that again gives the same text. */
static bool roundtrip(const vdc_trace *t, bool verbose)
{
    vdc_trace_writer *w1 = vdc_tw_new(), *w2 = vdc_tw_new();
    vdc_trace *t2 = NULL;
    char err[512];
    bool ok = false;
    size_t n1, n2;

    if (w1 == NULL || w2 == NULL)
        goto out;
    if (vdc_tw_trace(w1, t) != VINF_SUCCESS) {
        if (verbose)
            fprintf(stderr, "  write failed: %d\n", vdc_tw_status(w1));
        goto out;
    }
    const char *s1 = vdc_tw_text(w1, &n1);
    if (vdc_trace_parse(s1, n1, "rt", &t2, err, sizeof err) != VINF_SUCCESS) {
        if (verbose)
            fprintf(stderr, "  reparse failed: %s\n--- text ---\n%s\n", err, s1);
        goto out;
    }
    if (!vdc_trace_equal(t, t2)) {
        if (verbose)
            fprintf(stderr, "  reparsed trace differs\n--- text ---\n%s\n", s1);
        goto out;
    }
    if (vdc_tw_trace(w2, t2) != VINF_SUCCESS)
        goto out;
    const char *s2 = vdc_tw_text(w2, &n2);
    ok = n1 == n2 && memcmp(s1, s2, n1) == 0;
    if (!ok && verbose)
        fprintf(stderr, "  second write differs\n--- 1 ---\n%s--- 2 ---\n%s", s1, s2);
out:
    vdc_trace_free(t2);
    vdc_tw_free(w1);
    vdc_tw_free(w2);
    return ok;
}

static void test_example_parses(void)
{
    vdc_trace *t = parse_ok(example, "ex.trace");
    REQUIRE(t != NULL);
    CHECK(strcmp(vdc_trace_name(t), "example-annotated") == 0);
    CHECK(vdc_trace_format(t) == NULL);
    CHECK_EQ(vdc_trace_ncalls(t), 17);
    CHECK_EQ(vdc_trace_required_caps(t), VD_CAP_CREATE_DYNAMIC | VD_CAP_UUID);
    CHECK_EQ(vdc_trace_nclauses(t), 3);
    CHECK(strcmp(vdc_trace_clause(t, 0), "PROBE-1") == 0);
    CHECK(strcmp(vdc_trace_clause(t, 2), "CREATE-1") == 0);
    CHECK_EQ(vdc_trace_record_line(t, 0), 7);
    CHECK(strcmp(vdc_trace_record_text(t, 0), "file junk.bin len=4K data=pattern:3") == 0);
    CHECK(strcmp(vdc_trace_record_text(t, 99), "") == 0);

    const vdc_record *r = vdc_trace_record(t, 2); /* create */
    REQUIRE(r != NULL && r->op == VDC_OP_CREATE);
    CHECK_EQ(r->size, UINT64_C(1) << 30);
    CHECK_EQ(r->pct_start, 0);
    CHECK_EQ(r->pct_span, 99);
    CHECK(r->uuid.kind == VDC_UUID_VAR && strcmp(r->uuid.var, "u") == 0);
    CHECK(r->str.given && !r->str.null && strcmp(r->str.s, "test") == 0);

    r = vdc_trace_record(t, 5); /* write with two segments */
    REQUIRE(r != NULL && r->op == VDC_OP_WRITE);
    REQUIRE(r->data.nsegs == 2);
    CHECK_EQ(r->data.segs[1].start, 1056 * 1024);
    CHECK_EQ(r->data.segs[1].seed, 2);
    CHECK(r->count.cmp == VDC_CMP_EQ && r->count.v == 65536);

    r = vdc_trace_record(t, 6); /* read: hit|miss, should=hit */
    REQUIRE(r != NULL && r->expect.n == 2 && r->should.n == 1);
    CHECK(r->expect.v[0].kind == VDC_ALT_HIT && r->expect.v[1].kind == VDC_ALT_MISS && r->expect.v[1].min == 1);
    r = vdc_trace_record(t, 8); /* miss>=512 */
    REQUIRE(r != NULL && r->expect.n == 1);
    CHECK(r->expect.v[0].kind == VDC_ALT_MISS && r->expect.v[0].min == 512);
    r = vdc_trace_record(t, 13); /* open c0 takes the file of the create */
    REQUIRE(r != NULL && r->op == VDC_OP_OPEN);
    CHECK(strcmp(r->file, "c0.vci") == 0);
    CHECK_EQ(r->open_flags, VD_OPEN_FLAGS_READONLY);
    CHECK(roundtrip(t, true));
    vdc_trace_free(t);
}

static void test_everything_parses(void)
{
    vdc_trace *t = parse_ok(everything, "all.trace");
    REQUIRE(t != NULL);
    CHECK(strcmp(vdc_trace_name(t), "a name with spaces") == 0);
    REQUIRE(vdc_trace_format(t) != NULL);
    CHECK(strcmp(vdc_trace_format(t), "Some_backend-2.x") == 0);
    CHECK_EQ(vdc_trace_required_caps(t), VD_CAP_DISCARD | 0x1000);
    const vdc_record *r = vdc_trace_record(t, 0);
    REQUIRE(r != NULL && r->op == VDC_OP_CONFIG);
    CHECK(strcmp(r->key, "Path") == 0 && strcmp(r->str.s, "/x y\\z\x7f") == 0);
    r = vdc_trace_record(t, 2);
    REQUIRE(r != NULL && r->data.nsegs == 1 && r->data.segs[0].kind == VDC_GEN_HEX);
    CHECK_EQ(r->data.segs[0].hex[15], 15);
    r = vdc_trace_record(t, 5);
    REQUIRE(r != NULL && r->op == VDC_OP_CREATE);
    CHECK_EQ(r->image_flags, VD_IMAGE_FLAGS_FIXED | 0x4000);
    CHECK_EQ(r->open_flags, VD_OPEN_FLAGS_READONLY | 0x8000);
    CHECK(r->str.null);
    CHECK(r->uuid.kind == VDC_UUID_LIT && r->uuid.lit.au8[0] == 0x01 && r->uuid.lit.au8[15] == 0xef);
    CHECK_EQ(r->pct_start, 10);
    r = vdc_trace_record(t, 19); /* read: OK|BLOCK_FREE normalised to hit|miss */
    REQUIRE(r != NULL && r->op == VDC_OP_READ && r->expect.n == 2);
    CHECK(r->expect.v[0].kind == VDC_ALT_HIT && r->expect.v[1].kind == VDC_ALT_MISS);
    CHECK(r->seen_given && r->seen_status == VERR_VD_BLOCK_FREE && r->seen_count == 4096);
    r = vdc_trace_record(t, 23);
    REQUIRE(r != NULL && r->op == VDC_OP_FLUSH && r->expect.n == 3);
    CHECK_EQ(r->expect.v[0].status, VERR_VD_BLOCK_FREE);
    CHECK_EQ(r->expect.v[2].status, VINF_EOF);
    r = vdc_trace_record(t, vdc_trace_ncalls(t) - 1);
    REQUIRE(r != NULL && r->op == VDC_OP_INTERFACES);
    CHECK(strcmp(r->key, "nomessage") == 0);
    CHECK_EQ(vdc_interfaces_mode(r->key, strlen(r->key)), VDC_IFS_NOMESSAGE);
    CHECK_EQ(vdc_interfaces_mode("bare", 4), VDC_IFS_BARE);
    CHECK_EQ(vdc_interfaces_mode("full", 4), VDC_IFS_FULL);
    CHECK_EQ(vdc_interfaces_mode("noprealloc", 10), VDC_IFS_NOPREALLOC);
    CHECK_EQ(vdc_interfaces_mode("fullx", 5), -1);
    CHECK_EQ(vdc_interfaces_mode("ful", 3), -1);
    CHECK(roundtrip(t, true));
    vdc_trace_free(t);
}

static void test_pattern_reference(void)
{
    /* spec/trace-format.md section 5.1; also computed by an independent
     * Python transcription of the definition. */
    CHECK(vdc_pattern_word(0, 0) == UINT64_C(0xe220a8397b1dcdaf));
    CHECK(vdc_pattern_word(1, 0) == UINT64_C(0x2d0f28c7e7e786b2));
    CHECK(vdc_pattern_word(7, 8192) == UINT64_C(0x8b06769a35678091));
    CHECK_EQ(vdc_pattern_byte(0, 0), 0xaf);
    CHECK_EQ(vdc_pattern_byte(0, 7), 0xe2);
    CHECK_EQ(vdc_pattern_byte(7, 65536 + 3), 0x35);
}

static void test_data_fill_match(void)
{
    vdc_seg segs[3] = {
        { VDC_GEN_PATTERN, 100, 10, 9, 0, NULL },
        { VDC_GEN_ANY, 110, 5, 0, 0, NULL },
        { VDC_GEN_FILL, 115, 5, 0, 0x5a, NULL },
    };
    vdc_data d = { 3, segs };
    uint8_t buf[20], one[1];
    size_t diff = 999;

    vdc_data_fill(&d, 100, buf, 20);
    for (unsigned i = 0; i < 10; i++)
        CHECK_EQ(buf[i], vdc_pattern_byte(9, 100 + i));
    CHECK_EQ(buf[10], 0);
    CHECK_EQ(buf[19], 0x5a);
    CHECK(vdc_data_match(&d, 100, buf, 20, &diff));
    buf[12] = 0x77; /* inside ANY: still a match */
    CHECK(vdc_data_match(&d, 100, buf, 20, &diff));
    buf[17] ^= 1;
    CHECK(!vdc_data_match(&d, 100, buf, 20, &diff));
    CHECK_EQ(diff, 17);
    /* a sub-range keyed by position */
    vdc_data_fill(&d, 105, one, 1);
    CHECK_EQ(one[0], vdc_pattern_byte(9, 105));
    CHECK(vdc_data_match(&d, 103, buf + 3, 5, NULL));
    /* outside every segment: zero */
    vdc_data_fill(&d, 5000, one, 1);
    CHECK_EQ(one[0], 0);
}

typedef struct bad_case {
    const char *text;
    unsigned    line;
    const char *want;
    size_t      len; /* 0: strlen(text) */
} bad_case;

#define PRE "vdcc-trace 1\ncreate c0 file=c.vci size=1M\n"

static const bad_case bad_cases[] = {
    { "", 1, "empty trace", 0 },
    { "vdcc-trace 3\n", 1, "unsupported trace version 3", 0 },
    { "vdcc-trace 1\nimage a.vci sidecar=s.img\n", 2, "image records need \"vdcc-trace 2\"", 0 },
    { "vdcc-trace 2\nimage a.vci sidecar=../s.img\n", 2, "bad sidecar name \"../s.img\"", 0 },
    { "vdcc-trace 2\nimage a.vci sidecar=d/s.img\n", 2, "bad sidecar name", 0 },
    { "vdcc-trace 2\nimage a.vci sidecar=..\n", 2, "bad sidecar name", 0 },
    { "vdcc-trace 2\nimage a.vci\n", 2, "missing argument sidecar=", 0 },
    { "vdcc-trace 01\n", 1, "unsupported trace version 01", 0 },
    { "vdcc-trace 1 x\n", 1, "expected \"vdcc-trace 1\"", 0 },
    { "vdcc-trace\n", 1, "expected \"vdcc-trace 1\"", 0 },
    { "hello 1\nflush c0\n", 1, "expected \"vdcc-trace 1\"", 0 },
    { "vdcc-trace 1\nraed c0\n", 2, "unknown record \"raed\"", 0 },
    { "vdcc-trace 1\ncreate c0 size=1M\n", 2, "has no file yet", 0 },
    { "vdcc-trace 1\ncreate c0 file=a\n", 2, "missing argument size=", 0 },
    { "vdcc-trace 1\n\n# c\nread c0 off=0 len=1\n", 4, "handle c0 is not open", 0 },
    { PRE "create c0 file=d size=1\n", 3, "already open", 0 },
    { PRE "read c0 offset=1 len=1\n", 3, "unknown argument \"offset=1\"", 0 },
    { PRE "read c0 off=0 len=12Q\n", 3, "bad number \"12Q\"", 0 },
    { PRE "set-comment c0 comment=\"abc\n", 3, "unterminated string", 0 },
    { PRE "write c0 off=0 len=8K data=pattern:1@0+4K\n", 3, "data covers [0, 4096) but the record covers [0, 8192)", 0 },
    { PRE "write c0 off=0 len=12K data=pattern:1@0+4K,pattern:2@8K+4K\n", 3, "expected 4096", 0 },
    { PRE "write c0 off=0 len=4 data=hex:0102\n", 3, "hex data has 2 bytes but its segment covers 4", 0 },
    { PRE "write c0 off=0 len=4 data=hex:123\n", 3, "even", 0 },
    { PRE "write c0 off=0 len=4 data=any\n", 3, "only allowed in expectations", 0 },
    { PRE "write c0 off=0 len=4 data=zero -> hit\n", 3, "hit and miss are only", 0 },
    { PRE "flush c0 -> VERR_NOPE\n", 3, "unknown status \"VERR_NOPE\"", 0 },
    { PRE "flush c0 -> OK|OK|OK|OK|OK|OK|OK|OK|OK\n", 3, "more than 8", 0 },
    { PRE "read c0 off=0 len=0\n", 3, "len must be at least 1", 0 },
    { PRE "read c0 off=0 len=65M\n", 3, "len exceeds 64M", 0 },
    { PRE "read c0 off=0x4000000000000000 len=1\n", 3, "out of range", 0 },
    { PRE "name late\n", 3, "after the first record", 0 },
    { "vdcc-trace 1\nname a\nname b\n", 3, "second name line", 0 },
    { "vdcc-trace 1\nformat vci\nformat toy\n", 3, "second format line", 0 },
    { "vdcc-trace 1\nformat\n", 2, "format takes one backend name", 0 },
    { "vdcc-trace 1\nformat a b\n", 2, "format takes one backend name", 0 },
    { "vdcc-trace 1\nformat \"vci\"\n", 2, "format takes one backend name", 0 },
    { PRE "format late\n", 3, "after the first record", 0 },
    { "vdcc-trace 1\nrequires FOO\n", 2, "unknown capability \"FOO\"", 0 },
    { PRE "flush c0 clause=read-1\n", 3, "bad clause name \"read-1\"", 0 },
    { PRE "flush c0\x01\n", 3, "control byte", 0 },
    { "vdcc-trace 1\nflush\0c0\n", 2, "NUL byte", sizeof "vdcc-trace 1\nflush\0c0\n" - 1 },
    { PRE "get-size c0 -> OK\n", 3, "takes no status", 0 },
    { PRE "read c0 off=0 len=4K -> miss>=0\n", 3, "bad miss length", 0 },
    { PRE "read c0 off=0 len=4K -> miss>=8K\n", 3, "longer than len", 0 },
    { PRE "read c0 off=0 off=1 len=1\n", 3, "repeated argument off=", 0 },
    { PRE "flush c0 -> OK -> OK\n", 3, "second \"->\"", 0 },
    { PRE "set-uuid c0 uuid=1234\n", 3, "bad UUID \"1234\"", 0 },
    { PRE "set-uuid c0 uuid=any\n", 3, "only allowed as an expectation", 0 },
    { PRE "get-uuid c0 -> uuid=null\n", 3, "only allowed as an argument", 0 },
    { PRE "vdread c0 off=0 len=4K fill\n", 3, "fill needs data=", 0 },
    { "vdcc-trace 1\nprobe ../x\n", 2, "bad file name \"../x\"", 0 },
    { "vdcc-trace 1\nvdcc-trace 1\n", 2, "must be line 1", 0 },
    { PRE "flush c0 \xc3\xa9\n", 3, "0x80", 0 },
    { "vdcc-trace 1\ncreate c0 file=c size=1 start=60 span=50\n", 2, "start+span", 0 },
    { PRE "get-comment c0 buf=65537\n", 3, "buf must be at most 65536", 0 },
    { PRE "vdread c0 off=0 len=4K -> count=4K\n", 3, "unknown expectation \"count=4K\"", 0 },
    { PRE "set-comment c0 comment=\"a\\x00b\"\n", 3, "\\x00 is not allowed", 0 },
    { "vdcc-trace 1\nfile f len=1 clause=FILE-1\n", 2, "host-side records take no clauses", 0 },
    { "vdcc-trace 1\nclose c7\n", 2, "handle c7 is not open", 0 },
    { PRE "flush c0 -> seen=VERR_NOPE\n", 3, "bad status in seen", 0 },
    { PRE "flush c0 -> count=1\n", 3, "unknown expectation", 0 },
    { PRE "dump c0 -> printed=maybe\n", 3, "printed takes yes or any", 0 },
    { PRE "read c0 off=0 len=4K -> hit should=hit should=miss\n", 3, "repeated should=", 0 },
    { PRE "write c0 off=0 len=4K data=fill:256\n", 3, "bad fill byte", 0 },
    { PRE "write c0 off=0 len=4K data=pattern:1,zero\n", 3, "@start+len", 0 },
    { PRE "set-open-flags c0 flags=READONLY|BOGUS\n", 3, "bad flags", 0 },
    { PRE "get-image-flags c0 -> value>=FIXED\n", 3, "takes '='", 0 },
    { PRE "create delete file=x size=1\n", 3, "bad handle name", 0 },
    { "vdcc-trace 1\nconfig 9key value=\"x\"\n", 2, "bad config key", 0 },
    { "vdcc-trace 1\nconfig key value=null\n", 2, "cannot be null", 0 },
    { "vdcc-trace 1\ninterfaces none\n", 2, "unknown interfaces mode \"none\"", 0 },
    { "vdcc-trace 1\ninterfaces\n", 2, "missing mode", 0 },
    { "vdcc-trace 1\ninterfaces bare value=\"x\"\n", 2, "unknown argument", 0 },
};

static void test_bad_traces(void)
{
    char err[512], want_prefix[64];
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *b = &bad_cases[i];
        size_t len = b->len != 0 ? b->len : strlen(b->text);
        vdc_trace *t = (vdc_trace *)1;
        int rc = vdc_trace_parse(b->text, len, "t.trace", &t, err, sizeof err);
        snprintf(want_prefix, sizeof want_prefix, "t.trace:%u: ", b->line);
        bool ok = rc == VERR_INVALID_PARAMETER && t == NULL && strncmp(err, want_prefix, strlen(want_prefix)) == 0
               && strstr(err, b->want) != NULL;
        if (!ok)
            fprintf(stderr, "  case %zu: rc=%d err=\"%s\", wanted \"%s...%s\"\n", i, rc, err, want_prefix, b->want);
        CHECK(ok);
    }
    CHECK(sizeof bad_cases / sizeof bad_cases[0] >= 30);
}

/* Builds "vdcc-trace 1" + n lines made by fmt(i) and expects the error on
 * line want_line (0: success). */
static void name_limit(const char *fmt, unsigned n, unsigned want_line, const char *want)
{
    size_t cap = 64 + (size_t)n * 64, o = 0;
    char *s = malloc(cap), err[256];
    vdc_trace *t = NULL;
    REQUIRE(s != NULL);
    o += (size_t)snprintf(s, cap, "vdcc-trace 1\n");
    for (unsigned i = 0; i < n; i++)
        o += (size_t)snprintf(s + o, cap - o, fmt, i, i);
    int rc = vdc_trace_parse(s, o, "lim", &t, err, sizeof err);
    if (want_line == 0) {
        CHECK_EQ(rc, VINF_SUCCESS);
    } else {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "lim:%u: ", want_line);
        CHECK(rc != VINF_SUCCESS && strncmp(err, prefix, strlen(prefix)) == 0 && strstr(err, want) != NULL);
        if (rc == VINF_SUCCESS || strstr(err, want) == NULL)
            fprintf(stderr, "  got rc=%d \"%s\"\n", rc, err);
    }
    vdc_trace_free(t);
    free(s);
}

static void test_name_limits(void)
{
    name_limit("create h%u file=f%u size=1\n", 64, 0, "");
    name_limit("create h%u file=f%u size=1\n", 65, 66, "too many handles (more than 64)");
    name_limit("file f%u len=%u\n", 256, 0, "");
    name_limit("file f%u len=%u\n", 257, 258, "too many file names (more than 256)");
    name_limit("create h0 file=f size=1 uuid=$v%u%u\nclose h0\n", 256, 0, "");
    name_limit("create h0 file=f size=1 uuid=$v%u%u\nclose h0\n", 257, 514, "too many UUID variables");
}

static void test_line_too_long(void)
{
    size_t n = 20000;
    char *s = malloc(n + 32), err[256];
    vdc_trace *t = NULL;
    REQUIRE(s != NULL);
    strcpy(s, "vdcc-trace 1\n# ");
    memset(s + 15, 'x', n);
    s[15 + n] = '\n';
    int rc = vdc_trace_parse(s, 16 + n, "long", &t, err, sizeof err);
    CHECK_EQ(rc, VERR_INVALID_PARAMETER);
    CHECK(strstr(err, "long:2: line too long") != NULL);
    free(s);
}

static void test_max_segments_roundtrip(void)
{
    /* 256 hex segments of 16 bytes: the most segments a record may have. */
    size_t cap = 40000, o = 0;
    char *s = malloc(cap), err[256];
    vdc_trace *t = NULL;
    REQUIRE(s != NULL);
    o += (size_t)snprintf(s + o, cap - o, PRE "write c0 off=0 len=%u data=", 256 * 16);
    for (unsigned i = 0; i < 256; i++) {
        o += (size_t)snprintf(s + o, cap - o, "%shex:", i ? "," : "");
        for (unsigned k = 0; k < 16; k++)
            o += (size_t)snprintf(s + o, cap - o, "%02x", (i + k) & 0xff);
        o += (size_t)snprintf(s + o, cap - o, "@%u+16", i * 16);
    }
    s[o++] = '\n';
    int rc = vdc_trace_parse(s, o, "big", &t, err, sizeof err);
    CHECK_EQ(rc, VINF_SUCCESS);
    if (t != NULL) {
        const vdc_record *r = vdc_trace_record(t, 1);
        CHECK(r != NULL && r->data.nsegs == 256 && r->data.segs[255].hex[15] == ((255 + 15) & 0xff));
        CHECK(roundtrip(t, true));
    }
    vdc_trace_free(t);
    /* one more segment is refused */
    o -= 1;
    o += (size_t)snprintf(s + o, cap - o, ",zero@4K+1\n");
    rc = vdc_trace_parse(s, o, "big", &t, err, sizeof err);
    CHECK_EQ(rc, VERR_INVALID_PARAMETER);
    CHECK(strstr(err, "more than 256 data segments") != NULL);
    free(s);
}

static void test_load(void)
{
    char path[] = "/tmp/vdcc-trace-XXXXXX", err[512];
    vdc_trace *t = NULL;
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, example, sizeof example - 1) == (ssize_t)(sizeof example - 1));
    close(fd);
    CHECK_EQ(vdc_trace_load(path, &t, err, sizeof err), VINF_SUCCESS);
    CHECK(t != NULL && vdc_trace_ncalls(t) == 17);
    vdc_trace_free(t);
    unlink(path);
    t = (vdc_trace *)1;
    CHECK_EQ(vdc_trace_load(path, &t, err, sizeof err), VERR_FILE_NOT_FOUND);
    CHECK(t == NULL);
    CHECK(strstr(err, path) != NULL);
    /* a syntax error is reported with the path as the name */
    fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, "vdcc-trace 1\nbogus\n", 19) == 19);
    close(fd);
    CHECK_EQ(vdc_trace_load(path, &t, err, sizeof err), VERR_INVALID_PARAMETER);
    char want[64];
    snprintf(want, sizeof want, "%s:2: ", path);
    CHECK(strncmp(err, want, strlen(want)) == 0);
    unlink(path);
}

static void test_build_in_memory(void)
{
    vdc_trace *t = vdc_trace_new("built");
    vdc_seg seg = { VDC_GEN_PATTERN, 0, 4096, 42, 0, NULL };
    vdc_alt hitmiss[2] = { { VDC_ALT_HIT, 0, 0 }, { VDC_ALT_MISS, 0, 1 } };
    vdc_alt ok = { VDC_ALT_STATUS, VINF_SUCCESS, 0 };
    const char *cl[1] = { "READ-1" };
    vdc_record r;
    char err[256];

    REQUIRE(t != NULL);
    vdc_trace_set_caps(t, VD_CAP_FILE);
    memset(&r, 0, sizeof r);
    r.op = VDC_OP_READ;
    r.handle = "c0";
    r.len = 4096;
    /* not open yet: refused, and the trace is unchanged */
    CHECK_EQ(vdc_trace_append(t, &r, err, sizeof err), VERR_INVALID_PARAMETER);
    CHECK(strstr(err, "handle c0 is not open") != NULL);
    CHECK_EQ(vdc_trace_ncalls(t), 0);

    vdc_record c;
    memset(&c, 0, sizeof c);
    c.op = VDC_OP_CREATE;
    c.handle = "c0";
    c.file = "c0.img";
    c.size = 1 << 20;
    c.expect = (vdc_alts){ 1, &ok };
    c.line = 77;
    CHECK_EQ(vdc_trace_append(t, &c, err, sizeof err), VINF_SUCCESS);
    r.data = (vdc_data){ 1, &seg };
    r.expect = (vdc_alts){ 2, hitmiss };
    r.should = (vdc_alts){ 1, hitmiss };
    r.nclauses = 1;
    r.clauses = cl;
    CHECK_EQ(vdc_trace_append(t, &r, err, sizeof err), VINF_SUCCESS);
    CHECK_EQ(vdc_trace_ncalls(t), 2);
    CHECK_EQ(vdc_trace_record_line(t, 0), 77);
    CHECK(strcmp(vdc_trace_record_text(t, 1), "read c0 off=0 len=4K clause=READ-1 -> hit|miss data=pattern:42 should=hit") == 0);
    CHECK_EQ(vdc_trace_nclauses(t), 1);
    /* values are taken as given (span=0 stays 0); what a record may omit
     * (the UUID) gets the parser's default */
    const vdc_record *cr = vdc_trace_record(t, 0);
    CHECK(cr->pct_span == 0 && cr->uuid.kind == VDC_UUID_VAR && strcmp(cr->uuid.var, "c0") == 0);
    CHECK(roundtrip(t, true));
    /* the writer refuses malformed records */
    vdc_trace_writer *w = vdc_tw_new();
    REQUIRE(w != NULL);
    CHECK_EQ(vdc_tw_record(w, &r), VERR_INVALID_STATE); /* before the header */
    vdc_tw_free(w);
    w = vdc_tw_new();
    REQUIRE(w != NULL);
    vdc_trace_header h = { .name = "x", .comment = "line one\nline two" };
    CHECK_EQ(vdc_tw_header(w, &h), VINF_SUCCESS);
    vdc_seg badseg = { VDC_GEN_PATTERN, 0, 100, 1, 0, NULL };
    r.data = (vdc_data){ 1, &badseg };
    CHECK_EQ(vdc_tw_record(w, &r), VERR_INVALID_PARAMETER);
    CHECK_EQ(vdc_tw_status(w), VERR_INVALID_PARAMETER); /* sticky */
    CHECK(strstr(vdc_tw_text(w, NULL), "# line two\n") != NULL);
    vdc_tw_free(w);
    vdc_trace_free(t);
}

/* ---- random and mutated inputs ----------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static const char *const dict[] = {
    "vdcc-trace 1\n", "\n", " ", "->", "read", "write", "vdread", "vdwrite", "create", "open", "close", "probe",
    "flush", "discard", "c0", "c1", "file=a", "off=0", "len=4K", "len=1", "size=1M", "data=pattern:1", "data=zero",
    "data=hex:00ff", "hit", "miss", "miss>=512", "|", "OK", "VERR_VD_BLOCK_FREE", "should=hit", "seen=OK:1", "count=1",
    "\"", "\\x41", "comment=\"a b\"", "uuid=$u", "uuid=nil", "@0+4K", ",", "clause=READ-1", "delete", "fill", "#",
    "get-uuid", "set-mod-uuid", "dump", "printed=any", "file f", "exists f", "gone f", "config K value=\"v\"",
    "name x", "requires UUID", "clauses A-1", "get-comment", "buf=2", "value>=1", "0x", "K", "=", ">=", "\r\n",
};

static void test_random_inputs(void)
{
    const char *seeds[] = { example, everything };
    size_t cap = 8192;
    char *buf = malloc(cap), err[512];
    unsigned parsed = 0, rt_fail = 0;
    REQUIRE(buf != NULL);
    printf("# random seed 0x%llx\n", (unsigned long long)rng_state);
    for (unsigned iter = 0; iter < 10000; iter++) {
        size_t n = 0;
        unsigned kind = (unsigned)(rnd() % 4);
        if (kind == 0) { /* random bytes, half of them behind a valid version line */
            if (rnd() & 1) {
                memcpy(buf, "vdcc-trace 1\n", 13);
                n = 13;
            }
            size_t m = (size_t)(rnd() % 600);
            for (size_t i = 0; i < m; i++)
                buf[n++] = (char)(rnd() & 0xff);
        } else if (kind == 1) { /* mutated good trace */
            const char *s = seeds[rnd() % 2];
            n = strlen(s);
            memcpy(buf, s, n);
            unsigned muts = 1 + (unsigned)(rnd() % (rnd() % 4 == 0 ? 8 : 2));
            for (unsigned k = 0; k < muts && n > 0; k++) {
                size_t at = (size_t)(rnd() % n);
                switch (rnd() % 4) {
                case 0: buf[at] = (char)(rnd() & 0xff); break;
                case 1: buf[at] ^= (char)(1u << (rnd() % 8)); break;
                case 2: { /* delete a range */
                    size_t del = (size_t)(rnd() % 16);
                    if (at + del > n)
                        del = n - at;
                    memmove(buf + at, buf + at + del, n - at - del);
                    n -= del;
                    break;
                }
                default: { /* insert a dictionary word */
                    const char *w = dict[rnd() % (sizeof dict / sizeof dict[0])];
                    size_t wl = strlen(w);
                    if (n + wl < cap) {
                        memmove(buf + at + wl, buf + at, n - at);
                        memcpy(buf + at, w, wl);
                        n += wl;
                    }
                    break;
                }
                }
            }
        } else if (kind == 3) { /* lines of the good traces, recombined in order */
            memcpy(buf, "vdcc-trace 1\n", 13);
            n = 13;
            const char *s = seeds[rnd() % 2];
            const char *line = strchr(s, '\n') + 1;
            while (*line != '\0') {
                const char *nl = strchr(line, '\n');
                size_t ll = (size_t)(nl - line) + 1;
                if (rnd() % 4 != 0 && n + ll < cap) {
                    memcpy(buf + n, line, ll);
                    n += ll;
                }
                line = nl + 1;
            }
        } else { /* dictionary soup */
            memcpy(buf, "vdcc-trace 1\n", 13);
            n = 13;
            unsigned words = (unsigned)(rnd() % 40);
            for (unsigned k = 0; k < words; k++) {
                const char *w = dict[rnd() % (sizeof dict / sizeof dict[0])];
                size_t wl = strlen(w);
                if (n + wl + 1 >= cap)
                    break;
                memcpy(buf + n, w, wl);
                n += wl;
                if (rnd() % 3 == 0)
                    buf[n++] = ' ';
            }
        }
        vdc_trace *t = NULL;
        err[0] = '\0';
        int rc = vdc_trace_parse(buf, n, "fuzz", &t, err, sizeof err);
        if (rc == VINF_SUCCESS) {
            parsed++;
            if (!roundtrip(t, rt_fail == 0))
                rt_fail++;
            vdc_trace_free(t);
        } else {
            CHECK(t == NULL);
            CHECK(strncmp(err, "fuzz:", 5) == 0);
        }
    }
    printf("# %u of 10000 random inputs parsed\n", parsed);
    CHECK_EQ(rt_fail, 0);
    CHECK(parsed > 100); /* the mutators must reach the record parser, not just the version check */
    free(buf);
}

CHECK_MAIN(CHECK_CASE(test_example_parses), CHECK_CASE(test_everything_parses), CHECK_CASE(test_pattern_reference),
           CHECK_CASE(test_data_fill_match), CHECK_CASE(test_bad_traces), CHECK_CASE(test_name_limits), CHECK_CASE(test_line_too_long),
           CHECK_CASE(test_max_segments_roundtrip), CHECK_CASE(test_load), CHECK_CASE(test_build_in_memory),
           CHECK_CASE(test_random_inputs))
