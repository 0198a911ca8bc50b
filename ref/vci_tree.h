/*
 * ref/vci_tree.h - the B+-tree of extents keyed by virtual block
 * (spec/vci-format.md sections 5 and 6).
 *
 * Every operation descends from the root through the node cache, checking
 * each node against the entry that led to it (vci_nodes_check_child: the
 * full vci_node_check_child unless the same node passed it against the same
 * entry with no node changed since), the depth limit and the leaf level,
 * and keeps internal keys exact and counts exact after it returns.
 * Operations pin nodes only while they run; queries (lookup, find_ge, get)
 * keep only the node they are examining pinned and no path.
 * Every change operation ends by moving the node cache's generation
 * (vci_nodes_changed).
 *
 * Inserts never allocate: the caller first asks vci_tree_insert_need how
 * many nodes the insert will create and provides them with vci_tree_reserve
 * (which may fail with VERR_DISK_FULL: evict and retry), so a tree change
 * never stops half-way for lack of space.  vci_tree_release_pool frees what
 * was reserved and not used.  Removals free nodes through the allocator.
 *
 * Status codes (each function lists its own): VINF_SUCCESS; VERR_NOT_FOUND
 * (no extent with that key);
 * VERR_VD_IMAGE_CORRUPTED (a node breaks an invariant); VERR_TOO_MUCH_DATA
 * (an insert would need a ninth level); VERR_DISK_FULL (reserve: no room for
 * a node); VERR_INTERNAL_ERROR (a caller broke a precondition); VERR_NO_MEMORY
 * and I/O statuses from the node cache and the allocator.
 */
#ifndef VDCC_REF_VCI_TREE_H
#define VDCC_REF_VCI_TREE_H

#include <stdbool.h>
#include <stdint.h>

#include "vci_alloc.h"
#include "vci_format.h"
#include "vci_nodes.h"

#define VCI_POOL_MAX (VCI_MAX_DEPTH + 1)

typedef struct vci_tree {
    vci_nodes *nc;
    vci_alloc *al;
    uint64_t   root;          /* block address of the root node */
    unsigned   height;        /* depth of the leaves; 0 until a leaf is met */
    bool       root_changed;  /* root moved since the flag was last cleared */
    uint64_t   pool[VCI_POOL_MAX];
    unsigned   npool;
} vci_tree;

/* Sets up t over an existing root (nothing is read). */
void vci_tree_init(vci_tree *t, vci_nodes *nc, vci_alloc *al, uint64_t root);

/*
 * Finds the extent holding virtual block vb.  On a hit *found = true and
 * *ext is a copy of it; on a miss *next is the first cached virtual block
 * after vb (VCI_VBLOCK_LIMIT when none).
 */
int  vci_tree_lookup(vci_tree *t, uint64_t vb, bool *found, vci_extent *ext,
                     uint64_t *next);
/* The first extent whose end is after vb (the one holding vb, or the next
 * one); *found = false when there is none. */
int  vci_tree_find_ge(vci_tree *t, uint64_t vb, bool *found, vci_extent *ext);
/* The extent whose key is exactly key: VINF_SUCCESS or VERR_NOT_FOUND. */
int  vci_tree_get(vci_tree *t, uint64_t key, vci_extent *ext);
/* True when the tree holds no extent. */
int  vci_tree_is_empty(vci_tree *t, bool *empty);

/*
 * Replaces the extent whose key is oldkey with *nx, in place.  nx may change
 * the key, count and address as long as it stays between its neighbours
 * (the caller guarantees nothing else overlaps it); VERR_INTERNAL_ERROR when
 * it visibly does not.
 */
int  vci_tree_put(vci_tree *t, uint64_t oldkey, const vci_extent *nx);

/* Nodes an insert of key would create (0 .. depth+1); VERR_TOO_MUCH_DATA
 * when it would need a ninth level. */
int  vci_tree_insert_need(vci_tree *t, uint64_t key, unsigned *need);
/* Tops the pool up to `need` nodes; VERR_DISK_FULL when the allocator has
 * no run of 8 blocks (the nodes already reserved stay). */
int  vci_tree_reserve(vci_tree *t, unsigned need);
/* Frees every reserved and unused node. */
int  vci_tree_release_pool(vci_tree *t);
/* Inserts *x, which must not overlap any extent; the pool must hold what
 * vci_tree_insert_need said (VERR_INTERNAL_ERROR otherwise). */
int  vci_tree_insert(vci_tree *t, const vci_extent *x);
/* Removes the extent whose key is key (its data blocks are the caller's to
 * free); VERR_NOT_FOUND when there is none. */
int  vci_tree_remove(vci_tree *t, uint64_t key);

/* Visits every node depth-first (each validated like any descent; at most
 * cBlocks/8 + 1 visits, so a shared node cannot make the walk explode), in
 * key order.  A visitor's failure stops the walk and is returned. */
typedef int (*vci_tree_visit_fn)(void *ctx, const vci_node *n, uint64_t addr, unsigned depth);
int  vci_tree_walk(vci_tree *t, uint64_t max_visits, vci_tree_visit_fn fn, void *ctx);

/* Statistics gathered by walking the whole tree (reads every node): used
 * by tests and info. */
typedef struct vci_tree_stats {
    uint64_t nodes, leaves, extents, blocks;
    unsigned depth;
} vci_tree_stats;
int  vci_tree_walk_stats(vci_tree *t, vci_tree_stats *st);

#endif /* VDCC_REF_VCI_TREE_H */
