/*
 * ref/vci_alloc.c - bitmap page cache, run allocation and block-map
 * counters (spec/vci-format.md sections 4 and 8).  Contract and status
 * codes: vci_alloc.h.
 *
 * Bit order: bit i (LSB = 0) of bitmap byte j is file block 8j+i, so a
 * little-endian 64-bit load of bytes 8w..8w+7 holds blocks 64w..64w+63 in
 * bits 0..63.  Blocks at or past cBlocks are never allocated (scans stop at
 * cBlocks), whatever their padding bits say.
 */
#include "vci_alloc.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define NIL UINT_MAX
#define NHINTS 16u
#define SCAN_WINDOW (UINT64_C(1) << 20)

typedef struct bm_page {
    uint64_t idx;        /* page number, or UINT64_MAX when the slot is empty */
    bool     dirty;
    unsigned hnext;      /* hash chain */
    unsigned lprev, lnext; /* LRU list: head is the most recent */
    uint8_t  data[VCI_BM_PAGE_SIZE];
} bm_page;

struct vci_alloc {
    vci_io   *io;
    uint64_t  cblocks;
    uint64_t  bm_hdr_off;   /* byte offset of the block-map header */
    uint64_t  bm_off;       /* byte offset of the bitmap */
    uint64_t  bm_bytes;     /* bitmap bytes on disk */
    vci_bmhdr bm;
    bool      bm_dirty;
    unsigned  ndirty;       /* dirty pages */

    bm_page **slots;
    unsigned  cap, used;
    unsigned *hash;         /* bucket -> slot, NIL when empty */
    unsigned  hmask;
    unsigned  lru_head, lru_tail;

    uint64_t  cursor;       /* next-fit start */
    uint64_t  hint_addr[NHINTS], hint_len[NHINTS]; /* recently freed, oldest first */
    unsigned  nhints;
    uint64_t  scan_failed_min; /* a full scan found no run of this many */
};

/* ---- page cache --------------------------------------------------------- */

