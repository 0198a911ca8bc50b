/*
 * ref/vci_lru.c - LRU list maintenance by key (spec/vci-format.md section
 * 7).  Contract and status codes: vci_lru.h.
 */
#include "vci_lru.h"

#include <stdlib.h>

void vci_lru_init(vci_lru *l, vci_tree *t, bool enabled, uint64_t head, uint64_t tail)
{
    l->t = t;
    l->enabled = enabled;
    l->head = enabled ? head : VCI_LRU_NONE;
    l->tail = enabled ? tail : VCI_LRU_NONE;
    l->dirty = false;
    l->rstart = l->nreads = 0;
}

void vci_lru_fini(vci_lru *l)
{
    free(l->reads);
    l->reads = NULL;
    l->rstart = l->nreads = 0;
}

void vci_lru_disable(vci_lru *l)
{
    if (l->enabled) {
        l->enabled = false;
        l->head = l->tail = VCI_LRU_NONE;
        l->dirty = true;
    }
    l->rstart = l->nreads = 0;
}

/* VERR_NOT_FOUND means a link pointed nowhere: the list is not usable. */
static int settle(vci_lru *l, int rc)
{
    if (rc == VERR_NOT_FOUND) {
        vci_lru_disable(l);
        return VINF_SUCCESS;
    }
    return rc;
}

enum { SET_PREV, SET_NEXT };

static int set_link(vci_lru *l, uint64_t key, int which, uint64_t value)
{
    vci_extent e;
    int rc = vci_tree_get(l->t, key, &e);
    if (RT_FAILURE(rc))
        return rc;
    if (which == SET_PREV)
        e.prev = value;
    else
        e.next = value;
    return vci_tree_put(l->t, key, &e);
}

/* Links the extent *e (a current copy, not in the list) in as the most
 * recent.  Only its links are rewritten, so a copy taken before its
 * neighbours were relinked (vci_lru_touch) is still good. */
static int push_head_ext(vci_lru *l, vci_extent *e)
{
    uint64_t key = e->key;
    e->prev = VCI_LRU_NONE;
    e->next = l->head;
    int rc = vci_tree_put(l->t, key, e);
    if (RT_FAILURE(rc))
        return rc;
    if (l->head != VCI_LRU_NONE) {
        rc = set_link(l, l->head, SET_PREV, key);
        if (RT_FAILURE(rc))
            return rc;
    } else {
        l->tail = key;
    }
    l->head = key;
    l->dirty = true;
    return VINF_SUCCESS;
}

static int push_head(vci_lru *l, uint64_t key)
{
    vci_extent e;
    int rc = vci_tree_get(l->t, key, &e);
    return RT_SUCCESS(rc) ? push_head_ext(l, &e) : rc;
}

static int unlink_ext(vci_lru *l, const vci_extent *e)
{
    int rc;
    if (e->prev != VCI_LRU_NONE) {
        rc = set_link(l, e->prev, SET_NEXT, e->next);
        if (RT_FAILURE(rc))
            return rc;
    } else {
        l->head = e->next;
    }
    if (e->next != VCI_LRU_NONE) {
        rc = set_link(l, e->next, SET_PREV, e->prev);
        if (RT_FAILURE(rc))
            return rc;
    } else {
        l->tail = e->prev;
    }
    l->dirty = true;
    return VINF_SUCCESS;
}

int vci_lru_push_head(vci_lru *l, uint64_t key)
{
    if (!l->enabled)
        return VINF_SUCCESS;
    return settle(l, push_head(l, key));
}

int vci_lru_unlink(vci_lru *l, const vci_extent *e)
{
    if (!l->enabled)
        return VINF_SUCCESS;
    return settle(l, unlink_ext(l, e));
}

int vci_lru_touch(vci_lru *l, uint64_t key)
{
    if (!l->enabled || l->head == key)
        return VINF_SUCCESS;
    vci_extent e;
    int rc = vci_tree_get(l->t, key, &e);
    if (RT_FAILURE(rc))
        return settle(l, rc);
    rc = unlink_ext(l, &e);
    if (RT_SUCCESS(rc))
        rc = push_head_ext(l, &e); /* no second lookup: e itself did not change */
    return settle(l, rc);
}

int vci_lru_rekey(vci_lru *l, const vci_extent *e, uint64_t oldkey)
{
    if (!l->enabled)
        return VINF_SUCCESS;
    int rc = VINF_SUCCESS;
    if (e->prev != VCI_LRU_NONE)
        rc = set_link(l, e->prev, SET_NEXT, e->key);
    else if (l->head == oldkey)
        l->head = e->key;
    else
        rc = VERR_NOT_FOUND;
    if (RT_SUCCESS(rc)) {
        if (e->next != VCI_LRU_NONE)
            rc = set_link(l, e->next, SET_PREV, e->key);
        else if (l->tail == oldkey)
            l->tail = e->key;
        else
            rc = VERR_NOT_FOUND;
    }
    l->dirty = true;
    return settle(l, rc);
}

int vci_lru_insert_after(vci_lru *l, uint64_t after, uint64_t key)
{
    if (!l->enabled)
        return VINF_SUCCESS;
    vci_extent a, x;
    int rc = vci_tree_get(l->t, after, &a);
    if (RT_SUCCESS(rc))
        rc = vci_tree_get(l->t, key, &x);
    if (RT_FAILURE(rc))
        return settle(l, rc);
    x.prev = after;
    x.next = a.next;
    rc = vci_tree_put(l->t, key, &x);
    if (RT_SUCCESS(rc)) {
        if (a.next != VCI_LRU_NONE)
            rc = set_link(l, a.next, SET_PREV, key);
        else
            l->tail = key;
    }
    if (RT_SUCCESS(rc))
        rc = set_link(l, after, SET_NEXT, key);
    l->dirty = true;
    return settle(l, rc);
}

/* ---- read hits, applied lazily ------------------------------------------- */

void vci_lru_note_read(vci_lru *l, uint64_t key)
{
    if (!l->enabled)
        return;
    if (l->nreads == 0 ? key == l->head
                       : l->reads[(l->rstart + l->nreads - 1) % VCI_LRU_READS] == key)
        return; /* already where this read would put it */
    if (l->reads == NULL) {
        l->reads = malloc(VCI_LRU_READS * sizeof(*l->reads));
        if (l->reads == NULL)
            return; /* recency from reads is advisory */
    }
    if (l->nreads == VCI_LRU_READS) {
        l->rstart = (l->rstart + 1) % VCI_LRU_READS; /* forget the oldest */
        l->nreads--;
    }
    l->reads[(l->rstart + l->nreads) % VCI_LRU_READS] = key;
    l->nreads++;
}

bool vci_lru_reads_pending(const vci_lru *l)
{
    return l->nreads > 0;
}

int vci_lru_apply_reads(vci_lru *l)
{
    while (l->enabled && l->nreads > 0) {
        uint64_t key = l->reads[l->rstart];
        l->rstart = (l->rstart + 1) % VCI_LRU_READS;
        l->nreads--;
        vci_extent e;
        int rc = vci_tree_get(l->t, key, &e);
        if (rc == VERR_NOT_FOUND)
            continue; /* removed, or its key changed, since it was read */
        if (RT_SUCCESS(rc))
            rc = vci_lru_touch(l, key);
        if (RT_FAILURE(rc))
            vci_lru_disable(l);
    }
    l->rstart = l->nreads = 0;
    return VINF_SUCCESS;
}
