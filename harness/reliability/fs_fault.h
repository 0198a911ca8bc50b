/*
 * harness/reliability/fs_fault.h - a vdc_fs that fails chosen operations.
 *
 * A fault fs wraps any inner vdc_fs (fs.h) and forwards every operation to
 * it, counting them by kind.  Armed, it makes the Nth operation of one kind
 * (or of any kind) fail with a chosen VBox status instead of reaching the
 * inner fs: only that one operation (transient), or that one and every later
 * one of the same kind (persistent) until the fault is cleared.  The fault
 * sweep (faults.h) runs a workload once per operation index this way;
 * spec/contract.md HOST-2 and CRASH-1 are what it then checks.
 *
 * Kinds (what counts as one operation of each):
 *   OPEN   open;            READ  read;         WRITE  write;
 *   FLUSH  flush;           SIZE  set_size, allocate;
 *   NAME   remove, rename;  STAT  get_size, free_space, mtime.
 * VDC_FAULT_ANY counts every operation of every kind above.  close is never
 * failed (a handle must always be releasable) and is not counted.
 *
 * What a failed operation does: nothing, with two deliberate exceptions
 * that model real disks.  A failed read fills the caller's buffer with the
 * byte VDC_FAULT_POISON (a backend that ignores the status then serves
 * visible garbage).  A failed write armed with VDC_FAULT_TORN first writes
 * the leading half of its 512-byte sectors (rounded down; the first
 * `cb / 1024 * 512` bytes) to the inner fs: an I/O error may leave part of a
 * write on disk.  A failed open leaves *out NULL.
 *
 * Ownership: the fault fs does not own the inner fs; destroy the fault fs
 * first.  Its destroy closes the inner handles of files still open through
 * it.  Handles opened through it are its own (they forward to inner ones).
 *
 * Threading: none; one fs per thread.  No global state.
 */
#ifndef VDCC_HARNESS_RELIABILITY_FS_FAULT_H
#define VDCC_HARNESS_RELIABILITY_FS_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#include "../host/fs.h"

typedef enum vdc_fault_kind {
    VDC_FAULT_OPEN = 0,
    VDC_FAULT_READ,
    VDC_FAULT_WRITE,
    VDC_FAULT_FLUSH,
    VDC_FAULT_SIZE,
    VDC_FAULT_NAME,
    VDC_FAULT_STAT,
    VDC_FAULT_ANY,     /* every kind above together */
    VDC_FAULT_KINDS_
} vdc_fault_kind;

/* Flags for vdc_fs_fault_arm. */
#define VDC_FAULT_PERSISTENT 0x1u /* fail the Nth and every later op of the kind */
#define VDC_FAULT_TORN       0x2u /* a failed write stores its leading half first */

/* The byte a failed read leaves in the caller's buffer. */
#define VDC_FAULT_POISON 0xDBu

/* Creates a fault fs over inner (not owned), disarmed, counters at zero.
 * Returns NULL when inner is NULL or memory runs out. */
vdc_fs *vdc_fs_fault_new(vdc_fs *inner);

/*
 * Arms the fault: the nth (1-based, counted from now: the counters are not
 * reset, the fault fires when the kind's counter reaches its current value
 * plus nth) operation of `kind` fails with `status` (a failure status, e.g.
 * VERR_DISK_IO_ERROR, VERR_DISK_FULL, VERR_FILE_IO_ERROR).  flags:
 * VDC_FAULT_PERSISTENT, VDC_FAULT_TORN.  Replaces any earlier arming.
 * Returns VINF_SUCCESS, or VERR_INVALID_PARAMETER (fs not a fault fs, kind
 * out of range, nth 0, status not a failure, unknown flags).
 */
int vdc_fs_fault_arm(vdc_fs *fs, vdc_fault_kind kind, uint64_t nth, int status, unsigned flags);

/* Disarms: no operation fails from now on (a persistent fault stops too).
 * Counters are kept.  No-op on a fs that is not a fault fs. */
void vdc_fs_fault_clear(vdc_fs *fs);

/* Operations of kind seen so far (failed ones included); 0 for a fs that
 * is not a fault fs or a kind out of range. */
uint64_t vdc_fs_fault_count(const vdc_fs *fs, vdc_fault_kind kind);

/* How many operations the fault has failed since it was last armed. */
uint64_t vdc_fs_fault_fired(const vdc_fs *fs);

/* Sets every counter (and the fired count) to zero.  An armed fault keeps
 * its distance: one due in k more operations still fires in k; a persistent
 * one already firing keeps failing; a transient one that fired is disarmed. */
void vdc_fs_fault_reset_counts(vdc_fs *fs);

/* The kind's name ("open", "read", ..., "any"); "?" when out of range. */
const char *vdc_fault_kind_name(vdc_fault_kind kind);

#endif /* VDCC_HARNESS_RELIABILITY_FS_FAULT_H */
