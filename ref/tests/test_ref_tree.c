/*
 * ref/tests/test_ref_tree.c - the B+-tree (spec/vci-format.md section 6):
 * splits at exactly 107 extents and 204 entries, the split policy, lookups
 * and next keys across leaves, removals with merges and collapse, in-place
 * changes, and rejection of cycles and over-deep trees.  A small node cache
 * makes nodes go to disk and come back through validation all the time.
 */
#include <stdlib.h>
#include <string.h>

#include "ref/vci_tree.h"
#include "tests/check.h"
#include "tutil.h"

#define DATA_BASE (UINT64_C(1) << 19)

typedef struct tfix {
    tenv      *e;
    vci_io     io;
    vci_header h;
    vci_alloc *a;
    vci_nodes *nc;
    vci_tree   t;
} tfix;

static int tfix_init(tfix *f, unsigned node_cache)
{
    memset(f, 0, sizeof(*f));
    f->e = tenv_new(0);
    int rc = tenv_raw_io(f->e, "t.vci", true, &f->io);
    if (RT_FAILURE(rc))
        return rc;
    f->h.cblocks = UINT64_C(1) << 20;
    f->h.type = VCI_TYPE_DYNAMIC;
    f->h.bm_addr = 2;
    f->h.bm_blocks = vci_bm_blocks_for(f->h.cblocks);
    f->h.root = f->h.bm_addr + f->h.bm_blocks;
    rc = vci_io_set_size(&f->io, (f->h.root + 8) * VCI_BLOCK_SIZE);
    vci_bmhdr b = { .managed = f->h.cblocks, .free = f->h.cblocks };
    if (RT_SUCCESS(rc))
        rc = vci_alloc_new(&f->io, &f->h, &b, 8, &f->a);
    if (RT_SUCCESS(rc))
        rc = vci_alloc_mark(f->a, 0, f->h.root + 8, VCI_KIND_META);
    if (RT_SUCCESS(rc))
        rc = vci_alloc_mark(f->a, DATA_BASE, DATA_BASE / 2, VCI_KIND_DATA);
    vci_layout lay = vci_header_layout(&f->h);
    if (RT_SUCCESS(rc))
        rc = vci_nodes_new(&f->io, &lay, node_cache, &f->nc);
    vci_node *root;
    if (RT_SUCCESS(rc))
        rc = vci_nodes_create(f->nc, f->h.root, VCI_NODE_LEAF, &root);
    if (RT_FAILURE(rc))
        return rc;
    vci_nodes_unpin(f->nc, root);
    vci_tree_init(&f->t, f->nc, f->a, f->h.root);
    f->t.height = 1;
    return VINF_SUCCESS;
}

static void tfix_fini(tfix *f)
{
    vci_nodes_destroy(f->nc);
    vci_alloc_destroy(f->a);
    if (f->io.stor != NULL)
        tenv_raw_close(f->e, &f->io);
    tenv_free(f->e);
}

static int ins(tfix *f, uint64_t key, uint32_t count, uint64_t addr)
{
    unsigned need;
    int rc = vci_tree_insert_need(&f->t, key, &need);
    if (RT_SUCCESS(rc))
        rc = vci_tree_reserve(&f->t, need);
    if (RT_SUCCESS(rc)) {
        vci_extent x = { .prev = VCI_LRU_NONE, .next = VCI_LRU_NONE, .key = key, .count = count, .addr = addr };
        rc = vci_tree_insert(&f->t, &x);
    }
    int rc2 = vci_tree_release_pool(&f->t);
    return RT_SUCCESS(rc) ? rc2 : rc;
}

static unsigned node_n(tfix *f, uint64_t addr)
{
    vci_node *n;
    if (RT_FAILURE(vci_nodes_get(f->nc, addr, &n)))
        return 9999;
    unsigned r = n->n;
    vci_nodes_unpin(f->nc, n);
    return r;
}

