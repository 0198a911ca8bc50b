/*
 * ref/vci_data.c - reads, writes and discards of cached data: lookups,
 * dropping ranges, allocation with eviction, merging adjacent extents
 * (spec/vci-format.md sections 7-9).  Contract and status codes:
 * vci_cache.h.
 *
 * Reads are the hot path and change nothing: a hit records its extent for
 * the LRU list (vci_lru_note_read, applied lazily) and remembers it, so the
 * next read inside the same extent needs no descent while the node cache's
 * generation shows no change.
 *
 * Every change to the tree happens after the nodes it needs are reserved
 * (ensure_insert), so a change stops half-way only on an I/O error or
 * corruption; then the instance is broken (vci_state_break) and the unclean
 * flag guarantees the next open forgets the image.  No write or discard
 * returns success before the unclean flag is durable (finish).
 */
#include "vci_cache_int.h"
#include "vci_verify.h"

#include <string.h>

/* ---- eviction and allocation ------------------------------------------------ */

/* Removes one extent: the LRU tail, or the lowest key when the list is off.
 * Read hits not yet applied to the list are applied first, so the tail is
 * the extent least recently written or read.  VERR_DISK_FULL when the tree
 * is empty. */
static int evict_one(vci_state *s)
{
    vci_extent e;
    bool found = false;
    int rc = vci_lru_apply_reads(&s->lru);
    if (RT_FAILURE(rc))
        return rc;
    if (s->lru.enabled && s->lru.tail != VCI_LRU_NONE) {
        rc = vci_tree_get(&s->tree, s->lru.tail, &e);
        if (RT_SUCCESS(rc))
            found = true;
        else if (rc == VERR_NOT_FOUND)
            vci_lru_disable(&s->lru);
        else
            return rc;
    } else if (s->lru.enabled) {
        bool empty;
        rc = vci_tree_is_empty(&s->tree, &empty);
        if (RT_FAILURE(rc))
            return rc;
        if (empty)
            return VERR_DISK_FULL;
        vci_lru_disable(&s->lru); /* extents but no list: the list is broken */
    }
    if (!found) {
        rc = vci_tree_find_ge(&s->tree, 0, &found, &e);
        if (RT_FAILURE(rc))
            return rc;
        if (!found)
            return VERR_DISK_FULL;
    }
    rc = vci_lru_unlink(&s->lru, &e);
    if (RT_SUCCESS(rc))
        rc = vci_tree_remove(&s->tree, e.key);
    if (RT_SUCCESS(rc))
        rc = vci_alloc_release(s->al, e.addr, e.count, VCI_KIND_DATA);
    return rc;
}

/* A run of 1..want fresh data blocks for virtual blocks from vb, evicting
 * until there is one.  The run preferably starts at the same offset as vb
 * within a 64 KiB (want >= 128 blocks) or 4 KiB (want >= 8) unit, so that
 * aligned guest I/O stays aligned in the file: the host's page cache reads
 * and writes aligned ranges markedly faster (whole pages, large folios). */
static int alloc_data(vci_state *s, uint64_t vb, uint64_t want, uint64_t *addr, uint64_t *got)
{
    uint64_t align = want >= 128 ? 128 : want >= 8 ? 8 : 1;
    for (;;) {
        int rc = vci_alloc_run_aligned(s->al, want, 1, VCI_KIND_DATA, align, vb, addr, got);
        if (rc != VERR_DISK_FULL)
            return rc;
        rc = evict_one(s);
        if (RT_FAILURE(rc))
            return rc;
    }
}

/* Reserves the nodes an insert of key needs, evicting when there is no room.
 * *changed tells that something was evicted (the caller re-examines the
 * tree).  VERR_TOO_MUCH_DATA or VERR_DISK_FULL: the insert cannot be made;
 * the caller forgets the data instead. */
static int ensure_insert(vci_state *s, uint64_t key, bool *changed)
{
    unsigned need;
    *changed = false;
    int rc = vci_tree_insert_need(&s->tree, key, &need);
    if (RT_FAILURE(rc))
        return rc;
    rc = vci_tree_reserve(&s->tree, need);
    if (rc != VERR_DISK_FULL)
        return rc;
    rc = evict_one(s);
    if (RT_FAILURE(rc))
        return rc;
    *changed = true;
    return VINF_SUCCESS;
}

static bool cannot_insert(int rc)
{
    return rc == VERR_TOO_MUCH_DATA || rc == VERR_DISK_FULL;
}

/* ---- dropping ranges ----------------------------------------------------------- */

