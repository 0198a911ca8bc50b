/*
 * harness/host/fs.h - pluggable storage under the host's I/O interface.
 *
 * The VD internal I/O interface (VDINTERFACEIOINT) names files by string and
 * then works on open handles.  vdcc puts a small vtable of its own between
 * that interface and real storage, so that the same host code serves POSIX
 * files, in-memory files (for fuzzing: no disk I/O, no state between runs),
 * and wrappers that inject faults or record I/O for crash testing.  A wrapper
 * is just another vdc_fs whose ops forward to an inner one.
 *
 * Contract shared by every implementation (spec/contract.md, section HOST):
 *  - Every op returns a VBox status (spec/vdcache.h).  Codes used:
 *      VINF_SUCCESS, VERR_INVALID_PARAMETER (NULL/empty name, bad flags),
 *      VERR_FILE_NOT_FOUND, VERR_ALREADY_EXISTS (RTFILE_O_CREATE on an
 *      existing file), VERR_ACCESS_DENIED (write through a read-only handle),
 *      VERR_SHARING_VIOLATION (a deny mode of another open handle forbids
 *      this open), VERR_EOF (read reaches past the end of the file),
 *      VERR_DISK_FULL (a size or memory limit is reached),
 *      VERR_NO_MEMORY, VERR_FILE_IO_ERROR (any other OS error),
 *      VERR_NOT_SUPPORTED (the op is not offered by this storage).
 *  - read and write transfer all cb bytes or fail; there are no short
 *    transfers at this level.  A read that would pass the end of the file
 *    fails with VERR_EOF (the bytes before the end may already be in
 *    the buffer; callers treat it as undefined).  A write past the end grows
 *    the file; the gap reads as zeros.
 *  - open honours the RTFILE_O_* action (OPEN, CREATE, OPEN_CREATE,
 *    CREATE_REPLACE), access (READ, WRITE, READWRITE) and deny modes
 *    (DENY_NONE, DENY_WRITE, DENY_READ) between handles of the same vdc_fs.
 *    TRUNCATE truncates.  Other bits are accepted and ignored.
 *  - Files are named by strings.  The POSIX fs resolves relative names
 *    against its root directory; absolute names are used as given.  The
 *    memory fs treats names as opaque keys.
 * Details both implementations share (and tests/test_host_fs.c checks on
 * both):
 *  - open without an access mode, with an action other than the four, or
 *    with TRUNCATE / CREATE_REPLACE but no write access: VERR_INVALID_
 *    PARAMETER, nothing created.  Deny modes are checked before anything is
 *    truncated.  *out is NULL after any failure.
 *  - read through a handle without read access, and write, set_size or
 *    allocate without write access: VERR_ACCESS_DENIED.  flush needs none.
 *  - A read succeeds exactly when off + cb <= size (so a zero-byte read
 *    past the end is VERR_EOF).  A zero-byte write changes nothing.  A
 *    write or size past the largest file the storage can hold (INT64_MAX
 *    for POSIX, max_file_size for memory) is VERR_DISK_FULL.
 *  - remove and rename work on open files with POSIX unlink semantics: the
 *    name changes or goes at once, open handles keep the data until their
 *    last close.  rename's fMove is 0 or RTFILEMOVE_FLAGS_REPLACE.
 *  - free_space accepts a name that does not exist yet.
 *  - destroy also releases handles still open (they must not be used
 *    afterwards), so a leaking caller does not leak memory or descriptors.
 */
#ifndef VDCC_HARNESS_HOST_FS_H
#define VDCC_HARNESS_HOST_FS_H

#include <stddef.h>
#include <stdint.h>

#include "../../spec/vdcache.h"

typedef struct vdc_fs vdc_fs;
typedef struct vdc_file vdc_file;

/* The fMove flag of rename (IPRT's RTFileMove flag of the same name): replace
 * an existing destination.  Without it, rename fails with
 * VERR_ALREADY_EXISTS when the destination exists.  Other bits are refused
 * with VERR_INVALID_PARAMETER. */
