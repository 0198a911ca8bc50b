/*
 * ref/tests/test_ref_alloc.c - the block map allocator (spec/vci-format.md
 * sections 4 and 8): bit order on disk, counters, next-fit runs, reuse of
 * freed ranges, paging through a tiny page cache, refusals, reset.
 */
#include <string.h>

#include "ref/vci_alloc.h"
#include "tests/check.h"
#include "tutil.h"

typedef struct fixture {
    tenv      *e;
    vci_io     io;
    vci_header h;
    vci_alloc *a;
} fixture;

/* An image of cblocks blocks with header, map and root marked, the bitmap
 * cached in `pages` pages. */
static int fixture_init(fixture *f, uint64_t cblocks, unsigned pages)
{
    memset(f, 0, sizeof(*f));
    f->e = tenv_new(0);
    int rc = tenv_raw_io(f->e, "a.vci", true, &f->io);
    if (RT_FAILURE(rc))
        return rc;
    f->h.cblocks = cblocks;
    f->h.type = VCI_TYPE_DYNAMIC;
    f->h.bm_addr = 2;
    f->h.bm_blocks = vci_bm_blocks_for(cblocks);
    f->h.root = f->h.bm_addr + f->h.bm_blocks;
    rc = vci_io_set_size(&f->io, (f->h.root + 8) * VCI_BLOCK_SIZE);
    if (RT_FAILURE(rc))
        return rc;
    vci_bmhdr b = { .managed = cblocks, .free = cblocks };
    rc = vci_alloc_new(&f->io, &f->h, &b, pages, &f->a);
    if (RT_SUCCESS(rc))
        rc = vci_alloc_mark(f->a, 0, 2, VCI_KIND_META);
    if (RT_SUCCESS(rc))
        rc = vci_alloc_mark(f->a, f->h.bm_addr, f->h.bm_blocks, VCI_KIND_META);
    if (RT_SUCCESS(rc))
        rc = vci_alloc_mark(f->a, f->h.root, 8, VCI_KIND_META);
    return rc;
}

static void fixture_fini(fixture *f)
{
    vci_alloc_destroy(f->a);
    if (f->io.stor != NULL)
        tenv_raw_close(f->e, &f->io);
    tenv_free(f->e);
}

static bool counts_ok(const vci_alloc *a, uint64_t cblocks)
{
    const vci_bmhdr *b = vci_alloc_counts(a);
    return b->managed == cblocks && b->free + b->meta + b->data == cblocks;
}

static void test_bit_order_on_disk(void)
{
    fixture f;
    REQUIRE(fixture_init(&f, 20000, 4) == VINF_SUCCESS);
    /* header 2 + map 1+5 + root 8 = 16 blocks: bits 0..15 */
    REQUIRE(vci_alloc_mark(f.a, 17, 1, VCI_KIND_DATA) == VINF_SUCCESS);
    REQUIRE(vci_alloc_mark(f.a, 8 * 100 + 3, 1, VCI_KIND_DATA) == VINF_SUCCESS);
    REQUIRE(vci_alloc_flush(f.a) == VINF_SUCCESS);
    uint8_t b[128];
    uint64_t bm = (f.h.bm_addr + 1) * VCI_BLOCK_SIZE;
    REQUIRE(vdc_fs_mem_peek(f.e->fs, "a.vci", bm, b, sizeof(b)) == VINF_SUCCESS);
    CHECK_EQ(b[0], 0xFF);
    CHECK_EQ(b[1], 0xFF);
    CHECK_EQ(b[2], 0x02); /* block 17 = byte 2, bit 1 */
    CHECK_EQ(b[100], 0x08); /* block 803 = byte 100, bit 3 */
    CHECK_EQ(b[3], 0);
    /* And the block-map header with its counters. */
    uint8_t hb[VCI_BMHDR_SIZE];
    REQUIRE(vdc_fs_mem_peek(f.e->fs, "a.vci", f.h.bm_addr * VCI_BLOCK_SIZE, hb, sizeof(hb)) == VINF_SUCCESS);
    vci_bmhdr d;
    REQUIRE(vci_bmhdr_decode(hb, &f.h, &d, NULL, NULL, 0) == VINF_SUCCESS);
    CHECK_EQ(d.meta, 16);
    CHECK_EQ(d.data, 2);
    CHECK_EQ(d.free, 20000 - 18);
    fixture_fini(&f);
}

