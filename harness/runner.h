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
 *
 * Two optional extensions (vdcc conform uses both):
 *   - an *after* hook, run in the trace's child once its replay passed
 *     (conform's crash and fault sweeps).  It reports through a vdc_run_out
 *     in the shared mapping, and the trace's verdict becomes the hook's.  It
 *     has its own time limits, since it may run much longer than a replay:
 *     TIMEOUT when its heartbeat stays unchanged for timeout_ms (a hang) or
 *     when it runs past after_max_ms in all.  A crash, a sanitizer report
 *     or a timeout in it is classified as in the replay, naming the hook's
 *     phase ("SIGSEGV during the crash sweep");
 *   - *tasks*: test points that are not traces (conform's hostile images),
 *     numbered after the traces.  Each reports through its own vdc_run_out
 *     and gets its own verdict, judged exactly like a trace's (process
 *     group, memory limit, output capture, sanitizer detection, timeout_ms
 *     from its start).  With task_batch > 1 a child runs up to that many
 *     tasks in a row (a fork is costly under the sanitizers), and the
 *     verdicts stay those of one child per task:
 *       . the child records, in shared memory, which task it is on, when it
 *         started, and where in the output file each task's output begins
 *         and ends; a sanitizer report is attributed by that position;
 *       . a child that dies (signal, sanitizer, exit) or runs past
 *         timeout_ms in a task gives that task its CRASH/FAIL/TIMEOUT and
 *         the tasks before it keep theirs; a fresh child resumes after it;
 *       . a verdict other than PASS or SKIP counts only when the task ran
 *         first in its child (as it would alone): a task that fails after
 *         others in the same process is run again first in a fresh child,
 *         and that verdict is the one reported (a PASS then carries a note
 *         saying what happened in company);
 *       . a report that cannot be placed (LeakSanitizer's at exit, or any
 *         output between tasks) makes every task of that child run again,
 *         one per child.
 *     So a task that crashes, hangs or corrupts its process never costs
 *     another task its verdict.
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

/*
 * What an after hook or a task reports, in memory shared with the parent
 * (written by the child only; the parent reads it once the child is gone,
 * except the heartbeat).  The runner zeroes it and sets verdict to PASS
 * before calling the hook or task.
 */
typedef struct vdc_run_out {
    volatile uint64_t heartbeat;   /* incremented as the work goes on (after hooks: a stall is a hang) */
    char        phase[48];         /* what the child is doing; set before each part (e.g. "crash sweep") */
    vdc_verdict verdict;           /* PASS, FAIL, SKIP (tasks) or ERROR */
    char        clause[24];        /* the clause a FAIL breaks, "" unknown */
    char        message[2048];     /* why (FAIL, SKIP, ERROR) */
    char        note[256];         /* a remark on a PASS, shown on its TAP line */
    char        rerun[512];        /* the vdcc subcommand and options that rerun the failing part alone */
    uint64_t    count[4];          /* the caller's figures (conform: reliability/conform_hooks.h) */
    unsigned    warnings;          /* quality warnings (SHOULD clauses), explained in message; an after
                                    * hook's are added to the replay's, its message to the replay's */
} vdc_run_out;

struct vdc_trace;

/* The after hook: t is the parsed trace, be the backend under test. */
typedef void (*vdc_run_after_fn)(void *user, const struct vdc_trace *t, const VDCACHEBACKEND *be, vdc_run_out *out);
/* A task: k in 0..ntasks-1. */
typedef void (*vdc_run_task_fn)(void *user, unsigned k, const VDCACHEBACKEND *be, vdc_run_out *out);

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
    /* From an after hook or a task ("" / 0 otherwise): */
    char        phase[48];    /* the hook's phase the verdict comes from ("" the replay) */
    char        clause[24];   /* the clause a failure breaks, "" unknown */
    char        note[256];    /* a remark on a pass */
    char        rerun[512];   /* the out's rerun (subcommand and options) */
    uint64_t    count[4];     /* the out's figures */
} vdc_run_result;

typedef struct vdc_run_opts {
    const VDCACHEBACKEND *backend;
    uint64_t              timeout_ms;   /* > 0 */
    uint64_t              mem_limit_mb; /* 0: none; ignored under sanitizers */
    unsigned              jobs;         /* >= 1 */
    const char           *tmp_parent;   /* NULL: $TMPDIR or /tmp */
    /* Optional after hook (see above); after_max_ms 0: 30 * timeout_ms. */
    vdc_run_after_fn      after;
    void                 *after_user;
    uint64_t              after_max_ms;
    /* Optional tasks, numbered n..n+ntasks-1 after the n traces. */
    unsigned              ntasks;
    vdc_run_task_fn       task;
    void                 *task_user;
    /* Tasks per child, at most VDC_RUN_BATCH_MAX (0 or 1: one each); the
     * batches are also kept small enough that every job gets some. */
    unsigned              task_batch;
    /* Stop at the first result that is neither PASS nor SKIP: no new child
     * starts, the running ones are killed, and their test points (and
     * those not started) get no result. */
    bool                  fail_fast;
} vdc_run_opts;

#define VDC_RUN_BATCH_MAX 64u

/* Called once per trace (and task), in completion order, with i its index
 * in paths (n + k for task k). */
typedef void (*vdc_run_done_fn)(void *ctx, unsigned i, const vdc_run_result *r);

/*
 * Runs every trace of paths[0..n), then every task.  Returns VINF_SUCCESS
 * once every trace and task has a result (whatever the verdicts), or
 * fail_fast stopped the run after a failure (the points without a result
 * did not run),
 * VERR_INVALID_PARAMETER for bad options (ntasks without task, task_batch
 * over VDC_RUN_BATCH_MAX), VERR_NO_MEMORY,
 * or VERR_INVALID_STATE when SIGINT, SIGTERM,
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
