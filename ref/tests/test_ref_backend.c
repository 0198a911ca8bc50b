/*
 * ref/tests/test_ref_backend.c - the reference backend through its vtable
 * (spec/vci-format.md sections 9-12): probe, create and open rules, reads
 * and writes (aligned, unaligned, merging), discard, read-only behaviour,
 * eviction order, unclean images, two images at once, reopen with other
 * flags, UUIDs, the small callbacks, and that open of a 2 TiB cache reads
 * three structures.  Every test also checks that the host saw no misuse.
 */
#include <stdlib.h>
#include <string.h>

#include "ref/ref.h"
#include "ref/vci_cache.h"
#include "ref/vci_check.h"
#include "ref/vci_lru.h"
#include "tests/check.h"
#include "tutil.h"

#define KiB 1024u
#define MiB (1024u * 1024u)

static uint64_t misuse(tenv *e)
{
    return vdc_host_get_stats(e->host)->misuse;
}

static void test_probe(void)
{
    tenv *e = tenv_new(0);
    void *bd;
    PVDINTERFACE disk = vdc_host_disk_ifs(e->host), probe = vdc_host_probe_ifs(e->host);
    REQUIRE(tenv_create(e, "c.vci", 1 * MiB, 0, &bd) == VINF_SUCCESS);
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);
    CHECK_EQ(e->be->pfnProbe("c.vci", disk, probe), VINF_SUCCESS);

    uint8_t junk[4096];
    tfill(junk, sizeof(junk), 5);
    REQUIRE(vdc_fs_mem_put(e->fs, "empty", junk, 0) == VINF_SUCCESS);
    REQUIRE(vdc_fs_mem_put(e->fs, "short", "VCI", 4) == VINF_SUCCESS);
    REQUIRE(vdc_fs_mem_put(e->fs, "junk", junk, sizeof(junk)) == VINF_SUCCESS);
    CHECK_EQ(e->be->pfnProbe("empty", disk, probe), VERR_VD_GEN_INVALID_HEADER);
    CHECK_EQ(e->be->pfnProbe("short", disk, probe), VERR_VD_GEN_INVALID_HEADER);
    CHECK_EQ(e->be->pfnProbe("junk", disk, probe), VERR_VD_GEN_INVALID_HEADER);
    /* A real header with one field damaged, and a 1023-byte prefix. */
    uint8_t hdr[1024];
    REQUIRE(vdc_fs_mem_peek(e->fs, "c.vci", 0, hdr, sizeof(hdr)) == VINF_SUCCESS);
    REQUIRE(vdc_fs_mem_put(e->fs, "prefix", hdr, 1023) == VINF_SUCCESS);
    CHECK_EQ(e->be->pfnProbe("prefix", disk, probe), VERR_VD_GEN_INVALID_HEADER);
    hdr[17] = 7; /* cache type */
    REQUIRE(vdc_fs_mem_put(e->fs, "damaged", hdr, sizeof(hdr)) == VINF_SUCCESS);
    CHECK_EQ(e->be->pfnProbe("damaged", disk, probe), VERR_VD_GEN_INVALID_HEADER);
    /* Not a format question: passed through. */
    CHECK_EQ(e->be->pfnProbe("missing", disk, probe), VERR_FILE_NOT_FOUND);
    CHECK_EQ(e->be->pfnProbe(NULL, disk, probe), VERR_INVALID_PARAMETER);
    CHECK_EQ(vdc_host_get_stats(e->host)->open_storages, 0);
    CHECK_EQ(misuse(e), 0);
    /* Probe wrote nothing. */
    uint8_t again[1024];
    REQUIRE(vdc_fs_mem_peek(e->fs, "damaged", 0, again, sizeof(again)) == VINF_SUCCESS);
    CHECK(memcmp(again, hdr, sizeof(hdr)) == 0);
    tenv_free(e);
}

static void test_create_rules(void)
{
    tenv *e = tenv_new(0);
    void *bd = NULL;
    const uint64_t bad[] = { 0, 511, 10239, 10240 + 1, (UINT64_C(2) << 40) + 512 };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ(tenv_create(e, "s.vci", bad[i], 0, &bd), VERR_VD_INVALID_SIZE);
    CHECK_EQ(tenv_create(e, "s.vci", 1 * MiB, VD_IMAGE_FLAGS_DIFF, &bd), VERR_INVALID_PARAMETER);
    CHECK_EQ(tenv_create(e, "s.vci", 1 * MiB, 0x80000000u, &bd), VERR_INVALID_PARAMETER);
    CHECK_EQ(tenv_create(e, "s.vci", 1 * MiB, VD_VMDK_IMAGE_FLAGS_SPLIT_2G, &bd), VERR_INVALID_PARAMETER);
    PVDINTERFACE disk = vdc_host_disk_ifs(e->host), img = vdc_host_image_ifs(e->host),
                 op = vdc_host_op_ifs(e->host);
    CHECK_EQ(e->be->pfnCreate("s.vci", MiB, 0, NULL, NULL, VD_OPEN_FLAGS_READONLY, 0, 99, disk, img, op, &bd),
             VERR_INVALID_PARAMETER);
    CHECK_EQ(e->be->pfnCreate("s.vci", MiB, 0, NULL, NULL, 0x800, 0, 99, disk, img, op, &bd),
             VERR_INVALID_PARAMETER);
    CHECK_EQ(e->be->pfnCreate("", MiB, 0, NULL, NULL, 0, 0, 99, disk, img, op, &bd), VERR_INVALID_PARAMETER);
    CHECK_EQ(e->be->pfnProbe("s.vci", disk, vdc_host_probe_ifs(e->host)), VERR_FILE_NOT_FOUND);

    /* The smallest cache: it stores data. */
    REQUIRE(tenv_create(e, "min.vci", 10240, 0, &bd) == VINF_SUCCESS);
    uint8_t buf[4096], out[4096];
    tfill(buf, sizeof(buf), 1);
    REQUIRE(tenv_write_all(e, bd, 0, buf, sizeof(buf), NULL) == VINF_SUCCESS);
    size_t done;
    CHECK_EQ(tenv_read(e, bd, 0, out, sizeof(out), &done), VINF_SUCCESS);
    CHECK(done == 4096 && memcmp(buf, out, 4096) == 0);
    CHECK_EQ(e->be->pfnGetSize(bd), 10240);
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);

    /* UUID given, fixed, preallocated, progress reported. */
    RTUUID u, got;
    for (unsigned i = 0; i < 16; i++)
        u.au8[i] = (uint8_t)(i * 17);
    REQUIRE(e->be->pfnCreate("f.vci", 8 * MiB, VD_IMAGE_FLAGS_FIXED, "ignored", &u, 0, 10, 50, disk, img, op,
                             &bd) == VINF_SUCCESS);
    CHECK_EQ(vdc_host_get_stats(e->host)->last_progress, 60);
    CHECK_EQ(e->be->pfnGetImageFlags(bd), VD_IMAGE_FLAGS_FIXED);
    CHECK_EQ(e->be->pfnGetFileSize(bd), 8 * MiB);
    CHECK_EQ(e->be->pfnGetSize(bd), 8 * MiB);
    REQUIRE(e->be->pfnGetUuid(bd, &got) == VINF_SUCCESS);
    CHECK(memcmp(got.au8, u.au8, 16) == 0);
    REQUIRE(e->be->pfnGetModificationUuid(bd, &got) == VINF_SUCCESS);
    for (unsigned i = 0; i < 16; i++)
        CHECK(got.au8[i] == 0);
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);
    /* An existing file is neither replaced nor deleted. */
    CHECK_EQ(e->be->pfnCreate("f.vci", MiB, 0, NULL, NULL, 0, 0, 99, disk, img, op, &bd), VERR_ALREADY_EXISTS);
    CHECK_EQ(e->be->pfnProbe("f.vci", disk, vdc_host_probe_ifs(e->host)), VINF_SUCCESS);

    /* Dynamic: starts at its metadata, random UUID. */
    REQUIRE(tenv_create(e, "d.vci", 64 * MiB, 0, &bd) == VINF_SUCCESS);
    uint64_t small = e->be->pfnGetFileSize(bd);
    CHECK_EQ(small, (2 + 1 + 32 + 8) * 512);
    CHECK_EQ(e->be->pfnGetImageFlags(bd), 0);
    REQUIRE(e->be->pfnGetUuid(bd, &got) == VINF_SUCCESS);
    unsigned nz = 0;
    for (unsigned i = 0; i < 16; i++)
        nz += got.au8[i] != 0;
    CHECK(nz > 4);
    REQUIRE(tenv_write_all(e, bd, 1 * MiB, buf, sizeof(buf), NULL) == VINF_SUCCESS);
    CHECK(e->be->pfnGetFileSize(bd) > small);
    CHECK_EQ(e->be->pfnGetVersion(bd), 1);
    REQUIRE(e->be->pfnClose(bd, true) == VINF_SUCCESS);
    CHECK_EQ(e->be->pfnProbe("d.vci", disk, vdc_host_probe_ifs(e->host)), VERR_FILE_NOT_FOUND);
    CHECK_EQ(vdc_host_get_stats(e->host)->open_storages, 0);
    CHECK_EQ(misuse(e), 0);
    tenv_free(e);
}

