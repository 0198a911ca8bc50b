/*
 * harness/reliability/crash.h - the crash test: run a workload on recording
 * storage, then check every crash state it could have left
 * (spec/contract.md CRASH-1; for VCI, spec/vci-format.md section 10).
 *
 * THE RULE JUDGED (CRASH-1, the strict form).  Crash point k (fs_crash.h)
 * means: the storage events [0, k) were issued, nothing after.  A backend
 * call is *completed* at k when all its events are below k, and *in flight*
 * when some but not all are.  For every byte, a read hit on an image
 * recovered from any crash state of point k may return only
 *   - the data of the last completed successful write to that byte (unless
 *     a completed discard removed it since), or
 *   - the data the in-flight write (if any) was writing there.
 * Anything else, including data of an older write that a lost, unflushed
 * write had replaced, and any hit on bytes never written, is a lie.  Misses
 * are always fine.  (This is stricter than "durable data survives": it
 * forbids resurrecting superseded data, which is what a cache that trusts
 * a half-updated index does; a correct design such as VCI's unclean flag
 * meets it by forgetting.)
 *
 * Two refinements.  Discards: a completed discard removes the data it
 * covered from the acceptable values once a flush or close that started
 * after it has completed successfully; before that a crash may bring the
 * discarded data back (it was still the last data *written*; a lost
 * discard is like a lost write).  spec/vci-format.md section 10 behaves
 * so: a discard touches the disk only at the next flush.  Failed writes
 * (only with an injected fault): their data is acceptable too where they
 * were headed, since a failed write may have landed in part (model.h).
 *
 * What is checked on each crash state (a fresh memory fs holding it):
 *  1. read-only open: succeeds, or fails with a failure status and no
 *     storage left open; if it succeeds, reads of the checked ranges obey
 *     the rule, close releases everything, and the file is unchanged
 *     (OPEN-3); a read that fails (rather than lie or miss) is counted in
 *     read_errors, and is a violation only with require_open;
 *  2. read-write open, likewise; then one block written past the workload's
 *     range must read back as written (or miss), close must succeed, and
 *     the deep check (when given, e.g. ref's vci_check) must accept the
 *     file; then a read-only reopen must still obey the rule;
 *  3. no host misuse throughout (HOST-1).
 * With require_open, a failed open of a state after the workload's create
 * had returned is a violation too (VCI promises images always open).
 * The checked ranges are [0, span) when the workload's span is at most
 * 4 MiB, else the runs of 4 KiB pages the oracle has seen written.
 *
 * FLUSH-2 (a SHOULD: quality warnings, never violations).  "Data written
 * before a successful flush survives a crash that follows it with no
 * further writes."  A flush point is the point right after a successful
 * flush call completed (its last storage event), before the next call's
 * first; the points of every successful flush are visited besides the
 * selected ones (at most max_points of them when that bounds the points,
 * spread evenly).  Every state of that point (a pending write lost, torn,
 * ...) should serve the read hits of two references: the state with every
 * pending change applied (what the backend wrote before its flush
 * returned), and the image a clean close right after the flush leaves
 * (the workload's ops up to the flush run again on fresh storage, then
 * closed: what the backend itself would keep).  The second catches a
 * flush that writes nothing at all, after which the all-applied state
 * lacks the data as well.  A byte range a reference hits (in a read-only
 * open) but the state misses, or a state that does not open while a
 * reference hits, is a loss.  A backend whose flush makes durable all it
 * would write at close has one state at each flush point, and no loss.
 * Counted per flush point (flush_lossy), with the losing states and the
 * first loss explained.  (The clean-close reference is not built when a
 * fault is injected: the rerun would not fail the same way.)
 *
 * No global state; one run per thread.
 */
#ifndef VDCC_HARNESS_RELIABILITY_CRASH_H
#define VDCC_HARNESS_RELIABILITY_CRASH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../../spec/vdcache.h"
#include "../host/fs.h"
#include "fs_crash.h"
#include "workload.h"

