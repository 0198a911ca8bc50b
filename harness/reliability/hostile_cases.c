/*
 * harness/reliability/hostile_cases.c - the hostile VCI cases (hostile.h),
 * built with the independent encoder (vci_enc.h).
 *
 * Contract: hostile.h.  Statuses: 0, the callback's return, or
 * VERR_NO_MEMORY.  Each case cites, in its description, the rule of
 * spec/vci-format.md it breaks (section 3 header, 4 block map, 5 nodes,
 * 6 tree invariants, 7 LRU list, 11 open) or says why it is valid.
 * Cases are built in a fixed order; never reorder or remove one without
 * regenerating corpus/hostile (their numbers name the files).
 */
#include "hostile.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../../spec/vdcache.h"
#include "vci_enc.h"

#define CB 256u /* the capacity most cases use: 128 KiB, M = 2 */

/* Byte offsets of node fields: extent i / entry i of the node at block b. */
#define NODE(b)       ((uint64_t)(b) * VE_BLOCK)
#define EXT(b, i, f)  (NODE(b) + 1 + (uint64_t)VE_EXT_SIZE * (i) + (f))
#define ENT(b, i, f)  (NODE(b) + 1 + (uint64_t)VE_ENT_SIZE * (i) + (f))
#define X_PREV 0
#define X_NEXT 8
#define X_FLAGS 16
#define X_RSV 17
#define X_KEY 18
#define X_COUNT 26
#define X_ADDR 30
#define N_KEY 0
#define N_COUNT 8
#define N_CHILD 12
#define BMH(e, f)     ((e)->bm * VE_BLOCK + (f))

typedef struct hx {
    vdc_hostile_fn fn;
    void          *user;
    unsigned       n;
    int            rc;
    unsigned       nalias;     /* aliases of the next case emitted (hostile.h) */
    vdc_hostile_alias alias[VDC_HOSTILE_MAX_ALIAS];
} hx;

/* Declares that the next case's tree maps virtual bytes [voff, voff + len)
 * to the file bytes at foff (hostile.h "Data of broken images"). */
static void alias(hx *h, uint64_t voff, uint64_t len, uint64_t foff)
{
    if (h->nalias < VDC_HOSTILE_MAX_ALIAS)
        h->alias[h->nalias++] = (vdc_hostile_alias){ voff, len, foff };
}

const char *vdc_hx_name(uint8_t x)
{
    switch (x) {
    case VDC_HX_ANY: return "any";
    case VDC_HX_HDR: return "hdr";
    case VDC_HX_CORRUPT: return "corrupt";
    case VDC_HX_FAIL: return "fail";
    case VDC_HX_OK: return "ok";
    case VDC_HX_VALID: return "valid";
    case VDC_HX_INVALID: return "invalid";
    case VDC_HX_UNCLEAN: return "unclean";
    }
    return "?";
}

/* Hands the case to the callback and frees the image. */
static void emit(hx *h, vci_enc *e, const char *name, uint8_t probe, uint8_t rw, uint8_t ro, uint8_t deep,
                 const char *fmt, ...) __attribute__((format(printf, 8, 9)));
static void emit(hx *h, vci_enc *e, const char *name, uint8_t probe, uint8_t rw, uint8_t ro, uint8_t deep,
                 const char *fmt, ...)
{
    vdc_hostile_case c;
    va_list va;
    if (h->rc != 0) {
        h->nalias = 0;
        ve_free(e);
        return;
    }
    if (e->oom) {
        h->nalias = 0;
        h->rc = VERR_NO_MEMORY;
        ve_free(e);
        return;
    }
    memset(&c, 0, sizeof c);
    c.number = ++h->n;
    snprintf(c.name, sizeof c.name, "%03u-%s", c.number, name);
    va_start(va, fmt);
    vsnprintf(c.desc, sizeof c.desc, fmt, va);
    va_end(va);
    c.probe = probe;
    c.open_rw = rw;
    c.open_ro = ro;
    c.deep = deep;
    c.img = e->buf;
    c.size = e->size;
    c.cblocks = e->cblocks;
    c.nalias = h->nalias;
    memcpy(c.alias, h->alias, sizeof c.alias);
    h->nalias = 0;
    h->rc = h->fn(h->user, &c);
    ve_free(e);
}

/* Shorthands for the usual verdict sets. */
#define BAD_HDR   VDC_HX_HDR, VDC_HX_HDR, VDC_HX_HDR, VDC_HX_INVALID
#define BAD_META  VDC_HX_OK, VDC_HX_CORRUPT, VDC_HX_CORRUPT, VDC_HX_INVALID
#define BAD_DEEP  VDC_HX_OK, VDC_HX_OK, VDC_HX_OK, VDC_HX_INVALID
#define VALID     VDC_HX_OK, VDC_HX_OK, VDC_HX_OK, VDC_HX_VALID

/* ---- base images -------------------------------------------------------- */

static void link_keys(ve_extent *x, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        x[i].prev = i > 0 ? x[i - 1].key : VE_NONE;
        x[i].next = i + 1 < n ? x[i + 1].key : VE_NONE;
    }
}

static void finish(vci_enc *e, uint64_t head, uint64_t tail)
{
    ve_bm_header(e);
    ve_lru(e, head, tail);
}

/* A root leaf with n extents of `count` blocks at keys 0, stride, ... */
static void b_leaf(vci_enc *e, uint64_t cb, unsigned n, uint32_t count, uint64_t stride)
{
    ve_extent x[VE_LEAF_MAX];
    memset(x, 0, sizeof x);
    ve_init(e, cb, 1);
    for (unsigned i = 0; i < n; i++) {
        x[i].key = i * stride;
        x[i].count = count;
    }
    link_keys(x, n);
    ve_leaf(e, e->root, x, n);
    finish(e, n ? x[0].key : VE_NONE, n ? x[n - 1].key : VE_NONE);
}

/* The small base: 3 extents of 2 blocks at keys 0, 8, 16 (9 KiB file). */
static void b_small(vci_enc *e)
{
    b_leaf(e, CB, 3, 2, 8);
}

typedef struct tinfo {
    uint64_t leaf[4];
    uint64_t mid[2];
} tinfo;

/* Depth 2: root {0 -> A, 64 -> B}; A holds keys 0, 8, 16 and B 64, 72,
 * 80, 2 blocks each.  Node A at 12, its data 20..25, node B at 26, its
 * data 34..39. */
static void b_tree2(vci_enc *e, tinfo *t)
{
    ve_extent x[6];
    memset(x, 0, sizeof x);
    ve_init(e, CB, 1);
    for (unsigned i = 0; i < 6; i++) {
        x[i].key = (i < 3 ? 0 : 64) + 8 * (i % 3);
        x[i].count = 2;
    }
    link_keys(x, 6);
    t->leaf[0] = ve_alloc(e, VE_NODE_BLOCKS, true);
    ve_leaf(e, t->leaf[0], x, 3);
    t->leaf[1] = ve_alloc(e, VE_NODE_BLOCKS, true);
    ve_leaf(e, t->leaf[1], x + 3, 3);
    ve_entry r[2] = { { 0, 18, t->leaf[0] }, { 64, 18, t->leaf[1] } };
    ve_internal(e, e->root, r, 2);
    finish(e, 0, 80);
}

/* Depth 3: root {0 -> M0, 128 -> M1}; M0 {0 -> A, 32 -> B}, M1 {128 -> C,
 * 160 -> D}; each leaf two extents of 2 blocks, 8 apart. */