/* Drops virtual blocks [a, b) from every extent (spec section 9). */
static int drop_range(vci_state *s, uint64_t a, uint64_t b)
{
    for (;;) {
        vci_extent e;
        bool found;
        int rc = vci_tree_find_ge(&s->tree, a, &found, &e);
        if (RT_FAILURE(rc))
            return rc;
        if (!found || e.key >= b)
            return VINF_SUCCESS;
        uint64_t end = e.key + e.count;
        vci_extent ne = e;

        if (e.key < a && end > b) {
            /* Strictly inside: split into [key, a) and [b, end). */
            bool changed;
            rc = ensure_insert(s, b, &changed);
            bool keep_right = RT_SUCCESS(rc);
            if (RT_FAILURE(rc) && !cannot_insert(rc))
                return rc;
            if (keep_right && changed)
                continue; /* something was evicted: look again */
            ne.count = (uint32_t)(a - e.key);
            rc = vci_tree_put(&s->tree, e.key, &ne);
            if (RT_FAILURE(rc))
                return rc;
            uint64_t cut = a - e.key;
            if (keep_right) {
                vci_extent r = { .prev = VCI_LRU_NONE, .next = VCI_LRU_NONE, .key = b,
                                 .count = (uint32_t)(end - b), .addr = e.addr + (b - e.key) };
                rc = vci_tree_insert(&s->tree, &r);
                if (RT_SUCCESS(rc))
                    rc = vci_lru_insert_after(&s->lru, e.key, b);
                if (RT_SUCCESS(rc))
                    rc = vci_alloc_release(s->al, e.addr + cut, b - a, VCI_KIND_DATA);
            } else {
                rc = vci_alloc_release(s->al, e.addr + cut, end - a, VCI_KIND_DATA);
            }
            return rc;
        }
        if (e.key < a) {
            /* Overlaps the start of the range: keep [key, a). */
            uint64_t cut = a - e.key;
            ne.count = (uint32_t)cut;
            rc = vci_tree_put(&s->tree, e.key, &ne);
            if (RT_SUCCESS(rc))
                rc = vci_alloc_release(s->al, e.addr + cut, end - a, VCI_KIND_DATA);
            if (RT_FAILURE(rc))
                return rc;
            continue;
        }
        if (end > b) {
            /* Overlaps the end of the range: keep [b, end). */
            uint64_t cut = b - e.key;
            ne.key = b;
            ne.addr = e.addr + cut;
            ne.count = (uint32_t)(e.count - cut);
            rc = vci_tree_put(&s->tree, e.key, &ne);
            if (RT_SUCCESS(rc))
                rc = vci_lru_rekey(&s->lru, &ne, e.key);
            if (RT_SUCCESS(rc))
                rc = vci_alloc_release(s->al, e.addr, cut, VCI_KIND_DATA);
            return rc;
        }
        /* Entirely inside. */
        rc = vci_lru_unlink(&s->lru, &e);
        if (RT_SUCCESS(rc))
            rc = vci_tree_remove(&s->tree, e.key);
        if (RT_SUCCESS(rc))
            rc = vci_alloc_release(s->al, e.addr, e.count, VCI_KIND_DATA);
        if (RT_FAILURE(rc))
            return rc;
    }
}

/* ---- recording new data ---------------------------------------------------------- */

/* Records virtual blocks [vb, vb+n) as stored at [addr, addr+n), merging with
 * neighbours that are contiguous both virtually and on disk; the result is
 * the most recent extent.  [vb, vb+n) holds no extent on entry. */
