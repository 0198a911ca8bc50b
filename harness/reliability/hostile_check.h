/*
 * harness/reliability/hostile_check.h - judging one hostile VCI image
 * (hostile.h) on any VCI backend, with no knowledge of its internals.
 *
 * vdc_hostile_check puts the case's bytes into a fresh memory fs twice
 * ("h.vci" and "rw.vci") and plays VD's part:
 *   1. probe "h.vci": exactly VERR_VD_GEN_INVALID_HEADER when the case says
 *      hdr (PROBE-1), VINF_SUCCESS when it says ok (PROBE-2); no storage left
 *      open;
 *   2. read-only open of "h.vci", judged against c->open_ro (hostile.h);
 *      when it opens: the getters and Dump (INFO-2; for valid images
 *      GetSize = 512 * cBlocks and the UUIDs of header bytes 41..72, section
 *      12), bounded reads across the capacity (at most 1 MiB) and 8 KiB at
 *      the far end of the key space, close (CLOSE-1); then the file must be
 *      byte for byte what it was (OPEN-3, PROBE-4);
 *   3. read-write open of "rw.vci", judged against c->open_rw; when it
 *      opens: getters, reads, three writes (4 KiB at 0, 8 KiB at 64 KiB,
 *      512 bytes far out), reads again, flush, close (CLOSE-1, which must
 *      succeed on valid and unclean images), then the optional deep check
 *      (o->deep_after_rw) on what the session left, for valid and unclean
 *      images;
 *   4. throughout: no host misuse (HOST-1), no storage handle left open
 *      after probe, a close or a failed open (HOST-3), every read and write
 *      of a legal shape (READ-1, READ-2, READ-5, WRITE-1).
 *
 * THE DATA RULE (what a read hit may return at virtual byte x):
 *   - bytes written at x in this session (a write that failed may have
 *     landed in part, so there either its bytes or what was there before);
 *   - for an unclean image (deep = unclean): nothing else: every read of
 *     data the session did not write misses (spec/vci-format.md section
 *     10);
 *   - for every other image, valid or not: exactly the encoder's byte for
 *     x (vci_enc.h ve_data_byte), or, inside one of the case's aliases
 *     (hostile.h), the original file's bytes there.
 * The second line is stricter than "anything goes for a broken image", on
 * purpose.  Every data block the encoder writes holds ve_data_byte of its
 * own virtual offsets, so the only legitimate source of other bytes is an
 * image whose tree itself maps a key to foreign blocks (data-on-node,
 * data-shared: section 11 lets a reader serve the image as it is before
 * the first change, and those cases list the mapping as an alias).  Images
 * whose tree is intact but whose bitmap, counters or LRU list disagree
 * with it are exactly where a reader may either refuse or serve: it may
 * fail the read, miss, reinitialise the cache, or serve the block, but
 * never hand out the bytes of another block, a node, the bitmap, or data
 * this session wrote elsewhere (which is what trusting a bitmap that marks
 * used blocks free leads to).  Reading past the end of a truncated file is
 * no licence either: zeros are not the encoder's bytes.
 * A read or write that fails is clean behaviour on a damaged image, but a
 * violation on a valid or unclean one (WRITE-4).
 *
 * The checks are the spec's for VCI v1, so they apply to any backend
 * registering the VCI format; no global state (two checks may run at once
 * in different threads); the buffers are allocated per call.
 */
#ifndef VDCC_HARNESS_RELIABILITY_HOSTILE_CHECK_H
#define VDCC_HARNESS_RELIABILITY_HOSTILE_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../spec/vdcache.h"
#include "crash.h"
#include "hostile.h"

typedef struct vdc_hcheck_opts {
    /* Run on "rw.vci" after a successful read-write close of a valid or
     * unclean image (e.g. ref's vci_check through vdc_rel_vci_check); NULL:
     * none.  A failure status fails the case. */
    vdc_deep_check_fn     deep_after_rw;
    void                 *deep_user;
    /* Incremented before every backend call (may be NULL). */
    volatile uint64_t    *heartbeat;
} vdc_hcheck_opts;

typedef struct vdc_hcheck_result {
    unsigned fails;        /* violations found */
    char     first[768];   /* the first, explained (clause first when one applies) */
    unsigned hits, misses; /* read calls by outcome */
    int      probe_rc, ro_rc, rw_rc; /* what probe and the two opens returned */
} vdc_hcheck_result;

/*
 * Judges case c on backend be (o may be NULL).  Returns VINF_SUCCESS when
 * the check ran (the verdict is r->fails == 0), VERR_INVALID_PARAMETER
 * (NULL be, c or r), VERR_NO_MEMORY (r->first says where).
 */
int vdc_hostile_check(const VDCACHEBACKEND *be, const vdc_hostile_case *c, const vdc_hcheck_opts *o,
                      vdc_hcheck_result *r);

#endif /* VDCC_HARNESS_RELIABILITY_HOSTILE_CHECK_H */
