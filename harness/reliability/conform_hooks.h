/*
 * harness/reliability/conform_hooks.h - what `vdcc conform` adds to the
 * replay of its traces, as the runner's hooks (harness/runner.h):
 *
 *   - the after hook vdc_conform_after: once a trace's replay has passed,
 *     in the same child, the bounded crash sweep and fault sweep of that
 *     trace (sweep.h), crash first;
 *   - the task vdc_conform_hostile: one hostile VCI image (hostile.h)
 *     judged by hostile_check.h, for VCI backends (vdc_conform_is_vci).
 *
 * What the after hook reports (vdc_run_out):
 *   verdict  PASS, or FAIL with the first violation explained: "crash
 *            sweep: N violation(s) in M crash state(s) ...; first: ...";
 *            ERROR when a sweep could not run for want of memory;
 *   phase    "crash sweep" or "fault sweep" (so that a crash or a hang
 *            names it);
 *   clause   CRASH-1 (or what the crash sweep's first violation names
 *            alone, e.g. HOST-3), or the first clause the fault sweep's
 *            violation names;
 *   rerun    "crashtest OPTIONS" / "faults OPTIONS": with --backend SPEC and
 *            the trace, the command that reruns that sweep alone;
 *   note     on a pass, why a sweep did not run ("no sweeps: the workload
 *            converter cannot express it: ...", "no crash sweep: ...");
 *   warnings on a pass, the crash sweep's FLUSH-2 quality warnings (one per
 *            flush point where a crash state loses data; sweep.h) and the
 *            fault sweep's INFO-6 ones (one per fault point where the
 *            instance stopped serving after a failed set-open-flags), with
 *            message "warning: crash sweep: ..." (or "warning: fault
 *            sweep: ...") explaining the first;
 *   count    [VDC_CC_CRASH_STATES] crash states checked,
 *            [VDC_CC_FAULT_POINTS] fault points run,
 *            [VDC_CC_SKIPPED] 1 when a sweep was left out (see note).
 * A trace the workload converter (workload.h) cannot express, and a crash
 * sweep whose workload outgrows the crash recorder (VERR_TOO_MUCH_DATA),
 * are not failures: the backend is not to blame.
 *
 * The hostile task reports PASS or FAIL (the first violation, with "and N
 * more" when there are, and the file of corpus/hostile/ holding the same
 * bytes), phase "hostile image", clause the one the violation names.
 *
 * The set of hostile cases is built in the parent, before the children
 * fork, so each child only judges its case.  No global state.
 */
#ifndef VDCC_HARNESS_RELIABILITY_CONFORM_HOOKS_H
#define VDCC_HARNESS_RELIABILITY_CONFORM_HOOKS_H

#include <stdbool.h>
#include <stdint.h>

#include "../../spec/vdcache.h"
#include "../runner.h"
#include "hostile.h"

enum { VDC_CC_CRASH_STATES = 0, VDC_CC_FAULT_POINTS = 1, VDC_CC_SKIPPED = 2 };

/* Which sweeps the after hook runs (its user argument). */
typedef struct vdc_conform_sweeps {
    bool crash, faults;
} vdc_conform_sweeps;

/* The after hook: user is a const vdc_conform_sweeps *. */
void vdc_conform_after(void *user, const struct vdc_trace *t, const VDCACHEBACKEND *be, vdc_run_out *out);

/*
 * The rule for "a VCI backend", whose images the hostile cases are: its
 * pszBackendName is "VCI" in any case (ref and ref's plugin register
 * "vci"; VirtualBox's own VCI cache backend is "VCI").  Nothing else is
 * looked at: a backend claiming the name claims the format.
 */
bool vdc_conform_is_vci(const VDCACHEBACKEND *be);

/* The hostile cases conform runs: copies, owned (images included). */
typedef struct vdc_hostile_set {
    vdc_hostile_case *v;
    unsigned          n, cap;
    unsigned          total;   /* cases vdc_hostile_each built (selected or not) */
} vdc_hostile_set;

/*
 * Builds every case and keeps those for which want(user, number) is true
 * (want NULL: all).  Returns VINF_SUCCESS or VERR_NO_MEMORY; free the set
 * with vdc_hostile_set_free either way.
 */
int vdc_hostile_set_load(vdc_hostile_set *s, bool (*want)(void *user, unsigned number), void *user);
void vdc_hostile_set_free(vdc_hostile_set *s);

/* The task: user is a const vdc_hostile_set *, k the index into it. */
void vdc_conform_hostile(void *user, unsigned k, const VDCACHEBACKEND *be, vdc_run_out *out);

#endif /* VDCC_HARNESS_RELIABILITY_CONFORM_HOOKS_H */
