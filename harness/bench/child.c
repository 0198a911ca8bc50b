/*
 * harness/bench/child.c - runs one workload in a forked child and reports
 * how it ended, its result bytes and its peak RSS.  Contract: bench_int.h
 * (vdc_bench_run_child); why a child per workload: spec/performance.md
 * section 1.  Status codes: VINF_SUCCESS, VERR_NO_MEMORY, VERR_GENERAL_
 * FAILURE (pipe or fork failed, errno kept).
 *
 * The child's result travels through a pipe that the parent drains while
 * waiting, so a result larger than the pipe buffer cannot deadlock; the
 * parent polls with the deadline, then kills and reaps.  ru_maxrss comes
 * from wait4 of that child alone.  Note that a forked child starts with the
 * parent's resident pages, so its peak includes the parent's footprint: the
 * baseline workload measures that and the report shows it.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_int.h"

static bool write_full(int fd, const void *buf, size_t cb)
{
    const char *p = buf;
    while (cb > 0) {
        ssize_t n = write(fd, p, cb);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        cb -= (size_t)n;
    }
    return true;
}

static void run_in_child(int fd, int (*fn)(void *arg, void *out), void *arg, size_t cb_out, unsigned timeout_s)
{
    alarm(timeout_s);
    void *out = calloc(1, cb_out);
    if (out == NULL)
        _exit(3);
    int rc = fn(arg, out);
    bool sent = write_full(fd, out, cb_out);
    free(out);
    close(fd);
    /* exit(), not _exit(): sanitizers check for leaks at exit. */
    exit(!sent ? 2 : rc == VINF_SUCCESS ? 0 : 1);
}

int vdc_bench_run_child(int (*fn)(void *arg, void *out), void *arg, void *out, size_t cb_out,
                        unsigned timeout_s, vdc_bench_child *info)
{
    memset(info, 0, sizeof *info);
    info->exit_status = -1;
    int fds[2];
    if (pipe(fds) != 0)
        return VERR_GENERAL_FAILURE;
    fflush(stdout);
    fflush(stderr);
    double t0 = vdc_bench_now();
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        errno = e;
        return VERR_GENERAL_FAILURE;
    }
    if (pid == 0) {
        close(fds[0]);
        run_in_child(fds[1], fn, arg, cb_out, timeout_s);
    }
    close(fds[1]);

    /* Drain the pipe until EOF or the deadline (a little after the child's
     * own alarm, which normally fires first). */
    size_t got = 0;
    double deadline = t0 + timeout_s + 5;
    char sink[4096];
    for (;;) {
        double left = deadline - vdc_bench_now();
        if (left <= 0) {
            kill(pid, SIGKILL);
            info->timed_out = true;
            break;
        }
        struct pollfd p = { .fd = fds[0], .events = POLLIN };
        int pr = poll(&p, 1, (int)(left * 1000) + 1);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0) {
            kill(pid, SIGKILL);
            break;
        }
        if (pr == 0)
            continue;
        ssize_t n = got < cb_out ? read(fds[0], (char *)out + got, cb_out - got) : read(fds[0], sink, sizeof sink);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (got < cb_out)
            got += (size_t)n;
    }
    close(fds[0]);

    int st = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
        ;
    info->wall_s = vdc_bench_now() - t0;
    info->maxrss_kib = (double)ru.ru_maxrss;
    if (WIFEXITED(st)) {
        info->exit_status = WEXITSTATUS(st);
    } else if (WIFSIGNALED(st)) {
        info->term_signal = WTERMSIG(st);
        if (info->term_signal == SIGALRM)
            info->timed_out = true;
    }
    /* A child that exits 1 reports a workload failure in its result: that
     * result is still complete and worth reading. */
    info->completed = got == cb_out && (info->exit_status == 0 || info->exit_status == 1);
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
