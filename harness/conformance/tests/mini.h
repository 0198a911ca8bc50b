/*
 * harness/conformance/tests/mini.h - tiny cache backends for the tool tests.
 *
 * "mini" keeps cached data in memory only (64 direct-mapped 4 KiB slots per
 * instance; everything is forgotten on close, which the contract allows)
 * and a 64-byte header file holding the capacity, image flags and UUIDs, so
 * probe, open, UUID persistence and close-with-delete behave as the
 * contract asks.  It is a correct backend, independent of ref and toy.
 * Variants, each its own vtable:
 *   conf_mini_backend     correct
 *   conf_planted_backend  the planted failure of the shrink test: from the
 *                         3rd pfnWrite to the same cached block on, the
 *                         first byte each write stores is flipped, so a
 *                         later hit on it lies (READ-1)
 *   conf_lying_backend    acknowledges overwrites of a cached block but
 *                         keeps the old bytes: stale hits (WRITE-2)
 *   conf_forget_backend   correct but useless: every read misses
 * Built with -DMINI_PLUGIN=N the file also exports VDPluginLoad registering
 * variant N (0 mini, 1 planted, 2 lying, 3 forget).
 * Status codes: those of spec/vdcache.h a backend returns (VINF_SUCCESS,
 * VERR_VD_BLOCK_FREE, VERR_VD_GEN_INVALID_HEADER, VERR_VD_IMAGE_CORRUPTED,
 * VERR_VD_IMAGE_READ_ONLY, VERR_VD_INVALID_SIZE, VERR_INVALID_PARAMETER,
 * VERR_NOT_SUPPORTED, VERR_NO_MEMORY) and whatever the host's IOINT returns.
 */
#ifndef VDCC_HARNESS_CONFORMANCE_TESTS_MINI_H
#define VDCC_HARNESS_CONFORMANCE_TESTS_MINI_H

#include "../../../spec/vdcache.h"

extern const VDCACHEBACKEND conf_mini_backend;
extern const VDCACHEBACKEND conf_planted_backend;
extern const VDCACHEBACKEND conf_lying_backend;
extern const VDCACHEBACKEND conf_forget_backend;

#ifdef MINI_PLUGIN
int VDPluginLoad(void *pvUser, PVDBACKENDREGISTER pReg);
#endif

#endif /* VDCC_HARNESS_CONFORMANCE_TESTS_MINI_H */
