/*
 * harness/reliability/vci_enc.c - the independent VCI encoder (vci_enc.h).
 *
 * Contract: vci_enc.h; format: spec/vci-format.md sections 3-7 (header,
 * block map, nodes, tree, LRU).  No statuses: out of memory sets e->oom.
 * Deliberately shares no code with ref/.
 */
#include "vci_enc.h"

#include <stdlib.h>
#include <string.h>

uint32_t ve_bm_blocks(uint64_t cblocks)
{
    return (uint32_t)(1 + (cblocks + 4095) / 4096);
}

static bool ensure(vci_enc *e, uint64_t end)
{
    if (e->oom)
        return false;
    if (end > ((uint64_t)64 << 20)) { /* images stay small; refuse silly sizes */
        e->oom = true;
        return false;
    }
    if (end > e->cap) {
        size_t nc = e->cap != 0 ? e->cap : 8192;
        while (nc < end)
            nc *= 2;
        uint8_t *nb = realloc(e->buf, nc);
        if (nb == NULL) {
            e->oom = true;
            return false;
        }
        memset(nb + e->cap, 0, nc - e->cap);
        e->buf = nb;
        e->cap = nc;
    }
    if (end > e->size)
        e->size = (size_t)end;
    return true;
}

void ve_put8(vci_enc *e, uint64_t off, uint8_t v)
{
    if (ensure(e, off + 1))
        e->buf[off] = v;
}

void ve_put32(vci_enc *e, uint64_t off, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++)
        ve_put8(e, off + i, (uint8_t)(v >> (8 * i)));
}

void ve_put64(vci_enc *e, uint64_t off, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++)
        ve_put8(e, off + i, (uint8_t)(v >> (8 * i)));
}

void ve_fill(vci_enc *e, uint64_t off, uint8_t v, uint64_t cb)
{
    if (cb != 0 && ensure(e, off + cb))
        memset(e->buf + off, v, (size_t)cb);
}

uint32_t ve_get32(const vci_enc *e, uint64_t off)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < 4; i++)
        v |= (off + i < e->size ? (uint32_t)e->buf[off + i] : 0u) << (8 * i);
    return v;
}

uint64_t ve_get64(const vci_enc *e, uint64_t off)
{
    return (uint64_t)ve_get32(e, off) | (uint64_t)ve_get32(e, off + 4) << 32;
}

void ve_resize(vci_enc *e, uint64_t size)
{
    if (size > e->size) {
        ensure(e, size);
    } else if (!e->oom) {
        memset(e->buf + size, 0, e->size - (size_t)size);
        e->size = (size_t)size;
    }
}

static uint64_t bitmap_off(const vci_enc *e)
{
    return (e->bm + 1) * VE_BLOCK;
}

void ve_mark(vci_enc *e, uint64_t block, bool on)
{
    uint64_t off = bitmap_off(e) + block / 8;
    if (!ensure(e, off + 1))
        return;
    if (on)
        e->buf[off] |= (uint8_t)(1u << (block % 8));
    else
        e->buf[off] &= (uint8_t)~(1u << (block % 8));
}

bool ve_marked(const vci_enc *e, uint64_t block)
{
    uint64_t off = bitmap_off(e) + block / 8;
    return off < e->size && (e->buf[off] >> (block % 8)) & 1;
}

uint64_t ve_alloc(vci_enc *e, uint64_t n, bool meta)
{
    uint64_t at = e->next_free;
    /* The first run of n unmarked blocks from the cursor on. */
    for (uint64_t b = 0; b < n && at + b < e->cblocks;) {
        if (ve_marked(e, at + b)) {
            at += b + 1;
            b = 0;
        } else {
            b++;
        }
    }
    for (uint64_t b = 0; b < n; b++)
        ve_mark(e, at + b, true);
    e->next_free = at + n;
    if (meta)
        e->meta += n;
    else
        e->data += n;
    ensure(e, (at + n) * VE_BLOCK);
    return at;
}

uint8_t ve_data_byte(uint64_t x)
{
    uint64_t z = (x >> 3) * 0x9e3779b97f4a7c15ull + 0x1234567;
    z = (z ^ (z >> 29)) * 0xbf58476d1ce4e5b9ull;
    z ^= z >> 32;
    return (uint8_t)(z >> (8 * (x & 7)));
}

void ve_leaf(vci_enc *e, uint64_t at, ve_extent *x, unsigned n)
{
    uint64_t base = at * VE_BLOCK;
    ve_fill(e, base, 0, VE_NODE_BYTES);
    ve_put8(e, base, 2);
    for (unsigned i = 0; i < n; i++) {
        uint64_t o = base + 1 + (uint64_t)VE_EXT_SIZE * i;
        if (x[i].addr == 0 && x[i].count != 0 && x[i].count <= 4096) {
            x[i].addr = ve_alloc(e, x[i].count, false);
            for (uint64_t b = 0; b < (uint64_t)x[i].count * VE_BLOCK; b++)
                ve_put8(e, x[i].addr * VE_BLOCK + b, ve_data_byte(x[i].key * VE_BLOCK + b));
        }
        ve_put64(e, o, x[i].prev);
        ve_put64(e, o + 8, x[i].next);
        ve_put8(e, o + 16, 0);
        ve_put8(e, o + 17, 0);
        ve_put64(e, o + 18, x[i].key);
        ve_put32(e, o + 26, x[i].count);
        ve_put64(e, o + 30, x[i].addr);
    }
}

