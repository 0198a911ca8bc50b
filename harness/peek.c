/*
 * harness/peek.c - safe reads of untrusted pointers through a pipe.
 * Contract: peek.h.  Returns booleans only (no status codes).  Writes of at
 * most PIPE_BUF bytes to a pipe are atomic and the pipe is drained after
 * each one, so a write either copies everything or fails with EFAULT.
 * Strings are copied byte by byte so that nothing past their NUL is read.
 */
#include "peek.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#define PEEK_CHUNK 4096u

bool vdc_peek_open(vdc_peek *pk)
{
    pk->fds[0] = pk->fds[1] = -1;
    return pipe2(pk->fds, O_CLOEXEC) == 0;
}

void vdc_peek_close(vdc_peek *pk)
{
    for (int i = 0; i < 2; i++) {
        if (pk->fds[i] >= 0)
            close(pk->fds[i]);
        pk->fds[i] = -1;
    }
}

bool vdc_peek_bytes(vdc_peek *pk, const void *p, void *dst, size_t cb)
{
    if (p == NULL || cb > PEEK_CHUNK || cb > PIPE_BUF || pk->fds[1] < 0)
        return false;
    if (cb == 0)
        return true;
    ssize_t w;
    do
        w = write(pk->fds[1], p, cb);
    while (w < 0 && errno == EINTR);
    if (w != (ssize_t)cb)
        return false;
    size_t got = 0;
    while (got < cb) {
        ssize_t r = read(pk->fds[0], (char *)dst + got, cb - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

bool vdc_peek_string(vdc_peek *pk, const char *p, char *dst, size_t cb, bool *terminated)
{
    if (terminated != NULL)
        *terminated = false;
    if (cb == 0)
        return false;
    dst[0] = '\0';
    if (p == NULL)
        return false;
    /* One byte at a time: reading past the NUL, even inside the same page,
     * would touch memory the string does not own (and sanitizers say so). */
    for (size_t len = 0; len < cb - 1; len++) {
        if (!vdc_peek_bytes(pk, p + len, dst + len, 1)) {
            dst[len] = '\0';
            return false;
        }
        if (dst[len] == '\0') {
            if (terminated != NULL)
                *terminated = true;
            return true;
        }
    }
    dst[cb - 1] = '\0';
    return true;
}
