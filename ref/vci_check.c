/*
 * ref/vci_check.c - deep check and description of a VCI image
 * (spec/vci-format.md sections 3-7).  Contract and status codes:
 * vci_check.h.
 *
 * Plan: decode header and block-map header; walk the tree depth-first
 * (recursion bounded by the depth limit, node visits bounded by what fits
 * in the image), validating each node against its parent entry and
 * collecting every used block range (header, block map, nodes, extent data)
 * and every extent; sort the ranges and find overlaps; stream the bitmap
 * page by page against the sorted ranges; compare counters; follow the LRU
 * list through a key-sorted extent array with a visited mark per extent.
 */
#include "vci_check.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "vci_format.h"
#include "vci_io.h"

enum { R_HEADER, R_BLOCKMAP, R_NODE, R_DATA };

typedef struct crange {
    uint64_t addr, len;
    uint64_t what;   /* node address, or extent key */
    int      kind;
} crange;

typedef struct ck {
    vci_io      io;
    vci_header  h;
    vci_layout  lay;
    char       *msg;
    size_t      cb_msg;
    crange     *r;
    size_t      nr, capr;
    vci_extent *x;
    size_t      nx, capx;
    unsigned    height;
    uint64_t    visits, leaves;
    uint8_t     buf[VCI_NODE_SIZE];
} ck;

__attribute__((format(printf, 3, 4)))
static int bad(ck *c, int rc, const char *fmt, ...)
{
    if (c->msg != NULL && c->cb_msg > 0) {
        va_list va;
        va_start(va, fmt);
        vsnprintf(c->msg, c->cb_msg, fmt, va);
        va_end(va);
    }
    return rc;
}

static int add_range(ck *c, uint64_t addr, uint64_t len, int kind, uint64_t what)
{
    if (c->nr == c->capr) {
        size_t cap = c->capr ? 2 * c->capr : 256;
        crange *n = realloc(c->r, cap * sizeof(*n));
        if (n == NULL)
            return VERR_NO_MEMORY;
        c->r = n;
        c->capr = cap;
    }
    c->r[c->nr++] = (crange){ .addr = addr, .len = len, .what = what, .kind = kind };
    return VINF_SUCCESS;
}

static int add_extent(ck *c, const vci_extent *e)
{
    if (c->nx == c->capx) {
        size_t cap = c->capx ? 2 * c->capx : 256;
        vci_extent *n = realloc(c->x, cap * sizeof(*n));
        if (n == NULL)
            return VERR_NO_MEMORY;
        c->x = n;
        c->capx = cap;
    }
    c->x[c->nx++] = *e;
    return VINF_SUCCESS;
}

/* ---- the tree --------------------------------------------------------------- */

static int walk(ck *c, uint64_t addr, const vci_ientry *e, uint64_t hi, unsigned depth)
{
    char why[160];
    if (++c->visits > c->h.cblocks / VCI_NODE_BLOCKS + 1)
        return bad(c, VCI_CORRUPT(&c->io.corrupt, "tree has more nodes than fit (a shared node)"),
                   "tree: more nodes than the image can hold (a node is shared)");
    int rc = vci_io_read_meta(&c->io, addr * VCI_BLOCK_SIZE, c->buf, VCI_NODE_SIZE);
    if (rc == VERR_VD_IMAGE_CORRUPTED)
        return bad(c, rc, "node at block %llu lies past the end of the file", (unsigned long long)addr);
    if (RT_FAILURE(rc))
        return bad(c, rc, "cannot read the node at block %llu (%d)", (unsigned long long)addr, rc);
    vci_node *n = malloc(sizeof(*n));
    if (n == NULL)
        return VERR_NO_MEMORY;
    rc = vci_node_decode(c->buf, &c->lay, n, &c->io.corrupt, why, sizeof(why));
    if (RT_FAILURE(rc)) {
        rc = bad(c, rc, "node at block %llu: %s", (unsigned long long)addr, why);
        goto out_free;
    }
    if (e != NULL) {
        rc = vci_node_check_child(n, e, hi, &c->io.corrupt, why, sizeof(why));
        if (RT_FAILURE(rc)) {
            rc = bad(c, rc, "node at block %llu (depth %u): %s", (unsigned long long)addr, depth, why);
            goto out_free;
        }
    }
    if (n->type == VCI_NODE_LEAF) {
        c->leaves++;
        if (c->height == 0)
            c->height = depth;
        if (c->height != depth) {
            rc = bad(c, VCI_CORRUPT(&c->io.corrupt, "leaves at two depths"),
                     "leaf at block %llu is at depth %u, other leaves at %u",
                     (unsigned long long)addr, depth, c->height);
            goto out_free;
        }
    } else if (depth >= VCI_MAX_DEPTH || (c->height != 0 && depth >= c->height)) {
        rc = bad(c, VCI_CORRUPT(&c->io.corrupt, "internal node at or below the leaf depth"),
                 "internal node at block %llu is at depth %u (limit %u, leaves at %u)",
                 (unsigned long long)addr, depth, VCI_MAX_DEPTH, c->height);
        goto out_free;
    }
    rc = add_range(c, addr, VCI_NODE_BLOCKS, R_NODE, addr);
    if (RT_FAILURE(rc))
        goto out_free;
    if (n->type == VCI_NODE_LEAF) {
        for (unsigned i = 0; i < n->n && RT_SUCCESS(rc); i++) {
            const vci_extent xv = vci_leaf_get(n, i), *x = &xv;
            if (c->nx > 0 && c->x[c->nx - 1].key + c->x[c->nx - 1].count > x->key) {
                rc = bad(c, VCI_CORRUPT(&c->io.corrupt, "extents out of order across leaves"),
                         "extent with key %llu overlaps or precedes the one before",
                         (unsigned long long)x->key);
                break;
            }
            rc = add_extent(c, x);
            if (RT_SUCCESS(rc))
                rc = add_range(c, x->addr, x->count, R_DATA, x->key);
        }
        goto out_free;
    }
    for (unsigned i = 0; i < n->n && RT_SUCCESS(rc); i++) {
        vci_ientry ce = vci_int_get(n, i);
        uint64_t chi = i + 1 < n->n ? n->u.i.key[i + 1] : hi;
        rc = walk(c, ce.child, &ce, chi, depth + 1);
    }
out_free:
    free(n);
    return rc;
}

