/*
 * ref/vci_nodes.c - bounded write-back node cache (spec/vci-format.md
 * sections 6 and 13).  Contract and status codes: vci_nodes.h.
 *
 * Finding a cached node is the hot path of every lookup, and with a cache
 * of thousands of nodes almost every access to a leaf misses the CPU
 * caches.  So a hit relinks no list and touches one line of the address
 * table and the first line of the slot, which the search reads anyway:
 *
 *  - table: open addressing with linear probing over 2^k >= 2*used entries
 *    {address, slot} (NULL = empty), so a probe compares addresses without
 *    visiting any slot; removal shifts the following entries back (no
 *    tombstones, so probe lengths stay those of the load factor <= 1/2).
 *    It starts small and doubles (rehashing) as slots are allocated, so
 *    its size follows the slots in use (at most the first power of two
 *    >= 2*cap), not the configured capacity.
 *  - each slot keeps its address, pins, flags and check memo in a header
 *    that shares a cache line with the start of its node.
 *  - replacement is CLOCK (second chance): a hit sets the slot's reference
 *    bit; eviction sweeps a hand over the slots, clearing set bits, and
 *    takes the first unpinned slot whose bit was clear, writing it first
 *    when dirty.  A hit therefore writes one byte instead of relinking a
 *    list through two other slots.  Two sweeps clear every bit, so an
 *    eviction looks at most at 2*cap + 1 slots.
 *  - slots whose node was discarded or failed to load wait on a free list.
 *
 * Decoded nodes are allocated the first time their slot is used (memory
 * grows with the part of the tree actually visited, up to cap nodes) and
 * reused afterwards; nothing is allocated per access.  The slot and free
 * arrays and the table grow the same way (doubling, up to cap entries),
 * starting inside the cache's own struct: opening an image costs one
 * block of under a KiB whatever cap is, and an instance that touches few
 * nodes never pays for a large cache.  Nodes are read and written through
 * a buffer on the stack.
 *
 * The check memo (vci_nodes_check_child) remembers, per slot, the parent
 * entry (key, count) and range end a node last passed vci_node_check_child
 * with, and the cache generation then.  The generation moves on every
 * change to any cached node (mark_dirty, create, discard, set_root,
 * vci_nodes_changed), so a memo is only ever used for a node and an entry
 * that are exactly as they were when the full check passed: skipping the
 * check then cannot accept anything the check would refuse.  A node read
 * from disk starts without a memo.
 */
#include "vci_nodes.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/*
 * A cached node and all of its bookkeeping.  The header comes first and the
 * slot is aligned to a cache line, so the line that holds the pin count,
 * reference bit and memo also holds the node's type, count and first keys:
 * a hit touches one table line and this one before the search proper.
 */
typedef struct node_slot {
    uint64_t addr;
    uint64_t memo_gen;      /* 0: no memo */
    uint64_t memo_key, memo_hi;
    uint32_t memo_count;
    uint32_t pins;
    unsigned idx;           /* index in slots[] */
    uint8_t  valid, dirty, ref;
    vci_node node;
} node_slot;

#define SLOT_ALIGN 64u
#define SLOT_BYTES ((sizeof(node_slot) + SLOT_ALIGN - 1) / SLOT_ALIGN * SLOT_ALIGN)

typedef struct tab_ent {
    uint64_t   addr;
    node_slot *slot;        /* NULL = empty */
} tab_ent;

/* Slots the arrays inside struct vci_nodes hold before the first growth:
 * enough for a small tree, so most opens allocate one block here. */
#define INITIAL_SLOTS 16u

struct vci_nodes {
    vci_io          *io;
    vci_layout       lay;
    unsigned         cap, used;     /* slots allowed, slots allocated */
    unsigned         acap;          /* length of slots[] and freel[]: used <= acap <= cap */
    node_slot      **slots;         /* [acap] */
    unsigned        *freel;         /* [acap] slots without a node */
    unsigned         nfree;
    tab_ent         *tab;           /* [tmask + 1], tmask + 1 >= 2 * used */
    unsigned         tbits;
    uint64_t         tmask;
    unsigned         hand;          /* CLOCK hand */
    unsigned         pinned, ndirty, nvalid;
    uint64_t         gen;           /* >= 1; memos of other generations are void */
    vci_nodes_stats  stats;
    /* The first slots[], freel[] and tab[], until they are outgrown. */
    node_slot       *slots0[INITIAL_SLOTS];
    unsigned         freel0[INITIAL_SLOTS];
    tab_ent          tab0[2 * INITIAL_SLOTS];
};

