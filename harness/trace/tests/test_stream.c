/*
 * harness/trace/tests/test_stream.c - streamed traces (trace_stream.c,
 * spec/trace-format.md 8.1) and `image` records with their sidecars
 * (sidecar.c, replay_image.c; section 4.6).
 *
 * Streaming: every corpus trace reads, record by record, exactly as the
 * whole parser reads it (canonical texts and lines); a trace of 1,500,000
 * records (beyond the whole parser's limit) replays from a generator; an
 * error after good records stops the replay with ERROR and the file:line
 * message; lines too long and reads out of order are refused.  Sidecars:
 * a good one makes exactly the file it describes (bytes, a pattern, holes);
 * every hostile variant (bad magic, short header, size beyond 2^62, unknown
 * kind, reserved bits, empty or oversized run, overlap, run past the size,
 * truncated bytes, trailing bytes, a missing file) is an ERROR naming the
 * problem; 1,500 random mutations never crash the replay (ASan, MSan).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "tests/check.h"
#include "harness/trace/replay.h"
#include "harness/trace/sidecar.h"

static const VDCACHEBACKEND g_none; /* host-side records call no backend */

/* ---- streaming --------------------------------------------------------------- */

static void compare_with_whole(const char *path)
{
    char err[512];
    vdc_trace *whole = NULL, *s = NULL;
    REQUIRE(vdc_trace_load(path, &whole, err, sizeof err) == VINF_SUCCESS);
    REQUIRE(vdc_trace_open(path, &s, err, sizeof err) == VINF_SUCCESS);
    CHECK(vdc_trace_is_streamed(s) && !vdc_trace_is_streamed(whole));
    CHECK(strcmp(vdc_trace_name(s), vdc_trace_name(whole)) == 0);
    CHECK_EQ(vdc_trace_required_caps(s), vdc_trace_required_caps(whole));
    unsigned i = 0;
    const vdc_record *r;
    int rc;
    while ((rc = vdc_trace_next(s, i, &r, err, sizeof err)) == VINF_SUCCESS) {
        REQUIRE(i < vdc_trace_ncalls(whole));
        CHECK(strcmp(vdc_trace_record_text(s, i), vdc_trace_record_text(whole, i)) == 0);
        CHECK_EQ(vdc_trace_record_line(s, i), vdc_trace_record_line(whole, i));
        CHECK_EQ(r->op, vdc_trace_record(whole, i)->op);
        i++;
    }
    CHECK_EQ(rc, VINF_EOF);
    CHECK_EQ(i, vdc_trace_ncalls(whole));
    CHECK_EQ(vdc_trace_ncalls(s), i);
    vdc_trace_free(whole);
    vdc_trace_free(s);
}

static void test_corpus_streams_as_parsed(void)
{
    DIR *d = opendir("corpus/conformance");
    REQUIRE(d != NULL);
    unsigned n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t l = strlen(e->d_name);
        if (l < 7 || strcmp(e->d_name + l - 6, ".trace") != 0)
            continue;
        char path[600];
        snprintf(path, sizeof path, "corpus/conformance/%s", e->d_name);
        compare_with_whole(path);
        n++;
    }
    closedir(d);
    CHECK(n >= 20);
}

typedef struct gen {
    unsigned long long records, made;
    char line[64];
    size_t len, pos;
    const char *tail; /* a last line, or NULL */
} gen;

static size_t gen_read(void *user, void *buf, size_t cb)
{
    gen *g = user;
    size_t o = 0;
    while (o < cb) {
        if (g->pos == g->len) {
            if (g->made == 0)
                g->len = (size_t)snprintf(g->line, sizeof g->line, "vdcc-trace 1\ncreate c0 file=c.vci size=1M\n");
            else if (g->made <= g->records)
                g->len = (size_t)snprintf(g->line, sizeof g->line, "get-size c0 -> value=1M\n");
            else if (g->made == g->records + 1 && g->tail != NULL)
                g->len = (size_t)snprintf(g->line, sizeof g->line, "%s", g->tail);
            else
                break;
            g->made++;
            g->pos = 0;
        }
        size_t n = g->len - g->pos < cb - o ? g->len - g->pos : cb - o;
        memcpy((char *)buf + o, g->line + g->pos, n);
        g->pos += n;
        o += n;
    }
    return o;
}