static vci_ientry root_entry(tfix *f, unsigned i)
{
    vci_node *n;
    vci_ientry e = { 0, 0, 0 };
    if (RT_SUCCESS(vci_nodes_get(f->nc, f->t.root, &n))) {
        if (n->type == VCI_NODE_INTERNAL && i < n->n)
            e = vci_int_get(n, i);
        vci_nodes_unpin(f->nc, n);
    }
    return e;
}

static void test_leaf_split_at_107(void)
{
    tfix f;
    REQUIRE(tfix_init(&f, 64) == VINF_SUCCESS);
    unsigned need;
    for (unsigned i = 0; i < VCI_LEAF_MAX; i++) {
        REQUIRE(vci_tree_insert_need(&f.t, 10 * i, &need) == VINF_SUCCESS);
        CHECK_EQ(need, 0);
        REQUIRE(ins(&f, 10 * (uint64_t)i, 5, DATA_BASE + 5 * (uint64_t)i) == VINF_SUCCESS);
    }
    CHECK_EQ(f.t.height, 1);
    CHECK_EQ(node_n(&f, f.t.root), 107);
    REQUIRE(vci_tree_insert_need(&f.t, 1070, &need) == VINF_SUCCESS);
    CHECK_EQ(need, 2); /* the leaf and a new root */
    uint64_t old_root = f.t.root;
    REQUIRE(ins(&f, 1070, 5, DATA_BASE + 535) == VINF_SUCCESS);
    CHECK_EQ(f.t.height, 2);
    CHECK(f.t.root != old_root);
    CHECK(f.t.root_changed);
    CHECK_EQ(node_n(&f, f.t.root), 2);
    vci_ientry e0 = root_entry(&f, 0), e1 = root_entry(&f, 1);
    CHECK_EQ(e0.child, old_root);
    CHECK_EQ(node_n(&f, e0.child), 107); /* appended: the old leaf stays full */
    CHECK_EQ(node_n(&f, e1.child), 1);
    CHECK_EQ(e0.key, 0);
    CHECK_EQ(e0.count, 1065);
    CHECK_EQ(e1.key, 1070);
    CHECK_EQ(e1.count, 5);
    vci_tree_stats st;
    REQUIRE(vci_tree_walk_stats(&f.t, &st) == VINF_SUCCESS);
    CHECK_EQ(st.nodes, 3);
    CHECK_EQ(st.leaves, 2);
    CHECK_EQ(st.extents, 108);
    CHECK_EQ(st.depth, 2);
    CHECK_EQ(vci_nodes_pinned(f.nc), 0);
    tfix_fini(&f);
}

static void test_middle_split_even(void)
{
    tfix f;
    REQUIRE(tfix_init(&f, 64) == VINF_SUCCESS);
    for (unsigned i = 0; i < VCI_LEAF_MAX; i++)
        REQUIRE(ins(&f, 10 * (uint64_t)i, 5, DATA_BASE + 5 * (uint64_t)i) == VINF_SUCCESS);
    REQUIRE(ins(&f, 505, 1, DATA_BASE + 1000) == VINF_SUCCESS);
    CHECK_EQ(node_n(&f, root_entry(&f, 0).child), 54);
    CHECK_EQ(node_n(&f, root_entry(&f, 1).child), 54);
    CHECK_EQ(root_entry(&f, 1).key, 530); /* extents 0..50, 505, 51..52 left; 530.. right */
    /* Before the root: a key below every other becomes the first key. */
    tfix_fini(&f);
}

/* 21828 appended extents fill 204 leaves under the root; one more splits
 * the root (height 3). */
