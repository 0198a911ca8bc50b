/*
 * ref/tests/test_ref_check.c - vci_check and vci_info (ref/vci_check.h):
 * a good image passes with the right statistics, and each kind of damage
 * (bitmap, shared blocks, counters, LRU links, header, padding, tree keys,
 * truncation) is found and explained, and the check that fired is named
 * (ref/vci_corrupt.h) in the checker's stats and in each open instance.
 *
 * The test image: a 1 MiB dynamic cache (2048 blocks: header 0-1, block map
 * 2-3, root leaf 4-11) with three 8-block extents written at virtual blocks
 * 0, 2048 and 4096, stored at blocks 12, 20 and 28 (written in that order,
 * so the LRU list runs 4096, 2048, 0).
 */
#include <stdlib.h>
#include <string.h>

#include "ref/vci_cache.h"
#include "ref/vci_check.h"
#include "tests/check.h"
#include "tutil.h"

#define KiB 1024u
#define MiB (1024u * 1024u)
#define BITMAP 1536u          /* byte offset of the bitmap */
#define ROOT 2048u            /* byte offset of the root leaf */
#define EXT(i) (ROOT + 1 + 38 * (i))

static tenv *make_good(void)
{
    tenv *e = tenv_new(0);
    void *bd;
    if (tenv_create(e, "g.vci", 1 * MiB, 0, &bd) != VINF_SUCCESS)
        abort();
    uint8_t d[4096];
    tfill(d, sizeof(d), 1);
    for (unsigned i = 0; i < 3; i++)
        if (tenv_write_all(e, bd, (uint64_t)i * MiB, d, sizeof(d), NULL) != VINF_SUCCESS)
            abort();
    if (e->be->pfnClose(bd, false) != VINF_SUCCESS)
        abort();
    return e;
}

/* Copies g.vci to k.vci with n bytes at off replaced by the LE value v. */
static void patch(tenv *e, uint64_t off, uint64_t v, unsigned n)
{
    uint64_t size;
    if (tenv_copy(e, "g.vci", "k.vci", &size) != VINF_SUCCESS)
        abort();
    uint8_t *b = malloc(size);
    if (b == NULL || vdc_fs_mem_peek(e->fs, "k.vci", 0, b, size) != VINF_SUCCESS)
        abort();
    for (unsigned i = 0; i < n; i++)
        b[off + i] = (uint8_t)(v >> (8 * i));
    if (vdc_fs_mem_put(e->fs, "k.vci", b, size) != VINF_SUCCESS)
        abort();
    free(b);
}

static int check(tenv *e, const char *name, char *msg, size_t cb, vci_check_stats *st)
{
    return vci_check(name, vdc_host_image_ifs(e->host), msg, cb, st);
}

static void test_good_image(void)
{
    tenv *e = make_good();
    char msg[256];
    vci_check_stats st;
    REQUIRE(check(e, "g.vci", msg, sizeof(msg), &st) == VINF_SUCCESS);
    CHECK(strncmp(msg, "ok", 2) == 0);
    CHECK_EQ(st.cblocks, 2048);
    CHECK_EQ(st.type, 1);
    CHECK(!st.unclean);
    CHECK(st.lru);
    CHECK_EQ(st.depth, 1);
    CHECK_EQ(st.nodes, 1);
    CHECK_EQ(st.leaves, 1);
    CHECK_EQ(st.extents, 3);
    CHECK_EQ(st.data_blocks, 24);
    CHECK_EQ(st.meta_blocks, 12);
    CHECK_EQ(st.free_blocks, 2048 - 36);
    CHECK_EQ(st.file_size, 36 * 512);
    /* The layout the other cases rely on. */
    uint8_t b[8];
    REQUIRE(vdc_fs_mem_peek(e->fs, "g.vci", EXT(1) + 30, b, 8) == VINF_SUCCESS);
    CHECK_EQ(b[0], 20);
    REQUIRE(vdc_fs_mem_peek(e->fs, "g.vci", EXT(1) + 18, b, 8) == VINF_SUCCESS);
    CHECK(b[0] == 0 && b[1] == 8); /* key 2048 */
    CHECK_EQ(check(e, "missing.vci", msg, sizeof(msg), &st), VERR_FILE_NOT_FOUND);
    CHECK_EQ(vci_check("g.vci", NULL, msg, sizeof(msg), &st), VERR_INVALID_PARAMETER);
    tenv_free(e);
}

typedef struct damage {
    const char *what;
    uint64_t    off, value;
    unsigned    n;
    int         rc;
    const char *expect; /* substring of the message */
    const char *file;   /* the source file of the check that must fire (NULL: none) */
    const char *check;  /* and its description (ref/vci_corrupt.h) */
} damage;

/* True when r names the check `check` in ref/`file` (both NULL: names
 * none). */