/* ---- ranges and bitmap ------------------------------------------------------- */

static int cmp_range(const void *a, const void *b)
{
    const crange *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static const char *kind_name(int kind)
{
    switch (kind) {
    case R_HEADER:   return "the header";
    case R_BLOCKMAP: return "the block map";
    case R_NODE:     return "node";
    default:         return "extent";
    }
}

static int check_overlaps(ck *c)
{
    qsort(c->r, c->nr, sizeof(*c->r), cmp_range);
    for (size_t i = 1; i < c->nr; i++) {
        const crange *p = &c->r[i - 1], *q = &c->r[i];
        if (p->addr + p->len > q->addr)
            return bad(c, VCI_CORRUPT(&c->io.corrupt, "block used twice"),
                       "block %llu is used twice: by %s %llu and by %s %llu",
                       (unsigned long long)q->addr, kind_name(p->kind), (unsigned long long)p->what,
                       kind_name(q->kind), (unsigned long long)q->what);
    }
    return VINF_SUCCESS;
}

/* Streams the bitmap and compares each bit with "some range covers it". */
static int check_bitmap(ck *c)
{
    const uint64_t chunk = 64 * 1024;
    uint64_t bytes = ((uint64_t)c->h.bm_blocks - 1) * VCI_BLOCK_SIZE;
    uint64_t base = (c->h.bm_addr + 1) * VCI_BLOCK_SIZE;
    uint8_t *buf = malloc(chunk);
    if (buf == NULL)
        return VERR_NO_MEMORY;
    size_t ri = 0;
    int rc = VINF_SUCCESS;
    for (uint64_t off = 0; off < bytes && RT_SUCCESS(rc); off += chunk) {
        size_t len = bytes - off < chunk ? (size_t)(bytes - off) : (size_t)chunk;
        rc = vci_io_read_meta(&c->io, base + off, buf, len);
        if (RT_FAILURE(rc)) {
            rc = bad(c, rc, "cannot read the bitmap at byte %llu", (unsigned long long)(base + off));
            break;
        }
        uint64_t b = off * 8, end = b + (uint64_t)len * 8;
        while (b < end) {
            /* The state every block of [b, stop) must have. */
            while (ri < c->nr && c->r[ri].addr + c->r[ri].len <= b)
                ri++;
            bool used;
            uint64_t stop;
            if (b >= c->h.cblocks) {
                used = false;
                stop = end;
            } else if (ri < c->nr && c->r[ri].addr <= b) {
                used = true;
                stop = c->r[ri].addr + c->r[ri].len;
            } else {
                used = false;
                stop = ri < c->nr ? c->r[ri].addr : c->h.cblocks;
            }
            if (stop > end)
                stop = end;
            while (b < stop) {
                uint64_t i = b - off * 8;
                if (i % 8 == 0 && b + 8 <= stop) {
                    if (buf[i / 8] != (used ? 0xFF : 0x00))
                        break;
                    b += 8;
                    continue;
                }
                if (((buf[i / 8] >> (i % 8)) & 1) != used)
                    break;
                b++;
            }
            if (b < stop) {
                /* Find the exact block for the message. */
                uint64_t i = b - off * 8;
                while (((buf[i / 8] >> (i % 8)) & 1) == used)
                    i++, b++;
                if (b >= c->h.cblocks)
                    rc = bad(c, VCI_CORRUPT(&c->io.corrupt, "bitmap padding bit set"),
                             "bitmap padding bit for block %llu (past the end) is set",
                             (unsigned long long)b);
                else if (used)
                    rc = bad(c, VCI_CORRUPT(&c->io.corrupt, "used block marked free"),
                             "block %llu is used by %s %llu but marked free",
                             (unsigned long long)b, kind_name(c->r[ri].kind), (unsigned long long)c->r[ri].what);
                else
                    rc = bad(c, VCI_CORRUPT(&c->io.corrupt, "allocated block without a user"),
                             "block %llu is marked allocated but nothing uses it",
                             (unsigned long long)b);
                break;
            }
        }
    }
    free(buf);
    return rc;
}

/* ---- LRU list ------------------------------------------------------------------ */

static size_t find_key(const ck *c, uint64_t key)
{
    size_t lo = 0, hi = c->nx;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->x[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->nx && c->x[lo].key == key ? lo : SIZE_MAX;
}

static int check_lru(ck *c)
{
    if (c->nx == 0) {
        if (c->h.lru_head != VCI_LRU_NONE)
            return bad(c, VCI_CORRUPT(&c->io.corrupt, "LRU head in an empty tree"), "LRU: head %llu in an empty tree",
                       (unsigned long long)c->h.lru_head);
        return VINF_SUCCESS;
    }
    uint8_t *seen = calloc(c->nx, 1);
    if (seen == NULL)
        return VERR_NO_MEMORY;
    int rc = VINF_SUCCESS;
    uint64_t key = c->h.lru_head, prev = VCI_LRU_NONE;
    size_t steps = 0;
    while (key != VCI_LRU_NONE) {
        size_t i = find_key(c, key);
        if (i == SIZE_MAX) {
            rc = bad(c, VCI_CORRUPT(&c->io.corrupt, "LRU link to no extent"),
                     "LRU: %s names key %llu, which is no extent",
                     prev == VCI_LRU_NONE ? "the head" : "a next link", (unsigned long long)key);
            break;
        }
        if (seen[i]) {
            rc = bad(c, VCI_CORRUPT(&c->io.corrupt, "LRU list loops"),
                     "LRU: the list loops at key %llu", (unsigned long long)key);
            break;
        }
        seen[i] = 1;
        steps++;
        if (c->x[i].prev != prev) {
            rc = bad(c, VCI_CORRUPT(&c->io.corrupt, "LRU prev link wrong"),
                     "LRU: extent %llu has prev %llu, expected %llu",
                     (unsigned long long)key, (unsigned long long)c->x[i].prev, (unsigned long long)prev);
            break;
        }
        prev = key;
        key = c->x[i].next;
    }
    if (RT_SUCCESS(rc) && prev != c->h.lru_tail)
        rc = bad(c, VCI_CORRUPT(&c->io.corrupt, "LRU list does not end at the tail"),
                 "LRU: the list ends at %llu, the tail is %llu",
                 (unsigned long long)prev, (unsigned long long)c->h.lru_tail);
    if (RT_SUCCESS(rc) && steps != c->nx)
        rc = bad(c, VCI_CORRUPT(&c->io.corrupt, "LRU list misses extents"),
                 "LRU: the list holds %zu of %zu extents", steps, c->nx);
    free(seen);
    return rc;
}

/* ---- the whole check ---------------------------------------------------------------- */

static int run_check(ck *c, vci_check_stats *st)
{
    char why[160];
    uint8_t hb[VCI_HDR_SIZE];
    if (c->io.file_size < VCI_HDR_SIZE)
        return bad(c, VERR_VD_GEN_INVALID_HEADER, "the file is shorter than a VCI header");
    int rc = vci_io_read_meta(&c->io, 0, hb, sizeof(hb));
    if (RT_FAILURE(rc))
        return bad(c, rc, "cannot read the header (%d)", rc);
    rc = vci_header_decode(hb, &c->h, why, sizeof(why));
    if (RT_FAILURE(rc))
        return bad(c, rc, "%s", why);
    c->lay = vci_header_layout(&c->h);
    st->cblocks = c->h.cblocks;
    st->type = c->h.type;
    st->lru = c->h.lru;
    st->unclean = c->h.unclean != 0;
    uint64_t need = (c->h.bm_addr + c->h.bm_blocks) * VCI_BLOCK_SIZE;
    if ((c->h.root + VCI_NODE_BLOCKS) * VCI_BLOCK_SIZE > need)
        need = (c->h.root + VCI_NODE_BLOCKS) * VCI_BLOCK_SIZE;
    if (c->io.file_size < need)
        return bad(c, VCI_CORRUPT(&c->io.corrupt, "file shorter than its metadata"),
                   "the file has %llu bytes, its metadata needs %llu",
                   (unsigned long long)c->io.file_size, (unsigned long long)need);
    if (c->io.file_size > c->h.cblocks * VCI_BLOCK_SIZE)
        return bad(c, VCI_CORRUPT(&c->io.corrupt, "file longer than the image"),
                   "the file has %llu bytes, more than its maximum %llu",
                   (unsigned long long)c->io.file_size, (unsigned long long)(c->h.cblocks * VCI_BLOCK_SIZE));
    if (c->h.unclean)
        return bad(c, VINF_SUCCESS, "unclean: the next open forgets the contents");

    uint8_t bb[VCI_BMHDR_SIZE];
    vci_bmhdr bm;
    rc = vci_io_read_meta(&c->io, c->h.bm_addr * VCI_BLOCK_SIZE, bb, sizeof(bb));
    if (RT_FAILURE(rc))
        return bad(c, rc, "cannot read the block map header (%d)", rc);
    rc = vci_bmhdr_decode(bb, &c->h, &bm, &c->io.corrupt, why, sizeof(why));
    if (RT_FAILURE(rc))
        return bad(c, rc, "%s", why);

    rc = add_range(c, 0, VCI_HDR_BLOCKS, R_HEADER, 0);
    if (RT_SUCCESS(rc))
        rc = add_range(c, c->h.bm_addr, c->h.bm_blocks, R_BLOCKMAP, c->h.bm_addr);
    if (RT_SUCCESS(rc))
        rc = walk(c, c->h.root, NULL, VCI_VBLOCK_LIMIT, 1);
    if (RT_FAILURE(rc))
        return rc;
    uint64_t nodes = 0, data = 0;
    for (size_t i = 0; i < c->nr; i++) {
        if (c->r[i].kind == R_NODE)
            nodes++;
        else if (c->r[i].kind == R_DATA)
            data += c->r[i].len;
    }
    st->depth = c->height;
    st->nodes = nodes;
    st->extents = c->nx;
    st->leaves = c->leaves;
    st->data_blocks = data;
    st->meta_blocks = VCI_HDR_BLOCKS + c->h.bm_blocks + nodes * VCI_NODE_BLOCKS;
    st->free_blocks = c->h.cblocks - st->meta_blocks - data;

    rc = check_overlaps(c);
    if (RT_SUCCESS(rc))
        rc = check_bitmap(c);
    if (RT_FAILURE(rc))
        return rc;
    if (bm.meta != st->meta_blocks || bm.data != data)
        return bad(c, VCI_CORRUPT(&c->io.corrupt, "block map counters differ from the tree"),
                   "block map counts %llu metadata / %llu data blocks, the tree uses %llu / %llu",
                   (unsigned long long)bm.meta, (unsigned long long)bm.data,
                   (unsigned long long)st->meta_blocks, (unsigned long long)data);
    if (c->h.lru) {
        rc = check_lru(c);
        if (RT_FAILURE(rc))
            return rc;
    }
    return bad(c, VINF_SUCCESS, "ok: %llu extents in %llu nodes, depth %u", (unsigned long long)c->nx,
               (unsigned long long)nodes, c->height);
}

int vci_check(const char *path, PVDINTERFACE ifs_image, char *msg, size_t cb_msg, vci_check_stats *stats)
{
    vci_check_stats dummy;
    if (stats == NULL)
        stats = &dummy;
    memset(stats, 0, sizeof(*stats));
    if (msg != NULL && cb_msg > 0)
        msg[0] = '\0';
    PVDINTERFACEIOINT ioint = vdc_if_ioint(ifs_image);
    if (ioint == NULL || path == NULL || *path == '\0')
        return VERR_INVALID_PARAMETER;
    ck *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return VERR_NO_MEMORY;
    c->msg = msg;
    c->cb_msg = cb_msg;
    c->io.ioint = ioint;
    int rc = ioint->pfnOpen(ioint->Core.pvUser, path, vdc_open_flags_to_file(VD_OPEN_FLAGS_READONLY, false),
                            &c->io.stor);
    if (RT_FAILURE(rc)) {
        bad(c, rc, "cannot open '%s' (%d)", path, rc);
        goto out_free;
    }
    rc = vci_io_refresh_size(&c->io);
    if (RT_FAILURE(rc))
        bad(c, rc, "cannot get the size of '%s' (%d)", path, rc);
    else {
        stats->file_size = c->io.file_size;
        rc = run_check(c, stats);
        stats->corrupt = c->io.corrupt;
    }
    ioint->pfnClose(ioint->Core.pvUser, c->io.stor);
out_free:
    free(c->r);
    free(c->x);
    free(c);
    return rc;
}

/* The 16 bytes in stored order, as every vdcc tool prints a UUID (traces,
 * diff: harness/host/uuid.h fixes that order; ref cannot call it). */
static void uuid_str(const uint8_t u[16], char out[37])
{
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
             u[14], u[15]);
}

int vci_info(const char *path, PVDINTERFACE ifs_image, FILE *out)
{
    char msg[256];
    vci_check_stats st;
    int rc = vci_check(path, ifs_image, msg, sizeof(msg), &st);
    fprintf(out, "VCI image '%s'\n", path != NULL ? path : "(null)");
    if (rc == VERR_VD_GEN_INVALID_HEADER || st.cblocks == 0) {
        fprintf(out, "  not a VCI image: %s\n", msg);
        return rc;
    }
    /* The header again, for the fields the stats do not carry. */
    PVDINTERFACEIOINT ioint = vdc_if_ioint(ifs_image);
    PVDIOSTORAGE stor = NULL;
    vci_header h;
    memset(&h, 0, sizeof(h));
    if (RT_SUCCESS(ioint->pfnOpen(ioint->Core.pvUser, path, vdc_open_flags_to_file(VD_OPEN_FLAGS_READONLY, false),
                                  &stor))) {
        uint8_t hb[VCI_HDR_SIZE];
        if (RT_SUCCESS(ioint->pfnReadMeta(ioint->Core.pvUser, stor, 0, hb, sizeof(hb), NULL, NULL, NULL, NULL)))
            (void)vci_header_decode(hb, &h, NULL, 0);
        ioint->pfnClose(ioint->Core.pvUser, stor);
    }
    char u1[37], u2[37];
    uuid_str(h.uuid, u1);
    uuid_str(h.mod_uuid, u2);
    fprintf(out, "  capacity      %llu blocks (%llu bytes), %s, file %llu bytes\n",
            (unsigned long long)st.cblocks, (unsigned long long)st.cblocks * VCI_BLOCK_SIZE,
            st.type == VCI_TYPE_FIXED ? "fixed" : "dynamic", (unsigned long long)st.file_size);
    fprintf(out, "  state         %s\n", st.unclean ? "unclean (contents are forgotten at the next open)" : "clean");
    fprintf(out, "  uuid          %s\n  modification  %s\n", u1, u2);
    fprintf(out, "  block map     at block %llu, %u blocks\n", (unsigned long long)h.bm_addr, h.bm_blocks);
    fprintf(out, "  root node     at block %llu\n", (unsigned long long)h.root);
    if (h.lru)
        fprintf(out, "  LRU           head %llu, tail %llu\n", (unsigned long long)h.lru_head,
                (unsigned long long)h.lru_tail);
    else
        fprintf(out, "  LRU           none (no LRU1 marker: key-order eviction)\n");
    if (!st.unclean && (rc == VINF_SUCCESS || st.nodes > 0)) {
        fprintf(out, "  tree          depth %u, %llu nodes, %llu extents\n", st.depth,
                (unsigned long long)st.nodes, (unsigned long long)st.extents);
        fprintf(out, "  blocks        %llu data, %llu metadata, %llu free\n", (unsigned long long)st.data_blocks,
                (unsigned long long)st.meta_blocks, (unsigned long long)st.free_blocks);
    }
    fprintf(out, "  check         %s\n", msg);
    vci_corrupt_print(&st.corrupt, "  ", out);
    return rc;
}

void vci_corrupt_print(const vci_corrupt *rec, const char *indent, FILE *out)
{
    if (rec->file != NULL)
        fprintf(out, "%scorrupt: %s:%u %s\n", indent, rec->file, rec->line, rec->what);
}