static void test_internal_split_at_204(void)
{
    tfix f;
    REQUIRE(tfix_init(&f, 40) == VINF_SUCCESS);
    const unsigned n = VCI_LEAF_MAX * VCI_INT_MAX;
    for (unsigned i = 0; i < n; i++) {
        int rc = ins(&f, 3 * (uint64_t)i, 2, DATA_BASE + 2 * (uint64_t)i);
        if (rc != VINF_SUCCESS) {
            CHECK_EQ(rc, VINF_SUCCESS);
            tfix_fini(&f);
            return;
        }
    }
    CHECK_EQ(f.t.height, 2);
    CHECK_EQ(node_n(&f, f.t.root), 204);
    unsigned need;
    REQUIRE(vci_tree_insert_need(&f.t, 3 * (uint64_t)n, &need) == VINF_SUCCESS);
    CHECK_EQ(need, 3);
    REQUIRE(ins(&f, 3 * (uint64_t)n, 2, DATA_BASE + 2 * (uint64_t)n) == VINF_SUCCESS);
    CHECK_EQ(f.t.height, 3);
    CHECK_EQ(node_n(&f, f.t.root), 2);
    CHECK_EQ(node_n(&f, root_entry(&f, 0).child), 204);
    CHECK_EQ(node_n(&f, root_entry(&f, 1).child), 1);
    vci_tree_stats st;
    REQUIRE(vci_tree_walk_stats(&f.t, &st) == VINF_SUCCESS);
    CHECK_EQ(st.extents, n + 1);
    CHECK_EQ(st.leaves, 205);
    CHECK_EQ(st.nodes, 205 + 2 + 1);
    CHECK_EQ(st.depth, 3);
    CHECK_EQ(vci_alloc_counts(f.a)->meta, f.h.root + 8 + 8 * (st.nodes - 1));
    /* Every extent is found again (nodes come back from disk, validated). */
    uint64_t seed = 99;
    for (unsigned k = 0; k < 2000; k++) {
        uint64_t i = trand(&seed) % (n + 1);
        bool found;
        vci_extent x;
        uint64_t next;
        REQUIRE(vci_tree_lookup(&f.t, 3 * i + 1, &found, &x, &next) == VINF_SUCCESS);
        CHECK(found && x.key == 3 * i && x.addr == DATA_BASE + 2 * i);
        REQUIRE(vci_tree_lookup(&f.t, 3 * i + 2, &found, &x, &next) == VINF_SUCCESS);
        CHECK(!found && next == (i == n ? VCI_VBLOCK_LIMIT : 3 * i + 3));
    }
    CHECK(vci_nodes_get_stats(f.nc).evictions > 0);
    CHECK_EQ(vci_nodes_pinned(f.nc), 0);
    tfix_fini(&f);
}

static void test_lookup_and_find_ge(void)
{
    tfix f;
    REQUIRE(tfix_init(&f, 64) == VINF_SUCCESS);
    for (unsigned i = 0; i < 300; i++)
        REQUIRE(ins(&f, 100 + 10 * (uint64_t)i, 4, DATA_BASE + 4 * (uint64_t)i) == VINF_SUCCESS);
    bool found;
    vci_extent x;
    uint64_t next;
    REQUIRE(vci_tree_lookup(&f.t, 5, &found, &x, &next) == VINF_SUCCESS);
    CHECK(!found && next == 100);
    REQUIRE(vci_tree_lookup(&f.t, 103, &found, &x, &next) == VINF_SUCCESS);
    CHECK(found && x.key == 100 && x.count == 4);
    REQUIRE(vci_tree_lookup(&f.t, 104, &found, &x, &next) == VINF_SUCCESS);
    CHECK(!found && next == 110);
    /* The last extent of the first leaf (appends: 107 per leaf) and the
     * miss after it: the next key comes from the next leaf. */
    uint64_t last0 = 100 + 10 * 106;
    REQUIRE(vci_tree_lookup(&f.t, last0 + 5, &found, &x, &next) == VINF_SUCCESS);
    CHECK(!found && next == last0 + 10);
    REQUIRE(vci_tree_find_ge(&f.t, last0 + 5, &found, &x) == VINF_SUCCESS);
    CHECK(found && x.key == last0 + 10);
    REQUIRE(vci_tree_find_ge(&f.t, last0 + 2, &found, &x) == VINF_SUCCESS);
    CHECK(found && x.key == last0);
    REQUIRE(vci_tree_find_ge(&f.t, 100 + 10 * 299 + 4, &found, &x) == VINF_SUCCESS);
    CHECK(!found);
    REQUIRE(vci_tree_lookup(&f.t, 100000, &found, &x, &next) == VINF_SUCCESS);
    CHECK(!found && next == VCI_VBLOCK_LIMIT);
    REQUIRE(vci_tree_get(&f.t, 110, &x) == VINF_SUCCESS);
    CHECK_EQ(x.addr, DATA_BASE + 4);
    CHECK_EQ(vci_tree_get(&f.t, 111, &x), VERR_NOT_FOUND);
    tfix_fini(&f);
}

