/*
 * harness/core/isolate.h - the one place vdcc runs work in a child process.
 *
 * A backend under test may crash, hang, leak, trip a sanitizer or fork
 * helpers of its own (spec/contract.md HOST-2); the tool must live on and
 * say what happened.  Every command that runs a backend where that matters
 * (conform's runner, replay, shrink, diff, crashtest, faults, bench and the
 * plugin loader's trial load) does it through this module, so there is one
 * rule for all of them:
 *
 *   - the child runs in its own process group (set by the child and by the
 *     parent, so neither can race the other), and every kill is of that
 *     whole group: whatever the backend forked dies with it;
 *   - once the child has been reaped, the rest of its group is killed too;
 *   - the parent's stdio buffers are flushed before the fork, so nothing is
 *     printed twice;
 *   - the work returns the child's exit status; the child then leaves with
 *     exit() (VDC_ISO_EXIT_HOOKS: sanitizers' exit-time checks, LeakSanitizer
 *     among them, run in it) or _exit() (the parent's atexit handlers do not
 *     run twice).
 *
 * Two ways to use it:
 *   - vdc_iso_run: start, wait under a deadline and/or a heartbeat, kill the
 *     group when late, reap.  Optionally captures the child's stdout and
 *     stderr (through a pipe drained while waiting, so the child never
 *     blocks on a full pipe), or sends them to /dev/null;
 *   - vdc_iso_start / vdc_iso_reap / vdc_iso_kill / vdc_iso_stop for a
 *     caller that schedules several children itself (harness/runner.c).
 *
 * What the child reports travels through memory from vdc_iso_shared_new
 * (MAP_SHARED, mapped before the fork), read by the parent once the child
 * is gone (a heartbeat there is read while it runs).
 *
 * vdc_iso_resume runs a numbered sweep (crash states, fault points) in
 * children: when one dies, the unit it died on is reported and a fresh child
 * resumes after it.
 *
 * Not a sandbox: the child can still write whatever the user can write.
 * Depends on libc and spec/vdcache.h only.
 */
#ifndef VDCC_HARNESS_CORE_ISOLATE_H
#define VDCC_HARNESS_CORE_ISOLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct rusage;

/* How a child ended. */
typedef enum vdc_iso_end {
    VDC_ISO_OK = 0,  /* exited with status 0 */
    VDC_ISO_EXIT,    /* exited with a non-zero status (code) */
    VDC_ISO_SIGNAL,  /* died of signal `code` (a crash) */
    VDC_ISO_TIMEOUT  /* late (deadline or stalled heartbeat): its group was killed */
} vdc_iso_end;

/* "ok", "exit", "signal", "timeout". */
const char *vdc_iso_end_name(vdc_iso_end e);

/* Flags of vdc_iso_start and vdc_iso_opts. */
#define VDC_ISO_EXIT_HOOKS 1u /* leave with exit() after the work, not _exit() */
#define VDC_ISO_PDEATHSIG  2u /* the child is killed when vdcc dies (prctl) */
#define VDC_ISO_QUIET      4u /* the child's stdout and stderr go to /dev/null */

/* The work: runs in the child; its return value (& 0xff) is the exit status. */
typedef int (*vdc_iso_fn)(void *ctx);

/* A started child. */
typedef struct vdc_iso_child {
    pid_t    pid;      /* > 0 from vdc_iso_start until reaped */
    uint64_t start_ms; /* vdc_iso_now_ms() at the fork */
} vdc_iso_child;

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t vdc_iso_now_ms(void);

/* Zeroed memory shared with children forked afterwards, or NULL (cb 0 maps
 * one byte).  vdc_iso_shared_free(NULL, ...) does nothing. */
void *vdc_iso_shared_new(size_t cb);
void  vdc_iso_shared_free(void *p, size_t cb);

/*
 * Forks a child in its own process group that runs fn(ctx) and exits with
 * its return value; never returns in the child.  flags: VDC_ISO_*.
 * Returns VINF_SUCCESS (c->pid set), VERR_NO_MEMORY (fork: ENOMEM/EAGAIN)
 * or VERR_GENERAL_FAILURE (another fork error); errno is kept.
 */
int vdc_iso_start(vdc_iso_child *c, vdc_iso_fn fn, void *ctx, unsigned flags);

/*
 * Reaps c when it has ended (block: waits for it).  Returns 1 when reaped
 * (*status as from waitpid; ru, when not NULL, its resource usage; the rest
 * of its group is killed and c->pid becomes 0), 0 when it still runs, -1
 * when it is lost (ECHILD or another wait error: c->pid becomes 0).
 */