#ifndef RTFILEMOVE_FLAGS_REPLACE
# define RTFILEMOVE_FLAGS_REPLACE 0x1u
#endif

typedef struct vdc_fs_ops {
    int  (*open)(vdc_fs *fs, const char *name, uint32_t fOpen /* RTFILE_O_* */, vdc_file **out);
    int  (*close)(vdc_file *f);
    int  (*remove)(vdc_fs *fs, const char *name);
    int  (*rename)(vdc_fs *fs, const char *src, const char *dst, unsigned fMove);
    int  (*free_space)(vdc_fs *fs, const char *name, int64_t *pcb);
    int  (*mtime)(vdc_fs *fs, const char *name, int64_t *pns); /* ns since the epoch */
    int  (*get_size)(vdc_file *f, uint64_t *pcb);
    int  (*set_size)(vdc_file *f, uint64_t cb);
    int  (*allocate)(vdc_file *f, uint64_t cb); /* set_size, and reserve the space */
    int  (*read)(vdc_file *f, uint64_t off, void *buf, size_t cb);
    int  (*write)(vdc_file *f, uint64_t off, const void *buf, size_t cb);
    int  (*flush)(vdc_file *f);
    void (*destroy)(vdc_fs *fs); /* close every file first; any left open is released too */
} vdc_fs_ops;

/* Every implementation embeds these first. */
struct vdc_fs {
    const vdc_fs_ops *ops;
};
struct vdc_file {
    vdc_fs *fs; /* the fs that opened it */
};

/* POSIX files below root_dir (copied).  Returns NULL only when out of memory. */
vdc_fs *vdc_fs_posix_new(const char *root_dir);

/*
 * In-memory files.  Storage is sparse (unwritten ranges cost nothing and read
 * as zeros), so a 2 TiB preallocated cache fits.  max_bytes caps the memory
 * actually holding data across all files; a write or allocate that would pass
 * it fails with VERR_DISK_FULL.  max_file_size caps any file's logical size
 * (VERR_DISK_FULL too).  0 means the defaults: 256 MiB and 4 TiB.
 */
vdc_fs *vdc_fs_mem_new(uint64_t max_bytes, uint64_t max_file_size);

/* Memory fs only: put bytes in as a file (replacing one of that name), and
 * look at a file's contents without opening it.  Both return VBox statuses;
 * vdc_fs_mem_peek fails with VERR_EOF past the end. */
int vdc_fs_mem_put(vdc_fs *fs, const char *name, const void *data, size_t cb);
int vdc_fs_mem_peek(vdc_fs *fs, const char *name, uint64_t off, void *buf, size_t cb);
/* Memory fs only: removes every file (closing any handle still open, which
 * must not be used afterwards) and restarts the mtime clock: the fs is as
 * new, but keeps freed memory for reuse (the fuzz targets empty one fs
 * after every input instead of building a new one).  VINF_SUCCESS or
 * VERR_NOT_SUPPORTED. */
int vdc_fs_mem_clear(vdc_fs *fs);

/*
 * The one errno -> VBox status mapping every vdc_fs (and wrapper) uses:
 * 0 -> VINF_SUCCESS, ENOENT -> VERR_FILE_NOT_FOUND, EEXIST ->
 * VERR_ALREADY_EXISTS, EACCES/EPERM -> VERR_ACCESS_DENIED, ENOSPC/EDQUOT/
 * EFBIG -> VERR_DISK_FULL, EROFS -> VERR_WRITE_PROTECT, ENOMEM ->
 * VERR_NO_MEMORY, anything else -> VERR_FILE_IO_ERROR.
 */
int vdc_status_from_errno(int err);

static inline void vdc_fs_destroy(vdc_fs *fs)
{
    if (fs != NULL)
        fs->ops->destroy(fs);
}

#endif /* VDCC_HARNESS_HOST_FS_H */