static const VDCACHEBACKEND *tiny_backend(void);

static void test_no_record_limit(void)
{
    gen g = { .records = 1500000, .tail = "close c0\n" };
    vdc_trace *t = NULL;
    char err[256];
    REQUIRE(vdc_trace_open_reader("big", gen_read, &g, &t, err, sizeof err) == VINF_SUCCESS);
    vdc_replay_opts o = { .backend = tiny_backend() };
    vdc_replay_result r;
    CHECK_EQ(vdc_replay(t, &o, &r), VINF_SUCCESS);
    CHECK_EQ(r.outcome, VDC_PASS);
    CHECK_EQ(r.calls_run, 1500002);
    vdc_trace_free(t);
}

static void test_error_mid_stream(void)
{
    gen g = { .records = 1000, .tail = "raed c0\n" };
    vdc_trace *t = NULL;
    char err[256];
    REQUIRE(vdc_trace_open_reader("bad", gen_read, &g, &t, err, sizeof err) == VINF_SUCCESS);
    vdc_replay_opts o = { .backend = tiny_backend() };
    vdc_replay_result r;
    CHECK_EQ(vdc_replay(t, &o, &r), VINF_SUCCESS);
    CHECK_EQ(r.outcome, VDC_ERROR);
    CHECK(strstr(r.message, "bad:1003: unknown record \"raed\"") != NULL);
    CHECK(strstr(r.message, "call 1001 (line 1002): get-size c0 -> value=1M") != NULL); /* the window */
    vdc_trace_free(t);
}

static void test_stream_refusals(void)
{
    char err[256], path[] = "/tmp/vdcc-stream-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    FILE *f = fdopen(fd, "w");
    REQUIRE(f != NULL);
    fputs("vdcc-trace 1\ncreate c0 file=c.vci size=1M\n", f);
    for (unsigned i = 0; i < VDC_TRACE_MAX_LINE + 10; i++)
        fputc('#', f);
    fputs("\n", f);
    fclose(f);
    vdc_trace *t = NULL;
    REQUIRE(vdc_trace_open(path, &t, err, sizeof err) == VINF_SUCCESS);
    const vdc_record *r;
    CHECK_EQ(vdc_trace_next(t, 1, &r, err, sizeof err), VERR_INVALID_STATE); /* out of order */
    CHECK_EQ(vdc_trace_next(t, 0, &r, err, sizeof err), VINF_SUCCESS);
    CHECK_EQ(vdc_trace_next(t, 1, &r, err, sizeof err), VERR_INVALID_PARAMETER);
    CHECK(strstr(err, ":3: line too long") != NULL);
    vdc_trace_free(t);
    unlink(path);
    CHECK_EQ(vdc_trace_open("/nonexistent/x.trace", &t, err, sizeof err), VERR_FILE_NOT_FOUND);
    gen empty = { .records = 0 };
    empty.made = 1; /* nothing at all */
    CHECK_EQ(vdc_trace_open_reader("e", gen_read, &empty, &t, err, sizeof err), VERR_INVALID_PARAMETER);
    CHECK(strstr(err, "e:1: empty trace") != NULL);
}

/* A backend whose open handles answer every getter: only what the
 * generated traces call. */
static int tiny_create(const char *f, uint64_t cb, unsigned img, const char *c, PCRTUUID u, unsigned fl, unsigned s,
                       unsigned sp, PVDINTERFACE d, PVDINTERFACE i, PVDINTERFACE o, void **pp)
{
    (void)f, (void)cb, (void)img, (void)c, (void)u, (void)fl, (void)s, (void)sp, (void)d, (void)i, (void)o;
    static int token;
    *pp = &token;
    return VINF_SUCCESS;
}
static int tiny_close(void *bd, bool del)
{
    (void)bd, (void)del;
    return VINF_SUCCESS;
}
static uint64_t tiny_size(void *bd)
{
    (void)bd;
    return 1u << 20;
}
static const VDCACHEBACKEND *tiny_backend(void)
{
    static VDCACHEBACKEND be;
    be.pszBackendName = "tiny";
    be.pfnCreate = tiny_create;
    be.pfnClose = tiny_close;
    be.pfnGetSize = tiny_size;
    return &be;
}