static void b_tree3(vci_enc *e, tinfo *t)
{
    ve_extent x[8];
    static const uint64_t base[4] = { 0, 32, 128, 160 };
    memset(x, 0, sizeof x);
    ve_init(e, CB, 1);
    for (unsigned i = 0; i < 8; i++) {
        x[i].key = base[i / 2] + 8 * (i % 2);
        x[i].count = 2;
    }
    link_keys(x, 8);
    t->mid[0] = ve_alloc(e, VE_NODE_BLOCKS, true);
    t->mid[1] = ve_alloc(e, VE_NODE_BLOCKS, true);
    for (unsigned l = 0; l < 4; l++) {
        t->leaf[l] = ve_alloc(e, VE_NODE_BLOCKS, true);
        ve_leaf(e, t->leaf[l], x + 2 * l, 2);
    }
    ve_entry m0[2] = { { 0, 10, t->leaf[0] }, { 32, 10, t->leaf[1] } };
    ve_entry m1[2] = { { 128, 10, t->leaf[2] }, { 160, 10, t->leaf[3] } };
    ve_internal(e, t->mid[0], m0, 2);
    ve_internal(e, t->mid[1], m1, 2);
    ve_entry r[2] = { { 0, 42, t->mid[0] }, { 128, 42, t->mid[1] } };
    ve_internal(e, e->root, r, 2);
    finish(e, 0, 168);
}

/* A chain: the root and depth-2 more internal nodes with one entry each,
 * then a leaf with one extent (key 0, 1 block) at depth `depth`.  The
 * nodes are returned in chain[0..depth). */
static void b_chain(vci_enc *e, unsigned depth, uint64_t *chain)
{
    ve_extent x = { .key = 0, .count = 1, .prev = VE_NONE, .next = VE_NONE };
    ve_init(e, CB, 1);
    chain[0] = e->root;
    for (unsigned d = 1; d < depth; d++)
        chain[d] = ve_alloc(e, VE_NODE_BLOCKS, true);
    ve_leaf(e, chain[depth - 1], &x, 1);
    for (unsigned d = 0; d + 1 < depth; d++) {
        ve_entry en = { 0, 1, chain[d + 1] };
        ve_internal(e, chain[d], &en, 1);
    }
    finish(e, 0, 0);
}

/* ---- valid and unusual images ------------------------------------------- */

static void valid_cases(hx *h)
{
    vci_enc e;
    tinfo t;
    uint64_t chain[12];

    b_small(&e);
    emit(h, &e, "valid-small", VALID, "valid: a root leaf with 3 extents (the base of the header cases)");
    ve_init(&e, CB, 1);
    emit(h, &e, "valid-empty", VALID, "valid: a new empty dynamic cache (section 11 create layout)");
    b_tree2(&e, &t);
    emit(h, &e, "valid-tree2", VALID, "valid: depth 2, two leaves (the base of the node cases)");
    b_tree3(&e, &t);
    emit(h, &e, "valid-tree3", VALID, "valid: depth 3, four leaves");
    b_chain(&e, 8, chain);
    emit(h, &e, "valid-depth8", VALID, "valid: depth exactly 8, the maximum (section 6 invariant 4)");
    b_leaf(&e, CB, VE_LEAF_MAX, 1, 2);
    emit(h, &e, "valid-full-leaf", VALID, "valid: a root leaf with 107 extents, the most a leaf holds (section 5)");
    b_small(&e);
    ve_put32(&e, VE_H_TYPE, 2);
    ve_resize(&e, (uint64_t)CB * VE_BLOCK);
    emit(h, &e, "valid-fixed", VALID, "valid: type 2 (fixed), preallocated to the full 128 KiB");
    ve_init(&e, VE_MIN_BLOCKS, 1);
    emit(h, &e, "valid-min-capacity", VALID, "valid: cBlocks = 20, the minimum (section 13)");
    b_leaf(&e, 21, 1, 8, 8);
    emit(h, &e, "valid-cblocks-21", VALID, "valid: cBlocks = 21 (bitmap padding bits 21..31 zero), one 8-block extent");
    ve_init(&e, 4097, 1);
    emit(h, &e, "valid-m3", VALID, "valid: cBlocks = 4097, so the block map is 3 blocks (M = 1 + ceil(4097/4096))");
    {
        ve_extent x[2] = { { 0, 2, 0, VE_NONE, 8, }, { 8, 2, 0, 0, VE_NONE } };
        ve_init_at(&e, CB, 1, 10, 2);
        ve_leaf(&e, e.root, x, 2);
        finish(&e, 0, 8);
        emit(h, &e, "valid-bm-after-root", VALID,
             "valid: root at block 2 and block map at 10 (the header is the only authority, section 2)");
    }
    {
        ve_extent x = { 0, 1, 0, VE_NONE, VE_NONE };
        ve_init_at(&e, 64, 1, 2, 56);
        ve_leaf(&e, e.root, &x, 1);
        finish(&e, 0, 0);
        emit(h, &e, "valid-root-at-end", VALID, "valid: the root occupies the last 8 blocks of a 64-block cache");
    }
    b_small(&e);
    ve_fill(&e, VE_H_LRU, 0, VE_H_END - VE_H_LRU);
    for (unsigned i = 0; i < 3; i++) {
        ve_put64(&e, EXT(e.root, i, X_PREV), VE_NONE);
        ve_put64(&e, EXT(e.root, i, X_NEXT), VE_NONE);
    }
    emit(h, &e, "valid-no-lru", VALID, "valid: no LRU1 marker, links NONE (a VirtualBox-style image, section 7)");
    b_small(&e);
    ve_fill(&e, VE_H_LRU, 0, VE_H_END - VE_H_LRU);
    ve_put64(&e, EXT(e.root, 0, X_NEXT), 0x123456789abcdefull);
    ve_put64(&e, EXT(e.root, 1, X_PREV), 77);
    ve_put64(&e, EXT(e.root, 2, X_PREV), 16);
    emit(h, &e, "valid-no-lru-garbage-links", VALID,
         "valid: no LRU1 marker, so garbage prev/next fields must be ignored (section 7)");
    b_small(&e);
    ve_fill(&e, VE_H_UUID, 0xFF, 32);
    emit(h, &e, "valid-uuid-ff", VALID, "valid: both UUIDs all 0xFF (UUIDs are any bytes, section 3)");
    b_small(&e);
    for (unsigned i = 0; i < 16; i++)
        ve_put8(&e, VE_H_MODUUID + i, (uint8_t)(0xA5 ^ (i * 29)));
    emit(h, &e, "valid-mod-uuid", VALID, "valid: a non-zero modification UUID");
    {
        ve_extent x = { VE_KEY_LIMIT - 4, 4, 0, VE_NONE, VE_NONE };
        ve_init(&e, CB, 1);
        ve_leaf(&e, e.root, &x, 1);
        finish(&e, x.key, x.key);
        emit(h, &e, "valid-max-key", VALID, "valid: an extent ending exactly at 2^55 (key + count <= 2^55)");
    }
    {
        ve_extent x = { 1000, 200, 0, VE_NONE, VE_NONE };
        ve_init(&e, CB, 1);
        ve_leaf(&e, e.root, &x, 1);
        finish(&e, 1000, 1000);
        emit(h, &e, "valid-long-extent", VALID, "valid: one extent of 200 blocks");
    }
    {
        /* LRU order 8, 16, 0 (head 8, tail 0) instead of key order. */
        ve_extent x[3] = { { 0, 2, 0, 16, VE_NONE }, { 8, 2, 0, VE_NONE, 16 }, { 16, 2, 0, 8, 0 } };
        ve_init(&e, CB, 1);
        ve_leaf(&e, e.root, x, 3);
        finish(&e, 8, 0);
        emit(h, &e, "valid-lru-order", VALID, "valid: an LRU list in an order other than key order");
    }
    b_tree2(&e, &t);
    ve_put8(&e, VE_H_UNCLEAN, 1);
    emit(h, &e, "unclean-tree2", VDC_HX_OK, VDC_HX_OK, VDC_HX_OK, VDC_HX_UNCLEAN,
         "unclean flag 1: read-write open reinitialises, read-only open misses everything (section 10)");
    b_tree2(&e, &t);
    ve_put8(&e, VE_H_UNCLEAN, 1);
    ve_put32(&e, BMH(&e, VE_B_MAGIC), 0);
    emit(h, &e, "unclean-bad-bm", VDC_HX_OK, VDC_HX_OK, VDC_HX_ANY, VDC_HX_UNCLEAN,
         "unclean with a zeroed block-map magic: not validated when unclean, it is rewritten (section 11)");
    b_tree2(&e, &t);
    ve_put8(&e, VE_H_UNCLEAN, 1);
    ve_fill(&e, NODE(e.root), 0xEE, VE_NODE_BYTES);
    emit(h, &e, "unclean-garbage-root", VDC_HX_OK, VDC_HX_ANY, VDC_HX_ANY, VDC_HX_UNCLEAN,
         "unclean with a garbage root: a read-write open may reinitialise or refuse, cleanly");
    b_tree2(&e, &t);
    ve_put8(&e, VE_H_UNCLEAN, 1);
    ve_put64(&e, BMH(&e, VE_B_FREE), 12345);
    ve_put64(&e, BMH(&e, VE_B_DATA), UINT64_MAX);
    emit(h, &e, "unclean-bad-counters", VDC_HX_OK, VDC_HX_OK, VDC_HX_ANY, VDC_HX_UNCLEAN,
         "unclean with absurd block-map counters: rewritten by a read-write open");
    b_tree2(&e, &t);
    ve_put8(&e, VE_H_UNCLEAN, 1);
    ve_put64(&e, ENT(e.root, 1, N_CHILD), e.root);
    emit(h, &e, "unclean-cycle", VDC_HX_OK, VDC_HX_ANY, VDC_HX_ANY, VDC_HX_UNCLEAN,
         "unclean with a cycle root -> root: never followed (everything misses)");
}

