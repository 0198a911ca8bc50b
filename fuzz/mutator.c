/*
 * fuzz/mutator.c - a structure-aware libFuzzer mutator for VCI images
 * (LLVMFuzzerCustomMutator), linked into the _sa ("structure-aware")
 * variants of fuzz_open and fuzz_ops.
 *
 * Plain byte mutation rarely gets past a VCI header check, and never finds
 * the combinations that matter (a node whose child is its own ancestor, an
 * extent overlapping the block map, a bitmap that calls a live node free).
 * This mutator knows the layout of spec/vci-format.md sections 3-6 (the
 * constants of ref/vci_format.h) and mutates *fields*: header fields, block
 * map counters and bits, node types, entries and their keys, counts and
 * addresses, whole entries (dropped, duplicated, swapped, copied between
 * nodes), links that make cycles.  Half the time it then repairs what a
 * reader checks first (signature, version, block map size, addresses inside
 * the image, zero flags) so the input reaches the deeper checks.  One call
 * in five, and whenever the input is not an image it understands, it
 * defers to libFuzzer's own LLVMFuzzerMutate.
 *
 * Inputs are raw images or the sparse encoding of fuzz.h.  A sparse image
 * of up to MAT_LIMIT logical bytes is decoded, mutated anywhere and encoded
 * again; a larger one is mutated in place, only where its bytes are stored
 * literally (zero runs read as zeros but cannot be written).  Built with
 * FUZZ_MUTATOR_OPS, the image is the length-prefixed first part of a
 * fuzz_ops input and the script after it is kept.
 *
 * The mutator never aborts and never writes past max_size; it returns the
 * new size.  Deterministic for a given (data, seed).  No state between calls.
 */
#include "fuzz.h"
#include "../ref/vci_format.h"

#include <stdlib.h>
#include <string.h>

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

#define MAT_LIMIT   ((uint64_t)256 << 10)
#define MAX_NODES   64u
#define MAX_TRIES   8u

/* A literal run of the logical image: bytes [off, off+len) are at p. */
typedef struct seg {
    uint64_t off;
    size_t   len;
    uint8_t *p;
} seg;

typedef struct view {
    seg      *segs;
    size_t    nsegs;
    uint64_t  size;  /* logical size */
    uint8_t  *mat;   /* the decoded image when materialised, else NULL */
    uint64_t  rng;
} view;

/* --- randomness ------------------------------------------------------------ */

static uint64_t rnd(view *v)
{
    v->rng ^= v->rng << 13;
    v->rng ^= v->rng >> 7;
    v->rng ^= v->rng << 17;
    return v->rng;
}

static uint64_t below(view *v, uint64_t n)
{
    return n == 0 ? 0 : rnd(v) % n;
}

/* --- the view ------------------------------------------------------------- */

