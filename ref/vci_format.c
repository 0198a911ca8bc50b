/*
 * ref/vci_format.c - encode, decode and validate VCI v1 structures
 * (spec/vci-format.md sections 3-6).
 *
 * Contract: see vci_format.h.  Decoders return VINF_SUCCESS,
 * VERR_VD_GEN_INVALID_HEADER (header) or VERR_VD_IMAGE_CORRUPTED (block map
 * header, nodes) and put a one-line explanation of the first problem into
 * `why` when it is not NULL; each corruption also names its check in `rec`
 * (VCI_CORRUPT, ref/vci_corrupt.h).  Encoders cannot fail.  No I/O, no state.
 *
 * Every on-disk integer goes through the bounds-checked cursor: a field by
 * itself (vci_get_*), or, in the hot node decoders, the whole array of
 * fixed-size extents or entries with one range check (cur_span), each
 * field then loaded at a constant offset of its record inside that span.
 */
#include "vci_format.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "spec/vdcache.h"

/* ---- cursor ------------------------------------------------------------ */

vci_cur vci_cur_reader(const void *p, size_t len)
{
    vci_cur c = { .rp = p, .wp = NULL, .len = len, .pos = 0, .ok = true };
    return c;
}

vci_cur vci_cur_writer(void *p, size_t len)
{
    vci_cur c = { .rp = p, .wp = p, .len = len, .pos = 0, .ok = true };
    return c;
}

void vci_cur_seek(vci_cur *c, size_t pos)
{
    if (pos > c->len) {
        c->ok = false;
        return;
    }
    c->pos = pos;
}

static bool cur_room(vci_cur *c, size_t n)
{
    if (!c->ok || n > c->len - c->pos) {
        c->ok = false;
        return false;
    }
    return true;
}

/* Little-endian loads from bytes the caller has bounds-checked (through
 * cur_span): p[0..3] and p[0..7] must lie inside the checked span. */
