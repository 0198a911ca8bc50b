/*
 * harness/record/record_image.c - an image into a sidecar.  Contract:
 * record_image.h; the sidecar is harness/trace/sidecar.h, the VCI layout
 * spec/vci-format.md sections 2 to 5 (header, block map, tree nodes).
 * Statuses: VINF_SUCCESS, VERR_FILE_NOT_FOUND, VERR_FILE_IO_ERROR,
 * VERR_WRITE_ERROR, VERR_NO_MEMORY.
 *
 * Every field read from the image is checked before it is used: the walk
 * never reads outside the file's cBlocks, visits at most as many nodes as
 * the block map's metadata count allows (and MAX_NODES), descends at most
 * MAX_DEPTH levels, and gives up (keeping the file whole) on the first
 * field out of bounds.
 */
#include "record_image.h"

#include <stdlib.h>
#include <string.h>

#include "harness/trace/sidecar.h"

#define BLK        512u
#define NODE_BLKS  8u
#define SEG_BLKS   2048u              /* 1 MiB: the unit of reading and of runs */
#define MAX_NODES  (1u << 20)
#define MAX_DEPTH  32u
#define LEAF_MAX   107u
#define INNER_MAX  204u

enum { C_SKIP = 0, C_BYTES, C_GEN };

typedef struct vci_map {
    uint64_t  cblocks, bm, m;   /* block map at [bm, bm+m) */
    uint64_t *nodes;            /* first blocks of the tree's nodes, sorted */
    size_t    nnodes;
} vci_map;

typedef struct src {
    PVDINTERFACEIOINT io;
    PVDIOSTORAGE      st;
    uint64_t          size;
} src;

static uint64_t le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = n; i-- > 0;)
        v = (v << 8) | p[i];
    return v;
}

static int rd(const src *s, uint64_t off, void *buf, size_t cb)
{
    if (off > s->size || cb > s->size - off)
        return VERR_EOF;
    return s->io->pfnReadMeta(s->io->Core.pvUser, s->st, off, buf, cb, NULL, NULL, NULL, NULL);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Walks the tree from the root; false (why set) when anything is off. */
typedef struct pending_node {
    uint64_t addr;
    unsigned depth;
} pending_node;

static bool walk_nodes(const src *s, vci_map *v, pending_node *stack, uint64_t limit, uint8_t *node, char *why,
                       size_t cb)
{
    unsigned sp = 1;
    size_t cap = 0;
    while (sp > 0) {
        uint64_t a = stack[--sp].addr;
        unsigned depth = stack[sp].depth;
        if (a < 2 || a > v->cblocks - NODE_BLKS || (a < v->bm + v->m && a + NODE_BLKS > v->bm)) {
            snprintf(why, cb, "a tree node address (%llu) is out of bounds", (unsigned long long)a);
            return false;
        }
        if (v->nnodes >= limit) {
            snprintf(why, cb, "the tree has more nodes than the block map counts (%llu)", (unsigned long long)limit);
            return false;
        }
        if (v->nnodes == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            uint64_t *p = realloc(v->nodes, ncap * sizeof *p);
            if (p == NULL) {
                snprintf(why, cb, "out of memory walking the tree");
                return false;
            }
            v->nodes = p;
            cap = ncap;
        }
        v->nodes[v->nnodes++] = a;
        if (rd(s, a * BLK, node, NODE_BLKS * BLK) < 0) {
            snprintf(why, cb, "tree node %llu cannot be read", (unsigned long long)a);
            return false;
        }
        if (node[0] == 2)
            continue; /* a leaf: its extents are data, found through the bitmap */
        if (node[0] != 1 || depth + 1 >= MAX_DEPTH) {
            snprintf(why, cb, "tree node %llu has type %u or is too deep", (unsigned long long)a, node[0]);
            return false;
        }
        for (unsigned i = 0; i < INNER_MAX && sp < MAX_DEPTH * INNER_MAX; i++) {
            const uint8_t *e = node + 1 + 20 * i;
            uint64_t child = le(e + 12, 8);
            if (le(e + 8, 4) == 0 || child == 0)
                break;
            stack[sp].addr = child;
            stack[sp++].depth = depth + 1;
        }
    }
    return true;
}

/* Walks the tree from the root; false (why set) when anything is off.
 * Depth-first: at most MAX_DEPTH levels of INNER_MAX pending children. */
static bool walk(const src *s, vci_map *v, uint64_t root, uint64_t limit, uint8_t *node, char *why, size_t cb)
{
    pending_node *stack = malloc(MAX_DEPTH * INNER_MAX * sizeof *stack);
    if (stack == NULL) {
        snprintf(why, cb, "out of memory walking the tree");
        return false;
    }
    stack[0] = (pending_node){ root, 0 };
    bool ok = walk_nodes(s, v, stack, limit, node, why, cb);
    free(stack);
    if (!ok)
        return false;
    qsort(v->nodes, v->nnodes, sizeof *v->nodes, cmp_u64);
    for (size_t i = 1; i < v->nnodes; i++)
        if (v->nodes[i] < v->nodes[i - 1] + NODE_BLKS) {
            snprintf(why, cb, "two tree nodes overlap at block %llu", (unsigned long long)v->nodes[i]);
            return false;
        }
    return true;
}

/* Recognises a VCI image and maps its metadata; false (why set, or empty
 * when the file is simply not VCI) otherwise. */
static bool vci_recognise(const src *s, vci_map *v, uint8_t *buf, char *why, size_t cb)
{
    why[0] = '\0';
    if (s->size < 2 * BLK || rd(s, 0, buf, 2 * BLK) < 0 || memcmp(buf, "VCI\0", 4) != 0 || le(buf + 4, 4) != 1)
        return false;
    v->cblocks = le(buf + 8, 8);
    uint64_t root = le(buf + 21, 8);
    v->bm = le(buf + 29, 8);
    v->m = le(buf + 37, 4);
    if (v->cblocks < 20 || v->cblocks > (UINT64_C(1) << 32) || v->m != 1 + (v->cblocks + 4095) / 4096
        || v->bm < 2 || v->bm > v->cblocks - v->m || root < 2 || root > v->cblocks - NODE_BLKS) {
        snprintf(why, cb, "its header's sizes and addresses do not hold together");
        return false;
    }
    if (rd(s, v->bm * BLK, buf, BLK) < 0 || memcmp(buf, "VBLK", 4) != 0 || le(buf + 8, 8) != v->cblocks) {
        snprintf(why, cb, "its block map header is not valid");
        return false;
    }
    uint64_t meta = le(buf + 24, 8);
    uint64_t limit = meta > 2 + v->m ? (meta - 2 - v->m) / NODE_BLKS : 0;
    return walk(s, v, root, limit < MAX_NODES ? limit : MAX_NODES, buf, why, cb);
}

static bool is_node(const vci_map *v, uint64_t b)
{
    size_t lo = 0, hi = v->nnodes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->nodes[mid] + NODE_BLKS <= b)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < v->nnodes && v->nodes[lo] <= b;
}