/* Index of the first run ending after off (runs are sorted and disjoint). */
static size_t first_seg(const view *v, uint64_t off)
{
    size_t lo = 0, hi = v->nsegs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->segs[mid].off + v->segs[mid].len <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Reads n bytes at off: literal bytes where stored, zeros elsewhere. */
static void vread(const view *v, uint64_t off, void *buf, size_t n)
{
    uint8_t *out = buf;
    memset(out, 0, n);
    for (size_t i = first_seg(v, off); i < v->nsegs && v->segs[i].off < off + n; i++) {
        const seg *s = &v->segs[i];
        uint64_t a = off > s->off ? off : s->off;
        uint64_t b = off + n < s->off + s->len ? off + n : s->off + s->len;
        if (a < b)
            memcpy(out + (a - off), s->p + (a - s->off), (size_t)(b - a));
    }
}

/* Writes n bytes at off when they all fall inside one literal run. */
static bool vwrite(const view *v, uint64_t off, const void *buf, size_t n)
{
    size_t i = first_seg(v, off);
    if (i < v->nsegs && off >= v->segs[i].off && off + n <= v->segs[i].off + v->segs[i].len) {
        memcpy(v->segs[i].p + (off - v->segs[i].off), buf, n);
        return true;
    }
    return false;
}

static uint64_t rd(const view *v, uint64_t off, unsigned w)
{
    uint8_t b[8];
    uint64_t x = 0;
    vread(v, off, b, w);
    for (unsigned i = w; i-- > 0;)
        x = x << 8 | b[i];
    return x;
}

static bool wr(const view *v, uint64_t off, unsigned w, uint64_t x)
{
    uint8_t b[8];
    for (unsigned i = 0; i < w; i++)
        b[i] = (uint8_t)(x >> (8 * i));
    return vwrite(v, off, b, w);
}

static bool add_seg(view *v, size_t *cap, uint64_t off, size_t len, uint8_t *p)
{
    if (v->nsegs == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        seg *ns = realloc(v->segs, ncap * sizeof(*ns));
        if (ns == NULL)
            return false;
        v->segs = ns;
        *cap = ncap;
    }
    v->segs[v->nsegs++] = (seg){ off, len, p };
    return true;
}

/* Builds the view over img[0..n) (raw or sparse).  False when out of memory. */
static bool view_open(view *v, uint8_t *img, size_t n)
{
    size_t cap = 0;
    const uint8_t *end = img + n;
    uint8_t *p;

    if (n < 4 || memcmp(img, FUZZ_SPARSE_MAGIC, 4) != 0) {
        v->size = n;
        return add_seg(v, &cap, 0, n, img);
    }
    p = img + 4;
    while (p < end && v->size < FUZZ_SPARSE_MAX) {
        uint8_t tag = *p++;
        size_t avail = (size_t)(end - p);
        if ((tag & 1) == 0) {
            size_t len;
            if (avail < 2)
                break;
            len = fuzz_le16(p);
            p += 2;
            if (len > avail - 2)
                len = avail - 2;
            if (len > FUZZ_SPARSE_MAX - v->size)
                len = (size_t)(FUZZ_SPARSE_MAX - v->size);
            if (len != 0 && !add_seg(v, &cap, v->size, len, p))
                return false;
            p += len;
            v->size += len;
        } else {
            uint8_t le[4] = { 0, 0, 0, 0 };
            uint64_t z;
            memcpy(le, p, avail < 4 ? avail : 4);
            p += avail < 4 ? avail : 4;
            z = fuzz_le32(le);
            v->size = z > FUZZ_SPARSE_MAX - v->size ? FUZZ_SPARSE_MAX : v->size + z;
        }
    }
    if (v->size <= MAT_LIMIT) {
        /* Small enough: decode fully, so every byte can be written. */
        v->mat = calloc(1, v->size != 0 ? (size_t)v->size : 1);
        if (v->mat == NULL)
            return false;
        vread(v, 0, v->mat, (size_t)v->size);
        v->nsegs = 0;
        return add_seg(v, &cap, 0, (size_t)v->size, v->mat);
    }
    return true;
}

static void view_close(view *v)
{
    free(v->segs);
    free(v->mat);
}

/* --- values ----------------------------------------------------------------- */

typedef struct geo {
    uint64_t cblocks, root, bm;
    uint32_t bm_blocks;
    uint64_t file_blocks;
} geo;

static geo read_geo(const view *v)
{
    geo g;
    g.cblocks = rd(v, 8, 8);
    g.root = rd(v, 21, 8);
    g.bm = rd(v, 29, 8);
    g.bm_blocks = (uint32_t)rd(v, 37, 4);
    g.file_blocks = v->size / VCI_BLOCK_SIZE;
    return g;
}

/* A value worth trying in a field of w bytes that now holds cur. */
static uint64_t interesting(view *v, const geo *g, unsigned w, uint64_t cur)
{
    uint64_t max = w >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * w)) - 1;
    uint64_t x;
    switch (below(v, 16)) {
    case 0: x = 0; break;
    case 1: x = 1; break;
    case 2: x = max; break;
    case 3: x = max >> 1; break;
    case 4: x = cur + 1 + below(v, 8); break;
    case 5: x = cur - 1 - below(v, 8); break;
    case 6: x = cur ^ (UINT64_C(1) << below(v, 8 * w)); break;
    case 7: x = g->cblocks - below(v, 9); break;
    case 8: x = g->file_blocks - below(v, 9); break;
    case 9: x = g->root + below(v, 3) - 1; break;
    case 10: x = g->bm + below(v, 3); break;
    case 11: x = VCI_VBLOCK_LIMIT - below(v, 3); break;
    case 12: x = UINT64_C(1) << 32; break;
    case 13: x = VCI_LRU_NONE; break;
    case 14: x = cur * 2; break;
    default: x = rnd(v); break;
    }
    return x & max;
}

/* --- mutations ----------------------------------------------------------- */

