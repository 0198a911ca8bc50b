/*
 * harness/reliability/vci_enc.h - a small VCI v1 image encoder of our own,
 * written from spec/vci-format.md alone (sections 3-7), independent of
 * ref/'s code so that images built with it can find ref's mistakes.
 *
 * An image is built in memory: the file bytes grow as structures are put
 * in place.  Helpers lay out a valid image (header at 0, block map at 2,
 * root after it, nodes and data allocated upwards and marked in the
 * bitmap, counters and LRU list computed), and every field can then be
 * overwritten with any value: hostile_cases.c breaks them one at a time.
 * vci_enc_header_ok is the header rule of section 3, used to predict
 * what a reader must answer for mutated headers.
 *
 * All integers are written little-endian byte by byte; nothing is overlaid.
 * No global state.  Out of memory makes the encoder sticky-failed
 * (e->oom); the caller checks it once at the end.
 */
#ifndef VDCC_HARNESS_RELIABILITY_VCI_ENC_H
#define VDCC_HARNESS_RELIABILITY_VCI_ENC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VE_BLOCK        512u
#define VE_NODE_BLOCKS  8u
#define VE_NODE_BYTES   4096u
#define VE_LEAF_MAX     107u
#define VE_INT_MAX      204u
#define VE_EXT_SIZE     38u
#define VE_ENT_SIZE     20u
#define VE_NONE         UINT64_MAX
#define VE_KEY_LIMIT    ((uint64_t)1 << 55)
#define VE_MIN_BLOCKS   20u
#define VE_MAX_BLOCKS   ((uint64_t)1 << 32)

/* Header field offsets (section 3). */
#define VE_H_SIG      0
#define VE_H_VERSION  4
#define VE_H_CBLOCKS  8
#define VE_H_UNCLEAN  16
#define VE_H_TYPE     17
#define VE_H_ROOT     21
#define VE_H_BM       29
#define VE_H_BMSIZE   37
#define VE_H_UUID     41
#define VE_H_MODUUID  57
#define VE_H_LRU      73
#define VE_H_HEAD     77
#define VE_H_TAIL     85
#define VE_H_END      1024

/* Block-map header offsets (section 4), relative to the block map. */
#define VE_B_MAGIC    0
#define VE_B_VERSION  4
#define VE_B_MANAGED  8
#define VE_B_FREE     16
#define VE_B_META     24
#define VE_B_DATA     32

typedef struct ve_extent {
    uint64_t key;
    uint32_t count;
    uint64_t addr;     /* file block of the data; 0: allocate */
    uint64_t prev, next; /* LRU links as written (VE_NONE: none) */
} ve_extent;

typedef struct ve_entry {
    uint64_t key;
    uint32_t count;
    uint64_t child;
} ve_entry;

typedef struct vci_enc {
    uint8_t *buf;
    size_t   size, cap;   /* file bytes */
    uint64_t cblocks;
    uint32_t m;           /* block-map blocks, header included */
    uint64_t bm, root;    /* block addresses */
    uint64_t next_free;   /* allocation cursor (blocks) */
    uint64_t meta, data;  /* counters as the layout computes them */
    bool     oom;
} vci_enc;

/* M = 1 + ceil(cblocks / 4096). */
uint32_t ve_bm_blocks(uint64_t cblocks);

/* A new image: header (clean, type, LRU marker with an empty list, fixed
 * UUIDs), block map at 2 with the metadata marked, an empty root leaf
 * right after it; file size = end of the root.  cblocks >= 20. */
void ve_init(vci_enc *e, uint64_t cblocks, uint32_t type);
/* The same with the block map and the root at given block addresses
 * (non-overlapping, after the header); allocation continues after both. */
void ve_init_at(vci_enc *e, uint64_t cblocks, uint32_t type, uint64_t bm, uint64_t root);
void ve_free(vci_enc *e);

/* Raw access (growing the file as needed; never shrinking). */
void ve_put8(vci_enc *e, uint64_t off, uint8_t v);
void ve_put32(vci_enc *e, uint64_t off, uint32_t v);
void ve_put64(vci_enc *e, uint64_t off, uint64_t v);
void ve_fill(vci_enc *e, uint64_t off, uint8_t v, uint64_t cb);
uint32_t ve_get32(const vci_enc *e, uint64_t off);
uint64_t ve_get64(const vci_enc *e, uint64_t off);
/* Sets the file size (truncating or zero-extending). */
void ve_resize(vci_enc *e, uint64_t size);

/* Bitmap bit of file block b (section 4: bit i of byte j is block 8j+i). */
void ve_mark(vci_enc *e, uint64_t block, bool on);
bool ve_marked(const vci_enc *e, uint64_t block);

/* Takes the first n consecutive unmarked blocks at or after the cursor,
 * marks them and moves the cursor past them; returns the first. */
uint64_t ve_alloc(vci_enc *e, uint64_t n, bool meta);

/* Writes a leaf of n extents at node address `at`; extents with addr 0
 * get data blocks allocated (and filled with a pattern keyed by key).
 * Links are written as given. */
void ve_leaf(vci_enc *e, uint64_t at, ve_extent *x, unsigned n);
/* Writes an internal node of n entries at `at`. */
void ve_internal(vci_enc *e, uint64_t at, const ve_entry *x, unsigned n);
/* Writes the block-map header from e's counters (managed = cblocks). */
void ve_bm_header(vci_enc *e);
/* Sets header head/tail. */
void ve_lru(vci_enc *e, uint64_t head, uint64_t tail);

/* The byte at virtual offset x of what ve_leaf stores for extents. */
uint8_t ve_data_byte(uint64_t x);

/* Section 3's rules on the first 1024 bytes of a file of `size` bytes:
 * true when a reader must accept the header. */
bool ve_header_ok(const uint8_t *p, size_t size);

#endif /* VDCC_HARNESS_RELIABILITY_VCI_ENC_H */
