/*
 * harness/reliability/faults.h - the fault sweep: the same workload rerun
 * once per storage operation, with that operation failing.
 *
 * For fault point (N, mode), the workload (workload.h) runs on a fault fs
 * (fs_fault.h) over a fresh memory fs, armed so that the Nth operation of
 * the chosen kind (default: any kind) fails, in one of these modes:
 *   io        VERR_DISK_IO_ERROR, that operation only; a failing write
 *             leaves its leading half on disk (VDC_FAULT_TORN)
 *   io-stuck  VERR_DISK_IO_ERROR from the Nth operation on (persistent), torn
 *   full      VERR_DISK_FULL, that operation only
 *   full-stuck VERR_DISK_FULL from the Nth on
 * or, numbering the backend's allocations instead of storage operations
 * (harness/host/alloc_hook.h; built-in backends only, a plugin's
 * allocations are invisible and give no points):
 *   nomem     the Nth allocation returns NULL
 *   nomem-stuck every allocation from the Nth on returns NULL
 * and is judged:
 *  - during the run (driver in tolerant mode): every call has a legal shape,
 *    every read hit returns acceptable data (a failed write's data counts
 *    as acceptable where it was headed: model.h), no host misuse, no
 *    storage handle left open after a close;
 *  - after the run, with the fault cleared: a read-write reopen succeeds or
 *    fails cleanly (no storage left open); what opens serves only
 *    acceptable data across the workload's range, closes successfully, and
 *    passes the deep check when one is given;
 *  - at the end of the point (and of the clean run): every allocation the
 *    backend made has been freed (alloc_hook.h's live balance; HOST-3);
 *  - in the clean run, when a deep check is given: the image passes it
 *    after every successful flush and close (workload.h deep_check; VCI-1);
 *  - in the modes whose fault fires once (io, full, nomem), the driver runs
 *    with `transient` (workload.h): a failed set-open-flags after which
 *    the instance no longer serves is an INFO-6 quality warning, counted
 *    apart from the violations.
 * A crash, hang or leak shows when the sweep runs isolated (harness/core/isolate.h):
 * the point is a violation and the sweep goes on.  In-process, a crash
 * takes the process down and leaks show in LeakSanitizer's exit report.
 *
 * No global state.
 */
#ifndef VDCC_HARNESS_RELIABILITY_FAULTS_H
#define VDCC_HARNESS_RELIABILITY_FAULTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "crash.h"
#include "fs_fault.h"
#include "workload.h"

#define VDC_FMODE_IO          0x1u
#define VDC_FMODE_IO_STUCK    0x2u
#define VDC_FMODE_FULL        0x4u
#define VDC_FMODE_FULL_STUCK  0x8u
#define VDC_FMODE_NOMEM       0x10u  /* the Nth backend allocation fails */
#define VDC_FMODE_NOMEM_STUCK 0x20u  /* every one from the Nth on fails */
#define VDC_FMODE_STORAGE     0x0Fu
#define VDC_FMODE_ALLOC       0x30u
#define VDC_FMODE_ALL         0x3Fu
#define VDC_FMODE_LAST        VDC_FMODE_NOMEM_STUCK

typedef struct vdc_faults_opts {
    const VDCACHEBACKEND *be;
    const vdc_workload   *w;
    vdc_deep_check_fn     deep_check;   /* may be NULL */
    void                 *deep_user;
    unsigned              modes;        /* VDC_FMODE_* bits; 0: all */
    vdc_fault_kind        kind;         /* which operations are numbered (VDC_FAULT_ANY for all) */
    uint64_t              first, last;  /* operation numbers (1-based) tried; 0, 0: all
                                         * (allocation numbers for the nomem modes) */
    uint64_t              stride;       /* every stride-th; 0 or 1: all */
    uint64_t              max_points;   /* at most this many of the selected operation
                                         * numbers, spread evenly as vdc_crash_opts'
                                         * max_points does (last one kept); 0: all */
    uint64_t              max_alloc_points; /* the same for the nomem modes' allocation
                                         * numbers (0: as max_points); the first
                                         * allocation of every call site is tried
                                         * besides the sample */
    FILE                 *log;          /* violations explained (may be NULL) */
    unsigned              max_logged;   /* 0: 10 */
    /* Isolation support. */
    uint64_t              skip_points;
    volatile uint64_t    *progress;     /* 1 + the point being run */
    volatile uint64_t    *heartbeat;
} vdc_faults_opts;

typedef struct vdc_faults_result {
    uint64_t ops;            /* operations of the kind in the clean run */
    uint64_t allocs;         /* backend allocations in the clean run (0: none seen) */
    uint64_t alloc_sites;    /* ... from this many call sites (alloc_hook.h) */
    uint64_t clean_violations;
    uint64_t points;         /* fault points run */
    uint64_t fired;          /* ... where the fault did fire */
    uint64_t failed_calls;   /* backend calls that reported a failure */
    uint64_t reopen_ok, reopen_failed;
    uint64_t violations;
    uint64_t crashed;        /* isolated points that crashed or hung */
    uint64_t warnings;       /* INFO-6 quality warnings (workload.h), not violations */
    char     warning[700];   /* the first, with its point ("" none) */
    char     first[2048];
} vdc_faults_result;

/*
 * Runs the clean workload once (counting operations), then every fault
 * point.  Returns VINF_SUCCESS when the sweep ran (verdict:
 * r->violations + r->clean_violations), VERR_INVALID_PARAMETER,
 * VERR_NO_MEMORY.
 */
int vdc_faults_run(const vdc_faults_opts *o, vdc_faults_result *r);

/* The same with the points run in child processes (harness/core/isolate.h); a point that
 * crashes or makes no progress for timeout_ms is a violation and the sweep
 * resumes after it.  Also VERR_GENERAL_FAILURE when fork fails. */
int vdc_faults_run_isolated(const vdc_faults_opts *o, unsigned timeout_ms, vdc_faults_result *r);

/* The vdc_fs_fault_arm status and flags of one VDC_FMODE_* bit. */
void vdc_fmode_arm(unsigned mode, int *status, unsigned *flags);

/* "io", "io-stuck", "full", "full-stuck", "nomem", "nomem-stuck" for one
 * VDC_FMODE_* bit. */
const char *vdc_fmode_name(unsigned mode);

#endif /* VDCC_HARNESS_RELIABILITY_FAULTS_H */
