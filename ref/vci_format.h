/*
 * ref/vci_format.h - VCI v1 on-disk constants, and decode/encode/validate of
 * every on-disk structure (spec/vci-format.md sections 3-6).
 *
 * Bytes are never cast to structs: a bounds-checked little-endian cursor
 * reads and writes each field.  Decoders validate everything that can be
 * checked from the structure itself (plus the image geometry) and explain
 * the first problem in `why` (optional, may be NULL).  A decoder that finds
 * the image corrupt also names the check that fired in `rec` (optional, may
 * be NULL: ref/vci_corrupt.h).  Nothing here does I/O or keeps state.
 *
 * Layout summary (all integers little-endian, "block" = 512 bytes):
 *
 *   header (1024 B at 0)            block map header (512 B)
 *   0  4 signature "VCI\0"          0  4 magic "VBLK"
 *   4  4 version 1                  4  4 version 1
 *   8  8 cBlocks                    8  8 blocks managed (= cBlocks)
 *  16  1 unclean flag              16  8 free
 *  17  4 type 1 dyn / 2 fixed      24  8 metadata
 *  21  8 root node address         32  8 data
 *  29  8 block map address         40 472 reserved, zero
 *  37  4 block map blocks M        bitmap: bit i of byte j = file block 8j+i
 *  41 16 image UUID
 *  57 16 modification UUID         node (4096 B): 0 type (1 internal, 2 leaf)
 *  73  4 "LRU1" (vdcc extension)     leaf: 107 extents of 38 B from offset 1
 *  77  8 LRU head key                internal: 204 entries of 20 B from 1
 *  85  8 LRU tail key
 *  93 ... zero                     extent: 0 prev 8 next 16 flags 17 rsvd
 *                                          18 key 26 count(4) 30 addr
 *                                  entry: 0 key 8 count(4) 12 child
 *
 * The smallest image (20 blocks, fixed, no data), non-zero bytes only
 * (spec/vci-format.md section 14 annotates every field):
 *
 *   00000  56 43 49 00 01 00 00 00 14 00 00 00 00 00 00 00   VCI\0, v1, 20 blocks
 *   00010  00 02 00 00 00 04 00 00 00 00 00 00 00 02 00 00   clean, fixed, root 4, map 2
 *   00020  00 00 00 00 00 02 00 00 00 00 11 22 33 44 55 66   M = 2, image UUID ...
 *   00030  77 88 99 aa bb cc dd ee ff 00 00 00 00 00 00 00   ... modification UUID 0
 *   00040  00 00 00 00 00 00 00 00 00 4c 52 55 31 ff ff ff   "LRU1", head NONE ...
 *   00050  ff ff ff ff ff ff ff ff ff ff ff ff ff 00 00 00   ... tail NONE
 *   00400  56 42 4c 4b 01 00 00 00 14 00 00 00 00 00 00 00   VBLK, v1, 20 managed
 *   00410  08 00 00 00 00 00 00 00 0c 00 00 00 00 00 00 00   8 free, 12 metadata
 *   00600  ff 0f                                             blocks 0-11 allocated
 *   00800  02                                                root: an empty leaf
 */
#ifndef VDCC_REF_VCI_FORMAT_H
#define VDCC_REF_VCI_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vci_corrupt.h"

#define VCI_BLOCK_SIZE      512u
#define VCI_HDR_SIZE        1024u
#define VCI_HDR_BLOCKS      2u
#define VCI_BMHDR_SIZE      512u
#define VCI_NODE_SIZE       4096u
#define VCI_NODE_BLOCKS     8u
#define VCI_BITS_PER_BMBLK  4096u /* blocks described by one bitmap block */

#define VCI_SIGNATURE       0x00494356u
#define VCI_VERSION         1u
#define VCI_BM_MAGIC        0x4b4c4256u
#define VCI_BM_VERSION      1u
#define VCI_TYPE_DYNAMIC    1u
#define VCI_TYPE_FIXED      2u
#define VCI_NODE_INTERNAL   1u
#define VCI_NODE_LEAF       2u

#define VCI_HDR_OFF_UNCLEAN 16u
#define VCI_HDR_OFF_RESERVED 73u
#define VCI_LRU_MARKER      0x3155524cu /* "LRU1" read as a LE u32 */

#define VCI_EXTENT_SIZE     38u
#define VCI_IENTRY_SIZE     20u
#define VCI_LEAF_MAX        107u
#define VCI_INT_MAX         204u
#define VCI_LEAF_LOW        26u  /* merge below a quarter full */
#define VCI_INT_LOW         51u
#define VCI_MAX_DEPTH       8u

#define VCI_MIN_BLOCKS      20u                 /* 10240 bytes */
#define VCI_MAX_BLOCKS      (UINT64_C(1) << 32) /* 2 TiB */
#define VCI_VBLOCK_LIMIT    (UINT64_C(1) << 55) /* virtual blocks are below */
#define VCI_COUNT_MAX       UINT32_C(0xFFFFFFFF)
#define VCI_LRU_NONE        UINT64_MAX

