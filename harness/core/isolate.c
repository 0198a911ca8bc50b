/*
 * harness/core/isolate.c - fork into a process group, watch, kill the
 * group, reap (isolate.h).
 *
 * Contract: isolate.h.  Statuses: VINF_SUCCESS, VERR_NO_MEMORY,
 * VERR_GENERAL_FAILURE.  Serves spec/contract.md HOST-2: a backend that
 * crashes or hangs is reported, never fatal to the harness.
 *
 * This file holds vdcc's only call to fork.
 */
#include "isolate.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../spec/vdcache.h"

uint64_t vdc_iso_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

const char *vdc_iso_end_name(vdc_iso_end e)
{
    switch (e) {
    case VDC_ISO_OK: return "ok";
    case VDC_ISO_EXIT: return "exit";
    case VDC_ISO_SIGNAL: return "signal";
    case VDC_ISO_TIMEOUT: return "timeout";
    }
    return "?";
}

void *vdc_iso_shared_new(size_t cb)
{
    void *p = mmap(NULL, cb != 0 ? cb : 1, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p; /* anonymous mappings are zero-filled */
}

void vdc_iso_shared_free(void *p, size_t cb)
{
    if (p != NULL)
        munmap(p, cb != 0 ? cb : 1);
}

/* ---- one child ------------------------------------------------------------ */

static void to_devnull(void)
{
    int fd = open("/dev/null", O_WRONLY);
    if (fd < 0)
        return;
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    if (fd > STDERR_FILENO)
        close(fd);
}

int vdc_iso_start(vdc_iso_child *c, vdc_iso_fn fn, void *ctx, unsigned flags)
{
    fflush(NULL); /* the child must not print the parent's buffered output again */
    c->start_ms = vdc_iso_now_ms();
    pid_t pid = fork();
    if (pid < 0) {
        c->pid = 0;
        return errno == ENOMEM || errno == EAGAIN ? VERR_NO_MEMORY : VERR_GENERAL_FAILURE;
    }
    if (pid == 0) {
        setpgid(0, 0);
        if (flags & VDC_ISO_PDEATHSIG)
            prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (flags & VDC_ISO_QUIET)
            to_devnull();
        int code = fn(ctx);
        fflush(stdout);
        fflush(stderr);
        if (flags & VDC_ISO_EXIT_HOOKS)
            exit(code & 0xff); /* LeakSanitizer and the other exit-time checks run */
        _exit(code & 0xff);
    }
    setpgid(pid, pid); /* also done by the child; whichever runs first wins */
    c->pid = pid;
    return VINF_SUCCESS;
}

int vdc_iso_reap(vdc_iso_child *c, bool block, int *status, struct rusage *ru)
{
    int st = 0;
    if (c->pid <= 0)
        return -1;
    for (;;) {
        pid_t w = wait4(c->pid, &st, block ? 0 : WNOHANG, ru);
        if (w == c->pid) {
            kill(-c->pid, SIGKILL); /* whatever it left in its group goes too */
            c->pid = 0;
            if (status != NULL)
                *status = st;
            return 1;
        }
        if (w == 0)
            return 0;
        if (errno != EINTR) {
            c->pid = 0;
            return -1;
        }
    }
}

void vdc_iso_kill(const vdc_iso_child *c)
{
    if (c->pid <= 0)
        return;
    kill(-c->pid, SIGKILL);
    kill(c->pid, SIGKILL); /* in case it had not reached setpgid yet */
}

void vdc_iso_stop(vdc_iso_child *c, int *status)
{
    if (c->pid <= 0)
        return;
    vdc_iso_kill(c);
    vdc_iso_reap(c, true, status, NULL);
}

bool vdc_iso_stalled(vdc_iso_beat *w, uint64_t beat, uint64_t now_ms, uint64_t stall_ms)
{
    if (!w->armed || beat != w->seen) {
        w->armed = true;
        w->seen = beat;
        w->since_ms = now_ms;
        return false;
    }
    return now_ms - w->since_ms >= stall_ms;
}

/* ---- start, watch, reap --------------------------------------------------- */

typedef struct run_child {
    vdc_iso_fn fn;
    void      *ctx;
    int        out_fd; /* the capture pipe's write end, or -1 */
} run_child;

static int run_trampoline(void *p)
{
    run_child *rc = p;
    if (rc->out_fd >= 0) {
        dup2(rc->out_fd, STDOUT_FILENO); /* dup2 clears O_CLOEXEC on the copies */
        dup2(rc->out_fd, STDERR_FILENO);
        close(rc->out_fd);
    }
    return rc->fn(rc->ctx);
}

/* Output capture: what the child writes, kept up to cb - 1 bytes. */
typedef struct capture {
    int    fd; /* read end, -1 once at end of file or unused */
    char  *buf;
    size_t cb, have;
} capture;

/* Reads what is there (non-blocking); closes the pipe at end of file. */
static void capture_read(capture *cap)
{
    while (cap->fd >= 0) {
        char chunk[1024];
        ssize_t n = read(cap->fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            close(cap->fd);
            cap->fd = -1;
            return;
        }
        size_t room = cap->cb - 1 - cap->have, take = (size_t)n < room ? (size_t)n : room;
        memcpy(cap->buf + cap->have, chunk, take);
        cap->have += take;
    }
}

/* Waits up to ns nanoseconds, or until the capture pipe has data. */
static void nap(capture *cap, long ns)
{
    struct timespec ts = { 0, ns };
    if (cap->fd < 0) {
        nanosleep(&ts, NULL);
        return;
    }
    struct pollfd p = { .fd = cap->fd, .events = POLLIN };
    if (ppoll(&p, 1, &ts, NULL) > 0)
        capture_read(cap);
}

static bool late(const vdc_iso_opts *o, const vdc_iso_child *c, vdc_iso_beat *beat)
{
    uint64_t now = vdc_iso_now_ms();
    if (o->deadline_ms != 0 && now - c->start_ms >= o->deadline_ms)
        return true;
    return o->stall_ms != 0 && o->heartbeat != NULL && vdc_iso_stalled(beat, *o->heartbeat, now, o->stall_ms);
}

int vdc_iso_run(vdc_iso_fn fn, void *ctx, const vdc_iso_opts *o, vdc_iso_result *r)
{
    static const vdc_iso_opts none;
    if (o == NULL)
        o = &none;
    memset(r, 0, sizeof *r);
    capture cap = { .fd = -1, .buf = o->capture, .cb = o->cb_capture };
    run_child rc = { fn, ctx, -1 };
    if (o->capture != NULL && o->cb_capture > 0) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0)
            return VERR_GENERAL_FAILURE;
        fcntl(fds[0], F_SETFL, O_NONBLOCK);
        cap.fd = fds[0];
        rc.out_fd = fds[1];
        o->capture[0] = '\0';
    }
    vdc_iso_child c;
    int st = vdc_iso_start(&c, run_trampoline, &rc, o->flags);
    if (rc.out_fd >= 0)
        close(rc.out_fd);
    if (st != VINF_SUCCESS)
        goto out_close;

    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    vdc_iso_beat beat = { 0 };
    long sleep_ns = 200000;
    int status = 0;
    for (;;) {
        int w = vdc_iso_reap(&c, false, &status, &ru);
        if (w < 0) {
            st = VERR_GENERAL_FAILURE;
            goto out_close;
        }
        if (w == 1)
            break;
        if (late(o, &c, &beat)) {
            vdc_iso_kill(&c);
            vdc_iso_reap(&c, true, &status, &ru);
            r->end = VDC_ISO_TIMEOUT;
            break;
        }
        nap(&cap, sleep_ns);
        if (sleep_ns < 5000000)
            sleep_ns *= 2;
    }
    r->seconds = (double)(vdc_iso_now_ms() - c.start_ms) / 1000.0;
    r->status = status;
    r->maxrss_kib = ru.ru_maxrss;
    if (r->end == VDC_ISO_TIMEOUT) {
        /* keep TIMEOUT: the signal is ours */
    } else if (WIFSIGNALED(status)) {
        r->end = VDC_ISO_SIGNAL;
        r->code = WTERMSIG(status);
    } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        r->end = VDC_ISO_EXIT;
        r->code = WEXITSTATUS(status);
    }
    /* The group is dead: what is left in the pipe is all there is, unless
     * something outside the group holds it (then stop at EAGAIN). */
    capture_read(&cap);
