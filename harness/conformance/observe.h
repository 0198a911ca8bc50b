/*
 * harness/conformance/observe.h - run a trace against a backend and record
 * what every call answered, without judging it (for `vdcc diff`).
 *
 * vdc_replay (harness/trace/replay.h) judges a trace and stops at the first
 * divergence; a differential run needs the opposite: every call's outcome,
 * whatever the trace expected, so two backends can be compared call by
 * call.  This is a minimal driver of its own over the VDCACHEBACKEND
 * vtable, built on the same host library (harness/host) and the same
 * record semantics (spec/trace-format.md sections 4 and 7: PATH, the
 * VD-style loops, `fill`, UUID variables and their deterministic fresh
 * values), on an in-memory file system.  Expectations in the trace are
 * ignored; the calls are made as written.
 *
 * Lies are judged against a shadow of its own: for each image file, the
 * last data written to each byte (imap.h), updated from the counts THIS
 * backend reported for each successful write (the contract's definition of
 * "last data written"), emptied by discards and by re-creating the image.
 * A hit that delivers any other byte, or hits a never-written byte, sets
 * `lie`.
 *
 * One vdc_obs per record, fixed size, so a parent can read them from shared
 * memory after the child running the backend crashed: records the run did
 * not reach stay VDC_OBS_NOT_RUN.
 *
 * Errors: vdc_observe returns VINF_SUCCESS (the run ended one way or
 * another; see the summary), VERR_INVALID_PARAMETER, VERR_NO_MEMORY,
 * VERR_GENERAL_FAILURE (fork/wait).  No global state.
 */
#ifndef VDCC_HARNESS_CONFORMANCE_OBSERVE_H
#define VDCC_HARNESS_CONFORMANCE_OBSERVE_H

#include <stdbool.h>
#include <stdint.h>

#include "../../spec/vdcache.h"
#include "../trace/trace.h"

typedef enum vdc_obs_end {
    VDC_OBS_NOT_RUN = 0,
    VDC_OBS_DONE,       /* the call returned (or the host-side record ran) */
    VDC_OBS_NULL_CB,    /* the callback the record needs is NULL */
    VDC_OBS_NOT_OPEN,   /* the handle is not open: its create/open failed */
    VDC_OBS_CRASH,      /* the backend died during this call */
    VDC_OBS_TIMEOUT     /* the time limit ran out during this call */
} vdc_obs_end;

/* Protocol violations (spec/trace-format.md section 6.4), as bits. */
#define VDC_OBS_P_ZERO    0x01u /* success (or a miss) with a zero count: VD loops forever */
#define VDC_OBS_P_OVERRUN 0x02u /* a count larger than requested */
#define VDC_OBS_P_CURSOR  0x04u /* moved a different number of bytes than it reported */
#define VDC_OBS_P_NULLBD  0x08u /* create/open succeeded with a NULL backend data */
#define VDC_OBS_P_UNSET   0x10u /* left an output count unset */

typedef struct vdc_obs {
    uint8_t  end;      /* vdc_obs_end */
    uint8_t  proto;    /* VDC_OBS_P_* */
    uint8_t  lie;      /* a hit delivered bytes that are not the last written */
    uint8_t  known;    /* getters of UUIDs/comments: a set succeeded on this image before */
    uint32_t misuse;   /* host misuse during the call */
    int32_t  rc;       /* status; loops: the ending status (7.6/7.7); getters: 0 */
    int32_t  pad_;
    uint64_t count;    /* bytes processed / discarded / hit (loops); getters: the value;
                        * exists: the size; dump: messages printed */
    uint64_t hit, miss;/* reads: bytes served as hits / reported as misses */
    uint64_t lie_off;  /* first lied byte (virtual offset) when lie */
    uint64_t digest;   /* FNV-1a of what was delivered: hit bytes with their offsets,
                        * a UUID, a string */
    uint8_t  uuid[16]; /* UUID getters: the UUID itself (RTUUID.au8), for messages */
} vdc_obs;

typedef struct vdc_observe_summary {
    unsigned calls_run;   /* records that reached VDC_OBS_DONE/NULL_CB/NOT_OPEN */
    bool     crashed, timed_out;
    int      signal;      /* crashed: the signal, or -exit status */
    double   seconds;
} vdc_observe_summary;

/* Runs t against be in this process, filling obs[0..ncalls).  Returns
 * VINF_SUCCESS or VERR_NO_MEMORY (host or buffers). */
int vdc_observe_here(const vdc_trace *t, const VDCACHEBACKEND *be, vdc_obs *obs);

/* The same in a forked child with a time limit (ms > 0); obs must be
 * shared memory (harness/core/isolate.h vdc_iso_shared_new) of ncalls entries. */
int vdc_observe(const vdc_trace *t, const VDCACHEBACKEND *be, uint64_t timeout_ms, vdc_obs *obs,
                vdc_observe_summary *s);

#endif /* VDCC_HARNESS_CONFORMANCE_OBSERVE_H */
