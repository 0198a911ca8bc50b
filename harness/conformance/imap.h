/*
 * harness/conformance/imap.h - what each byte of a virtual disk should hold,
 * as a sorted list of runs.
 *
 * The generator's cache model (gen_model.h) and the differential driver's
 * shadow (observe.h) both need "the last data written for a range"
 * (spec/contract.md, definitions) for ranges of up to 2^62 bytes.  Tracking
 * bytes is out of the question; but data in a trace is described by
 * position-keyed generators (spec/trace-format.md section 5), so a write of
 * pattern:S over [a, b) is one run whatever its size, and any sub-range of
 * it can still be checked byte for byte.
 *
 * Concretely, a vdc_imap is an array of runs [start, end) sorted by start,
 * never overlapping, each carrying a cell:
 *   VDC_CELL_DATA  the bytes of `seg` (a trace data segment; positions are
 *                  virtual-disk offsets, a HEX segment is indexed from
 *                  seg.start, which is why the segment keeps its own start);
 *   VDC_CELL_ANY   written, but the model cannot say with what (e.g. the
 *                  tail of a single pfnWrite that may have processed less);
 *                  a hit there is not checked;
 * and bytes outside every run are EMPTY: never written, or discarded since,
 * so a hit there is a lie (READ-3).  Adjacent runs with equal cells are
 * merged, so a long history of writes with few distinct generators stays
 * small.
 *
 * Errors: vdc_imap_set returns VINF_SUCCESS or VERR_NO_MEMORY (the map is
 * unchanged then).  Nothing else fails.  No global state.
 */
#ifndef VDCC_HARNESS_CONFORMANCE_IMAP_H
#define VDCC_HARNESS_CONFORMANCE_IMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../trace/trace.h"

typedef enum vdc_cell_kind { VDC_CELL_EMPTY = 0, VDC_CELL_DATA, VDC_CELL_ANY } vdc_cell_kind;

typedef struct vdc_cell {
    vdc_cell_kind kind;
    vdc_seg       seg;   /* DATA: the generator (kind PATTERN, ZERO, FILL or HEX) */
} vdc_cell;

typedef struct vdc_imap_run {
    uint64_t start, end; /* [start, end), start < end */
    vdc_cell cell;       /* never EMPTY inside the map */
} vdc_imap_run;

typedef struct vdc_imap {
    vdc_imap_run *v;
    size_t        n, cap;
} vdc_imap;

/* An empty map (everything EMPTY).  Free with vdc_imap_free. */
void vdc_imap_init(vdc_imap *m);
void vdc_imap_free(vdc_imap *m);
/* Forgets everything (all EMPTY); keeps the allocation. */
void vdc_imap_clear(vdc_imap *m);

/* Sets [start, end) to *cell (an EMPTY cell removes the range).  start >=
 * end changes nothing.  Returns VINF_SUCCESS or VERR_NO_MEMORY. */
int vdc_imap_set(vdc_imap *m, uint64_t start, uint64_t end, const vdc_cell *cell);

/* Sets [start, end) from a trace data description d (whose segments may
 * extend beyond the range: only their part inside it is used).  Returns
 * VINF_SUCCESS or VERR_NO_MEMORY (the map may then hold part of d). */
int vdc_imap_set_data(vdc_imap *m, uint64_t start, uint64_t end, const vdc_data *d);

/*
 * Walks [start, end) in order as maximal pieces of one cell: calls fn once
 * per piece with its bounds and cell (EMPTY for gaps; DATA and ANY pieces
 * are clipped runs, so piece bounds may be inside a run).  fn returns true
 * to go on, false to stop.  Pieces of the same kind may follow each other
 * (two DATA runs with different generators).
 */
typedef bool (*vdc_imap_fn)(void *ctx, uint64_t start, uint64_t end, const vdc_cell *cell);
void vdc_imap_walk(const vdc_imap *m, uint64_t start, uint64_t end, vdc_imap_fn fn, void *ctx);

/* The cell at position x (EMPTY outside every run). */
vdc_cell vdc_imap_at(const vdc_imap *m, uint64_t x);

/* True when both cells describe the same bytes at every position where both
 * could apply (same kind and generator; HEX segments must share the array
 * and origin). */
bool vdc_cell_equal(const vdc_cell *a, const vdc_cell *b);

#endif /* VDCC_HARNESS_CONFORMANCE_IMAP_H */
