/*
 * harness/trace/sidecar.h - image sidecars: the bytes of a file that
 * existed before a recording started, kept beside the trace and named by
 * its `image` record (spec/trace-format.md section 4.6, which is normative
 * for the layout below).
 *
 * Layout (integers little-endian):
 *   header  magic "vdccimg1" (8 bytes), u64 size (the file's length),
 *           u64 nruns
 *   run     u64 off, u64 len, u32 kind, u32 reserved (0), u64 seed;
 *           kind 1 (BYTES): len bytes follow; kind 2 (PATTERN): the bytes
 *           are pattern(seed, X) at file offset X, nothing follows
 * Runs are sorted and disjoint, 1..VDC_SIDECAR_MAX_RUN bytes each, inside
 * [0, size); bytes no run covers are zero; the file ends after the last
 * run.  size is at most VDC_TRACE_MAX_SIZE.
 *
 * The reader treats a sidecar as hostile: every field is checked before it
 * is used, nothing is allocated from a field's value (the caller reads a
 * run's bytes in chunks of its own size), a short file is an error.
 * Statuses: VINF_SUCCESS, VINF_EOF (no run left), VERR_FILE_NOT_FOUND,
 * VERR_FILE_IO_ERROR, VERR_VD_GEN_INVALID_HEADER (not a sidecar or a field
 * out of bounds; err says which), VERR_WRITE_ERROR (writer).
 */
#ifndef VDCC_HARNESS_TRACE_SIDECAR_H
#define VDCC_HARNESS_TRACE_SIDECAR_H

#include <stdint.h>
#include <stdio.h>

#include "trace.h"

#define VDC_SIDECAR_MAGIC   "vdccimg1"
#define VDC_SIDECAR_MAX_RUN VDC_TRACE_MAX_XFER

enum { VDC_SIDECAR_BYTES = 1, VDC_SIDECAR_PATTERN = 2 };

typedef struct vdc_sidecar_run {
    uint64_t off, len;
    unsigned kind;
    uint64_t seed;
} vdc_sidecar_run;

typedef struct vdc_sidecar {
    FILE    *f;
    uint64_t size, nruns, next, end; /* end: where the previous run ended */
    uint64_t pending;                /* bytes of the current BYTES run not yet read */
} vdc_sidecar;

/* Opens path and checks its header.  err gets the reason of a failure. */
int  vdc_sidecar_open(const char *path, vdc_sidecar *sc, char *err, size_t cb_err);
/* The next run (VINF_SUCCESS), or VINF_EOF after the last one (when the
 * file also ends there).  A BYTES run's bytes must be read with
 * vdc_sidecar_read before the next call. */
int  vdc_sidecar_next(vdc_sidecar *sc, vdc_sidecar_run *run, char *err, size_t cb_err);
/* Reads the next cb bytes (at most what is left) of the current run. */
int  vdc_sidecar_read(vdc_sidecar *sc, void *buf, size_t cb, char *err, size_t cb_err);
void vdc_sidecar_close(vdc_sidecar *sc);

/* Writer pieces, for the recorder: the header, and one run's header (a
 * BYTES run's bytes follow from the caller).  VINF_SUCCESS or
 * VERR_WRITE_ERROR. */
int vdc_sidecar_put_header(FILE *f, uint64_t size, uint64_t nruns);
int vdc_sidecar_put_run(FILE *f, const vdc_sidecar_run *run);

#endif /* VDCC_HARNESS_TRACE_SIDECAR_H */