static node_slot *slot_of(vci_node *n)
{
    return (node_slot *)(void *)((char *)n - offsetof(node_slot, node));
}

static const node_slot *cslot_of(const vci_node *n)
{
    return (const node_slot *)(const void *)((const char *)n - offsetof(node_slot, node));
}

/* ---- address table ------------------------------------------------------ */

static uint64_t home_of(const vci_nodes *nc, uint64_t addr)
{
    return (addr * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - nc->tbits);
}

/* The slot caching addr, or NULL. */
static node_slot *tab_find(const vci_nodes *nc, uint64_t addr)
{
    for (uint64_t h = home_of(nc, addr);; h = (h + 1) & nc->tmask) {
        const tab_ent *e = &nc->tab[h];
        if (e->slot == NULL || e->addr == addr)
            return e->slot;
    }
}

/* addr is not in the table, which has a free entry (load <= 1/2). */
static void tab_insert(vci_nodes *nc, uint64_t addr, node_slot *slot)
{
    uint64_t h = home_of(nc, addr);
    while (nc->tab[h].slot != NULL)
        h = (h + 1) & nc->tmask;
    nc->tab[h].addr = addr;
    nc->tab[h].slot = slot;
}

static void tab_remove(vci_nodes *nc, uint64_t addr)
{
    uint64_t i = home_of(nc, addr);
    while (nc->tab[i].slot != NULL && nc->tab[i].addr != addr)
        i = (i + 1) & nc->tmask;
    if (nc->tab[i].slot == NULL)
        return;
    /* Backward shift: move up every later entry of the run that may live at
     * i (its home is not cyclically inside (i, j]). */
    for (uint64_t j = i;;) {
        j = (j + 1) & nc->tmask;
        if (nc->tab[j].slot == NULL)
            break;
        uint64_t k = home_of(nc, nc->tab[j].addr);
        bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (!stays) {
            nc->tab[i] = nc->tab[j];
            i = j;
        }
    }
    nc->tab[i].slot = NULL;
    nc->tab[i].addr = 0;
}

/* Doubles the table and re-inserts every entry. */
static int tab_grow(vci_nodes *nc)
{
    unsigned bits = nc->tbits + 1;
    tab_ent *old = nc->tab, *t = calloc((size_t)1 << bits, sizeof(*t));
    uint64_t n = nc->tmask + 1;
    if (t == NULL)
        return VERR_NO_MEMORY;
    nc->tab = t;
    nc->tbits = bits;
    nc->tmask = (UINT64_C(1) << bits) - 1;
    for (uint64_t i = 0; i < n; i++)
        if (old[i].slot != NULL)
            tab_insert(nc, old[i].addr, old[i].slot);
    if (old != nc->tab0)
        free(old);
    return VINF_SUCCESS;
}

/* arr (have elements of elem bytes) moved to a block of want elements:
 * realloc, or a first heap copy of the array inside the struct (initial).
 * NULL when out of memory (arr is then unchanged). */
static void *grow_array(void *arr, const void *initial, size_t have, size_t want, size_t elem)
{
    if (arr != initial)
        return realloc(arr, want * elem);
    void *p = malloc(want * elem);
    if (p != NULL)
        memcpy(p, arr, have * elem);
    return p;
}

/* Makes room for slot number nc->used (< cap): the slot and free arrays
 * hold it, and the table stays at most half full with it.  On failure
 * nothing the cache relies on has changed. */
static int reserve_slot(vci_nodes *nc)
{
    if (nc->used == nc->acap) {
        unsigned want = nc->acap <= nc->cap / 2 ? nc->acap * 2 : nc->cap;
        node_slot **slots = grow_array(nc->slots, nc->slots0, nc->acap, want, sizeof(*slots));
        if (slots == NULL)
            return VERR_NO_MEMORY;
        nc->slots = slots;
        unsigned *freel = grow_array(nc->freel, nc->freel0, nc->acap, want, sizeof(*freel));
        if (freel == NULL)
            return VERR_NO_MEMORY; /* slots[] is merely longer than acap */
        nc->freel = freel;
        nc->acap = want;
    }
    while (nc->tmask + 1 < 2 * ((uint64_t)nc->used + 1)) {
        int rc = tab_grow(nc);
        if (RT_FAILURE(rc))
            return rc;
    }
    return VINF_SUCCESS;
}