static void test_put_rules(void)
{
    tfix f;
    REQUIRE(tfix_init(&f, 64) == VINF_SUCCESS);
    for (unsigned i = 0; i < 200; i++)
        REQUIRE(ins(&f, 10 * (uint64_t)i, 5, DATA_BASE + 5 * (uint64_t)i) == VINF_SUCCESS);
    vci_extent x = { .prev = 1, .next = 2, .key = 1072, .count = 3, .addr = DATA_BASE + 9999 };
    /* 1070 is the first extent of the second leaf: its parent key follows. */
    REQUIRE(vci_tree_put(&f.t, 1070, &x) == VINF_SUCCESS);
    CHECK_EQ(root_entry(&f, 1).key, 1072);
    x.key = 1066;
    x.count = 9;
    REQUIRE(vci_tree_put(&f.t, 1072, &x) == VINF_SUCCESS); /* grows at the front, down to 1065 */
    CHECK_EQ(root_entry(&f, 1).key, 1066);
    x.key = 1064; /* would overlap 1060..1065 */
    CHECK_EQ(vci_tree_put(&f.t, 1066, &x), VERR_INTERNAL_ERROR);
    x.key = 1066;
    x.count = 20; /* would overlap 1080 */
    CHECK_EQ(vci_tree_put(&f.t, 1066, &x), VERR_INTERNAL_ERROR);
    x.count = 5;
    CHECK_EQ(vci_tree_put(&f.t, 1067, &x), VERR_NOT_FOUND);
    x.count = 0;
    CHECK_EQ(vci_tree_put(&f.t, 1066, &x), VERR_INTERNAL_ERROR);
    vci_extent y = { .key = 1062, .count = 2, .addr = DATA_BASE + 20000 };
    CHECK_EQ(vci_tree_insert(&f.t, &y), VERR_INTERNAL_ERROR); /* overlaps 1060..1065 */
    CHECK_EQ(vci_nodes_pinned(f.nc), 0);
    tfix_fini(&f);
}

/* Shuffled inserts, then removal of everything in another order: the tree
 * stays valid throughout and ends as an empty root leaf with every node
 * freed. */
static void test_remove_all(void)
{
    tfix f;
    REQUIRE(tfix_init(&f, 48) == VINF_SUCCESS);
    const unsigned n = 6000;
    unsigned *order = malloc(n * sizeof(*order));
    REQUIRE(order != NULL);
    for (unsigned i = 0; i < n; i++)
        order[i] = i;
    uint64_t seed = 1234;
    for (unsigned i = n; i > 1; i--) {
        unsigned j = (unsigned)(trand(&seed) % i), tmp = order[i - 1];
        order[i - 1] = order[j];
        order[j] = tmp;
    }
    for (unsigned i = 0; i < n; i++)
        REQUIRE(ins(&f, 7 * (uint64_t)order[i], 3, DATA_BASE + 3 * (uint64_t)order[i]) == VINF_SUCCESS);
    vci_tree_stats st;
    REQUIRE(vci_tree_walk_stats(&f.t, &st) == VINF_SUCCESS);
    CHECK_EQ(st.extents, n);
    CHECK(st.depth == 2 || st.depth == 3);
    for (unsigned i = n; i > 1; i--) {
        unsigned j = (unsigned)(trand(&seed) % i), tmp = order[i - 1];
        order[i - 1] = order[j];
        order[j] = tmp;
    }
    for (unsigned i = 0; i < n; i++) {
        REQUIRE(vci_tree_remove(&f.t, 7 * (uint64_t)order[i]) == VINF_SUCCESS);
        if (i % 997 == 0) {
            REQUIRE(vci_tree_walk_stats(&f.t, &st) == VINF_SUCCESS);
            CHECK_EQ(st.extents, n - i - 1);
            /* Merges keep the leaves from thinning out. */
            CHECK(st.leaves <= 1 + (n - i - 1) / 26 + 2);
        }
    }
    CHECK_EQ(vci_tree_remove(&f.t, 7), VERR_NOT_FOUND);
    REQUIRE(vci_tree_walk_stats(&f.t, &st) == VINF_SUCCESS);
    CHECK_EQ(st.nodes, 1);
    CHECK_EQ(st.extents, 0);
    CHECK_EQ(f.t.height, 1);
    bool empty;
    REQUIRE(vci_tree_is_empty(&f.t, &empty) == VINF_SUCCESS);
    CHECK(empty);
    CHECK_EQ(vci_alloc_counts(f.a)->meta, f.h.root + 8);
    CHECK_EQ(vci_nodes_pinned(f.nc), 0);
    free(order);
    tfix_fini(&f);
}

