/*
 * harness/conformance/shrink.h - reduce a failing trace to a small one that
 * fails the same way (`vdcc shrink`).
 *
 * The failure.  A trace run (vdc_failure_probe) ends in one of: PASS/SKIP
 * (no failure), FAIL (the replay found a divergence), ERROR (the trace
 * could not be run as written), CRASH (the child died: a signal, or an exit
 * without a verdict, e.g. a sanitizer report), TIMEOUT.  Its *signature*
 * is the outcome, the keyword of the record it failed on (or reached, for
 * CRASH/TIMEOUT; "end" for a failure after the last record) and the kind of
 * divergence: the first line of the replay's explanation that is not an
 * "expected" line, with every number replaced by '#' (so "data differs at
 * virtual offset # (#), byte # of the # bytes delivered" or "actual:
 * VERR_EOF (-#)"), or the signal for CRASH.  Two runs "fail the same way"
 * when their signatures are equal.
 *
 * The reduction.  Records after the failing one are dropped at once (the
 * replay never reached them).  Then delta debugging (Zeller and
 * Hildebrandt, "Simplifying and isolating failure-inducing input", 2002),
 * complement form: remove chunks of 1/n of the records, keep any removal
 * after which the trace still fails the same way, and halve the chunks when
 * no removal succeeds, down to single records.  Every candidate is closed
 * under the handle dependencies before it is run: a record on a handle
 * keeps the create/open that opened it, and a create/open keeps the close
 * that ended the handle's previous kept session (so "close is kept when a
 * later open of the same handle is kept").  Expectations are kept as they
 * are; a candidate the parser rejects anyway is skipped, never run.  Each
 * candidate runs in a forked child (harness/core/isolate.h) with a time limit.  The
 * result is 1-minimal: removing any single record (with its dependants)
 * makes the failure go away or change.  Candidates whose expectations a
 * contract-level model contradicts (vdc_shrink_consistent) are skipped, so
 * the result fails because of the backend, not because a removal made the
 * trace itself wrong.
 *
 * Storage: candidates replay on the in-memory file system; when the
 * original does not fail there, on a fresh scratch directory per run.
 *
 * Errors: VINF_SUCCESS, VERR_INVALID_PARAMETER (bad options), VERR_NO_MEMORY,
 * VERR_NOT_FOUND (vdc_shrink: the trace does not fail on this backend),
 * VERR_GENERAL_FAILURE (fork/wait failed).  No global state.
 */
#ifndef VDCC_HARNESS_CONFORMANCE_SHRINK_H
#define VDCC_HARNESS_CONFORMANCE_SHRINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../spec/vdcache.h"
#include "../trace/trace.h"

typedef enum vdc_fkind {
    VDC_F_NONE = 0, /* passed or skipped */
    VDC_F_FAIL, VDC_F_ERROR, VDC_F_CRASH, VDC_F_TIMEOUT
} vdc_fkind;

/* "none", "FAIL", "ERROR", "CRASH", "TIMEOUT". */
const char *vdc_fkind_name(vdc_fkind k);

typedef struct vdc_failure {
    vdc_fkind kind;
    unsigned  call;          /* 1-based record it failed on or reached; 0: after the last / unknown */
    char      sig[320];      /* the signature (see above) */
    char      message[2048]; /* the replay's explanation, or what killed the child */
    double    seconds;       /* how long the run took */
} vdc_failure;

typedef struct vdc_shrink_opts {
    const VDCACHEBACKEND *backend;
    uint64_t timeout_ms;     /* per run, > 0 */
    uint64_t budget_ms;      /* stop reducing after this long (0: no limit); the
                              * result then still fails but may not be minimal */
    bool     posix;          /* replay on a scratch directory, not in memory */
    /* Optional progress report: called after each successful reduction. */
    void   (*progress)(void *ctx, unsigned records, unsigned tests);
    void    *progress_ctx;
} vdc_shrink_opts;

typedef struct vdc_shrink_result {
    vdc_failure orig;        /* how the original fails */
    vdc_failure final;       /* how the reduced trace fails (same signature) */
    unsigned    orig_records, final_records;
    unsigned    tests;       /* candidates run */
    unsigned    invalid;     /* candidates skipped unrun: rejected by the parser or
                              * inconsistent (vdc_shrink_consistent) */
    bool        checked;     /* candidates were checked for consistency (the
                              * original was consistent) */
    unsigned    inconsistent_call; /* !checked: where the original contradicts the model */
    char        inconsistent_why[256];
    bool        complete;    /* reached 1-minimality within the budget */
    bool        posix;       /* the storage that reproduced the failure */
    double      seconds;
    vdc_trace  *min;         /* the reduced trace; the caller frees it */
} vdc_shrink_result;

/* Runs t once in a child against o->backend and describes how it ends. */
int vdc_failure_probe(const vdc_trace *t, const vdc_shrink_opts *o, vdc_failure *f);

/* Shrinks t (which must fail on o->backend).  On VINF_SUCCESS r->min holds
 * the reduced trace (named like t, same required caps). */
int vdc_shrink(const vdc_trace *t, const vdc_shrink_opts *o, vdc_shrink_result *r);

/* The candidate trace holding the records of t marked in keep[0..ncalls)
 * (in order, line numbers kept), closed under the dependencies above
 * (keep is updated in place).  Returns VINF_SUCCESS, VERR_INVALID_PARAMETER
 * (the parser rejects it; *out NULL), VERR_NO_MEMORY. */
int vdc_shrink_candidate(const vdc_trace *t, bool *keep, vdc_trace **out);

/*
 * Is every expectation of t one a correct backend can meet, as far as a
 * contract-level model can tell (shrink_check.c has the rules)?  The
 * shrinker runs only consistent candidates (when the original is), so a
 * removal that leaves a read expecting data whose write is gone cannot
 * produce a trace that fails on every backend.  Returns VINF_SUCCESS,
 * VERR_INVALID_PARAMETER (inconsistent: *bad_call, 1-based, and why say
 * where; either may be NULL) or VERR_NO_MEMORY.
 */
int vdc_shrink_consistent(const vdc_trace *t, unsigned *bad_call, char *why, size_t cb_why);

#endif /* VDCC_HARNESS_CONFORMANCE_SHRINK_H */
