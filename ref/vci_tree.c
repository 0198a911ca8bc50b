/*
 * ref/vci_tree.c - B+-tree of extents: lookup, next key, insert with splits,
 * removal with merges and collapse (spec/vci-format.md sections 5 and 6).
 * Contract and status codes: vci_tree.h.
 *
 * Every change works on a path: the pinned nodes from the root down to
 * one leaf, with the entry index taken at each internal level and the end of
 * each node's key range.  Changes are made bottom-up along the path, and
 * each level then rewrites its parent's entry (key = first key of the child,
 * count = span to the child's end), so keys and counts are exact again when
 * the operation returns.  Queries need no path (find_leaf): they are the
 * hot path of reads, where a cache of many nodes makes nearly every leaf a
 * CPU cache miss, so a query prefetches what it will search in a leaf and
 * searches branch-free (count_le).
 */
#include "vci_tree.h"

#include <stddef.h>
#include <string.h>

typedef struct tlevel {
    vci_node *node;   /* pinned; NULL once freed */
    uint64_t  addr;
    unsigned  idx;    /* internal: entry taken */
    uint64_t  lo;     /* no extent of this node may start below (a bound
                         from the left sibling's end; weaker when saturated) */
    uint64_t  hi;     /* end of this node's key range */
} tlevel;

typedef struct tpath {
    unsigned depth;
    tlevel   lv[VCI_MAX_DEPTH];
} tpath;

void vci_tree_init(vci_tree *t, vci_nodes *nc, vci_alloc *al, uint64_t root)
{
    memset(t, 0, sizeof(*t));
    t->nc = nc;
    t->al = al;
    t->root = root;
}

/* Where a check on t's nodes notes a corruption: the record of the file
 * the nodes come from (vci_io.corrupt). */
static vci_corrupt *rec_of(vci_tree *t)
{
    return vci_nodes_corrupt(t->nc);
}

static void path_release(vci_tree *t, tpath *p)
{
    for (unsigned i = 0; i < p->depth; i++)
        if (p->lv[i].node != NULL)
            vci_nodes_unpin(t->nc, p->lv[i].node);
    p->depth = 0;
}

/* Depth rules (invariant 4): leaves all at one depth, nothing internal at
 * the depth limit.  `depth` counts the root as 1. */
static int check_level(vci_tree *t, const vci_node *n, unsigned depth)
{
    if (n->type == VCI_NODE_LEAF) {
        if (t->height == 0)
            t->height = depth;
        else if (t->height != depth)
            return VCI_CORRUPT(rec_of(t), "leaves at two depths");
        return VINF_SUCCESS;
    }
    if (depth >= VCI_MAX_DEPTH || (t->height != 0 && depth >= t->height))
        return VCI_CORRUPT(rec_of(t), "internal node at or below the leaf depth");
    return VINF_SUCCESS;
}

/* The number of keys in k[0..n) that are <= key (k sorted), without a
 * branch per probe: a lookup's keys are random, so half of the probes of a
 * branching search would be mispredicted, which costs more than the probe.
 * The comparison becomes a mask; the empty asm hides the mask's origin from
 * the optimiser, which would otherwise turn it back into a jump.  The loop
 * runs log2(n) times whatever the keys. */
static unsigned count_le(const uint64_t *k, unsigned n, uint64_t key)
{
    if (n == 0)
        return 0;
    unsigned lo = 0;
    while (n > 1) {
        unsigned half = n / 2;
        unsigned take = 0u - (unsigned)(k[lo + half] <= key);
        __asm__("" : "+r"(take));
        lo += half & take;
        n -= half;
    }
    return lo + (k[lo] <= key);
}

/* The last entry whose key is <= key, or 0 when all are greater. */
static unsigned ent_pick(const vci_node *n, uint64_t key)
{
    unsigned c = count_le(n->u.i.key, n->n, key);
    return c > 0 ? c - 1 : 0;
}

/* The number of extents whose key is <= key. */
static unsigned leaf_upper(const vci_node *n, uint64_t key)
{
    return count_le(n->u.l.key, n->n, key);
}

