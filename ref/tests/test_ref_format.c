/*
 * ref/tests/test_ref_format.c - the VCI codec: byte layout of every field
 * (spec/vci-format.md sections 3-5), round trips, and each validation
 * rejection of vci_format.c.
 */
#include <string.h>

#include "ref/vci_format.h"
#include "spec/vdcache.h"
#include "tests/check.h"

static uint64_t le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static vci_header sample_header(void)
{
    vci_header h;
    memset(&h, 0, sizeof(h));
    h.cblocks = 100000;
    h.unclean = 1;
    h.type = VCI_TYPE_FIXED;
    h.bm_addr = 2;
    h.bm_blocks = vci_bm_blocks_for(h.cblocks);
    h.root = h.bm_addr + h.bm_blocks;
    for (unsigned i = 0; i < 16; i++) {
        h.uuid[i] = (uint8_t)(0x10 + i);
        h.mod_uuid[i] = (uint8_t)(0xA0 + i);
    }
    h.lru = true;
    h.lru_head = 77;
    h.lru_tail = 12345;
    return h;
}

static void test_geometry(void)
{
    CHECK_EQ(vci_bm_blocks_for(20), 2);
    CHECK_EQ(vci_bm_blocks_for(4096), 2);
    CHECK_EQ(vci_bm_blocks_for(4097), 3);
    CHECK_EQ(vci_bm_blocks_for(VCI_MAX_BLOCKS), 1 + (1u << 20));
    CHECK_EQ(vci_base_meta_blocks(20), 12);
    CHECK_EQ(vci_span(10, 15), 5);
    CHECK_EQ(vci_span(0, UINT64_C(1) << 40), 0xFFFFFFFFu);
    CHECK(vci_ranges_overlap(0, 2, 1, 1));
    CHECK(!vci_ranges_overlap(0, 2, 2, 1));
    CHECK(!vci_ranges_overlap(5, 0, 0, 10));
}

static void test_cursor_bounds(void)
{
    uint8_t buf[6] = { 1, 2, 3, 4, 5, 6 };
    vci_cur c = vci_cur_reader(buf, sizeof(buf));
    CHECK_EQ(vci_get_u32(&c), 0x04030201);
    CHECK(c.ok);
    CHECK_EQ(vci_get_u32(&c), 0); /* only 2 bytes left */
    CHECK(!c.ok);
    vci_cur w = vci_cur_reader(buf, sizeof(buf));
    vci_put_u8(&w, 9); /* a reader cannot write */
    CHECK(!w.ok);
    CHECK_EQ(buf[0], 1);
    vci_cur x = vci_cur_writer(buf, sizeof(buf));
    vci_put_u64(&x, 1); /* does not fit */
    CHECK(!x.ok);
    CHECK_EQ(buf[0], 1);
    vci_cur_seek(&x, 7);
    CHECK(!x.ok);
}

static void test_header_layout(void)
{
    vci_header h = sample_header();
    uint8_t b[VCI_HDR_SIZE];
    vci_header_encode(&h, b);
    CHECK(memcmp(b, "VCI\0", 4) == 0);
    CHECK_EQ(le(b + 4, 4), 1);
    CHECK_EQ(le(b + 8, 8), 100000);
    CHECK_EQ(b[16], 1);
    CHECK_EQ(le(b + 17, 4), 2);
    CHECK_EQ(le(b + 21, 8), h.root);
    CHECK_EQ(le(b + 29, 8), 2);
    CHECK_EQ(le(b + 37, 4), h.bm_blocks);
    CHECK_EQ(b[41], 0x10);
    CHECK_EQ(b[56], 0x1F);
    CHECK_EQ(b[57], 0xA0);
    CHECK(memcmp(b + 73, "LRU1", 4) == 0);
    CHECK_EQ(le(b + 77, 8), 77);
    CHECK_EQ(le(b + 85, 8), 12345);
    for (unsigned i = 93; i < VCI_HDR_SIZE; i++)
        CHECK(b[i] == 0);

    vci_header d;
    char why[160];
    REQUIRE(vci_header_decode(b, &d, why, sizeof(why)) == VINF_SUCCESS);
    CHECK(d.cblocks == h.cblocks && d.root == h.root && d.bm_addr == h.bm_addr
          && d.bm_blocks == h.bm_blocks && d.type == h.type && d.unclean == 1);
    CHECK(d.lru && d.lru_head == h.lru_head && d.lru_tail == h.lru_tail);
    CHECK(memcmp(d.uuid, h.uuid, 16) == 0 && memcmp(d.mod_uuid, h.mod_uuid, 16) == 0);

    /* Without the extension the reserved area stays zero. */
    h.lru = false;
    vci_header_encode(&h, b);
    for (unsigned i = 73; i < VCI_HDR_SIZE; i++)
        CHECK(b[i] == 0);
    REQUIRE(vci_header_decode(b, &d, NULL, 0) == VINF_SUCCESS);
    CHECK(!d.lru);
    CHECK(d.lru_head == VCI_LRU_NONE && d.lru_tail == VCI_LRU_NONE);
}