out_close:
    if (cap.fd >= 0)
        close(cap.fd);
    if (cap.buf != NULL && cap.cb > 0)
        cap.buf[cap.have] = '\0';
    return st;
}

/* ---- resume after death ---------------------------------------------------- */

/* Where the result area starts in the shared mapping. */
#define RESULT_OFF ((sizeof(vdc_iso_progress) + 63u) & ~(size_t)63u)

typedef struct sweep_child {
    const vdc_iso_sweep *s;
    void                *user;
    uint64_t             skip;
    vdc_iso_progress    *pr;
} sweep_child;

static int sweep_body(void *p)
{
    sweep_child *sc = p;
    sc->pr->rc = sc->s->work(sc->user, sc->skip, sc->pr, (char *)sc->pr + RESULT_OFF);
    sc->pr->finished = true;
    return 0;
}

int vdc_iso_resume(const vdc_iso_sweep *s, void *user, unsigned timeout_ms)
{
    size_t cb = RESULT_OFF + s->cb_result;
    vdc_iso_progress *pr = vdc_iso_shared_new(cb);
    if (pr == NULL)
        return VERR_NO_MEMORY;
    uint64_t skip = 0;
    bool first = true;
    int rc;
    for (;;) {
        memset((void *)pr, 0, cb);
        sweep_child sc = { s, user, skip, pr };
        vdc_iso_opts o = { .flags = VDC_ISO_EXIT_HOOKS, .stall_ms = timeout_ms, .heartbeat = &pr->heartbeat };
        vdc_iso_result r;
        rc = vdc_iso_run(sweep_body, &sc, &o, &r);
        if (rc != VINF_SUCCESS)
            break;
        s->merge(user, (const char *)pr + RESULT_OFF, first);
        first = false;
        if (r.end == VDC_ISO_OK) {
            rc = pr->rc;
            break;
        }
        uint64_t at = pr->progress;
        char what[160];
        if (r.end == VDC_ISO_TIMEOUT)
            snprintf(what, sizeof what, "made no progress for %u ms (hang)", timeout_ms);
        else if (r.end == VDC_ISO_SIGNAL)
            snprintf(what, sizeof what, "died of signal %d", r.code);
        else if (pr->finished)
            snprintf(what, sizeof what,
                     "exited with status %d after the last %s (a sanitizer report at exit, e.g. a leak)", r.code,
                     s->unit);
        else
            snprintf(what, sizeof what, "exited with status %d (a sanitizer report or abort)", r.code);
        s->died(user, at, pr->finished, what);
        if (at == 0 || at <= skip || pr->finished) {
            /* It died before its first unit (in the set-up), on the one it
             * resumed from, or after the last. */
            rc = pr->finished ? pr->rc : VINF_SUCCESS;
            break;
        }
        skip = at; /* resume after the unit that killed it */
    }
    vdc_iso_shared_free(pr, cb);
    return rc;
}
