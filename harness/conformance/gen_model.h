/*
 * harness/conformance/gen_model.h - a model of what any correct cache may
 * answer, and the trace records that state it.
 *
 * The generators (gen.h: random and bounded-exhaustive) decide WHICH calls
 * to make; this module decides WHAT EACH CALL MAY ANSWER, from a model of
 * the contract (spec/contract.md), not of one backend:
 *
 *   - per image handle, a vdc_imap (imap.h) of the last data written to
 *     each byte.  A VD-style write (vdwrite) on a read-write instance sets
 *     its whole range (WRITE-1/2: it loops until everything is processed).
 *     A single pfnWrite is known to have processed at least its first byte
 *     (WRITE-1: count >= 1); the rest of its range becomes ANY (new or old
 *     data, the model cannot tell), which a later vdwrite makes exact again.
 *     A discard empties its range (DISCARD-1).  Close and reopen keep
 *     everything (a cache may forget, so every read allows a miss).
 *   - reads are split at every change between "never written" (EMPTY) and
 *     "written" (DATA/ANY): an EMPTY range must miss (READ-3, CREATE-2),
 *     a written range may hit with exactly the modelled bytes or miss
 *     (READ-1, WRITE-2), ANY bytes are not compared.  A `vdread ... fill`
 *     over an EMPTY range writes fresh data on each miss, as VD does, and
 *     the model records it.
 *   - a read-only instance (opened READONLY or switched by SetOpenFlags)
 *     refuses writes and discards with VERR_VD_IMAGE_READ_ONLY and changes
 *     nothing (WRITE-3, DISCARD-3, INFO-3); its UUID setters fail or are
 *     not supported (UUID-4).
 *   - UUIDs: a set answered OK|VERR_NOT_SUPPORTED is expected back on the
 *     next get (UUID-1, UUID-3), across close and reopen (UUID-2).
 * Expectations never demand a hit, so the traces hold for every correct
 * backend; records name the clause they exercise.
 *
 * Usage: vdc_genm_init, then the vdc_genm_* emitters in any valid order
 * (each appends one or more records to the trace, validated by
 * vdc_trace_append exactly like parsed lines), then vdc_genm_take.  Errors
 * are sticky: after the first failure every emitter does nothing and
 * vdc_genm_status / vdc_genm_take return it: VERR_NO_MEMORY,
 * VERR_TOO_MUCH_DATA (trace limits), VERR_INVALID_PARAMETER (a record the
 * trace rejected: a bug in the caller; err says which).
 */
#ifndef VDCC_HARNESS_CONFORMANCE_GEN_MODEL_H
#define VDCC_HARNESS_CONFORMANCE_GEN_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "../trace/trace.h"
#include "imap.h"

#define VDC_GENM_MAX_HANDLES 4

typedef struct vdc_genm_handle {
    char     name[8];        /* "c0", "c1", ... */
    char     file[16];       /* "c0.vci", ... */
    bool     exists;         /* the image file exists (created, not deleted) */
    bool     open, ro;
    unsigned open_flags;
    uint64_t capacity;
    unsigned image_flags;
    vdc_imap data;
    bool     mod_known, uuid_known;
    RTUUID   mod, uuid;
} vdc_genm_handle;

typedef struct vdc_genm {
    vdc_trace      *t;
    int             rc;          /* first failure, sticky */
    char            err[512];
    uint64_t        next_seed;   /* the next fresh pattern seed */
    bool            discard;     /* the trace requires DISCARD */
    unsigned        nh;
    vdc_genm_handle h[VDC_GENM_MAX_HANDLES];
} vdc_genm;

/* Read flavours for vdc_genm_read. */
typedef enum vdc_genm_read_kind {
    VDC_GENM_READ_RAW = 1,   /* one pfnRead per uniform piece (`read`) */
    VDC_GENM_READ_VD,        /* VD's loop (`vdread`) */
    VDC_GENM_READ_FILL       /* VD's loop filling misses (`vdread ... fill`) */
} vdc_genm_read_kind;

/* Starts a trace named name with required caps (VD_CAP_*; DISCARD enables
 * vdc_genm_discard) and nh handles c0..c{nh-1} (1..VDC_GENM_MAX_HANDLES),
 * all closed, no file.  first_seed: the first pattern seed handed out.
 * Returns VINF_SUCCESS, VERR_INVALID_PARAMETER or VERR_NO_MEMORY. */
int  vdc_genm_init(vdc_genm *g, const char *name, uint64_t caps, unsigned nh, uint64_t first_seed);
/* Frees the model and the trace unless taken. */
void vdc_genm_free(vdc_genm *g);
/* The trace built (ownership passes to the caller) and VINF_SUCCESS, or the
 * first failure (the trace is freed, *out NULL). */
int  vdc_genm_take(vdc_genm *g, vdc_trace **out);
int  vdc_genm_status(const vdc_genm *g);
unsigned vdc_genm_nrecords(const vdc_genm *g);

/* A fresh pattern seed (never handed out before in this trace). */
uint64_t vdc_genm_seed(vdc_genm *g);

/* Lifecycle.  create: handle closed; a new empty image (file replaced).
 * open: handle closed, file exists; flags NORMAL/READONLY/...; also checks
 * get-open-flags (INFO-2).  close: handle open; del deletes the image and
 * checks it is gone.  probe: handle closed with its file existing. */
void vdc_genm_create(vdc_genm *g, unsigned hi, uint64_t capacity, unsigned image_flags, const RTUUID *uuid);
void vdc_genm_open(vdc_genm *g, unsigned hi, unsigned open_flags);
void vdc_genm_close(vdc_genm *g, unsigned hi, bool del);
void vdc_genm_probe(vdc_genm *g, unsigned hi);
/* A foreign file (len bytes of pattern seed) probed: must be refused with
 * VERR_VD_GEN_INVALID_HEADER (PROBE-1). */
void vdc_genm_probe_foreign(vdc_genm *g, uint64_t len, uint64_t seed);

/* Data path on an open handle.  cell: the data written (kind DATA with a
 * PATTERN, ZERO or FILL segment; its start is ignored).  len 1..64 MiB. */
void vdc_genm_vdwrite(vdc_genm *g, unsigned hi, uint64_t off, uint64_t len, const vdc_cell *cell);
void vdc_genm_write(vdc_genm *g, unsigned hi, uint64_t off, uint64_t len, const vdc_cell *cell);
void vdc_genm_read(vdc_genm *g, unsigned hi, uint64_t off, uint64_t len, vdc_genm_read_kind kind);
void vdc_genm_flush(vdc_genm *g, unsigned hi);
/* Only when the trace requires DISCARD. */
void vdc_genm_discard(vdc_genm *g, unsigned hi, uint64_t off, uint64_t len);

/* Getters and setters on an open handle. */
void vdc_genm_set_open_flags(vdc_genm *g, unsigned hi, unsigned open_flags);
void vdc_genm_set_mod_uuid(vdc_genm *g, unsigned hi, const RTUUID *u);
void vdc_genm_get_mod_uuid(vdc_genm *g, unsigned hi);
void vdc_genm_set_uuid(vdc_genm *g, unsigned hi, const RTUUID *u);
void vdc_genm_get_uuid(vdc_genm *g, unsigned hi);
/* set-comment then get-comment (INFO-4); comment is printable ASCII. */
void vdc_genm_comment(vdc_genm *g, unsigned hi, const char *comment);

#endif /* VDCC_HARNESS_CONFORMANCE_GEN_MODEL_H */
