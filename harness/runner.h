/*
 * harness/runner.h - runs traces against a backend, each in its own process.
 *
 * A backend under test may crash, hang, leak or trip a sanitizer; the
 * runner survives all of it (spec/contract.md HOST-2).  For every trace:
 *   - the parent parses the trace and skips it when it needs capabilities
 *     the backend does not declare;
 *   - it makes a private directory (mkdtemp) holding the child's output file
 *     and the replay's scratch directory, and a shared anonymous mapping
 *     holding the progress counter (the replay's opts.progress) and the
 *     replay result;
 *   - the child (its own process group, optional RLIMIT_AS) runs vdc_replay
 *     with stdout and stderr sent to the output file, stores the result in
 *     the mapping and exits normally, so LeakSanitizer runs;
 *   - the parent classifies: a fatal signal, or a sanitizer's deadly-signal
 *     report, is CRASH (signal and the call reached); the time limit is
 *     TIMEOUT (the whole process group is killed); any sanitizer report is a
 *     FAIL quoting its first lines; otherwise the replay's own verdict.
 *   - the private directory is removed.
 * Up to `jobs` children run at once; results are delivered per trace.
 */
#ifndef VDCC_HARNESS_RUNNER_H
#define VDCC_HARNESS_RUNNER_H

#include <stdbool.h>
#include <stdint.h>

#include "../spec/vdcache.h"

typedef enum vdc_verdict {
    VDC_V_PASS = 0,
    VDC_V_FAIL,     /* divergence, sanitizer report, or an unexpected exit */
    VDC_V_SKIP,     /* capability missing, or the replay skipped */
    VDC_V_ERROR,    /* the trace could not be run (parse error, replay error, system error) */
    VDC_V_CRASH,    /* fatal signal */
    VDC_V_TIMEOUT
} vdc_verdict;

/* "PASS", "FAIL", "SKIP", "ERROR", "CRASH", "TIMEOUT". */
const char *vdc_verdict_name(vdc_verdict v);

typedef struct vdc_run_result {
    vdc_verdict verdict;
    unsigned    calls;        /* records in the trace (0 when it did not parse) */
    unsigned    call;         /* the failing call, or the call reached by a crash/timeout (1-based; 0 unknown) */
    unsigned    line;         /* its source line (0 unknown) */
    char        record[512];  /* its record text, "" unknown */
    int         signal;       /* CRASH: the signal number */
    int         exit_status;  /* the child's exit status when it exited, else -1 */
    unsigned    warnings;     /* quality warnings */
    uint64_t    misuse;
    double      seconds;
    char        message[2048];
    char        sanitizer[4096]; /* first lines of a sanitizer report, "" none */
} vdc_run_result;

typedef struct vdc_run_opts {
    const VDCACHEBACKEND *backend;
    uint64_t              timeout_ms;   /* > 0 */
    uint64_t              mem_limit_mb; /* 0: none; ignored under sanitizers */
    unsigned              jobs;         /* >= 1 */
    const char           *tmp_parent;   /* NULL: $TMPDIR or /tmp */
} vdc_run_opts;

/* Called once per trace, in completion order, with i its index in paths. */
typedef void (*vdc_run_done_fn)(void *ctx, unsigned i, const vdc_run_result *r);

/*
 * Runs every trace of paths[0..n).  Returns VINF_SUCCESS once every trace
 * has a result (whatever the verdicts), VERR_INVALID_PARAMETER for bad
 * options, VERR_NO_MEMORY, or VERR_INVALID_STATE when SIGINT, SIGTERM,
 * SIGHUP or SIGPIPE stopped the run: the running children were killed and
 * their directories removed, traces not finished have no result, and
 * vdc_run_stop_signal() tells which signal it was.  The parent's handlers
 * for those signals are restored before returning; children run with the
 * dispositions and mask the caller had.
 */
int vdc_run_traces(const vdc_run_opts *o, const char *const *paths, unsigned n, vdc_run_done_fn done, void *ctx);

/* The signal that stopped the last vdc_run_traces, or 0. */
int vdc_run_stop_signal(void);

/* True when this vdcc is built with a sanitizer, so RLIMIT_AS is not used. */
bool vdc_run_sanitized(void);

#endif /* VDCC_HARNESS_RUNNER_H */