static void test_next_fit_and_counts(void)
{
    fixture f;
    REQUIRE(fixture_init(&f, 100000, 4) == VINF_SUCCESS);
    uint64_t base = f.h.root + 8, addr, got;
    REQUIRE(vci_alloc_run(f.a, 10, 1, VCI_KIND_DATA, &addr, &got) == VINF_SUCCESS);
    CHECK_EQ(addr, base);
    CHECK_EQ(got, 10);
    REQUIRE(vci_alloc_run(f.a, 8, 8, VCI_KIND_META, &addr, &got) == VINF_SUCCESS);
    CHECK_EQ(addr, base + 10); /* consecutive: next fit */
    CHECK_EQ(got, 8);
    const vci_bmhdr *b = vci_alloc_counts(f.a);
    CHECK_EQ(b->data, 10);
    CHECK_EQ(b->meta, f.h.root + 8 + 8);
    CHECK(counts_ok(f.a, 100000));
    /* Freed blocks are found again first. */
    REQUIRE(vci_alloc_release(f.a, base + 2, 5, VCI_KIND_DATA) == VINF_SUCCESS);
    REQUIRE(vci_alloc_run(f.a, 4, 1, VCI_KIND_DATA, &addr, &got) == VINF_SUCCESS);
    CHECK_EQ(addr, base + 2);
    CHECK_EQ(got, 4);
    /* The rest of the freed range is still remembered. */
    REQUIRE(vci_alloc_run(f.a, 1, 1, VCI_KIND_DATA, &addr, &got) == VINF_SUCCESS);
    CHECK_EQ(addr, base + 6);
    CHECK(counts_ok(f.a, 100000));
    fixture_fini(&f);
}

/* vci_alloc_run_aligned: the start is congruent to the phase when a run of
 * `want` allows it (skipping at most free/1024 blocks), a rewrite reuses its
 * freed blocks aligned, and without room for alignment the plain choice is
 * made; a small cache is never left with gaps. */
static void test_aligned_runs(void)
{
    fixture f;
    REQUIRE(fixture_init(&f, 1000000, 4) == VINF_SUCCESS);
    uint64_t base = f.h.root + 8, addr, got; /* 2 + 1+245 + 8 = 256: aligned to 128 */
    REQUIRE(base % 128 == 0);
    REQUIRE(vci_alloc_run(f.a, 3, 3, VCI_KIND_DATA, &addr, &got) == VINF_SUCCESS);
    CHECK_EQ(addr, base);
    /* Next free block is base + 3: 128 blocks at phase 0 start at base + 128. */
    REQUIRE(vci_alloc_run_aligned(f.a, 128, 1, VCI_KIND_DATA, 128, 0, &addr, &got) == VINF_SUCCESS);
    CHECK_EQ(addr, base + 128);
    CHECK_EQ(got, 128);
    /* Phase 5 modulo 8 (a guest range starting 5 blocks into a 4 KiB unit). */
    REQUIRE(vci_alloc_run_aligned(f.a, 16, 1, VCI_KIND_DATA, 8, 13, &addr, &got) == VINF_SUCCESS);
    CHECK_EQ(addr % 8, 5);
    CHECK_EQ(addr, base + 256 + 5);
    CHECK_EQ(got, 16);
    /* A rewrite: the freed range is found again, aligned, before any scan. */
    REQUIRE(vci_alloc_release(f.a, base + 128, 128, VCI_KIND_DATA) == VINF_SUCCESS);
    REQUIRE(vci_alloc_run_aligned(f.a, 128, 1, VCI_KIND_DATA, 128, 0, &addr, &got) == VINF_SUCCESS);
    CHECK_EQ(addr, base + 128);
    /* The gap [base + 3, base + 128) stays free (the scan finds it when it
     * wraps); the counters agree. */
    for (uint64_t b = base + 3; b < base + 128; b++) {
        bool set = true;
        REQUIRE(vci_alloc_test(f.a, b, &set) == VINF_SUCCESS);
        CHECK(!set);
    }
    CHECK_EQ(vci_alloc_counts(f.a)->data, 3 + 128 + 16);
    CHECK(counts_ok(f.a, 1000000));
    CHECK_EQ(vci_alloc_run_aligned(f.a, 8, 1, VCI_KIND_DATA, 3, 0, &addr, &got), VERR_INVALID_PARAMETER);
    CHECK_EQ(vci_alloc_run_aligned(f.a, 8, 1, VCI_KIND_DATA, 0, 0, &addr, &got), VERR_INVALID_PARAMETER);
    fixture_fini(&f);

    /* A small cache (free space under 1024 x the skew) stays packed. */
    REQUIRE(fixture_init(&f, 4000, 4) == VINF_SUCCESS);
    base = f.h.root + 8; /* 2 + 2 + 8 = 12 */
    REQUIRE(vci_alloc_run_aligned(f.a, 8, 1, VCI_KIND_DATA, 8, 0, &addr, &got) == VINF_SUCCESS);
    CHECK_EQ(addr, base);
    CHECK_EQ(got, 8);
    fixture_fini(&f);
}

