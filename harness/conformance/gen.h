/*
 * harness/conformance/gen.h - generated conformance traces (`vdcc gen`).
 *
 * Two generators, both built on the contract-level cache model of
 * gen_model.h, so every trace they write passes on every correct backend
 * (a cache may forget, never lie) and fails on one that lies, loses its
 * read-only protection, loses UUIDs, or breaks the protocol:
 *
 *  - random (vdc_gen_random): a seeded walk over the whole call vocabulary:
 *    4 KiB-aligned and 512-aligned writes (VD-style loops and single
 *    calls), writes overlapping recent ones and far beyond the capacity,
 *    raw and VD-style reads (with and without VD's fill after a miss),
 *    flush, close and reopen read-write or read-only, SetOpenFlags,
 *    modification and image UUIDs, comments, probes of the image and of a
 *    foreign file, close with delete and re-create, a second image that
 *    comes and goes, and discards when opts.discard (the trace then
 *    requires DISCARD).  Every offset and length is a multiple of 512 by
 *    default, as in VirtualBox, whose image backends assert sector
 *    alignment, so VD never hands a cache anything else; opts.unaligned
 *    makes 15% of the ranges byte-granular (WRITE-6, a SHOULD) and puts
 *    "-unaligned" in the trace's name.
 *  - bounded-exhaustive (vdc_gen_exhaustive), in the spirit of ACE
 *    (Mohan et al., OSDI 2018): every sequence of length 1..depth over a
 *    small alphabet of main operations, each sequence on a fresh image
 *    (create, the sequence, a full read-back, close with delete), many
 *    sequences per trace.  The alphabet is vdc_gen_letter_name(0..n-1):
 *      wA  vdwrite A = [0, 8K) with fresh data
 *      wB  vdwrite B = [4K, 12K) (overlaps A) with fresh data
 *      rA  vdread A          rB  vdread B
 *      fl  flush             ro  close, reopen READONLY
 *      rw  close, reopen read-write
 *      dA  discard A (only with discard; the trace requires DISCARD)
 *    Writes and discards on a read-only instance expect
 *    VERR_VD_IMAGE_READ_ONLY; reads expect what the model allows.
 *    Options select the sequences starting with one letter (to split the
 *    output into several traces) or holding one letter (e.g. only those
 *    with a discard).
 *
 * Determinism: the output depends only on the options and on
 * VDC_GEN_VERSION, which vdc_gen_write puts in the header comment with the
 * command that regenerates the trace.  Any change to what a generator
 * emits for given options must bump VDC_GEN_VERSION.
 *
 * Errors (all functions): VINF_SUCCESS, VERR_INVALID_PARAMETER (options out
 * of range; err says which), VERR_NO_MEMORY, VERR_TOO_MUCH_DATA (the trace
 * would pass a format limit), VERR_WRITE_ERROR (vdc_gen_write).  Nothing
 * here has global state.
 */
#ifndef VDCC_HARNESS_CONFORMANCE_GEN_H
#define VDCC_HARNESS_CONFORMANCE_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../trace/trace.h"

#define VDC_GEN_VERSION          2
#define VDC_GEN_DEFAULT_CAPACITY (UINT64_C(1) << 20)
#define VDC_GEN_MIN_OPS          16u
#define VDC_GEN_MAX_OPS          500000u
#define VDC_GEN_MIN_CAPACITY     (UINT64_C(64) << 10)
#define VDC_GEN_MAX_CAPACITY     (UINT64_C(1) << 40)
#define VDC_GEN_MAX_DEPTH        6u

typedef struct vdc_gen_opts {
    uint64_t seed;
    unsigned ops;        /* records wanted, VDC_GEN_MIN_OPS..VDC_GEN_MAX_OPS: the
                          * trace has at least ops; the last step and the
                          * closes that end it add a few more */
    uint64_t capacity;   /* cbSize of every create; 0: VDC_GEN_DEFAULT_CAPACITY */
    bool     discard;    /* emit discards; the trace requires DISCARD */
    bool     unaligned;  /* also ranges whose offset or length is not a multiple of 512 */
} vdc_gen_opts;

/* Generates the random trace for *o into *out (free with vdc_trace_free). */
int vdc_gen_random(const vdc_gen_opts *o, vdc_trace **out, char *err, size_t cb_err);

/* The alphabet of the exhaustive generator. */
unsigned    vdc_gen_alphabet_size(bool discard);
const char *vdc_gen_letter_name(unsigned i);   /* NULL past the end */

typedef struct vdc_gen_exh_opts {
    unsigned depth;      /* 1..VDC_GEN_MAX_DEPTH */
    bool     discard;    /* add dA to the alphabet; the trace requires DISCARD */
    int      first;      /* -1: all sequences; else only those starting with letter `first` */
    int      containing; /* -1: all; else only sequences holding letter `containing` */
} vdc_gen_exh_opts;

/* Generates the exhaustive trace for *o into *out; *nseq (may be NULL)
 * gets the number of sequences in it. */
int vdc_gen_exhaustive(const vdc_gen_exh_opts *o, vdc_trace **out, uint64_t *nseq, char *err, size_t cb_err);

/* Number of sequences vdc_gen_exhaustive emits for *o (0 for bad options). */
uint64_t vdc_gen_exhaustive_count(const vdc_gen_exh_opts *o);

/* Writes t in canonical form to f, with `comment` (may hold '\n'; NULL:
 * none) as "# " lines after the version line.  Returns VINF_SUCCESS,
 * VERR_NO_MEMORY or VERR_WRITE_ERROR. */
int vdc_gen_write(const vdc_trace *t, const char *comment, FILE *f);

#endif /* VDCC_HARNESS_CONFORMANCE_GEN_H */