static void test_open_rules(void)
{
    tenv *e = tenv_new(0);
    void *bd;
    REQUIRE(tenv_create(e, "o.vci", 1 * MiB, 0, &bd) == VINF_SUCCESS);
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);
    CHECK_EQ(tenv_open(e, "o.vci", 0x800, &bd), VERR_INVALID_PARAMETER);
    CHECK_EQ(tenv_open(e, "missing.vci", 0, &bd), VERR_FILE_NOT_FOUND);
    CHECK_EQ(tenv_open(e, NULL, 0, &bd), VERR_INVALID_PARAMETER);
    CHECK_EQ(e->be->pfnOpen("o.vci", 0, vdc_host_disk_ifs(e->host), NULL, &bd), VERR_INVALID_PARAMETER);
    uint8_t junk[8192];
    tfill(junk, sizeof(junk), 3);
    REQUIRE(vdc_fs_mem_put(e->fs, "junk", junk, sizeof(junk)) == VINF_SUCCESS);
    CHECK_EQ(tenv_open(e, "junk", 0, &bd), VERR_VD_GEN_INVALID_HEADER);
    /* Every flag is accepted. */
    const unsigned flags[] = { VD_OPEN_FLAGS_HONOR_ZEROES, VD_OPEN_FLAGS_SEQUENTIAL, VD_OPEN_FLAGS_DISCARD,
                               VD_OPEN_FLAGS_ASYNC_IO, VD_OPEN_FLAGS_SHAREABLE, VD_OPEN_FLAGS_IGNORE_FLUSH,
                               VD_OPEN_FLAGS_INFORM_ABOUT_ZERO_BLOCKS, VD_OPEN_FLAGS_SKIP_CONSISTENCY_CHECKS,
                               VD_OPEN_FLAGS_HONOR_SAME, VD_OPEN_FLAGS_INFO, VD_OPEN_FLAGS_MASK };
    for (unsigned i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        if (tenv_open(e, "o.vci", flags[i], &bd) != VINF_SUCCESS) {
            CHECK(!"open with a valid flag failed");
            continue;
        }
        CHECK_EQ(e->be->pfnGetOpenFlags(bd), flags[i]);
        CHECK_EQ(e->be->pfnClose(bd, false), VINF_SUCCESS);
    }
    /* INFO opens read-only. */
    REQUIRE(tenv_open(e, "o.vci", VD_OPEN_FLAGS_INFO, &bd) == VINF_SUCCESS);
    uint8_t buf[512] = { 1 };
    size_t done;
    CHECK_EQ(tenv_write(e, bd, 0, buf, sizeof(buf), &done), VERR_VD_IMAGE_READ_ONLY);
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);
    /* Bad config values. */
    REQUIRE(vdc_host_config_set(e->host, "NodeCacheSize", "5") == VINF_SUCCESS);
    CHECK_EQ(tenv_open(e, "o.vci", 0, &bd), VERR_VD_UNKNOWN_CFG_VALUES);
    REQUIRE(vdc_host_config_set(e->host, "NodeCacheSize", "12x") == VINF_SUCCESS);
    CHECK_EQ(tenv_open(e, "o.vci", 0, &bd), VERR_VD_UNKNOWN_CFG_VALUES);
    REQUIRE(vdc_host_config_set(e->host, "NodeCacheSize", "32") == VINF_SUCCESS);
    REQUIRE(vdc_host_config_set(e->host, "BitmapCacheSize", "4") == VINF_SUCCESS);
    REQUIRE(tenv_open(e, "o.vci", 0, &bd) == VINF_SUCCESS);
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);
    CHECK_EQ(vdc_host_get_stats(e->host)->open_storages, 0);
    CHECK_EQ(misuse(e), 0);
    tenv_free(e);
}