/* Encodes the sample, applies one change, and expects rejection. */
static int header_with(unsigned off, uint64_t v, unsigned n, char *why, size_t cb)
{
    vci_header h = sample_header();
    uint8_t b[VCI_HDR_SIZE];
    vci_header d;
    vci_header_encode(&h, b);
    put_le(b + off, v, n);
    return vci_header_decode(b, &d, why, cb);
}

static void test_header_rejections(void)
{
    const int bad = VERR_VD_GEN_INVALID_HEADER;
    char why[160];
    CHECK_EQ(header_with(0, 0x00494357, 4, why, sizeof(why)), bad);
    CHECK(strstr(why, "signature") != NULL);
    CHECK_EQ(header_with(4, 2, 4, why, sizeof(why)), bad);
    CHECK(strstr(why, "version") != NULL);
    CHECK_EQ(header_with(8, 19, 8, NULL, 0), bad);                              /* below minimum */
    CHECK_EQ(header_with(8, VCI_MAX_BLOCKS + 1, 8, NULL, 0), bad);              /* above maximum */
    CHECK_EQ(header_with(16, 2, 1, NULL, 0), bad);                              /* unclean flag */
    CHECK_EQ(header_with(17, 0, 4, NULL, 0), bad);                              /* type */
    CHECK_EQ(header_with(17, 3, 4, NULL, 0), bad);
    CHECK_EQ(header_with(37, 24, 4, NULL, 0), bad);                             /* map size */
    CHECK_EQ(header_with(29, 1, 8, NULL, 0), bad);                              /* map over header */
    CHECK_EQ(header_with(29, 100000 - 10, 8, NULL, 0), bad);                    /* map past end */
    CHECK_EQ(header_with(21, 1, 8, NULL, 0), bad);                              /* root over header */
    CHECK_EQ(header_with(21, 100000 - 7, 8, NULL, 0), bad);                     /* root past end */
    CHECK_EQ(header_with(21, 5, 8, NULL, 0), bad);                              /* root over map */
    CHECK_EQ(header_with(73, 0x3255524c, 4, NULL, 0), bad);                     /* "LRU2" */
    CHECK_EQ(header_with(100, 1, 1, NULL, 0), bad);                             /* rest not zero */
    CHECK_EQ(header_with(77, VCI_VBLOCK_LIMIT, 8, NULL, 0), bad);               /* head range */
    CHECK_EQ(header_with(85, VCI_VBLOCK_LIMIT, 8, NULL, 0), bad);               /* tail range */
    CHECK_EQ(header_with(77, VCI_LRU_NONE, 8, why, sizeof(why)), bad);          /* head none, tail not */
    CHECK(strstr(why, "emptiness") != NULL);
    CHECK_EQ(header_with(1023, 1, 1, NULL, 0), bad);
    /* Same headers, unchanged: accepted (the helper itself is sound). */
    CHECK_EQ(header_with(41, 0x55, 1, NULL, 0), VINF_SUCCESS);

    /* No marker but bytes in the reserved area. */
    vci_header h = sample_header();
    h.lru = false;
    uint8_t b[VCI_HDR_SIZE];
    vci_header d;
    vci_header_encode(&h, b);
    b[80] = 1;
    CHECK_EQ(vci_header_decode(b, &d, NULL, 0), bad);
}