/* ---- header -------------------------------------------------------------- */

static void sig_case(hx *h, const char *name, const uint8_t sig[4], const char *what)
{
    vci_enc e;
    b_small(&e);
    for (unsigned i = 0; i < 4; i++)
        ve_put8(&e, VE_H_SIG + i, sig[i]);
    emit(h, &e, name, BAD_HDR, "signature %s (section 3: exactly 56 43 49 00)", what);
}

static void u32_case(hx *h, const char *name, uint64_t off, uint32_t v, const char *rule)
{
    vci_enc e;
    b_small(&e);
    ve_put32(&e, off, v);
    emit(h, &e, name, BAD_HDR, "%s = %u (0x%x): %s", name, v, v, rule);
}

static void u64_case(hx *h, const char *name, uint64_t off, uint64_t v, const char *rule)
{
    vci_enc e;
    b_small(&e);
    ve_put64(&e, off, v);
    emit(h, &e, name, BAD_HDR, "%s = %llu (0x%llx): %s", name, (unsigned long long)v, (unsigned long long)v, rule);
}

static void header_cases(hx *h)
{
    vci_enc e;
    static const uint8_t s0[4] = { 0, 0, 0, 0 }, s1[4] = { 0x56, 0x43, 0x49, 0x01 },
                         s2[4] = { 0x76, 0x63, 0x69, 0x00 }, s3[4] = { 0x00, 0x49, 0x43, 0x56 },
                         s4[4] = { 0x56, 0x42, 0x4C, 0x4B }, s5[4] = { 0xFF, 0xFF, 0xFF, 0xFF };
    sig_case(h, "sig-zero", s0, "all zero");
    sig_case(h, "sig-vci1", s1, "\"VCI\\1\"");
    sig_case(h, "sig-lowercase", s2, "\"vci\\0\"");
    sig_case(h, "sig-reversed", s3, "byte-reversed");
    sig_case(h, "sig-vblk", s4, "\"VBLK\" (the block-map magic)");
    sig_case(h, "sig-ff", s5, "all 0xFF");

    u32_case(h, "version-0", VE_H_VERSION, 0, "section 3 version must be 1");
    u32_case(h, "version-2", VE_H_VERSION, 2, "section 3 version must be 1");
    u32_case(h, "version-max", VE_H_VERSION, UINT32_MAX, "section 3 version must be 1");
    u32_case(h, "version-65537", VE_H_VERSION, 0x10001, "section 3 version must be 1 (low half 1)");
    u32_case(h, "version-high-bit", VE_H_VERSION, 0x80000001u, "section 3 version must be 1");

    /* cBlocks outside 20..2^32, with M kept consistent so only the range
     * rule is broken where M can be consistent. */
    static const struct { const char *n; uint64_t cb; } cbs[] = {
        { "cblocks-0", 0 }, { "cblocks-1", 1 }, { "cblocks-19", 19 },
        { "cblocks-2p32-plus-1", ((uint64_t)1 << 32) + 1 }, { "cblocks-2p32-plus-4096", ((uint64_t)1 << 32) + 4096 },
        { "cblocks-2p63", (uint64_t)1 << 63 }, { "cblocks-max", UINT64_MAX },
    };
    for (unsigned i = 0; i < sizeof cbs / sizeof cbs[0]; i++) {
        b_small(&e);
        ve_put64(&e, VE_H_CBLOCKS, cbs[i].cb);
        if (cbs[i].cb < UINT64_MAX - 4096)
            ve_put32(&e, VE_H_BMSIZE, (uint32_t)(1 + (cbs[i].cb + 4095) / 4096));
        emit(h, &e, cbs[i].n, BAD_HDR, "cBlocks = %llu, outside 20..2^32 (section 3, 13)",
             (unsigned long long)cbs[i].cb);
    }
    static const uint32_t ms[] = { 0, 1, 3, UINT32_MAX };
    for (unsigned i = 0; i < 4; i++) {
        char n[32];
        snprintf(n, sizeof n, "bmsize-%u", i);
        b_small(&e);
        ve_put32(&e, VE_H_BMSIZE, ms[i]);
        emit(h, &e, n, BAD_HDR, "block map size M = %u, not 1 + ceil(cBlocks/4096) = 2 (section 3)", ms[i]);
    }
    static const uint8_t fl[] = { 2, 0x80, 0xFF };
    for (unsigned i = 0; i < 3; i++) {
        char n[32];
        snprintf(n, sizeof n, "unclean-%u", fl[i]);
        b_small(&e);
        ve_put8(&e, VE_H_UNCLEAN, fl[i]);
        emit(h, &e, n, BAD_HDR, "unclean flag %u, only 0 or 1 allowed (section 3)", fl[i]);
    }
    u32_case(h, "type-0", VE_H_TYPE, 0, "cache type must be 1 or 2");
    u32_case(h, "type-3", VE_H_TYPE, 3, "cache type must be 1 or 2");
    u32_case(h, "type-257", VE_H_TYPE, 0x101, "cache type must be 1 or 2 (low byte 1)");
    u32_case(h, "type-max", VE_H_TYPE, UINT32_MAX, "cache type must be 1 or 2");

    u64_case(h, "root-0", VE_H_ROOT, 0, "root >= 2 (it would overlap the header)");
    u64_case(h, "root-1", VE_H_ROOT, 1, "root >= 2 (it would overlap the header)");
    u64_case(h, "root-on-bm", VE_H_ROOT, 2, "root disjoint from the block map at 2..3");
    u64_case(h, "root-bm-tail", VE_H_ROOT, 3, "root disjoint from the block map (overlaps its last block)");
    u64_case(h, "root-past-end", VE_H_ROOT, CB - 7, "root + 8 <= cBlocks");
    u64_case(h, "root-at-cblocks", VE_H_ROOT, CB, "root + 8 <= cBlocks");
    u64_case(h, "root-max", VE_H_ROOT, UINT64_MAX, "root + 8 <= cBlocks (and no overflow)");
    u64_case(h, "root-wraps", VE_H_ROOT, UINT64_MAX - 3, "root + 8 overflows 64 bits");
    u64_case(h, "root-2p63", VE_H_ROOT, (uint64_t)1 << 63, "root + 8 <= cBlocks");

    u64_case(h, "bm-0", VE_H_BM, 0, "block map >= 2");
    u64_case(h, "bm-1", VE_H_BM, 1, "block map >= 2");
    u64_case(h, "bm-past-end", VE_H_BM, CB - 1, "block map + M <= cBlocks");
    u64_case(h, "bm-max", VE_H_BM, UINT64_MAX, "block map + M <= cBlocks (and no overflow)");
    u64_case(h, "bm-wraps", VE_H_BM, UINT64_MAX - 1, "block map + M overflows 64 bits");
    u64_case(h, "bm-on-root", VE_H_BM, 4, "block map disjoint from the root at 4..11");
    u64_case(h, "bm-root-tail", VE_H_BM, 11, "block map disjoint from the root (overlaps its last block)");
    u64_case(h, "bm-root-head", VE_H_BM, 3, "block map disjoint from the root (its second block is the root's first)");

    /* The LRU extension (section 3). */
    static const struct { const char *n; const char m[4]; } marks[] = {
        { "lru-marker-lru2", { 'L', 'R', 'U', '2' } }, { "lru-marker-lower", { 'l', 'r', 'u', '1' } },
        { "lru-marker-nul", { 'L', 'R', 'U', 0 } },
    };
    for (unsigned i = 0; i < 3; i++) {
        b_small(&e);
        for (unsigned j = 0; j < 4; j++)
            ve_put8(&e, VE_H_LRU + j, (uint8_t)marks[i].m[j]);
        emit(h, &e, marks[i].n, BAD_HDR, "a wrong LRU marker with non-zero head/tail (section 3: marker or all zero)");
    }
    b_small(&e);
    ve_lru(&e, VE_NONE, 0);
    emit(h, &e, "lru-head-none-only", BAD_HDR, "LRU head NONE but tail not NONE (section 3)");
    b_small(&e);
    ve_lru(&e, 0, VE_NONE);
    emit(h, &e, "lru-tail-none-only", BAD_HDR, "LRU tail NONE but head not NONE (section 3)");
    b_small(&e);
    ve_lru(&e, VE_KEY_LIMIT, 16);
    emit(h, &e, "lru-head-2p55", BAD_HDR, "LRU head = 2^55, not below 2^55 (section 3)");
    b_small(&e);
    ve_lru(&e, 0, VE_KEY_LIMIT + 1);
    emit(h, &e, "lru-tail-2p55", BAD_HDR, "LRU tail = 2^55 + 1 (section 3)");
    b_small(&e);
    ve_lru(&e, (uint64_t)1 << 63, (uint64_t)1 << 63);
    emit(h, &e, "lru-2p63", BAD_HDR, "LRU head and tail 2^63 (section 3)");
    static const unsigned rsv[] = { 93, 200, 511, 512, 1023 };
    for (unsigned i = 0; i < 5; i++) {
        char n[32];
        snprintf(n, sizeof n, "reserved-%u", rsv[i]);
        b_small(&e);
        ve_put8(&e, rsv[i], 0x01);
        emit(h, &e, n, BAD_HDR, "reserved header byte %u non-zero with the LRU marker (section 3)", rsv[i]);
    }
    b_small(&e);
    ve_fill(&e, VE_H_LRU, 0, VE_H_END - VE_H_LRU);
    ve_put8(&e, VE_H_HEAD, 1);
    emit(h, &e, "no-marker-head-byte", BAD_HDR, "no LRU marker but byte 77 non-zero (section 3: all zero then)");
    b_small(&e);
    ve_fill(&e, VE_H_LRU, 0, VE_H_END - VE_H_LRU);
    ve_put8(&e, 1023, 0x80);
    emit(h, &e, "no-marker-last-byte", BAD_HDR, "no LRU marker but byte 1023 non-zero");
    b_small(&e);
    ve_fill(&e, 600, 0xFF, 100);
    emit(h, &e, "reserved-run", BAD_HDR, "reserved bytes 600..699 all 0xFF");

    /* Files that are not VCI images at all (PROBE-1). */
    uint64_t s = 0x5eed;
    ve_init(&e, CB, 1);
    ve_resize(&e, 0);
    for (unsigned i = 0; i < 4096; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        ve_put8(&e, i, (uint8_t)(s >> 56));
    }
    emit(h, &e, "foreign-random", BAD_HDR, "4 KiB of random bytes");
    ve_init(&e, CB, 1);
    ve_resize(&e, 0);
    ve_fill(&e, 0, 0, 4096);
    emit(h, &e, "foreign-zeros", BAD_HDR, "4 KiB of zeros");
    ve_init(&e, CB, 1);
    ve_resize(&e, 0);
    ve_fill(&e, 0, 0xFF, 4096);
    emit(h, &e, "foreign-ff", BAD_HDR, "4 KiB of 0xFF");
    ve_init(&e, CB, 1);
    ve_resize(&e, 0);
    {
        static const char txt[] = "<<< Oracle VM VirtualBox Disk Image >>>\n";
        for (unsigned i = 0; i < sizeof txt - 1; i++)
            ve_put8(&e, i, (uint8_t)txt[i]);
        ve_put32(&e, 64, 0xbeda107f);
        ve_resize(&e, 2048);
    }
    emit(h, &e, "foreign-vdi", BAD_HDR, "the start of a VDI image");
    ve_init(&e, CB, 1);
    ve_fill(&e, 4, 0xC3, VE_H_END - 4);
    emit(h, &e, "sig-then-garbage", BAD_HDR, "a correct signature followed by garbage");
}