/* ---- lifetime ------------------------------------------------------------ */

int vci_nodes_new(vci_io *io, const vci_layout *lay, unsigned cap, vci_nodes **out)
{
    vci_nodes *nc = calloc(1, sizeof(*nc));
    if (nc == NULL)
        return VERR_NO_MEMORY;
    if (cap < 4)
        cap = 4;
    nc->io = io;
    nc->lay = *lay;
    nc->cap = cap;
    nc->acap = cap < INITIAL_SLOTS ? cap : INITIAL_SLOTS;
    nc->tbits = 1;
    while ((UINT64_C(1) << nc->tbits) < 2 * (uint64_t)nc->acap)
        nc->tbits++;
    nc->tmask = (UINT64_C(1) << nc->tbits) - 1;
    nc->gen = 1;
    nc->slots = nc->slots0;
    nc->freel = nc->freel0;
    nc->tab = nc->tab0; /* tmask + 1 <= 2 * INITIAL_SLOTS, zeroed by calloc */
    *out = nc;
    return VINF_SUCCESS;
}

void vci_nodes_destroy(vci_nodes *nc)
{
    if (nc == NULL)
        return;
    for (unsigned i = 0; i < nc->used; i++)
        free(nc->slots[i]);
    if (nc->slots != nc->slots0)
        free(nc->slots);
    if (nc->freel != nc->freel0)
        free(nc->freel);
    if (nc->tab != nc->tab0)
        free(nc->tab);
    free(nc);
}

void vci_nodes_set_root(vci_nodes *nc, uint64_t root)
{
    nc->lay.root = root;
    nc->gen++;
}

void vci_nodes_changed(vci_nodes *nc)
{
    nc->gen++;
}

uint64_t vci_nodes_gen(const vci_nodes *nc)
{
    return nc->gen;
}

/* ---- slots ----------------------------------------------------------------- */

static int write_slot(vci_nodes *nc, node_slot *s)
{
    uint8_t buf[VCI_NODE_SIZE];
    vci_node_encode(&s->node, buf);
    int rc = vci_io_write_meta(nc->io, s->addr * VCI_BLOCK_SIZE, buf, VCI_NODE_SIZE);
    if (RT_SUCCESS(rc)) {
        nc->stats.writes++;
        if (s->dirty) {
            s->dirty = 0;
            nc->ndirty--;
        }
    }
    return rc;
}

/* Puts s (holding no valid node, out of the table) on the free list. */
static void park_slot(vci_nodes *nc, node_slot *s)
{
    s->valid = s->dirty = s->ref = 0;
    s->pins = 0;
    s->memo_gen = 0;
    nc->freel[nc->nfree++] = s->idx;
}

/* A slot to fill: a free one, a new one, or the CLOCK victim (written back
 * first when dirty).  It is returned invalid and out of the table. */
static int grab_slot(vci_nodes *nc, node_slot **out)
{
    if (nc->nfree > 0) {
        *out = nc->slots[nc->freel[--nc->nfree]];
        return VINF_SUCCESS;
    }
    if (nc->used < nc->cap) {
        int rc = reserve_slot(nc);
        if (RT_FAILURE(rc))
            return rc;
        node_slot *s = aligned_alloc(SLOT_ALIGN, SLOT_BYTES);
        if (s == NULL)
            return VERR_NO_MEMORY;
        memset(s, 0, offsetof(node_slot, node) + offsetof(vci_node, u));
        s->idx = nc->used;
        nc->slots[nc->used++] = s;
        *out = s;
        return VINF_SUCCESS;
    }
    for (uint64_t step = 0; step <= 2 * (uint64_t)nc->used; step++) {
        node_slot *s = nc->slots[nc->hand];
        nc->hand = nc->hand + 1 < nc->used ? nc->hand + 1 : 0;
        if (!s->valid || s->pins > 0)
            continue; /* (invalid slots are on the free list, never here) */
        if (s->ref) {
            s->ref = 0;
            continue;
        }
        if (s->dirty) {
            int rc = write_slot(nc, s);
            if (RT_FAILURE(rc))
                return rc;
        }
        tab_remove(nc, s->addr);
        s->valid = 0;
        s->memo_gen = 0;
        nc->nvalid--;
        nc->stats.evictions++;
        *out = s;
        return VINF_SUCCESS;
    }
    return VERR_INTERNAL_ERROR;
}