static vci_ientry summary(const vci_node *n, uint64_t addr)
{
    vci_ientry e;
    e.key = vci_node_first_key(n);
    e.count = vci_span(e.key, vci_node_end(n));
    e.child = addr;
    return e;
}

/* Builds the path to the leaf where key belongs. */
static int descend(vci_tree *t, uint64_t key, tpath *p)
{
    vci_node *n;
    p->depth = 0;
    int rc = vci_nodes_get(t->nc, t->root, &n);
    if (RT_FAILURE(rc))
        return rc;
    p->lv[0].node = n;
    p->lv[0].addr = t->root;
    p->lv[0].idx = 0;
    p->lv[0].lo = 0;
    p->lv[0].hi = VCI_VBLOCK_LIMIT;
    p->depth = 1;
    for (;;) {
        tlevel *lv = &p->lv[p->depth - 1];
        rc = check_level(t, lv->node, p->depth);
        if (RT_FAILURE(rc))
            goto out_release;
        if (lv->node->type == VCI_NODE_LEAF)
            return VINF_SUCCESS;
        const vci_node *pn = lv->node;
        unsigned i = ent_pick(pn, key);
        const vci_ientry e = vci_int_get(pn, i);
        uint64_t hi = i + 1 < pn->n ? pn->u.i.key[i + 1] : lv->hi;
        uint64_t lo = i > 0 ? pn->u.i.key[i - 1] + pn->u.i.count[i - 1] : lv->lo;
        lv->idx = i;
        vci_node *c;
        rc = vci_nodes_get(t->nc, e.child, &c);
        if (RT_FAILURE(rc))
            goto out_release;
        tlevel *cl = &p->lv[p->depth];
        cl->node = c;
        cl->addr = e.child;
        cl->idx = 0;
        cl->lo = lo;
        cl->hi = hi;
        p->depth++;
        rc = vci_nodes_check_child(t->nc, c, &e, hi);
        if (RT_FAILURE(rc))
            goto out_release;
    }
out_release:
    path_release(t, p);
    return rc;
}

/* Rewrites the parent entries along the path, from `level` up to the root. */
static void path_fix(vci_tree *t, tpath *p, unsigned level)
{
    for (unsigned l = level; l > 0; l--) {
        tlevel *c = &p->lv[l], *pl = &p->lv[l - 1];
        if (c->node == NULL || pl->node == NULL || c->node->n == 0)
            continue;
        vci_ientry e = summary(c->node, c->addr);
        vci_ientry pe = vci_int_get(pl->node, pl->idx);
        if (pe.key != e.key || pe.count != e.count || pe.child != e.child) {
            vci_int_set(pl->node, pl->idx, &e);
            vci_nodes_mark_dirty(t->nc, pl->node);
        }
    }
}

/* ---- queries ------------------------------------------------------------ */

/* What a lookup reads of a leaf: type and count, and the key and count
 * columns. */
#define LEAF_SEARCH_BYTES (offsetof(vci_node, u) + sizeof(((vci_node *)0)->u.l.key) \
                           + sizeof(((vci_node *)0)->u.l.count))

/*
 * Descends to the leaf where key belongs without building a path: only the
 * node being examined is pinned, and each level copies the entry it takes
 * before fetching the child.  Every check of descend is made (depth and
 * level, the child against its entry and range).  Returns the leaf pinned,
 * with the upper bound of its range.
 */
