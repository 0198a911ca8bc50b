/*
 * harness/trace/trace_write.h - writes traces (record, gen, shrink).
 *
 * The writer emits the canonical text form of spec/trace-format.md: the
 * version line, header lines, then one line per record with every argument
 * and expectation explicit.  Round-trip property (tested): for any trace t,
 * vdc_trace_parse(write(t)) is vdc_trace_equal to t.
 *
 * A writer either collects the text in memory (vdc_tw_new; read it with
 * vdc_tw_text) or streams it to a FILE (vdc_tw_new_file; nothing is kept in
 * memory, vdc_tw_text returns "").  Errors are sticky: after the first
 * failure every call returns the same status and writes nothing, so a caller
 * may check once at the end with vdc_tw_status.
 *
 * Typical use by `vdcc record`: vdc_tw_header once, then for each observed
 * call fill a vdc_record (trace.h) with the arguments, the expectations it
 * wants to assert and the observation (seen_status / seen_count), and call
 * vdc_tw_record.  vdc_tw_comment adds "# ..." lines anywhere.
 */
#ifndef VDCC_HARNESS_TRACE_TRACE_WRITE_H
#define VDCC_HARNESS_TRACE_TRACE_WRITE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "trace.h"

typedef struct vdc_trace_writer vdc_trace_writer;

/* What vdc_tw_header writes after the "vdcc-trace 1" line. */
typedef struct vdc_trace_header {
    const char  *name;          /* `name` line; NULL: none */
    uint64_t     caps;          /* `requires` line (VD_CAP_* names); 0: none */
    const char  *format;        /* `format` line (a backend name); NULL: none */
    unsigned     version;       /* of the version line; 0: VDC_TRACE_VERSION */
    unsigned     nclauses;      /* `clauses` line; 0: none */
    const char *const *clauses;
    const char  *comment;       /* free text, written as "# " lines (split at '\n'); NULL: none */
} vdc_trace_header;

/* A writer collecting into memory.  NULL when out of memory. */
vdc_trace_writer *vdc_tw_new(void);
/* A writer that writes every line to f (not owned, not closed).  A write
 * error on f makes the writer fail with VERR_WRITE_ERROR.  NULL when f is
 * NULL or out of memory. */
vdc_trace_writer *vdc_tw_new_file(FILE *f);
void vdc_tw_free(vdc_trace_writer *w);

/* Writes the version line and the header.  Must come first, once.
 * Returns VINF_SUCCESS, VERR_INVALID_STATE (not first), VERR_INVALID_PARAMETER
 * (a name or clause that the parser would reject), VERR_NO_MEMORY,
 * VERR_WRITE_ERROR. */
int vdc_tw_header(vdc_trace_writer *w, const vdc_trace_header *h);

/* Writes "# text" (one line per '\n'-separated part; control bytes become
 * '?').  Returns VINF_SUCCESS, VERR_INVALID_STATE (before the header),
 * VERR_NO_MEMORY, VERR_WRITE_ERROR. */
int vdc_tw_comment(vdc_trace_writer *w, const char *text);

/* Writes one record in canonical form.  The record is not validated against
 * the trace's state (that is the parser's job) but must be well-formed:
 * VERR_INVALID_PARAMETER for an unknown op, a name the grammar rejects, a
 * segment list that does not cover [off, off+len), too many segments or
 * alternatives.  Also VINF_SUCCESS, VERR_INVALID_STATE (before the header),
 * VERR_NO_MEMORY, VERR_WRITE_ERROR, VERR_BUFFER_OVERFLOW (the line would be
 * longer than VDC_TRACE_MAX_LINE). */
int vdc_tw_record(vdc_trace_writer *w, const vdc_record *r);

/* Header (from t's name, caps and clauses) and every record of t.  Returns
 * the statuses of vdc_tw_header and vdc_tw_record. */
int vdc_tw_trace(vdc_trace_writer *w, const vdc_trace *t);

/* The first failure, or VINF_SUCCESS. */
int vdc_tw_status(const vdc_trace_writer *w);

/* The text written so far (NUL-terminated; *len, if not NULL, gets its
 * length).  Valid until the next write or vdc_tw_free. */
const char *vdc_tw_text(const vdc_trace_writer *w, size_t *len);

/* One record as a single line without newline, canonical form, into
 * buf[0..cb).  Returns VINF_SUCCESS, VERR_INVALID_PARAMETER (as for
 * vdc_tw_record) or VERR_BUFFER_OVERFLOW (truncated, still NUL-terminated). */
int vdc_record_format(const vdc_record *r, char *buf, size_t cb);

#endif /* VDCC_HARNESS_TRACE_TRACE_WRITE_H */