static void test_merge_and_collapse(void)
{
    tfix f;
    REQUIRE(tfix_init(&f, 64) == VINF_SUCCESS);
    for (unsigned i = 0; i < VCI_LEAF_MAX; i++)
        REQUIRE(ins(&f, 10 * (uint64_t)i, 5, DATA_BASE + 5 * (uint64_t)i) == VINF_SUCCESS);
    uint64_t leaf_addr = f.t.root;
    REQUIRE(ins(&f, 505, 1, DATA_BASE + 1000) == VINF_SUCCESS); /* 54 / 54 */
    CHECK_EQ(f.t.height, 2);
    /* Take the left leaf down to 26: still no merge. */
    for (unsigned i = 0; i < 28; i++)
        REQUIRE(vci_tree_remove(&f.t, 10 * (uint64_t)i) == VINF_SUCCESS);
    CHECK_EQ(f.t.height, 2);
    CHECK_EQ(node_n(&f, root_entry(&f, 0).child), 26);
    CHECK_EQ(root_entry(&f, 0).key, 280);
    /* One more: 25 + 54 fit in one leaf, the root collapses into it. */
    REQUIRE(vci_tree_remove(&f.t, 280) == VINF_SUCCESS);
    CHECK_EQ(f.t.height, 1);
    CHECK_EQ(f.t.root, leaf_addr);
    CHECK_EQ(node_n(&f, f.t.root), 79);
    CHECK_EQ(vci_alloc_counts(f.a)->meta, f.h.root + 8);
    bool found;
    vci_extent x;
    uint64_t next;
    REQUIRE(vci_tree_lookup(&f.t, 1061, &found, &x, &next) == VINF_SUCCESS);
    CHECK(found && x.key == 1060);
    CHECK_EQ(vci_nodes_pinned(f.nc), 0);
    tfix_fini(&f);
}

/* Writes a node straight into the file. */
static int put_node(tfix *f, uint64_t addr, const vci_node *n)
{
    uint8_t b[VCI_NODE_SIZE];
    vci_node_encode(n, b);
    return vci_io_write_meta(&f->io, addr * VCI_BLOCK_SIZE, b, sizeof(b));
}

/* A chain of single-entry internal nodes: nine levels deep, and a node
 * that is its own child.  Both are found, not followed. */
