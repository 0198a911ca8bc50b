/*
 * harness/host/tests/test_host_ioctx.c - the I/O context cursor (ioctx.h).
 *
 * Segments are carved out of one arena with guard bytes between them, so a
 * byte written outside a segment shows up as a changed guard (and ASan
 * sees it too).  A randomized case replays operation sequences against a
 * flat model of the same bytes.
 */
#include "harness/host/ioctx.h"
#include "harness/host/tests/fixture.h"

#define GUARD 0xEE
#define ARENA 4096

typedef struct layout {
    uint8_t  arena[ARENA];
    RTSGSEG  segs[16];
    unsigned nsegs;
    size_t   total;
} layout;

/* Segments of the given sizes, 7 guard bytes before each. */
static void layout_make(layout *l, const size_t *sizes, unsigned n)
{
    size_t off = 0;
    memset(l->arena, GUARD, sizeof l->arena);
    l->nsegs = n;
    l->total = 0;
    for (unsigned i = 0; i < n; i++) {
        off += 7;
        l->segs[i].pvSeg = &l->arena[off];
        l->segs[i].cbSeg = sizes[i];
        memset(&l->arena[off], 0, sizes[i]);
        off += sizes[i];
        l->total += sizes[i];
    }
}

/* Are all bytes outside the segments still guards? */
static bool guards_intact(const layout *l)
{
    size_t pos = 0;
    for (unsigned i = 0; i <= l->nsegs; i++) {
        size_t end = i < l->nsegs ? (size_t)((uint8_t *)l->segs[i].pvSeg - l->arena) : ARENA;
        for (; pos < end; pos++)
            if (l->arena[pos] != GUARD)
                return false;
        if (i < l->nsegs)
            pos = end + l->segs[i].cbSeg;
    }
    return true;
}

/* The i-th logical byte of the segments. */
static uint8_t *logical(layout *l, size_t i)
{
    for (unsigned s = 0; s < l->nsegs; s++) {
        if (i < l->segs[s].cbSeg)
            return (uint8_t *)l->segs[s].pvSeg + i;
        i -= l->segs[s].cbSeg;
    }
    return NULL;
}

static const size_t mixed[] = { 5, 0, 100, 1, 0, 0, 37, 200 }; /* 343 bytes */
#define NMIXED 8u

static void test_init(void)
{
    layout l;
    struct VDIOCTX ctx;
    layout_make(&l, mixed, NMIXED);
    vdc_ioctx_init(&ctx, l.segs, l.nsegs);
    CHECK(vdc_ioctx_valid(&ctx));
    CHECK_EQ(ctx.magic, VDC_IOCTX_MAGIC);
    CHECK_EQ(ctx.left, 343);
    CHECK_EQ(ctx.total, 343);
    CHECK_EQ(ctx.iseg, 0);
    CHECK_EQ(ctx.segoff, 0);
    CHECK(ctx.sync);
    CHECK_EQ(ctx.data_unit, 512);
    CHECK_EQ(ctx.completions, 0);
    CHECK_EQ(ctx.rc_completed, VINF_SUCCESS);

    uint8_t buf[10];
    RTSGSEG one;
    vdc_ioctx_init_buf(&ctx, &one, buf, sizeof buf);
    CHECK(vdc_ioctx_valid(&ctx));
    CHECK(one.pvSeg == buf);
    CHECK_EQ(one.cbSeg, 10);
    CHECK_EQ(ctx.left, 10);

    vdc_ioctx_init(&ctx, NULL, 0);
    CHECK(vdc_ioctx_valid(&ctx));
    CHECK_EQ(ctx.left, 0);
    CHECK_EQ(vdc_ioctx_copy_to(&ctx, buf, 5), 0);
    CHECK(vdc_ioctx_is_zero(&ctx, 0, true));
    CHECK(!vdc_ioctx_is_zero(&ctx, 1, true));
}

