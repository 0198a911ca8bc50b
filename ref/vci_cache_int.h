/*
 * ref/vci_cache_int.h - the insides of a vci_cache, shared by vci_cache.c
 * (lifecycle, flush protocol) and vci_data.c (read, write, discard).  Not
 * part of the ref API.
 *
 * A vci_cache keeps what survives SetOpenFlags (name, interface lists,
 * tunables) and points at a vci_state: everything that belongs to one
 * opening of the file.  Reopening builds a new state and swaps it in.
 */
#ifndef VDCC_REF_VCI_CACHE_INT_H
#define VDCC_REF_VCI_CACHE_INT_H

#include "vci_alloc.h"
#include "vci_cache.h"
#include "vci_format.h"
#include "vci_io.h"
#include "vci_lru.h"
#include "vci_nodes.h"
#include "vci_tree.h"

typedef struct vci_state {
    unsigned           open_flags;
    bool               readonly;
    bool               ignore_flush;
    bool               all_miss;     /* unclean image opened read-only */
    int                broken_rc;    /* VINF_SUCCESS while healthy */
    bool               verified;     /* allocation proven consistent with the tree */
    unsigned           node_cache, bm_cache;
    PVDINTERFACEIOINT  ioint;
    PVDINTERFACEERROR  iferr;
    vci_header         hdr;          /* as last read or as it will be written */
    bool               hdr_dirty;
    vci_io             io;
    vci_alloc         *al;
    vci_nodes         *nc;
    vci_tree           tree;
    vci_lru            lru;
    /* The extent the last read hit, valid while the node cache's generation
     * is last_gen (no node changed since): a read inside it needs no
     * descent (sequential reads, and reads within one large extent).
     * Reset whenever a new node cache is built (its generations restart). */
    vci_extent         last;
    uint64_t           last_gen;     /* 0: none */
} vci_state;

struct vci_cache {
    char        *filename;
    PVDINTERFACE ifs_disk, ifs_image;
    unsigned     node_cache, bm_cache;
    vci_state   *s;                  /* NULL when a reopen failed */
};

/* Forgets the contents: sets the unclean flag, then reinitialises the
 * image as for an unclean open (empty tree, bitmap of the metadata only)
 * and syncs.  Used when vci_verify finds the image inconsistent.  Returns
 * VINF_SUCCESS or a failure (then the caller breaks the instance). */
int vci_state_forget(vci_state *s);

/* Marks the instance broken by rc (a failure in the middle of a change):
 * makes sure the unclean flag is on disk, and returns rc. */
int vci_state_break(vci_state *s, int rc);

#endif /* VDCC_REF_VCI_CACHE_INT_H */