/* A byte of the small base flipped: the verdict follows section 3 exactly
 * (ve_header_ok); flips inside the UUIDs leave a fully valid image. */
static void header_sweep(hx *h)
{
    vci_enc e;
    for (unsigned off = 0; off < 93; off++) {
        char n[32];
        b_small(&e);
        ve_put8(&e, off, (uint8_t)(e.buf[off] ^ 0x80));
        bool ok = ve_header_ok(e.buf, e.size);
        snprintf(n, sizeof n, "flip-%u", off);
        if (!ok)
            emit(h, &e, n, BAD_HDR, "header byte %u XOR 0x80: breaks a section 3 rule", off);
        else if (off >= VE_H_UUID && off < VE_H_LRU)
            emit(h, &e, n, VALID, "header byte %u XOR 0x80: inside a UUID, still valid", off);
        else
            emit(h, &e, n, VDC_HX_OK, VDC_HX_ANY, VDC_HX_ANY, VDC_HX_ANY,
                 "header byte %u XOR 0x80: the header stays valid, the rest may not agree", off);
    }
}

/* ---- block map ----------------------------------------------------------- */

static void bm_set(hx *h, const char *name, unsigned f, uint64_t v, bool wide, const char *rule)
{
    vci_enc e;
    b_small(&e);
    if (wide)
        ve_put64(&e, BMH(&e, f), v);
    else
        ve_put32(&e, BMH(&e, f), (uint32_t)v);
    emit(h, &e, name, BAD_META, "block-map header field at %u = 0x%llx: %s (section 4)", f, (unsigned long long)v,
         rule);
}

