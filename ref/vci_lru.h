/*
 * ref/vci_lru.h - the LRU list threaded through the extents by key
 * (spec/vci-format.md section 7).
 *
 * Links are keys; a neighbour is reached by a tree lookup, never by walking
 * the list, so a damaged list can make an update wrong but never make it
 * loop.  When a link names an extent that does not exist (the list is
 * inconsistent), the list is switched off (`enabled` = false): eviction
 * falls back to key order and the header loses its "LRU1" marker at the
 * next write.  That is how every function here answers VERR_NOT_FOUND from
 * the tree: by disabling, and returning VINF_SUCCESS.
 *
 * Read hits do not move anything when they happen (spec section 7): moving
 * an extent rewrites up to four extents through as many tree descents, and
 * a read must stay cheap and free of I/O.  vci_lru_note_read records the
 * key in a bounded ring instead (O(1), no tree access); vci_lru_apply_reads
 * later makes each recorded extent, oldest read first, the most recent, as
 * the reads would have done: before an eviction (so the order eviction
 * sees is exact) and when the image is closed.  A key whose extent has gone
 * or changed its key meanwhile is skipped.  When more distinct reads
 * happen than the ring holds, the oldest are forgotten (recency from reads
 * is advisory).  The ring is allocated at the first read worth recording
 * (an instance that is opened and closed without reads, as every reopen of
 * a fuzz script is, pays nothing for it); when that allocation fails the
 * read is not recorded.
 *
 * Status codes: VINF_SUCCESS; any status of vci_tree_get/vci_tree_put other
 * than VERR_NOT_FOUND (VERR_VD_IMAGE_CORRUPTED, VERR_INTERNAL_ERROR, I/O).
 */
#ifndef VDCC_REF_VCI_LRU_H
#define VDCC_REF_VCI_LRU_H

#include <stdbool.h>
#include <stdint.h>

#include "vci_tree.h"

#define VCI_LRU_READS 1024u

typedef struct vci_lru {
    vci_tree *t;
    bool      enabled;  /* the list is kept (image has or adopts "LRU1") */
    uint64_t  head;     /* most recent key, or VCI_LRU_NONE */
    uint64_t  tail;     /* least recent key, or VCI_LRU_NONE */
    bool      dirty;    /* enabled/head/tail changed since the header was written */
    uint64_t *reads;    /* ring of VCI_LRU_READS keys read, oldest at rstart; NULL until needed */
    unsigned  rstart, nreads;
} vci_lru;

/* Sets l up over t.  l must be zeroed before its first init; a later init
 * (the state rebuilt over a new tree) keeps the ring's memory. */
void vci_lru_init(vci_lru *l, vci_tree *t, bool enabled, uint64_t head, uint64_t tail);
/* Frees the ring; l needs a zeroing and an init before it is used again. */
void vci_lru_fini(vci_lru *l);
/* Links the extent `key` (not yet in the list) in as the most recent. */
int  vci_lru_push_head(vci_lru *l, uint64_t key);
/* Takes e (a current copy of an extent in the list) out of the list; e's
 * own links are left as they are. */
int  vci_lru_unlink(vci_lru *l, const vci_extent *e);
/* Makes `key` the most recent. */
int  vci_lru_touch(vci_lru *l, uint64_t key);
/* e (current copy, with its links) changed its key from oldkey to e->key:
 * points its neighbours (or head/tail) at the new key. */
int  vci_lru_rekey(vci_lru *l, const vci_extent *e, uint64_t oldkey);
/* Links `key` (not yet in the list) in right after `after`. */
int  vci_lru_insert_after(vci_lru *l, uint64_t after, uint64_t key);
/* Switches the list off (see above); forgets recorded reads. */
void vci_lru_disable(vci_lru *l);

/* Records a read hit of the extent `key` (no I/O, nothing else changes). */
void vci_lru_note_read(vci_lru *l, uint64_t key);
/* True when read hits wait to be applied. */
bool vci_lru_reads_pending(const vci_lru *l);
/* Makes the extents read since the last call the most recent, in the order
 * of their reads (may read and dirty nodes).  A failure other than a
 * missing extent switches the list off rather than failing: VINF_SUCCESS
 * always. */
int  vci_lru_apply_reads(vci_lru *l);

#endif /* VDCC_REF_VCI_LRU_H */