static bool zero_block(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return false;
    return true;
}

typedef struct emitter {
    FILE    *out;
    uint64_t nruns, seed;
    int      rc;
    vdc_image_copy *res;
} emitter;

static void emit_run(emitter *e, unsigned cls, uint64_t off, uint64_t len, const uint8_t *bytes)
{
    if (cls == C_SKIP || e->rc < 0)
        return;
    vdc_sidecar_run run = { off, len, cls == C_BYTES ? VDC_SIDECAR_BYTES : VDC_SIDECAR_PATTERN,
                            cls == C_GEN ? e->seed : 0 };
    e->rc = vdc_sidecar_put_run(e->out, &run);
    if (e->rc >= 0 && cls == C_BYTES && fwrite(bytes, 1, (size_t)len, e->out) != len)
        e->rc = VERR_WRITE_ERROR;
    e->nruns++;
    if (cls == C_BYTES)
        e->res->stored += len;
    else
        e->res->generated += len;
}

/* One 1 MiB segment starting at block b0: classes per block, then runs. */
static int segment(emitter *e, const src *s, const vci_map *v, vdc_record_images mode, uint64_t b0, uint8_t *buf,
                   uint8_t *cls)
{
    uint64_t off0 = b0 * BLK;
    size_t n = s->size - off0 < (uint64_t)SEG_BLKS * BLK ? (size_t)(s->size - off0) : (size_t)SEG_BLKS * BLK;
    unsigned nb = (unsigned)((n + BLK - 1) / BLK);
    uint8_t bits[SEG_BLKS / 8];
    bool have_bits = false;
    if (v != NULL && b0 < v->cblocks) {
        /* the bitmap bytes describing these blocks (all of them below cBlocks lie in the map) */
        uint64_t first = (v->bm + 1) * BLK + b0 / 8;
        uint64_t want = (nb + 7) / 8;
        have_bits = rd(s, first, bits, (size_t)want) >= 0; /* unreadable: keep the blocks */
    }
    /* Classes from the map alone; only blocks that may be kept byte for
     * byte are read (a big cache's free and generated space costs nothing). */
    unsigned first = nb, last = 0;
    for (unsigned i = 0; i < nb; i++) {
        uint64_t b = b0 + i;
        bool meta = v == NULL || b >= v->cblocks || b < 2 || (b >= v->bm && b < v->bm + v->m) || is_node(v, b);
        bool alloc = !have_bits || b >= v->cblocks || ((bits[i / 8] >> (i % 8)) & 1);
        if (!alloc && !meta)
            cls[i] = C_SKIP;
        else if (!meta && mode == VDC_RECORD_IMAGES_META)
            cls[i] = C_GEN;
        else
            cls[i] = C_BYTES;
        if (cls[i] == C_BYTES) {
            first = first < i ? first : i;
            last = i;
        }
    }
    if (first < nb) {
        uint64_t from = (uint64_t)first * BLK, to = (uint64_t)(last + 1) * BLK < n ? (uint64_t)(last + 1) * BLK : n;
        if (rd(s, off0 + from, buf + from, (size_t)(to - from)) < 0)
            return VERR_FILE_IO_ERROR;
        for (unsigned i = first; i <= last; i++) {
            size_t len = i + 1 < nb ? BLK : n - (size_t)i * BLK;
            if (cls[i] == C_BYTES && zero_block(buf + (size_t)i * BLK, len))
                cls[i] = C_SKIP;
        }
    }
    for (unsigned i = 0; i < nb;) {
        unsigned j = i;
        while (j < nb && cls[j] == cls[i])
            j++;
        uint64_t end = (uint64_t)j * BLK < n ? (uint64_t)j * BLK : n;
        emit_run(e, cls[i], off0 + (uint64_t)i * BLK, end - (uint64_t)i * BLK, buf + (size_t)i * BLK);
        i = j;
    }
    return e->rc;
}

