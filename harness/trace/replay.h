/*
 * harness/trace/replay.h - runs a trace against a VDCACHEBACKEND.
 *
 * The replay engine plays VD's part: it builds a fresh vdc_host (harness/host)
 * over a scratch storage, calls the backend exactly as VD would for each
 * record (I/O contexts over buffers it owns, the probe-limited interface list
 * for Probe, the full lists otherwise), and checks every result against the
 * record's expectations (spec/trace-format.md, section 7 "Replay semantics").
 * The first divergence stops the replay and is explained in r->message: the
 * call number and record text, expected versus actual (status names, and for
 * data the first differing offset with 16 bytes of hex context each side),
 * and the records that led up to it.
 *
 * The replay never trusts the backend: counts larger than requested, success
 * with zero bytes ("VD would loop forever"), a miss that moved data, a NULL
 * callback VD calls unconditionally, host misuse, storage handles left open:
 * each is a failure with its own message, never a crash of the harness (a
 * backend that crashes by itself takes the process down; run replays in a
 * child to survive that, as the cli runner does).
 *
 * Threading: no global state; one replay per thread.
 */
#ifndef VDCC_HARNESS_TRACE_REPLAY_H
#define VDCC_HARNESS_TRACE_REPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../../spec/vdcache.h"
#include "trace.h"

/* Capacities every cache takes (spec/contract.md CREATE-1): a create of one
 * of them refused with VERR_VD_INVALID_SIZE fails instead of skipping. */
#define VDC_CAPACITY_ANY_MIN  ((uint64_t)1 << 20)
#define VDC_CAPACITY_ANY_MAX  ((uint64_t)1 << 30)
#define VDC_CAPACITY_ANY_UNIT ((uint64_t)64 << 10)

typedef enum vdc_outcome { VDC_PASS = 0, VDC_FAIL, VDC_SKIP, VDC_ERROR } vdc_outcome;
typedef struct vdc_replay_opts {
    const VDCACHEBACKEND *backend;
    const char *scratch_dir;        /* directory for image files; NULL = in-memory fs */
    bool strict;                    /* demand identity with the recording */
    FILE *report;                   /* where divergences are explained (may be NULL) */
    unsigned context_calls;         /* calls shown before a divergence; 0 = 5 */
    volatile uint32_t *progress;    /* if non-NULL, set to the 1-based call number before each call (shared memory, read by a parent after a crash) */
} vdc_replay_opts;
typedef struct vdc_replay_result {
    vdc_outcome outcome;
    unsigned calls_run;             /* records executed */
    unsigned fail_call;             /* 1-based record number of the first divergence, 0 if none */
    unsigned fail_line;             /* its source line */
    unsigned warnings;              /* SHOULD-clause (quality) failures: counted, not fatal */
    uint64_t misuse;                /* host misuse count (backend called the host wrongly) */
    char message[2048];             /* the divergence (or skip reason), multi-line ok */
} vdc_replay_result;
/* Runs every record of t against o->backend via a fresh vdc_host.
 * Returns VINF_SUCCESS when the replay ran to a verdict (see r->outcome),
 * or a failure status when it could not run (no memory, scratch dir unusable).
 *
 * Contract details:
 *  - Returns VINF_SUCCESS (verdict in r->outcome), VERR_INVALID_PARAMETER
 *    (t, o, o->backend or r is NULL), VERR_NO_MEMORY (host, fs or buffers
 *    could not be allocated), VERR_PATH_NOT_FOUND (scratch_dir does not
 *    exist or is not a directory).  On a failure status r->outcome is
 *    VDC_ERROR and r->message says why (when r is not NULL).
 *  - Outcomes: VDC_PASS (every MUST expectation held; warnings may be > 0),
 *    VDC_FAIL (the backend diverged: first divergence in r->message),
 *    VDC_SKIP (the backend lacks a capability the trace requires, or a
 *    callback the trace calls that VD itself never calls is NULL),
 *    VDC_ERROR (the trace cannot be run as written, e.g. a call on a handle
 *    whose open failed in an allowed way).
 *  - scratch_dir: files are created by their trace names directly inside it;
 *    the caller provides a fresh (empty) directory per replay.  The replay
 *    removes nothing afterwards: files stay for post-mortem inspection.
 *  - o->report: if non-NULL, a failing or erroring replay also prints
 *    r->message there, followed by the host log.
 *  - t may be streamed (trace.h, vdc_trace_open): its records are read as
 *    they run, and one that cannot be read (a parse error, a read error)
 *    ends the replay with VDC_ERROR and the parser's message.  A streamed
 *    trace is consumed: replay it once.
 *  - Handles the trace leaves open are closed (fDelete = false) at the end;
 *    that is noted in r->message (on a PASS) but is not a failure.  Storage
 *    handles the backend leaves open after every close, and any host misuse,
 *    are failures.  A failure found after the last record (leaked storage)
 *    has fail_call = fail_line = 0 and a message starting "after the last
 *    call".
 *  - r->message on a PASS holds notes (SHOULD warnings, the first three;
 *    handles closed for the trace), else is empty.  On FAIL/ERROR it reads
 *      call N (line L): <canonical record text>
 *        <expected / actual lines, hex context for data>
 *      previous calls:
 *        call N-1 (line ...): <record text>   (context_calls of them)
 *    On SKIP it is the reason.
 */
int vdc_replay(const vdc_trace *t, const vdc_replay_opts *o, vdc_replay_result *r);

/* "PASS", "FAIL", "SKIP", "ERROR" ("?" for anything else). */
const char *vdc_outcome_name(vdc_outcome o);

#endif /* VDCC_HARNESS_TRACE_REPLAY_H */