/* The decoded header.  UUIDs are the RTUUID bytes as stored. */
typedef struct vci_header {
    uint64_t cblocks;
    uint8_t  unclean;
    uint32_t type;
    uint64_t root;
    uint64_t bm_addr;
    uint32_t bm_blocks;
    uint8_t  uuid[16];
    uint8_t  mod_uuid[16];
    bool     lru;        /* the "LRU1" extension is present */
    uint64_t lru_head;   /* keys, or VCI_LRU_NONE */
    uint64_t lru_tail;
} vci_header;

typedef struct vci_bmhdr {
    uint64_t managed, free, meta, data;
} vci_bmhdr;

/* One extent.  flags and reserved are always 0 on disk (decode rejects
 * anything else), so they are not kept. */
typedef struct vci_extent {
    uint64_t prev, next;   /* LRU neighbours' keys, or VCI_LRU_NONE */
    uint64_t key;          /* first virtual block */
    uint32_t count;        /* blocks, >= 1 */
    uint64_t addr;         /* first file block */
} vci_extent;

typedef struct vci_ientry {
    uint64_t key;          /* smallest key in the child's subtree */
    uint32_t count;        /* sat32(subtree end - key) */
    uint64_t child;        /* node address */
} vci_ientry;

/*
 * A decoded node, stored column by column: all keys of a node lie together
 * (864 bytes in a leaf), so a search touches a few cache lines and a lookup
 * can fetch them all at once, and a node costs 4108 bytes instead of the
 * ~4.9 KiB of an array of padded structs.  Read and write whole items with
 * the accessors below; search the key columns directly.  The columns have
 * one spare slot so an insert can overflow a node by one before it is
 * split; encode requires n <= the maximum.
 */
typedef struct vci_leaf_cols {
    uint64_t key[VCI_LEAF_MAX + 1];
    uint32_t count[VCI_LEAF_MAX + 1];
    uint64_t addr[VCI_LEAF_MAX + 1];
    uint64_t prev[VCI_LEAF_MAX + 1];
    uint64_t next[VCI_LEAF_MAX + 1];
} vci_leaf_cols;

typedef struct vci_int_cols {
    uint64_t key[VCI_INT_MAX + 1];
    uint32_t count[VCI_INT_MAX + 1];
    uint64_t child[VCI_INT_MAX + 1];
} vci_int_cols;

typedef struct vci_node {
    uint8_t  type;         /* VCI_NODE_LEAF or VCI_NODE_INTERNAL */
    unsigned n;            /* used entries */
    union {
        vci_leaf_cols l;   /* type VCI_NODE_LEAF */
        vci_int_cols  i;   /* type VCI_NODE_INTERNAL */
    } u;
} vci_node;

/* Item i of a leaf / an internal node, as a struct (i <= the maximum). */
static inline vci_extent vci_leaf_get(const vci_node *n, unsigned i)
{
    vci_extent x = { .prev = n->u.l.prev[i], .next = n->u.l.next[i], .key = n->u.l.key[i],
                     .count = n->u.l.count[i], .addr = n->u.l.addr[i] };
    return x;
}

static inline void vci_leaf_set(vci_node *n, unsigned i, const vci_extent *x)
{
    n->u.l.prev[i] = x->prev;
    n->u.l.next[i] = x->next;
    n->u.l.key[i] = x->key;
    n->u.l.count[i] = x->count;
    n->u.l.addr[i] = x->addr;
}

static inline vci_ientry vci_int_get(const vci_node *n, unsigned i)
{
    vci_ientry e = { .key = n->u.i.key[i], .count = n->u.i.count[i], .child = n->u.i.child[i] };
    return e;
}

static inline void vci_int_set(vci_node *n, unsigned i, const vci_ientry *e)
{
    n->u.i.key[i] = e->key;
    n->u.i.count[i] = e->count;
    n->u.i.child[i] = e->child;
}

/* Key of item i of either type. */
static inline uint64_t vci_node_key(const vci_node *n, unsigned i)
{
    return n->type == VCI_NODE_LEAF ? n->u.l.key[i] : n->u.i.key[i];
}

/* Moves items [src, src+cnt) of n to [dst, dst+cnt) (overlap allowed);
 * every column of n's type moves, and indices stay within the columns. */
void vci_node_move(vci_node *n, unsigned dst, unsigned src, unsigned cnt);
/* Copies items [si, si+cnt) of s to [di, di+cnt) of d (same type, distinct
 * nodes). */
void vci_node_copy(vci_node *d, unsigned di, const vci_node *s, unsigned si, unsigned cnt);

/* Where the fixed metadata lies; used to check addresses found in nodes. */
typedef struct vci_layout {
    uint64_t cblocks;
    uint64_t bm_addr;
    uint32_t bm_blocks;
    uint64_t root;
} vci_layout;