static void test_bmhdr(void)
{
    vci_header h = sample_header();
    vci_bmhdr m = { .managed = h.cblocks, .free = 0, .meta = 0, .data = 0 };
    m.meta = vci_base_meta_blocks(h.cblocks) + 16;
    m.data = 500;
    m.free = m.managed - m.meta - m.data;
    uint8_t b[VCI_BMHDR_SIZE];
    vci_bmhdr_encode(&m, b);
    CHECK(memcmp(b, "VBLK", 4) == 0);
    CHECK_EQ(le(b + 4, 4), 1);
    CHECK_EQ(le(b + 8, 8), m.managed);
    CHECK_EQ(le(b + 16, 8), m.free);
    CHECK_EQ(le(b + 24, 8), m.meta);
    CHECK_EQ(le(b + 32, 8), m.data);
    vci_bmhdr d;
    REQUIRE(vci_bmhdr_decode(b, &h, &d, NULL, NULL, 0) == VINF_SUCCESS);
    CHECK(d.free == m.free && d.meta == m.meta && d.data == m.data);

    const int bad = VERR_VD_IMAGE_CORRUPTED;
    struct { unsigned off; uint64_t v; unsigned n; } cases[] = {
        { 0, 0x4b4c4257, 4 },            /* magic */
        { 4, 2, 4 },                     /* version */
        { 8, h.cblocks + 1, 8 },         /* managed */
        { 16, m.free + 1, 8 },           /* sum */
        { 24, 3, 8 },                    /* meta below header + map + root */
        { 24, m.meta + 1, 8 },           /* meta not whole nodes (and sum) */
        { 100, 1, 1 },                   /* reserved */
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t c[VCI_BMHDR_SIZE];
        memcpy(c, b, sizeof(c));
        put_le(c + cases[i].off, cases[i].v, cases[i].n);
        CHECK_EQ(vci_bmhdr_decode(c, &h, &d, NULL, NULL, 0), bad);
    }
    /* Counters consistent but meta not a multiple of nodes. */
    vci_bmhdr odd = m;
    odd.meta += 1;
    odd.free -= 1;
    vci_bmhdr_encode(&odd, b);
    CHECK_EQ(vci_bmhdr_decode(b, &h, &d, NULL, NULL, 0), bad);
}

static vci_layout sample_layout(void)
{
    vci_header h = sample_header();
    return vci_header_layout(&h);
}

static void full_leaf(vci_node *n, const vci_layout *lay)
{
    memset(n, 0, sizeof(*n));
    n->type = VCI_NODE_LEAF;
    n->n = VCI_LEAF_MAX;
    for (unsigned i = 0; i < VCI_LEAF_MAX; i++) {
        vci_extent x = { .prev = i == 0 ? VCI_LRU_NONE : i - 1, .next = i + 1, .key = 1000 + 10 * (uint64_t)i,
                         .count = 5, .addr = lay->root + 8 + 5 * (uint64_t)i };
        vci_leaf_set(n, i, &x);
    }
}

static void full_internal(vci_node *n)
{
    memset(n, 0, sizeof(*n));
    n->type = VCI_NODE_INTERNAL;
    n->n = VCI_INT_MAX;
    for (unsigned i = 0; i < VCI_INT_MAX; i++) {
        vci_ientry e = { .key = 100 * (uint64_t)i, .count = 50, .child = 2000 + 8 * (uint64_t)i };
        vci_int_set(n, i, &e);
    }
}

