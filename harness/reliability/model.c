/*
 * harness/reliability/model.c - the sparse oracle of model.h.
 *
 * Contract: model.h.  Statuses: VINF_SUCCESS, VERR_NO_MEMORY.  Implements
 * the "last data written" rule of spec/contract.md (READ-1, READ-3, CRASH-1).
 */
#include "model.h"

#include <stdlib.h>
#include <string.h>

#include "../../spec/vdcache.h"

#define PAGE_SHIFT 12
#define PAGE_SIZE  ((uint64_t)1 << PAGE_SHIFT)

#define F_VAL 1u /* val[] holds the last written value */
#define F_ALT 2u /* alt[] holds the data of a failed write since then */
#define F_ANY 4u /* not judged any more */
#define F_PDS 8u /* discarded, not yet committed: val/alt acceptable only after a crash */

typedef struct mpage {
    uint64_t idx;
    uint8_t  fl[PAGE_SIZE];
    uint8_t  val[PAGE_SIZE];
    uint8_t  alt[PAGE_SIZE];
} mpage;

struct vdc_model {
    mpage  **pages; /* sorted by idx */
    size_t   n, cap;
};

vdc_model *vdc_model_new(void)
{
    return calloc(1, sizeof(vdc_model));
}

void vdc_model_reset(vdc_model *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->pages[i]);
    m->n = 0;
}

void vdc_model_free(vdc_model *m)
{
    if (m == NULL)
        return;
    vdc_model_reset(m);
    free(m->pages);
    free(m);
}

/* Index of the first page with idx >= pi. */
static size_t lower(const vdc_model *m, uint64_t pi)
{
    size_t lo = 0, hi = m->n;
    if (hi != 0 && m->pages[hi - 1]->idx < pi)
        return hi;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->pages[mid]->idx < pi)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static mpage *find(const vdc_model *m, uint64_t pi)
{
    size_t i = lower(m, pi);
    return i < m->n && m->pages[i]->idx == pi ? m->pages[i] : NULL;
}

static mpage *get(vdc_model *m, uint64_t pi)
{
    size_t i = lower(m, pi);
    if (i < m->n && m->pages[i]->idx == pi)
        return m->pages[i];
    if (m->n == m->cap) {
        size_t nc = m->cap != 0 ? m->cap * 2 : 64;
        mpage **np = realloc(m->pages, nc * sizeof *np);
        if (np == NULL)
            return NULL;
        m->pages = np;
        m->cap = nc;
    }
    mpage *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->idx = pi;
    memmove(&m->pages[i + 1], &m->pages[i], (m->n - i) * sizeof *m->pages);
    m->pages[i] = p;
    m->n++;
    return p;
}

/* Calls fn on each page piece of [off, off+cb). */
#define FOR_PIECES(off, cb, pi, po, len, body)                                   \
    for (uint64_t pos_ = (off), end_ = (off) + (cb); pos_ < end_;) {             \
        uint64_t pi = pos_ >> PAGE_SHIFT, po = pos_ & (PAGE_SIZE - 1);           \
        uint64_t len = PAGE_SIZE - po;                                           \
        if (len > end_ - pos_)                                                   \
            len = end_ - pos_;                                                   \
        body;                                                                    \
        pos_ += len;                                                             \
    }

int vdc_model_write(vdc_model *m, uint64_t off, const void *data, uint64_t cb)
{
    const uint8_t *src = data;
    FOR_PIECES(off, cb, pi, po, len, {
        mpage *p = get(m, pi);
        if (p == NULL)
            return VERR_NO_MEMORY;
        memcpy(p->val + po, src, (size_t)len);
        memset(p->fl + po, F_VAL, (size_t)len);
        src += len;
    })
    return VINF_SUCCESS;
}

int vdc_model_maybe(vdc_model *m, uint64_t off, const void *data, uint64_t cb)
{
    const uint8_t *src = data;
    FOR_PIECES(off, cb, pi, po, len, {
        mpage *p = get(m, pi);
        if (p == NULL)
            return VERR_NO_MEMORY;
        for (uint64_t i = 0; i < len; i++) {
            uint8_t *f = &p->fl[po + i];
            if (*f & (F_ALT | F_ANY)) {
                *f = F_ANY;
            } else {
                p->alt[po + i] = src[i];
                *f |= F_ALT;
            }
        }
        src += len;
    })
    return VINF_SUCCESS;
}

void vdc_model_discard(vdc_model *m, uint64_t off, uint64_t cb)
{
    FOR_PIECES(off, cb, pi, po, len, {
        mpage *p = find(m, pi);
        if (p != NULL)
            for (uint64_t i = 0; i < len; i++)
                if (p->fl[po + i] != 0)
                    p->fl[po + i] |= F_PDS;
    })
}

void vdc_model_commit_discards(vdc_model *m)
{
    for (size_t i = 0; i < m->n; i++) {
        mpage *p = m->pages[i];
        for (uint64_t j = 0; j < PAGE_SIZE; j++)
            if (p->fl[j] & F_PDS)
                p->fl[j] = 0;
    }
}

bool vdc_model_check_hit(const vdc_model *m, uint64_t off, const uint8_t *buf, uint64_t cb,
                         const vdc_model_alt *inflight, bool after_crash, uint64_t *bad,
                         uint8_t *expected, bool *has_expected)
{
    const mpage *p = NULL;
    uint64_t ppi = UINT64_MAX;
    for (uint64_t i = 0; i < cb; i++) {
        uint64_t x = off + i, pi = x >> PAGE_SHIFT, po = x & (PAGE_SIZE - 1);
        if (pi != ppi) {
            p = find(m, pi);
            ppi = pi;
        }
        uint8_t f = p != NULL ? p->fl[po] : 0;
        uint8_t b = buf[i];
        if ((f & F_PDS) && !after_crash)
            f = 0;
        if ((f & F_ANY) || ((f & F_VAL) && p->val[po] == b) || ((f & F_ALT) && p->alt[po] == b))
            continue;
        if (inflight != NULL && inflight->data != NULL && x >= inflight->off
            && x - inflight->off < inflight->cb && inflight->data[x - inflight->off] == b)
            continue;
        *bad = i;
        *has_expected = (f & F_VAL) != 0;
        *expected = (f & F_VAL) ? p->val[po] : 0; /* p is set whenever f is */
        return false;
    }
    return true;
}

bool vdc_model_next_run(const vdc_model *m, uint64_t from, uint64_t *lo, uint64_t *hi)
{
    size_t i = lower(m, from >> PAGE_SHIFT);
    /* Skip pages that hold nothing any more (all discarded). */
    for (; i < m->n; i++) {
        const mpage *p = m->pages[i];
        bool any = false;
        for (uint64_t j = 0; j < PAGE_SIZE && !any; j++)
            any = p->fl[j] != 0;
        if (any)
            break;
    }
    if (i >= m->n)
        return false;
    size_t j = i;
    while (j + 1 < m->n && m->pages[j + 1]->idx == m->pages[j]->idx + 1)
        j++;
    *lo = m->pages[i]->idx << PAGE_SHIFT;
    *hi = (m->pages[j]->idx + 1) << PAGE_SHIFT;
    if (*lo < from)
        *lo = from;
    return true;
}
