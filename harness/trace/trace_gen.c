/*
 * harness/trace/trace_gen.c - the data generators of the trace format.
 *
 * Contract: trace.h, "data generators".  Implements spec/trace-format.md
 * section 5: the position-keyed pattern (5.1) and the expansion and
 * comparison of a segment list.  Pure functions; nothing fails: positions
 * that no segment covers read as 0 (vdc_data_fill) and match only 0
 * (vdc_data_match), ANY segments fill 0 and match anything.
 */
#include "trace.h"

#include <string.h>

uint64_t vdc_pattern_word(uint64_t seed, uint64_t index)
{
    uint64_t x = seed * UINT64_C(0xD1B54A32D192ED03) + (index + 1) * UINT64_C(0x9E3779B97F4A7C15);
    x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
    return x ^ (x >> 31);
}

uint8_t vdc_pattern_byte(uint64_t seed, uint64_t x)
{
    return (uint8_t)(vdc_pattern_word(seed, x >> 3) >> (8 * (x & 7)));
}

/* Writes the pattern bytes of positions [pos, pos+cb) into out. */
static void pattern_fill(uint64_t seed, uint64_t pos, uint8_t *out, size_t cb)
{
    size_t i = 0;
    while (i < cb && ((pos + i) & 7) != 0) {
        out[i] = vdc_pattern_byte(seed, pos + i);
        i++;
    }
    while (cb - i >= 8) {
        uint64_t w = vdc_pattern_word(seed, (pos + i) >> 3);
        for (unsigned k = 0; k < 8; k++)
            out[i + k] = (uint8_t)(w >> (8 * k));
        i += 8;
    }
    while (i < cb) {
        out[i] = vdc_pattern_byte(seed, pos + i);
        i++;
    }
}

/* Expands segment s over [pos, pos+cb), which lies inside it. */
static void seg_fill(const vdc_seg *s, uint64_t pos, uint8_t *out, size_t cb)
{
    switch (s->kind) {
    case VDC_GEN_PATTERN:
        pattern_fill(s->seed, pos, out, cb);
        break;
    case VDC_GEN_FILL:
        memset(out, s->fill, cb);
        break;
    case VDC_GEN_HEX:
        if (s->hex != NULL)
            memcpy(out, s->hex + (pos - s->start), cb);
        else
            memset(out, 0, cb);
        break;
    case VDC_GEN_ZERO:
    case VDC_GEN_ANY:
    default:
        memset(out, 0, cb);
        break;
    }
}

/* Calls fn for every piece of [off, off+cb): the covering segment (or NULL)
 * and the piece.  Segments are sorted and disjoint (parser invariant); the
 * walk does not rely on adjacency. */
typedef bool (*piece_fn)(void *ctx, const vdc_seg *s, uint64_t pos, size_t boff, size_t cb);

static bool walk(const vdc_data *d, uint64_t off, size_t cb, piece_fn fn, void *ctx)
{
    uint64_t pos = off, end = off + cb;
    unsigned i = 0;

    while (pos < end) {
        while (i < d->nsegs && d->segs[i].start + d->segs[i].len <= pos)
            i++;
        const vdc_seg *s = NULL;
        uint64_t piece_end = end;
        if (i < d->nsegs) {
            if (d->segs[i].start <= pos) {
                s = &d->segs[i];
                uint64_t se = s->start + s->len;
                piece_end = se < end ? se : end;
            } else {
                piece_end = d->segs[i].start < end ? d->segs[i].start : end;
            }
        }
        if (!fn(ctx, s, pos, (size_t)(pos - off), (size_t)(piece_end - pos)))
            return false;
        pos = piece_end;
    }
    return true;
}

static bool fill_piece(void *ctx, const vdc_seg *s, uint64_t pos, size_t boff, size_t cb)
{
    uint8_t *out = (uint8_t *)ctx + boff;
    if (s == NULL)
        memset(out, 0, cb);
    else
        seg_fill(s, pos, out, cb);
    return true;
}

void vdc_data_fill(const vdc_data *d, uint64_t off, void *buf, size_t cb)
{
    walk(d, off, cb, fill_piece, buf);
}

typedef struct match_ctx {
    const uint8_t *buf;
    size_t         diff;
    uint8_t        tmp[4096];
} match_ctx;

static bool match_piece(void *ctx, const vdc_seg *s, uint64_t pos, size_t boff, size_t cb)
{
    match_ctx *m = ctx;
    if (s != NULL && s->kind == VDC_GEN_ANY)
        return true;
    for (size_t done = 0; done < cb;) {
        size_t n = cb - done < sizeof m->tmp ? cb - done : sizeof m->tmp;
        if (s == NULL)
            memset(m->tmp, 0, n);
        else
            seg_fill(s, pos + done, m->tmp, n);
        if (memcmp(m->tmp, m->buf + boff + done, n) != 0) {
            for (size_t k = 0; k < n; k++) {
                if (m->tmp[k] != m->buf[boff + done + k]) {
                    m->diff = boff + done + k;
                    return false;
                }
            }
        }
        done += n;
    }
    return true;
}

bool vdc_data_match(const vdc_data *d, uint64_t off, const void *buf, size_t cb, size_t *first_diff)
{
    match_ctx m;
    m.buf = buf;
    m.diff = 0;
    if (walk(d, off, cb, match_piece, &m))
        return true;
    if (first_diff != NULL)
        *first_diff = m.diff;
    return false;
}