static void test_read_write(void)
{
    tenv *e = tenv_new(0);
    void *bd;
    REQUIRE(tenv_create(e, "rw.vci", 4 * MiB, 0, &bd) == VINF_SUCCESS);
    uint8_t *data = malloc(256 * KiB), *out = malloc(256 * KiB), *hit = malloc(256 * KiB);
    REQUIRE(data != NULL && out != NULL && hit != NULL);
    tfill(data, 256 * KiB, 11);
    size_t done;

    /* A fresh cache misses the whole request. */
    CHECK_EQ(tenv_read(e, bd, 12345, out, 100 * KiB, &done), VERR_VD_BLOCK_FREE);
    CHECK_EQ(done, 100 * KiB);
    /* Bad arguments. */
    CHECK_EQ(tenv_read(e, bd, 0, out, 0, &done), VERR_INVALID_PARAMETER);
    CHECK_EQ(e->be->pfnRead(bd, 0, 512, NULL, &done), VERR_INVALID_PARAMETER);
    CHECK_EQ(tenv_write(e, bd, 0, data, 0, &done), VERR_INVALID_PARAMETER);
    CHECK_EQ(tenv_read(e, bd, UINT64_MAX - 10, out, 512, &done), VERR_INVALID_PARAMETER);

    /* 64 KiB at 1 MiB in one call, read back in one call. */
    REQUIRE(tenv_write(e, bd, 1 * MiB, data, 64 * KiB, &done) == VINF_SUCCESS);
    CHECK_EQ(done, 64 * KiB);
    CHECK_EQ(tenv_read(e, bd, 1 * MiB, out, 64 * KiB, &done), VINF_SUCCESS);
    CHECK(done == 64 * KiB && memcmp(out, data, 64 * KiB) == 0);
    /* A miss before cached data stops exactly at it. */
    CHECK_EQ(tenv_read(e, bd, 1 * MiB - 1000, out, 4096, &done), VERR_VD_BLOCK_FREE);
    CHECK_EQ(done, 1000);
    /* A hit starting inside a block, ending at the extent's end. */
    CHECK_EQ(tenv_read(e, bd, 1 * MiB + 64 * KiB - 700, out, 4096, &done), VINF_SUCCESS);
    CHECK(done == 700 && memcmp(out, data + 64 * KiB - 700, 700) == 0);
    /* Any offset of the virtual disk, far beyond the capacity. */
    REQUIRE(tenv_write_all(e, bd, UINT64_C(1) << 50, data, 8 * KiB, NULL) == VINF_SUCCESS);
    CHECK_EQ(tenv_read(e, bd, UINT64_C(1) << 50, out, 8 * KiB, &done), VINF_SUCCESS);
    CHECK(done == 8 * KiB && memcmp(out, data, 8 * KiB) == 0);
    /* The last block of the 64-bit range. */
    REQUIRE(tenv_write_all(e, bd, UINT64_MAX - 511, data, 511, NULL) == VINF_SUCCESS);
    CHECK_EQ(tenv_read(e, bd, UINT64_MAX - 1023, out, 1023, &done), VERR_VD_BLOCK_FREE);
    CHECK_EQ(done, 1023);

    /* Unaligned head: processed up to the boundary, not stored, and the old
     * content of that block is dropped. */
    REQUIRE(tenv_write(e, bd, 1 * MiB + 100, data + 5000, 3000, &done) == VINF_SUCCESS);
    CHECK_EQ(done, 412);
    CHECK_EQ(tenv_read(e, bd, 1 * MiB, out, 512, &done), VERR_VD_BLOCK_FREE);
    CHECK_EQ(done, 512);
    CHECK_EQ(tenv_read(e, bd, 1 * MiB + 512, out, 512, &done), VINF_SUCCESS);
    CHECK(memcmp(out, data + 512, 512) == 0);
    /* A short aligned write: same. */
    REQUIRE(tenv_write(e, bd, 1 * MiB + 512, data, 100, &done) == VINF_SUCCESS);
    CHECK_EQ(done, 100);
    CHECK_EQ(tenv_read(e, bd, 1 * MiB + 512, out, 512, &done), VERR_VD_BLOCK_FREE);
    /* The VD loop over an unaligned write: head and tail forgotten, the
     * middle stored and read back. */
    unsigned calls;
    REQUIRE(tenv_write_all(e, bd, 2 * MiB + 300, data, 10 * KiB, &calls) == VINF_SUCCESS);
    CHECK_EQ(calls, 3);
    REQUIRE(tenv_read_all(e, bd, 2 * MiB, out, 11 * KiB, hit) == VINF_SUCCESS);
    for (size_t i = 0; i < 11 * KiB; i++) {
        bool inner = i >= 512 && i < 10 * KiB;
        if (hit[i] != inner || (inner && out[i] != data[i - 300])) {
            CHECK(!"unaligned write stored wrongly");
            break;
        }
    }

    /* Rewriting the middle of an extent splits it. */
    REQUIRE(tenv_write_all(e, bd, 1 * MiB, data, 64 * KiB, NULL) == VINF_SUCCESS);
    REQUIRE(tenv_write_all(e, bd, 1 * MiB + 8 * KiB, data + 100 * KiB, 4 * KiB, NULL) == VINF_SUCCESS);
    REQUIRE(tenv_read_all(e, bd, 1 * MiB, out, 64 * KiB, hit) == VINF_SUCCESS);
    for (size_t i = 0; i < 64 * KiB; i++) {
        uint8_t want = (i >= 8 * KiB && i < 12 * KiB) ? data[100 * KiB + i - 8 * KiB] : data[i];
        if (!hit[i] || out[i] != want) {
            CHECK(!"split extent serves wrong data");
            break;
        }
    }
    CHECK_EQ(misuse(e), 0);
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);
    free(data);
    free(out);
    free(hit);
    tenv_free(e);
}

/* Sequential fills grow one extent: a 64 KiB read after sixteen 4 KiB
 * writes is served by one call. */
static void test_sequential_merge(void)
{
    tenv *e = tenv_new(0);
    void *bd;
    REQUIRE(tenv_create(e, "m.vci", 4 * MiB, 0, &bd) == VINF_SUCCESS);
    uint8_t data[64 * KiB], out[64 * KiB];
    tfill(data, sizeof(data), 21);
    for (unsigned i = 0; i < 16; i++)
        REQUIRE(tenv_write_all(e, bd, 512 * KiB + i * 4 * KiB, data + i * 4 * KiB, 4 * KiB, NULL)
                == VINF_SUCCESS);
    size_t done;
    CHECK_EQ(tenv_read(e, bd, 512 * KiB, out, sizeof(out), &done), VINF_SUCCESS);
    CHECK_EQ(done, 64 * KiB);
    CHECK(memcmp(out, data, sizeof(out)) == 0);
    /* Backwards fills merge too (the new extent grows its successor). */
    for (unsigned i = 16; i-- > 0;)
        REQUIRE(tenv_write_all(e, bd, 0 + i * 4 * KiB, data + i * 4 * KiB, 4 * KiB, NULL) == VINF_SUCCESS);
    CHECK_EQ(tenv_read(e, bd, 0, out, sizeof(out), &done), VINF_SUCCESS);
    CHECK(done >= 4 * KiB);
    CHECK(memcmp(out, data, done) == 0);
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);
    tenv_free(e);
}