static unsigned bucket_of(const vci_alloc *a, uint64_t idx)
{
    return (unsigned)((idx * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & a->hmask;
}

static void lru_unlink(vci_alloc *a, unsigned s)
{
    bm_page *p = a->slots[s];
    if (p->lprev != NIL)
        a->slots[p->lprev]->lnext = p->lnext;
    else
        a->lru_head = p->lnext;
    if (p->lnext != NIL)
        a->slots[p->lnext]->lprev = p->lprev;
    else
        a->lru_tail = p->lprev;
    p->lprev = p->lnext = NIL;
}

static void lru_push_head(vci_alloc *a, unsigned s)
{
    bm_page *p = a->slots[s];
    p->lprev = NIL;
    p->lnext = a->lru_head;
    if (a->lru_head != NIL)
        a->slots[a->lru_head]->lprev = s;
    a->lru_head = s;
    if (a->lru_tail == NIL)
        a->lru_tail = s;
}

static void hash_remove(vci_alloc *a, unsigned s)
{
    bm_page *p = a->slots[s];
    unsigned *link = &a->hash[bucket_of(a, p->idx)];
    while (*link != NIL) {
        if (*link == s) {
            *link = p->hnext;
            break;
        }
        link = &a->slots[*link]->hnext;
    }
    p->hnext = NIL;
}

static uint64_t page_count(const vci_alloc *a)
{
    return (a->bm_bytes + VCI_BM_PAGE_SIZE - 1) / VCI_BM_PAGE_SIZE;
}

static size_t page_len(const vci_alloc *a, uint64_t idx)
{
    uint64_t start = idx * VCI_BM_PAGE_SIZE;
    uint64_t left = a->bm_bytes - start;
    return left < VCI_BM_PAGE_SIZE ? (size_t)left : VCI_BM_PAGE_SIZE;
}

static int page_write(vci_alloc *a, bm_page *p)
{
    int rc = vci_io_write_meta(a->io, a->bm_off + p->idx * VCI_BM_PAGE_SIZE, p->data, page_len(a, p->idx));
    if (RT_SUCCESS(rc) && p->dirty) {
        p->dirty = false;
        a->ndirty--;
    }
    return rc;
}

/* The cached page idx (loaded if needed, possibly evicting the least
 * recently used one, which is written back first when dirty). */
static int page_get(vci_alloc *a, uint64_t idx, bm_page **out)
{
    for (unsigned s = a->hash[bucket_of(a, idx)]; s != NIL; s = a->slots[s]->hnext) {
        if (a->slots[s]->idx == idx) {
            if (a->lru_head != s) {
                lru_unlink(a, s);
                lru_push_head(a, s);
            }
            *out = a->slots[s];
            return VINF_SUCCESS;
        }
    }

    unsigned s;
    if (a->used < a->cap) {
        bm_page *p = malloc(sizeof(*p));
        if (p == NULL)
            return VERR_NO_MEMORY;
        s = a->used++;
        a->slots[s] = p;
        p->idx = UINT64_MAX;
        p->dirty = false;
        p->hnext = p->lprev = p->lnext = NIL;
    } else {
        s = a->lru_tail;
        bm_page *v = a->slots[s];
        if (v->idx != UINT64_MAX) {
            if (v->dirty) {
                int rc = page_write(a, v);
                if (RT_FAILURE(rc))
                    return rc;
            }
            hash_remove(a, s);
            v->idx = UINT64_MAX;
        }
        lru_unlink(a, s);
    }

    bm_page *p = a->slots[s];
    size_t len = page_len(a, idx);
    memset(p->data, 0, sizeof(p->data));
    int rc = vci_io_read_meta(a->io, a->bm_off + idx * VCI_BM_PAGE_SIZE, p->data, len);
    if (RT_FAILURE(rc)) {
        /* Keep the empty slot at the cold end, ready for reuse. */
        p->idx = UINT64_MAX;
        p->lnext = NIL;
        p->lprev = a->lru_tail;
        if (a->lru_tail != NIL)
            a->slots[a->lru_tail]->lnext = s;
        a->lru_tail = s;
        if (a->lru_head == NIL)
            a->lru_head = s;
        return rc;
    }
    p->idx = idx;
    p->dirty = false;
    unsigned b = bucket_of(a, idx);
    p->hnext = a->hash[b];
    a->hash[b] = s;
    lru_push_head(a, s);
    *out = p;
    return VINF_SUCCESS;
}

static void page_mark_dirty(vci_alloc *a, bm_page *p)
{
    if (!p->dirty) {
        p->dirty = true;
        a->ndirty++;
    }
}

/* ---- lifetime ----------------------------------------------------------- */

int vci_alloc_new(vci_io *io, const vci_header *h, const vci_bmhdr *b, unsigned npages, vci_alloc **out)
{
    vci_alloc *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return VERR_NO_MEMORY;
    if (npages < 2)
        npages = 2;
    a->io = io;
    a->cblocks = h->cblocks;
    a->bm_hdr_off = h->bm_addr * VCI_BLOCK_SIZE;
    a->bm_off = a->bm_hdr_off + VCI_BMHDR_SIZE;
    a->bm_bytes = ((uint64_t)h->bm_blocks - 1) * VCI_BLOCK_SIZE;
    a->bm = *b;
    a->cap = npages;
    unsigned nb = 1;
    while (nb < 2 * npages)
        nb <<= 1;
    a->hmask = nb - 1;
    a->slots = calloc(npages, sizeof(*a->slots));
    a->hash = malloc(nb * sizeof(*a->hash));
    if (a->slots == NULL || a->hash == NULL) {
        free(a->slots);
        free(a->hash);
        free(a);
        return VERR_NO_MEMORY;
    }
    for (unsigned i = 0; i < nb; i++)
        a->hash[i] = NIL;
    a->lru_head = a->lru_tail = NIL;
    a->cursor = 0;
    a->scan_failed_min = UINT64_MAX;
    *out = a;
    return VINF_SUCCESS;
}

void vci_alloc_destroy(vci_alloc *a)
{
    if (a == NULL)
        return;
    for (unsigned i = 0; i < a->used; i++)
        free(a->slots[i]);
    free(a->slots);
    free(a->hash);
    free(a);
}

const vci_bmhdr *vci_alloc_counts(const vci_alloc *a)
{
    return &a->bm;
}

bool vci_alloc_dirty(const vci_alloc *a)
{
    return a->bm_dirty || a->ndirty > 0;
}

int vci_alloc_flush(vci_alloc *a)
{
    for (unsigned i = 0; i < a->used; i++) {
        bm_page *p = a->slots[i];
        if (p->idx != UINT64_MAX && p->dirty) {
            int rc = page_write(a, p);
            if (RT_FAILURE(rc))
                return rc;
        }
    }
    if (a->bm_dirty) {
        uint8_t buf[VCI_BMHDR_SIZE];
        vci_bmhdr_encode(&a->bm, buf);
        int rc = vci_io_write_meta(a->io, a->bm_hdr_off, buf, sizeof(buf));
        if (RT_FAILURE(rc))
            return rc;
        a->bm_dirty = false;
    }
    return VINF_SUCCESS;
}

/* ---- bit ranges ---------------------------------------------------------- */

int vci_alloc_test(vci_alloc *a, uint64_t blk, bool *set)
{
    if (blk >= a->cblocks)
        return VCI_CORRUPT(&a->io->corrupt, "bit tested past the end of the image");
    bm_page *p;
    int rc = page_get(a, blk / VCI_BM_PAGE_BLOCKS, &p);
    if (RT_FAILURE(rc))
        return rc;
    uint64_t in = blk % VCI_BM_PAGE_BLOCKS;
    *set = (p->data[in / 8] >> (in % 8)) & 1;
    return VINF_SUCCESS;
}

enum { OP_EXPECT_CLEAR, OP_EXPECT_SET, OP_SET, OP_CLEAR };

/* Checks (OP_EXPECT_*) or changes (OP_SET/OP_CLEAR) bits [addr, addr+n).
 * A check returns VERR_VD_IMAGE_CORRUPTED (VCI_CORRUPT) at the first wrong
 * bit. */
static int bits_op(vci_alloc *a, uint64_t addr, uint64_t n, int op)
{
    vci_corrupt *rec = &a->io->corrupt;
    uint64_t b = addr, end = addr + n;
    while (b < end) {
        bm_page *p;
        int rc = page_get(a, b / VCI_BM_PAGE_BLOCKS, &p);
        if (RT_FAILURE(rc))
            return rc;
        uint64_t pend = (b / VCI_BM_PAGE_BLOCKS + 1) * VCI_BM_PAGE_BLOCKS;
        if (pend > end)
            pend = end;
        while (b < pend) {
            uint64_t in = b % VCI_BM_PAGE_BLOCKS;
            uint8_t *byte = &p->data[in / 8];
            if (in % 8 == 0 && b + 8 <= pend) {
                /* whole byte */
                switch (op) {
                case OP_EXPECT_CLEAR: if (*byte != 0x00) return VCI_CORRUPT(rec, "marking a used block"); break;
                case OP_EXPECT_SET:   if (*byte != 0xFF) return VCI_CORRUPT(rec, "freeing a free block"); break;
                case OP_SET:          *byte = 0xFF; break;
                default:              *byte = 0x00; break;
                }
                b += 8;
                continue;
            }
            uint8_t mask = (uint8_t)(1u << (in % 8));
            switch (op) {
            case OP_EXPECT_CLEAR: if (*byte & mask) return VCI_CORRUPT(rec, "marking a used block"); break;
            case OP_EXPECT_SET:   if (!(*byte & mask)) return VCI_CORRUPT(rec, "freeing a free block"); break;
            case OP_SET:          *byte |= mask; break;
            default:              *byte &= (uint8_t)~mask; break;
            }
            b++;
        }
        if (op == OP_SET || op == OP_CLEAR)
            page_mark_dirty(a, p);
    }
    return VINF_SUCCESS;
}

static void count_add(vci_alloc *a, uint64_t n, vci_kind kind)
{
    a->bm.free -= n;
    if (kind == VCI_KIND_META)
        a->bm.meta += n;
    else
        a->bm.data += n;
    a->bm_dirty = true;
}

static bool range_ok(const vci_alloc *a, uint64_t addr, uint64_t n)
{
    return n > 0 && addr < a->cblocks && n <= a->cblocks - addr;
}

int vci_alloc_mark(vci_alloc *a, uint64_t addr, uint64_t n, vci_kind kind)
{
    if (!range_ok(a, addr, n) || n > a->bm.free)
        return VCI_CORRUPT(&a->io->corrupt, "range to mark outside the image or above the free count");
    int rc = bits_op(a, addr, n, OP_EXPECT_CLEAR);
    if (RT_SUCCESS(rc))
        rc = bits_op(a, addr, n, OP_SET);
    if (RT_SUCCESS(rc))
        count_add(a, n, kind);
    return rc;
}

/* Remembers a freed range as a place to look first (newest last).  When
 * the list is full the oldest is dropped, and with it the knowledge that a
 * failed scan stays failed. */
static void hint_push(vci_alloc *a, uint64_t addr, uint64_t n)
{
    if (a->nhints == NHINTS) {
        memmove(&a->hint_addr[0], &a->hint_addr[1], (NHINTS - 1) * sizeof(a->hint_addr[0]));
        memmove(&a->hint_len[0], &a->hint_len[1], (NHINTS - 1) * sizeof(a->hint_len[0]));
        a->nhints--;
        a->scan_failed_min = UINT64_MAX;
    }
    a->hint_addr[a->nhints] = addr;
    a->hint_len[a->nhints] = n;
    a->nhints++;
}

static void hint_drop(vci_alloc *a, unsigned i)
{
    memmove(&a->hint_addr[i], &a->hint_addr[i + 1], (a->nhints - i - 1) * sizeof(a->hint_addr[0]));
    memmove(&a->hint_len[i], &a->hint_len[i + 1], (a->nhints - i - 1) * sizeof(a->hint_len[0]));
    a->nhints--;
}

int vci_alloc_release(vci_alloc *a, uint64_t addr, uint64_t n, vci_kind kind)
{
    if (!range_ok(a, addr, n))
        return VCI_CORRUPT(&a->io->corrupt, "range to free outside the image");
    uint64_t have = kind == VCI_KIND_META ? a->bm.meta : a->bm.data;
    if (n > have)
        return VCI_CORRUPT(&a->io->corrupt, "range to free above its kind's count");
    int rc = bits_op(a, addr, n, OP_EXPECT_SET);
    if (RT_SUCCESS(rc))
        rc = bits_op(a, addr, n, OP_CLEAR);
    if (RT_FAILURE(rc))
        return rc;
    a->bm.free += n;
    if (kind == VCI_KIND_META)
        a->bm.meta -= n;
    else
        a->bm.data -= n;
    a->bm_dirty = true;
    hint_push(a, addr, n);
    return VINF_SUCCESS;
}

/* ---- searching ------------------------------------------------------------ */

typedef struct scan_state {
    uint64_t want, min;
    uint64_t amask, phase;    /* preferred start: (addr & amask) == phase */
    uint64_t maxskew;         /* free blocks an aligned start may skip */
    uint64_t best_addr, best_len;
    uint64_t scanned;
    uint64_t plain_at;        /* scanned when a misaligned run of want was seen */
    bool     plain;           /* ... and best_* is that run */
    bool     done;
} scan_state;

/* How far past a misaligned run of `want` a scan keeps looking for an
 * aligned one before it settles for the misaligned run. */
#define ALIGN_WINDOW UINT64_C(4096)

static void scan_close_run(scan_state *st, uint64_t start, uint64_t len)
{
    if (!st->plain && len >= st->min && len > st->best_len) {
        st->best_addr = start;
        st->best_len = len;
    }
}

/* Scans [from, to) (to <= cblocks) for free runs; see vci_alloc.h. */
static int scan(vci_alloc *a, uint64_t from, uint64_t to, scan_state *st)
{
    uint64_t run_start = from, run_len = 0;
    uint64_t b = from;
    while (b < to && !st->done) {
        bm_page *p;
        int rc = page_get(a, b / VCI_BM_PAGE_BLOCKS, &p);
        if (RT_FAILURE(rc))
            return rc;
        uint64_t pend = (b / VCI_BM_PAGE_BLOCKS + 1) * VCI_BM_PAGE_BLOCKS;
        if (pend > to)
            pend = to;
        while (b < pend) {
            uint64_t in = b % VCI_BM_PAGE_BLOCKS;
            uint64_t step = 1;
            int state; /* 0 free, 1 used */
            if (in % 64 == 0 && b + 64 <= pend) {
                uint64_t w = 0;
                for (unsigned i = 0; i < 8; i++)
                    w |= (uint64_t)p->data[in / 8 + i] << (8 * i);
                if (w == 0) {
                    state = 0;
                    step = 64;
                } else if (w == UINT64_MAX) {
                    state = 1;
                    step = 64;
                } else {
                    state = w & 1;
                }
            } else {
                state = (p->data[in / 8] >> (in % 8)) & 1;
            }
            if (state == 0) {
                if (run_len == 0)
                    run_start = b;
                run_len += step;
                uint64_t skew = (st->phase - run_start) & st->amask, as = run_start + skew;
                if (run_len >= st->want && run_start + run_len >= as + st->want && skew <= st->maxskew) {
                    st->best_addr = as; /* aligned (or no alignment asked) */
                    st->best_len = run_start + run_len - as;
                    st->done = true;
                    return VINF_SUCCESS;
                }
                if (run_len >= st->want && !st->plain) {
                    /* Long enough, misaligned: the answer unless an aligned
                     * run turns up soon. */
                    st->best_addr = run_start;
                    st->best_len = run_len;
                    st->plain = true;
                    st->plain_at = st->scanned;
                }
            } else {
                scan_close_run(st, run_start, run_len);
                run_len = 0;
            }
            b += step;
            st->scanned += step;
            if (st->plain && st->scanned - st->plain_at >= ALIGN_WINDOW) {
                st->done = true;
                return VINF_SUCCESS;
            }
            if (st->scanned >= SCAN_WINDOW && (st->best_len >= st->min || run_len >= st->min)) {
                scan_close_run(st, run_start, run_len);
                st->done = true;
                return VINF_SUCCESS;
            }
        }
    }
    scan_close_run(st, run_start, run_len);
    return VINF_SUCCESS;
}

/* The length of the free run starting at blk, counted up to `want`
 * (0 when blk is allocated).  *start is blk. */
static int expand(vci_alloc *a, uint64_t blk, uint64_t want, uint64_t *start, uint64_t *len)
{
    uint64_t b = blk, end = a->cblocks;
    *start = blk;
    *len = 0;
    if (blk >= end)
        return VINF_SUCCESS;
    if (want < end - blk)
        end = blk + want;
    while (b < end) {
        bm_page *p;
        int rc = page_get(a, b / VCI_BM_PAGE_BLOCKS, &p);
        if (RT_FAILURE(rc))
            return rc;
        uint64_t pend = (b / VCI_BM_PAGE_BLOCKS + 1) * VCI_BM_PAGE_BLOCKS;
        if (pend > end)
            pend = end;
        while (b < pend) {
            uint64_t in = b % VCI_BM_PAGE_BLOCKS;
            uint8_t byte = p->data[in / 8];
            if (in % 8 == 0 && b + 8 <= pend && byte == 0) {
                b += 8;
                continue;
            }
            if ((byte >> (in % 8)) & 1) {
                *len = b - blk;
                return VINF_SUCCESS;
            }
            b++;
        }
    }
    *len = b - blk;
    return VINF_SUCCESS;
}

static int take(vci_alloc *a, uint64_t addr, uint64_t n, vci_kind kind)
{
    int rc = bits_op(a, addr, n, OP_SET);
    if (RT_FAILURE(rc))
        return rc;
    count_add(a, n, kind);
    a->cursor = addr + n < a->cblocks ? addr + n : 0;
    return VINF_SUCCESS;
}

/* Allocates [s, s+n) found inside hint i (or outside any hint when i is
 * NIL); what is left of the hinted range after it stays a hint. */
static int take_from(vci_alloc *a, unsigned i, uint64_t s, uint64_t n, vci_kind kind)
{
    int rc = take(a, s, n, kind);
    if (RT_FAILURE(rc) || i == NIL)
        return rc;
    uint64_t haddr = a->hint_addr[i], hend = haddr + a->hint_len[i];
    hint_drop(a, i);
    if (s + n > haddr && s + n < hend)
        hint_push(a, s + n, hend - (s + n));
    return VINF_SUCCESS;
}

/* take_from of a whole run of n blocks at s, reported through addr/got. */
static int take_whole(vci_alloc *a, unsigned i, uint64_t s, uint64_t n, vci_kind kind, uint64_t *addr,
                      uint64_t *got)
{
    int rc = take_from(a, i, s, n, kind);
    if (RT_FAILURE(rc))
        return rc;
    *addr = s;
    *got = n;
    return VINF_SUCCESS;
}

int vci_alloc_run(vci_alloc *a, uint64_t want, uint64_t min, vci_kind kind, uint64_t *addr, uint64_t *got)
{
    return vci_alloc_run_aligned(a, want, min, kind, 1, 0, addr, got);
}

int vci_alloc_run_aligned(vci_alloc *a, uint64_t want, uint64_t min, vci_kind kind, uint64_t align,
                          uint64_t phase, uint64_t *addr, uint64_t *got)
{
    if (min == 0 || want < min || align == 0 || (align & (align - 1)) != 0)
        return VERR_INVALID_PARAMETER;
    if (a->bm.free < min)
        return VERR_DISK_FULL;
    if (want > a->bm.free)
        want = a->bm.free;
    const uint64_t amask = align - 1;
    /* Skipping free blocks to reach an aligned start leaves a gap for later
     * small runs; allowed only while the gap is under 1/1024 of the free
     * space, so a small or nearly full cache stays packed (4 KiB alignment
     * needs about 3.5 MiB free, 64 KiB alignment about 64 MiB). */
    const uint64_t maxskew = a->bm.free / 1024;
    phase &= amask;

    /* 0. An aligned run of `want` around a recent free (a rewrite finds the
     * blocks it just freed: they had the same alignment). */
    for (unsigned i = a->nhints; amask != 0 && i-- > 0;) {
        uint64_t h = a->hint_addr[i], s, len;
        uint64_t skew = (phase - h) & amask, as = h + skew;
        if (skew > maxskew)
            continue;
        int rc = expand(a, as, want, &s, &len);
        if (RT_FAILURE(rc))
            return rc;
        if (len >= want)
            return take_whole(a, i, s, want, kind, addr, got);
    }

    /* 1. Around recent frees: a run of `want` there is taken at once. */
    unsigned best_hint = NIL;
    uint64_t hint_s = 0, hint_len = 0;
    for (unsigned i = a->nhints; i-- > 0;) {
        uint64_t s, len;
        int rc = expand(a, a->hint_addr[i], want, &s, &len);
        if (RT_FAILURE(rc))
            return rc;
        if (len >= want)
            return take_whole(a, i, s, want, kind, addr, got);
        if (len == 0) {
            hint_drop(a, i);
            if (best_hint != NIL && best_hint > i)
                best_hint--;
            continue;
        }
        if (len >= min && len > hint_len) {
            best_hint = i;
            hint_s = s;
            hint_len = len;
        }
    }

    /* 2. Next fit from the cursor, wrapping once, preferring an aligned
     * run of `want` to a misaligned one found shortly before it. */
    scan_state st = { .want = want, .min = min, .amask = amask, .phase = phase, .maxskew = maxskew };
    if (min < a->scan_failed_min) {
        uint64_t from = a->cursor < a->cblocks ? a->cursor : 0;
        int rc = scan(a, from, a->cblocks, &st);
        if (RT_SUCCESS(rc) && !st.done && from > 0)
            rc = scan(a, 0, from, &st);
        if (RT_FAILURE(rc))
            return rc;
        if (st.best_len < min)
            a->scan_failed_min = min; /* the whole bitmap has no such run */
    }

    /* 3. The larger of the two. */
    if (st.best_len >= min && st.best_len >= hint_len) {
        uint64_t n = st.best_len < want ? st.best_len : want;
        int rc = take_from(a, NIL, st.best_addr, n, kind);
        if (RT_FAILURE(rc))
            return rc;
        *addr = st.best_addr;
        *got = n;
        return VINF_SUCCESS;
    }
    if (hint_len >= min) {
        int rc = take_from(a, best_hint, hint_s, hint_len, kind);
        if (RT_FAILURE(rc))
            return rc;
        *addr = hint_s;
        *got = hint_len;
        return VINF_SUCCESS;
    }
    return VERR_DISK_FULL;
}

/* ---- reset ----------------------------------------------------------------- */

int vci_alloc_reset(vci_alloc *a, const uint64_t (*ranges)[2], unsigned n)
{
    uint64_t meta = 0;
    for (unsigned i = 0; i < n; i++) {
        if (!range_ok(a, ranges[i][0], ranges[i][1]))
            return VCI_CORRUPT(&a->io->corrupt, "metadata range to keep outside the image");
        meta += ranges[i][1];
    }
    if (meta > a->cblocks)
        return VCI_CORRUPT(&a->io->corrupt, "metadata to keep exceeds the image");

    /* Forget the cache (nothing in it is worth keeping). */
    for (unsigned s = 0; s < a->used; s++) {
        bm_page *p = a->slots[s];
        if (p->idx != UINT64_MAX)
            hash_remove(a, s);
        p->idx = UINT64_MAX;
        p->dirty = false;
    }
    a->ndirty = 0;

    uint8_t *want = malloc(VCI_BM_PAGE_SIZE), *have = malloc(VCI_BM_PAGE_SIZE);
    int rc = VINF_SUCCESS;
    if (want == NULL || have == NULL) {
        rc = VERR_NO_MEMORY;
        goto out_free;
    }
    uint64_t np = page_count(a);
    for (uint64_t pg = 0; pg < np; pg++) {
        uint64_t first = pg * VCI_BM_PAGE_BLOCKS, last = first + VCI_BM_PAGE_BLOCKS;
        size_t len = page_len(a, pg);
        memset(want, 0, VCI_BM_PAGE_SIZE);
        for (unsigned i = 0; i < n; i++) {
            uint64_t s = ranges[i][0], e = ranges[i][0] + ranges[i][1];
            if (s < first)
                s = first;
            if (e > last)
                e = last;
            for (uint64_t blk = s; blk < e; blk++)
                want[(blk - first) / 8] |= (uint8_t)(1u << ((blk - first) % 8));
        }
        rc = vci_io_read_meta(a->io, a->bm_off + pg * VCI_BM_PAGE_SIZE, have, len);
        if (RT_FAILURE(rc))
            goto out_free;
        if (memcmp(want, have, len) != 0) {
            rc = vci_io_write_meta(a->io, a->bm_off + pg * VCI_BM_PAGE_SIZE, want, len);
            if (RT_FAILURE(rc))
                goto out_free;
        }
    }
    a->bm.managed = a->cblocks;
    a->bm.meta = meta;
    a->bm.data = 0;
    a->bm.free = a->cblocks - meta;
    a->bm_dirty = true;
    a->cursor = 0;
    a->nhints = 0;
    a->scan_failed_min = UINT64_MAX;
out_free:
    free(want);
    free(have);
    return rc;
}
