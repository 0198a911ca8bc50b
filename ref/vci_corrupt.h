/*
 * ref/vci_corrupt.h - naming the check that refused an image
 * (spec/vci-format.md sections 6 and 11: an image that breaks a rule or an
 * invariant is refused with VERR_VD_IMAGE_CORRUPTED; this says which check
 * saw it).
 *
 * Every place in ref/ that finds an image corrupt answers
 *
 *     return VCI_CORRUPT(rec, "leaf: extent data outside the image");
 *
 * which yields VERR_VD_IMAGE_CORRUPTED and notes the source file, line and
 * the short description of the check in *rec, in the manner of SQLite's
 * SQLITE_CORRUPT_BKPT.  Without it, some fifty checks all answer the same
 * bare status and nobody can tell which one refused a hostile image.
 *
 * The record belongs to whoever reads the image: each opening of an image
 * (vci_io.corrupt, inside the instance's state) and each run of the checker
 * (vci_check_stats.corrupt) has its own, so two images open at once never
 * share one and a fuzz target that replays the same input notes the same
 * check.  ref/ keeps no mutable globals.  Who reads it: vci_check's
 * caller (vdcc check and info print "corrupt: <file>:<line> <what>"), the
 * tests (vci_cache_corrupt), and VD, to which an open that refuses a corrupt
 * image reports the refusal (pfnError) at the check's file and line.
 *
 * The first check that fires wins: the innermost check runs first, and
 * callers that pass the status up (or turn it into another corruption of
 * their own) keep its location.  rec may be NULL (nothing is noted); what
 * must be a string literal or otherwise outlive the record.  Nothing here
 * allocates or fails: the macro always yields VERR_VD_IMAGE_CORRUPTED.
 */
#ifndef VDCC_REF_VCI_CORRUPT_H
#define VDCC_REF_VCI_CORRUPT_H

#include <stddef.h>

#include "spec/vdcache.h"

typedef struct vci_corrupt {
    const char *file;   /* source file of the first check that fired; NULL: none has */
    unsigned    line;
    const char *what;   /* what that check found, a few words */
} vci_corrupt;

static inline int vci_corrupt_note(vci_corrupt *rec, const char *file, unsigned line, const char *what)
{
    if (rec != NULL && rec->file == NULL) {
        rec->file = file;
        rec->line = line;
        rec->what = what;
    }
    return VERR_VD_IMAGE_CORRUPTED;
}

#define VCI_CORRUPT(rec, what) vci_corrupt_note((rec), __FILE__, (unsigned)__LINE__, (what))

#endif /* VDCC_REF_VCI_CORRUPT_H */
