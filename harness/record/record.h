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
 * Images that predate the recording (plugin form): the first probe or open
 * of a file the trace has not made yet copies it, per opts.images, into a
 * sidecar file beside the trace (record_image.h) and writes an `image`
 * record naming it (spec/trace-format.md 4.6), so the replay starts from
 * the same image.  NONE writes what earlier versions did (a probed file as
 * a `file` record, an opened one not at all) and a comment saying the
 * replay will differ; META keeps a VCI image's metadata and replaces its
 * cached data by a pattern (probe, open and every miss replay exactly;
 * hits on that data are recorded as `any`); FULL keeps every byte.  Both
 * store no unallocated range and no run of zero blocks.  A trace with an
 * `image` record is version 2.
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

typedef enum vdc_record_images {
    VDC_RECORD_IMAGES_NONE = 0,
    VDC_RECORD_IMAGES_META,
    VDC_RECORD_IMAGES_FULL
} vdc_record_images;

/* "none", "meta", "full" <-> the mode.  _parse returns VINF_SUCCESS or
 * VERR_INVALID_PARAMETER; _name returns "?" for an unknown mode. */
int         vdc_record_images_parse(const char *s, vdc_record_images *out);
const char *vdc_record_images_name(vdc_record_images m);

/* Opens the trace when the first record is due; path[0..cb) gets where it
 * is (sidecars go beside it).  NULL: the recording is lost (the callee
 * said why on stderr); the calls still reach the backend. */
typedef FILE *vdc_record_open_fn(void *user, char *path, size_t cb);

typedef struct vdc_recorder_opts {
    FILE                    *out;      /* receives the trace; not closed; NULL: open_out */
    const char              *out_path; /* with out: its path, for sidecars (NULL: images are not kept) */
    vdc_record_open_fn      *open_out; /* without out: opens the trace at the first record (closed by _free) */
    void                    *open_user;
    vdc_record_images        images;   /* plugin form: images that predate the recording */
    const char              *name;     /* the trace's `name`, sanitized; NULL: none */
    const char              *comment;  /* one comment line after the header; NULL: none */
    uint64_t                 caps;     /* the `requires` line; 0: none */
    const vdc_trace         *script;   /* in-process form: the trace being replayed; NULL: plugin form */
    const volatile uint32_t *progress; /* with script: the replay's progress word */
} vdc_recorder_opts;

/* Starts a recording and writes the header (with open_out: when the first
 * record is due).  Returns VINF_SUCCESS, VERR_INVALID_PARAMETER (neither
 * out nor open_out, script without progress), VERR_NO_MEMORY or
 * VERR_WRITE_ERROR. */
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