static const struct { uint16_t off, w; } hdr_fields[] = {
    { 0, 4 }, { 4, 4 }, { 8, 8 }, { 16, 1 }, { 17, 4 }, { 21, 8 }, { 29, 8 }, { 37, 4 },
    { 41, 8 }, { 57, 8 }, { 65, 8 }, { 73, 4 }, { 77, 8 }, { 85, 8 },
};
static const struct { uint16_t off, w; } bm_fields[] = {
    { 0, 4 }, { 4, 4 }, { 8, 8 }, { 16, 8 }, { 24, 8 }, { 32, 8 },
};
/* Extent fields: prev, next, flags, reserved, key, count, address. */
static const struct { uint16_t off, w; } ext_fields[] = {
    { 0, 8 }, { 8, 8 }, { 16, 1 }, { 17, 1 }, { 18, 8 }, { 26, 4 }, { 30, 8 },
};
/* Internal entry fields: key, count, child. */
static const struct { uint16_t off, w; } ent_fields[] = { { 0, 8 }, { 8, 4 }, { 12, 8 } };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static bool mut_header(view *v, const geo *g)
{
    unsigned i = (unsigned)below(v, NELEM(hdr_fields) + 1);
    if (i == NELEM(hdr_fields)) /* a reserved byte that must stay zero */
        return wr(v, 93 + below(v, VCI_HDR_SIZE - 93), 1, 1 + below(v, 255));
    return wr(v, hdr_fields[i].off, hdr_fields[i].w,
              interesting(v, g, hdr_fields[i].w, rd(v, hdr_fields[i].off, hdr_fields[i].w)));
}

static bool mut_blockmap(view *v, const geo *g)
{
    uint64_t base = g->bm * VCI_BLOCK_SIZE, bits = base + VCI_BMHDR_SIZE;
    if (g->bm == 0 || base >= v->size)
        return false;
    if (below(v, 2) == 0) {
        unsigned i = (unsigned)below(v, NELEM(bm_fields));
        return wr(v, base + bm_fields[i].off, bm_fields[i].w,
                  interesting(v, g, bm_fields[i].w, rd(v, base + bm_fields[i].off, bm_fields[i].w)));
    }
    /* Flip the bit of a block that matters (metadata, the root, the
     * blocks around the end) or of any block. */
    {
        uint64_t blk;
        uint8_t byte;
        switch (below(v, 4)) {
        case 0: blk = g->root + below(v, VCI_NODE_BLOCKS); break;
        case 1: blk = below(v, 2u + g->bm_blocks); break;
        case 2: blk = g->cblocks - 1 - below(v, 16); break;
        default: blk = below(v, g->cblocks ? g->cblocks : 1); break;
        }
        if (blk / 8 >= (uint64_t)g->bm_blocks * VCI_BLOCK_SIZE)
            return false;
        vread(v, bits + blk / 8, &byte, 1);
        byte ^= (uint8_t)(1u << (blk % 8));
        return vwrite(v, bits + blk / 8, &byte, 1);
    }
}

/* The tree's nodes reachable from the root (breadth first, each once, at
 * most MAX_NODES and depth VCI_MAX_DEPTH). */
static unsigned find_nodes(const view *v, const geo *g, uint64_t *addr)
{
    uint8_t depth[MAX_NODES];
    unsigned n = 0;

    if (g->root == 0 || g->root >= g->file_blocks)
        return 0;
    addr[n] = g->root;
    depth[n++] = 1;
    for (unsigned i = 0; i < n; i++) {
        uint64_t base = addr[i] * VCI_BLOCK_SIZE;
        if (rd(v, base, 1) != VCI_NODE_INTERNAL || depth[i] >= VCI_MAX_DEPTH)
            continue;
        for (unsigned e = 0; e < VCI_INT_MAX && n < MAX_NODES; e++) {
            uint64_t at = base + 1 + (uint64_t)e * VCI_IENTRY_SIZE;
            uint64_t child = rd(v, at + 12, 8);
            bool seen = false;
            if (rd(v, at + 8, 4) == 0 || child == 0)
                break;
            if (child >= g->file_blocks)
                continue;
            for (unsigned k = 0; k < n && !seen; k++)
                seen = addr[k] == child;
            if (!seen) {
                addr[n] = child;
                depth[n++] = (uint8_t)(depth[i] + 1);
            }
        }
    }
    return n;
}

/* Entries in use at the start of the node at byte offset base. */
static unsigned used_entries(const view *v, uint64_t base, bool leaf)
{
    unsigned max = leaf ? VCI_LEAF_MAX : VCI_INT_MAX, size = leaf ? VCI_EXTENT_SIZE : VCI_IENTRY_SIZE;
    unsigned cnt_off = leaf ? 26 : 8, addr_off = leaf ? 30 : 12, i;
    for (i = 0; i < max; i++) {
        uint64_t at = base + 1 + (uint64_t)i * size;
        if (rd(v, at + cnt_off, 4) == 0 || rd(v, at + addr_off, 8) == 0)
            break;
    }
    return i;
}