static void test_discard(void)
{
    tenv *e = tenv_new(0);
    void *bd;
    REQUIRE(tenv_create(e, "x.vci", 4 * MiB, 0, &bd) == VINF_SUCCESS);
    uint8_t data[32 * KiB], out[32 * KiB], hit[32 * KiB];
    tfill(data, sizeof(data), 4);
    REQUIRE(tenv_write_all(e, bd, 0, data, sizeof(data), NULL) == VINF_SUCCESS);
    size_t pre = 7, post = 7, dd = 0;
    void *bm = (void *)1;
    REQUIRE(e->be->pfnDiscard(bd, NULL, 1000, 3000, &pre, &post, &dd, &bm, 0) == VINF_SUCCESS);
    CHECK(pre == 0 && post == 0 && dd == 3000 && bm == NULL);
    REQUIRE(tenv_read_all(e, bd, 0, out, sizeof(out), hit) == VINF_SUCCESS);
    for (size_t i = 0; i < sizeof(out); i++) {
        bool dropped = i >= 512 && i < 4096; /* blocks 1..7 touched by 1000..3999 */
        if (hit[i] == dropped || (hit[i] && out[i] != data[i])) {
            CHECK(!"discard dropped the wrong blocks");
            break;
        }
    }
    CHECK_EQ(e->be->pfnDiscard(bd, NULL, 0, 512, &pre, &post, &dd, &bm, 0x2), VERR_INVALID_PARAMETER);
    CHECK_EQ(e->be->pfnDiscard(bd, NULL, 0, 0, &pre, &post, &dd, &bm, 0), VERR_INVALID_PARAMETER);
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);
    CHECK_EQ(misuse(e), 0);
    tenv_free(e);
}

static void test_read_only(void)
{
    tenv *e = tenv_new(0);
    void *bd;
    REQUIRE(tenv_create(e, "r.vci", 1 * MiB, 0, &bd) == VINF_SUCCESS);
    uint8_t data[8 * KiB], out[8 * KiB];
    tfill(data, sizeof(data), 8);
    REQUIRE(tenv_write_all(e, bd, 0, data, sizeof(data), NULL) == VINF_SUCCESS);
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);
    uint8_t before[14 * KiB], after[14 * KiB];
    uint64_t size = 0, fsz;
    REQUIRE(tenv_copy(e, "r.vci", "r.copy", &fsz) == VINF_SUCCESS);
    REQUIRE(fsz == sizeof(before));
    REQUIRE(vdc_fs_mem_peek(e->fs, "r.vci", 0, before, sizeof(before)) == VINF_SUCCESS);
    uint64_t writes = vdc_host_get_stats(e->host)->meta_writes + vdc_host_get_stats(e->host)->user_writes;
    REQUIRE(tenv_open(e, "r.vci", VD_OPEN_FLAGS_READONLY, &bd) == VINF_SUCCESS);
    size = e->be->pfnGetFileSize(bd);
    size_t done;
    CHECK_EQ(tenv_read(e, bd, 0, out, sizeof(out), &done), VINF_SUCCESS);
    CHECK(done == sizeof(out) && memcmp(out, data, sizeof(out)) == 0);
    CHECK_EQ(tenv_write(e, bd, 0, data, 512, &done), VERR_VD_IMAGE_READ_ONLY);
    size_t a, b, c;
    CHECK_EQ(e->be->pfnDiscard(bd, NULL, 0, 512, &a, &b, &c, NULL, 0), VERR_VD_IMAGE_READ_ONLY);
    RTUUID u = { .au8 = { 1 } };
    CHECK_EQ(e->be->pfnSetUuid(bd, &u), VERR_VD_IMAGE_READ_ONLY);
    CHECK_EQ(e->be->pfnSetModificationUuid(bd, &u), VERR_VD_IMAGE_READ_ONLY);
    CHECK_EQ(e->be->pfnSetComment(bd, "x"), VERR_VD_IMAGE_READ_ONLY);
    CHECK_EQ(e->be->pfnFlush(bd, NULL), VINF_SUCCESS);
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);
    REQUIRE(tenv_copy(e, "r.vci", "r.copy", &fsz) == VINF_SUCCESS);
    CHECK_EQ(fsz, sizeof(after));
    REQUIRE(vdc_fs_mem_peek(e->fs, "r.vci", 0, after, sizeof(after)) == VINF_SUCCESS);
    CHECK(memcmp(before, after, sizeof(after)) == 0);
    CHECK(size > 0);
    CHECK_EQ(vdc_host_get_stats(e->host)->meta_writes + vdc_host_get_stats(e->host)->user_writes, writes);
    CHECK_EQ(misuse(e), 0);
    tenv_free(e);
}

/* Data area of 3 x 8 blocks: writing a fourth 8-block range evicts the least
 * recently used one, and a read hit counts as use. */
static void test_eviction_order(void)
{
    tenv *e = tenv_new(0);
    void *bd;
    const uint64_t cap = (2 + 2 + 8 + 24) * 512; /* header, map, root, data */
    REQUIRE(tenv_create(e, "lru.vci", cap, 0, &bd) == VINF_SUCCESS);
    uint8_t d[4][4096], out[4096];
    for (unsigned i = 0; i < 4; i++)
        tfill(d[i], 4096, 100 + i);
    const uint64_t off[4] = { 0, 1 * MiB, 2 * MiB, 3 * MiB };
    for (unsigned i = 0; i < 3; i++)
        REQUIRE(tenv_write_all(e, bd, off[i], d[i], 4096, NULL) == VINF_SUCCESS);
    size_t done;
    REQUIRE(tenv_read(e, bd, off[0], out, 4096, &done) == VINF_SUCCESS); /* A is now the most recent */
    REQUIRE(tenv_write_all(e, bd, off[3], d[3], 4096, NULL) == VINF_SUCCESS);
    CHECK_EQ(tenv_read(e, bd, off[0], out, 4096, &done), VINF_SUCCESS);
    CHECK(memcmp(out, d[0], 4096) == 0);
    CHECK_EQ(tenv_read(e, bd, off[1], out, 4096, &done), VERR_VD_BLOCK_FREE); /* B was the tail */
    CHECK_EQ(tenv_read(e, bd, off[2], out, 4096, &done), VINF_SUCCESS);
    CHECK(memcmp(out, d[2], 4096) == 0);
    CHECK_EQ(tenv_read(e, bd, off[3], out, 4096, &done), VINF_SUCCESS);
    CHECK(memcmp(out, d[3], 4096) == 0);
    /* The reads above made D, C, A the order (A the tail); it survives
     * close and reopen. */
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);
    REQUIRE(tenv_open(e, "lru.vci", 0, &bd) == VINF_SUCCESS);
    REQUIRE(tenv_write_all(e, bd, off[1], d[1], 4096, NULL) == VINF_SUCCESS);
    CHECK_EQ(tenv_read(e, bd, off[0], out, 4096, &done), VERR_VD_BLOCK_FREE);
    CHECK_EQ(tenv_read(e, bd, off[2], out, 4096, &done), VINF_SUCCESS);
    CHECK(memcmp(out, d[2], 4096) == 0);
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);

    /* Without the LRU1 marker, eviction goes by key: the lowest goes first,
     * even when it was just read. */
    uint64_t size;
    REQUIRE(tenv_copy(e, "lru.vci", "key.vci", &size) == VINF_SUCCESS);
    uint8_t *img = malloc(size);
    REQUIRE(img != NULL);
    REQUIRE(vdc_fs_mem_peek(e->fs, "key.vci", 0, img, size) == VINF_SUCCESS);
    memset(img + 73, 0, 20);
    REQUIRE(vdc_fs_mem_put(e->fs, "key.vci", img, size) == VINF_SUCCESS);
    free(img);
    REQUIRE(tenv_open(e, "key.vci", 0, &bd) == VINF_SUCCESS);
    REQUIRE(tenv_read(e, bd, off[1], out, 4096, &done) == VINF_SUCCESS);
    REQUIRE(tenv_write_all(e, bd, off[0], d[0], 4096, NULL) == VINF_SUCCESS);
    CHECK_EQ(tenv_read(e, bd, off[1], out, 4096, &done), VERR_VD_BLOCK_FREE);
    for (unsigned i = 0; i < 4; i += 2 + (i == 0)) {
        CHECK_EQ(tenv_read(e, bd, off[i], out, 4096, &done), VINF_SUCCESS);
        CHECK(memcmp(out, d[i], 4096) == 0);
    }
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);
    uint8_t mark[4];
    REQUIRE(vdc_fs_mem_peek(e->fs, "key.vci", 73, mark, 4) == VINF_SUCCESS);
    CHECK(memcmp(mark, "\0\0\0\0", 4) == 0); /* still no marker */
    CHECK_EQ(misuse(e), 0);
    tenv_free(e);
}