static bool names_check(const vci_corrupt *r, const char *file, const char *check)
{
    if (file == NULL)
        return r->file == NULL && r->what == NULL && r->line == 0;
    size_t lf = strlen(r->file != NULL ? r->file : ""), lw = strlen(file);
    return r->file != NULL && lf >= 4 + lw && strcmp(r->file + lf - lw, file) == 0
        && strstr(r->file, "ref/") != NULL && r->line > 0 && r->what != NULL && strcmp(r->what, check) == 0;
}

static void test_damage(void)
{
    tenv *e = make_good();
    const damage cases[] = {
        { "data block marked free", BITMAP + 1, 0xFE, 1, VERR_VD_IMAGE_CORRUPTED, "block 8 is used by node 4",
          "vci_check.c", "used block marked free" },
        { "data block 13 marked free", BITMAP + 1, 0xDF, 1, VERR_VD_IMAGE_CORRUPTED, "block 13 is used by extent 0",
          "vci_check.c", "used block marked free" },
        { "unused block marked", BITMAP + 5, 0x01, 1, VERR_VD_IMAGE_CORRUPTED, "block 40 is marked allocated",
          "vci_check.c", "allocated block without a user" },
        { "padding bit", BITMAP + 375, 0x01, 1, VERR_VD_IMAGE_CORRUPTED, "padding",
          "vci_check.c", "bitmap padding bit set" },
        { "shared data", EXT(1) + 30, 16, 8, VERR_VD_IMAGE_CORRUPTED, "used twice",
          "vci_check.c", "block used twice" },
        { "counters", 1024 + 32, 25, 8, VERR_VD_IMAGE_CORRUPTED, "free",
          "vci_format.c", "block map counters do not add up" },
        { "lru prev", EXT(1) + 0, 0, 8, VERR_VD_IMAGE_CORRUPTED, "has prev 0, expected 4096",
          "vci_check.c", "LRU prev link wrong" },
        { "lru loop", EXT(0) + 8, 4096, 8, VERR_VD_IMAGE_CORRUPTED, "loops",
          "vci_check.c", "LRU list loops" },
        { "lru dangling", EXT(2) + 8, 5555, 8, VERR_VD_IMAGE_CORRUPTED, "5555",
          "vci_check.c", "LRU link to no extent" },
        { "lru tail", 85, 2048, 8, VERR_VD_IMAGE_CORRUPTED, "tail",
          "vci_check.c", "LRU list does not end at the tail" },
        { "header version", 4, 9, 4, VERR_VD_GEN_INVALID_HEADER, "version", NULL, NULL },
        { "root in data", 21, 12, 8, VERR_VD_IMAGE_CORRUPTED, "node at block 12",
          "vci_format.c", "node: unknown type" },
        { "root past the file", 21, 1000, 8, VERR_VD_IMAGE_CORRUPTED, "metadata needs",
          "vci_check.c", "file shorter than its metadata" },
        { "extent flags", EXT(0) + 16, 1, 1, VERR_VD_IMAGE_CORRUPTED, "flags",
          "vci_format.c", "leaf: extent flags or reserved set" },
        { "extent order", EXT(1) + 18, 4, 8, VERR_VD_IMAGE_CORRUPTED, "overlaps",
          "vci_format.c", "leaf: extents out of order" },
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const damage *d = &cases[i];
        char msg[256] = "";
        vci_check_stats st;
        patch(e, d->off, d->value, d->n);
        int rc = check(e, "k.vci", msg, sizeof(msg), &st);
        if (rc != d->rc || strstr(msg, d->expect) == NULL) {
            fprintf(stderr, "  %s: rc %d, message \"%s\" (wanted %d, \"%s\")\n", d->what, rc, msg, d->rc, d->expect);
            CHECK(!"damage not reported as expected");
        }
        if (!names_check(&st.corrupt, d->file, d->check)) {
            fprintf(stderr, "  %s: the record names %s:%u \"%s\" (wanted ref/%s \"%s\")\n", d->what,
                    st.corrupt.file ? st.corrupt.file : "(none)", st.corrupt.line,
                    st.corrupt.what ? st.corrupt.what : "", d->file ? d->file : "(none)", d->check ? d->check : "");
            CHECK(!"the check that refused the image is not named");
        }
    }
    /* The counters agree with each other but not with the tree. */
    {
        uint64_t size;
        REQUIRE(tenv_copy(e, "g.vci", "k.vci", &size) == VINF_SUCCESS);
        uint8_t *b = malloc(size);
        REQUIRE(b != NULL);
        REQUIRE(vdc_fs_mem_peek(e->fs, "k.vci", 0, b, size) == VINF_SUCCESS);
        b[1024 + 16] -= 1;  /* free - 1 */
        b[1024 + 32] += 1;  /* data + 1 */
        REQUIRE(vdc_fs_mem_put(e->fs, "k.vci", b, size) == VINF_SUCCESS);
        char msg[256];
        CHECK_EQ(check(e, "k.vci", msg, sizeof(msg), NULL), VERR_VD_IMAGE_CORRUPTED);
        CHECK(strstr(msg, "block map counts") != NULL);
        /* Truncated below its metadata. */
        REQUIRE(vdc_fs_mem_put(e->fs, "k.vci", b, 5000) == VINF_SUCCESS);
        CHECK_EQ(check(e, "k.vci", msg, sizeof(msg), NULL), VERR_VD_IMAGE_CORRUPTED);
        CHECK(strstr(msg, "metadata needs") != NULL);
        REQUIRE(vdc_fs_mem_put(e->fs, "k.vci", b, 1000) == VINF_SUCCESS);
        CHECK_EQ(check(e, "k.vci", msg, sizeof(msg), NULL), VERR_VD_GEN_INVALID_HEADER);
        free(b);
    }
    /* Unclean: reported, nothing else checked. */
    patch(e, 16, 1, 1);
    vci_check_stats st;
    char msg[256];
    CHECK_EQ(check(e, "k.vci", msg, sizeof(msg), &st), VINF_SUCCESS);
    CHECK(st.unclean);
    CHECK(strstr(msg, "unclean") != NULL);
    tenv_free(e);
}

