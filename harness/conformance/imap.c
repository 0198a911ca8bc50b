/*
 * harness/conformance/imap.c - the run map of imap.h: the last data written
 * per byte of a virtual disk, as sorted runs of trace data generators.
 *
 * Contract and error codes: imap.h (VINF_SUCCESS, VERR_NO_MEMORY).  The
 * meaning of "last data written" is spec/contract.md's definitions section;
 * the generators are spec/trace-format.md section 5.
 *
 * Invariant kept by every function: runs sorted by start, start < end,
 * run[k].end <= run[k+1].start, no EMPTY cell stored, and no two adjacent
 * (touching) runs with equal cells.  Every operation is O(log n) to find
 * the place plus O(n) to move the tail, which for the few thousand runs a
 * generated trace makes is negligible next to running the backend.
 */
#include "imap.h"

#include <stdlib.h>
#include <string.h>

void vdc_imap_init(vdc_imap *m)
{
    m->v = NULL;
    m->n = 0;
    m->cap = 0;
}

void vdc_imap_free(vdc_imap *m)
{
    free(m->v);
    vdc_imap_init(m);
}

void vdc_imap_clear(vdc_imap *m)
{
    m->n = 0;
}

bool vdc_cell_equal(const vdc_cell *a, const vdc_cell *b)
{
    if (a->kind != b->kind)
        return false;
    if (a->kind != VDC_CELL_DATA)
        return true;
    if (a->seg.kind != b->seg.kind)
        return false;
    switch (a->seg.kind) {
    case VDC_GEN_PATTERN:
        return a->seg.seed == b->seg.seed;
    case VDC_GEN_FILL:
        return a->seg.fill == b->seg.fill;
    case VDC_GEN_HEX:
        return a->seg.hex == b->seg.hex && a->seg.start == b->seg.start;
    default:
        return true;
    }
}

/* Index of the first run whose end is above x (n when none). */
static size_t first_ending_after(const vdc_imap *m, uint64_t x)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->v[mid].end > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Index of the first run at or after `from` whose start is at least x. */
static size_t first_starting_at(const vdc_imap *m, size_t from, uint64_t x)
{
    size_t lo = from, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->v[mid].start >= x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static int reserve(vdc_imap *m, size_t need)
{
    if (need <= m->cap)
        return VINF_SUCCESS;
    size_t cap = m->cap != 0 ? m->cap : 64;
    while (cap < need)
        cap *= 2;
    vdc_imap_run *v = realloc(m->v, cap * sizeof *v);
    if (v == NULL)
        return VERR_NO_MEMORY;
    m->v = v;
    m->cap = cap;
    return VINF_SUCCESS;
}

/* Merges touching equal runs among indices [lo, hi] (clamped). */
static void merge_around(vdc_imap *m, size_t lo, size_t hi)
{
    if (m->n < 2)
        return;
    if (hi >= m->n)
        hi = m->n - 1;
    size_t k = lo;
    while (k < hi && k + 1 < m->n) {
        vdc_imap_run *a = &m->v[k], *b = &m->v[k + 1];
        if (a->end == b->start && vdc_cell_equal(&a->cell, &b->cell)) {
            a->end = b->end;
            memmove(&m->v[k + 1], &m->v[k + 2], (m->n - k - 2) * sizeof *m->v);
            m->n--;
            hi--;
        } else {
            k++;
        }
    }
}

int vdc_imap_set(vdc_imap *m, uint64_t start, uint64_t end, const vdc_cell *cell)
{
    if (start >= end)
        return VINF_SUCCESS;
    size_t i = first_ending_after(m, start);
    size_t j = first_starting_at(m, i, end);
    vdc_imap_run repl[3];
    size_t k = 0;
    if (i < j && m->v[i].start < start)
        repl[k++] = (vdc_imap_run){ m->v[i].start, start, m->v[i].cell };
    if (cell->kind != VDC_CELL_EMPTY)
        repl[k++] = (vdc_imap_run){ start, end, *cell };
    if (i < j && m->v[j - 1].end > end)
        repl[k++] = (vdc_imap_run){ end, m->v[j - 1].end, m->v[j - 1].cell };

    size_t removed = j - i;
    if (k == 0 && removed == 0)
        return VINF_SUCCESS; /* nothing there, nothing to put */
    if (k > removed && reserve(m, m->n + k - removed) != VINF_SUCCESS)
        return VERR_NO_MEMORY;
    memmove(&m->v[i + k], &m->v[j], (m->n - j) * sizeof *m->v);
    memcpy(&m->v[i], repl, k * sizeof *repl);
    m->n = m->n - removed + k;
    merge_around(m, i > 0 ? i - 1 : 0, i + k);
    return VINF_SUCCESS;
}

int vdc_imap_set_data(vdc_imap *m, uint64_t start, uint64_t end, const vdc_data *d)
{
    for (unsigned s = 0; s < d->nsegs; s++) {
        const vdc_seg *g = &d->segs[s];
        uint64_t a = g->start > start ? g->start : start;
        uint64_t b = g->start + g->len < end ? g->start + g->len : end;
        if (a >= b)
            continue;
        vdc_cell c = { .kind = g->kind == VDC_GEN_ANY ? VDC_CELL_ANY : VDC_CELL_DATA, .seg = *g };
        int rc = vdc_imap_set(m, a, b, &c);
        if (rc != VINF_SUCCESS)
            return rc;
    }
    return VINF_SUCCESS;
}

void vdc_imap_walk(const vdc_imap *m, uint64_t start, uint64_t end, vdc_imap_fn fn, void *ctx)
{
    static const vdc_cell empty = { .kind = VDC_CELL_EMPTY };
    size_t i = first_ending_after(m, start);
    uint64_t pos = start;
    while (pos < end) {
        uint64_t stop;
        const vdc_cell *c;
        if (i < m->n && m->v[i].start <= pos) {
            stop = m->v[i].end < end ? m->v[i].end : end;
            c = &m->v[i].cell;
            i++;
        } else {
            stop = i < m->n && m->v[i].start < end ? m->v[i].start : end;
            c = &empty;
        }
        if (!fn(ctx, pos, stop, c))
            return;
        pos = stop;
    }
}

vdc_cell vdc_imap_at(const vdc_imap *m, uint64_t x)
{
    size_t i = first_ending_after(m, x);
    if (i < m->n && m->v[i].start <= x)
        return m->v[i].cell;
    return (vdc_cell){ .kind = VDC_CELL_EMPTY };
}