/* Read hits change nothing on disk by themselves: a flush after reads only
 * writes nothing; their recency is applied before the next eviction and at
 * close.  A read extent that is gone by then (discarded, or trimmed so its
 * key changed) is skipped without harm to the list. */
static void test_read_recency(void)
{
    tenv *e = tenv_new(0);
    void *bd;
    const uint64_t cap = (2 + 2 + 8 + 32) * 512; /* header, map, root, 4 extents of 8 */
    REQUIRE(tenv_create(e, "rr.vci", cap, 0, &bd) == VINF_SUCCESS);
    uint8_t d[5][4096], out[4096];
    for (unsigned i = 0; i < 5; i++)
        tfill(d[i], 4096, 200 + i);
    const uint64_t off[5] = { 0, 1 * MiB, 2 * MiB, 3 * MiB, 4 * MiB };
    for (unsigned i = 0; i < 4; i++)
        REQUIRE(tenv_write_all(e, bd, off[i], d[i], 4096, NULL) == VINF_SUCCESS);
    REQUIRE(e->be->pfnFlush(bd, NULL) == VINF_SUCCESS);
    const vdc_host_stats *st = vdc_host_get_stats(e->host);
    uint64_t mw = st->meta_writes, uw = st->user_writes, fl = st->flushes;
    size_t done;
    REQUIRE(tenv_read(e, bd, off[0], out, 4096, &done) == VINF_SUCCESS);
    REQUIRE(tenv_read(e, bd, off[1], out, 4096, &done) == VINF_SUCCESS);
    REQUIRE(e->be->pfnFlush(bd, NULL) == VINF_SUCCESS);
    CHECK_EQ(st->meta_writes, mw);
    CHECK_EQ(st->user_writes, uw);
    CHECK_EQ(st->flushes, fl);

    /* Order now (most recent first): B, A, D, C.  A fifth extent evicts C. */
    REQUIRE(tenv_write_all(e, bd, off[4], d[4], 4096, NULL) == VINF_SUCCESS);
    CHECK_EQ(tenv_read(e, bd, off[2], out, 4096, &done), VERR_VD_BLOCK_FREE);
    for (unsigned i = 0; i < 5; i++) {
        if (i == 2)
            continue;
        CHECK_EQ(tenv_read(e, bd, off[i], out, 4096, &done), VINF_SUCCESS);
        CHECK(memcmp(out, d[i], 4096) == 0);
    }
    /* Reads of A and B, then A goes and B's key moves (front trimmed): the
     * recorded reads name keys that no longer exist. */
    REQUIRE(tenv_read(e, bd, off[0], out, 4096, &done) == VINF_SUCCESS);
    REQUIRE(tenv_read(e, bd, off[1], out, 4096, &done) == VINF_SUCCESS);
    REQUIRE(e->be->pfnDiscard(bd, NULL, off[0], 4096, NULL, NULL, &done, NULL, 0) == VINF_SUCCESS);
    REQUIRE(e->be->pfnDiscard(bd, NULL, off[1], 512, NULL, NULL, &done, NULL, 0) == VINF_SUCCESS);
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);
    char msg[256];
    vci_check_stats cs;
    CHECK_EQ(vci_check("rr.vci", vdc_host_image_ifs(e->host), msg, sizeof(msg), &cs), VINF_SUCCESS);
    CHECK(cs.lru);          /* the list was not switched off */
    CHECK_EQ(cs.extents, 3); /* B (trimmed), D, E */
    CHECK_EQ(misuse(e), 0);
    tenv_free(e);
}

/* More distinct read hits than vci_lru remembers: the oldest are forgotten
 * (recency from reads is advisory), the rest are applied in order, and the
 * list stays consistent. */
static void test_read_ring_overflow(void)
{
    tenv *e = tenv_new(0);
    void *bd;
    const unsigned want = VCI_LRU_READS + 100;
    /* Room for about `want` extents of 8 blocks; more are written, so the
     * first ones are evicted and the cache is exactly full. */
    const uint64_t cap = ((uint64_t)want * 8 + 2 + 4 + 8 * 14) * 512;
    REQUIRE(tenv_create(e, "ro.vci", cap, 0, &bd) == VINF_SUCCESS);
    uint8_t d[4096], out[4096];
    tfill(d, sizeof(d), 77);
    const unsigned total = want + 50;
    for (unsigned i = 0; i < total; i++)
        REQUIRE(tenv_write_all(e, bd, (uint64_t)i * MiB, d, sizeof(d), NULL) == VINF_SUCCESS);
    /* The survivors, in key (= write) order. */
    unsigned *surv = malloc(total * sizeof(*surv)), n = 0;
    REQUIRE(surv != NULL);
    size_t done;
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS); /* no reads recorded yet */
    REQUIRE(tenv_open(e, "ro.vci", 0, &bd) == VINF_SUCCESS);
    for (unsigned i = 0; i < total; i++) {
        int rc = tenv_read(e, bd, (uint64_t)i * MiB, out, sizeof(out), &done);
        REQUIRE(rc == VINF_SUCCESS || rc == VERR_VD_BLOCK_FREE);
        if (rc == VINF_SUCCESS)
            surv[n++] = i;
    }
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS); /* applies those reads: order = key order */
    REQUIRE(n > VCI_LRU_READS + 1 && n < total);
    REQUIRE(tenv_open(e, "ro.vci", 0, &bd) == VINF_SUCCESS);
    /* Read every survivor, highest key first: only the last VCI_LRU_READS
     * reads (the lowest keys) are remembered.  The least recent is then the
     * survivor with index VCI_LRU_READS (exact LRU would say surv[n - 1]). */
    for (unsigned i = n; i-- > 0;)
        REQUIRE(tenv_read(e, bd, (uint64_t)surv[i] * MiB, out, sizeof(out), &done) == VINF_SUCCESS);
    REQUIRE(tenv_write_all(e, bd, (uint64_t)(total + 1) * MiB, d, sizeof(d), NULL) == VINF_SUCCESS);
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);
    REQUIRE(tenv_open(e, "ro.vci", VD_OPEN_FLAGS_READONLY, &bd) == VINF_SUCCESS);
    unsigned gone = 0, victim = 0;
    for (unsigned i = 0; i < n; i++) {
        int rc = tenv_read(e, bd, (uint64_t)surv[i] * MiB, out, sizeof(out), &done);
        if (rc == VERR_VD_BLOCK_FREE) {
            gone++;
            victim = surv[i];
        }
    }
    CHECK_EQ(gone, 1);
    CHECK_EQ(victim, surv[VCI_LRU_READS]);
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);
    char msg[256];
    vci_check_stats cs;
    CHECK_EQ(vci_check("ro.vci", vdc_host_image_ifs(e->host), msg, sizeof(msg), &cs), VINF_SUCCESS);
    CHECK(cs.lru);
    CHECK_EQ(misuse(e), 0);
    free(surv);
    tenv_free(e);
}

