/*
 * ref/vci_io.c - VDINTERFACEIOINT wrappers with the before-write hook
 * (spec/vci-format.md section 10).  Contract and status codes: vci_io.h.
 */
#include "vci_io.h"

int vci_io_refresh_size(vci_io *io)
{
    uint64_t cb = 0;
    int rc = io->ioint->pfnGetSize(io->ioint->Core.pvUser, io->stor, &cb);
    if (RT_SUCCESS(rc))
        io->file_size = cb;
    return rc;
}

int vci_io_begin(vci_io *io)
{
    if (io->epoch)
        return VINF_SUCCESS;
    if (io->before_write == NULL)
        return VERR_INTERNAL_ERROR;
    return io->before_write(io->user);
}

static void note_end(vci_io *io, uint64_t off, size_t cb)
{
    if (off + cb > io->file_size)
        io->file_size = off + cb;
}

int vci_io_read_meta(vci_io *io, uint64_t off, void *buf, size_t cb)
{
    if (off > io->file_size || cb > io->file_size - off)
        return VCI_CORRUPT(&io->corrupt, "metadata past the end of the file");
    return io->ioint->pfnReadMeta(io->ioint->Core.pvUser, io->stor, off, buf, cb, NULL, NULL, NULL, NULL);
}

int vci_io_write_meta_raw(vci_io *io, uint64_t off, const void *buf, size_t cb)
{
    int rc = io->ioint->pfnWriteMeta(io->ioint->Core.pvUser, io->stor, off, buf, cb, NULL, NULL, NULL);
    if (RT_SUCCESS(rc))
        note_end(io, off, cb);
    return rc;
}

int vci_io_write_meta(vci_io *io, uint64_t off, const void *buf, size_t cb)
{
    int rc = vci_io_begin(io);
    if (RT_FAILURE(rc))
        return rc;
    return vci_io_write_meta_raw(io, off, buf, cb);
}

int vci_io_read_user(vci_io *io, uint64_t off, PVDIOCTX ctx, size_t cb)
{
    if (off > io->file_size || cb > io->file_size - off)
        return VCI_CORRUPT(&io->corrupt, "data past the end of the file");
    return io->ioint->pfnReadUser(io->ioint->Core.pvUser, io->stor, off, ctx, cb);
}

int vci_io_write_user(vci_io *io, uint64_t off, PVDIOCTX ctx, size_t cb)
{
    int rc = vci_io_begin(io);
    if (RT_FAILURE(rc))
        return rc;
    rc = io->ioint->pfnWriteUser(io->ioint->Core.pvUser, io->stor, off, ctx, cb, NULL, NULL);
    if (RT_SUCCESS(rc))
        note_end(io, off, cb);
    return rc;
}

int vci_io_set_size(vci_io *io, uint64_t cb)
{
    int rc = vci_io_begin(io);
    if (RT_FAILURE(rc))
        return rc;
    rc = io->ioint->pfnSetSize(io->ioint->Core.pvUser, io->stor, cb);
    if (RT_SUCCESS(rc))
        io->file_size = cb;
    return rc;
}

int vci_io_flush(vci_io *io)
{
    return io->ioint->pfnFlush(io->ioint->Core.pvUser, io->stor, NULL, NULL, NULL);
}
