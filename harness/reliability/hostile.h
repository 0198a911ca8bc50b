/*
 * harness/reliability/hostile.h - the hostile VCI image corpus, as code.
 *
 * vdc_hostile_each builds, one after the other, several hundred malformed
 * (and a few valid but unusual) VCI v1 images with the independent encoder
 * of vci_enc.h, each with what spec/vci-format.md says a reader must do
 * with it.  The generator program (hostile_gen.c) writes them to
 * corpus/hostile/NNN-name.vci with a MANIFEST; the test (test_hostile.c)
 * runs each through a backend and checks the verdicts.  The sequence is
 * deterministic: case N is always the same bytes.
 *
 * Expectations (what the spec makes a reader answer):
 *   probe  VDC_HX_HDR  exactly VERR_VD_GEN_INVALID_HEADER (PROBE-1)
 *          VDC_HX_OK   VINF_SUCCESS (PROBE-2: a valid header)
 *   open   VDC_HX_HDR  fails with VERR_VD_GEN_INVALID_HEADER (section 11)
 *          VDC_HX_CORRUPT fails with VERR_VD_IMAGE_CORRUPTED (section 11)
 *          VDC_HX_FAIL fails, any failure status (e.g. a file too short)
 *          VDC_HX_OK   succeeds
 *          VDC_HX_ANY  either (the spec leaves it open); always: cleanly
 *   deep   VDC_HX_VALID   vci_check accepts it, clean
 *          VDC_HX_INVALID vci_check rejects it
 *          VDC_HX_UNCLEAN vci_check reports it unclean (and checks no more)
 *          VDC_HX_ANY     either
 * For VALID images every read hit must return exactly the bytes the
 * encoder stored (vci_enc.h ve_data_byte); for UNCLEAN ones every read
 * must miss.  Whatever the expectation, no call may crash, hang, misuse
 * the host or leak.
 *
 * Data of broken images.  The encoder fills every data block with
 * ve_data_byte of its own virtual offsets, so even on an invalid image a
 * hit has no business returning anything else, with one exception: a few
 * cases break the tree so that it maps a key to foreign blocks (a node, or
 * another extent's data), and section 11 lets a reader serve the image as
 * it is until its first change.  Such a case lists the mapping as an
 * alias: virtual bytes [voff, voff + len) may also read as the original
 * file's bytes from foff on (never as anything where that lies past the
 * file's end: the truncated images, whose cut-off data would read as the
 * zeros the file grows with, list no alias).  hostile_check.h states the
 * whole rule.
 */
#ifndef VDCC_HARNESS_RELIABILITY_HOSTILE_H
#define VDCC_HARNESS_RELIABILITY_HOSTILE_H

#include <stddef.h>
#include <stdint.h>

enum {
    VDC_HX_ANY = 0, VDC_HX_HDR, VDC_HX_CORRUPT, VDC_HX_FAIL, VDC_HX_OK,
    VDC_HX_VALID, VDC_HX_INVALID, VDC_HX_UNCLEAN
};

typedef struct vdc_hostile_alias {
    uint64_t voff, len;        /* virtual bytes ... */
    uint64_t foff;             /* ... the image maps to these file bytes */
} vdc_hostile_alias;

#define VDC_HOSTILE_MAX_ALIAS 4u

typedef struct vdc_hostile_case {
    unsigned       number;     /* 1-based */
    char           name[64];   /* "NNN-short-name" (file name without .vci) */
    char           desc[256];  /* what it tests */
    uint8_t        probe, open_rw, open_ro, deep;
    const uint8_t *img;
    size_t         size;
    uint64_t       cblocks;    /* capacity the header claims (reads cover it) */
    unsigned       nalias;     /* aliases (see above), usually 0 */
    vdc_hostile_alias alias[VDC_HOSTILE_MAX_ALIAS];
} vdc_hostile_case;

/* Called once per case, in order; the image is valid only during the call.
 * Return 0 to go on, anything else to stop (vdc_hostile_each returns it). */
typedef int (*vdc_hostile_fn)(void *user, const vdc_hostile_case *c);

/* Builds every case in order.  Returns 0 after the last one, the callback's
 * non-zero return, or VERR_NO_MEMORY. */
int vdc_hostile_each(vdc_hostile_fn fn, void *user);

/* "any", "hdr", "corrupt", "fail", "ok", "valid", "invalid", "unclean". */
const char *vdc_hx_name(uint8_t x);

#endif /* VDCC_HARNESS_RELIABILITY_HOSTILE_H */