static vci_node *take(vci_nodes *nc, node_slot *s, uint64_t addr, bool dirty)
{
    s->addr = addr;
    s->valid = 1;
    s->ref = 1;
    s->dirty = dirty;
    s->pins = 1;
    s->memo_gen = 0;
    nc->pinned++;
    nc->nvalid++;
    if (dirty)
        nc->ndirty++;
    tab_insert(nc, addr, s);
    return &s->node;
}

int vci_nodes_get(vci_nodes *nc, uint64_t addr, vci_node **out)
{
    node_slot *s = tab_find(nc, addr);
    if (s != NULL) {
        s->ref = 1;
        if (s->pins++ == 0)
            nc->pinned++;
        *out = &s->node;
        return VINF_SUCCESS;
    }
    int rc = grab_slot(nc, &s);
    if (RT_FAILURE(rc))
        return rc;
    uint8_t buf[VCI_NODE_SIZE];
    rc = vci_io_read_meta(nc->io, addr * VCI_BLOCK_SIZE, buf, VCI_NODE_SIZE);
    if (RT_SUCCESS(rc))
        rc = vci_node_decode(buf, &nc->lay, &s->node, &nc->io->corrupt, NULL, 0);
    if (RT_FAILURE(rc)) {
        park_slot(nc, s);
        return rc;
    }
    nc->stats.reads++;
    *out = take(nc, s, addr, false);
    return VINF_SUCCESS;
}

int vci_nodes_create(vci_nodes *nc, uint64_t addr, uint8_t type, vci_node **out)
{
    if (tab_find(nc, addr) != NULL)
        return VERR_INTERNAL_ERROR;
    node_slot *s;
    int rc = grab_slot(nc, &s);
    if (RT_FAILURE(rc))
        return rc;
    s->node.type = type;
    s->node.n = 0;
    nc->gen++;
    *out = take(nc, s, addr, true);
    return VINF_SUCCESS;
}

void vci_nodes_unpin(vci_nodes *nc, vci_node *n)
{
    node_slot *s = slot_of(n);
    if (s->pins > 0 && --s->pins == 0)
        nc->pinned--;
}

void vci_nodes_mark_dirty(vci_nodes *nc, vci_node *n)
{
    node_slot *s = slot_of(n);
    nc->gen++;
    if (!s->dirty) {
        s->dirty = 1;
        nc->ndirty++;
    }
}

void vci_nodes_discard(vci_nodes *nc, vci_node *n)
{
    node_slot *s = slot_of(n);
    if (s->pins > 0)
        nc->pinned--;
    if (s->dirty)
        nc->ndirty--;
    tab_remove(nc, s->addr);
    nc->nvalid--;
    nc->gen++;
    park_slot(nc, s);
}

uint64_t vci_nodes_addr(const vci_nodes *nc, const vci_node *n)
{
    (void)nc;
    return cslot_of(n)->addr;
}

vci_corrupt *vci_nodes_corrupt(vci_nodes *nc)
{
    return &nc->io->corrupt;
}

int vci_nodes_check_child(vci_nodes *nc, vci_node *n, const vci_ientry *e, uint64_t hi)
{
    node_slot *s = slot_of(n);
    if (s->memo_gen == nc->gen && s->memo_key == e->key && s->memo_count == e->count && s->memo_hi == hi)
        return VINF_SUCCESS;
    int rc = vci_node_check_child(n, e, hi, &nc->io->corrupt, NULL, 0);
    if (RT_SUCCESS(rc)) {
        s->memo_gen = nc->gen;
        s->memo_key = e->key;
        s->memo_count = e->count;
        s->memo_hi = hi;
    }
    return rc;
}

int vci_nodes_flush(vci_nodes *nc)
{
    for (unsigned i = 0; i < nc->used && nc->ndirty > 0; i++) {
        node_slot *s = nc->slots[i];
        if (s->valid && s->dirty) {
            int rc = write_slot(nc, s);
            if (RT_FAILURE(rc))
                return rc;
        }
    }
    return VINF_SUCCESS;
}

bool vci_nodes_any_dirty(const vci_nodes *nc)
{
    return nc->ndirty > 0;
}

unsigned vci_nodes_pinned(const vci_nodes *nc)
{
    return nc->pinned;
}

vci_nodes_stats vci_nodes_get_stats(const vci_nodes *nc)
{
    vci_nodes_stats st = nc->stats;
    st.cached = nc->nvalid;
    return st;
}
