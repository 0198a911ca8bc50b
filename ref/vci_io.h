/*
 * ref/vci_io.h - the backend's only path to storage: VDINTERFACEIOINT
 * wrappers that enforce the unclean-flag rule (spec/vci-format.md section
 * 10).
 *
 * Every write (metadata, user data, size change) first calls the
 * before-write hook once per modification epoch; the hook (vci_cache) sets
 * the unclean flag durably and calls vci_io_epoch_begin.  vci_io_epoch_end
 * closes the epoch after a clean flush.  The *_raw writes bypass the hook;
 * only the flag protocol itself uses them.
 *
 * Metadata transfers are synchronous (NULL I/O context, NULL completion);
 * user transfers move bytes between the file and the caller's I/O context.
 * The tracked file size grows with writes past the end.
 *
 * All functions return the IOINT's status (VINF_SUCCESS or its failure), or
 * VERR_VD_IMAGE_CORRUPTED for a read that would pass the tracked end of the
 * file (a node or data block an image claims but does not hold).
 *
 * A vci_io also carries the corruption record of whoever reads the file
 * through it (one per opening of an image, one per vci_check run):
 * everything that reaches the file through it notes there the first
 * corruption check that fired (VCI_CORRUPT, ref/vci_corrupt.h).
 */
#ifndef VDCC_REF_VCI_IO_H
#define VDCC_REF_VCI_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec/vdcache.h"
#include "vci_corrupt.h"

typedef struct vci_io {
    PVDINTERFACEIOINT ioint;
    PVDIOSTORAGE      stor;
    uint64_t          file_size;  /* bytes, as known after our own writes */
    bool              epoch;      /* unclean flag is durable on disk */
    int             (*before_write)(void *user);
    void             *user;
    vci_corrupt       corrupt;    /* the first corruption check that fired */
} vci_io;

/* Sets the storage's size from the host (GetSize).  Status of GetSize. */
int  vci_io_refresh_size(vci_io *io);

int  vci_io_read_meta(vci_io *io, uint64_t off, void *buf, size_t cb);
int  vci_io_write_meta(vci_io *io, uint64_t off, const void *buf, size_t cb);
int  vci_io_read_user(vci_io *io, uint64_t off, PVDIOCTX ctx, size_t cb);
int  vci_io_write_user(vci_io *io, uint64_t off, PVDIOCTX ctx, size_t cb);
int  vci_io_set_size(vci_io *io, uint64_t cb);
int  vci_io_flush(vci_io *io);

/* Writes without the before-write hook (the flag protocol itself). */
int  vci_io_write_meta_raw(vci_io *io, uint64_t off, const void *buf, size_t cb);

/* Runs the before-write hook now if the epoch is not open yet. */
int  vci_io_begin(vci_io *io);

#endif /* VDCC_REF_VCI_IO_H */
