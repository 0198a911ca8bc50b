/*
 * ref/ref.h - the reference VCI v1 cache backend (spec/vci-format.md).
 *
 * vdcc_ref_backend is a complete VDCACHEBACKEND named "vci" (extension
 * "vci"): capabilities CREATE_FIXED | CREATE_DYNAMIC | FILE | VFS | DISCARD
 * | CONFIG, version VD_CACHEBACKEND_VERSION.  What each callback does is
 * spec/vci-format.md section 12; the deep image check is ref/vci_check.h.
 * The backend keeps no global mutable state: any number of images may be
 * open at once, each with its own interface lists.
 */
#ifndef VDCC_REF_REF_H
#define VDCC_REF_REF_H

#include "spec/vdcache.h"

extern const VDCACHEBACKEND vdcc_ref_backend;

#endif /* VDCC_REF_REF_H */
