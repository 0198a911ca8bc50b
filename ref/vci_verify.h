/*
 * ref/vci_verify.h - one-time proof, in O(1) memory, that an image's
 * bitmap holds exactly the blocks its tree references (spec/vci-format.md
 * section 11, "first change").
 *
 * Why: allocation trusts the bitmap.  If an image (damaged or hostile)
 * marks free a block that a node or an extent still uses, or lets two
 * extents share blocks, then blocks handed out for new data can later be
 * overwritten or freed twice, and data written in this session would be
 * served wrong.  So before the first allocation or free of a read-write
 * session on an image read from disk, the backend walks the whole tree
 * (validating every node) and streams the whole bitmap, and compares:
 *   - every referenced block (header, block map, nodes, extent data) lies
 *     inside the image, and every extent's data inside the file (data cut
 *     off by truncation would read as zeros once the file grows again);
 *   - the number of referenced blocks equals the number of set bits, and
 *     the two sums of r^b mod p (p = 2^61 - 1, r random per call, b the
 *     block numbers, each range summed in closed form) are equal, which for
 *     two different multisets happens with probability below 2^-28;
 *   - no padding bit past cBlocks is set;
 *   - the block-map counters equal the metadata and data blocks found.
 * Equal multisets mean: nothing is referenced twice and the bitmap has no
 * block without a user and no used block marked free.
 *
 * Returns VINF_SUCCESS; VERR_VD_IMAGE_CORRUPTED (the image is inconsistent:
 * the caller forgets it); VERR_NO_MEMORY; I/O statuses.
 */
#ifndef VDCC_REF_VCI_VERIFY_H
#define VDCC_REF_VCI_VERIFY_H

#include "vci_format.h"
#include "vci_io.h"
#include "vci_tree.h"

int vci_verify_allocation(vci_tree *t, vci_io *io, const vci_header *h, const vci_bmhdr *counts);

#endif /* VDCC_REF_VCI_VERIFY_H */