/* A cache that is full keeps accepting writes (evicting); a write larger than
 * the whole cache is processed in parts. */
static void test_full_cache(void)
{
    tenv *e = tenv_new(0);
    void *bd;
    REQUIRE(tenv_create(e, "full.vci", 64 * KiB, 0, &bd) == VINF_SUCCESS);
    uint8_t *data = malloc(256 * KiB), *out = malloc(256 * KiB), *hit = malloc(256 * KiB);
    REQUIRE(data != NULL && out != NULL && hit != NULL);
    tfill(data, 256 * KiB, 77);
    unsigned calls;
    REQUIRE(tenv_write_all(e, bd, 0, data, 256 * KiB, &calls) == VINF_SUCCESS);
    CHECK(calls > 1);
    REQUIRE(tenv_read_all(e, bd, 0, out, 256 * KiB, hit) == VINF_SUCCESS);
    size_t hits = 0;
    for (size_t i = 0; i < 256 * KiB; i++) {
        if (hit[i]) {
            hits++;
            if (out[i] != data[i]) {
                CHECK(!"full cache served wrong data");
                break;
            }
        }
    }
    CHECK(hits > 0 && hits < 64 * KiB);
    for (unsigned i = 0; i < 200; i++)
        REQUIRE(tenv_write_all(e, bd, (uint64_t)i * 7 * KiB, data, 3 * KiB, NULL) == VINF_SUCCESS);
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);
    CHECK_EQ(misuse(e), 0);
    free(data);
    free(out);
    free(hit);
    tenv_free(e);
}

/* An image left with the unclean flag: read-only opens miss everything and
 * change nothing; read-write opens reinitialise it. */
static void test_unclean(void)
{
    tenv *e = tenv_new(0);
    void *bd;
    REQUIRE(tenv_create(e, "u.vci", 1 * MiB, 0, &bd) == VINF_SUCCESS);
    uint8_t data[16 * KiB], out[16 * KiB];
    tfill(data, sizeof(data), 31);
    REQUIRE(tenv_write_all(e, bd, 0, data, sizeof(data), NULL) == VINF_SUCCESS);
    REQUIRE(e->be->pfnFlush(bd, NULL) == VINF_SUCCESS);
    uint8_t flag;
    REQUIRE(vdc_fs_mem_peek(e->fs, "u.vci", 16, &flag, 1) == VINF_SUCCESS);
    CHECK_EQ(flag, 0);
    REQUIRE(tenv_write_all(e, bd, 64 * KiB, data, sizeof(data), NULL) == VINF_SUCCESS);
    REQUIRE(vdc_fs_mem_peek(e->fs, "u.vci", 16, &flag, 1) == VINF_SUCCESS);
    CHECK_EQ(flag, 1); /* set before the first write after the flush */
    /* "Crash": copy the file as it is now. */
    uint64_t fsz;
    REQUIRE(tenv_copy(e, "u.vci", "crash.vci", &fsz) == VINF_SUCCESS);
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);
    uint8_t *img = malloc(fsz), *img2 = malloc(fsz);
    REQUIRE(img != NULL && img2 != NULL);
    REQUIRE(vdc_fs_mem_peek(e->fs, "crash.vci", 0, img, fsz) == VINF_SUCCESS);

    size_t done;
    REQUIRE(tenv_open(e, "crash.vci", VD_OPEN_FLAGS_READONLY, &bd) == VINF_SUCCESS);
    CHECK(vci_cache_all_miss(bd));
    CHECK_EQ(tenv_read(e, bd, 0, out, sizeof(out), &done), VERR_VD_BLOCK_FREE);
    CHECK_EQ(done, sizeof(out));
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);
    REQUIRE(vdc_fs_mem_peek(e->fs, "crash.vci", 0, img2, fsz) == VINF_SUCCESS);
    CHECK(memcmp(img, img2, fsz) == 0);

    REQUIRE(tenv_open(e, "crash.vci", 0, &bd) == VINF_SUCCESS);
    CHECK(!vci_cache_all_miss(bd));
    CHECK_EQ(tenv_read(e, bd, 0, out, sizeof(out), &done), VERR_VD_BLOCK_FREE);
    CHECK_EQ(done, sizeof(out));
    REQUIRE(vdc_fs_mem_peek(e->fs, "crash.vci", 16, &flag, 1) == VINF_SUCCESS);
    CHECK_EQ(flag, 0);
    REQUIRE(tenv_write_all(e, bd, 0, data, sizeof(data), NULL) == VINF_SUCCESS);
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);
    REQUIRE(tenv_open(e, "crash.vci", VD_OPEN_FLAGS_READONLY, &bd) == VINF_SUCCESS);
    CHECK_EQ(tenv_read(e, bd, 0, out, sizeof(out), &done), VINF_SUCCESS);
    CHECK(done == sizeof(out) && memcmp(out, data, sizeof(out)) == 0);
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);
    /* The original, closed cleanly, kept both writes. */
    REQUIRE(tenv_open(e, "u.vci", VD_OPEN_FLAGS_READONLY, &bd) == VINF_SUCCESS);
    CHECK_EQ(tenv_read(e, bd, 64 * KiB, out, sizeof(out), &done), VINF_SUCCESS);
    CHECK(done == sizeof(out) && memcmp(out, data, sizeof(out)) == 0);
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);
    free(img);
    free(img2);
    CHECK_EQ(misuse(e), 0);
    tenv_free(e);
}