static void test_init_invalid(void)
{
    struct VDIOCTX ctx;
    uint8_t buf[8] = { 0 };
    RTSGSEG bad_null[2] = { { buf, 8 }, { NULL, 4 } };
    RTSGSEG overflow[2] = { { buf, SIZE_MAX }, { buf, 2 } };
    RTSGSEG null_empty[2] = { { NULL, 0 }, { buf, 8 } };

    vdc_ioctx_init(&ctx, NULL, 3);
    CHECK(!vdc_ioctx_valid(&ctx));
    vdc_ioctx_init(&ctx, bad_null, 2);
    CHECK(!vdc_ioctx_valid(&ctx));
    CHECK_EQ(ctx.left, 0);
    CHECK_EQ(vdc_ioctx_set(&ctx, 1, 8), 0);
    CHECK_EQ(buf[0], 0);
    vdc_ioctx_init(&ctx, overflow, 2);
    CHECK(!vdc_ioctx_valid(&ctx));
    CHECK_EQ(vdc_ioctx_copy_to(&ctx, "x", 1), 0);
    CHECK_EQ(vdc_ioctx_copy_from(&ctx, buf, 1), 0);
    CHECK(!vdc_ioctx_is_zero(&ctx, 0, false));
    unsigned n = 4;
    RTSGSEG out[4];
    CHECK_EQ(vdc_ioctx_seg_array(&ctx, out, &n, 1), 0);
    CHECK_EQ(n, 0);
    /* A NULL buffer of size zero is fine. */
    vdc_ioctx_init(&ctx, null_empty, 2);
    CHECK(vdc_ioctx_valid(&ctx));
    CHECK_EQ(ctx.left, 8);
    /* A context whose magic was wiped is refused. */
    ctx.magic = 0x12345678;
    CHECK(!vdc_ioctx_valid(&ctx));
    CHECK_EQ(vdc_ioctx_set(&ctx, 7, 8), 0);
    CHECK_EQ(buf[0], 0);
    CHECK(!vdc_ioctx_valid(NULL));
}

static void test_copy_to(void)
{
    layout l;
    struct VDIOCTX ctx;
    uint8_t src[400];
    layout_make(&l, mixed, NMIXED);
    pattern_fill(src, sizeof src, 1, 0);
    vdc_ioctx_init(&ctx, l.segs, l.nsegs);
    /* In three pieces, crossing segment boundaries and empty segments. */
    CHECK_EQ(vdc_ioctx_copy_to(&ctx, src, 3), 3);
    CHECK_EQ(ctx.left, 340);
    CHECK_EQ(vdc_ioctx_copy_to(&ctx, src + 3, 104), 104);
    CHECK_EQ(ctx.left, 236);
    CHECK_EQ(vdc_ioctx_copy_to(&ctx, src + 107, 400 - 107), 236); /* bounded by left */
    CHECK_EQ(ctx.left, 0);
    CHECK_EQ(vdc_ioctx_copy_to(&ctx, src, 1), 0);
    for (size_t i = 0; i < 343; i++)
        if (*logical(&l, i) != src[i]) {
            CHECK_EQ(*logical(&l, i), src[i]);
            break;
        }
    CHECK(guards_intact(&l));
    CHECK_EQ(vdc_ioctx_copy_to(&ctx, NULL, 0), 0);
}

static void test_copy_from(void)
{
    layout l;
    struct VDIOCTX ctx;
    uint8_t dst[400];
    layout_make(&l, mixed, NMIXED);
    for (size_t i = 0; i < 343; i++)
        *logical(&l, i) = pattern_byte(2, i);
    memset(dst, 0, sizeof dst);
    vdc_ioctx_init(&ctx, l.segs, l.nsegs);
    CHECK_EQ(vdc_ioctx_copy_from(&ctx, dst, 5), 5);
    CHECK_EQ(vdc_ioctx_copy_from(&ctx, dst + 5, 101), 101);
    CHECK_EQ(vdc_ioctx_copy_from(&ctx, dst + 106, 294), 237); /* bounded by left */
    CHECK_EQ(ctx.left, 0);
    for (size_t i = 0; i < 343; i++)
        if (dst[i] != pattern_byte(2, i)) {
            CHECK_EQ(dst[i], pattern_byte(2, i));
            break;
        }
    CHECK_EQ(dst[343], 0); /* nothing beyond the transfer */
    CHECK(guards_intact(&l));
    /* NULL destination moves nothing. */
    vdc_ioctx_init(&ctx, l.segs, l.nsegs);
    CHECK_EQ(vdc_ioctx_copy_from(&ctx, NULL, 4), 0);
    CHECK_EQ(ctx.left, 343);
}

