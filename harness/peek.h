/*
 * harness/peek.h - reading memory a plugin points at without trusting it.
 *
 * A backend's vtable holds pointers (its name, extension list, config table)
 * that vdcc reads before it has any reason to believe them.  These helpers
 * copy through the kernel (write to a pipe, read back), so an unmapped
 * address is an EFAULT error, never a SIGSEGV in vdcc.  They cannot tell
 * whether readable memory is the right memory; lint reports what it sees.
 */
#ifndef VDCC_HARNESS_PEEK_H
#define VDCC_HARNESS_PEEK_H

#include <stdbool.h>
#include <stddef.h>

typedef struct vdc_peek {
    int fds[2]; /* the pipe, -1 when closed */
} vdc_peek;

/* Opens the pipe.  Returns false when the system refuses one. */
bool vdc_peek_open(vdc_peek *pk);
void vdc_peek_close(vdc_peek *pk);

/* Copies cb bytes (cb <= 4096) from p into dst.  False when p is NULL or any
 * byte is unreadable. */
bool vdc_peek_bytes(vdc_peek *pk, const void *p, void *dst, size_t cb);

/*
 * Copies the NUL-terminated string at p into dst[0..cb) (cb >= 1), reading
 * at most cb - 1 characters.  Returns false when p is NULL or unreadable
 * before the NUL or the bound.  *terminated (may be NULL) tells whether the
 * NUL was found within the bound; dst is NUL-terminated either way.
 */
bool vdc_peek_string(vdc_peek *pk, const char *p, char *dst, size_t cb, bool *terminated);

#endif /* VDCC_HARNESS_PEEK_H */