static void test_node_layout(void)
{
    vci_layout lay = sample_layout();
    vci_node n, d;
    uint8_t b[VCI_NODE_SIZE];
    full_leaf(&n, &lay);
    vci_node_encode(&n, b);
    CHECK_EQ(b[0], 2);
    /* extent 3 at 1 + 38*3 */
    const uint8_t *e = b + 1 + 38 * 3;
    CHECK_EQ(le(e + 0, 8), 2);
    CHECK_EQ(le(e + 8, 8), 4);
    CHECK_EQ(e[16], 0);
    CHECK_EQ(e[17], 0);
    CHECK_EQ(le(e + 18, 8), 1030);
    CHECK_EQ(le(e + 26, 4), 5);
    CHECK_EQ(le(e + 30, 8), lay.root + 8 + 15);
    for (unsigned i = 4067; i < VCI_NODE_SIZE; i++)
        CHECK(b[i] == 0);
    REQUIRE(vci_node_decode(b, &lay, &d, NULL, NULL, 0) == VINF_SUCCESS);
    CHECK_EQ(d.n, VCI_LEAF_MAX);
    for (unsigned i = 0; i < VCI_LEAF_MAX; i++) {
        const vci_extent xv = vci_leaf_get(&d, i), yv = vci_leaf_get(&n, i), *x = &xv, *y = &yv;
        CHECK(x->prev == y->prev && x->next == y->next && x->key == y->key && x->count == y->count
              && x->addr == y->addr);
    }
    CHECK_EQ(vci_node_first_key(&d), 1000);
    CHECK_EQ(vci_node_end(&d), 1000 + 10 * 106 + 5);

    full_internal(&n);
    vci_node_encode(&n, b);
    CHECK_EQ(b[0], 1);
    const uint8_t *ie = b + 1 + 20 * 7;
    CHECK_EQ(le(ie, 8), 700);
    CHECK_EQ(le(ie + 8, 4), 50);
    CHECK_EQ(le(ie + 12, 8), 2000 + 56);
    for (unsigned i = 4081; i < VCI_NODE_SIZE; i++)
        CHECK(b[i] == 0);
    REQUIRE(vci_node_decode(b, &lay, &d, NULL, NULL, 0) == VINF_SUCCESS);
    CHECK_EQ(d.n, VCI_INT_MAX);
    for (unsigned i = 0; i < VCI_INT_MAX; i++) {
        const vci_ientry xv = vci_int_get(&d, i), yv = vci_int_get(&n, i), *x = &xv, *y = &yv;
        CHECK(x->key == y->key && x->count == y->count && x->child == y->child);
    }

    /* An empty leaf decodes (only a root may be one: check_child). */
    memset(&n, 0, sizeof(n));
    n.type = VCI_NODE_LEAF;
    vci_node_encode(&n, b);
    CHECK_EQ(vci_node_decode(b, &lay, &d, NULL, NULL, 0), VINF_SUCCESS);
    CHECK_EQ(d.n, 0);
}

/* vci_node_move and vci_node_copy move every column of the node's type,
 * overlapping ranges included, and nothing outside the range. */
static void test_node_columns(void)
{
    vci_layout lay = sample_layout();
    vci_node n, m;
    full_leaf(&n, &lay);
    vci_node_move(&n, 11, 10, 20); /* items 10..29 -> 11..30, item 10 stays */
    for (unsigned i = 0; i < VCI_LEAF_MAX; i++) {
        unsigned src = i >= 11 && i <= 30 ? i - 1 : i;
        vci_extent x = vci_leaf_get(&n, i);
        CHECK_EQ(x.key, 1000 + 10 * (uint64_t)src);
        CHECK_EQ(x.addr, lay.root + 8 + 5 * (uint64_t)src);
        CHECK_EQ(x.next, src + 1);
        CHECK_EQ(x.prev, src == 0 ? VCI_LRU_NONE : src - 1);
        CHECK_EQ(x.count, 5);
    }
    full_leaf(&n, &lay);
    vci_node_move(&n, 0, 1, VCI_LEAF_MAX - 1); /* delete item 0 */
    CHECK_EQ(vci_leaf_get(&n, 0).key, 1010);
    CHECK_EQ(vci_leaf_get(&n, VCI_LEAF_MAX - 2).key, 1000 + 10 * (uint64_t)(VCI_LEAF_MAX - 1));

    full_leaf(&n, &lay);
    memset(&m, 0, sizeof(m));
    m.type = VCI_NODE_LEAF;
    vci_node_copy(&m, 3, &n, 100, 7);
    for (unsigned i = 0; i < 12; i++) {
        vci_extent x = vci_leaf_get(&m, i);
        if (i >= 3 && i < 10) {
            CHECK_EQ(x.key, 1000 + 10 * (uint64_t)(i + 97));
            CHECK_EQ(x.prev, i + 96);
        } else {
            CHECK_EQ(x.key, 0);
            CHECK_EQ(x.addr, 0);
        }
    }

    full_internal(&n);
    vci_node_move(&n, 1, 0, 5);
    CHECK_EQ(vci_int_get(&n, 0).key, 0);
    for (unsigned i = 1; i <= 5; i++) {
        vci_ientry e = vci_int_get(&n, i);
        CHECK_EQ(e.key, 100 * (uint64_t)(i - 1));
        CHECK_EQ(e.child, 2000 + 8 * (uint64_t)(i - 1));
        CHECK_EQ(e.count, 50);
    }
    CHECK_EQ(vci_int_get(&n, 6).key, 600);
    memset(&m, 0, sizeof(m));
    m.type = VCI_NODE_INTERNAL;
    vci_node_copy(&m, 0, &n, VCI_INT_MAX - 2, 2);
    CHECK_EQ(vci_int_get(&m, 1).key, 100 * (uint64_t)(VCI_INT_MAX - 1));
    CHECK_EQ(vci_int_get(&m, 1).child, 2000 + 8 * (uint64_t)(VCI_INT_MAX - 1));
    CHECK_EQ(vci_int_get(&m, 2).child, 0);
    CHECK_EQ(vci_node_key(&m, 0), 100 * (uint64_t)(VCI_INT_MAX - 2));
}

