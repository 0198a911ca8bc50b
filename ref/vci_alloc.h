/*
 * ref/vci_alloc.h - the block map: bitmap paging, allocation and the
 * counters of the block-map header (spec/vci-format.md sections 4 and 8).
 *
 * The bitmap is never loaded whole: it is read and written in pages of 4096
 * bytes (32768 blocks each) through a fixed-size page cache.  The counters
 * (free / metadata / data) live here and are written with the pages.
 *
 * Allocation takes runs of free blocks: a request wants `want` blocks and
 * accepts `min` or more, optionally at a preferred alignment.  It looks
 * first around recently freed ranges, then
 * scans from a cursor (next fit), a 64-bit word at a time, wrapping once,
 * and after 2^20 scanned blocks settles for the largest run seen.  A scan
 * that found nothing for some `min` is not repeated for that `min` or larger
 * until frees happen that the recent-free list could not record.
 *
 * Status codes: VINF_SUCCESS; VERR_DISK_FULL (no run of `min` blocks);
 * VERR_VD_IMAGE_CORRUPTED (freeing a block that is not allocated, marking
 * one that is, or a range outside the image); VERR_NO_MEMORY; any I/O
 * status of vci_io.
 */
#ifndef VDCC_REF_VCI_ALLOC_H
#define VDCC_REF_VCI_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

#include "vci_format.h"
#include "vci_io.h"

typedef struct vci_alloc vci_alloc;

typedef enum vci_kind {
    VCI_KIND_META,
    VCI_KIND_DATA
} vci_kind;

#define VCI_BM_PAGE_SIZE   4096u
#define VCI_BM_PAGE_BLOCKS (VCI_BM_PAGE_SIZE * 8u)

/* Creates the allocator for the image `h` with counters `b`, caching at most
 * npages bitmap pages (>= 2).  VINF_SUCCESS or VERR_NO_MEMORY. */
int  vci_alloc_new(vci_io *io, const vci_header *h, const vci_bmhdr *b, unsigned npages,
                   vci_alloc **out);
/* Frees memory; writes nothing (dirty pages are lost). NULL is ignored. */
void vci_alloc_destroy(vci_alloc *a);

/* Allocates a run of min..want blocks (1 <= min <= want); *addr and *got
 * receive it.  The blocks are marked and counted as `kind`. */
int  vci_alloc_run(vci_alloc *a, uint64_t want, uint64_t min, vci_kind kind,
                   uint64_t *addr, uint64_t *got);
/* The same, preferring a run of `want` blocks whose start is congruent to
 * `phase` modulo `align` (a power of two; 1 = no preference): such a run
 * around a recent free is taken first, and the scan takes one found within
 * 4096 blocks after a misaligned run of `want`.  An aligned start may skip
 * at most free/1024 free blocks (a tiny or nearly full cache stays packed).
 * Otherwise the choice is vci_alloc_run's.  VERR_INVALID_PARAMETER when
 * align is not a power of 2. */
int  vci_alloc_run_aligned(vci_alloc *a, uint64_t want, uint64_t min, vci_kind kind, uint64_t align,
                           uint64_t phase, uint64_t *addr, uint64_t *got);
/* Frees [addr, addr+n) counted as `kind`; every block must be allocated. */
int  vci_alloc_release(vci_alloc *a, uint64_t addr, uint64_t n, vci_kind kind);
/* Marks [addr, addr+n) allocated as `kind`; every block must be free. */
int  vci_alloc_mark(vci_alloc *a, uint64_t addr, uint64_t n, vci_kind kind);

/* Writes every dirty page and, if changed, the block-map header. */
int  vci_alloc_flush(vci_alloc *a);
/* True when pages or counters wait to be written. */
bool vci_alloc_dirty(const vci_alloc *a);
/* The current counters. */
const vci_bmhdr *vci_alloc_counts(const vci_alloc *a);
/* The value of one bit (for tests and checks); VINF_SUCCESS or I/O status. */
int  vci_alloc_test(vci_alloc *a, uint64_t blk, bool *set);

/*
 * Rewrites the whole bitmap so that exactly the `n` ranges given (pairs of
 * address and length, disjoint, inside the image) are allocated, all counted
 * as metadata, and marks the block-map header dirty.  Reads every bitmap
 * page and writes those that differ.  Used to reinitialise an unclean image.
 */
int  vci_alloc_reset(vci_alloc *a, const uint64_t (*ranges)[2], unsigned n);

#endif /* VDCC_REF_VCI_ALLOC_H */
