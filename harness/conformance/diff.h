/*
 * harness/conformance/diff.h - differential runs (`vdcc diff`): one trace,
 * two backends, the first call where the contract tells them apart.
 *
 * Both backends run the trace through the observing driver (observe.h),
 * each in its own child; then their observations are compared call by
 * call.  A difference is one of
 *   CONTRACT  the contract (spec/contract.md) distinguishes the answers: one
 *             side lies (READ-1) or crashes or hangs (HOST-2), misuses the
 *             host (HOST-1), breaks the protocol (READ-1/2, WRITE-1), fails
 *             where the other succeeds on a call the contract says must
 *             succeed (WRITE-4, FLUSH-1, CLOSE-1, OPEN-1, CREATE-1, ...),
 *             answers differently where the contract names the code
 *             (VERR_VD_GEN_INVALID_HEADER for probes, VERR_VD_IMAGE_READ_ONLY
 *             for changes to a read-only image), returns different open
 *             flags (INFO-2), or different UUIDs or comments after both
 *             accepted the same set (UUID-1, UUID-3, INFO-4);
 *   QUALITY   both answers are allowed but differ: a hit against a miss, a
 *             shorter hit, different error codes where the contract names
 *             none, VERR_NOT_SUPPORTED against success for an optional
 *             callback, a refused capacity (VERR_VD_INVALID_SIZE), a
 *             different size or image flags (INFO-1, a SHOULD), dump output;
 *   SAME      nothing the contract or quality cares about (transfer counts,
 *             format versions, file sizes and initial UUIDs are the
 *             backends' own business).
 * The comparison stops at the first CONTRACT difference (the two states
 * may diverge after it) or when either side stops (crash, time limit).
 *
 * Errors: VINF_SUCCESS, VERR_INVALID_PARAMETER, VERR_NO_MEMORY,
 * VERR_GENERAL_FAILURE (fork/wait).  No global state.
 */
#ifndef VDCC_HARNESS_CONFORMANCE_DIFF_H
#define VDCC_HARNESS_CONFORMANCE_DIFF_H

#include <stdbool.h>
#include <stdint.h>

#include "../../spec/vdcache.h"
#include "../trace/trace.h"
#include "observe.h"

typedef enum vdc_diff_kind { VDC_DIFF_SAME = 0, VDC_DIFF_QUALITY, VDC_DIFF_CONTRACT } vdc_diff_kind;

/* Compares the observations of one record; why (may be NULL) gets a short
 * reason for a difference ("A hit 4096 bytes, B missed"). */
vdc_diff_kind vdc_diff_compare(const vdc_record *r, const vdc_obs *a, const vdc_obs *b, char *why, size_t cb);

/* One observation in words: "hit 4096 bytes", "VERR_VD_BLOCK_FREE (-3207),
 * a miss of 4096 bytes", "crashed", "lied at 0x2000 (hit 4096 bytes)". */
void vdc_obs_describe(const vdc_record *r, const vdc_obs *o, char *buf, size_t cb);

#define VDC_DIFF_MAX_QUALITY 5 /* quality differences kept for the report */

typedef struct vdc_diff_result {
    unsigned calls;             /* records in the trace */
    unsigned compared;          /* records both sides ran */
    unsigned contract_call;     /* 1-based call of the first CONTRACT difference, 0: none */
    char     contract_why[256];
    unsigned quality;           /* QUALITY differences before it (or in all) */
    unsigned quality_calls[VDC_DIFF_MAX_QUALITY];
    char     quality_why[VDC_DIFF_MAX_QUALITY][256];
    vdc_observe_summary sa, sb; /* how each run ended */
    vdc_obs *obs_a, *obs_b;     /* shared memory, `calls` each; freed by vdc_diff_free */
} vdc_diff_result;

/* Runs t on a and b (each in a child with timeout_ms) and compares. */
int  vdc_diff_run(const vdc_trace *t, const VDCACHEBACKEND *a, const VDCACHEBACKEND *b, uint64_t timeout_ms,
                  vdc_diff_result *r);
void vdc_diff_free(vdc_diff_result *r);

#endif /* VDCC_HARNESS_CONFORMANCE_DIFF_H */