/* ---- bounds-checked little-endian cursor ------------------------------ */

/* A cursor over len bytes.  Every get/put past the end sets ok = false and
 * yields 0 / writes nothing; check ok once after a series of calls. */
typedef struct vci_cur {
    const uint8_t *rp;   /* bytes read */
    uint8_t       *wp;   /* bytes written (NULL for a read-only cursor) */
    size_t         len, pos;
    bool           ok;
} vci_cur;

vci_cur  vci_cur_reader(const void *p, size_t len);
vci_cur  vci_cur_writer(void *p, size_t len);
void     vci_cur_seek(vci_cur *c, size_t pos);
uint8_t  vci_get_u8(vci_cur *c);
uint32_t vci_get_u32(vci_cur *c);
uint64_t vci_get_u64(vci_cur *c);
void     vci_get_bytes(vci_cur *c, void *dst, size_t n);
void     vci_put_u8(vci_cur *c, uint8_t v);
void     vci_put_u32(vci_cur *c, uint32_t v);
void     vci_put_u64(vci_cur *c, uint64_t v);
void     vci_put_bytes(vci_cur *c, const void *src, size_t n);
/* True when bytes [from, len) are all zero. */
bool     vci_cur_zero_from(const vci_cur *c, size_t from);

/* ---- geometry ---------------------------------------------------------- */

/* Block map size (header block included) for cblocks: 1 + ceil(cblocks/4096). */
uint32_t vci_bm_blocks_for(uint64_t cblocks);
/* Metadata blocks of a fresh image: header + block map + root node. */
uint64_t vci_base_meta_blocks(uint64_t cblocks);
/* sat32(end - key) for end >= key. */
uint32_t vci_span(uint64_t key, uint64_t end);
/* True when [a, a+na) and [b, b+nb) overlap. */
bool     vci_ranges_overlap(uint64_t a, uint64_t na, uint64_t b, uint64_t nb);

/* ---- header ------------------------------------------------------------ */

void vci_header_encode(const vci_header *h, uint8_t out[VCI_HDR_SIZE]);
/* Decodes and fully validates (spec section 3).  Returns VINF_SUCCESS or
 * VERR_VD_GEN_INVALID_HEADER (why explains). */
int  vci_header_decode(const uint8_t in[VCI_HDR_SIZE], vci_header *h, char *why, size_t cb_why);
/* The layout a header describes. */
vci_layout vci_header_layout(const vci_header *h);

/* ---- block map header ---------------------------------------------------- */

void vci_bmhdr_encode(const vci_bmhdr *b, uint8_t out[VCI_BMHDR_SIZE]);
/* Decodes and validates against the header (spec section 4).  Returns
 * VINF_SUCCESS or VERR_VD_IMAGE_CORRUPTED. */
int  vci_bmhdr_decode(const uint8_t in[VCI_BMHDR_SIZE], const vci_header *h, vci_bmhdr *b,
                      vci_corrupt *rec, char *why, size_t cb_why);

/* ---- nodes --------------------------------------------------------------- */

/* Encodes n (n->n <= maximum for its type; unused slots written as zero). */
void vci_node_encode(const vci_node *n, uint8_t out[VCI_NODE_SIZE]);
/*
 * Decodes a node and checks what the node alone can show (spec section 5 and
 * invariant 1): type, packing and zero tail, field ranges, addresses inside
 * the image and clear of header, block map (and, for extents, the root),
 * order and non-overlap.  An empty leaf decodes fine (only a root may be
 * one: see vci_node_check_child).  Returns VINF_SUCCESS or
 * VERR_VD_IMAGE_CORRUPTED.
 */
int  vci_node_decode(const uint8_t in[VCI_NODE_SIZE], const vci_layout *lay, vci_node *n,
                     vci_corrupt *rec, char *why, size_t cb_why);
/*
 * Checks a decoded node against the parent entry that led to it (spec
 * section 6, invariants 2-3): non-empty, first key equal to e->key, every
 * extent ending at or before hi, and e->count equal to sat32(end - key).
 * Returns VINF_SUCCESS or VERR_VD_IMAGE_CORRUPTED.
 */
int  vci_node_check_child(const vci_node *n, const vci_ientry *e, uint64_t hi,
                          vci_corrupt *rec, char *why, size_t cb_why);

/* First key of a non-empty node. */
uint64_t vci_node_first_key(const vci_node *n);
/* End of a non-empty node's subtree: last extent's key + count, or for an
 * internal node the last entry's key + count (a saturated count makes it a
 * lower bound, which saturates every parent count too: spec section 5). */
uint64_t vci_node_end(const vci_node *n);
/* Capacity of a node of this type. */
unsigned vci_node_max(uint8_t type);

#endif /* VDCC_REF_VCI_FORMAT_H */