static void test_two_images(void)
{
    tenv *e = tenv_new(0);
    void *a, *b;
    REQUIRE(tenv_create(e, "a.vci", 1 * MiB, 0, &a) == VINF_SUCCESS);
    REQUIRE(tenv_create(e, "b.vci", 1 * MiB, VD_IMAGE_FLAGS_FIXED, &b) == VINF_SUCCESS);
    uint8_t da[4096], db[4096], out[4096];
    tfill(da, sizeof(da), 1);
    tfill(db, sizeof(db), 2);
    for (unsigned i = 0; i < 50; i++) {
        REQUIRE(tenv_write_all(e, a, i * 8192, da, 4096, NULL) == VINF_SUCCESS);
        REQUIRE(tenv_write_all(e, b, i * 8192 + 4096, db, 4096, NULL) == VINF_SUCCESS);
    }
    size_t done;
    CHECK_EQ(tenv_read(e, a, 4096, out, 4096, &done), VERR_VD_BLOCK_FREE);
    CHECK_EQ(tenv_read(e, b, 0, out, 4096, &done), VERR_VD_BLOCK_FREE);
    CHECK_EQ(tenv_read(e, a, 49 * 8192, out, 4096, &done), VINF_SUCCESS);
    CHECK(memcmp(out, da, 4096) == 0);
    CHECK_EQ(tenv_read(e, b, 49 * 8192 + 4096, out, 4096, &done), VINF_SUCCESS);
    CHECK(memcmp(out, db, 4096) == 0);
    REQUIRE(e->be->pfnClose(a, false) == VINF_SUCCESS);
    CHECK_EQ(tenv_read(e, b, 4096, out, 4096, &done), VINF_SUCCESS);
    REQUIRE(e->be->pfnClose(b, false) == VINF_SUCCESS);
    CHECK_EQ(misuse(e), 0);
    tenv_free(e);
}

static void test_set_open_flags_and_uuids(void)
{
    tenv *e = tenv_new(0);
    void *bd;
    REQUIRE(tenv_create(e, "f.vci", 1 * MiB, 0, &bd) == VINF_SUCCESS);
    uint8_t data[4096], out[4096];
    tfill(data, sizeof(data), 9);
    REQUIRE(tenv_write_all(e, bd, 0, data, sizeof(data), NULL) == VINF_SUCCESS);
    RTUUID u, m, got;
    tfill(u.au8, 16, 1);
    tfill(m.au8, 16, 2);
    REQUIRE(e->be->pfnSetUuid(bd, &u) == VINF_SUCCESS);
    REQUIRE(e->be->pfnSetModificationUuid(bd, &m) == VINF_SUCCESS);
    REQUIRE(e->be->pfnGetModificationUuid(bd, &got) == VINF_SUCCESS);
    CHECK(memcmp(got.au8, m.au8, 16) == 0);
    CHECK_EQ(e->be->pfnSetOpenFlags(bd, 0x1000), VERR_INVALID_PARAMETER);
    REQUIRE(e->be->pfnSetOpenFlags(bd, VD_OPEN_FLAGS_READONLY) == VINF_SUCCESS);
    CHECK_EQ(e->be->pfnGetOpenFlags(bd), VD_OPEN_FLAGS_READONLY);
    size_t done;
    CHECK_EQ(tenv_write(e, bd, 0, data, 512, &done), VERR_VD_IMAGE_READ_ONLY);
    CHECK_EQ(tenv_read(e, bd, 0, out, sizeof(out), &done), VINF_SUCCESS);
    CHECK(memcmp(out, data, sizeof(out)) == 0);
    REQUIRE(e->be->pfnGetModificationUuid(bd, &got) == VINF_SUCCESS);
    CHECK(memcmp(got.au8, m.au8, 16) == 0);
    REQUIRE(e->be->pfnSetOpenFlags(bd, VD_OPEN_FLAGS_NORMAL) == VINF_SUCCESS);
    REQUIRE(tenv_write_all(e, bd, 8192, data, sizeof(data), NULL) == VINF_SUCCESS);
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);
    REQUIRE(tenv_open(e, "f.vci", VD_OPEN_FLAGS_READONLY, &bd) == VINF_SUCCESS);
    REQUIRE(e->be->pfnGetUuid(bd, &got) == VINF_SUCCESS);
    CHECK(memcmp(got.au8, u.au8, 16) == 0);
    REQUIRE(e->be->pfnGetModificationUuid(bd, &got) == VINF_SUCCESS);
    CHECK(memcmp(got.au8, m.au8, 16) == 0);
    CHECK_EQ(tenv_read(e, bd, 8192, out, sizeof(out), &done), VINF_SUCCESS);
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);
    CHECK_EQ(misuse(e), 0);
    tenv_free(e);
}

static void test_small_callbacks(void)
{
    tenv *e = tenv_new(0);
    void *bd;
    const VDCACHEBACKEND *be = &vdcc_ref_backend;
    CHECK_EQ(be->u32Version, VD_CACHEBACKEND_VERSION);
    CHECK_EQ(be->u32VersionEnd, VD_CACHEBACKEND_VERSION);
    CHECK(strcmp(be->pszBackendName, "vci") == 0);
    CHECK(strcmp(be->papszFileExtensions[0], "vci") == 0 && be->papszFileExtensions[1] == NULL);
    CHECK((be->uBackendCaps & (VD_CAP_CREATE_FIXED | VD_CAP_CREATE_DYNAMIC | VD_CAP_FILE | VD_CAP_DISCARD))
          == (VD_CAP_CREATE_FIXED | VD_CAP_CREATE_DYNAMIC | VD_CAP_FILE | VD_CAP_DISCARD));
    CHECK(!(be->uBackendCaps & VD_CAP_UUID));
    REQUIRE(tenv_create(e, "s.vci", 1 * MiB, 0, &bd) == VINF_SUCCESS);
    char buf[16];
    CHECK_EQ(be->pfnGetComment(bd, buf, sizeof(buf)), VERR_NOT_SUPPORTED);
    CHECK_EQ(be->pfnSetComment(bd, "x"), VERR_NOT_SUPPORTED);
    char *s = (char *)1;
    CHECK_EQ(be->pfnComposeLocation(NULL, &s), VERR_NOT_SUPPORTED);
    CHECK(s == NULL);
    s = (char *)1;
    CHECK_EQ(be->pfnComposeName(NULL, &s), VERR_NOT_SUPPORTED);
    CHECK(s == NULL);
    uint64_t before = vdc_host_get_stats(e->host)->messages;
    be->pfnDump(bd);
    CHECK(vdc_host_get_stats(e->host)->messages > before);
    CHECK(strstr(vdc_host_log(e->host), "VCI cache") != NULL);
    CHECK_EQ(be->pfnFlush(bd, NULL), VINF_SUCCESS);
    REQUIRE(be->pfnClose(bd, false) == VINF_SUCCESS);
    CHECK_EQ(misuse(e), 0);
    tenv_free(e);
}