static int find_leaf(vci_tree *t, uint64_t key, vci_node **out, uint64_t *hi_out)
{
    vci_node *n;
    int rc = vci_nodes_get(t->nc, t->root, &n);
    if (RT_FAILURE(rc))
        return rc;
    uint64_t hi = VCI_VBLOCK_LIMIT;
    for (unsigned depth = 1;; depth++) {
        rc = check_level(t, n, depth);
        if (RT_FAILURE(rc))
            break;
        if (n->type == VCI_NODE_LEAF) {
            *out = n;
            *hi_out = hi;
            return VINF_SUCCESS;
        }
        unsigned i = ent_pick(n, key);
        const vci_ientry e = vci_int_get(n, i);
        uint64_t chi = i + 1 < n->n ? n->u.i.key[i + 1] : hi;
        vci_nodes_unpin(t->nc, n);
        rc = vci_nodes_get(t->nc, e.child, &n);
        if (RT_FAILURE(rc))
            return rc;
        /* In a cache of many nodes the leaf is rarely in any CPU cache, and
         * a binary search would wait for memory once per probe: ask for all
         * the search reads at once (a hint; it reads nothing itself). */
        if (depth + 1 == t->height)
            for (size_t off = 0; off < LEAF_SEARCH_BYTES; off += 64)
                __builtin_prefetch((const char *)n + off);
        hi = chi;
        rc = vci_nodes_check_child(t->nc, n, &e, hi);
        if (RT_FAILURE(rc))
            break;
    }
    vci_nodes_unpin(t->nc, n);
    return rc;
}

int vci_tree_lookup(vci_tree *t, uint64_t vb, bool *found, vci_extent *ext,
                    uint64_t *next)
{
    vci_node *n;
    uint64_t hi;
    int rc = find_leaf(t, vb, &n, &hi);
    if (RT_FAILURE(rc))
        return rc;
    unsigned j = leaf_upper(n, vb); /* first extent with key > vb */
    *found = false;
    if (j > 0 && n->u.l.key[j - 1] + n->u.l.count[j - 1] > vb) {
        *found = true;
        *ext = vci_leaf_get(n, j - 1);
    } else {
        *next = j < n->n ? n->u.l.key[j] : hi;
    }
    vci_nodes_unpin(t->nc, n);
    return VINF_SUCCESS;
}

int vci_tree_find_ge(vci_tree *t, uint64_t vb, bool *found, vci_extent *ext)
{
    vci_node *n;
    uint64_t hi;
    int rc = find_leaf(t, vb, &n, &hi);
    if (RT_FAILURE(rc))
        return rc;
    unsigned j = leaf_upper(n, vb);
    *found = false;
    if (j > 0 && n->u.l.key[j - 1] + n->u.l.count[j - 1] > vb) {
        *found = true;
        *ext = vci_leaf_get(n, j - 1);
    } else if (j < n->n) {
        *found = true;
        *ext = vci_leaf_get(n, j);
    }
    vci_nodes_unpin(t->nc, n);
    if (*found || hi >= VCI_VBLOCK_LIMIT)
        return VINF_SUCCESS;

    /* The next leaf starts exactly at hi (keys are exact). */
    uint64_t hi2;
    rc = find_leaf(t, hi, &n, &hi2);
    if (RT_FAILURE(rc))
        return rc;
    if (n->n == 0 || n->u.l.key[0] != hi)
        rc = VCI_CORRUPT(rec_of(t), "next leaf does not start at its range");
    else {
        *found = true;
        *ext = vci_leaf_get(n, 0);
    }
    vci_nodes_unpin(t->nc, n);
    return rc;
}

int vci_tree_get(vci_tree *t, uint64_t key, vci_extent *ext)
{
    vci_node *n;
    uint64_t hi;
    int rc = find_leaf(t, key, &n, &hi);
    if (RT_FAILURE(rc))
        return rc;
    unsigned j = leaf_upper(n, key);
    if (j > 0 && n->u.l.key[j - 1] == key)
        *ext = vci_leaf_get(n, j - 1);
    else
        rc = VERR_NOT_FOUND;
    vci_nodes_unpin(t->nc, n);
    return rc;
}

int vci_tree_is_empty(vci_tree *t, bool *empty)
{
    vci_node *n;
    int rc = vci_nodes_get(t->nc, t->root, &n);
    if (RT_FAILURE(rc))
        return rc;
    *empty = n->type == VCI_NODE_LEAF && n->n == 0;
    vci_nodes_unpin(t->nc, n);
    return VINF_SUCCESS;
}