static void bm_cases(hx *h)
{
    vci_enc e;
    bm_set(h, "bm-magic-zero", VE_B_MAGIC, 0, false, "magic must be VBLK");
    bm_set(h, "bm-magic-vblj", VE_B_MAGIC, 0x4a4c4256, false, "magic must be VBLK");
    bm_set(h, "bm-magic-vci", VE_B_MAGIC, 0x00494356, false, "magic must be VBLK, not the header's");
    bm_set(h, "bm-version-0", VE_B_VERSION, 0, false, "version must be 1");
    bm_set(h, "bm-version-2", VE_B_VERSION, 2, false, "version must be 1");
    bm_set(h, "bm-managed-less", VE_B_MANAGED, CB - 1, true, "blocks managed must equal cBlocks");
    bm_set(h, "bm-managed-more", VE_B_MANAGED, CB + 1, true, "blocks managed must equal cBlocks");
    bm_set(h, "bm-managed-zero", VE_B_MANAGED, 0, true, "blocks managed must equal cBlocks");
    bm_set(h, "bm-managed-max", VE_B_MANAGED, UINT64_MAX, true, "blocks managed must equal cBlocks");

    b_small(&e);
    ve_put64(&e, BMH(&e, VE_B_FREE), ve_get64(&e, BMH(&e, VE_B_FREE)) + 1);
    emit(h, &e, "bm-sum-off-by-one", BAD_META, "free + meta + data = managed + 1 (section 4)");
    b_small(&e);
    ve_put64(&e, BMH(&e, VE_B_FREE), UINT64_MAX);
    emit(h, &e, "bm-free-max", BAD_META, "free = 2^64 - 1: the sum overflows (section 4: no overflow)");
    b_small(&e);
    {
        /* meta huge, free chosen so the 64-bit sum wraps to managed. */
        uint64_t meta = UINT64_MAX - 7, data = ve_get64(&e, BMH(&e, VE_B_DATA));
        ve_put64(&e, BMH(&e, VE_B_META), meta);
        ve_put64(&e, BMH(&e, VE_B_FREE), (uint64_t)CB - meta - data);
    }
    emit(h, &e, "bm-sum-wraps", BAD_META, "free + meta + data equals managed only modulo 2^64 (section 4: no overflow)");
    b_small(&e);
    ve_put64(&e, BMH(&e, VE_B_META), 11);
    ve_put64(&e, BMH(&e, VE_B_FREE), ve_get64(&e, BMH(&e, VE_B_FREE)) + 1);
    emit(h, &e, "bm-meta-small", BAD_META, "meta = 11 < 2 + M + 8 = 12 (section 4)");
    b_small(&e);
    ve_put64(&e, BMH(&e, VE_B_META), 13);
    ve_put64(&e, BMH(&e, VE_B_FREE), ve_get64(&e, BMH(&e, VE_B_FREE)) - 1);
    emit(h, &e, "bm-meta-not-nodes", BAD_META, "meta - 2 - M = 9 is not a multiple of 8 (section 4)");
    b_small(&e);
    ve_put8(&e, BMH(&e, 40), 1);
    emit(h, &e, "bm-reserved-40", BAD_META, "block-map reserved byte 40 non-zero (section 4)");
    b_small(&e);
    ve_put8(&e, BMH(&e, 511), 0x80);
    emit(h, &e, "bm-reserved-511", BAD_META, "block-map reserved byte 511 non-zero (section 4)");
    /* Counters that obey the open rules but disagree with the tree. */
    b_small(&e);
    ve_put64(&e, BMH(&e, VE_B_DATA), ve_get64(&e, BMH(&e, VE_B_DATA)) + 8);
    ve_put64(&e, BMH(&e, VE_B_FREE), ve_get64(&e, BMH(&e, VE_B_FREE)) - 8);
    emit(h, &e, "bm-data-count-wrong", BAD_DEEP, "data counter 8 more than the extents hold (deep check only, section 4)");
    b_small(&e);
    ve_put64(&e, BMH(&e, VE_B_META), ve_get64(&e, BMH(&e, VE_B_META)) + 8);
    ve_put64(&e, BMH(&e, VE_B_FREE), ve_get64(&e, BMH(&e, VE_B_FREE)) - 8);
    emit(h, &e, "bm-meta-count-wrong", BAD_DEEP, "meta counter claims a node that does not exist (deep check only)");
    /* The bitmap itself (deep check only). */
    b_small(&e);
    ve_mark(&e, 100, true);
    emit(h, &e, "bitmap-orphan", BAD_DEEP, "block 100 marked allocated, used by nothing (section 4)");
    b_small(&e);
    ve_mark(&e, 12, false);
    emit(h, &e, "bitmap-data-unmarked", BAD_DEEP, "the first data block of extent 0 not marked (section 4)");
    b_small(&e);
    ve_mark(&e, 5, false);
    emit(h, &e, "bitmap-root-unmarked", BAD_DEEP, "a root block not marked (section 4)");
    b_small(&e);
    ve_mark(&e, 0, false);
    emit(h, &e, "bitmap-header-unmarked", BAD_DEEP, "header block 0 not marked (section 4)");
    b_leaf(&e, 250, 1, 2, 8);
    ve_mark(&e, 252, true);
    emit(h, &e, "bitmap-padding", BAD_DEEP, "padding bit 252 set in a 250-block cache (section 4: must be zero)");
    b_small(&e);
    ve_put8(&e, 3 * VE_BLOCK + 100, 0x10);
    emit(h, &e, "bitmap-beyond", BAD_DEEP, "bitmap byte 100 (blocks 800..807 of a 256-block cache) non-zero");
}

/* ---- the root node ------------------------------------------------------- */