static void test_refusals(void)
{
    fixture f;
    REQUIRE(fixture_init(&f, 20000, 4) == VINF_SUCCESS);
    vci_bmhdr before = *vci_alloc_counts(f.a);
    CHECK_EQ(vci_alloc_release(f.a, 100, 1, VCI_KIND_DATA), VERR_VD_IMAGE_CORRUPTED); /* not allocated */
    CHECK_EQ(vci_alloc_mark(f.a, 0, 1, VCI_KIND_DATA), VERR_VD_IMAGE_CORRUPTED);      /* allocated */
    CHECK_EQ(vci_alloc_mark(f.a, 19999, 2, VCI_KIND_DATA), VERR_VD_IMAGE_CORRUPTED);  /* past the end */
    CHECK_EQ(vci_alloc_release(f.a, 5, 12, VCI_KIND_DATA), VERR_VD_IMAGE_CORRUPTED);  /* more data than counted */
    /* A partly allocated range changes nothing. */
    REQUIRE(vci_alloc_mark(f.a, 1000, 1, VCI_KIND_DATA) == VINF_SUCCESS);
    CHECK_EQ(vci_alloc_mark(f.a, 998, 4, VCI_KIND_DATA), VERR_VD_IMAGE_CORRUPTED);
    bool set;
    REQUIRE(vci_alloc_test(f.a, 998, &set) == VINF_SUCCESS);
    CHECK(!set);
    REQUIRE(vci_alloc_release(f.a, 1000, 1, VCI_KIND_DATA) == VINF_SUCCESS);
    const vci_bmhdr *after = vci_alloc_counts(f.a);
    CHECK(after->free == before.free && after->meta == before.meta && after->data == before.data);
    uint64_t addr, got;
    CHECK_EQ(vci_alloc_run(f.a, 0, 0, VCI_KIND_DATA, &addr, &got), VERR_INVALID_PARAMETER);
    CHECK_EQ(vci_alloc_run(f.a, 1, 2, VCI_KIND_DATA, &addr, &got), VERR_INVALID_PARAMETER);
    fixture_fini(&f);
}

/* Fills the whole image (cBlocks not a multiple of 8): exactly cBlocks are
 * handed out, nothing past the end, then VERR_DISK_FULL. */
static void test_fill_to_the_end(void)
{
    fixture f;
    const uint64_t cb = 33333;
    REQUIRE(fixture_init(&f, cb, 2) == VINF_SUCCESS);
    uint64_t total = vci_alloc_counts(f.a)->meta, addr, got;
    int rc;
    unsigned calls = 0;
    while ((rc = vci_alloc_run(f.a, 1000, 1, VCI_KIND_DATA, &addr, &got)) == VINF_SUCCESS) {
        CHECK(addr + got <= cb);
        total += got;
        calls++;
    }
    CHECK_EQ(rc, VERR_DISK_FULL);
    CHECK_EQ(total, cb);
    CHECK_EQ(vci_alloc_counts(f.a)->free, 0);
    CHECK(calls >= 33);
    bool set;
    REQUIRE(vci_alloc_test(f.a, cb - 1, &set) == VINF_SUCCESS);
    CHECK(set);
    CHECK_EQ(vci_alloc_test(f.a, cb, &set), VERR_VD_IMAGE_CORRUPTED);
    fixture_fini(&f);
}

/* A fragmented image: no run of 8 until one is freed, which is then found
 * without a scan (recent frees), and the largest run is taken when none is
 * as long as wanted. */
static void test_fragmented(void)
{
    fixture f;
    const uint64_t cb = 200000;
    REQUIRE(fixture_init(&f, cb, 2) == VINF_SUCCESS);
    uint64_t base = f.h.root + 8, addr, got;
    REQUIRE(vci_alloc_mark(f.a, base, cb - base, VCI_KIND_DATA) == VINF_SUCCESS);
    /* Free every third block: runs of 1 only. */
    for (uint64_t b = base; b < cb; b += 3)
        REQUIRE(vci_alloc_release(f.a, b, 1, VCI_KIND_DATA) == VINF_SUCCESS);
    CHECK_EQ(vci_alloc_run(f.a, 8, 8, VCI_KIND_META, &addr, &got), VERR_DISK_FULL);
    CHECK_EQ(vci_alloc_run(f.a, 8, 8, VCI_KIND_META, &addr, &got), VERR_DISK_FULL); /* no rescan needed */
    /* Free 10 consecutive blocks far away (pages are evicted in between). */
    uint64_t far = cb - 5000;
    far -= (far - base) % 3;
    REQUIRE(vci_alloc_release(f.a, far + 1, 2, VCI_KIND_DATA) == VINF_SUCCESS);
    REQUIRE(vci_alloc_release(f.a, far + 4, 2, VCI_KIND_DATA) == VINF_SUCCESS);
    REQUIRE(vci_alloc_release(f.a, far + 7, 2, VCI_KIND_DATA) == VINF_SUCCESS);
    /* far..far+9 are now free (far, far+3, far+6, far+9 were already). */
    REQUIRE(vci_alloc_run(f.a, 8, 8, VCI_KIND_META, &addr, &got) == VINF_SUCCESS);
    CHECK(addr >= far && addr + 8 <= far + 10);
    CHECK_EQ(got, 8);
    /* Data asking for 100 gets the largest run available (here 1..2). */
    REQUIRE(vci_alloc_run(f.a, 100, 1, VCI_KIND_DATA, &addr, &got) == VINF_SUCCESS);
    CHECK(got >= 1 && got <= 2);
    CHECK(counts_ok(f.a, cb));
    fixture_fini(&f);
}