/* ---- change in place --------------------------------------------------------- */

static bool extent_sane(const vci_extent *x)
{
    return x->count > 0 && x->key < VCI_VBLOCK_LIMIT && x->count <= VCI_VBLOCK_LIMIT - x->key;
}

int vci_tree_put(vci_tree *t, uint64_t oldkey, const vci_extent *nx)
{
    if (!extent_sane(nx))
        return VERR_INTERNAL_ERROR;
    tpath p;
    int rc = descend(t, oldkey, &p);
    if (RT_FAILURE(rc))
        return rc;
    tlevel *leaf = &p.lv[p.depth - 1];
    vci_node *n = leaf->node;
    unsigned j = leaf_upper(n, oldkey);
    if (j == 0 || n->u.l.key[j - 1] != oldkey) {
        rc = VERR_NOT_FOUND;
        goto out_release;
    }
    unsigned i = j - 1;
    if ((i > 0 && n->u.l.key[i - 1] + n->u.l.count[i - 1] > nx->key)
        || (i == 0 && nx->key < leaf->lo)
        || (i + 1 < n->n && nx->key + nx->count > n->u.l.key[i + 1])
        || (i + 1 == n->n && nx->key + nx->count > leaf->hi)) {
        rc = VERR_INTERNAL_ERROR;
        goto out_release;
    }
    vci_leaf_set(n, i, nx);
    vci_nodes_mark_dirty(t->nc, n);
    path_fix(t, &p, p.depth - 1);
out_release:
    path_release(t, &p);
    vci_nodes_changed(t->nc);
    return rc;
}

/* ---- insert ---------------------------------------------------------------- */

int vci_tree_insert_need(vci_tree *t, uint64_t key, unsigned *need)
{
    tpath p;
    int rc = descend(t, key, &p);
    if (RT_FAILURE(rc))
        return rc;
    unsigned full = 0;
    for (unsigned l = p.depth; l-- > 0;) {
        const vci_node *n = p.lv[l].node;
        if (n->n < vci_node_max(n->type))
            break;
        full++;
    }
    *need = full + (full == p.depth ? 1 : 0);
    if (full == p.depth && p.depth >= VCI_MAX_DEPTH)
        rc = VERR_TOO_MUCH_DATA;
    path_release(t, &p);
    return rc;
}

int vci_tree_reserve(vci_tree *t, unsigned need)
{
    if (need > VCI_POOL_MAX)
        return VERR_INTERNAL_ERROR;
    while (t->npool < need) {
        uint64_t addr, got;
        int rc = vci_alloc_run(t->al, VCI_NODE_BLOCKS, VCI_NODE_BLOCKS, VCI_KIND_META, &addr, &got);
        if (RT_FAILURE(rc))
            return rc;
        t->pool[t->npool++] = addr;
    }
    return VINF_SUCCESS;
}

int vci_tree_release_pool(vci_tree *t)
{
    while (t->npool > 0) {
        int rc = vci_alloc_release(t->al, t->pool[t->npool - 1], VCI_NODE_BLOCKS, VCI_KIND_META);
        if (RT_FAILURE(rc))
            return rc;
        t->npool--;
    }
    return VINF_SUCCESS;
}

/* Splits an overflowing node L (pos = where the item went) into L and a new
 * right node *R at a pooled address. */
static int split(vci_tree *t, vci_node *L, unsigned pos, vci_node **R, uint64_t *raddr)
{
    if (t->npool == 0)
        return VERR_INTERNAL_ERROR;
    uint64_t a = t->pool[t->npool - 1];
    int rc = vci_nodes_create(t->nc, a, L->type, R);
    if (RT_FAILURE(rc))
        return rc;
    t->npool--;
    unsigned n = L->n;
    unsigned keep = pos == n - 1 ? n - 1 : n / 2;
    vci_node_copy(*R, 0, L, keep, n - keep);
    (*R)->n = n - keep;
    L->n = keep;
    vci_nodes_mark_dirty(t->nc, L);
    *raddr = a;
    return VINF_SUCCESS;
}