/* The crash-state settings `vdcc crashtest` uses unless told otherwise
 * (cmd_rel.c); conform's sweep (sweep.h) uses them too, so that the
 * crashtest line it prints for a failure reproduces it. */
#define VDC_CT_SEED       1u
#define VDC_CT_RANDOM     16u
#define VDC_CT_MAX_SINGLE 64u
#define VDC_CT_MAX_TEARS  8u

/* vdc_deep_check_fn: workload.h. */

typedef struct vdc_crashtest_opts {
    const VDCACHEBACKEND *be;
    const vdc_workload   *w;
    vdc_crash_opts        crash;       /* which points and states */
    vdc_deep_check_fn     deep_check;  /* may be NULL */
    void                 *deep_user;
    bool                  require_open;
    FILE                 *log;         /* violations explained here (may be NULL) */
    unsigned              max_logged;  /* violations explained; 0: 10 */
    const char           *save_path;   /* the first violating state's image is written here (may be NULL) */
    /* Optionally, a storage fault during the workload (fs_fault.h): the
     * workload then runs tolerating failures over fault(record(memory)),
     * and failed writes count as possibly written.  fault_nth 0: none. */
    int                   fault_kind;  /* a vdc_fault_kind */
    uint64_t              fault_nth;
    int                   fault_status;
    unsigned              fault_flags;
    /* Isolation support (crash.c runs itself in children through these). */
    uint64_t              skip_states; /* states numbered below this are not checked */
    volatile uint64_t    *progress;    /* set to 1 + the state number before checking it */
    volatile uint64_t    *heartbeat;   /* incremented often (each call, each state) */
    bool                  no_flush_check; /* no FLUSH-2 check (and no flush points added) */
} vdc_crashtest_opts;

typedef struct vdc_crashtest_result {
    uint64_t events, write_points, flushes;  /* what the workload's storage saw */
    uint64_t workload_calls, workload_violations;
    uint64_t points, states, duplicates;     /* enumerated */
    uint64_t checked;                        /* states checked (not skipped) */
    uint64_t open_ok_ro, open_failed_ro, open_ok_rw, open_failed_rw;
    uint64_t hits, misses;                   /* read calls on crash states */
    uint64_t read_errors;                    /* reads that failed (tolerated without require_open) */
    uint64_t violations;                     /* on crash states */
    uint64_t crashed;                        /* isolated states that crashed or hung */
    char     first[2048];                    /* the first violation explained */
    /* FLUSH-2 (quality, see above) */
    uint64_t flush_points;                   /* flush points whose states were compared */
    uint64_t flush_lossy;                    /* ... of them where a state lost data */
    uint64_t flush_loss_states;              /* crash states that lost data at a flush point */
    char     flush_first[1024];              /* the first loss explained ("FLUSH-2: ...") */
} vdc_crashtest_result;

/*
 * Runs the whole test in this process.  Returns VINF_SUCCESS when it ran
 * (the verdict is r->violations + r->workload_violations), or a failure
 * status when it could not: VERR_INVALID_PARAMETER (NULL or missing
 * arguments), VERR_NO_MEMORY, VERR_TOO_MUCH_DATA (the workload wrote more
 * than the recorder holds, fs_crash.h).
 */
int vdc_crashtest_run(const vdc_crashtest_opts *o, vdc_crashtest_result *r);

/*
 * The same, in child processes (harness/core/isolate.h): a state whose check crashes
 * the backend or stalls for timeout_ms counts as a violation (and in
 * r->crashed), and a new child resumes after it (each child reruns the
 * deterministic workload and enumeration, checking only the states from
 * its starting number on).  A child that dies before its first state (the
 * workload itself crashed) ends the run with that violation.  Same
 * statuses, plus VERR_GENERAL_FAILURE when fork fails.
 */
int vdc_crashtest_run_isolated(const vdc_crashtest_opts *o, unsigned timeout_ms, vdc_crashtest_result *r);

#endif /* VDCC_HARNESS_RELIABILITY_CRASH_H */