static bool mut_node(view *v, const geo *g, const uint64_t *nodes, unsigned nn)
{
    uint64_t base = nodes[below(v, nn)] * VCI_BLOCK_SIZE;
    uint8_t type = (uint8_t)rd(v, base, 1);
    bool leaf = type != VCI_NODE_INTERNAL;
    unsigned size = leaf ? VCI_EXTENT_SIZE : VCI_IENTRY_SIZE;
    unsigned max = leaf ? VCI_LEAF_MAX : VCI_INT_MAX;
    unsigned used = used_entries(v, base, leaf);
    /* Mostly an entry in use; sometimes the first free slot. */
    unsigned i = (unsigned)below(v, used + 1 < max ? used + 1 : max);
    uint64_t at = base + 1 + (uint64_t)i * size;
    uint8_t ent[VCI_EXTENT_SIZE], other[VCI_EXTENT_SIZE];

    switch (below(v, 10)) {
    case 0: { /* the node type */
        static const uint8_t types[] = { 0, VCI_NODE_INTERNAL, VCI_NODE_LEAF, 3, 0xff };
        return wr(v, base, 1, types[below(v, NELEM(types))]);
    }
    case 1: case 2: case 3: case 4: { /* one field of one entry */
        if (leaf) {
            unsigned f = (unsigned)below(v, NELEM(ext_fields));
            return wr(v, at + ext_fields[f].off, ext_fields[f].w,
                      interesting(v, g, ext_fields[f].w, rd(v, at + ext_fields[f].off, ext_fields[f].w)));
        } else {
            unsigned f = (unsigned)below(v, NELEM(ent_fields));
            return wr(v, at + ent_fields[f].off, ent_fields[f].w,
                      interesting(v, g, ent_fields[f].w, rd(v, at + ent_fields[f].off, ent_fields[f].w)));
        }
    }
    case 5: /* drop an entry: the count of entries shrinks, a gap opens */
        memset(ent, 0, size);
        return vwrite(v, at, ent, size);
    case 6: { /* duplicate or copy a neighbour: overlaps, equal keys */
        unsigned j = (unsigned)below(v, used ? used : 1);
        vread(v, base + 1 + (uint64_t)j * size, ent, size);
        return vwrite(v, at, ent, size);
    }
    case 7: { /* swap two entries: order broken */
        unsigned j = (unsigned)below(v, used ? used : 1);
        uint64_t at2 = base + 1 + (uint64_t)j * size;
        vread(v, at, ent, size);
        vread(v, at2, other, size);
        return vwrite(v, at, other, size) && vwrite(v, at2, ent, size);
    }
    case 8: /* a child pointing at an ancestor, itself or the root: a cycle */
        if (leaf)
            return wr(v, at + 30, 8, nodes[below(v, nn)] + below(v, VCI_NODE_BLOCKS));
        return wr(v, at + 12, 8, below(v, 2) ? g->root : nodes[below(v, nn)]);
    default: /* a byte in the zero tail */
        return wr(v, base + 1 + (uint64_t)max * size + below(v, VCI_NODE_SIZE - 1 - max * size), 1,
                  1 + below(v, 255));
    }
}

/* Copies a whole node over another (shared subtrees, wrong levels). */
static bool mut_splice(view *v, const uint64_t *nodes, unsigned nn)
{
    uint8_t node[VCI_NODE_SIZE];
    uint64_t from = nodes[below(v, nn)], to = nodes[below(v, nn)];
    if (from == to)
        return false;
    vread(v, from * VCI_BLOCK_SIZE, node, sizeof(node));
    return vwrite(v, to * VCI_BLOCK_SIZE, node, sizeof(node));
}