int vci_tree_insert(vci_tree *t, const vci_extent *x)
{
    if (!extent_sane(x))
        return VERR_INTERNAL_ERROR;
    tpath p;
    int rc = descend(t, x->key, &p);
    if (RT_FAILURE(rc))
        return rc;

    unsigned level = p.depth - 1;
    vci_node *leaf = p.lv[level].node;
    unsigned pos = leaf_upper(leaf, x->key);
    if ((pos > 0 && leaf->u.l.key[pos - 1] + leaf->u.l.count[pos - 1] > x->key)
        || (pos == 0 && x->key < p.lv[level].lo)
        || (pos < leaf->n && x->key + x->count > leaf->u.l.key[pos])
        || (pos == leaf->n && x->key + x->count > p.lv[level].hi)) {
        rc = VERR_INTERNAL_ERROR;
        goto out_release;
    }
    vci_node_move(leaf, pos + 1, pos, leaf->n - pos);
    vci_leaf_set(leaf, pos, x);
    leaf->n++;
    vci_nodes_mark_dirty(t->nc, leaf);

    for (;;) {
        vci_node *node = p.lv[level].node;
        vci_node *R = NULL;
        uint64_t raddr = 0;
        if (node->n > vci_node_max(node->type)) {
            rc = split(t, node, pos, &R, &raddr);
            if (RT_FAILURE(rc))
                goto out_release;
        }
        if (level == 0) {
            if (R != NULL) {
                /* The root split: a new root above the two halves. */
                vci_node *nr;
                if (t->npool == 0) {
                    vci_nodes_unpin(t->nc, R);
                    rc = VERR_INTERNAL_ERROR;
                    goto out_release;
                }
                uint64_t na = t->pool[t->npool - 1];
                rc = vci_nodes_create(t->nc, na, VCI_NODE_INTERNAL, &nr);
                if (RT_FAILURE(rc)) {
                    vci_nodes_unpin(t->nc, R);
                    goto out_release;
                }
                t->npool--;
                const vci_ientry e0 = summary(node, p.lv[0].addr), e1 = summary(R, raddr);
                vci_int_set(nr, 0, &e0);
                vci_int_set(nr, 1, &e1);
                nr->n = 2;
                t->root = na;
                t->root_changed = true;
                vci_nodes_set_root(t->nc, na);
                if (t->height != 0)
                    t->height++;
                vci_nodes_unpin(t->nc, nr);
                vci_nodes_unpin(t->nc, R);
            }
            break;
        }
        vci_node *parent = p.lv[level - 1].node;
        unsigned pi = p.lv[level - 1].idx;
        const vci_ientry pe = summary(node, p.lv[level].addr);
        vci_int_set(parent, pi, &pe);
        vci_nodes_mark_dirty(t->nc, parent);
        if (R != NULL) {
            vci_node_move(parent, pi + 2, pi + 1, parent->n - pi - 1);
            const vci_ientry re = summary(R, raddr);
            vci_int_set(parent, pi + 1, &re);
            parent->n++;
            pos = pi + 1;
            vci_nodes_unpin(t->nc, R);
        } else {
            pos = pi;
        }
        level--;
    }
out_release:
    path_release(t, &p);
    vci_nodes_changed(t->nc);
    return rc;
}

/* ---- remove ------------------------------------------------------------------ */

/* Drops every reference the path holds to n (about to be discarded). */
static void path_forget(tpath *p, const vci_node *n)
{
    for (unsigned i = 0; i < p->depth; i++)
        if (p->lv[i].node == n)
            p->lv[i].node = NULL;
}

static int free_node(vci_tree *t, tlevel *lv)
{
    int rc = vci_alloc_release(t->al, lv->addr, VCI_NODE_BLOCKS, VCI_KIND_META);
    vci_nodes_discard(t->nc, lv->node);
    lv->node = NULL;
    return rc;
}

static void ent_delete(vci_tree *t, vci_node *n, unsigned i)
{
    vci_node_move(n, i, i + 1, n->n - i - 1);
    n->n--;
    vci_nodes_mark_dirty(t->nc, n);
}

