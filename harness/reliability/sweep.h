/*
 * harness/reliability/sweep.h - the bounded crash test and fault sweep that
 * `vdcc conform` runs on every trace whose replay passed, and the exact
 * `vdcc crashtest` / `vdcc faults` options that rerun them alone.
 *
 * What is judged: crash.h (spec/contract.md CRASH-1 in its strict form,
 * with OPEN-3, CLOSE-1, HOST-1, HOST-3 on every crash state; and FLUSH-2,
 * a SHOULD, as quality warnings at the points right after each successful
 * flush, which the crash sweep visits besides its sampled ones) and faults.h
 * (every storage failure gives a failure status, never a lie, a leak or a
 * misuse; what reopens afterwards serves only acceptable data).  The
 * workload is the trace's own (workload.h vdc_workload_from_trace).
 *
 * Bounds, by the number of records in the trace (those of
 * tests/suites/reliability.sh, which runs the same sweeps with ref's deep
 * check), and by the bytes its workload reads and writes, since every
 * fault point reruns the whole workload:
 *
 *   records     crash points  states per point  fault points  fault modes
 *   ..300       10            8                 4             all four storage
 *   301..1000   6             6                 2             io, full-stuck
 *   1001.., or
 *   > 128 MiB   4             6                 1             io, full-stuck
 *
 * and allocation failures (faults.h nomem modes; only a backend built into
 * vdcc shows its allocations, others give no points), each allocation
 * point rerunning the workload like a fault point, in modes nomem and
 * nomem-stuck: the first allocation of every call site of the backend
 * (alloc_hook.h), and besides those, sampled evenly:
 *
 *   records     sampled allocation points
 *   ..300       32
 *   301..1000   8
 *   1001.., or
 *   > 128 MiB   4
 *
 * Everything else is `vdcc crashtest`'s and `vdcc faults`'s default (crash.h
 * VDC_CT_*: seed 1, 16 random states, 64 single writes, 8 tears per write;
 * faults: any kind of operation).  Points are sampled evenly and
 * deterministically, so a sweep finds the same thing on every run.
 *
 * A crash state that fails to open cleanly is accepted (require_open off:
 * "opens or fails cleanly" is CRASH-1; VCI's stronger promise that every
 * state opens is `vdcc crashtest`'s business; the rerun options say so,
 * --allow-open-failure).  The deep check runs only with b->deep, which
 * conform sets for a backend of the VCI format (spec/contract.md VCI-1:
 * vci_check knows only VCI): on every crash state after recovery and
 * close (crash.h), after each fault point's reopen and close, and in the
 * fault sweep's run without faults after every successful flush and close
 * (faults.h); without it the rerun options say --no-deep-check.
 *
 * No global state.  The sweeps run in the calling process: the caller
 * isolates them (conform runs them in the trace's child, runner.h).
 */
#ifndef VDCC_HARNESS_RELIABILITY_SWEEP_H
#define VDCC_HARNESS_RELIABILITY_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "../../spec/vdcache.h"
#include "workload.h"

typedef struct vdc_sweep_bounds {
    uint64_t crash_points;   /* --max-points of vdcc crashtest */
    unsigned crash_states;   /* --max-states-per-point */
    uint64_t fault_points;   /* --max-points of vdcc faults */
    unsigned fault_modes;    /* VDC_FMODE_* bits (faults.h), storage and nomem */
    uint64_t alloc_points;   /* --max-alloc-points of vdcc faults */
    bool     deep;           /* deep-check the images (VCI-1); else --no-deep-check */
} vdc_sweep_bounds;

/* The bounds for a trace of `records` records whose workload moves
 * `bytes` bytes (the table above), without the deep check (b->deep is
 * false: the caller sets it for a backend of the VCI format). */
void vdc_sweep_bounds_for(unsigned records, uint64_t bytes, vdc_sweep_bounds *b);

/* The bytes a workload's reads and writes move. */
uint64_t vdc_sweep_workload_bytes(const vdc_workload *w);

/* The options that make `vdcc crashtest --backend SPEC ... TRACE` /
 * `vdcc faults ...` run exactly this sweep, e.g. "--max-points 10
 * --max-states-per-point 8 --allow-open-failure --no-deep-check" (the
 * last only without b->deep). */
void vdc_sweep_crash_args(const vdc_sweep_bounds *b, char *buf, size_t cb);
void vdc_sweep_fault_args(const vdc_sweep_bounds *b, char *buf, size_t cb);

typedef struct vdc_sweep_result {
    uint64_t violations;
    uint64_t checked;      /* crash states checked, or fault points run */
    char     clause[24];   /* the clause the first violation breaks ("" none) */
    char     first[2048];  /* the first violation explained, with the totals */
    /* Quality warnings, never violations: the crash sweep's FLUSH-2 (crash.h),
     * one per flush point where a crash state loses data; the fault
     * sweep's INFO-6 (faults.h), one per fault point where the instance
     * stopped serving after a failed set-open-flags. */
    uint64_t warnings;
    char     warning[1400]; /* the first explained, with the totals ("" none) */
} vdc_sweep_result;

/*
 * The crash sweep of w on be.  heartbeat (may be NULL) is incremented at
 * every backend call and crash state.  Returns VINF_SUCCESS when it ran
 * (verdict: r->violations), VERR_TOO_MUCH_DATA (the workload writes more
 * than the crash recorder holds, fs_crash.h: no verdict), VERR_NO_MEMORY,
 * VERR_INVALID_PARAMETER.  The clause is CRASH-1 unless the first violation
 * names another one alone (e.g. HOST-3).
 */
int vdc_sweep_crash(const VDCACHEBACKEND *be, const vdc_workload *w, const vdc_sweep_bounds *b,
                    volatile uint64_t *heartbeat, vdc_sweep_result *r);

/* The fault sweep, likewise.  Returns VINF_SUCCESS, VERR_NO_MEMORY,
 * VERR_INVALID_PARAMETER.  The clause is the first the violation names
 * (e.g. READ-1, HOST-3, CLOSE-1), else "" (it names none). */
int vdc_sweep_faults(const VDCACHEBACKEND *be, const vdc_workload *w, const vdc_sweep_bounds *b,
                     volatile uint64_t *heartbeat, vdc_sweep_result *r);

/*
 * The first clause name (AREA-N, as spec/contract.md writes them) in msg,
 * into out ("" when there is none).  When `prefer` is not NULL and the
 * first group of names (e.g. "READ-1/CRASH-1") holds it, that is the one.
 */
void vdc_sweep_clause(const char *msg, const char *prefer, char *out, size_t cb);

#endif /* VDCC_HARNESS_RELIABILITY_SWEEP_H */
