/*
 * harness/reliability/tests/test_hostile.c - every hostile VCI image
 * (hostile.h) through the reference backend: probe, read-only open, a
 * read-write open of a copy, every getter and Dump, bounded reads across
 * the capacity, writes read back, then ref's deep check (vci_check) on the
 * original and on what the read-write session left.  Each case must end in
 * a clean error or valid behaviour, meet the verdicts spec/vci-format.md
 * prescribes, misuse nothing, and stay within 100 ms and 64 MiB of peak
 * memory growth.  Also checks that corpus/hostile/ (or $VDCC_HOSTILE_DIR)
 * holds exactly what the generator builds.
 */
#include <stdarg.h>
#include <sys/resource.h>
#include <time.h>

#include "../../../tests/check.h"
#include "../../../ref/ref.h"
#include "../../../ref/vci_check.h"
#include "../../host/host.h"
#include "../../host/ioctx.h"
#include "../../host/status.h"
#include "../hostile.h"
#include "../reliability.h"
#include "../vci_enc.h"

#define BUDGET_MS      100.0
#define BUDGET_RSS_KIB (64u * 1024u)
#define READ_SPAN      ((uint64_t)1 << 20)
#define FAR_OFF        ((VE_KEY_LIMIT - 16) * 512)

static const VDCACHEBACKEND *be = &vdcc_ref_backend;

typedef struct ctx {
    const vdc_hostile_case *c;
    vdc_host *host;
    unsigned  fails;       /* this case's failures */
    char      first[512];
    /* written ranges (read-write session): expected data overrides */
    uint64_t  woff[4], wlen[4];
    unsigned  nw;
    unsigned  hits;
} ctx;