static void test_left_bounds(void)
{
    /* A transfer shorter than its buffers (VD's cbTransferLeft): nothing
     * past `left` is touched. */
    layout l;
    struct VDIOCTX ctx;
    layout_make(&l, mixed, NMIXED);
    vdc_ioctx_init(&ctx, l.segs, l.nsegs);
    ctx.left = 50;
    CHECK_EQ(vdc_ioctx_set(&ctx, 0xAB, 1000), 50);
    CHECK_EQ(ctx.left, 0);
    CHECK_EQ(*logical(&l, 49), 0xAB);
    CHECK_EQ(*logical(&l, 50), 0);
    CHECK_EQ(vdc_ioctx_set(&ctx, 0xAB, 1), 0);
    CHECK(guards_intact(&l));
}

static void test_set(void)
{
    layout l;
    struct VDIOCTX ctx;
    layout_make(&l, mixed, NMIXED);
    vdc_ioctx_init(&ctx, l.segs, l.nsegs);
    CHECK_EQ(vdc_ioctx_set(&ctx, 0x1FF, 4), 4); /* only the low byte counts */
    CHECK_EQ(vdc_ioctx_set(&ctx, 0x5A, 300), 300);
    CHECK_EQ(ctx.left, 39);
    CHECK_EQ(*logical(&l, 0), 0xFF);
    CHECK_EQ(*logical(&l, 3), 0xFF);
    CHECK_EQ(*logical(&l, 4), 0x5A);
    CHECK_EQ(*logical(&l, 303), 0x5A);
    CHECK_EQ(*logical(&l, 304), 0);
    CHECK(guards_intact(&l));
}

static void test_is_zero(void)
{
    layout l;
    struct VDIOCTX ctx;
    layout_make(&l, mixed, NMIXED);
    *logical(&l, 120) = 9; /* inside the 37-byte segment */
    vdc_ioctx_init(&ctx, l.segs, l.nsegs);
    CHECK(vdc_ioctx_is_zero(&ctx, 0, true));
    CHECK(vdc_ioctx_is_zero(&ctx, 120, false));
    CHECK_EQ(ctx.left, 343); /* no advance without fAdvance */
    CHECK(!vdc_ioctx_is_zero(&ctx, 121, true));
    CHECK_EQ(ctx.left, 343); /* no advance when not zero */
    CHECK(vdc_ioctx_is_zero(&ctx, 110, true));
    CHECK_EQ(ctx.left, 233);
    CHECK(!vdc_ioctx_is_zero(&ctx, 11, true));
    CHECK(vdc_ioctx_is_zero(&ctx, 10, true));
    CHECK(!vdc_ioctx_is_zero(&ctx, 1, true));
    uint8_t b;
    CHECK_EQ(vdc_ioctx_copy_from(&ctx, &b, 1), 1);
    CHECK_EQ(b, 9);
    CHECK(!vdc_ioctx_is_zero(&ctx, ctx.left + 1, false)); /* more than left */
    CHECK(vdc_ioctx_is_zero(&ctx, ctx.left, true));
    CHECK_EQ(ctx.left, 0);
}

static void test_seg_array(void)
{
    layout l;
    struct VDIOCTX ctx;
    RTSGSEG out[8];
    unsigned n;
    layout_make(&l, mixed, NMIXED);
    vdc_ioctx_init(&ctx, l.segs, l.nsegs);

    /* Count mode: 343 bytes live in 5 non-empty segments. */
    n = 99;
    CHECK_EQ(vdc_ioctx_seg_array(&ctx, NULL, &n, 1000), 343);
    CHECK_EQ(n, 5);
    CHECK_EQ(ctx.left, 343);
    n = 0;
    CHECK_EQ(vdc_ioctx_seg_array(&ctx, NULL, &n, 6), 6);
    CHECK_EQ(n, 2);

    /* Fill mode with room for two segments. */
    n = 2;
    CHECK_EQ(vdc_ioctx_seg_array(&ctx, out, &n, 50), 50);
    CHECK_EQ(n, 2);
    CHECK(out[0].pvSeg == l.segs[0].pvSeg);
    CHECK_EQ(out[0].cbSeg, 5);
    CHECK(out[1].pvSeg == l.segs[2].pvSeg);
    CHECK_EQ(out[1].cbSeg, 45);
    CHECK_EQ(ctx.left, 293);

    /* Limited by the entries, not the bytes. */
    n = 2;
    CHECK_EQ(vdc_ioctx_seg_array(&ctx, out, &n, 293), 56);
    CHECK_EQ(n, 2);
    CHECK(out[0].pvSeg == (uint8_t *)l.segs[2].pvSeg + 45);
    CHECK_EQ(out[0].cbSeg, 55);
    CHECK(out[1].pvSeg == l.segs[3].pvSeg);
    CHECK_EQ(out[1].cbSeg, 1);

    /* The rest; bytes beyond left are not described. */
    n = 8;
    CHECK_EQ(vdc_ioctx_seg_array(&ctx, out, &n, 5000), 237);
    CHECK_EQ(n, 2);
    CHECK_EQ(out[0].cbSeg, 37);
    CHECK_EQ(out[1].cbSeg, 200);
    CHECK_EQ(ctx.left, 0);
    n = 8;
    CHECK_EQ(vdc_ioctx_seg_array(&ctx, out, &n, 1), 0);
    CHECK_EQ(n, 0);
    CHECK_EQ(vdc_ioctx_seg_array(&ctx, out, NULL, 1), 0);
    n = 0;
    vdc_ioctx_init(&ctx, l.segs, l.nsegs);
    CHECK_EQ(vdc_ioctx_seg_array(&ctx, out, &n, 10), 0); /* no room */
    CHECK_EQ(ctx.left, 343);
}

