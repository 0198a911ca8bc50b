/*
 * harness/record/record_image.h - copying an image that predates a
 * recording into a sidecar (harness/trace/sidecar.h; spec/trace-format.md
 * section 4.6), for the recorder's `image` records (record.h).
 *
 * The file is read through the IOINT the backend was given (so exactly
 * what the backend will see) and written as sidecar runs in file order:
 *  - a VCI image (spec/vci-format.md) is walked: header, block map and
 *    every tree node reachable from the root are metadata, kept byte for
 *    byte; blocks the bitmap marks free are not stored; the rest is cached
 *    data: META stores it as one pattern (seed), FULL byte for byte;
 *  - anything else (a foreign file, or a VCI image whose header, block map
 *    or tree does not hold together: why says what) is kept byte for byte;
 *  - in every byte run, 512-byte blocks of zeros are left out.
 * Memory: one 1 MiB buffer and the list of tree nodes (at most 2^20).
 * Returns VINF_SUCCESS, VERR_FILE_NOT_FOUND (the file does not open),
 * VERR_FILE_IO_ERROR (a read failed), VERR_WRITE_ERROR, VERR_NO_MEMORY.
 */
#ifndef VDCC_HARNESS_RECORD_RECORD_IMAGE_H
#define VDCC_HARNESS_RECORD_RECORD_IMAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "record.h"

typedef struct vdc_image_copy {
    uint64_t size;      /* the file's length */
    uint64_t stored;    /* bytes kept byte for byte */
    uint64_t generated; /* bytes replaced by the pattern */
    bool     vci;       /* walked as a VCI image */
    char     why[200];  /* a failure, or why a VCI-looking file was kept whole */
} vdc_image_copy;

/* Copies the file at path into out (a new, seekable file) per mode (META
 * or FULL).  res is filled in either case. */
int vdc_record_image_copy(PVDINTERFACEIOINT io, const char *path, vdc_record_images mode, uint64_t seed, FILE *out,
                          vdc_image_copy *res);

#endif /* VDCC_HARNESS_RECORD_RECORD_IMAGE_H */
