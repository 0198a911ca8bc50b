/*
 * harness/reliability/isolate.c - fork, watch, reap (isolate.h).
 *
 * Contract: isolate.h.  Statuses: VINF_SUCCESS, VERR_NO_MEMORY,
 * VERR_GENERAL_FAILURE.  Serves spec/contract.md HOST-2 testing: a backend
 * that crashes or hangs is reported, never fatal to the harness.
 */
#include "isolate.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../spec/vdcache.h"

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

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int vdc_iso_call(void (*body)(void *user), void *user, volatile uint64_t *progress,
                 unsigned timeout_ms, vdc_iso_end *end, int *detail)
{
    int status = 0;
    pid_t pid;

    *end = VDC_ISO_OK;
    *detail = 0;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0)
        return VERR_GENERAL_FAILURE;
    if (pid == 0) {
        body(user);
        fflush(stdout);
        fflush(stderr);
        exit(0);
    }

    uint64_t last = progress != NULL ? *progress : 0, since = now_ms();
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            *end = VDC_ISO_EXIT;
            *detail = -1;
            return VINF_SUCCESS;
        }
        uint64_t t = now_ms();
        if (progress != NULL && *progress != last) {
            last = *progress;
            since = t;
        } else if (timeout_ms != 0 && t - since > timeout_ms) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            *end = VDC_ISO_TIMEOUT;
            return VINF_SUCCESS;
        }
        struct timespec nap = { 0, 2 * 1000 * 1000 };
        nanosleep(&nap, NULL);
    }
    if (WIFSIGNALED(status)) {
        *end = VDC_ISO_SIGNAL;
        *detail = WTERMSIG(status);
    } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        *end = VDC_ISO_EXIT;
        *detail = WEXITSTATUS(status);
    }
    return VINF_SUCCESS;
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
