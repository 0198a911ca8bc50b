/*
 * harness/bench/child.c - runs one workload in a forked child and reports
 * how it ended, its result bytes and its peak RSS.  Contract: bench_int.h
 * (vdc_bench_run_child); why a child per workload: spec/performance.md
 * section 1.  Status codes: VINF_SUCCESS, VERR_NO_MEMORY, VERR_GENERAL_
 * FAILURE (the shared mapping or fork failed, errno kept).
 *
 * The child runs through harness/core/isolate.h: its own process group,
 * killed as a whole at the deadline.  Its result is written straight into
 * memory shared with the parent, with a flag set once it is whole.
 * ru_maxrss comes from wait4 of that child alone.  Note that a forked child
 * starts with the parent's resident pages, so its peak includes the
 * parent's footprint: the baseline workload measures that and the report
 * shows it.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "../core/isolate.h"
#include "bench_int.h"

/* The child's result, in shared memory: a flag, then (from OUT_OFF, so that
 * it is aligned for any type) the bytes. */
typedef struct result_area {
    volatile int sent; /* fn returned and out is whole */
} result_area;
#define OUT_OFF 64u
#define OUT(ra) ((void *)((char *)(ra) + OUT_OFF))

typedef struct child_ctx {
    int (*fn)(void *arg, void *out);
    void        *arg;
    result_area *ra;
} child_ctx;

static int run_in_child(void *p)
{
    child_ctx *c = p;
    int rc = c->fn(c->arg, OUT(c->ra));
    c->ra->sent = 1;
    return rc == VINF_SUCCESS ? 0 : 1;
}

int vdc_bench_run_child(int (*fn)(void *arg, void *out), void *arg, void *out, size_t cb_out,
                        unsigned timeout_s, vdc_bench_child *info)
{
    memset(info, 0, sizeof *info);
    info->exit_status = -1;
    size_t cb = OUT_OFF + cb_out;
    result_area *ra = vdc_iso_shared_new(cb);
    if (ra == NULL)
        return VERR_NO_MEMORY;
    child_ctx c = { fn, arg, ra };
    /* exit(), not _exit(): sanitizers check for leaks at exit. */
    vdc_iso_opts o = { .flags = VDC_ISO_EXIT_HOOKS, .deadline_ms = (uint64_t)timeout_s * 1000u };
    vdc_iso_result r;
    int rc = vdc_iso_run(run_in_child, &c, &o, &r);
    if (rc != VINF_SUCCESS) {
        vdc_iso_shared_free(ra, cb);
        return rc;
    }
    info->wall_s = r.seconds;
    info->maxrss_kib = (double)r.maxrss_kib;
    info->timed_out = r.end == VDC_ISO_TIMEOUT;
    if (WIFEXITED(r.status))
        info->exit_status = WEXITSTATUS(r.status);
    else if (WIFSIGNALED(r.status))
        info->term_signal = WTERMSIG(r.status);
    /* A child that exits 1 reports a workload failure in its result: that
     * result is still complete and worth reading. */
    info->completed = ra->sent && !info->timed_out && (info->exit_status == 0 || info->exit_status == 1);
    if (ra->sent)
        memcpy(out, OUT(ra), cb_out);
    vdc_iso_shared_free(ra, cb);
    return VINF_SUCCESS;
}

void vdc_bench_child_describe(const vdc_bench_child *info, unsigned timeout_s, char *buf, size_t cb)
{
    if (info->timed_out)
        snprintf(buf, cb, "timed out after %u s", timeout_s);
    else if (info->term_signal != 0)
        snprintf(buf, cb, "killed by signal %d (%s)", info->term_signal, strsignal(info->term_signal));
    else if (info->exit_status != 0 && info->exit_status != 1)
        snprintf(buf, cb, "exited with status %d", info->exit_status);
    else if (!info->completed)
        snprintf(buf, cb, "exited with status %d before sending its whole result", info->exit_status);
    else
        snprintf(buf, cb, "completed");
}
