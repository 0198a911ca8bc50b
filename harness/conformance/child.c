/*
 * harness/conformance/child.c - forked, time-limited work (child.h).
 *
 * Contract and statuses: child.h (VINF_SUCCESS, VERR_NO_MEMORY,
 * VERR_GENERAL_FAILURE).  The parent polls waitpid with a sleep that grows
 * from 0.2 ms to 5 ms, so short children (most shrink candidates take a few
 * milliseconds) are reaped at once without burning a core on long ones.
 */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../spec/vdcache.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void quiet_stdio(void)
{
    int fd = open("/dev/null", O_WRONLY);
    if (fd < 0)
        return;
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    if (fd > STDERR_FILENO)
        close(fd);
}

int vdc_child_run(vdc_child_fn fn, void *ctx, uint64_t timeout_ms, bool quiet, vdc_child_result *res)
{
    fflush(stdout);
    fflush(stderr);
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0)
        return errno == ENOMEM || errno == EAGAIN ? VERR_NO_MEMORY : VERR_GENERAL_FAILURE;
    if (pid == 0) {
        setpgid(0, 0);
        if (quiet)
            quiet_stdio();
        int code = fn(ctx);
        _exit(code & 0xff);
    }
    setpgid(pid, pid); /* also from here: no race with the child's own call */

    double limit = t0 + (double)timeout_ms / 1000.0;
    long sleep_ns = 200000;
    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return VERR_GENERAL_FAILURE;
        }
        if (now_s() >= limit) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            res->end = VDC_CHILD_TIMEOUT;
            res->code = 0;
            res->seconds = now_s() - t0;
            return VINF_SUCCESS;
        }
        struct timespec ts = { 0, sleep_ns };
        nanosleep(&ts, NULL);
        if (sleep_ns < 5000000)
            sleep_ns *= 2;
    }
    /* Anything the child left in its group goes with it. */
    kill(-pid, SIGKILL);
    res->seconds = now_s() - t0;
    if (WIFSIGNALED(status)) {
        res->end = VDC_CHILD_SIGNALED;
        res->code = WTERMSIG(status);
    } else {
        res->end = VDC_CHILD_EXITED;
        res->code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    return VINF_SUCCESS;
}

void *vdc_shared_alloc(size_t cb)
{
    if (cb == 0)
        return NULL;
    void *p = mmap(NULL, cb, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void vdc_shared_free(void *p, size_t cb)
{
    if (p != NULL)
        munmap(p, cb);
}
