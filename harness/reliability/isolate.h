/*
 * harness/reliability/isolate.h - running a piece of a long test in a child
 * process, so that a backend that crashes or hangs costs one case, not the
 * run (brief-common "a backend that crashes or hangs must not take the
 * harness down"; the idea of libuv's runner and SQLite's fuzzcheck).
 *
 * The crash and fault tests number their cases (crash states, fault points)
 * and report the case they are working on through a progress word in shared
 * memory.  vdc_iso_call forks, runs body in the child and watches that word:
 * when it stops changing for timeout_ms the child is killed (a hang).  The
 * caller learns how the child ended and which case it was on, counts that
 * case as a violation and starts a new child after it.
 *
 * Everything the child reports must live in memory from vdc_iso_shared_new
 * (MAP_SHARED), which the parent reads after the child is gone.  The child
 * ends with exit() (so sanitizers' exit-time checks, LeakSanitizer's among
 * them, run in it, and a report shows as a non-zero exit status).
 *
 * Statuses: VINF_SUCCESS (the child ran; see *end), VERR_NO_MEMORY,
 * VERR_GENERAL_FAILURE (fork failed).
 */
#ifndef VDCC_HARNESS_RELIABILITY_ISOLATE_H
#define VDCC_HARNESS_RELIABILITY_ISOLATE_H

#include <stddef.h>
#include <stdint.h>

typedef enum vdc_iso_end {
    VDC_ISO_OK = 0,      /* the child returned from body and exited 0 */
    VDC_ISO_EXIT,        /* it exited with a non-zero status (detail) */
    VDC_ISO_SIGNAL,      /* it died of signal `detail` (a crash) */
    VDC_ISO_TIMEOUT      /* its progress stalled for timeout_ms; killed */
} vdc_iso_end;

/* Zeroed shared memory of cb bytes, or NULL. */
void *vdc_iso_shared_new(size_t cb);
void vdc_iso_shared_free(void *p, size_t cb);

/*
 * Runs body(user) in a child.  progress points into shared memory; the
 * child must change it at least every timeout_ms (0: no timeout).  The
 * parent's stdout/stderr are flushed before forking.
 */
int vdc_iso_call(void (*body)(void *user), void *user, volatile uint64_t *progress,
                 unsigned timeout_ms, vdc_iso_end *end, int *detail);

/* "ok", "exit", "signal", "timeout". */
const char *vdc_iso_end_name(vdc_iso_end e);

#endif /* VDCC_HARNESS_RELIABILITY_ISOLATE_H */
