/*
 * harness/record/record_desc.c - data descriptions for the recorder: the per-file
 * model of the data last written, slices of a trace's descriptions, and the
 * compact encoding of observed bytes.  Contract: record_desc.h.  No status
 * codes (counts and booleans); all memory is the model's own.
 */
#include "record_desc.h"

#include <stdlib.h>
#include <string.h>

#define MODEL_MAX_SEGS 65536u /* per file; beyond it the file's model is dropped */
#define RUN_MIN        16u    /* identical bytes worth a zero/fill segment */

static void seg_release(vdc_seg *s)
{
    if (s->kind == VDC_GEN_HEX)
        free((void *)s->hex);
    s->hex = NULL;
}

/* s restricted to [a, b), a < b inside s; HEX bytes copied when own. */
static bool seg_cut(const vdc_seg *s, uint64_t a, uint64_t b, vdc_seg *out, bool own)
{
    *out = *s;
    out->start = a;
    out->len = b - a;
    if (s->kind != VDC_GEN_HEX)
        return true;
    const uint8_t *src = s->hex + (a - s->start);
    if (!own) {
        out->hex = src;
        return true;
    }
    uint8_t *h = malloc((size_t)(b - a));
    if (h == NULL) {
        /* Owns nothing, so a later release is harmless. */
        out->kind = VDC_GEN_ANY;
        out->hex = NULL;
        return false;
    }
    memcpy(h, src, (size_t)(b - a));
    out->hex = h;
    return true;
}

static bool seg_joinable(const vdc_seg *a, const vdc_seg *b)
{
    return a->kind == b->kind && a->start + a->len == b->start
        && (a->kind == VDC_GEN_ZERO || a->kind == VDC_GEN_ANY
            || (a->kind == VDC_GEN_PATTERN && a->seed == b->seed)
            || (a->kind == VDC_GEN_FILL && a->fill == b->fill));
}

void vdc_model_clear(vdc_model *f)
{
    for (unsigned i = 0; i < f->n; i++)
        seg_release(&f->v[i]);
    free(f->v);
    f->v = NULL;
    f->n = 0;
    f->dropped = false;
}

void vdc_model_drop(vdc_model *f)
{
    vdc_model_clear(f);
    f->dropped = true;
}

/* The model of f now says [o, o+n) holds segs[0..ns) (which cover it). */
void vdc_model_set(vdc_model *f, const vdc_seg *segs, unsigned ns, uint64_t o, uint64_t n)
{
    if (f->dropped || n == 0)
        return;
    vdc_seg *nv = malloc(((size_t)f->n + ns + 2) * sizeof *nv);
    if (nv == NULL) {
        vdc_model_drop(f);
        return;
    }
    unsigned k = 0;
    bool inserted = false, ok = true;
    for (unsigned i = 0; i <= f->n; i++) {
        vdc_seg *s = i < f->n ? &f->v[i] : NULL;
        uint64_t s_end = s != NULL ? s->start + s->len : 0;
        if (s != NULL && s_end <= o) {
            nv[k++] = *s; /* ownership moves */
            continue;
        }
        if (s != NULL && s->start < o)
            ok = ok && seg_cut(s, s->start, o, &nv[k++], true);
        if (!inserted) {
            for (unsigned j = 0; j < ns && ok; j++)
                ok = seg_cut(&segs[j], segs[j].start, segs[j].start + segs[j].len, &nv[k++], true);
            inserted = true;
        }
        if (s == NULL)
            break;
        if (s->start >= o + n) {
            nv[k++] = *s;
            continue;
        }
        if (s_end > o + n)
            ok = ok && seg_cut(s, o + n, s_end, &nv[k++], true);
        seg_release(s);
    }
    free(f->v);
    f->v = nv;
    f->n = k;
    /* Join neighbours that one generator describes. */
    unsigned w = 0;
    for (unsigned i = 0; i < f->n; i++) {
        if (w > 0 && seg_joinable(&f->v[w - 1], &f->v[i]))
            f->v[w - 1].len += f->v[i].len;
        else
            f->v[w++] = f->v[i];
    }
    f->n = w;
    if (!ok || f->n > MODEL_MAX_SEGS)
        vdc_model_drop(f);
}

/* Describes [o, o+n) from the model (HEX pointing into it).  Returns the
 * number of segments, 0 when a byte is unknown or more than max are needed. */
unsigned vdc_model_get(const vdc_model *f, uint64_t o, uint64_t n, vdc_seg *out, unsigned max)
{
    if (f == NULL || f->dropped || n == 0)
        return 0;
    unsigned lo = 0, hi = f->n;
    while (lo < hi) { /* first segment ending after o */
        unsigned mid = lo + (hi - lo) / 2;
        if (f->v[mid].start + f->v[mid].len <= o)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint64_t pos = o;
    unsigned k = 0;
    for (unsigned i = lo; i < f->n && pos < o + n; i++) {
        const vdc_seg *s = &f->v[i];
        if (s->start > pos || k == max)
            return 0;
        uint64_t end = s->start + s->len < o + n ? s->start + s->len : o + n;
        seg_cut(s, pos, end, &out[k++], false);
        pos = end;
    }
    return pos == o + n ? k : 0;
}

/* Slice of a script's description; 0 when it does not cover [o, o+n), has
 * `any` in it (for sources) or needs more than max segments. */
unsigned vdc_data_slice(const vdc_data *d, uint64_t o, uint64_t n, vdc_seg *out, unsigned max)
{
    unsigned k = 0;
    uint64_t pos = o;
    for (unsigned i = 0; i < d->nsegs && pos < o + n; i++) {
        const vdc_seg *s = &d->segs[i];
        if (s->start + s->len <= pos)
            continue;
        if (s->start > pos || s->kind == VDC_GEN_ANY || k == max)
            return 0;
        uint64_t end = s->start + s->len < o + n ? s->start + s->len : o + n;
        seg_cut(s, pos, end, &out[k++], false);
        pos = end;
    }
    return pos == o + n ? k : 0;
}

/* Zero/fill runs and hex for b[0..n) at position start.  0 when it does not
 * fit max segments or the hex budget. */
unsigned vdc_encode_bytes(const uint8_t *b, size_t n, uint64_t start, vdc_seg *out, unsigned max, size_t hex_budget)
{
    unsigned k = 0;
    size_t hex_total = 0, i = 0, hex_from = 0;
    bool in_hex = false;
    while (i <= n) {
        size_t run = 0;
        if (i < n)
            while (i + run < n && b[i + run] == b[i])
                run++;
        bool flush = i == n || run >= RUN_MIN || (in_hex && i - hex_from >= VDC_TRACE_MAX_HEX);
        if (in_hex && flush) {
            size_t len = i - hex_from;
            if (k == max || (hex_total += len) > hex_budget)
                return 0;
            out[k++] = (vdc_seg){ .kind = VDC_GEN_HEX, .start = start + hex_from, .len = len, .hex = b + hex_from };
            in_hex = false;
        }
        if (i == n)
            break;
        if (run >= RUN_MIN) {
            if (k == max)
                return 0;
            out[k++] = (vdc_seg){ .kind = b[i] == 0 ? VDC_GEN_ZERO : VDC_GEN_FILL, .start = start + i, .len = run,
                                  .fill = b[i] };
            i += run;
        } else {
            if (!in_hex) {
                in_hex = true;
                hex_from = i;
            }
            size_t take = run < VDC_TRACE_MAX_HEX - (i - hex_from) ? run : VDC_TRACE_MAX_HEX - (i - hex_from);
            i += take > 0 ? take : 1;
        }
    }
    return k;
}
