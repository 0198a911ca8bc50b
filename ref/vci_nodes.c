/*
 * ref/vci_nodes.c - bounded write-back node cache (spec/vci-format.md
 * sections 6 and 13).  Contract and status codes: vci_nodes.h.
 *
 * Slots hold a decoded node (first member, so a vci_node pointer converts
 * back to its slot), its address, a pin count and a dirty flag.  A hash on
 * the address finds slots; an LRU list (head = most recent) orders every
 * valid slot, and eviction walks it from the tail past pinned ones.
 */
#include "vci_nodes.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define NIL UINT_MAX

typedef struct node_slot {
    vci_node node;        /* first: (node_slot *)node is valid */
    uint64_t addr;
    unsigned pins;
    bool     dirty;
    bool     valid;
    unsigned self;
    unsigned hnext, lprev, lnext;
} node_slot;

struct vci_nodes {
    vci_io           *io;
    vci_layout        lay;
    node_slot       **slots;
    unsigned          cap, used;
    unsigned         *hash;
    unsigned          hmask;
    unsigned          lru_head, lru_tail;
    unsigned          pinned, ndirty, nvalid;
    vci_nodes_stats   stats;
    uint8_t           buf[VCI_NODE_SIZE];
};

static node_slot *slot_of(vci_node *n)
{
    return (node_slot *)(void *)n;
}

static const node_slot *cslot_of(const vci_node *n)
{
    return (const node_slot *)(const void *)n;
}

