/*
 * harness/conformance/child.h - run one piece of work in a forked child,
 * with a time limit, and survive whatever it does.
 *
 * shrink and diff run a backend on many traces, and a backend under test
 * may crash, hang or trip a sanitizer (spec/contract.md HOST-2); the tool
 * must live on and classify.  The work function runs in a child process
 * (its own process group) and reports through memory shared with the
 * parent (vdc_shared_alloc, MAP_SHARED, set up before the fork); the parent
 * waits up to the limit, then kills the whole group.  The child leaves with
 * _exit after the work, so no atexit handler of the parent runs twice (nor
 * does LeakSanitizer, whose verdict is conform's business).
 *
 * Not a sandbox: the child can still write files the user can write.
 * Errors: vdc_child_run returns VINF_SUCCESS (res filled) or
 * VERR_NO_MEMORY / VERR_GENERAL_FAILURE when fork or the wait failed.
 */
#ifndef VDCC_HARNESS_CONFORMANCE_CHILD_H
#define VDCC_HARNESS_CONFORMANCE_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum vdc_child_end {
    VDC_CHILD_EXITED = 1, /* code = exit status */
    VDC_CHILD_SIGNALED,   /* code = the signal */
    VDC_CHILD_TIMEOUT     /* killed after the limit */
} vdc_child_end;

typedef struct vdc_child_result {
    vdc_child_end end;
    int           code;
    double        seconds;
} vdc_child_result;

/* The work: runs in the child; its return value is the exit status. */
typedef int (*vdc_child_fn)(void *ctx);

/* Runs fn(ctx) in a child, at most timeout_ms (> 0) milliseconds.  quiet:
 * the child's stdout and stderr go to /dev/null. */
int vdc_child_run(vdc_child_fn fn, void *ctx, uint64_t timeout_ms, bool quiet, vdc_child_result *res);

/* Zeroed memory shared with children forked afterwards (cb > 0), or NULL. */
void *vdc_shared_alloc(size_t cb);
void  vdc_shared_free(void *p, size_t cb);

#endif /* VDCC_HARNESS_CONFORMANCE_CHILD_H */