/* Encodes a full leaf, patches bytes, expects rejection. */
static int leaf_with(unsigned off, uint64_t v, unsigned n)
{
    vci_layout lay = sample_layout();
    vci_node node, d;
    uint8_t b[VCI_NODE_SIZE];
    full_leaf(&node, &lay);
    node.n = 10;
    vci_node_encode(&node, b);
    put_le(b + off, v, n);
    return vci_node_decode(b, &lay, &d, NULL, NULL, 0);
}

static int int_with(unsigned off, uint64_t v, unsigned n)
{
    vci_layout lay = sample_layout();
    vci_node node, d;
    uint8_t b[VCI_NODE_SIZE];
    full_internal(&node);
    node.n = 10;
    vci_node_encode(&node, b);
    put_le(b + off, v, n);
    return vci_node_decode(b, &lay, &d, NULL, NULL, 0);
}

static void test_node_rejections(void)
{
    const int bad = VERR_VD_IMAGE_CORRUPTED;
    vci_layout lay = sample_layout();
    unsigned e2 = 1 + 38 * 2, e9 = 1 + 38 * 9, e10 = 1 + 38 * 10;
    CHECK_EQ(leaf_with(0, 3, 1), bad);                            /* type */
    CHECK_EQ(leaf_with(0, 0, 1), bad);
    CHECK_EQ(leaf_with(e10 + 5, 1, 1), bad);                      /* unused not zero */
    CHECK_EQ(leaf_with(e10 + 26, 1, 4), bad);                     /* count w/o address */
    CHECK_EQ(leaf_with(e2 + 26, 0, 4), bad);                      /* hole: not packed */
    CHECK_EQ(leaf_with(e2 + 16, 1, 1), bad);                      /* flags */
    CHECK_EQ(leaf_with(e2 + 17, 1, 1), bad);                      /* reserved */
    CHECK_EQ(leaf_with(e9 + 18, VCI_VBLOCK_LIMIT - 2, 8), bad);   /* key + count past limit */
    CHECK_EQ(leaf_with(e2 + 30, lay.cblocks - 2, 8), bad);        /* data past the image */
    CHECK_EQ(leaf_with(e2 + 30, 1, 8), bad);                      /* over the header */
    CHECK_EQ(leaf_with(e2 + 30, lay.bm_addr + 1, 8), bad);        /* over the block map */
    CHECK_EQ(leaf_with(e2 + 30, lay.root + 3, 8), bad);           /* over the root */
    CHECK_EQ(leaf_with(e2 + 18, 1011, 8), bad);                   /* overlaps extent 1 */
    CHECK_EQ(leaf_with(e2 + 18, 900, 8), bad);                    /* out of order */
    CHECK_EQ(leaf_with(4090, 1, 1), bad);                         /* tail */
    CHECK_EQ(leaf_with(e2 + 0, 12345, 8), VINF_SUCCESS);          /* links are not checked here */

    unsigned i2 = 1 + 20 * 2, i10 = 1 + 20 * 10;
    CHECK_EQ(int_with(i10 + 3, 1, 1), bad);                       /* unused not zero */
    CHECK_EQ(int_with(i2 + 8, 0, 4), bad);                        /* hole */
    CHECK_EQ(int_with(i2 + 12, 1, 8), bad);                       /* child over header */
    CHECK_EQ(int_with(i2 + 12, lay.cblocks - 7, 8), bad);         /* child past end */
    CHECK_EQ(int_with(i2 + 12, lay.bm_addr, 8), bad);             /* child over the map */
    CHECK_EQ(int_with(i2 + 0, 150, 8), VINF_SUCCESS);             /* touches entry 1's end */
    CHECK_EQ(int_with(i2 + 0, 140, 8), bad);                      /* overlaps entry 1's span */
    CHECK_EQ(int_with(i2 + 0, 50, 8), bad);                       /* out of order */
    CHECK_EQ(int_with(i2 + 8, 0xFFFFFFFF, 4), bad);               /* span over the next entry */
    CHECK_EQ(int_with(i2 + 0, VCI_VBLOCK_LIMIT, 8), bad);         /* key range */
    CHECK_EQ(int_with(4085, 1, 1), bad);                          /* tail */

    /* An internal node with no entries. */
    uint8_t b[VCI_NODE_SIZE] = { 1 };
    vci_node d;
    CHECK_EQ(vci_node_decode(b, &lay, &d, NULL, NULL, 0), bad);
}