/* Random sequences of operations against a flat model of the bytes. */
static void test_random_model(void)
{
    uint64_t rng = 0x1234567;
    for (int round = 0; round < 300; round++) {
        layout l;
        size_t sizes[16];
        unsigned nsegs = 1 + (unsigned)(rng_next(&rng) % 16);
        for (unsigned i = 0; i < nsegs; i++)
            sizes[i] = rng_next(&rng) % 4 == 0 ? 0 : (size_t)(rng_next(&rng) % 150);
        layout_make(&l, sizes, nsegs);
        uint8_t model[16 * 150];
        memset(model, 0, sizeof model);
        struct VDIOCTX ctx;
        vdc_ioctx_init(&ctx, l.segs, l.nsegs);
        REQUIRE(ctx.left == l.total);
        size_t pos = 0;
        while (pos < l.total) {
            size_t cb = (size_t)(rng_next(&rng) % 90), want = cb, got;
            size_t expect = cb < l.total - pos ? cb : l.total - pos;
            uint8_t buf[90];
            switch (rng_next(&rng) % 5) {
            case 0:
                pattern_fill(buf, cb, (unsigned)round, pos);
                got = vdc_ioctx_copy_to(&ctx, buf, cb);
                memcpy(model + pos, buf, expect);
                break;
            case 1:
                got = vdc_ioctx_copy_from(&ctx, buf, cb);
                CHECK(memcmp(buf, model + pos, expect) == 0);
                break;
            case 2:
                got = vdc_ioctx_set(&ctx, 0, cb);
                memset(model + pos, 0, expect);
                break;
            case 3: {
                bool zero = true;
                for (size_t i = 0; i < cb && pos + i < l.total; i++)
                    zero = zero && model[pos + i] == 0;
                bool is = vdc_ioctx_is_zero(&ctx, cb, true);
                CHECK_EQ(is, cb <= l.total - pos && zero);
                got = is ? cb : 0;
                expect = cb <= l.total - pos && zero ? cb : 0;
                break;
            }
            default: {
                RTSGSEG out[16];
                unsigned n = 16;
                got = vdc_ioctx_seg_array(&ctx, out, &n, want);
                size_t sum = 0;
                for (unsigned i = 0; i < n; i++) {
                    CHECK(out[i].cbSeg > 0);
                    CHECK(memcmp(out[i].pvSeg, model + pos + sum, out[i].cbSeg) == 0);
                    sum += out[i].cbSeg;
                }
                CHECK_EQ(sum, got);
                break;
            }
            }
            CHECK_EQ(got, expect);
            if (got != expect)
                return;
            pos += got;
            CHECK_EQ(ctx.left, l.total - pos);
        }
        for (size_t i = 0; i < l.total; i++)
            if (*logical(&l, i) != model[i]) {
                CHECK_EQ(*logical(&l, i), model[i]);
                return;
            }
        CHECK(guards_intact(&l));
    }
}

CHECK_MAIN(CHECK_CASE(test_init), CHECK_CASE(test_init_invalid), CHECK_CASE(test_copy_to),
           CHECK_CASE(test_copy_from), CHECK_CASE(test_left_bounds), CHECK_CASE(test_set),
           CHECK_CASE(test_is_zero), CHECK_CASE(test_seg_array), CHECK_CASE(test_random_model))