/* Pages written back on eviction and re-read are the same bits. */
static void test_paging_persists(void)
{
    fixture f;
    const uint64_t cb = 4u * VCI_BM_PAGE_BLOCKS + 100;
    REQUIRE(fixture_init(&f, cb, 2) == VINF_SUCCESS);
    uint64_t seed = 7;
    uint64_t marked[64];
    for (unsigned i = 0; i < 64; i++) {
        uint64_t b;
        bool set;
        do {
            b = f.h.root + 8 + trand(&seed) % (cb - f.h.root - 8);
            REQUIRE(vci_alloc_test(f.a, b, &set) == VINF_SUCCESS);
        } while (set);
        REQUIRE(vci_alloc_mark(f.a, b, 1, VCI_KIND_DATA) == VINF_SUCCESS);
        marked[i] = b;
    }
    REQUIRE(vci_alloc_flush(f.a) == VINF_SUCCESS);
    CHECK(!vci_alloc_dirty(f.a));
    vci_bmhdr counts = *vci_alloc_counts(f.a);
    vci_alloc_destroy(f.a);
    REQUIRE(vci_alloc_new(&f.io, &f.h, &counts, 2, &f.a) == VINF_SUCCESS);
    for (unsigned i = 0; i < 64; i++) {
        bool set;
        REQUIRE(vci_alloc_test(f.a, marked[i], &set) == VINF_SUCCESS);
        CHECK(set);
        REQUIRE(vci_alloc_release(f.a, marked[i], 1, VCI_KIND_DATA) == VINF_SUCCESS);
    }
    CHECK_EQ(vci_alloc_counts(f.a)->data, 0);
    fixture_fini(&f);
}

static void test_reset(void)
{
    fixture f;
    const uint64_t cb = 3u * VCI_BM_PAGE_BLOCKS;
    REQUIRE(fixture_init(&f, cb, 2) == VINF_SUCCESS);
    uint64_t addr, got;
    REQUIRE(vci_alloc_run(f.a, 50000, 1, VCI_KIND_DATA, &addr, &got) == VINF_SUCCESS);
    REQUIRE(vci_alloc_flush(f.a) == VINF_SUCCESS);
    const uint64_t ranges[2][2] = { { 0, 2 }, { 2, 4 } };
    REQUIRE(vci_alloc_reset(f.a, ranges, 2) == VINF_SUCCESS);
    const vci_bmhdr *b = vci_alloc_counts(f.a);
    CHECK_EQ(b->meta, 6);
    CHECK_EQ(b->data, 0);
    CHECK_EQ(b->free, cb - 6);
    uint8_t raw[8];
    REQUIRE(vdc_fs_mem_peek(f.e->fs, "a.vci", (f.h.bm_addr + 1) * VCI_BLOCK_SIZE, raw, 8) == VINF_SUCCESS);
    CHECK_EQ(raw[0], 0x3F);
    CHECK_EQ(raw[1], 0);
    bool set;
    REQUIRE(vci_alloc_test(f.a, 40000, &set) == VINF_SUCCESS);
    CHECK(!set);
    const uint64_t bad[1][2] = { { cb - 1, 2 } };
    CHECK_EQ(vci_alloc_reset(f.a, bad, 1), VERR_VD_IMAGE_CORRUPTED);
    fixture_fini(&f);
}

CHECK_MAIN(CHECK_CASE(test_aligned_runs), CHECK_CASE(test_bit_order_on_disk), CHECK_CASE(test_next_fit_and_counts), CHECK_CASE(test_refusals),
           CHECK_CASE(test_fill_to_the_end), CHECK_CASE(test_fragmented), CHECK_CASE(test_paging_persists),
           CHECK_CASE(test_reset))