static void fail(ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(ctx *x, const char *fmt, ...)
{
    va_list va;
    if (x->fails++ == 0) {
        va_start(va, fmt);
        vsnprintf(x->first, sizeof x->first, fmt, va);
        va_end(va);
    }
}

static const char *sn(int rc)
{
    const char *n = vdc_status_name(rc);
    return n != NULL ? n : "?";
}

static uint8_t wbyte(uint64_t x)
{
    return (uint8_t)(0xA0 ^ (x * 131) ^ (x >> 9));
}

/* What a hit may return at x: -1 anything, -2 nothing (must miss). */
static int expected(const ctx *x, uint64_t off)
{
    for (unsigned i = 0; i < x->nw; i++)
        if (off >= x->woff[i] && off - x->woff[i] < x->wlen[i])
            return wbyte(off);
    if (x->c->deep == VDC_HX_VALID)
        return ve_data_byte(off);
    if (x->c->deep == VDC_HX_UNCLEAN)
        return -2;
    return -1;
}

static void read_range(ctx *x, void *bd, uint64_t off, uint64_t len, bool rw)
{
    static uint8_t buf[65536];
    uint64_t pos = off, end = off + len, calls = 0, max_calls = 2 + 2 * (len / 512);
    while (pos < end) {
        uint64_t cb = end - pos < sizeof buf ? end - pos : sizeof buf;
        struct VDIOCTX io;
        RTSGSEG seg;
        size_t n = 0;
        if (++calls > max_calls) {
            fail(x, "READ-5: reading [%llu, %llu) took more than %llu calls", (unsigned long long)off,
                 (unsigned long long)end, (unsigned long long)max_calls);
            return;
        }
        memset(buf, 0x5C, (size_t)cb);
        vdc_host_ioctx_init(x->host, &io, &seg, 0);
        seg.pvSeg = buf;
        seg.cbSeg = (size_t)cb;
        vdc_host_ioctx_init(x->host, &io, &seg, 1);
        int rc = be->pfnRead(bd, pos, (size_t)cb, &io, &n);
        size_t moved = io.total - io.left;
        if (rc == VINF_SUCCESS) {
            if (n == 0 || n > cb || moved != n) {
                fail(x, "READ-1: hit at %llu reports %zu of %llu, moved %zu", (unsigned long long)pos, n,
                     (unsigned long long)cb, moved);
                return;
            }
            x->hits++;
            for (size_t i = 0; i < n; i++) {
                int want = expected(x, pos + i);
                if (want == -2) {
                    fail(x, "%s: a hit at %llu on an unclean image (section 10: every read misses)",
                         rw ? "rw" : "ro", (unsigned long long)(pos + i));
                    break;
                }
                if (want >= 0 && buf[i] != (uint8_t)want) {
                    fail(x, "%s: hit at %llu served 0x%02x, the image holds 0x%02x there", rw ? "rw" : "ro",
                         (unsigned long long)(pos + i), buf[i], want);
                    break;
                }
            }
            pos += n;
        } else if (rc == VERR_VD_BLOCK_FREE) {
            if (n == 0 || n > cb || moved != 0) {
                fail(x, "READ-2: miss at %llu reports %zu of %llu, moved %zu", (unsigned long long)pos, n,
                     (unsigned long long)cb, moved);
                return;
            }
            pos += n;
        } else {
            /* A failure is clean behaviour on a damaged image, but not on
             * one the spec calls valid or unclean. */
            if (RT_SUCCESS(rc) || rc == VERR_VD_ASYNC_IO_IN_PROGRESS || x->c->deep == VDC_HX_VALID
                || x->c->deep == VDC_HX_UNCLEAN)
                fail(x, "read at %llu returned %d (%s)", (unsigned long long)pos, rc, sn(rc));
            pos += cb;
        }
    }
}

static void reads(ctx *x, void *bd, bool rw)
{
    uint64_t span = x->c->cblocks * 512;
    if (span > READ_SPAN || span == 0)
        span = READ_SPAN;
    read_range(x, bd, 0, span, rw);
    read_range(x, bd, FAR_OFF, 8192, rw);
}

static void getters(ctx *x, void *bd, unsigned flags)
{
    RTUUID u;
    char comment[64];
    (void)be->pfnGetVersion(bd);
    uint64_t size = be->pfnGetSize(bd);
    (void)be->pfnGetFileSize(bd);
    (void)be->pfnGetImageFlags(bd);
    if (be->pfnGetOpenFlags(bd) != flags)
        fail(x, "INFO-2: GetOpenFlags answers 0x%x, opened with 0x%x", be->pfnGetOpenFlags(bd), flags);
    (void)be->pfnGetComment(bd, comment, sizeof comment);
    if (x->c->deep == VDC_HX_VALID) {
        if (size != x->c->cblocks * 512)
            fail(x, "GetSize %llu, expected 512 * cBlocks = %llu (section 12)", (unsigned long long)size,
                 (unsigned long long)(x->c->cblocks * 512));
        if (RT_SUCCESS(be->pfnGetUuid(bd, &u)) && memcmp(u.au8, x->c->img + VE_H_UUID, 16) != 0)
            fail(x, "GetUuid differs from the header's bytes 41..56");
        if (RT_SUCCESS(be->pfnGetModificationUuid(bd, &u)) && memcmp(u.au8, x->c->img + VE_H_MODUUID, 16) != 0)
            fail(x, "GetModificationUuid differs from the header's bytes 57..72");
    } else {
        (void)be->pfnGetUuid(bd, &u);
        (void)be->pfnGetModificationUuid(bd, &u);
    }
    be->pfnDump(bd);
}

static void check_open(ctx *x, const char *what, uint8_t want, int rc)
{
    bool ok = want == VDC_HX_ANY || (want == VDC_HX_OK && RT_SUCCESS(rc))
           || (want == VDC_HX_HDR && rc == VERR_VD_GEN_INVALID_HEADER)
           || (want == VDC_HX_CORRUPT && rc == VERR_VD_IMAGE_CORRUPTED) || (want == VDC_HX_FAIL && RT_FAILURE(rc));
    if (!ok)
        fail(x, "%s returned %d (%s), the spec says %s", what, rc, sn(rc), vdc_hx_name(want));
}

static bool same_file(vdc_fs *fs, const char *name, const uint8_t *img, size_t size)
{
    static uint8_t back[(size_t)1 << 20];
    if (size > sizeof back)
        return true; /* not compared (none is that big) */
    if (size != 0 && RT_FAILURE(vdc_fs_mem_peek(fs, name, 0, back, size)))
        return false;
    uint8_t extra;
    if (RT_SUCCESS(vdc_fs_mem_peek(fs, name, size, &extra, 1)))
        return false; /* grew */
    return size == 0 || memcmp(back, img, size) == 0;
}

static void storages(ctx *x, const char *when)
{
    unsigned n = vdc_host_get_stats(x->host)->open_storages;
    if (n != 0)
        fail(x, "HOST-3: %u storage handle(s) open after %s", n, when);
}

static void write_block(ctx *x, void *bd, uint64_t off, uint64_t len)
{
    static uint8_t buf[8192];
    uint64_t pos = 0;
    for (uint64_t i = 0; i < len; i++)
        buf[i] = wbyte(off + i);
    while (pos < len) {
        struct VDIOCTX io;
        RTSGSEG seg = { buf + pos, (size_t)(len - pos) };
        size_t n = 0;
        vdc_host_ioctx_init(x->host, &io, &seg, 1);
        int rc = be->pfnWrite(bd, off + pos, (size_t)(len - pos), &io, &n);
        if (RT_FAILURE(rc)) {
            if (x->c->deep == VDC_HX_VALID || x->c->deep == VDC_HX_UNCLEAN)
                fail(x, "WRITE-4: write at %llu returned %d (%s)", (unsigned long long)(off + pos), rc, sn(rc));
            /* what it may have stored is unknown: never judge it */
            if (x->nw < 4)
                x->woff[x->nw] = off, x->wlen[x->nw++] = 0;
            x->c = x->c; /* keep judging the rest */
            return;
        }
        if (n == 0 || n > len - pos || io.total - io.left != n) {
            fail(x, "WRITE-1: write at %llu reports %zu of %llu", (unsigned long long)(off + pos), n,
                 (unsigned long long)(len - pos));
            return;
        }
        pos += n;
    }
    if (x->nw < 4) {
        x->woff[x->nw] = off;
        x->wlen[x->nw++] = len;
    }
}

static void run_case(ctx *x)
{
    const vdc_hostile_case *c = x->c;
    vdc_fs *fs = vdc_fs_mem_new(0, 0);
    void *bd = NULL;
    int rc;
    if (fs == NULL || vdc_fs_mem_put(fs, "h.vci", c->img, c->size) != VINF_SUCCESS
        || vdc_fs_mem_put(fs, "rw.vci", c->img, c->size) != VINF_SUCCESS) {
        fail(x, "out of memory");
        vdc_fs_destroy(fs);
        return;
    }
    x->host = vdc_host_new(fs);
    if (x->host == NULL) {
        fail(x, "out of memory");
        vdc_fs_destroy(fs);
        return;
    }
    PVDINTERFACE disk = vdc_host_disk_ifs(x->host), img = vdc_host_image_ifs(x->host);

    /* Probe (PROBE-1/2/4). */
    rc = be->pfnProbe("h.vci", disk, vdc_host_probe_ifs(x->host));
    if (c->probe == VDC_HX_HDR && rc != VERR_VD_GEN_INVALID_HEADER)
        fail(x, "PROBE-1: probe returned %d (%s), not VERR_VD_GEN_INVALID_HEADER", rc, sn(rc));
    if (c->probe == VDC_HX_OK && rc != VINF_SUCCESS)
        fail(x, "probe returned %d (%s) for a valid header", rc, sn(rc));
    storages(x, "probe");

    /* Read-only: everything read, nothing written (OPEN-3). */
    rc = be->pfnOpen("h.vci", VD_OPEN_FLAGS_READONLY, disk, img, &bd);
    check_open(x, "read-only open", c->open_ro, rc);
    if (RT_SUCCESS(rc)) {
        getters(x, bd, VD_OPEN_FLAGS_READONLY);
        reads(x, bd, false);
        rc = be->pfnClose(bd, false);
        if (RT_FAILURE(rc))
            fail(x, "CLOSE-1: read-only close returned %d (%s)", rc, sn(rc));
    }
    storages(x, "the read-only session");
    if (!same_file(fs, "h.vci", c->img, c->size))
        fail(x, "OPEN-3/PROBE-4: probe or the read-only session changed the file");

    /* The deep check on the original. */
    vci_check_stats st;
    char msg[256];
    memset(&st, 0, sizeof st);
    rc = vci_check("h.vci", img, msg, sizeof msg, &st);
    if (c->deep == VDC_HX_VALID && (RT_FAILURE(rc) || st.unclean))
        fail(x, "vci_check rejects a valid image: %d (%s) %s", rc, sn(rc), msg);
    if (c->deep == VDC_HX_INVALID && RT_SUCCESS(rc) && !st.unclean)
        fail(x, "vci_check accepts an invalid image: %s", msg);
    if (c->deep == VDC_HX_UNCLEAN && (RT_FAILURE(rc) || !st.unclean))
        fail(x, "vci_check does not report an unclean image as such: %d (%s) %s", rc, sn(rc), msg);
    storages(x, "vci_check");

    /* Read-write on a copy: reads, writes read back, close, deep check. */
    bd = NULL;
    rc = be->pfnOpen("rw.vci", VD_OPEN_FLAGS_NORMAL, disk, img, &bd);
    check_open(x, "read-write open", c->open_rw, rc);
    if (RT_SUCCESS(rc)) {
        getters(x, bd, VD_OPEN_FLAGS_NORMAL);
        reads(x, bd, true);
        write_block(x, bd, 0, 4096);
        write_block(x, bd, 65536, 8192);
        write_block(x, bd, FAR_OFF, 512);
        reads(x, bd, true);
        struct VDIOCTX io;
        vdc_host_ioctx_init(x->host, &io, NULL, 0);
        (void)be->pfnFlush(bd, &io);
        rc = be->pfnClose(bd, false);
        bool must = c->deep == VDC_HX_VALID || c->deep == VDC_HX_UNCLEAN;
        if (RT_FAILURE(rc) && must)
            fail(x, "CLOSE-1: read-write close returned %d (%s)", rc, sn(rc));
        storages(x, "the read-write session");
        if (RT_SUCCESS(rc) && must) {
            char dmsg[256];
            dmsg[0] = '\0';
            if (RT_FAILURE(vdc_rel_vci_check(NULL, fs, "rw.vci", dmsg, sizeof dmsg)))
                fail(x, "after a read-write session the image fails the deep check: %s", dmsg);
        }
    }
    storages(x, "the read-write session");
    uint64_t misuse = vdc_host_get_stats(x->host)->misuse;
    if (misuse != 0)
        fail(x, "HOST-1: %llu misuse(s); log: %.300s", (unsigned long long)misuse, vdc_host_log(x->host));
    vdc_host_free(x->host);
    vdc_fs_destroy(fs);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long max_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

typedef struct totals {
    unsigned cases, failed, hits;
    double   max_ms;
    char     max_ms_case[64];
    long     max_rss;
    char     max_rss_case[64];
    unsigned by_probe[8], by_deep[8];
} totals;

static int one(void *user, const vdc_hostile_case *c)
{
    totals *t = user;
    ctx x;
    memset(&x, 0, sizeof x);
    x.c = c;
    if (t->cases == 0) {
        /* Warm-up, untimed: the first case pays the allocator's and the
         * sanitizers' one-time set-up. */
        run_case(&x);
        memset(&x, 0, sizeof x);
        x.c = c;
    }
    long rss0 = max_rss_kib();
    double t0 = now_ms();
    run_case(&x);
    double ms = now_ms() - t0;
    long grew = max_rss_kib() - rss0;
    if (ms > BUDGET_MS) {
        /* Once more, to tell a slow case from a busy machine: a case that
         * is really slow is slow twice.  Its verdicts must not change. */
        ctx again;
        memset(&again, 0, sizeof again);
        again.c = c;
        double t1 = now_ms();
        run_case(&again);
        double ms2 = now_ms() - t1;
        if (ms2 < ms)
            ms = ms2;
    }
    if (ms > t->max_ms) {
        t->max_ms = ms;
        snprintf(t->max_ms_case, sizeof t->max_ms_case, "%s", c->name);
    }
    if (grew > t->max_rss) {
        t->max_rss = grew;
        snprintf(t->max_rss_case, sizeof t->max_rss_case, "%s", c->name);
    }
    if (ms > BUDGET_MS)
        fail(&x, "took %.1f ms (budget %.0f)", ms, BUDGET_MS);
    if (grew > (long)BUDGET_RSS_KIB)
        fail(&x, "peak memory grew by %ld KiB (budget %u)", grew, BUDGET_RSS_KIB);
    t->cases++;
    t->hits += x.hits;
    t->by_probe[c->probe & 7]++;
    t->by_deep[c->deep & 7]++;
    if (x.fails != 0) {
        t->failed++;
        fprintf(stderr, "  %s: %s%s\n", c->name, x.first, x.fails > 1 ? " (and more)" : "");
    }
    return 0;
}

static void test_all_cases(void)
{
    totals t;
    memset(&t, 0, sizeof t);
    REQUIRE(vdc_hostile_each(one, &t) == 0);
    printf("# %u hostile cases, %u failed; %u read hits judged; probe hdr/ok %u/%u; deep valid/invalid/unclean/any %u/%u/%u/%u\n",
           t.cases, t.failed, t.hits, t.by_probe[VDC_HX_HDR], t.by_probe[VDC_HX_OK], t.by_deep[VDC_HX_VALID],
           t.by_deep[VDC_HX_INVALID], t.by_deep[VDC_HX_UNCLEAN], t.by_deep[VDC_HX_ANY]);
    printf("# slowest case %.2f ms (%s); largest peak-memory growth %ld KiB (%s)\n", t.max_ms, t.max_ms_case,
           t.max_rss, t.max_rss_case[0] ? t.max_rss_case : "-");
    CHECK(t.cases >= 250);
    CHECK_EQ(t.failed, 0);
    CHECK(t.hits > 0); /* valid images are actually served */
}

/* ---- the corpus on disk is what the generator builds ------------------------ */

typedef struct cmp {
    const char *dir;
    unsigned    checked, bad;
    FILE       *manifest;
} cmp;

static int compare(void *user, const vdc_hostile_case *c)
{
    cmp *m = user;
    char path[4096], line[1024], want[1024];
    snprintf(path, sizeof path, "%s/%s.vci", m->dir, c->name);
    FILE *f = fopen(path, "rb");
    bool same = false;
    if (f != NULL) {
        uint8_t *b = malloc(c->size + 1);
        size_t n = b != NULL ? fread(b, 1, c->size + 1, f) : 0;
        same = b != NULL && n == c->size && memcmp(b, c->img, c->size) == 0;
        free(b);
        fclose(f);
    }
    snprintf(want, sizeof want, "%s.vci probe=%s rw=%s ro=%s deep=%s size=%zu : %s\n", c->name,
             vdc_hx_name(c->probe), vdc_hx_name(c->open_rw), vdc_hx_name(c->open_ro), vdc_hx_name(c->deep), c->size,
             c->desc);
    do {
        if (fgets(line, sizeof line, m->manifest) == NULL)
            line[0] = '\0';
    } while (line[0] == '#');
    if (!same || strcmp(line, want) != 0) {
        if (m->bad++ < 5)
            fprintf(stderr, "  %s: %s differs from the generator's output (rerun vdcc-hostile-gen)\n", c->name,
                    same ? "its MANIFEST line" : "the file");
    }
    m->checked++;
    return 0;
}

static void test_corpus_matches(void)
{
    cmp m = { getenv("VDCC_HOSTILE_DIR") != NULL ? getenv("VDCC_HOSTILE_DIR") : "corpus/hostile", 0, 0, NULL };
    char path[4096];
    snprintf(path, sizeof path, "%s/MANIFEST", m.dir);
    m.manifest = fopen(path, "r");
    if (m.manifest == NULL)
        fprintf(stderr, "  %s not found: run from the repository root, or set VDCC_HOSTILE_DIR\n", path);
    REQUIRE(m.manifest != NULL);
    CHECK(vdc_hostile_each(compare, &m) == 0);
    char extra[64];
    CHECK(fgets(extra, sizeof extra, m.manifest) == NULL); /* no lines beyond the last case */
    fclose(m.manifest);
    CHECK(m.checked >= 250);
    CHECK_EQ(m.bad, 0);
}

/* The encoder agrees with itself and with the spec's own numbers. */
static void test_encoder(void)
{
    vci_enc e;
    ve_init(&e, 20, 2);
    CHECK(!e.oom);
    CHECK(ve_header_ok(e.buf, e.size));
    CHECK_EQ(e.size, (2 + 2 + 8) * 512);           /* header, M = 2, root */
    CHECK_EQ(ve_bm_blocks(20), 2);
    CHECK_EQ(ve_bm_blocks(4096), 2);
    CHECK_EQ(ve_bm_blocks(4097), 3);
    CHECK_EQ(ve_bm_blocks(VE_MAX_BLOCKS), 1 + (1u << 20));
    CHECK(ve_marked(&e, 0) && ve_marked(&e, 11) && !ve_marked(&e, 12));
    CHECK_EQ(e.buf[3 * 512], 0xFF);                /* blocks 0..7 marked, LSB first */
    CHECK_EQ(e.buf[3 * 512 + 1], 0x0F);            /* blocks 8..11 */
    CHECK_EQ(ve_get64(&e, 2 * 512 + VE_B_FREE), 8);
    CHECK_EQ(ve_get64(&e, 2 * 512 + VE_B_META), 12);
    ve_put8(&e, VE_H_UNCLEAN, 2);
    CHECK(!ve_header_ok(e.buf, e.size));
    CHECK(!ve_header_ok(e.buf, 1023));
    ve_free(&e);
}

CHECK_MAIN(CHECK_CASE(test_encoder), CHECK_CASE(test_all_cases), CHECK_CASE(test_corpus_matches))