void ve_internal(vci_enc *e, uint64_t at, const ve_entry *x, unsigned n)
{
    uint64_t base = at * VE_BLOCK;
    ve_fill(e, base, 0, VE_NODE_BYTES);
    ve_put8(e, base, 1);
    for (unsigned i = 0; i < n; i++) {
        uint64_t o = base + 1 + (uint64_t)VE_ENT_SIZE * i;
        ve_put64(e, o, x[i].key);
        ve_put32(e, o + 8, x[i].count);
        ve_put64(e, o + 12, x[i].child);
    }
}

void ve_bm_header(vci_enc *e)
{
    uint64_t o = e->bm * VE_BLOCK;
    ve_fill(e, o, 0, VE_BLOCK);
    ve_put8(e, o, 0x56);
    ve_put8(e, o + 1, 0x42);
    ve_put8(e, o + 2, 0x4C);
    ve_put8(e, o + 3, 0x4B);
    ve_put32(e, o + VE_B_VERSION, 1);
    ve_put64(e, o + VE_B_MANAGED, e->cblocks);
    ve_put64(e, o + VE_B_FREE, e->cblocks - e->meta - e->data);
    ve_put64(e, o + VE_B_META, e->meta);
    ve_put64(e, o + VE_B_DATA, e->data);
}

void ve_lru(vci_enc *e, uint64_t head, uint64_t tail)
{
    ve_put64(e, VE_H_HEAD, head);
    ve_put64(e, VE_H_TAIL, tail);
}

void ve_init(vci_enc *e, uint64_t cblocks, uint32_t type)
{
    uint32_t m = ve_bm_blocks(cblocks);
    ve_init_at(e, cblocks, type, 2, 2 + m);
}

void ve_init_at(vci_enc *e, uint64_t cblocks, uint32_t type, uint64_t bm, uint64_t root)
{
    memset(e, 0, sizeof *e);
    e->cblocks = cblocks;
    e->m = ve_bm_blocks(cblocks);
    e->bm = bm;
    e->root = root;
    ve_fill(e, 0, 0, VE_H_END);
    ve_put8(e, 0, 0x56);
    ve_put8(e, 1, 0x43);
    ve_put8(e, 2, 0x49);
    ve_put8(e, 3, 0x00);
    ve_put32(e, VE_H_VERSION, 1);
    ve_put64(e, VE_H_CBLOCKS, cblocks);
    ve_put8(e, VE_H_UNCLEAN, 0);
    ve_put32(e, VE_H_TYPE, type);
    ve_put64(e, VE_H_ROOT, e->root);
    ve_put64(e, VE_H_BM, e->bm);
    ve_put32(e, VE_H_BMSIZE, e->m);
    for (unsigned i = 0; i < 16; i++)
        ve_put8(e, VE_H_UUID + i, (uint8_t)(0x10 * (i % 16) + i));
    ve_put8(e, VE_H_LRU, 'L');
    ve_put8(e, VE_H_LRU + 1, 'R');
    ve_put8(e, VE_H_LRU + 2, 'U');
    ve_put8(e, VE_H_LRU + 3, '1');
    ve_lru(e, VE_NONE, VE_NONE);
    ve_fill(e, e->bm * VE_BLOCK, 0, (uint64_t)e->m * VE_BLOCK);
    for (uint64_t b = 0; b < 2; b++)
        ve_mark(e, b, true);
    for (uint64_t b = 0; b < e->m; b++)
        ve_mark(e, bm + b, true);
    for (uint64_t b = 0; b < VE_NODE_BLOCKS; b++)
        ve_mark(e, root + b, true);
    e->meta = 2 + (uint64_t)e->m + VE_NODE_BLOCKS;
    e->next_free = 2; /* ve_alloc skips what is marked */
    ve_leaf(e, e->root, NULL, 0);
    ve_bm_header(e);
}

void ve_free(vci_enc *e)
{
    free(e->buf);
    memset(e, 0, sizeof *e);
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

bool ve_header_ok(const uint8_t *p, size_t size)
{
    if (size < VE_H_END)
        return false;
    if (p[0] != 0x56 || p[1] != 0x43 || p[2] != 0x49 || p[3] != 0)
        return false;
    if (rd32(p + VE_H_VERSION) != 1)
        return false;
    uint64_t cb = rd64(p + VE_H_CBLOCKS);
    if (cb < VE_MIN_BLOCKS || cb > VE_MAX_BLOCKS)
        return false;
    if (p[VE_H_UNCLEAN] > 1)
        return false;
    uint32_t type = rd32(p + VE_H_TYPE);
    if (type != 1 && type != 2)
        return false;
    uint64_t root = rd64(p + VE_H_ROOT), bm = rd64(p + VE_H_BM);
    uint32_t m = rd32(p + VE_H_BMSIZE);
    if (m != ve_bm_blocks(cb))
        return false;
    if (root < 2 || root > cb || cb - root < VE_NODE_BLOCKS)
        return false;
    if (bm < 2 || bm > cb || cb - bm < m)
        return false;
    if (root < bm + m && bm < root + VE_NODE_BLOCKS) /* overlap */
        return false;
    bool all_zero = true;
    for (size_t i = VE_H_LRU; i < VE_H_END; i++)
        all_zero &= p[i] == 0;
    if (all_zero)
        return true;
    if (p[73] != 'L' || p[74] != 'R' || p[75] != 'U' || p[76] != '1')
        return false;
    uint64_t head = rd64(p + VE_H_HEAD), tail = rd64(p + VE_H_TAIL);
    if ((head != VE_NONE && head >= VE_KEY_LIMIT) || (tail != VE_NONE && tail >= VE_KEY_LIMIT))
        return false;
    if ((head == VE_NONE) != (tail == VE_NONE))
        return false;
    for (size_t i = 93; i < VE_H_END; i++)
        if (p[i] != 0)
            return false;
    return true;
}