/* The LE value of n bytes at off of the memory file `name`. */
static uint64_t peek_le(tenv *e, const char *name, uint64_t off, unsigned n)
{
    uint8_t b[8];
    if (n > sizeof(b) || vdc_fs_mem_peek(e->fs, name, off, b, n) != VINF_SUCCESS)
        abort();
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

/* g.vci with a two-level tree: 300 one-block extents every 2048 blocks
 * under an internal root (three leaves).  Returns the root's address. */
static uint64_t make_tree(tenv *e)
{
    void *bd;
    if (tenv_create(e, "g.vci", 4 * MiB, 0, &bd) != VINF_SUCCESS)
        abort();
    uint8_t d[512];
    tfill(d, sizeof(d), 2);
    for (unsigned i = 0; i < 300; i++)
        if (tenv_write_all(e, bd, (uint64_t)i * 2048, d, sizeof(d), NULL) != VINF_SUCCESS)
            abort();
    if (e->be->pfnClose(bd, false) != VINF_SUCCESS)
        abort();
    return peek_le(e, "g.vci", 21, 8);
}

/* A two-level tree: an internal entry whose key no longer matches its
 * child's first extent, and a child that is not where the entry says. */
static void test_tree_damage(void)
{
    tenv *e = tenv_new(0);
    uint64_t root = make_tree(e);
    char msg[256];
    vci_check_stats st;
    REQUIRE(check(e, "g.vci", msg, sizeof(msg), &st) == VINF_SUCCESS);
    CHECK_EQ(st.depth, 2);
    CHECK_EQ(st.extents, 300);
    CHECK_EQ(st.leaves, 3);
    uint64_t e1 = root * 512 + 1 + 20;
    patch(e, e1, 107 * 4 + 1, 8); /* entry 1's key: one block after its child's first */
    CHECK_EQ(check(e, "k.vci", msg, sizeof(msg), &st), VERR_VD_IMAGE_CORRUPTED);
    CHECK(strstr(msg, "first key") != NULL || strstr(msg, "overlaps") != NULL);
    patch(e, e1 + 8, 1, 4); /* entry 1's count */
    CHECK_EQ(check(e, "k.vci", msg, sizeof(msg), &st), VERR_VD_IMAGE_CORRUPTED);
    CHECK(strstr(msg, "counts") != NULL);
    patch(e, e1 + 12, root, 8); /* entry 1 points at the root itself */
    CHECK_EQ(check(e, "k.vci", msg, sizeof(msg), &st), VERR_VD_IMAGE_CORRUPTED);
    tenv_free(e);
}

/* The record naming the check that refused an image (ref/vci_corrupt.h)
 * belongs to one check run or one open instance: the same image names the
 * same check every time, a good image checked after a corrupt one names
 * none, and of two instances open at once only the one whose read met the
 * damaged leaf names it. */
static void test_corrupt_record(void)
{
    tenv *e = tenv_new(0);
    uint64_t root = make_tree(e);
    uint64_t leaf0 = peek_le(e, "g.vci", root * 512 + 1 + 12, 8); /* entry 0's child */
    patch(e, leaf0 * 512 + 1 + 16, 1, 1);                          /* its extent 0's flags */
    const char *file = "vci_format.c", *what = "leaf: extent flags or reserved set";
    char msg[256];
    vci_check_stats st, again;
    CHECK_EQ(check(e, "k.vci", msg, sizeof(msg), &st), VERR_VD_IMAGE_CORRUPTED);
    CHECK(names_check(&st.corrupt, file, what));
    CHECK_EQ(check(e, "k.vci", msg, sizeof(msg), &again), VERR_VD_IMAGE_CORRUPTED);
    CHECK(names_check(&again.corrupt, file, what));
    CHECK_EQ(again.corrupt.line, st.corrupt.line);
    CHECK_EQ(check(e, "g.vci", msg, sizeof(msg), &st), VINF_SUCCESS);
    CHECK(names_check(&st.corrupt, NULL, NULL));

    void *good, *bad;
    REQUIRE(tenv_open(e, "g.vci", VD_OPEN_FLAGS_READONLY, &good) == VINF_SUCCESS);
    REQUIRE(tenv_open(e, "k.vci", VD_OPEN_FLAGS_READONLY, &bad) == VINF_SUCCESS);
    CHECK(names_check(vci_cache_corrupt(bad), NULL, NULL)); /* open reads the root only */
    uint8_t buf[512];
    size_t done = 0;
    CHECK_EQ(tenv_read(e, bad, 0, buf, sizeof(buf), &done), VERR_VD_IMAGE_CORRUPTED);
    CHECK_EQ(tenv_read(e, good, 0, buf, sizeof(buf), &done), VINF_SUCCESS);
    CHECK(names_check(vci_cache_corrupt(bad), file, what));
    CHECK(names_check(vci_cache_corrupt(good), NULL, NULL));
    CHECK_EQ(e->be->pfnClose(bad, false), VINF_SUCCESS);
    CHECK_EQ(e->be->pfnClose(good, false), VINF_SUCCESS);

    /* vci_info prints the record after the verdict, and none for a good image. */
    char *text = NULL, want[128];
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    REQUIRE(f != NULL);
    CHECK_EQ(vci_info("k.vci", vdc_host_image_ifs(e->host), f), VERR_VD_IMAGE_CORRUPTED);
    CHECK_EQ(vci_info("g.vci", vdc_host_image_ifs(e->host), f), VINF_SUCCESS);
    fclose(f);
    snprintf(want, sizeof want, "\n  corrupt: %s:%u %s\nVCI image 'g.vci'", again.corrupt.file,
             again.corrupt.line, what);
    CHECK(strstr(text, want) != NULL);
    CHECK(strstr(strstr(text, "VCI image 'g.vci'"), "corrupt:") == NULL);
    free(text);

    /* An open that refuses a corrupt block map reports the refusal to VD
     * (pfnError) at the position of the check that fired: the one the
     * checker names for the same image. */
    patch(e, 1024, 0, 4); /* the block map's magic */
    REQUIRE(check(e, "k.vci", msg, sizeof(msg), &st) == VERR_VD_IMAGE_CORRUPTED);
    REQUIRE(names_check(&st.corrupt, "vci_format.c", "block map magic"));
    char at[128];
    snprintf(at, sizeof at, "(VERR_VD_IMAGE_CORRUPTED) at %s:%u ", st.corrupt.file, st.corrupt.line);
    CHECK_EQ(tenv_open(e, "k.vci", VD_OPEN_FLAGS_READONLY, &bad), VERR_VD_IMAGE_CORRUPTED);
    CHECK(strstr(vdc_host_log(e->host), at) != NULL);
    tenv_free(e);
}

static void test_info(void)
{
    tenv *e = make_good();
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    REQUIRE(f != NULL);
    CHECK_EQ(vci_info("g.vci", vdc_host_image_ifs(e->host), f), VINF_SUCCESS);
    fclose(f);
    CHECK(strstr(text, "2048 blocks") != NULL);
    CHECK(strstr(text, "dynamic") != NULL);
    CHECK(strstr(text, "3 extents") != NULL);
    CHECK(strstr(text, "check         ok") != NULL);
    CHECK(strstr(text, "head 4096, tail 0") != NULL);
    free(text);
    uint8_t junk[2048] = { 1, 2, 3 };
    REQUIRE(vdc_fs_mem_put(e->fs, "junk", junk, sizeof(junk)) == VINF_SUCCESS);
    f = open_memstream(&text, &len);
    REQUIRE(f != NULL);
    CHECK_EQ(vci_info("junk", vdc_host_image_ifs(e->host), f), VERR_VD_GEN_INVALID_HEADER);
    fclose(f);
    CHECK(strstr(text, "not a VCI image") != NULL);
    free(text);
    tenv_free(e);
}

CHECK_MAIN(CHECK_CASE(test_good_image), CHECK_CASE(test_damage), CHECK_CASE(test_tree_damage),
           CHECK_CASE(test_corrupt_record), CHECK_CASE(test_info))