int vdc_record_image_copy(PVDINTERFACEIOINT io, const char *path, vdc_record_images mode, uint64_t seed, FILE *out,
                          vdc_image_copy *res)
{
    memset(res, 0, sizeof *res);
    if (io == NULL || io->pfnOpen == NULL || io->pfnClose == NULL || io->pfnGetSize == NULL
        || io->pfnReadMeta == NULL) {
        snprintf(res->why, sizeof res->why, "the host gave no I/O interface to read it with");
        return VERR_FILE_NOT_FOUND;
    }
    src s = { io, NULL, 0 };
    if (io->pfnOpen(io->Core.pvUser, path, RTFILE_O_READ | RTFILE_O_DENY_NONE | RTFILE_O_OPEN, &s.st) < 0) {
        snprintf(res->why, sizeof res->why, "it cannot be opened");
        return VERR_FILE_NOT_FOUND;
    }
    int rc = VINF_SUCCESS;
    vci_map v = { 0 };
    uint8_t *buf = malloc((size_t)SEG_BLKS * BLK), *cls = malloc(SEG_BLKS);
    if (buf == NULL || cls == NULL) {
        rc = VERR_NO_MEMORY;
        goto out_free;
    }
    if (io->pfnGetSize(io->Core.pvUser, s.st, &s.size) < 0 || s.size > VDC_TRACE_MAX_SIZE) {
        snprintf(res->why, sizeof res->why, "its size cannot be read");
        rc = VERR_FILE_IO_ERROR;
        goto out_free;
    }
    res->size = s.size;
    res->vci = vci_recognise(&s, &v, buf, res->why, sizeof res->why);
    emitter e = { out, 0, seed, VINF_SUCCESS, res };
    if (vdc_sidecar_put_header(out, s.size, 0) < 0) {
        rc = VERR_WRITE_ERROR;
        goto out_free;
    }
    for (uint64_t b0 = 0; rc >= 0 && b0 * BLK < s.size; b0 += SEG_BLKS)
        rc = segment(&e, &s, res->vci ? &v : NULL, mode, b0, buf, cls);
    if (rc >= 0 && (fseek(out, 0, SEEK_SET) != 0 || vdc_sidecar_put_header(out, s.size, e.nruns) < 0
                    || fflush(out) != 0))
        rc = VERR_WRITE_ERROR;
    if (rc == VERR_FILE_IO_ERROR)
        snprintf(res->why, sizeof res->why, "a read of it failed");
out_free:
    free(v.nodes);
    free(buf);
    free(cls);
    io->pfnClose(io->Core.pvUser, s.st);
    return rc;
}
