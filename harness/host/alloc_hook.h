/*
 * harness/host/alloc_hook.h - the allocator a built-in backend sees:
 * counting, leak accounting and injected allocation failures
 * (spec/contract.md HOST-3, HOST-4).
 *
 * How a backend gets here.  The build copies a backend's archive with its
 * allocator references renamed (objcopy --redefine-sym: malloc, calloc,
 * realloc, aligned_alloc, strdup, free -> vdc_be_*; build.ninja rule
 * `allochook`, harness/part.ninja's libvciref_hooked.a for vdcc).  The
 * backend's source is not touched and sees only libc's names; the harness
 * code itself is never renamed, so everything counted here is the
 * backend's.  A plugin loaded with dlopen calls libc directly: it is
 * neither counted nor failed, and the allocation-failure sweep finds no
 * allocation to fail (faults.h says so in its report).
 *
 * What it does.  Disarmed (the initial state) every vdc_be_* call forwards
 * to libc and only the live-allocation balance is kept.  Armed, every
 * allocation call (a realloc counts, also one that shrinks) is numbered
 * from 1; the one numbered nth fails (returns NULL, errno ENOMEM, nothing
 * allocated or freed), and with `persistent` every one after it too; nth 0
 * counts without failing.  Armed, it also notes where in the backend each
 * call site first allocated (vdc_alloc_hook_sites), so that a sweep can
 * fail every site at least once instead of hoping a sample hits it.
 *
 * The live balance (vdc_alloc_hook_live) is allocations that succeeded
 * minus pointers freed (free(NULL) not counted; realloc moves a block and
 * changes nothing; realloc(p, 0) frees p and returns NULL, a decision made
 * here so that every libc behaves the same).  A backend that has closed
 * every instance should be back at the balance it had before the first
 * open: the sweeps check that (HOST-3 in builds without LeakSanitizer).
 * A block the backend hands over to the host (pfnDiscard's
 * *ppbmAllocated, which the host frees with libc's free) would stay
 * counted as live; ref hands none over.
 *
 * State: one process-wide record, the only global mutable state of the
 * host library (an allocation carries no context to hang it on).  Not
 * thread-safe; vdcc calls a backend from one thread per process.  No
 * status codes: the functions cannot fail.
 */
#ifndef VDCC_HARNESS_HOST_ALLOC_HOOK_H
#define VDCC_HARNESS_HOST_ALLOC_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Starts numbering allocations from 1 (and zeroes the fired count);
 * nth 0: count only. */
void vdc_alloc_hook_arm(uint64_t nth, bool persistent);

/* Stops numbering and failing; the count and fired figures stay readable. */
void vdc_alloc_hook_disarm(void);

/* Between pause and resume (they nest) allocations are neither numbered
 * nor failed, as when disarmed, and the numbering goes on afterwards; the
 * live balance is kept throughout.  For harness code that is linked from
 * the backend's renamed archive and runs in the middle of an armed run
 * (ref's vci_check, the deep check of workload.h), so that it neither
 * shifts the numbers a sweep replays nor fails. */
void vdc_alloc_hook_pause(void);
void vdc_alloc_hook_resume(void);

/* Allocation calls numbered since the last arm. */
uint64_t vdc_alloc_hook_count(void);

/* Allocations failed on purpose since the last arm. */
uint64_t vdc_alloc_hook_fired(void);

/* Call sites: since the last arm, the number of the first allocation made
 * from each distinct place in the backend's code (the return address of
 * the allocator call), in order, at most VDC_ALLOC_HOOK_MAX_SITES (later
 * sites are not listed).  Copies up to max numbers into out; returns how
 * many sites were seen (capped as said). */
#define VDC_ALLOC_HOOK_MAX_SITES 128u
size_t vdc_alloc_hook_sites(uint64_t *out, size_t max);

/* Successful allocations minus frees of the backend, ever. */
int64_t vdc_alloc_hook_live(void);

/* The renamed allocator (called by the backend's rewritten objects). */
void *vdc_be_malloc(size_t cb);
void *vdc_be_calloc(size_t n, size_t cb);
void *vdc_be_realloc(void *p, size_t cb);
void *vdc_be_aligned_alloc(size_t align, size_t cb);
char *vdc_be_strdup(const char *s);
void vdc_be_free(void *p);

#endif /* VDCC_HARNESS_HOST_ALLOC_HOOK_H */