static void root_cases(hx *h)
{
    vci_enc e;
    tinfo t;
    static const uint8_t types[] = { 0, 3, 0xFF };
    for (unsigned i = 0; i < 3; i++) {
        char n[32];
        snprintf(n, sizeof n, "root-type-%u", types[i]);
        b_small(&e);
        ve_put8(&e, NODE(e.root), types[i]);
        emit(h, &e, n, BAD_META, "root node type %u (section 5: 1 or 2)", types[i]);
    }
    b_small(&e);
    ve_fill(&e, NODE(e.root), 0, VE_NODE_BYTES);
    ve_put8(&e, NODE(e.root), 1);
    emit(h, &e, "root-internal-empty", BAD_META, "an internal root without entries (section 5: at least one)");
#define ROOT_EXT(name, i, f, wide, v, rule)                                 \
    do {                                                                  \
        b_small(&e);                                                      \
        if (wide)                                                         \
            ve_put64(&e, EXT(e.root, i, f), v);                           \
        else if ((f) == X_COUNT)                                          \
            ve_put32(&e, EXT(e.root, i, f), (uint32_t)(v));               \
        else                                                              \
            ve_put8(&e, EXT(e.root, i, f), (uint8_t)(v));                 \
        emit(h, &e, name, BAD_META, "root leaf extent %u: %s", i, rule); \
    } while (0)
    ROOT_EXT("ext-count-0", 1, X_COUNT, false, 0, "count 0 with an address (section 5: unused entries are all zero)");
    ROOT_EXT("ext-addr-0", 1, X_ADDR, true, 0, "address 0 with a count (section 5)");
    ROOT_EXT("ext-flags", 0, X_FLAGS, false, 1, "flags 1 (section 5: must be 0)");
    ROOT_EXT("ext-reserved", 2, X_RSV, false, 0x80, "reserved byte non-zero (section 5)");
    ROOT_EXT("ext-key-2p60", 2, X_KEY, true, (uint64_t)1 << 60, "key 2^60: key + count > 2^55 (section 5)");
    ROOT_EXT("ext-end-past-2p55", 2, X_KEY, true, VE_KEY_LIMIT - 1, "key 2^55 - 1 with 2 blocks: key + count > 2^55");
    ROOT_EXT("ext-addr-past-end", 2, X_ADDR, true, CB - 1, "address cBlocks - 1 with 2 blocks: addr + count > cBlocks");
    ROOT_EXT("ext-addr-header", 0, X_ADDR, true, 1, "data at block 1, inside the header (section 5)");
    ROOT_EXT("ext-addr-bm", 0, X_ADDR, true, 3, "data at block 3, inside the block map (section 5)");
    ROOT_EXT("ext-addr-root", 0, X_ADDR, true, 4, "data at the root node itself (section 5)");
    ROOT_EXT("ext-addr-root-tail", 1, X_ADDR, true, 10, "data at blocks 10..11, the root's tail (section 5)");
    ROOT_EXT("ext-addr-max", 1, X_ADDR, true, UINT64_MAX, "address 2^64 - 1 (section 5)");
    ROOT_EXT("ext-addr-wraps", 1, X_ADDR, true, UINT64_MAX - 1, "address + count wraps 64 bits");
    ROOT_EXT("ext-count-max", 2, X_COUNT, false, UINT32_MAX, "count 2^32 - 1: far past cBlocks");
    ROOT_EXT("ext-unsorted", 0, X_KEY, true, 12, "extent 0 moved to key 12, after extent 1 at 8 (section 6: sorted)");
    ROOT_EXT("ext-overlap", 1, X_KEY, true, 1, "extent 1 at key 1 overlaps extent 0 at 0..1 (section 6)");
    ROOT_EXT("ext-duplicate", 1, X_KEY, true, 0, "extents 0 and 1 both at key 0 (section 6)");
#undef ROOT_EXT
    b_small(&e);
    ve_fill(&e, EXT(e.root, 0, 0), 0, VE_EXT_SIZE);
    emit(h, &e, "ext-gap", BAD_META, "extent 0 all zero, 1 and 2 used: entries not packed (section 5)");
    b_small(&e);
    ve_put8(&e, NODE(e.root) + 4095, 1);
    emit(h, &e, "leaf-tail-4095", BAD_META, "leaf byte 4095 non-zero (section 5: 4067..4095 zero)");
    b_small(&e);
    ve_put8(&e, NODE(e.root) + 4067, 1);
    emit(h, &e, "leaf-tail-4067", BAD_META, "leaf byte 4067 non-zero (section 5)");
    b_small(&e);
    ve_put8(&e, EXT(e.root, 3, X_FLAGS), 1);
    emit(h, &e, "leaf-unused-byte", BAD_META, "a byte inside the unused 4th extent slot (section 5: the tail is zero)");

#define ROOT_ENT(name, i, f, v, rule)                                     \
    do {                                                                \
        b_tree2(&e, &t);                                                \
        if ((f) == N_COUNT)                                             \
            ve_put32(&e, ENT(e.root, i, f), (uint32_t)(v));             \
        else                                                            \
            ve_put64(&e, ENT(e.root, i, f), v);                         \
        emit(h, &e, name, BAD_META, "internal root entry %u: %s", i, rule); \
    } while (0)
    ROOT_ENT("ent-child-0", 1, N_CHILD, 0, "child 0 (section 5: unused entries are all zero)");
    ROOT_ENT("ent-child-header", 1, N_CHILD, 1, "child at block 1, inside the header (section 5: child >= 2)");
    ROOT_ENT("ent-child-bm", 1, N_CHILD, 2, "child at the block map (section 5: disjoint from it)");
    ROOT_ENT("ent-child-past-end", 1, N_CHILD, CB - 7, "child + 8 > cBlocks (section 5)");
    ROOT_ENT("ent-child-max", 0, N_CHILD, UINT64_MAX, "child 2^64 - 1 (section 5)");
    ROOT_ENT("ent-count-0", 1, N_COUNT, 0, "count 0 with a child (section 5)");
    ROOT_ENT("ent-unsorted", 1, N_KEY, 0, "both entries at key 0 (section 6: strictly increasing)");
    ROOT_ENT("ent-reversed", 0, N_KEY, 100, "entry 0 moved to key 100, after entry 1 at 64 (section 6)");
    ROOT_ENT("ent-count-overlaps", 0, N_COUNT, 65, "entry 0 covers 0..65, past entry 1's key 64 (section 6)");
    ROOT_ENT("ent-key-2p55", 1, N_KEY, VE_KEY_LIMIT, "key 2^55 (section 1: virtual blocks are below 2^55)");
#undef ROOT_ENT
    b_tree2(&e, &t);
    ve_put8(&e, NODE(e.root) + 4081, 1);
    emit(h, &e, "internal-tail", BAD_META, "internal root byte 4081 non-zero (section 5: 4081..4095 zero)");
    b_tree2(&e, &t);
    ve_fill(&e, ENT(e.root, 0, 0), 0, VE_ENT_SIZE);
    emit(h, &e, "ent-gap", BAD_META, "entry 0 all zero, entry 1 used: not packed (section 5)");
}

/* ---- nodes below the root, data, LRU -------------------------------------- */

