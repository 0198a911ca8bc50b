/*
 * harness/record/record.h - a VDCACHEBACKEND that records another one.
 *
 * vdc_recorder_wrap returns a vtable that forwards every call to a real
 * backend and writes the call, its arguments and what it observed (status,
 * counts, data, strings, UUIDs) as one record of a trace
 * (spec/trace-format.md), in canonical form with `seen=` on every record, so
 * that `vdcc replay` of the result passes against the same backend, and
 * `vdcc replay --strict` demands identical behaviour.
 *
 * Data.  The wrapper puts its own IOINT in front of the image interface list
 * it hands the backend, so every byte moving through an I/O context
 * (IoCtxCopyTo/From, IoCtxSet, IoCtxIsZero, IoCtxSegArrayCreate, and
 * ReadUser/WriteUser, whose bytes are read back from storage) is seen.  A
 * trace line holds at most 16 KiB, so data is described, not pasted: the
 * recorder keeps, per image file, a model of the data last written (as
 * trace generators) and describes a write's source and a hit's bytes by:
 *   - the script's own description (in-process form), sliced to the call;
 *   - the model, when it matches the observed bytes;
 *   - a compact encoding (zero and fill runs, at most 4 KiB of hex);
 *   - otherwise: a write gets a fresh `pattern:` seed (the replay writes
 *     those bytes instead, consistently), a hit gets the model or `any`,
 *     with a comment line saying what could not be kept.
 * In the plugin form (VirtualBox, real guest data) the model is the only
 * description of large writes, so recorded hits are checked against what
 * the recording wrote, not against the guest's bytes.
 *
 * In-process form (`vdcc record --script`): the script's host-side records
 * (file, exists, gone, config) are copied into the output at their place,
 * found through the replay's progress word.
 *
 * Process-wide state: at most VDC_RECORD_MAX_WRAP wrapped vtables exist at
 * once (Probe, Open and Create carry no context pointer, so each wrapped
 * vtable has its own entry points); one lock serializes recorded calls.
 * Handles are named h0..h63 (reused after close), files by the base name of
 * the path the backend was given.
 */
#ifndef VDCC_HARNESS_RECORD_H
#define VDCC_HARNESS_RECORD_H

#include <stdint.h>
#include <stdio.h>

#include "spec/vdcache.h"
#include "harness/trace/trace.h"

#define VDC_RECORD_MAX_WRAP 8

typedef struct vdc_recorder vdc_recorder;

typedef struct vdc_recorder_opts {
    FILE                    *out;      /* receives the trace; not closed */
    const char              *name;     /* the trace's `name`, sanitized; NULL: none */
    const char              *comment;  /* one comment line after the header; NULL: none */
    uint64_t                 caps;     /* the `requires` line; 0: none */
    const vdc_trace         *script;   /* in-process form: the trace being replayed; NULL: plugin form */
    const volatile uint32_t *progress; /* with script: the replay's progress word */
} vdc_recorder_opts;

/* Starts a recording and writes the header.  Returns VINF_SUCCESS,
 * VERR_INVALID_PARAMETER (out NULL, script without progress), VERR_NO_MEMORY
 * or VERR_WRITE_ERROR. */
int vdc_recorder_start(const vdc_recorder_opts *o, vdc_recorder **out);

/* A vtable forwarding to real and recording into rec; valid until
 * vdc_recorder_free.  Returns VINF_SUCCESS, VERR_INVALID_PARAMETER or
 * VERR_TOO_MUCH_DATA (VDC_RECORD_MAX_WRAP wrapped vtables exist). */
int vdc_recorder_wrap(vdc_recorder *rec, const VDCACHEBACKEND *real, const VDCACHEBACKEND **out);

/* Writes what is still pending (the script's trailing host-side records)
 * and flushes.  Returns the first error of the whole recording:
 * VINF_SUCCESS, VERR_WRITE_ERROR, VERR_NO_MEMORY. */
int vdc_recorder_finish(vdc_recorder *rec);

/* Records written so far, and comment lines about data that could not be
 * kept exactly. */
unsigned vdc_recorder_records(const vdc_recorder *rec);
unsigned vdc_recorder_notes(const vdc_recorder *rec);

/* Releases the wrapped vtables and the recorder (instances must be closed). */
void vdc_recorder_free(vdc_recorder *rec);

#endif /* VDCC_HARNESS_RECORD_H */