static void test_check_child(void)
{
    vci_layout lay = sample_layout();
    vci_node n;
    char why[160];
    full_leaf(&n, &lay);
    uint64_t end = vci_node_end(&n);
    vci_ientry e = { .key = 1000, .count = (uint32_t)(end - 1000), .child = 5000 };
    CHECK_EQ(vci_node_check_child(&n, &e, end, NULL, NULL, 0), VINF_SUCCESS);
    CHECK_EQ(vci_node_check_child(&n, &e, end - 1, NULL, why, sizeof(why)), VERR_VD_IMAGE_CORRUPTED);
    CHECK(strstr(why, "past its range") != NULL);
    e.key = 999;
    CHECK_EQ(vci_node_check_child(&n, &e, end, NULL, why, sizeof(why)), VERR_VD_IMAGE_CORRUPTED);
    CHECK(strstr(why, "first key") != NULL);
    e.key = 1000;
    e.count += 1;
    CHECK_EQ(vci_node_check_child(&n, &e, end, NULL, why, sizeof(why)), VERR_VD_IMAGE_CORRUPTED);
    CHECK(strstr(why, "counts") != NULL);
    n.n = 0;
    CHECK_EQ(vci_node_check_child(&n, &e, end, NULL, NULL, 0), VERR_VD_IMAGE_CORRUPTED);

    /* Saturation: a child whose last entry is saturated saturates its parent. */
    vci_node in;
    memset(&in, 0, sizeof(in));
    in.type = VCI_NODE_INTERNAL;
    in.n = 2;
    vci_int_set(&in, 0, &(vci_ientry){ .key = 10, .count = 5, .child = 100 });
    vci_int_set(&in, 1, &(vci_ientry){ .key = 20, .count = 0xFFFFFFFF, .child = 108 });
    vci_ientry pe = { .key = 10, .count = 0xFFFFFFFF, .child = 200 };
    CHECK_EQ(vci_node_check_child(&in, &pe, VCI_VBLOCK_LIMIT, NULL, NULL, 0), VINF_SUCCESS);
    pe.count = 0xFFFFFFFE;
    CHECK_EQ(vci_node_check_child(&in, &pe, VCI_VBLOCK_LIMIT, NULL, NULL, 0), VERR_VD_IMAGE_CORRUPTED);
}

CHECK_MAIN(CHECK_CASE(test_geometry), CHECK_CASE(test_cursor_bounds), CHECK_CASE(test_header_layout),
           CHECK_CASE(test_header_rejections), CHECK_CASE(test_bmhdr), CHECK_CASE(test_node_layout), CHECK_CASE(test_node_columns),
           CHECK_CASE(test_node_rejections), CHECK_CASE(test_check_child))