static void node_cases(hx *h)
{
    vci_enc e;
    tinfo t;
    uint64_t chain[12];

    b_tree2(&e, &t);
    ve_put8(&e, NODE(t.leaf[1]), 0);
    emit(h, &e, "child-type-0", BAD_DEEP, "leaf B has type 0 (section 5; found when read, section 6)");
    b_tree2(&e, &t);
    ve_put8(&e, NODE(t.leaf[1]), 7);
    emit(h, &e, "child-type-7", BAD_DEEP, "leaf B has type 7");
    b_tree2(&e, &t);
    ve_put8(&e, NODE(t.leaf[0]), 1);
    emit(h, &e, "child-leaf-as-internal", BAD_DEEP, "leaf A marked internal: its extents decode as garbage entries");
    b_tree2(&e, &t);
    ve_put64(&e, EXT(t.leaf[1], 0, X_KEY), 65);
    ve_put64(&e, EXT(t.leaf[0], 2, X_NEXT), 65);
    ve_put64(&e, EXT(t.leaf[1], 1, X_PREV), 65);
    emit(h, &e, "child-first-key", BAD_DEEP, "leaf B's first key 65 differs from its entry's key 64 (section 6 inv. 2)");
    b_tree2(&e, &t);
    ve_put64(&e, EXT(t.leaf[0], 2, X_KEY), 70);
    emit(h, &e, "child-out-of-range", BAD_DEEP, "an extent of leaf A at key 70, inside leaf B's range (section 6)");
    b_tree2(&e, &t);
    ve_put32(&e, ENT(e.root, 0, N_COUNT), 17);
    emit(h, &e, "child-count-mismatch", BAD_DEEP, "entry 0 count 17, but leaf A's extents end at 18 (section 6 inv. 3)");
    b_tree2(&e, &t);
    ve_fill(&e, NODE(t.leaf[1]) + 1, 0, VE_NODE_BYTES - 1);
    emit(h, &e, "child-empty-leaf", BAD_DEEP, "leaf B empty (section 5: only the root may be)");
    b_tree2(&e, &t);
    ve_put64(&e, ENT(e.root, 1, N_CHILD), t.leaf[0]);
    emit(h, &e, "child-shared", BAD_DEEP, "both root entries lead to leaf A (DAG, keys disagree)");
    b_tree2(&e, &t);
    ve_put64(&e, ENT(e.root, 1, N_CHILD), e.root);
    emit(h, &e, "cycle-root", BAD_DEEP, "root entry 1 leads back to the root (cycle, section 6 inv. 4)");
    b_tree2(&e, &t);
    ve_put64(&e, ENT(e.root, 0, N_CHILD), e.root);
    emit(h, &e, "cycle-root-first", BAD_DEEP, "root entry 0 leads back to the root with key 0 (cycle)");
    b_tree3(&e, &t);
    ve_put64(&e, ENT(t.mid[0], 0, N_CHILD), t.mid[0]);
    emit(h, &e, "cycle-self", BAD_DEEP, "an internal node whose first entry points to itself");
    b_tree3(&e, &t);
    ve_put64(&e, ENT(t.mid[1], 0, N_CHILD), e.root);
    emit(h, &e, "cycle-ancestor", BAD_DEEP, "a depth-2 node pointing back at the root");
    b_tree3(&e, &t);
    ve_put64(&e, ENT(e.root, 1, N_CHILD), t.leaf[2]);
    ve_put32(&e, ENT(e.root, 1, N_COUNT), 10);
    emit(h, &e, "uneven-depth", BAD_DEEP, "root entry 1 leads straight to a leaf: leaves at depths 2 and 3 (inv. 4)");
    b_chain(&e, 9, chain);
    emit(h, &e, "depth-9", BAD_DEEP, "a chain of 9 levels (section 6 inv. 4: at most 8)");
    b_chain(&e, 10, chain);
    emit(h, &e, "depth-10", BAD_DEEP, "a chain of 10 levels");
    b_chain(&e, 8, chain);
    ve_fill(&e, NODE(chain[7]), 0, VE_NODE_BYTES);
    {
        ve_entry en = { 0, 1, chain[7] };
        ve_internal(&e, chain[7], &en, 1);
    }
    emit(h, &e, "depth-loop-bottom", BAD_DEEP, "a chain whose depth-8 node is internal and points to itself");
    b_chain(&e, 8, chain);
    ve_put64(&e, ENT(chain[6], 0, N_CHILD), chain[3]);
    emit(h, &e, "depth-loop-middle", BAD_DEEP, "a chain whose depth-7 node points back to depth 4");
    b_tree2(&e, &t);
    ve_mark(&e, t.leaf[1], false);
    emit(h, &e, "child-unmarked", BAD_DEEP, "leaf B's first block not marked in the bitmap (deep check)");
    b_tree2(&e, &t);
    ve_put64(&e, EXT(t.leaf[0], 0, X_ADDR), t.leaf[1]);
    alias(h, 0, 2 * VE_BLOCK, NODE(t.leaf[1]));
    emit(h, &e, "data-on-node", BAD_DEEP, "extent 0's data at leaf B's node (metadata used as data; deep check)");
    b_tree2(&e, &t);
    ve_put64(&e, EXT(t.leaf[0], 1, X_ADDR), ve_get64(&e, EXT(t.leaf[0], 0, X_ADDR)));
    alias(h, 8 * VE_BLOCK, 2 * VE_BLOCK, ve_get64(&e, EXT(t.leaf[0], 0, X_ADDR)) * VE_BLOCK);
    emit(h, &e, "data-shared", BAD_DEEP, "extents 0 and 1 share data blocks (section 4: nothing allocated twice)");
    b_tree2(&e, &t);
    ve_put64(&e, ENT(e.root, 1, N_CHILD), ve_get64(&e, EXT(t.leaf[0], 0, X_ADDR)) - 0);
    emit(h, &e, "node-on-data", BAD_DEEP, "root entry 1's child is extent 0's data (garbage node type)");
    b_tree2(&e, &t);
    ve_put64(&e, EXT(t.leaf[1], 2, X_ADDR), 200);
    emit(h, &e, "data-unallocated", BAD_DEEP, "an extent's data at blocks 200..201, never allocated (deep check)");
    b_tree2(&e, &t);
    ve_put64(&e, EXT(t.leaf[1], 2, X_ADDR), 250);
    emit(h, &e, "data-past-eof", BAD_DEEP, "an extent's data past the end of the file (inside cBlocks)");

    /* The LRU list with the marker (section 7; deep check only). */
    b_tree2(&e, &t);
    ve_lru(&e, 33, 80);
    emit(h, &e, "lru-head-missing", BAD_DEEP, "LRU head 33 is no extent's key");
    b_tree2(&e, &t);
    ve_lru(&e, 0, 79);
    emit(h, &e, "lru-tail-missing", BAD_DEEP, "LRU tail 79 is no extent's key");
    b_tree2(&e, &t);
    ve_put64(&e, EXT(t.leaf[1], 2, X_NEXT), 0);
    emit(h, &e, "lru-cycle", BAD_DEEP, "the tail's next points back at the head (a cycle)");
    b_tree2(&e, &t);
    ve_put64(&e, EXT(t.leaf[0], 2, X_PREV), 0);
    emit(h, &e, "lru-asymmetric", BAD_DEEP, "x.next = y without y.prev = x");
    b_tree2(&e, &t);
    ve_put64(&e, EXT(t.leaf[0], 0, X_NEXT), 16);
    ve_put64(&e, EXT(t.leaf[0], 2, X_PREV), 0);
    emit(h, &e, "lru-skips", BAD_DEEP, "the list skips extent 8 (every extent exactly once)");
    b_tree2(&e, &t);
    ve_put64(&e, EXT(t.leaf[0], 0, X_PREV), 80);
    emit(h, &e, "lru-head-prev", BAD_DEEP, "head.prev is not NONE");
    b_tree2(&e, &t);
    ve_lru(&e, VE_NONE, VE_NONE);
    emit(h, &e, "lru-empty-with-extents", VDC_HX_OK, VDC_HX_ANY, VDC_HX_ANY, VDC_HX_INVALID,
         "head = tail = NONE although 6 extents exist (an O(1) check open may make)");
    b_tree2(&e, &t);
    ve_put64(&e, EXT(t.leaf[1], 0, X_NEXT), VE_KEY_LIMIT + 5);
    emit(h, &e, "lru-next-huge", BAD_DEEP, "an extent's next link is 2^55 + 5");
}

/* ---- truncation ----------------------------------------------------------- */

static void trunc_case(hx *h, uint64_t size)
{
    vci_enc e;
    tinfo t;
    char n[40];
    b_tree2(&e, &t);
    uint64_t root_end = (e.root + VE_NODE_BLOCKS) * VE_BLOCK, nodes_end = (t.leaf[1] + VE_NODE_BLOCKS) * VE_BLOCK;
    uint64_t full = e.size;
    ve_resize(&e, size);
    snprintf(n, sizeof n, "trunc-%llu", (unsigned long long)size);
    if (size < VE_H_END)
        emit(h, &e, n, BAD_HDR, "tree2 image cut to %llu bytes: shorter than the header", (unsigned long long)size);
    else if (size < root_end)
        emit(h, &e, n, VDC_HX_OK, VDC_HX_FAIL, VDC_HX_FAIL, VDC_HX_INVALID,
             "tree2 image cut to %llu bytes: ends before the block map and root do (section 11)",
             (unsigned long long)size);
    else if (size < nodes_end)
        emit(h, &e, n, BAD_DEEP, "tree2 image cut to %llu of %llu bytes: a leaf node is missing",
             (unsigned long long)size, (unsigned long long)full);
    else {
        /* Leaf B's extents (keys 64, 72, 80; 2 blocks each) may map data
         * that was cut off.  A hit there may not return anything but the
         * written pattern: before the first change the bytes past the end
         * cannot be read, and the first change must forget the image
         * (spec/vci-format.md section 11) rather than let them read as the
         * zeros the file grows with. */
        emit(h, &e, n, VDC_HX_OK, VDC_HX_OK, VDC_HX_OK, VDC_HX_ANY,
             "tree2 image cut to %llu of %llu bytes: only cached data is missing", (unsigned long long)size,
             (unsigned long long)full);
    }
}

static void trunc_cases(hx *h)
{
    vci_enc e;
    tinfo t;
    b_tree2(&e, &t);
    uint64_t full = e.size;
    ve_free(&e);
    for (uint64_t s = 0; s < full; s += VE_BLOCK)
        trunc_case(h, s);
    static const uint64_t odd[] = { 1, 4, 511, 777, 1023, 1025, 1500, 2049, 3333, 6143, 6145, 16385, 20000 };
    for (unsigned i = 0; i < sizeof odd / sizeof odd[0]; i++)
        if (odd[i] % VE_BLOCK != 0 && odd[i] < full)
            trunc_case(h, odd[i]);
}

/* The extents of the two-leaf images below: keys 0 and 8 for the first
 * leaf, 64 and 72 for the second, 2 blocks each, listed in key order. */