static unsigned bucket_of(const vci_nodes *nc, uint64_t addr)
{
    return (unsigned)((addr * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & nc->hmask;
}

static void lru_unlink(vci_nodes *nc, node_slot *s)
{
    if (s->lprev != NIL)
        nc->slots[s->lprev]->lnext = s->lnext;
    else
        nc->lru_head = s->lnext;
    if (s->lnext != NIL)
        nc->slots[s->lnext]->lprev = s->lprev;
    else
        nc->lru_tail = s->lprev;
    s->lprev = s->lnext = NIL;
}

static void lru_push_head(vci_nodes *nc, node_slot *s)
{
    s->lprev = NIL;
    s->lnext = nc->lru_head;
    if (nc->lru_head != NIL)
        nc->slots[nc->lru_head]->lprev = s->self;
    nc->lru_head = s->self;
    if (nc->lru_tail == NIL)
        nc->lru_tail = s->self;
}

static void lru_push_tail(vci_nodes *nc, node_slot *s)
{
    s->lnext = NIL;
    s->lprev = nc->lru_tail;
    if (nc->lru_tail != NIL)
        nc->slots[nc->lru_tail]->lnext = s->self;
    nc->lru_tail = s->self;
    if (nc->lru_head == NIL)
        nc->lru_head = s->self;
}

static void hash_insert(vci_nodes *nc, node_slot *s)
{
    unsigned b = bucket_of(nc, s->addr);
    s->hnext = nc->hash[b];
    nc->hash[b] = s->self;
}

static void hash_remove(vci_nodes *nc, node_slot *s)
{
    unsigned *link = &nc->hash[bucket_of(nc, s->addr)];
    while (*link != NIL) {
        if (*link == s->self) {
            *link = s->hnext;
            break;
        }
        link = &nc->slots[*link]->hnext;
    }
    s->hnext = NIL;
}

static node_slot *lookup(const vci_nodes *nc, uint64_t addr)
{
    for (unsigned i = nc->hash[bucket_of(nc, addr)]; i != NIL; i = nc->slots[i]->hnext)
        if (nc->slots[i]->addr == addr)
            return nc->slots[i];
    return NULL;
}

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
    unsigned nb = 1;
    while (nb < 2 * cap)
        nb <<= 1;
    nc->hmask = nb - 1;
    nc->slots = calloc(cap, sizeof(*nc->slots));
    nc->hash = malloc(nb * sizeof(*nc->hash));
    if (nc->slots == NULL || nc->hash == NULL) {
        free(nc->slots);
        free(nc->hash);
        free(nc);
        return VERR_NO_MEMORY;
    }
    for (unsigned i = 0; i < nb; i++)
        nc->hash[i] = NIL;
    nc->lru_head = nc->lru_tail = NIL;
    *out = nc;
    return VINF_SUCCESS;
}

void vci_nodes_destroy(vci_nodes *nc)
{
    if (nc == NULL)
        return;
    for (unsigned i = 0; i < nc->used; i++)
        free(nc->slots[i]);
    free(nc->slots);
    free(nc->hash);
    free(nc);
}

void vci_nodes_set_root(vci_nodes *nc, uint64_t root)
{
    nc->lay.root = root;
}

static int write_slot(vci_nodes *nc, node_slot *s)
{
    vci_node_encode(&s->node, nc->buf);
    int rc = vci_io_write_meta(nc->io, s->addr * VCI_BLOCK_SIZE, nc->buf, VCI_NODE_SIZE);
    if (RT_SUCCESS(rc)) {
        nc->stats.writes++;
        if (s->dirty) {
            s->dirty = false;
            nc->ndirty--;
        }
    }
    return rc;
}

/* A slot to fill: a never-used one, an invalid one, or the least recently
 * used unpinned one (written back first when dirty).  It is returned
 * invalid, unhashed and out of the LRU list. */
static int grab_slot(vci_nodes *nc, node_slot **out)
{
    if (nc->used < nc->cap) {
        node_slot *s = malloc(sizeof(*s));
        if (s == NULL)
            return VERR_NO_MEMORY;
        memset(s, 0, sizeof(*s));
        s->self = nc->used;
        s->hnext = s->lprev = s->lnext = NIL;
        nc->slots[nc->used++] = s;
        *out = s;
        return VINF_SUCCESS;
    }
    for (unsigned i = nc->lru_tail; i != NIL; i = nc->slots[i]->lprev) {
        node_slot *s = nc->slots[i];
        if (s->valid && s->pins > 0)
            continue;
        if (s->valid) {
            if (s->dirty) {
                int rc = write_slot(nc, s);
                if (RT_FAILURE(rc))
                    return rc;
            }
            hash_remove(nc, s);
            s->valid = false;
            nc->nvalid--;
            nc->stats.evictions++;
        }
        lru_unlink(nc, s);
        *out = s;
        return VINF_SUCCESS;
    }
    return VERR_INTERNAL_ERROR;
}

/* Puts an unused slot back at the cold end of the list. */
static void park_slot(vci_nodes *nc, node_slot *s)
{
    s->valid = false;
    s->pins = 0;
    s->dirty = false;
    lru_push_tail(nc, s);
}

int vci_nodes_get(vci_nodes *nc, uint64_t addr, bool cached_only, vci_node **out, bool *fresh)
{
    node_slot *s = lookup(nc, addr);
    if (fresh != NULL)
        *fresh = false;
    if (s != NULL) {
        if (nc->lru_head != s->self) {
            lru_unlink(nc, s);
            lru_push_head(nc, s);
        }
        if (s->pins++ == 0)
            nc->pinned++;
        *out = &s->node;
        return VINF_SUCCESS;
    }
    if (cached_only)
        return VERR_NOT_FOUND;

    int rc = grab_slot(nc, &s);
    if (RT_FAILURE(rc))
        return rc;
    rc = vci_io_read_meta(nc->io, addr * VCI_BLOCK_SIZE, nc->buf, VCI_NODE_SIZE);
    if (RT_SUCCESS(rc))
        rc = vci_node_decode(nc->buf, &nc->lay, &s->node, NULL, 0);
    if (RT_FAILURE(rc)) {
        park_slot(nc, s);
        return rc;
    }
    nc->stats.reads++;
    s->addr = addr;
    s->valid = true;
    s->dirty = false;
    s->pins = 1;
    nc->pinned++;
    nc->nvalid++;
    hash_insert(nc, s);
    lru_push_head(nc, s);
    if (fresh != NULL)
        *fresh = true;
    *out = &s->node;
    return VINF_SUCCESS;
}

int vci_nodes_create(vci_nodes *nc, uint64_t addr, uint8_t type, vci_node **out)
{
    if (lookup(nc, addr) != NULL)
        return VERR_INTERNAL_ERROR;
    node_slot *s;
    int rc = grab_slot(nc, &s);
    if (RT_FAILURE(rc))
        return rc;
    s->node.type = type;
    s->node.n = 0;
    s->addr = addr;
    s->valid = true;
    s->dirty = true;
    nc->ndirty++;
    s->pins = 1;
    nc->pinned++;
    nc->nvalid++;
    hash_insert(nc, s);
    lru_push_head(nc, s);
    *out = &s->node;
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
    if (!s->dirty) {
        s->dirty = true;
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
    hash_remove(nc, s);
    lru_unlink(nc, s);
    nc->nvalid--;
    park_slot(nc, s);
}

uint64_t vci_nodes_addr(const vci_node *n)
{
    return cslot_of(n)->addr;
}

bool vci_nodes_is_cached(const vci_nodes *nc, uint64_t addr)
{
    return lookup(nc, addr) != NULL;
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