/* Merges the node at path level `level` with a sibling when it is under a
 * quarter full and both fit in one node.  Afterwards the parent entry of
 * the surviving node is current. */
static int merge_or_fix(vci_tree *t, tpath *p, unsigned level)
{
    tlevel *lv = &p->lv[level], *pl = &p->lv[level - 1];
    vci_node *node = lv->node, *parent = pl->node;
    unsigned pi = pl->idx;
    unsigned low = node->type == VCI_NODE_LEAF ? VCI_LEAF_LOW : VCI_INT_LOW;

    if (node->n >= low || parent->n < 2) {
        const vci_ientry pe = summary(node, lv->addr);
        vci_int_set(parent, pi, &pe);
        vci_nodes_mark_dirty(t->nc, parent);
        return VINF_SUCCESS;
    }
    unsigned si = pi + 1 < parent->n ? pi + 1 : pi - 1;
    const vci_ientry sev = vci_int_get(parent, si), *se = &sev;
    uint64_t shi = si + 1 < parent->n ? parent->u.i.key[si + 1] : pl->hi;
    vci_node *sib;
    int rc = vci_nodes_get(t->nc, se->child, &sib);
    if (RT_FAILURE(rc))
        return rc;
    tlevel sl = { .node = sib, .addr = se->child, .idx = 0, .lo = 0, .hi = shi };
    rc = vci_node_check_child(sib, se, shi, rec_of(t), NULL, 0);
    if (RT_SUCCESS(rc) && (sib->type != node->type))
        rc = VCI_CORRUPT(rec_of(t), "sibling of another node type");
    if (RT_FAILURE(rc)) {
        vci_nodes_unpin(t->nc, sib);
        return rc;
    }
    if (node->n + sib->n > vci_node_max(node->type)) {
        vci_nodes_unpin(t->nc, sib);
        const vci_ientry pe = summary(node, lv->addr);
        vci_int_set(parent, pi, &pe);
        vci_nodes_mark_dirty(t->nc, parent);
        return VINF_SUCCESS;
    }

    tlevel *left = si > pi ? lv : &sl, *right = si > pi ? &sl : lv;
    unsigned li = si > pi ? pi : si;
    vci_node *L = left->node, *R = right->node;
    vci_node_copy(L, L->n, R, 0, R->n);
    L->n += R->n;
    vci_nodes_mark_dirty(t->nc, L);
    const vci_ientry le = summary(L, left->addr);
    vci_int_set(parent, li, &le);
    ent_delete(t, parent, li + 1);
    rc = free_node(t, right);
    if (left == &sl)
        vci_nodes_unpin(t->nc, sib);
    if (si < pi)
        pl->idx = si; /* the path's node is gone; its data now lives left */
    return rc;
}

