/*
 * fuzz/script.h - operation scripts for fuzz_ops and fuzz_model.
 *
 * A script is a compact byte string of operations on one open cache
 * instance.  The interpreter keeps a byte-level shadow of what the script
 * wrote and checks every read against it: a cache may miss, never lie
 * (spec/contract.md READ-1, READ-3, WRITE-2, DISCARD-1, CRASH-1).  Each byte
 * of the shadow is UNKNOWN (held before the script opened the image: a hit
 * there cannot be judged), ABSENT (never written since a fresh create, or
 * discarded: any hit is a lie) or DATA (the last bytes a successful write
 * processed: a hit must return exactly them).
 *
 * Encoding.  Ops follow each other; the script ends with the input, after
 * FUZZ_SCRIPT_MAX_OPS ops, or once FUZZ_SCRIPT_MAX_BYTES were moved.  An op
 * whose arguments are cut off by the end of the input is not run.  The op
 * byte's low nibble is the kind; its high nibble holds modifiers: bits 4-5
 * the window (FUZZ_WINDOW_*), bit 6 ALIGNED (offset rounded down to 512,
 * length a multiple of 512), bit 7 ALT (a kind-specific variant).
 *
 *   kind  args                  what
 *   0,10,12  off16 len16 seed8  WRITE data(seed) at off; ALT: VD's write loop
 *   1,11,13  off16 len16        READ; ALT: VD's read loop (advance by count)
 *   2        off16 len16        DISCARD; ALT: with VD_DISCARD_MARK_UNUSED
 *   3        -                  FLUSH
 *   4        flags8             SET-OPEN-FLAGS (flags8 mapped by fuzz_script_flags)
 *   5        flags8             REOPEN: close, (model: probe), open with flags
 *   6        -                  INFO: every getter; ALT: Dump as well
 *   7        seed8              SET-MOD-UUID then get; ALT: the image UUID
 *   8        n8, n bytes        SET-COMMENT (n % 64 chars) then get
 *   9        -                  CRASH: copy the file as it is now, open the
 *                               copy as a second instance, check every window
 *   14       off16 len16 seed8  FILL: read; on a miss, write data(seed) for
 *                               the missed bytes with VD's write loop
 *   15       off16 len16        READ with VD's loop
 *
 * Offsets: off16 is a byte offset inside the window; the length is
 * 1 + len16 % 16384 bytes (ALIGNED: (len16 % 128 + 1) * 512), cut at the end
 * of the window.  Integers are little-endian.
 *
 * data(seed) is a function of the seed and the absolute disk offset, so
 * overlapping writes with different seeds are told apart; seed 0 is zeros.
 */
#ifndef VDCC_FUZZ_SCRIPT_H
#define VDCC_FUZZ_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "fuzz.h"

enum {
    FUZZ_OP_WRITE = 0,
    FUZZ_OP_READ = 1,
    FUZZ_OP_DISCARD = 2,
    FUZZ_OP_FLUSH = 3,
    FUZZ_OP_SETFLAGS = 4,
    FUZZ_OP_REOPEN = 5,
    FUZZ_OP_INFO = 6,
    FUZZ_OP_UUID = 7,
    FUZZ_OP_COMMENT = 8,
    FUZZ_OP_CRASH = 9,
    FUZZ_OP_WRITE2 = 10,
    FUZZ_OP_READ2 = 11,
    FUZZ_OP_WRITE3 = 12,
    FUZZ_OP_READ3 = 13,
    FUZZ_OP_FILL = 14,
    FUZZ_OP_VDREAD = 15
};
#define FUZZ_MOD_WIN(w)  (((unsigned)(w) & 3u) << 4)
#define FUZZ_MOD_ALIGNED 0x40u
#define FUZZ_MOD_ALT     0x80u

/* The windows of the virtual disk a script works in, each FUZZ_WINDOW
 * bytes: near 0, across 1 GiB, across 2 TiB (block numbers pass 32 bits)
 * and across 1 PiB. */
#define FUZZ_WINDOW   65536u
#define FUZZ_NWINDOWS 4u
extern const uint64_t fuzz_window_base[FUZZ_NWINDOWS];

/* Bounds of one script.  The windows hold 256 KiB in all, so 1 MiB moved
 * (reads and writes) still rewrites every window four times over; more
 * only made a long tail of slow inputs (it was 4 MiB: fuzz_ops ran about
 * a fifth slower and reached no more coverage). */
#define FUZZ_SCRIPT_MAX_OPS   256u
#define FUZZ_SCRIPT_MAX_BYTES ((uint64_t)1 << 20)

/* The VD open flags a flags8 byte stands for: bit 0 READONLY, 1
 * IGNORE_FLUSH, 2 HONOR_ZEROES, 3 SHAREABLE, 4 SEQUENTIAL, 5 DISCARD, 6
 * SKIP_CONSISTENCY_CHECKS, 7 INFORM_ABOUT_ZERO_BLOCKS. */
unsigned fuzz_script_flags(uint8_t flags8);

/* The n bytes a write with seed puts at absolute disk offsets pos.. into
 * buf (8-byte words of a mix of seed and pos >> 3; seed 0 is zeros). */
void fuzz_script_fill(uint8_t seed, uint64_t pos, uint8_t *buf, size_t n);

/*
 * fuzz_ops: the image FUZZ_IMAGE_NAME already holds hostile bytes.  Opens it
 * with open_flags; when the open fails, returns (that is fine).  Then runs
 * the script with an all-UNKNOWN shadow, and closes.  Aborts on any
 * contract violation that holds whatever the image contained.
 */
void fuzz_script_run_ops(fuzz_env *env, unsigned open_flags, const uint8_t *script, size_t len);

/*
 * fuzz_model: creates FUZZ_IMAGE_NAME with pfnCreate (capacity cb, image
 * flags, open flags), runs the script with an all-ABSENT shadow and closes.
 * A capacity the backend refuses with VERR_VD_INVALID_SIZE, or a create
 * kind it does not declare, skips the input.  On this healthy image every
 * failure the contract does not allow aborts too: a failed read, flush,
 * close or reopen, a failed aligned write.
 */
void fuzz_script_run_model(fuzz_env *env, uint64_t cb, unsigned image_flags, unsigned open_flags,
                           const uint8_t *script, size_t len);

#endif /* VDCC_FUZZ_SCRIPT_H */