static void test_cycles_and_depth(void)
{
    tfix f;
    REQUIRE(tfix_init(&f, 64) == VINF_SUCCESS);
    vci_node n;
    memset(&n, 0, sizeof(n));
    uint64_t base = 1000;
    for (unsigned d = 0; d < 9; d++) {
        memset(&n, 0, sizeof(n));
        n.type = VCI_NODE_INTERNAL;
        n.n = 1;
        vci_int_set(&n, 0, &(vci_ientry){ .key = 50, .count = 5, .child = base + 8 * (d + 1) });
        REQUIRE(put_node(&f, base + 8 * d, &n) == VINF_SUCCESS);
    }
    memset(&n, 0, sizeof(n));
    n.type = VCI_NODE_LEAF;
    n.n = 1;
    vci_leaf_set(&n, 0, &(vci_extent){ .prev = VCI_LRU_NONE, .next = VCI_LRU_NONE, .key = 50, .count = 5,
                               .addr = DATA_BASE });
    REQUIRE(put_node(&f, base + 8 * 9, &n) == VINF_SUCCESS);
    vci_tree t;
    vci_tree_init(&t, f.nc, f.a, base);
    bool found;
    vci_extent x;
    uint64_t next;
    CHECK_EQ(vci_tree_lookup(&t, 52, &found, &x, &next), VERR_VD_IMAGE_CORRUPTED);
    CHECK_EQ(vci_nodes_pinned(f.nc), 0);
    /* Eight levels are fine: start two levels lower (7 internal + leaf). */
    vci_tree_init(&t, f.nc, f.a, base + 16);
    REQUIRE(vci_tree_lookup(&t, 52, &found, &x, &next) == VINF_SUCCESS);
    CHECK(found && x.key == 50);
    CHECK_EQ(t.height, 8);
    unsigned need;
    /* A full path at depth 8 cannot grow: not the case here (nodes hold 1). */
    REQUIRE(vci_tree_insert_need(&t, 51, &need) == VINF_SUCCESS);
    CHECK_EQ(need, 0);

    /* A node that is its own child. */
    memset(&n, 0, sizeof(n));
    n.type = VCI_NODE_INTERNAL;
    n.n = 1;
    vci_int_set(&n, 0, &(vci_ientry){ .key = 0, .count = 10, .child = 3000 });
    REQUIRE(put_node(&f, 3000, &n) == VINF_SUCCESS);
    vci_tree_init(&t, f.nc, f.a, 3000);
    CHECK_EQ(vci_tree_lookup(&t, 1, &found, &x, &next), VERR_VD_IMAGE_CORRUPTED);
    /* A leaf below an internal node but at the wrong depth. */
    memset(&n, 0, sizeof(n));
    n.type = VCI_NODE_INTERNAL;
    n.n = 2;
    vci_int_set(&n, 0, &(vci_ientry){ .key = 50, .count = 5, .child = base + 8 * 9 });   /* leaf */
    vci_int_set(&n, 1, &(vci_ientry){ .key = 60, .count = 5, .child = 4000 });
    REQUIRE(put_node(&f, 3100, &n) == VINF_SUCCESS);
    memset(&n, 0, sizeof(n));
    n.type = VCI_NODE_INTERNAL;
    n.n = 1;
    vci_int_set(&n, 0, &(vci_ientry){ .key = 60, .count = 5, .child = 4008 });
    REQUIRE(put_node(&f, 4000, &n) == VINF_SUCCESS);
    memset(&n, 0, sizeof(n));
    n.type = VCI_NODE_LEAF;
    n.n = 1;
    vci_leaf_set(&n, 0, &(vci_extent){ .prev = VCI_LRU_NONE, .next = VCI_LRU_NONE, .key = 60, .count = 5,
                               .addr = DATA_BASE + 10 });
    REQUIRE(put_node(&f, 4008, &n) == VINF_SUCCESS);
    vci_tree_init(&t, f.nc, f.a, 3100);
    REQUIRE(vci_tree_lookup(&t, 52, &found, &x, &next) == VINF_SUCCESS);
    CHECK_EQ(vci_tree_lookup(&t, 61, &found, &x, &next), VERR_VD_IMAGE_CORRUPTED);
    CHECK_EQ(vci_nodes_pinned(f.nc), 0);
    tfix_fini(&f);
}

CHECK_MAIN(CHECK_CASE(test_leaf_split_at_107), CHECK_CASE(test_middle_split_even),
           CHECK_CASE(test_internal_split_at_204), CHECK_CASE(test_lookup_and_find_ge),
           CHECK_CASE(test_put_rules), CHECK_CASE(test_remove_all), CHECK_CASE(test_merge_and_collapse),
           CHECK_CASE(test_cycles_and_depth))