int vci_tree_remove(vci_tree *t, uint64_t key)
{
    tpath p;
    int rc = descend(t, key, &p);
    if (RT_FAILURE(rc))
        return rc;
    unsigned level = p.depth - 1;
    vci_node *leaf = p.lv[level].node;
    unsigned j = leaf_upper(leaf, key);
    if (j == 0 || leaf->u.l.key[j - 1] != key) {
        rc = VERR_NOT_FOUND;
        goto out_release;
    }
    vci_node_move(leaf, j - 1, j, leaf->n - j);
    leaf->n--;
    vci_nodes_mark_dirty(t->nc, leaf);

    for (; level > 0; level--) {
        tlevel *lv = &p.lv[level];
        if (lv->node == NULL) {
            /* Merged away into its left sibling: refresh that entry. */
            continue;
        }
        if (lv->node->n == 0) {
            vci_node *parent = p.lv[level - 1].node;
            rc = free_node(t, lv);
            ent_delete(t, parent, p.lv[level - 1].idx);
            if (RT_FAILURE(rc))
                goto out_release;
            continue;
        }
        rc = merge_or_fix(t, &p, level);
        if (RT_FAILURE(rc))
            goto out_release;
    }

    /* The root: an internal root without entries becomes an empty leaf; one
     * with a single entry hands over to its child. */
    vci_node *root = p.lv[0].node;
    if (root->type == VCI_NODE_INTERNAL && root->n == 0) {
        root->type = VCI_NODE_LEAF;
        t->height = 1;
        vci_nodes_mark_dirty(t->nc, root);
    }
    while (root->type == VCI_NODE_INTERNAL && root->n == 1) {
        vci_ientry e = vci_int_get(root, 0);
        vci_node *c;
        rc = vci_nodes_get(t->nc, e.child, &c);
        if (RT_FAILURE(rc))
            goto out_release;
        rc = vci_node_check_child(c, &e, VCI_VBLOCK_LIMIT, rec_of(t), NULL, 0);
        if (RT_FAILURE(rc)) {
            vci_nodes_unpin(t->nc, c);
            goto out_release;
        }
        tlevel old = { .node = root, .addr = t->root };
        path_forget(&p, root);
        rc = free_node(t, &old);
        t->root = e.child;
        t->root_changed = true;
        vci_nodes_set_root(t->nc, e.child);
        if (t->height > 1)
            t->height--;
        root = c;
        p.lv[0].node = c; /* keeps c's pin until the path is released */
        p.lv[0].addr = e.child;
        if (RT_FAILURE(rc))
            goto out_release;
    }
out_release:
    path_release(t, &p);
    vci_nodes_changed(t->nc);
    return rc;
}

/* ---- walking ----------------------------------------------------------------------- */

typedef struct walker {
    vci_tree         *t;
    vci_tree_visit_fn fn;
    void             *ctx;
    uint64_t          visits, max_visits;
} walker;

static int walk(walker *w, uint64_t addr, const vci_ientry *e, uint64_t hi, unsigned depth)
{
    if (++w->visits > w->max_visits)
        return VCI_CORRUPT(rec_of(w->t), "tree walk visits more nodes than fit (a shared node)");
    vci_node *n;
    int rc = vci_nodes_get(w->t->nc, addr, &n);
    if (RT_FAILURE(rc))
        return rc;
    rc = check_level(w->t, n, depth);
    if (RT_SUCCESS(rc) && e != NULL)
        rc = vci_node_check_child(n, e, hi, rec_of(w->t), NULL, 0);
    if (RT_SUCCESS(rc))
        rc = w->fn(w->ctx, n, addr, depth);
    for (unsigned i = 0; RT_SUCCESS(rc) && n->type == VCI_NODE_INTERNAL && i < n->n; i++) {
        vci_ientry ce = vci_int_get(n, i);
        uint64_t chi = i + 1 < n->n ? n->u.i.key[i + 1] : hi;
        rc = walk(w, ce.child, &ce, chi, depth + 1);
    }
    vci_nodes_unpin(w->t->nc, n);
    return rc;
}

int vci_tree_walk(vci_tree *t, uint64_t max_visits, vci_tree_visit_fn fn, void *ctx)
{
    walker w = { .t = t, .fn = fn, .ctx = ctx, .visits = 0, .max_visits = max_visits };
    return walk(&w, t->root, NULL, VCI_VBLOCK_LIMIT, 1);
}

/* ---- statistics ----------------------------------------------------------------- */

static int stats_visit(void *ctx, const vci_node *n, uint64_t addr, unsigned depth)
{
    vci_tree_stats *st = ctx;
    (void)addr;
    st->nodes++;
    if (depth > st->depth)
        st->depth = depth;
    if (n->type == VCI_NODE_LEAF) {
        st->leaves++;
        st->extents += n->n;
        for (unsigned i = 0; i < n->n; i++)
            st->blocks += n->u.l.count[i];
    }
    return VINF_SUCCESS;
}

int vci_tree_walk_stats(vci_tree *t, vci_tree_stats *st)
{
    memset(st, 0, sizeof(*st));
    return vci_tree_walk(t, UINT64_MAX, stats_visit, st);
}