/* ---- sidecars ------------------------------------------------------------------ */

static char g_dir[64];

/* Writes trace + sidecar, replays, returns the outcome; msg gets the message. */
static vdc_outcome replay_image(const uint8_t *sc, size_t cb, char *msg, size_t cbmsg)
{
    char tp[128], sp[128], scratch[128];
    snprintf(tp, sizeof tp, "%s/t.trace", g_dir);
    snprintf(sp, sizeof sp, "%s/s.img", g_dir);
    snprintf(scratch, sizeof scratch, "%s/scratch", g_dir);
    mkdir(scratch, 0700);
    FILE *f = fopen(tp, "w");
    if (f == NULL)
        return VDC_ERROR;
    fputs("vdcc-trace 2\nimage f.bin sidecar=s.img\n", f);
    fclose(f);
    if (sc != NULL) {
        f = fopen(sp, "wb");
        if (f == NULL)
            return VDC_ERROR;
        fwrite(sc, 1, cb, f);
        fclose(f);
    } else {
        unlink(sp);
    }
    vdc_trace *t = NULL;
    char err[256];
    if (vdc_trace_open(tp, &t, err, sizeof err) != VINF_SUCCESS)
        return VDC_ERROR;
    vdc_replay_opts o = { .backend = &g_none, .scratch_dir = scratch };
    vdc_replay_result r;
    vdc_replay(t, &o, &r);
    vdc_trace_free(t);
    snprintf(msg, cbmsg, "%s", r.message);
    return r.outcome;
}

/* A sidecar in memory: header, then runs. */
typedef struct scbuf {
    uint8_t b[8192];
    size_t  n;
} scbuf;

static void put64(scbuf *s, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        s->b[s->n++] = (uint8_t)(v >> (8 * i));
}
static void put32(scbuf *s, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        s->b[s->n++] = (uint8_t)(v >> (8 * i));
}
static void header(scbuf *s, uint64_t size, uint64_t nruns)
{
    memcpy(s->b, VDC_SIDECAR_MAGIC, 8);
    s->n = 8;
    put64(s, size);
    put64(s, nruns);
}
static void run(scbuf *s, uint64_t off, uint64_t len, uint32_t kind, uint32_t res, uint64_t seed)
{
    put64(s, off);
    put64(s, len);
    put32(s, kind);
    put32(s, res);
    put64(s, seed);
}

/* The good sidecar: 10000 bytes, "ABCD" at 100, a pattern over [4096, 6096). */
static void good(scbuf *s)
{
    header(s, 10000, 2);
    run(s, 100, 4, VDC_SIDECAR_BYTES, 0, 0);
    memcpy(s->b + s->n, "ABCD", 4);
    s->n += 4;
    run(s, 4096, 2000, VDC_SIDECAR_PATTERN, 0, 77);
}

static void test_sidecar_good(void)
{
    scbuf s;
    char msg[2048], p[128];
    good(&s);
    CHECK_EQ(replay_image(s.b, s.n, msg, sizeof msg), VDC_PASS);
    snprintf(p, sizeof p, "%s/scratch/f.bin", g_dir);
    FILE *f = fopen(p, "rb");
    REQUIRE(f != NULL);
    static uint8_t got[10001];
    size_t n = fread(got, 1, sizeof got, f);
    fclose(f);
    CHECK_EQ(n, 10000);
    uint8_t want[10000];
    memset(want, 0, sizeof want);
    memcpy(want + 100, "ABCD", 4);
    for (unsigned i = 0; i < 2000; i++)
        want[4096 + i] = vdc_pattern_byte(77, 4096 + i);
    CHECK(memcmp(got, want, sizeof want) == 0);
}