static int place(vci_state *s, uint64_t vb, uint64_t n, uint64_t addr)
{
    for (;;) {
        vci_extent p, nx;
        bool found = false;
        uint64_t next;
        int rc;

        /* The extent ending at vb, contiguous on disk? */
        if (vb > 0) {
            rc = vci_tree_lookup(&s->tree, vb - 1, &found, &p, &next);
            if (RT_FAILURE(rc))
                return rc;
            found = found && p.key + p.count == vb && p.addr + p.count == addr
                 && (uint64_t)p.count + n <= VCI_COUNT_MAX;
        }
        if (found) {
            uint64_t grow = n;
            vci_extent sx;
            rc = vci_tree_get(&s->tree, vb + n, &sx);
            if (RT_SUCCESS(rc) && sx.addr == addr + n && (uint64_t)p.count + n + sx.count <= VCI_COUNT_MAX) {
                rc = vci_lru_unlink(&s->lru, &sx);
                if (RT_SUCCESS(rc))
                    rc = vci_tree_remove(&s->tree, sx.key);
                if (RT_SUCCESS(rc))
                    rc = vci_tree_get(&s->tree, p.key, &p); /* its links may have changed */
                if (RT_FAILURE(rc))
                    return rc;
                grow += sx.count;
            } else if (RT_FAILURE(rc) && rc != VERR_NOT_FOUND) {
                return rc;
            }
            nx = p;
            nx.count = (uint32_t)(p.count + grow);
            rc = vci_tree_put(&s->tree, p.key, &nx);
            if (RT_SUCCESS(rc))
                rc = vci_lru_touch(&s->lru, p.key);
            return rc;
        }

        /* The extent starting at vb+n, contiguous on disk? */
        rc = vci_tree_get(&s->tree, vb + n, &p);
        if (RT_SUCCESS(rc) && p.addr == addr + n && (uint64_t)p.count + n <= VCI_COUNT_MAX) {
            nx = p;
            nx.key = vb;
            nx.addr = addr;
            nx.count = (uint32_t)(p.count + n);
            rc = vci_tree_put(&s->tree, p.key, &nx);
            if (RT_SUCCESS(rc))
                rc = vci_lru_rekey(&s->lru, &nx, p.key);
            if (RT_SUCCESS(rc))
                rc = vci_lru_touch(&s->lru, vb);
            return rc;
        }
        if (RT_FAILURE(rc) && rc != VERR_NOT_FOUND)
            return rc;

        /* A new extent. */
        bool changed;
        rc = ensure_insert(s, vb, &changed);
        if (cannot_insert(rc))
            return vci_alloc_release(s->al, addr, n, VCI_KIND_DATA); /* forget it */
        if (RT_FAILURE(rc))
            return rc;
        if (changed)
            continue;
        vci_extent x = { .prev = VCI_LRU_NONE, .next = VCI_LRU_NONE, .key = vb, .count = (uint32_t)n,
                         .addr = addr };
        rc = vci_tree_insert(&s->tree, &x);
        if (RT_SUCCESS(rc))
            rc = vci_lru_push_head(&s->lru, vb);
        return rc;
    }
}

/* Before the first change of a session on an image read from disk: prove
 * the allocation consistent (vci_verify.h), or forget the image. */
static int ensure_verified(vci_state *s)
{
    if (s->verified)
        return VINF_SUCCESS;
    int rc = vci_verify_allocation(&s->tree, &s->io, &s->hdr, vci_alloc_counts(s->al));
    if (rc == VERR_VD_IMAGE_CORRUPTED)
        rc = vci_state_forget(s);
    if (RT_SUCCESS(rc))
        s->verified = true;
    return rc;
}

/* ---- the three operations ----------------------------------------------------------- */

static int check_args(const vci_cache *c, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *pcb)
{
    if (ctx == NULL || pcb == NULL || cb == 0 || off + cb < off)
        return VERR_INVALID_PARAMETER;
    if (c->s == NULL)
        return VERR_VD_NOT_OPENED;
    return VINF_SUCCESS;
}

int vci_cache_read(vci_cache *c, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *pcb)
{
    int rc = check_args(c, off, cb, ctx, pcb);
    if (RT_FAILURE(rc))
        return rc;
    vci_state *s = c->s;
    if (s->all_miss || s->broken_rc != VINF_SUCCESS) {
        *pcb = cb;
        return VERR_VD_BLOCK_FREE;
    }
    uint64_t vb = off / VCI_BLOCK_SIZE, next = VCI_VBLOCK_LIMIT;
    vci_extent e;
    bool found;
    if (s->last_gen != 0 && s->last_gen == vci_nodes_gen(s->nc)
        && vb >= s->last.key && vb - s->last.key < s->last.count) {
        e = s->last; /* the tree has not changed since it held this extent */
        found = true;
    } else {
        rc = vci_tree_lookup(&s->tree, vb, &found, &e, &next);
        if (RT_FAILURE(rc))
            return rc;
        if (found) {
            s->last = e;
            s->last_gen = vci_nodes_gen(s->nc);
        }
    }
    uint64_t inblk = off % VCI_BLOCK_SIZE;
    if (!found) {
        /* next > vb, so the miss is at least the rest of this block. */
        uint64_t blocks = next - vb;
        uint64_t miss = blocks > (UINT64_MAX / VCI_BLOCK_SIZE) ? UINT64_MAX : blocks * VCI_BLOCK_SIZE - inblk;
        *pcb = miss < cb ? (size_t)miss : cb;
        return VERR_VD_BLOCK_FREE;
    }
    uint64_t avail = (e.key + e.count - vb) * VCI_BLOCK_SIZE - inblk;
    size_t len = avail < cb ? (size_t)avail : cb;
    uint64_t foff = (e.addr + (vb - e.key)) * VCI_BLOCK_SIZE + inblk;
    rc = vci_io_read_user(&s->io, foff, ctx, len);
    if (RT_FAILURE(rc))
        return rc;
    *pcb = len;
    if (!s->readonly)
        vci_lru_note_read(&s->lru, e.key); /* applied lazily (vci_lru.h) */
    return VINF_SUCCESS;
}