static void two_leaf_extents(ve_extent y[4])
{
    memset(y, 0, 4 * sizeof y[0]);
    for (unsigned i = 0; i < 4; i++) {
        y[i].key = (i < 2 ? 0 : 64) + 8 * (i % 2);
        y[i].count = 2;
    }
    link_keys(y, 4);
}

/* An internal root over two leaves at a and b holding y[0..1] and y[2..3]
 * (each entry spans its leaf's extents), and the image finished. */
static void root_over(vci_enc *e, const ve_extent y[4], uint64_t a, uint64_t b)
{
    ve_entry r[2] = { { y[0].key, (uint32_t)(y[1].key + y[1].count - y[0].key), a },
                      { y[2].key, (uint32_t)(y[3].key + y[3].count - y[2].key), b } };
    ve_internal(e, e->root, r, 2);
    finish(e, y[0].key, y[3].key);
}

/* Valid images at the exact boundaries of rules a reader checks, so that
 * a reader off by one there refuses a good image (appended after the
 * truncations: case numbers never move). */
static void boundary_cases(hx *h)
{
    vci_enc e;
    ve_extent x = { 0, 2, 0, VE_NONE, VE_NONE };
    ve_init(&e, 4096, 1);
    ve_leaf(&e, e.root, &x, 1);
    finish(&e, 0, 0);
    emit(h, &e, "valid-cblocks-4096", VALID,
         "valid: cBlocks = 4096, exactly one block map block of bits, so M = 2 (1 + ceil(4096/4096), section 4)");

    /* Depth 2 with the block map at 20 and the root at 10: the first leaf
     * takes blocks 2..9, the lowest address a node may have (section 5:
     * child >= 2, clear of the header and the block map). */
    ve_extent y[4];
    two_leaf_extents(y);
    ve_init_at(&e, CB, 1, 20, 10);
    uint64_t a = ve_alloc(&e, VE_NODE_BLOCKS, true);
    ve_leaf(&e, a, y, 2);
    uint64_t b = ve_alloc(&e, VE_NODE_BLOCKS, true);
    ve_leaf(&e, b, y + 2, 2);
    root_over(&e, y, a, b);
    emit(h, &e, a == 2 ? "valid-child-at-2" : "valid-child-misplaced", VALID,
         "valid: depth 2, block map at 20, root at 10, first leaf at block 2 (section 5: child >= 2)");
}

/* Block maps whose bits and counters say "full" over a tree that holds
 * nothing, so a writer finds no free block and nothing to evict: it must
 * fail the write (or start afresh), never loop looking for room
 * (appended after the boundary cases: case numbers never move). */
static void full_cases(hx *h)
{
    vci_enc e;
    b_leaf(&e, CB, 0, 2, 8);
    for (uint64_t b = 0; b < CB; b++)
        ve_mark(&e, b, true);
    uint64_t meta = ve_get64(&e, BMH(&e, VE_B_META));
    ve_put64(&e, BMH(&e, VE_B_DATA), CB - meta);
    ve_put64(&e, BMH(&e, VE_B_FREE), 0);
    emit(h, &e, "bm-full-tree-empty", BAD_DEEP,
         "every block marked allocated and counted as data, the tree empty: no free block and nothing to evict "
         "(deep check only, section 4)");
}

/* The block map in the last M blocks, the root at block 2, one extent. */
static void b_bm_at_end(vci_enc *e)
{
    ve_extent x = { 0, 2, 0, VE_NONE, VE_NONE };
    ve_init_at(e, CB, 1, CB - ve_bm_blocks(CB), 2);
    ve_leaf(e, e->root, &x, 1);
    finish(e, 0, 0);
}

/* Valid images with a node, and data, at the highest addresses the rules
 * allow, so that a reader off by one at the top end refuses a good image
 * (appended: case numbers never move). */
static void end_cases(hx *h)
{
    vci_enc e;
    ve_extent y[4];
    two_leaf_extents(y);
    ve_init(&e, CB, 1);
    uint64_t a = ve_alloc(&e, VE_NODE_BLOCKS, true), low = e.next_free;
    e.next_free = CB - VE_NODE_BLOCKS;
    uint64_t b = ve_alloc(&e, VE_NODE_BLOCKS, true);
    e.next_free = low;
    ve_leaf(&e, a, y, 2);
    ve_leaf(&e, b, y + 2, 2);
    root_over(&e, y, a, b);
    emit(h, &e, b + VE_NODE_BLOCKS == CB ? "valid-child-at-end" : "valid-child-misplaced-end", VALID,
         "valid: depth 2, the second leaf at cBlocks - 8, the highest node address (section 5: child + 8 <= cBlocks)");

    ve_extent x = { 0, 2, 0, VE_NONE, VE_NONE };
    ve_init(&e, CB, 1);
    e.next_free = CB - 2;
    ve_leaf(&e, e.root, &x, 1);
    finish(&e, 0, 0);
    emit(h, &e, x.addr + 2 == CB ? "valid-data-at-end" : "valid-data-misplaced-end", VALID,
         "valid: one extent whose data takes the last two blocks (section 5: addr + count <= cBlocks)");

    /* The block map in the last M blocks and the root right after the
     * header: the file ends where the block map does, so a writer that
     * touches a byte past the map's last page (or sizes that page wrong)
     * reads or writes past the end of the image.  Unclean, a read-write
     * open rebuilds the map in place (section 10: the root then goes where
     * there is room, here before the map). */
    b_bm_at_end(&e);
    emit(h, &e, "valid-bm-at-end", VALID, "valid: the block map takes the last M blocks, the root is at block 2");
    b_bm_at_end(&e);
    ve_put8(&e, VE_H_UNCLEAN, 1);
    emit(h, &e, "unclean-bm-at-end", VDC_HX_OK, VDC_HX_OK, VDC_HX_OK, VDC_HX_UNCLEAN,
         "unclean, the block map in the last M blocks: a read-write open rebuilds it where it is (section 10)");
}

/* The last byte of an internal node's tail (the leaf's has its case,
 * 4095, and so had the internal node's first tail byte only), so a reader
 * whose zero check of the tail is shifted by one byte misses it
 * (appended: case numbers never move). */
static void tail_cases(hx *h)
{
    vci_enc e;
    tinfo t;
    b_tree2(&e, &t);
    ve_put8(&e, NODE(e.root) + 4095, 1);
    emit(h, &e, "internal-tail-4095", BAD_META, "internal root byte 4095 non-zero (section 5: 4081..4095 zero)");

    /* Depth 2 with the second leaf's last extent ending at 2^55 and its
     * root entry spanning up to there: key + count = 2^55 exactly, which
     * section 5 allows (the leaf already had its case, valid-max-key). */
    ve_extent y[4];
    two_leaf_extents(y);
    y[2].key = VE_KEY_LIMIT - 10;
    y[3].key = VE_KEY_LIMIT - 2;
    link_keys(y, 4);
    ve_init(&e, CB, 1);
    uint64_t a = ve_alloc(&e, VE_NODE_BLOCKS, true);
    ve_leaf(&e, a, y, 2);
    uint64_t b = ve_alloc(&e, VE_NODE_BLOCKS, true);
    ve_leaf(&e, b, y + 2, 2);
    root_over(&e, y, a, b);
    emit(h, &e, "valid-entry-to-2p55", VALID,
         "valid: depth 2, the second root entry spans keys 2^55 - 10 .. 2^55 (section 5: key + count <= 2^55)");
}

int vdc_hostile_each(vdc_hostile_fn fn, void *user)
{
    hx h = { .fn = fn, .user = user };
    valid_cases(&h);
    header_cases(&h);
    header_sweep(&h);
    bm_cases(&h);
    root_cases(&h);
    node_cases(&h);
    trunc_cases(&h);
    boundary_cases(&h);
    full_cases(&h);
    end_cases(&h);
    tail_cases(&h);
    return h.rc;
}
