/*
 * ref/vci_nodes.h - a bounded write-back cache of decoded tree nodes
 * (spec/vci-format.md sections 6 and 13).
 *
 * Nodes are kept decoded, keyed by block address, at most `cap` of them
 * (memory for a node is taken the first time a slot is needed, so a small
 * tree costs little whatever `cap` is).  Callers pin what they use
 * (vci_nodes_get/create pin, vci_nodes_unpin releases); a pinned node is
 * never evicted, so pointers stay valid until unpinned.  Eviction is CLOCK
 * (second chance, an approximation of least recently used) over unpinned
 * nodes, writing a node first when dirty.  Nodes read from disk are decoded
 * with vci_node_decode against the current layout (the root may move: keep
 * `lay->root` current through vci_nodes_set_root).
 *
 * Whoever changes a cached node calls vci_nodes_mark_dirty after the change
 * (vci_tree also calls vci_nodes_changed when each change operation ends):
 * the check memo below relies on it.
 *
 * Status codes: VINF_SUCCESS; VERR_VD_IMAGE_CORRUPTED (a node that fails decoding, or past the end of
 * the file); VERR_NO_MEMORY; VERR_INTERNAL_ERROR (every slot pinned, or a
 * node created at an address already cached); I/O statuses of vci_io.
 */
#ifndef VDCC_REF_VCI_NODES_H
#define VDCC_REF_VCI_NODES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vci_format.h"
#include "vci_io.h"

typedef struct vci_nodes vci_nodes;

int  vci_nodes_new(vci_io *io, const vci_layout *lay, unsigned cap, vci_nodes **out);
/* Frees everything without writing.  NULL is ignored. */
void vci_nodes_destroy(vci_nodes *nc);
void vci_nodes_set_root(vci_nodes *nc, uint64_t root);

/* The node at addr, pinned (read from disk when it is not cached). */
int  vci_nodes_get(vci_nodes *nc, uint64_t addr, vci_node **out);
/* A new empty node of `type` at addr (not yet on disk), pinned and dirty. */
int  vci_nodes_create(vci_nodes *nc, uint64_t addr, uint8_t type, vci_node **out);
void vci_nodes_unpin(vci_nodes *nc, vci_node *n);
void vci_nodes_mark_dirty(vci_nodes *nc, vci_node *n);
/* Drops a pinned node whose blocks were freed: unpins it and forgets it
 * without writing. */
void vci_nodes_discard(vci_nodes *nc, vci_node *n);
/* The block address of a cached node. */
uint64_t vci_nodes_addr(const vci_nodes *nc, const vci_node *n);
/* The corruption record of the file the nodes come from (vci_io.corrupt),
 * for the checks others make on cached nodes. */
vci_corrupt *vci_nodes_corrupt(vci_nodes *nc);

/* vci_node_check_child(n, e, hi) (VINF_SUCCESS or VERR_VD_IMAGE_CORRUPTED),
 * skipped when n last passed it with the same e->key, e->count and hi and
 * no cached node has changed since (a generation counter moved by every
 * mark_dirty, create, discard, set_root and vci_nodes_changed). */
int  vci_nodes_check_child(vci_nodes *nc, vci_node *n, const vci_ientry *e, uint64_t hi);
/* Declares that cached nodes changed (voids every check memo). */
void vci_nodes_changed(vci_nodes *nc);
/* The generation: it moves whenever a cached node may have changed (see
 * vci_nodes_check_child), so an answer derived from the cached nodes stays
 * right while the generation is unchanged.  Never 0. */
uint64_t vci_nodes_gen(const vci_nodes *nc);
/* Writes every dirty node. */
int  vci_nodes_flush(vci_nodes *nc);
bool vci_nodes_any_dirty(const vci_nodes *nc);
/* Pinned nodes right now (0 between operations). */
unsigned vci_nodes_pinned(const vci_nodes *nc);
/* Counters for tests and info: nodes read, written, evicted. */
typedef struct vci_nodes_stats {
    uint64_t reads, writes, evictions;
    unsigned cached;
} vci_nodes_stats;
vci_nodes_stats vci_nodes_get_stats(const vci_nodes *nc);

#endif /* VDCC_REF_VCI_NODES_H */