int vdc_iso_reap(vdc_iso_child *c, bool block, int *status, struct rusage *ru);

/* Kills c's whole process group (and c itself) with SIGKILL. */
void vdc_iso_kill(const vdc_iso_child *c);

/* Kills and reaps c (status may be NULL); nothing when c->pid is 0. */
void vdc_iso_stop(vdc_iso_child *c, int *status);

/*
 * Watches a heartbeat word: vdc_iso_stalled is true once the beat has not
 * changed for stall_ms since the first call (which arms the watch).
 */
typedef struct vdc_iso_beat {
    bool     armed;
    uint64_t seen, since_ms;
} vdc_iso_beat;
bool vdc_iso_stalled(vdc_iso_beat *w, uint64_t beat, uint64_t now_ms, uint64_t stall_ms);

/* vdc_iso_run's options; zeroed means: no limit, output inherited, _exit. */
typedef struct vdc_iso_opts {
    unsigned                 flags;       /* VDC_ISO_* */
    uint64_t                 deadline_ms; /* killed once it has run this long; 0: no deadline */
    uint64_t                 stall_ms;    /* killed when *heartbeat stays unchanged this long; 0: not watched */
    const volatile uint64_t *heartbeat;   /* in shared memory; needed for stall_ms */
    char                    *capture;     /* non-NULL: the first cb_capture - 1 bytes of the child's */
    size_t                   cb_capture;  /* stdout and stderr, NUL-terminated (cb_capture > 0) */
} vdc_iso_opts;

typedef struct vdc_iso_result {
    vdc_iso_end end;
    int         code;       /* EXIT: the exit status; SIGNAL: the signal; else 0 */
    int         status;     /* waitpid's status (after the kill, for TIMEOUT) */
    double      seconds;    /* from the fork to the reaping */
    long        maxrss_kib; /* the child's peak resident set (wait4) */
} vdc_iso_result;

/*
 * Runs fn(ctx) in a child under o (NULL: no limits) and waits for it: a
 * short child is reaped at once (the parent polls from 0.2 ms up to 5 ms).
 * Returns VINF_SUCCESS (r filled), VERR_NO_MEMORY or VERR_GENERAL_FAILURE
 * (pipe, fork or the wait failed; no child is left running).
 */
int vdc_iso_run(vdc_iso_fn fn, void *ctx, const vdc_iso_opts *o, vdc_iso_result *r);

/*
 * Resume after death.  A sweep numbers its units (crash states, fault
 * points); a child runs it from unit `skip` on and reports, in the
 * vdc_iso_progress at the start of the shared mapping, 1 + the unit it is
 * on (0: none yet) and a heartbeat that must change at least every
 * timeout_ms.  When a child dies (signal, non-zero exit, stall) the unit it
 * was on is reported through died() and a fresh child resumes after it,
 * until a child finishes, dies before its first unit, or dies again on the
 * unit it resumed from.
 */
typedef struct vdc_iso_progress {
    volatile uint64_t progress;  /* 1 + the unit being worked on; 0: none yet */
    volatile uint64_t heartbeat; /* changes while the work goes on */
    int               rc;        /* the work's status, once finished */
    volatile bool     finished;  /* the work returned */
} vdc_iso_progress;

typedef struct vdc_iso_sweep {
    const char *unit;      /* "state", "point": used in the messages */
    size_t      cb_result; /* bytes of the result area after the vdc_iso_progress */
    /* In the child: the sweep from unit skip on; result is zeroed; returns its status. */
    int (*work)(void *user, uint64_t skip, vdc_iso_progress *pr, void *result);
    /* In the parent after every child: fold its result in (first: the first child). */
    void (*merge)(void *user, const void *result, bool first);
    /* In the parent after a child died: at is its progress (1 + unit, 0
     * none), finished whether the work had returned (a report at exit),
     * what how it died ("died of signal 11", ...). */
    void (*died)(void *user, uint64_t at, bool finished, const char *what);
} vdc_iso_sweep;

/*
 * Runs the sweep s with the child's heartbeat watched (timeout_ms, 0: not).
 * Returns the status of the last child's work when it finished, else
 * VINF_SUCCESS; VERR_NO_MEMORY or VERR_GENERAL_FAILURE when no child could
 * be started.
 */
int vdc_iso_resume(const vdc_iso_sweep *s, void *user, unsigned timeout_ms);

#endif /* VDCC_HARNESS_CORE_ISOLATE_H */