/* Ends a write or discard: reserved nodes left over are freed, a failure
 * breaks the instance, and success is reported only once the unclean flag
 * is durable.  A change that touched no block on disk (a discard, a
 * partial block dropped) lives in memory only, yet what the cache would
 * serve changed: a crash must not bring the old mapping back as clean. */
static int finish(vci_state *s, int rc)
{
    int rc2 = vci_tree_release_pool(&s->tree);
    if (RT_SUCCESS(rc))
        rc = rc2;
    if (RT_SUCCESS(rc))
        rc = vci_io_begin(&s->io);
    if (RT_FAILURE(rc))
        return vci_state_break(s, rc);
    return VINF_SUCCESS;
}

int vci_cache_write(vci_cache *c, uint64_t off, size_t cb, PVDIOCTX ctx, size_t *pcb)
{
    int rc = check_args(c, off, cb, ctx, pcb);
    if (RT_FAILURE(rc))
        return rc;
    vci_state *s = c->s;
    if (s->readonly)
        return VERR_VD_IMAGE_READ_ONLY;
    if (s->broken_rc != VINF_SUCCESS)
        return s->broken_rc;
    rc = ensure_verified(s);
    if (RT_FAILURE(rc))
        return vci_state_break(s, rc);
    uint64_t vb = off / VCI_BLOCK_SIZE;

    if (off % VCI_BLOCK_SIZE != 0 || cb < VCI_BLOCK_SIZE) {
        /* A partial block: taken, forgotten, and the block dropped. */
        size_t part = VCI_BLOCK_SIZE - (size_t)(off % VCI_BLOCK_SIZE);
        if (part > cb)
            part = cb;
        uint8_t scratch[VCI_BLOCK_SIZE];
        size_t got = s->ioint->pfnIoCtxCopyFrom(s->ioint->Core.pvUser, ctx, scratch, part);
        if (got != part)
            return VERR_INVALID_PARAMETER;
        rc = finish(s, drop_range(s, vb, vb + 1));
        if (RT_FAILURE(rc))
            return rc;
        *pcb = part;
        return VINF_SUCCESS;
    }

    uint64_t n = cb / VCI_BLOCK_SIZE;
    if (n > VCI_COUNT_MAX)
        n = VCI_COUNT_MAX;
    rc = drop_range(s, vb, vb + n);
    uint64_t addr = 0, got = 0;
    if (RT_SUCCESS(rc))
        rc = alloc_data(s, vb, n, &addr, &got);
    if (RT_FAILURE(rc))
        return finish(s, rc);
    rc = vci_io_write_user(&s->io, addr * VCI_BLOCK_SIZE, ctx, (size_t)(got * VCI_BLOCK_SIZE));
    if (RT_FAILURE(rc)) {
        /* The tree is intact: give the blocks back and report the failure. */
        int rc2 = vci_alloc_release(s->al, addr, got, VCI_KIND_DATA);
        if (RT_FAILURE(rc2))
            return finish(s, rc2);
        rc2 = finish(s, VINF_SUCCESS);
        return RT_FAILURE(rc2) ? rc2 : rc;
    }
    rc = finish(s, place(s, vb, got, addr));
    if (RT_FAILURE(rc))
        return rc;
    *pcb = (size_t)(got * VCI_BLOCK_SIZE);
    return VINF_SUCCESS;
}

int vci_cache_discard(vci_cache *c, uint64_t off, size_t cb)
{
    if (cb == 0 || off + cb < off)
        return VERR_INVALID_PARAMETER;
    if (c->s == NULL)
        return VERR_VD_NOT_OPENED;
    vci_state *s = c->s;
    if (s->readonly)
        return VERR_VD_IMAGE_READ_ONLY;
    if (s->broken_rc != VINF_SUCCESS)
        return s->broken_rc;
    int rc = ensure_verified(s);
    if (RT_FAILURE(rc))
        return vci_state_break(s, rc);
    uint64_t a = off / VCI_BLOCK_SIZE;
    uint64_t b = (off + cb) / VCI_BLOCK_SIZE + ((off + cb) % VCI_BLOCK_SIZE != 0);
    if (b > VCI_VBLOCK_LIMIT)
        b = VCI_VBLOCK_LIMIT;
    return finish(s, drop_range(s, a, b));
}