/* IGNORE_FLUSH: flush writes nothing, close still cleans up. */
static void test_ignore_flush(void)
{
    tenv *e = tenv_new(0);
    void *bd;
    REQUIRE(tenv_create(e, "i.vci", 1 * MiB, 0, &bd) == VINF_SUCCESS);
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);
    REQUIRE(tenv_open(e, "i.vci", VD_OPEN_FLAGS_IGNORE_FLUSH, &bd) == VINF_SUCCESS);
    uint8_t data[4096];
    tfill(data, sizeof(data), 3);
    REQUIRE(tenv_write_all(e, bd, 0, data, sizeof(data), NULL) == VINF_SUCCESS);
    uint64_t flushes = vdc_host_get_stats(e->host)->flushes;
    REQUIRE(e->be->pfnFlush(bd, NULL) == VINF_SUCCESS);
    CHECK_EQ(vdc_host_get_stats(e->host)->flushes, flushes);
    uint8_t flag;
    REQUIRE(vdc_fs_mem_peek(e->fs, "i.vci", 16, &flag, 1) == VINF_SUCCESS);
    CHECK_EQ(flag, 1);
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);
    REQUIRE(vdc_fs_mem_peek(e->fs, "i.vci", 16, &flag, 1) == VINF_SUCCESS);
    CHECK_EQ(flag, 0);
    tenv_free(e);
}

/* An image whose bitmap disagrees with its tree (here: a data block marked
 * free) is served as it is until the first change, which proves the
 * allocation wrong and forgets the image; a consistent one keeps its data. */
static void test_inconsistent_image_is_forgotten(void)
{
    tenv *e = tenv_new(0);
    void *bd;
    REQUIRE(tenv_create(e, "g.vci", 1 * MiB, 0, &bd) == VINF_SUCCESS);
    uint8_t a[4096], b[4096], c[4096], out[4096];
    tfill(a, sizeof(a), 1);
    tfill(b, sizeof(b), 2);
    tfill(c, sizeof(c), 3);
    REQUIRE(tenv_write_all(e, bd, 0, a, 4096, NULL) == VINF_SUCCESS);
    REQUIRE(tenv_write_all(e, bd, 1 * MiB, b, 4096, NULL) == VINF_SUCCESS);
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);
    uint64_t size;
    REQUIRE(tenv_copy(e, "g.vci", "k.vci", &size) == VINF_SUCCESS);
    uint8_t *img = malloc(size);
    REQUIRE(img != NULL);
    REQUIRE(vdc_fs_mem_peek(e->fs, "k.vci", 0, img, size) == VINF_SUCCESS);
    REQUIRE(img[1536 + 1] == 0xFF); /* bitmap byte 1: blocks 8-15 */
    img[1536 + 1] = 0xDF;           /* block 13 (data of A) "free" */
    REQUIRE(vdc_fs_mem_put(e->fs, "k.vci", img, size) == VINF_SUCCESS);
    free(img);

    size_t done;
    REQUIRE(tenv_open(e, "k.vci", 0, &bd) == VINF_SUCCESS);
    CHECK_EQ(tenv_read(e, bd, 0, out, 4096, &done), VINF_SUCCESS); /* served until the first change */
    REQUIRE(tenv_write_all(e, bd, 2 * MiB, c, 4096, NULL) == VINF_SUCCESS);
    CHECK_EQ(tenv_read(e, bd, 0, out, 4096, &done), VERR_VD_BLOCK_FREE);
    CHECK_EQ(tenv_read(e, bd, 1 * MiB, out, 4096, &done), VERR_VD_BLOCK_FREE);
    CHECK_EQ(tenv_read(e, bd, 2 * MiB, out, 4096, &done), VINF_SUCCESS);
    CHECK(memcmp(out, c, 4096) == 0);
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);

    REQUIRE(tenv_open(e, "g.vci", 0, &bd) == VINF_SUCCESS);
    REQUIRE(tenv_write_all(e, bd, 2 * MiB, c, 4096, NULL) == VINF_SUCCESS);
    CHECK_EQ(tenv_read(e, bd, 0, out, 4096, &done), VINF_SUCCESS);
    CHECK(memcmp(out, a, 4096) == 0);
    CHECK_EQ(tenv_read(e, bd, 1 * MiB, out, 4096, &done), VINF_SUCCESS);
    CHECK(memcmp(out, b, 4096) == 0);
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);
    CHECK_EQ(misuse(e), 0);
    tenv_free(e);
}

/* A 2 TiB cache with many extents opens with three metadata reads. */
static void test_big_open_is_cheap(void)
{
    tenv *e = tenv_new(UINT64_C(1) << 30);
    void *bd;
    REQUIRE(tenv_create(e, "big.vci", UINT64_C(2) << 40, 0, &bd) == VINF_SUCCESS);
    uint8_t data[512];
    tfill(data, sizeof(data), 1);
    for (unsigned i = 0; i < 20000; i++)
        REQUIRE(tenv_write_all(e, bd, (uint64_t)i * 1024 * 1024 * 7, data, 512, NULL) == VINF_SUCCESS);
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);
    uint64_t reads = vdc_host_get_stats(e->host)->meta_reads;
    REQUIRE(tenv_open(e, "big.vci", 0, &bd) == VINF_SUCCESS);
    CHECK_EQ(vdc_host_get_stats(e->host)->meta_reads - reads, 3);
    CHECK_EQ(e->be->pfnGetSize(bd), UINT64_C(2) << 40);
    uint8_t out[512];
    size_t done;
    CHECK_EQ(tenv_read(e, bd, (uint64_t)12345 * 1024 * 1024 * 7, out, 512, &done), VINF_SUCCESS);
    CHECK(memcmp(out, data, 512) == 0);
    REQUIRE(e->be->pfnClose(bd, false) == VINF_SUCCESS);
    CHECK_EQ(misuse(e), 0);
    tenv_free(e);
}

CHECK_MAIN(CHECK_CASE(test_probe), CHECK_CASE(test_create_rules), CHECK_CASE(test_open_rules),
           CHECK_CASE(test_read_write), CHECK_CASE(test_sequential_merge), CHECK_CASE(test_discard),
           CHECK_CASE(test_read_only), CHECK_CASE(test_eviction_order), CHECK_CASE(test_read_recency),
           CHECK_CASE(test_read_ring_overflow), CHECK_CASE(test_full_cache),
           CHECK_CASE(test_unclean), CHECK_CASE(test_two_images), CHECK_CASE(test_set_open_flags_and_uuids),
           CHECK_CASE(test_small_callbacks), CHECK_CASE(test_ignore_flush), CHECK_CASE(test_inconsistent_image_is_forgotten),
           CHECK_CASE(test_big_open_is_cheap))
