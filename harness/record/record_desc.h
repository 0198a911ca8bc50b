/*
 * harness/record/record_desc.h - describing data for the recorder (record.h).
 *
 * A trace line holds at most 16 KiB, so a recording describes bytes with the
 * trace's generators (trace.h: pattern, zero, fill, hex, any).  Three tools:
 *
 *  - vdc_model: per image file, which generator describes each byte last
 *    written, as sorted disjoint segments (HEX bytes owned by the model).
 *    Writes replace ranges; neighbours one generator describes are joined;
 *    beyond 65536 segments the model is dropped (it then knows nothing, and
 *    says so: vdc_model_get answers 0).
 *  - vdc_data_slice: the part of a trace's description covering a range.
 *  - vdc_encode_bytes: observed bytes as zero/fill runs (16 bytes or more)
 *    and hex, within a segment count and a hex byte budget.
 *
 * Segments returned by vdc_model_get, vdc_data_slice and vdc_encode_bytes
 * point into the model, the description or the bytes they came from: use
 * them before those change.  No status codes: counts (0 = cannot) and void.
 */
#ifndef VDCC_HARNESS_RECORD_DESC_H
#define VDCC_HARNESS_RECORD_DESC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/trace/trace.h"

typedef struct vdc_model {
    vdc_seg *v;       /* sorted, disjoint; HEX bytes owned */
    unsigned n;
    bool     dropped; /* too fragmented (or out of memory): nothing known */
} vdc_model;

/* Forgets everything and frees the segments (the model is empty again). */
void vdc_model_clear(vdc_model *m);
/* Forgets everything and remembers that it cannot know (until cleared). */
void vdc_model_drop(vdc_model *m);
/* [o, o+n) now holds segs[0..ns), which cover exactly that range. */
void vdc_model_set(vdc_model *m, const vdc_seg *segs, unsigned ns, uint64_t o, uint64_t n);
/* Describes [o, o+n) into out[0..max); the number of segments, or 0 when a
 * byte is unknown, the model is dropped or more than max are needed. */
unsigned vdc_model_get(const vdc_model *m, uint64_t o, uint64_t n, vdc_seg *out, unsigned max);

/* The part of d covering [o, o+n) into out[0..max); 0 when d does not cover
 * it, contains `any` there, or needs more than max segments. */
unsigned vdc_data_slice(const vdc_data *d, uint64_t o, uint64_t n, vdc_seg *out, unsigned max);

/* b[0..n), at position start, as zero/fill/hex segments into out[0..max);
 * 0 when that takes more than max segments or hex_budget hex bytes. */
unsigned vdc_encode_bytes(const uint8_t *b, size_t n, uint64_t start, vdc_seg *out, unsigned max, size_t hex_budget);

#endif /* VDCC_HARNESS_RECORD_DESC_H */