static void expect_refused(const scbuf *s, const char *why)
{
    char msg[2048];
    CHECK_EQ(replay_image(s != NULL ? s->b : NULL, s != NULL ? s->n : 0, msg, sizeof msg), VDC_ERROR);
    if (strstr(msg, why) == NULL) {
        printf("  wanted \"%s\" in: %s\n", why, msg);
        CHECK(false);
    }
}

static void test_sidecar_hostile(void)
{
    scbuf s;
    good(&s);
    s.b[0] = 'X';
    expect_refused(&s, "not a sidecar");
    good(&s);
    s.n = 20;
    expect_refused(&s, "ends inside the header");
    header(&s, (UINT64_C(1) << 62) + 1, 0);
    expect_refused(&s, "beyond 2^62");
    header(&s, 100, 1);
    run(&s, 0, 10, 3, 0, 0);
    expect_refused(&s, "unknown kind 3");
    header(&s, 100, 1);
    run(&s, 0, 10, VDC_SIDECAR_PATTERN, 1, 0);
    expect_refused(&s, "reserved field not zero");
    header(&s, 100, 1);
    run(&s, 0, 0, VDC_SIDECAR_PATTERN, 0, 0);
    expect_refused(&s, "length 0 is not 1..");
    header(&s, UINT64_C(1) << 40, 1);
    run(&s, 0, (64u << 20) + 1, VDC_SIDECAR_PATTERN, 0, 0);
    expect_refused(&s, "is not 1..67108864");
    header(&s, 100, 2);
    run(&s, 0, 50, VDC_SIDECAR_PATTERN, 0, 0);
    run(&s, 49, 10, VDC_SIDECAR_PATTERN, 0, 0);
    expect_refused(&s, "run 1: [49, +10) overlaps the previous run");
    header(&s, 100, 1);
    run(&s, 90, 11, VDC_SIDECAR_PATTERN, 0, 0);
    expect_refused(&s, "passes the size 100");
    header(&s, 100, 1);
    run(&s, 0, 50, VDC_SIDECAR_BYTES, 0, 0);
    s.n += 10; /* 10 of the 50 bytes */
    expect_refused(&s, "ends inside a run's bytes");
    header(&s, 100, 5);
    run(&s, 0, 50, VDC_SIDECAR_PATTERN, 0, 0);
    expect_refused(&s, "ends inside a run header");
    good(&s);
    s.b[s.n++] = 0;
    expect_refused(&s, "bytes after the last of 2 runs");
    header(&s, UINT64_C(1) << 40, UINT64_C(0xffffffffffffffff));
    expect_refused(&s, "ends inside a run header"); /* a huge count allocates nothing */
    expect_refused(NULL, "s.img: cannot open");
}

static void test_sidecar_mutations(void)
{
    scbuf s;
    char msg[2048];
    uint64_t x = 0x5eed;
    unsigned pass = 0;
    for (unsigned k = 0; k < 1500; k++) {
        good(&s);
        unsigned flips = 1 + k % 4;
        for (unsigned i = 0; i < flips; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            s.b[(x >> 33) % s.n] ^= (uint8_t)(1u << ((x >> 20) % 8));
        }
        if (k % 7 == 0)
            s.n = (size_t)((x >> 40) % (s.n + 1));
        vdc_outcome o = replay_image(s.b, s.n, msg, sizeof msg);
        CHECK(o == VDC_PASS || o == VDC_ERROR);
        pass += o == VDC_PASS;
    }
    CHECK(pass < 1500); /* the mutations did reach the checks */
}

static void setup(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/vdcc-sidecar-XXXXXX");
    if (mkdtemp(g_dir) == NULL)
        abort();
}

static void cleanup(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", g_dir);
}

static void test_sidecars(void)
{
    setup();
    test_sidecar_good();
    test_sidecar_hostile();
    test_sidecar_mutations();
    cleanup();
}

CHECK_MAIN(CHECK_CASE(test_corpus_streams_as_parsed), CHECK_CASE(test_no_record_limit),
           CHECK_CASE(test_error_mid_stream), CHECK_CASE(test_stream_refusals), CHECK_CASE(test_sidecars))