/* Puts back what a reader checks first, so the mutation reaches further. */
static void repair(view *v, const uint64_t *nodes, unsigned nn)
{
    geo g = read_geo(v);
    uint64_t cb = g.cblocks;

    wr(v, 0, 4, VCI_SIGNATURE);
    wr(v, 4, 4, VCI_VERSION);
    if (cb < VCI_MIN_BLOCKS || cb > VCI_MAX_BLOCKS) {
        cb = g.file_blocks > VCI_MIN_BLOCKS ? g.file_blocks : VCI_MIN_BLOCKS;
        wr(v, 8, 8, cb);
    }
    wr(v, 37, 4, vci_bm_blocks_for(cb));
    if (rd(v, 17, 4) - 1 > 1)
        wr(v, 17, 4, VCI_TYPE_DYNAMIC);
    if (rd(v, 16, 1) > 1)
        wr(v, 16, 1, 0);
    if (g.bm < 2 || g.bm + vci_bm_blocks_for(cb) > cb)
        wr(v, 29, 8, 2);
    if (g.root < 2 || g.root + VCI_NODE_BLOCKS > cb)
        wr(v, 21, 8, 2 + vci_bm_blocks_for(cb));
    /* Entries of one node: in range, flags clear. */
    if (nn > 0) {
        uint64_t base = nodes[below(v, nn)] * VCI_BLOCK_SIZE;
        bool leaf = rd(v, base, 1) == VCI_NODE_LEAF;
        unsigned used = used_entries(v, base, leaf);
        for (unsigned i = 0; i < used; i++) {
            uint64_t at = base + 1 + (uint64_t)i * (leaf ? VCI_EXTENT_SIZE : VCI_IENTRY_SIZE);
            uint64_t a = rd(v, at + (leaf ? 30 : 12), 8);
            if (leaf) {
                uint64_t c = rd(v, at + 26, 4);
                wr(v, at + 16, 2, 0);
                if (a >= cb || a + c > cb)
                    wr(v, at + 26, 4, a < cb ? cb - a : 1);
            } else if (a + VCI_NODE_BLOCKS > cb) {
                wr(v, at + 12, 8, cb > VCI_NODE_BLOCKS ? cb - VCI_NODE_BLOCKS : 2);
            }
        }
    }
}

/* Mutates the image region img[0..n) of a buffer of cap bytes in place;
 * returns the new image length, or 0 when nothing useful could be done. */
static size_t mutate_image(uint8_t *img, size_t n, size_t cap, unsigned seed)
{
    view v;
    uint64_t nodes[MAX_NODES];
    unsigned nn;
    bool done = false;
    size_t out = n;

    memset(&v, 0, sizeof(v));
    v.rng = (uint64_t)seed * UINT64_C(0x9E3779B97F4A7C15) | 1;
    if (!view_open(&v, img, n) || v.size < VCI_HDR_SIZE || rd(&v, 0, 4) != VCI_SIGNATURE)
        goto out_close;
    {
        geo g = read_geo(&v);
        nn = find_nodes(&v, &g, nodes);
        for (unsigned t = 0; t < MAX_TRIES && !done; t++) {
            switch (below(&v, 10)) {
            case 0: case 1: case 2: done = mut_header(&v, &g); break;
            case 3: done = mut_blockmap(&v, &g); break;
            case 4: done = mut_blockmap(&v, &g); break;
            case 5: done = nn > 1 && mut_splice(&v, nodes, nn); break;
            default: done = nn > 0 && mut_node(&v, &g, nodes, nn); break;
            }
        }
        if (done && below(&v, 2) == 0)
            repair(&v, nodes, nn);
    }
    if (done && v.mat != NULL) {
        size_t elen;
        uint8_t *enc = fuzz_sparse_encode(v.mat, (size_t)v.size, &elen);
        if (enc == NULL || elen > cap) {
            done = false;
        } else {
            memcpy(img, enc, elen);
            out = elen;
        }
        free(enc);
    }
out_close:
    view_close(&v);
    return done ? out : 0;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
#ifdef FUZZ_MUTATOR_OPS
    /* u32le n, image, rest: mutate the image, keep the rest. */
    size_t n, rest, room, got;
    uint8_t *tail, small;

    if (seed % 5 == 0 || size < 4 || max_size < 4)
        return LLVMFuzzerMutate(data, size, max_size);
    small = data[3] & 0x80u; /* fuzz_ops's small-caches bit rides on n */
    n = fuzz_le32(data) & 0x7fffffffu;
    if (n > size - 4)
        n = size - 4;
    rest = size - 4 - n;
    if (max_size - 4 < rest)
        return LLVMFuzzerMutate(data, size, max_size);
    room = max_size - 4 - rest;
    tail = malloc(rest != 0 ? rest : 1);
    if (tail == NULL)
        return LLVMFuzzerMutate(data, size, max_size);
    memcpy(tail, data + 4 + n, rest);
    got = mutate_image(data + 4, n, room, seed);
    if (got == 0) {
        free(tail);
        return LLVMFuzzerMutate(data, size, max_size);
    }
    for (unsigned k = 0; k < 4; k++)
        data[k] = (uint8_t)(got >> (8 * k));
    data[3] |= small;
    memcpy(data + 4 + got, tail, rest);
    free(tail);
    return 4 + got + rest;
#else
    size_t got;
    if (seed % 5 == 0)
        return LLVMFuzzerMutate(data, size, max_size);
    got = mutate_image(data, size, max_size, seed);
    return got != 0 ? got : LLVMFuzzerMutate(data, size, max_size);
#endif
}
