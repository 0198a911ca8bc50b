/*
 * ref/vci_check.h - deep validation and description of a VCI image
 * (spec/vci-format.md sections 3-7).
 *
 * vci_check reads the whole image through the IOINT of ifs_image (opened
 * read-only, deny-none; nothing is written) and verifies every invariant:
 * header, block-map header, each node (decode rules, parent entry, key
 * ranges, depth limit, one leaf level), global order of the extents, that
 * every metadata and data block is marked allocated and no block is used
 * twice or marked without a user (the bitmap is streamed, never loaded
 * whole), the counters, and the LRU list when the "LRU1" marker is present.
 * Memory is O(extents + nodes), never O(capacity).
 *
 * An unclean image (flag 1) is reported in stats and checked no further:
 * its contents are forgotten by the next open, so any state is legal.
 *
 * Returns VINF_SUCCESS; VERR_VD_GEN_INVALID_HEADER (not a VCI image: too
 * short, or a header rule broken); VERR_VD_IMAGE_CORRUPTED (msg explains
 * the first problem found); VERR_INVALID_PARAMETER (no IOINT or path);
 * VERR_NO_MEMORY; or the I/O status of opening or reading the file.  msg
 * (may be NULL) always receives a one-line verdict.  When the image is
 * corrupt, stats->corrupt names the check that refused it (source file,
 * line and what it found: ref/vci_corrupt.h); otherwise its file is NULL.
 */
#ifndef VDCC_REF_VCI_CHECK_H
#define VDCC_REF_VCI_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "spec/vdcache.h"
#include "vci_corrupt.h"

typedef struct vci_check_stats {
    uint64_t cblocks;      /* capacity in blocks */
    uint64_t file_size;    /* bytes */
    uint32_t type;         /* 1 dynamic, 2 fixed */
    bool     unclean;      /* the unclean flag is set (nothing else checked) */
    bool     lru;          /* the "LRU1" marker is present */
    unsigned depth;        /* tree height */
    uint64_t nodes, leaves, extents;
    uint64_t data_blocks, meta_blocks, free_blocks;
    vci_corrupt corrupt;   /* the check that refused a corrupt image (file NULL: none) */
} vci_check_stats;

int vci_check(const char *path, PVDINTERFACE ifs_image, char *msg, size_t cb_msg, vci_check_stats *stats);

/* Prints header, geometry, tree, allocation and the check's verdict to
 * out, and for a corrupt image the check that refused it (as
 * vci_corrupt_print with indent "  ").  Returns what vci_check returned. */
int vci_info(const char *path, PVDINTERFACE ifs_image, FILE *out);

/* Prints "<indent>corrupt: <file>:<line> <what>" and a newline to out when
 * rec names a check (rec->file != NULL); nothing otherwise. */
void vci_corrupt_print(const vci_corrupt *rec, const char *indent, FILE *out);

#endif /* VDCC_REF_VCI_CHECK_H */