static uint32_t le32_at(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64_at(const uint8_t *p)
{
    return (uint64_t)le32_at(p) | (uint64_t)le32_at(p + 4) << 32;
}

/* The next n bytes at the cursor, which moves past them; NULL (and the
 * cursor failed) when fewer than n remain.  One range check for a whole
 * field or record: decoding nodes is the hot path of every lookup, and a
 * check per byte or per field costs comparisons that coverage
 * instrumentation also traces, one by one. */
static const uint8_t *cur_span(vci_cur *c, size_t n)
{
    if (!cur_room(c, n))
        return NULL;
    const uint8_t *p = c->rp + c->pos;
    c->pos += n;
    return p;
}

/* The n-byte (1, 4 or 8) little-endian integer at the cursor (0 when it
 * does not fit). */
static uint64_t cur_get_le(vci_cur *c, unsigned n)
{
    const uint8_t *p = cur_span(c, n);
    if (p == NULL)
        return 0;
    return n == 8 ? le64_at(p) : n == 4 ? le32_at(p) : p[0];
}

static void cur_put_le(vci_cur *c, uint64_t v, unsigned n)
{
    if (c->wp == NULL) {
        c->ok = false;
        return;
    }
    if (!cur_room(c, n))
        return;
    uint8_t *p = c->wp + c->pos;
    p[0] = (uint8_t)v;
    if (n >= 4) {
        p[1] = (uint8_t)(v >> 8);
        p[2] = (uint8_t)(v >> 16);
        p[3] = (uint8_t)(v >> 24);
    }
    if (n == 8) {
        p[4] = (uint8_t)(v >> 32);
        p[5] = (uint8_t)(v >> 40);
        p[6] = (uint8_t)(v >> 48);
        p[7] = (uint8_t)(v >> 56);
    }
    c->pos += n;
}

uint8_t vci_get_u8(vci_cur *c) { return (uint8_t)cur_get_le(c, 1); }
uint32_t vci_get_u32(vci_cur *c) { return (uint32_t)cur_get_le(c, 4); }
uint64_t vci_get_u64(vci_cur *c) { return cur_get_le(c, 8); }
void vci_put_u8(vci_cur *c, uint8_t v) { cur_put_le(c, v, 1); }
void vci_put_u32(vci_cur *c, uint32_t v) { cur_put_le(c, v, 4); }
void vci_put_u64(vci_cur *c, uint64_t v) { cur_put_le(c, v, 8); }

void vci_get_bytes(vci_cur *c, void *dst, size_t n)
{
    if (!cur_room(c, n)) {
        memset(dst, 0, n);
        return;
    }
    memcpy(dst, c->rp + c->pos, n);
    c->pos += n;
}

void vci_put_bytes(vci_cur *c, const void *src, size_t n)
{
    if (c->wp == NULL) {
        c->ok = false;
        return;
    }
    if (!cur_room(c, n))
        return;
    memcpy(c->wp + c->pos, src, n);
    c->pos += n;
}

/* Zeros to compare with: a node is the largest structure checked at once. */
static const uint8_t zeros[VCI_NODE_SIZE];

/* Are the n bytes at p all zero?  memcmp against zeros, a chunk at a time,
 * rather than a comparison per byte. */
static bool all_zero(const uint8_t *p, size_t n)
{
    while (n > 0) {
        size_t k = n < sizeof(zeros) ? n : sizeof(zeros);
        if (memcmp(p, zeros, k) != 0)
            return false;
        p += k;
        n -= k;
    }
    return true;
}

bool vci_cur_zero_from(const vci_cur *c, size_t from)
{
    return from >= c->len || all_zero(c->rp + from, c->len - from);
}

/* ---- helpers ------------------------------------------------------------ */

__attribute__((format(printf, 4, 5)))
static int fail(int rc, char *why, size_t cb_why, const char *fmt, ...)
{
    if (why != NULL && cb_why > 0) {
        va_list va;
        va_start(va, fmt);
        vsnprintf(why, cb_why, fmt, va);
        va_end(va);
    }
    return rc;
}

uint32_t vci_bm_blocks_for(uint64_t cblocks)
{
    return (uint32_t)(1 + (cblocks + VCI_BITS_PER_BMBLK - 1) / VCI_BITS_PER_BMBLK);
}

uint64_t vci_base_meta_blocks(uint64_t cblocks)
{
    return VCI_HDR_BLOCKS + vci_bm_blocks_for(cblocks) + VCI_NODE_BLOCKS;
}

uint32_t vci_span(uint64_t key, uint64_t end)
{
    uint64_t d = end - key;
    return d > VCI_COUNT_MAX ? VCI_COUNT_MAX : (uint32_t)d;
}

bool vci_ranges_overlap(uint64_t a, uint64_t na, uint64_t b, uint64_t nb)
{
    if (na == 0 || nb == 0)
        return false;
    return a < b + nb && b < a + na;
}

/* ---- header ------------------------------------------------------------ */

void vci_header_encode(const vci_header *h, uint8_t out[VCI_HDR_SIZE])
{
    vci_cur c = vci_cur_writer(out, VCI_HDR_SIZE);
    memset(out, 0, VCI_HDR_SIZE);
    vci_put_u32(&c, VCI_SIGNATURE);
    vci_put_u32(&c, VCI_VERSION);
    vci_put_u64(&c, h->cblocks);
    vci_put_u8(&c, h->unclean);
    vci_put_u32(&c, h->type);
    vci_put_u64(&c, h->root);
    vci_put_u64(&c, h->bm_addr);
    vci_put_u32(&c, h->bm_blocks);
    vci_put_bytes(&c, h->uuid, 16);
    vci_put_bytes(&c, h->mod_uuid, 16);
    if (h->lru) {
        vci_put_u32(&c, VCI_LRU_MARKER);
        vci_put_u64(&c, h->lru_head);
        vci_put_u64(&c, h->lru_tail);
    }
}

int vci_header_decode(const uint8_t in[VCI_HDR_SIZE], vci_header *h, char *why, size_t cb_why)
{
    const int bad = VERR_VD_GEN_INVALID_HEADER;
    vci_cur c = vci_cur_reader(in, VCI_HDR_SIZE);
    uint32_t sig = vci_get_u32(&c);
    uint32_t ver = vci_get_u32(&c);
    memset(h, 0, sizeof(*h));
    h->cblocks = vci_get_u64(&c);
    h->unclean = vci_get_u8(&c);
    h->type = vci_get_u32(&c);
    h->root = vci_get_u64(&c);
    h->bm_addr = vci_get_u64(&c);
    h->bm_blocks = vci_get_u32(&c);
    vci_get_bytes(&c, h->uuid, 16);
    vci_get_bytes(&c, h->mod_uuid, 16);
    uint32_t marker = vci_get_u32(&c);
    uint64_t head = vci_get_u64(&c);
    uint64_t tail = vci_get_u64(&c);
    if (!c.ok)
        return fail(bad, why, cb_why, "header: truncated");

    if (sig != VCI_SIGNATURE)
        return fail(bad, why, cb_why, "header: signature %#x is not \"VCI\\0\"", sig);
    if (ver != VCI_VERSION)
        return fail(bad, why, cb_why, "header: version %u is not 1", ver);
    if (h->cblocks < VCI_MIN_BLOCKS || h->cblocks > VCI_MAX_BLOCKS)
        return fail(bad, why, cb_why, "header: size %llu blocks outside %u..%llu",
                    (unsigned long long)h->cblocks, VCI_MIN_BLOCKS,
                    (unsigned long long)VCI_MAX_BLOCKS);
    if (h->unclean > 1)
        return fail(bad, why, cb_why, "header: unclean flag %u is neither 0 nor 1", h->unclean);
    if (h->type != VCI_TYPE_DYNAMIC && h->type != VCI_TYPE_FIXED)
        return fail(bad, why, cb_why, "header: cache type %u is neither 1 nor 2", h->type);
    if (h->bm_blocks != vci_bm_blocks_for(h->cblocks))
        return fail(bad, why, cb_why, "header: block map of %u blocks, %u expected for %llu blocks",
                    h->bm_blocks, vci_bm_blocks_for(h->cblocks), (unsigned long long)h->cblocks);
    if (h->bm_addr < VCI_HDR_BLOCKS || h->bm_addr > h->cblocks
        || h->bm_blocks > h->cblocks - h->bm_addr)
        return fail(bad, why, cb_why, "header: block map at %llu (+%u) outside the image",
                    (unsigned long long)h->bm_addr, h->bm_blocks);
    if (h->root < VCI_HDR_BLOCKS || h->root > h->cblocks - VCI_NODE_BLOCKS)
        return fail(bad, why, cb_why, "header: root node at %llu outside the image",
                    (unsigned long long)h->root);
    if (vci_ranges_overlap(h->root, VCI_NODE_BLOCKS, h->bm_addr, h->bm_blocks))
        return fail(bad, why, cb_why, "header: root node at %llu overlaps the block map",
                    (unsigned long long)h->root);

    if (marker == 0) {
        if (!vci_cur_zero_from(&c, VCI_HDR_OFF_RESERVED))
            return fail(bad, why, cb_why, "header: reserved area is not zero");
        h->lru = false;
        h->lru_head = h->lru_tail = VCI_LRU_NONE;
    } else if (marker == VCI_LRU_MARKER) {
        if (!vci_cur_zero_from(&c, VCI_HDR_OFF_RESERVED + 20))
            return fail(bad, why, cb_why, "header: reserved area after the LRU extension is not zero");
        if ((head != VCI_LRU_NONE && head >= VCI_VBLOCK_LIMIT)
            || (tail != VCI_LRU_NONE && tail >= VCI_VBLOCK_LIMIT))
            return fail(bad, why, cb_why, "header: LRU head/tail key out of range");
        if ((head == VCI_LRU_NONE) != (tail == VCI_LRU_NONE))
            return fail(bad, why, cb_why, "header: LRU head and tail disagree on emptiness");
        h->lru = true;
        h->lru_head = head;
        h->lru_tail = tail;
    } else {
        return fail(bad, why, cb_why, "header: unknown data in the reserved area (%#x)", marker);
    }
    return VINF_SUCCESS;
}

vci_layout vci_header_layout(const vci_header *h)
{
    vci_layout l = { .cblocks = h->cblocks, .bm_addr = h->bm_addr, .bm_blocks = h->bm_blocks,
                     .root = h->root };
    return l;
}

/* ---- block map header ---------------------------------------------------- */

void vci_bmhdr_encode(const vci_bmhdr *b, uint8_t out[VCI_BMHDR_SIZE])
{
    vci_cur c = vci_cur_writer(out, VCI_BMHDR_SIZE);
    memset(out, 0, VCI_BMHDR_SIZE);
    vci_put_u32(&c, VCI_BM_MAGIC);
    vci_put_u32(&c, VCI_BM_VERSION);
    vci_put_u64(&c, b->managed);
    vci_put_u64(&c, b->free);
    vci_put_u64(&c, b->meta);
    vci_put_u64(&c, b->data);
}

int vci_bmhdr_decode(const uint8_t in[VCI_BMHDR_SIZE], const vci_header *h, vci_bmhdr *b,
                     vci_corrupt *rec, char *why, size_t cb_why)
{
    vci_cur c = vci_cur_reader(in, VCI_BMHDR_SIZE);
    uint32_t magic = vci_get_u32(&c);
    uint32_t ver = vci_get_u32(&c);
    b->managed = vci_get_u64(&c);
    b->free = vci_get_u64(&c);
    b->meta = vci_get_u64(&c);
    b->data = vci_get_u64(&c);
    if (!c.ok)
        return fail(VCI_CORRUPT(rec, "block map header truncated"), why, cb_why, "block map: truncated");
    if (magic != VCI_BM_MAGIC)
        return fail(VCI_CORRUPT(rec, "block map magic"), why, cb_why, "block map: magic %#x is not \"VBLK\"", magic);
    if (ver != VCI_BM_VERSION)
        return fail(VCI_CORRUPT(rec, "block map version"), why, cb_why, "block map: version %u is not 1", ver);
    if (!vci_cur_zero_from(&c, 40))
        return fail(VCI_CORRUPT(rec, "block map reserved bytes"), why, cb_why,
                    "block map: reserved bytes are not zero");
    if (b->managed != h->cblocks)
        return fail(VCI_CORRUPT(rec, "block map size differs from the header's"), why, cb_why,
                    "block map: manages %llu blocks, the header says %llu",
                    (unsigned long long)b->managed, (unsigned long long)h->cblocks);
    if (b->free > b->managed || b->meta > b->managed - b->free
        || b->data != b->managed - b->free - b->meta)
        return fail(VCI_CORRUPT(rec, "block map counters do not add up"), why, cb_why,
                    "block map: free %llu + meta %llu + data %llu != %llu",
                    (unsigned long long)b->free, (unsigned long long)b->meta,
                    (unsigned long long)b->data, (unsigned long long)b->managed);
    uint64_t base = VCI_HDR_BLOCKS + (uint64_t)h->bm_blocks;
    if (b->meta < base + VCI_NODE_BLOCKS || (b->meta - base) % VCI_NODE_BLOCKS != 0)
        return fail(VCI_CORRUPT(rec, "block map metadata count"), why, cb_why,
                    "block map: %llu metadata blocks is not header + map + whole nodes",
                    (unsigned long long)b->meta);
    return VINF_SUCCESS;
}

/* ---- nodes --------------------------------------------------------------- */

unsigned vci_node_max(uint8_t type)
{
    return type == VCI_NODE_LEAF ? VCI_LEAF_MAX : VCI_INT_MAX;
}

void vci_node_encode(const vci_node *n, uint8_t out[VCI_NODE_SIZE])
{
    vci_cur c = vci_cur_writer(out, VCI_NODE_SIZE);
    memset(out, 0, VCI_NODE_SIZE);
    vci_put_u8(&c, n->type);
    unsigned max = vci_node_max(n->type);
    unsigned cnt = n->n <= max ? n->n : max;
    for (unsigned i = 0; i < cnt; i++) {
        if (n->type == VCI_NODE_LEAF) {
            vci_put_u64(&c, n->u.l.prev[i]);
            vci_put_u64(&c, n->u.l.next[i]);
            vci_put_u8(&c, 0);
            vci_put_u8(&c, 0);
            vci_put_u64(&c, n->u.l.key[i]);
            vci_put_u32(&c, n->u.l.count[i]);
            vci_put_u64(&c, n->u.l.addr[i]);
        } else {
            vci_put_u64(&c, n->u.i.key[i]);
            vci_put_u32(&c, n->u.i.count[i]);
            vci_put_u64(&c, n->u.i.child[i]);
        }
    }
}

void vci_node_move(vci_node *n, unsigned dst, unsigned src, unsigned cnt)
{
    if (n->type == VCI_NODE_LEAF) {
        vci_leaf_cols *l = &n->u.l;
        memmove(&l->key[dst], &l->key[src], cnt * sizeof(l->key[0]));
        memmove(&l->count[dst], &l->count[src], cnt * sizeof(l->count[0]));
        memmove(&l->addr[dst], &l->addr[src], cnt * sizeof(l->addr[0]));
        memmove(&l->prev[dst], &l->prev[src], cnt * sizeof(l->prev[0]));
        memmove(&l->next[dst], &l->next[src], cnt * sizeof(l->next[0]));
    } else {
        vci_int_cols *m = &n->u.i;
        memmove(&m->key[dst], &m->key[src], cnt * sizeof(m->key[0]));
        memmove(&m->count[dst], &m->count[src], cnt * sizeof(m->count[0]));
        memmove(&m->child[dst], &m->child[src], cnt * sizeof(m->child[0]));
    }
}

void vci_node_copy(vci_node *d, unsigned di, const vci_node *s, unsigned si, unsigned cnt)
{
    if (s->type == VCI_NODE_LEAF) {
        vci_leaf_cols *dl = &d->u.l;
        const vci_leaf_cols *sl = &s->u.l;
        memcpy(&dl->key[di], &sl->key[si], cnt * sizeof(sl->key[0]));
        memcpy(&dl->count[di], &sl->count[si], cnt * sizeof(sl->count[0]));
        memcpy(&dl->addr[di], &sl->addr[si], cnt * sizeof(sl->addr[0]));
        memcpy(&dl->prev[di], &sl->prev[si], cnt * sizeof(sl->prev[0]));
        memcpy(&dl->next[di], &sl->next[si], cnt * sizeof(sl->next[0]));
    } else {
        vci_int_cols *dm = &d->u.i;
        const vci_int_cols *sm = &s->u.i;
        memcpy(&dm->key[di], &sm->key[si], cnt * sizeof(sm->key[0]));
        memcpy(&dm->count[di], &sm->count[si], cnt * sizeof(sm->count[0]));
        memcpy(&dm->child[di], &sm->child[si], cnt * sizeof(sm->child[0]));
    }
}

/* Field offsets inside an extent and an internal entry (the layout table
 * of vci_format.h); each record is read with one cur_span of its size. */
enum {
    EXT_PREV = 0, EXT_NEXT = 8, EXT_FLAGS = 16, EXT_RSVD = 17, EXT_KEY = 18, EXT_COUNT = 26, EXT_ADDR = 30,
    ENT_KEY = 0, ENT_COUNT = 8, ENT_CHILD = 12,
};
_Static_assert(EXT_ADDR + 8 == VCI_EXTENT_SIZE, "extent layout");
_Static_assert(ENT_CHILD + 8 == VCI_IENTRY_SIZE, "internal entry layout");

/* Is the block range [a, a+n) (n >= 1, a + n <= cblocks) clear of the
 * header and the block map? */
static bool clear_of_fixed_meta(const vci_layout *lay, uint64_t a, uint64_t n)
{
    return !vci_ranges_overlap(a, n, 0, VCI_HDR_BLOCKS)
        && !vci_ranges_overlap(a, n, lay->bm_addr, lay->bm_blocks);
}

static int decode_leaf(const uint8_t *in, const vci_layout *lay, vci_node *n, vci_corrupt *rec, char *why,
                       size_t cb_why)
{
    vci_cur c = vci_cur_reader(in, VCI_NODE_SIZE);
    bool seen_unused = false;
    n->n = 0;
    vci_cur_seek(&c, 1);
    const uint8_t *ext = cur_span(&c, (size_t)VCI_EXTENT_SIZE * VCI_LEAF_MAX);
    if (ext == NULL)
        return fail(VCI_CORRUPT(rec, "leaf truncated"), why, cb_why, "leaf: truncated");
    for (unsigned i = 0; i < VCI_LEAF_MAX; i++) {
        size_t off = 1 + (size_t)VCI_EXTENT_SIZE * i;
        const uint8_t *x = ext + (size_t)VCI_EXTENT_SIZE * i;
        vci_extent e;
        e.prev = le64_at(x + EXT_PREV);
        e.next = le64_at(x + EXT_NEXT);
        uint8_t flags = x[EXT_FLAGS];
        uint8_t rsvd = x[EXT_RSVD];
        e.key = le64_at(x + EXT_KEY);
        e.count = le32_at(x + EXT_COUNT);
        e.addr = le64_at(x + EXT_ADDR);
        if (e.count == 0 || e.addr == 0) {
            /* Extents are packed, so all that follows the first unused
             * one must be zero (unused extents, then the tail).  Usually
             * it is, and that ends the node at once; otherwise the loop
             * goes on to name the first fault. */
            if (!seen_unused && all_zero(in + off, VCI_NODE_SIZE - off))
                return VINF_SUCCESS;
            if (!all_zero(in + off, VCI_EXTENT_SIZE))
                return fail(VCI_CORRUPT(rec, "leaf: unused extent not zero"), why, cb_why,
                            "leaf: unused extent %u is not all zero", i);
            seen_unused = true;
            continue;
        }
        if (seen_unused)
            return fail(VCI_CORRUPT(rec, "leaf: extents not packed"), why, cb_why,
                        "leaf: extent %u follows an unused one (not packed)", i);
        if (flags != 0 || rsvd != 0)
            return fail(VCI_CORRUPT(rec, "leaf: extent flags or reserved set"), why, cb_why,
                        "leaf: extent %u has flags %#x / reserved %#x", i, flags, rsvd);
        if (e.key >= VCI_VBLOCK_LIMIT || e.count > VCI_VBLOCK_LIMIT - e.key)
            return fail(VCI_CORRUPT(rec, "leaf: extent key out of range"), why, cb_why,
                        "leaf: extent %u key %llu + %u out of range", i,
                        (unsigned long long)e.key, e.count);
        if (e.addr >= lay->cblocks || e.count > lay->cblocks - e.addr)
            return fail(VCI_CORRUPT(rec, "leaf: extent data outside the image"), why, cb_why,
                        "leaf: extent %u data at %llu + %u outside the image", i,
                        (unsigned long long)e.addr, e.count);
        if (!clear_of_fixed_meta(lay, e.addr, e.count)
            || vci_ranges_overlap(e.addr, e.count, lay->root, VCI_NODE_BLOCKS))
            return fail(VCI_CORRUPT(rec, "leaf: extent data on metadata"), why, cb_why,
                        "leaf: extent %u data at %llu + %u overlaps metadata", i,
                        (unsigned long long)e.addr, e.count);
        if (n->n > 0 && n->u.l.key[n->n - 1] + n->u.l.count[n->n - 1] > e.key)
            return fail(VCI_CORRUPT(rec, "leaf: extents out of order"), why, cb_why,
                        "leaf: extent %u (key %llu) overlaps or precedes extent %u",
                        i, (unsigned long long)e.key, i - 1);
        vci_leaf_set(n, n->n++, &e);
    }
    if (!all_zero(in + 1 + VCI_EXTENT_SIZE * VCI_LEAF_MAX, VCI_NODE_SIZE - 1 - VCI_EXTENT_SIZE * VCI_LEAF_MAX))
        return fail(VCI_CORRUPT(rec, "leaf: tail not zero"), why, cb_why, "leaf: tail bytes are not zero");
    return VINF_SUCCESS;
}

static int decode_internal(const uint8_t *in, const vci_layout *lay, vci_node *n, vci_corrupt *rec, char *why,
                           size_t cb_why)
{
    vci_cur c = vci_cur_reader(in, VCI_NODE_SIZE);
    bool seen_unused = false;
    n->n = 0;
    vci_cur_seek(&c, 1);
    const uint8_t *ent = cur_span(&c, (size_t)VCI_IENTRY_SIZE * VCI_INT_MAX);
    if (ent == NULL)
        return fail(VCI_CORRUPT(rec, "internal node truncated"), why, cb_why, "internal node: truncated");
    for (unsigned i = 0; i < VCI_INT_MAX; i++) {
        size_t off = 1 + (size_t)VCI_IENTRY_SIZE * i;
        const uint8_t *x = ent + (size_t)VCI_IENTRY_SIZE * i;
        vci_ientry e;
        e.key = le64_at(x + ENT_KEY);
        e.count = le32_at(x + ENT_COUNT);
        e.child = le64_at(x + ENT_CHILD);
        if (e.count == 0 || e.child == 0) {
            /* All zero from the first unused entry on: as in decode_leaf. */
            if (!seen_unused && all_zero(in + off, VCI_NODE_SIZE - off))
                return n->n > 0 ? VINF_SUCCESS : fail(VCI_CORRUPT(rec, "internal node: no entries"), why, cb_why,
                                                      "internal node: no entries");
            if (!all_zero(in + off, VCI_IENTRY_SIZE))
                return fail(VCI_CORRUPT(rec, "internal node: unused entry not zero"), why, cb_why,
                            "internal node: unused entry %u is not all zero", i);
            seen_unused = true;
            continue;
        }
        if (seen_unused)
            return fail(VCI_CORRUPT(rec, "internal node: entries not packed"), why, cb_why,
                        "internal node: entry %u follows an unused one (not packed)", i);
        if (e.key >= VCI_VBLOCK_LIMIT || e.count > VCI_VBLOCK_LIMIT - e.key)
            return fail(VCI_CORRUPT(rec, "internal node: entry key out of range"), why, cb_why,
                        "internal node: entry %u key %llu + %u out of range", i,
                        (unsigned long long)e.key, e.count);
        if (e.child < VCI_HDR_BLOCKS || e.child > lay->cblocks - VCI_NODE_BLOCKS
            || !clear_of_fixed_meta(lay, e.child, VCI_NODE_BLOCKS))
            return fail(VCI_CORRUPT(rec, "internal node: bad child address"), why, cb_why,
                        "internal node: entry %u child at %llu is not a valid node address",
                        i, (unsigned long long)e.child);
        if (n->n > 0 && n->u.i.key[n->n - 1] + n->u.i.count[n->n - 1] > e.key)
            return fail(VCI_CORRUPT(rec, "internal node: entries out of order"), why, cb_why,
                        "internal node: entry %u (key %llu) overlaps or precedes entry %u",
                        i, (unsigned long long)e.key, i - 1);
        vci_int_set(n, n->n++, &e);
    }
    if (n->n == 0)
        return fail(VCI_CORRUPT(rec, "internal node: no entries"), why, cb_why, "internal node: no entries");
    if (!all_zero(in + 1 + VCI_IENTRY_SIZE * VCI_INT_MAX, VCI_NODE_SIZE - 1 - VCI_IENTRY_SIZE * VCI_INT_MAX))
        return fail(VCI_CORRUPT(rec, "internal node: tail not zero"), why, cb_why,
                    "internal node: tail bytes are not zero");
    return VINF_SUCCESS;
}

int vci_node_decode(const uint8_t in[VCI_NODE_SIZE], const vci_layout *lay, vci_node *n,
                    vci_corrupt *rec, char *why, size_t cb_why)
{
    n->type = in[0];
    if (n->type == VCI_NODE_LEAF)
        return decode_leaf(in, lay, n, rec, why, cb_why);
    if (n->type == VCI_NODE_INTERNAL)
        return decode_internal(in, lay, n, rec, why, cb_why);
    n->n = 0;
    return fail(VCI_CORRUPT(rec, "node: unknown type"), why, cb_why, "node: type %u is neither 1 nor 2", n->type);
}

uint64_t vci_node_first_key(const vci_node *n)
{
    return vci_node_key(n, 0);
}

uint64_t vci_node_end(const vci_node *n)
{
    if (n->type == VCI_NODE_LEAF)
        return n->u.l.key[n->n - 1] + n->u.l.count[n->n - 1];
    return n->u.i.key[n->n - 1] + n->u.i.count[n->n - 1];
}

int vci_node_check_child(const vci_node *n, const vci_ientry *e, uint64_t hi, vci_corrupt *rec, char *why,
                         size_t cb_why)
{
    if (n->n == 0)
        return fail(VCI_CORRUPT(rec, "child node empty"), why, cb_why,
                    "node for key %llu is empty", (unsigned long long)e->key);
    uint64_t first = vci_node_first_key(n);
    if (first != e->key)
        return fail(VCI_CORRUPT(rec, "child's first key differs from its entry"), why, cb_why,
                    "node's first key %llu differs from its parent entry's %llu",
                    (unsigned long long)first, (unsigned long long)e->key);
    uint64_t end = vci_node_end(n);
    if (end > hi)
        return fail(VCI_CORRUPT(rec, "child ends past its range"), why, cb_why,
                    "node for key %llu ends at %llu, past its range end %llu",
                    (unsigned long long)e->key, (unsigned long long)end, (unsigned long long)hi);
    if (vci_span(first, end) != e->count)
        return fail(VCI_CORRUPT(rec, "entry count differs from its subtree"), why, cb_why,
                    "parent entry for key %llu counts %u blocks, the subtree spans %u",
                    (unsigned long long)e->key, e->count, vci_span(first, end));
    return VINF_SUCCESS;
}
