/*
 * harness/host/uuid.h - UUIDs for the harness: generate, parse, format.
 *
 * Byte order, decided once for all of vdcc's tools: an RTUUID's au8[0..15]
 * hold the 16 bytes exactly as libuuid's uuid_parse produces them, which is
 * the RFC 4122 string order, byte for byte ("00112233-4455-..." gives au8[0]
 * = 0x00, au8[1] = 0x11, ...).  vdcc never reinterprets them through
 * RTUUID.Gen.  Note that IPRT's RTUuidFromStr stores the first three groups
 * little-endian instead, so the same 16 on-disk bytes print differently in
 * VirtualBox (its first three groups appear byte-swapped); the bytes, which
 * is what a cache compares, are the same either way.
 *
 * Needs libuuid (-luuid).  Under MemorySanitizer (VDCC_MSAN) the bytes
 * libuuid writes are unpoisoned, since libuuid is not instrumented.
 */
#ifndef VDCC_HARNESS_HOST_UUID_H
#define VDCC_HARNESS_HOST_UUID_H

#include "../../spec/vdcache.h"

/* Length of the text form without its NUL: 8-4-4-4-12 hex digits. */
#define VDC_UUID_STR_LEN 36

/* A new random (version 4 where the system can) UUID into *out. */
void vdc_uuid_generate(RTUUID *out);

/* Parses the 36-character form (either case) into *out.  Returns
 * VINF_SUCCESS, or VERR_INVALID_PARAMETER (s or out NULL, or s not a UUID;
 * *out untouched). */
int vdc_uuid_parse(const char *s, RTUUID *out);

/* Formats *u as 36 lowercase characters plus a NUL into out. */
void vdc_uuid_format(const RTUUID *u, char out[VDC_UUID_STR_LEN + 1]);

#endif /* VDCC_HARNESS_HOST_UUID_H */
