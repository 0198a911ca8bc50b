/*
 * harness/host/fs_posix.c - the vdc_fs over real files (POSIX, Linux).
 *
 * Contract: fs.h (spec/contract.md, section HOST).  Statuses returned:
 * VINF_SUCCESS, VERR_INVALID_PARAMETER (NULL/empty name, no access mode,
 * unknown action, TRUNCATE or CREATE_REPLACE without write access, move
 * flags other than RTFILEMOVE_FLAGS_REPLACE, NULL output pointer),
 * VERR_FILE_NOT_FOUND, VERR_ALREADY_EXISTS, VERR_ACCESS_DENIED (write
 * through a read-only handle, read through a write-only one, or the OS
 * refuses), VERR_SHARING_VIOLATION, VERR_EOF, VERR_DISK_FULL (the device
 * is full, a quota or size limit is hit, or the offset passes INT64_MAX),
 * VERR_WRITE_PROTECT, VERR_NO_MEMORY, VERR_FILE_IO_ERROR (any other errno,
 * and directories).  Every errno goes through vdc_status_from_errno.
 *
 * Deny modes: the OS does not enforce RTFILE_O_DENY_*, so this fs does, for
 * its own handles: each open file is listed with its (st_dev, st_ino) and
 * its access and deny bits, and a new open of the same inode is refused
 * when either side's deny bits cover the other's access.  Handles of other
 * vdc_fs instances or processes are not seen.
 *
 * A read that reaches past the end fails with VERR_EOF when pread reports
 * the end; the part before it may already be in the caller's buffer (no
 * fstat per read: it cost a third of a 4 KiB read).  All transfers loop over
 * EINTR and short counts.  Removing or renaming an open file is allowed
 * (unlink semantics, as POSIX has them).
 */
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

typedef struct posix_file posix_file;

typedef struct posix_fs {
    vdc_fs      base;
    char       *root;
    posix_file *open_files; /* every open handle: the deny-mode table */
} posix_fs;

struct posix_file {
    vdc_file    base;
    int         fd;
    uint32_t    access; /* RTFILE_O_READ / WRITE bits */
    uint32_t    deny;   /* RTFILE_O_DENY_READ / DENY_WRITE bits */
    dev_t       dev;
    ino_t       ino;
    posix_file *prev, *next;
};

int vdc_status_from_errno(int err)
{
    switch (err) {
    case 0:
        return VINF_SUCCESS;
    case ENOENT:
        return VERR_FILE_NOT_FOUND;
    case EEXIST:
        return VERR_ALREADY_EXISTS;
    case EACCES:
    case EPERM:
        return VERR_ACCESS_DENIED;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
        return VERR_DISK_FULL;
    case EROFS:
        return VERR_WRITE_PROTECT;
    case ENOMEM:
        return VERR_NO_MEMORY;
    default:
        return VERR_FILE_IO_ERROR;
    }
}

/* The path for name: as given when absolute, else below the root.  NULL
 * when out of memory (name is checked by the caller). */
static char *resolve(const posix_fs *fs, const char *name)
{
    if (name[0] == '/')
        return strdup(name);
    size_t cr = strlen(fs->root), cn = strlen(name);
    char *path = malloc(cr + 1 + cn + 1);
    if (path == NULL)
        return NULL;
    memcpy(path, fs->root, cr);
    path[cr] = '/';
    memcpy(path + cr + 1, name, cn + 1);
    return path;
}

static bool name_ok(const char *name)
{
    return name != NULL && name[0] != '\0';
}

/* Does an open handle of this fs forbid opening (dev, ino) with access and
 * deny?  Both directions count: its deny against our access, our deny
 * against its access. */
static bool deny_conflict(const posix_fs *fs, dev_t dev, ino_t ino, uint32_t access, uint32_t deny)
{
    for (const posix_file *o = fs->open_files; o != NULL; o = o->next) {
        if (o->dev != dev || o->ino != ino)
            continue;
        if (((o->deny & RTFILE_O_DENY_READ) && (access & RTFILE_O_READ))
            || ((o->deny & RTFILE_O_DENY_WRITE) && (access & RTFILE_O_WRITE))
            || ((deny & RTFILE_O_DENY_READ) && (o->access & RTFILE_O_READ))
            || ((deny & RTFILE_O_DENY_WRITE) && (o->access & RTFILE_O_WRITE)))
            return true;
    }
    return false;
}

static int retry_ftruncate(int fd, off_t cb)
{
    int r;
    do
        r = ftruncate(fd, cb);
    while (r != 0 && errno == EINTR);
    return r == 0 ? VINF_SUCCESS : vdc_status_from_errno(errno);
}

static int posix_open(vdc_fs *fsp, const char *name, uint32_t fOpen, vdc_file **out)
{
    posix_fs *fs = (posix_fs *)fsp;
    uint32_t access = fOpen & RTFILE_O_ACCESS_MASK;
    uint32_t action = fOpen & RTFILE_O_ACTION_MASK;
    uint32_t deny = fOpen & (RTFILE_O_DENY_READ | RTFILE_O_DENY_WRITE);
    bool truncate = (fOpen & RTFILE_O_TRUNCATE) != 0 || action == RTFILE_O_CREATE_REPLACE;
    int flags = O_CLOEXEC, fd, rc;
    struct stat st;
    char *path;
    posix_file *f;

    if (out == NULL)
        return VERR_INVALID_PARAMETER;
    *out = NULL;
    if (!name_ok(name) || access == 0 || (truncate && !(access & RTFILE_O_WRITE)))
        return VERR_INVALID_PARAMETER;
    switch (action) {
    case RTFILE_O_OPEN:           break;
    case RTFILE_O_OPEN_CREATE:    flags |= O_CREAT; break;
    case RTFILE_O_CREATE:         flags |= O_CREAT | O_EXCL; break;
    case RTFILE_O_CREATE_REPLACE: flags |= O_CREAT; break;
    default:                      return VERR_INVALID_PARAMETER;
    }
    flags |= access == RTFILE_O_READ ? O_RDONLY : access == RTFILE_O_WRITE ? O_WRONLY : O_RDWR;

    path = resolve(fs, name);
    if (path == NULL)
        return VERR_NO_MEMORY;
    f = malloc(sizeof *f);
    if (f == NULL) {
        rc = VERR_NO_MEMORY;
        goto out_free_path;
    }
    do
        fd = open(path, flags, 0666);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        rc = vdc_status_from_errno(errno);
        goto out_free_file;
    }
    if (fstat(fd, &st) != 0) {
        rc = vdc_status_from_errno(errno);
        goto out_close_fd;
    }
    if (S_ISDIR(st.st_mode)) {
        rc = VERR_FILE_IO_ERROR;
        goto out_close_fd;
    }
    /* Deny modes are checked before truncating, so a refused open changes
     * nothing. */
    if (deny_conflict(fs, st.st_dev, st.st_ino, access, deny)) {
        rc = VERR_SHARING_VIOLATION;
        goto out_close_fd;
    }
    if (truncate) {
        rc = retry_ftruncate(fd, 0);
        if (RT_FAILURE(rc))
            goto out_close_fd;
    }
    f->base.fs = fsp;
    f->fd = fd;
    f->access = access;
    f->deny = deny;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->prev = NULL;
    f->next = fs->open_files;
    if (fs->open_files != NULL)
        fs->open_files->prev = f;
    fs->open_files = f;
    free(path);
    *out = &f->base;
    return VINF_SUCCESS;

out_close_fd:
    close(fd);
out_free_file:
    free(f);
out_free_path:
    free(path);
    return rc;
}

static void unlist(posix_fs *fs, posix_file *f)
{
    if (f->prev != NULL)
        f->prev->next = f->next;
    else
        fs->open_files = f->next;
    if (f->next != NULL)
        f->next->prev = f->prev;
}

static int posix_close(vdc_file *fp)
{
    if (fp == NULL)
        return VERR_INVALID_PARAMETER;
    posix_file *f = (posix_file *)fp;
    unlist((posix_fs *)fp->fs, f);
    /* close is not retried on EINTR: on Linux the descriptor is gone. */
    int rc = close(f->fd) == 0 || errno == EINTR ? VINF_SUCCESS : vdc_status_from_errno(errno);
    free(f);
    return rc;
}

static int posix_remove(vdc_fs *fsp, const char *name)
{
    if (!name_ok(name))
        return VERR_INVALID_PARAMETER;
    char *path = resolve((posix_fs *)fsp, name);
    if (path == NULL)
        return VERR_NO_MEMORY;
    int rc = unlink(path) == 0 ? VINF_SUCCESS : vdc_status_from_errno(errno);
    free(path);
    return rc;
}

/* rename(2) that refuses to replace: renameat2(RENAME_NOREPLACE) where the
 * file system has it, else link + unlink (which also refuses, atomically,
 * through link's EEXIST). */
static int rename_noreplace(const char *src, const char *dst)
{
    if (renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_NOREPLACE) == 0)
        return VINF_SUCCESS;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
        return vdc_status_from_errno(errno);
    if (link(src, dst) != 0)
        return vdc_status_from_errno(errno);
    if (unlink(src) != 0) {
        int rc = vdc_status_from_errno(errno);
        unlink(dst);
        return rc;
    }
    return VINF_SUCCESS;
}

static int posix_rename(vdc_fs *fsp, const char *src, const char *dst, unsigned fMove)
{
    posix_fs *fs = (posix_fs *)fsp;
    char *psrc, *pdst;
    int rc;

    if (!name_ok(src) || !name_ok(dst) || (fMove & ~RTFILEMOVE_FLAGS_REPLACE) != 0)
        return VERR_INVALID_PARAMETER;
    psrc = resolve(fs, src);
    if (psrc == NULL)
        return VERR_NO_MEMORY;
    pdst = resolve(fs, dst);
    if (pdst == NULL) {
        rc = VERR_NO_MEMORY;
        goto out_free_src;
    }
    if (fMove & RTFILEMOVE_FLAGS_REPLACE)
        rc = rename(psrc, pdst) == 0 ? VINF_SUCCESS : vdc_status_from_errno(errno);
    else
        rc = rename_noreplace(psrc, pdst);
    free(pdst);
out_free_src:
    free(psrc);
    return rc;
}

static int posix_free_space(vdc_fs *fsp, const char *name, int64_t *pcb)
{
    struct statvfs sv;
    char *path;
    int r;

    if (!name_ok(name) || pcb == NULL)
        return VERR_INVALID_PARAMETER;
    path = resolve((posix_fs *)fsp, name);
    if (path == NULL)
        return VERR_NO_MEMORY;
    r = statvfs(path, &sv);
    if (r != 0 && errno == ENOENT) {
        /* The file need not exist yet: ask about the directory it would
         * be created in. */
        char *slash = strrchr(path, '/');
        if (slash == path)
            slash[1] = '\0';
        else if (slash != NULL)
            *slash = '\0';
        else
            strcpy(path, ".");
        r = statvfs(path, &sv);
    }
    int rc = r == 0 ? VINF_SUCCESS : vdc_status_from_errno(errno);
    free(path);
    if (RT_FAILURE(rc))
        return rc;
    uint64_t bytes = (uint64_t)sv.f_bavail;
    uint64_t unit = sv.f_frsize != 0 ? (uint64_t)sv.f_frsize : (uint64_t)sv.f_bsize;
    *pcb = unit != 0 && bytes > (uint64_t)INT64_MAX / unit ? INT64_MAX : (int64_t)(bytes * unit);
    return VINF_SUCCESS;
}

static int posix_mtime(vdc_fs *fsp, const char *name, int64_t *pns)
{
    struct stat st;
    if (!name_ok(name) || pns == NULL)
        return VERR_INVALID_PARAMETER;
    char *path = resolve((posix_fs *)fsp, name);
    if (path == NULL)
        return VERR_NO_MEMORY;
    int rc = stat(path, &st) == 0 ? VINF_SUCCESS : vdc_status_from_errno(errno);
    free(path);
    if (RT_SUCCESS(rc))
        *pns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    return rc;
}

static int posix_get_size(vdc_file *fp, uint64_t *pcb)
{
    struct stat st;
    if (fp == NULL || pcb == NULL)
        return VERR_INVALID_PARAMETER;
    if (fstat(((posix_file *)fp)->fd, &st) != 0)
        return vdc_status_from_errno(errno);
    *pcb = (uint64_t)st.st_size;
    return VINF_SUCCESS;
}

static int posix_set_size(vdc_file *fp, uint64_t cb)
{
    posix_file *f = (posix_file *)fp;
    if (f == NULL)
        return VERR_INVALID_PARAMETER;
    if (!(f->access & RTFILE_O_WRITE))
        return VERR_ACCESS_DENIED;
    if (cb > (uint64_t)INT64_MAX)
        return VERR_DISK_FULL;
    return retry_ftruncate(f->fd, (off_t)cb);
}

static int posix_allocate(vdc_file *fp, uint64_t cb)
{
    posix_file *f = (posix_file *)fp;
    uint64_t cur;
    int rc, err;

    if (f == NULL)
        return VERR_INVALID_PARAMETER;
    if (!(f->access & RTFILE_O_WRITE))
        return VERR_ACCESS_DENIED;
    if (cb > (uint64_t)INT64_MAX)
        return VERR_DISK_FULL;
    rc = posix_get_size(fp, &cur);
    if (RT_FAILURE(rc))
        return rc;
    if (cb <= cur)
        return retry_ftruncate(f->fd, (off_t)cb);
    do
        err = posix_fallocate(f->fd, 0, (off_t)cb);
    while (err == EINTR);
    if (err == EOPNOTSUPP || err == EINVAL || err == ENOSYS)
        return retry_ftruncate(f->fd, (off_t)cb); /* no reservation here */
    return vdc_status_from_errno(err);
}

static int posix_read(vdc_file *fp, uint64_t off, void *buf, size_t cb)
{
    posix_file *f = (posix_file *)fp;

    if (f == NULL || (buf == NULL && cb != 0))
        return VERR_INVALID_PARAMETER;
    if (!(f->access & RTFILE_O_READ))
        return VERR_ACCESS_DENIED;
    if (off > (uint64_t)INT64_MAX || cb > (uint64_t)INT64_MAX - off)
        return VERR_EOF;
    if (cb == 0) { /* no pread to tell: an empty read past the end still fails */
        uint64_t size;
        int rc = posix_get_size(fp, &size);
        return RT_FAILURE(rc) ? rc : off > size ? VERR_EOF : VINF_SUCCESS;
    }
    uint8_t *p = buf;
    size_t done = 0;
    while (done < cb) {
        ssize_t n = pread(f->fd, p + done, cb - done, (off_t)(off + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return vdc_status_from_errno(errno);
        }
        if (n == 0)
            return VERR_EOF; /* the end of the file */
        done += (size_t)n;
    }
    return VINF_SUCCESS;
}

static int posix_write(vdc_file *fp, uint64_t off, const void *buf, size_t cb)
{
    posix_file *f = (posix_file *)fp;
    if (f == NULL || (buf == NULL && cb != 0))
        return VERR_INVALID_PARAMETER;
    if (!(f->access & RTFILE_O_WRITE))
        return VERR_ACCESS_DENIED;
    if (off > (uint64_t)INT64_MAX || cb > (uint64_t)INT64_MAX - off)
        return VERR_DISK_FULL;
    const uint8_t *p = buf;
    size_t done = 0;
    while (done < cb) {
        ssize_t n = pwrite(f->fd, p + done, cb - done, (off_t)(off + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return vdc_status_from_errno(errno);
        }
        if (n == 0)
            return VERR_FILE_IO_ERROR; /* no progress: never loop on it */
        done += (size_t)n;
    }
    return VINF_SUCCESS;
}

static int posix_flush(vdc_file *fp)
{
    posix_file *f = (posix_file *)fp;
    int r;
    if (f == NULL)
        return VERR_INVALID_PARAMETER;
    do
        r = fdatasync(f->fd);
    while (r != 0 && errno == EINTR);
    if (r != 0 && (errno == EINVAL || errno == ENOSYS)) {
        do
            r = fsync(f->fd);
        while (r != 0 && errno == EINTR);
    }
    return r == 0 ? VINF_SUCCESS : vdc_status_from_errno(errno);
}

/* Handles still open are closed too (contract: there should be none). */
static void posix_destroy(vdc_fs *fsp)
{
    posix_fs *fs = (posix_fs *)fsp;
    while (fs->open_files != NULL)
        posix_close(&fs->open_files->base);
    free(fs->root);
    free(fs);
}

static const vdc_fs_ops posix_ops = {
    .open = posix_open,
    .close = posix_close,
    .remove = posix_remove,
    .rename = posix_rename,
    .free_space = posix_free_space,
    .mtime = posix_mtime,
    .get_size = posix_get_size,
    .set_size = posix_set_size,
    .allocate = posix_allocate,
    .read = posix_read,
    .write = posix_write,
    .flush = posix_flush,
    .destroy = posix_destroy,
};

vdc_fs *vdc_fs_posix_new(const char *root_dir)
{
    posix_fs *fs = calloc(1, sizeof *fs);
    if (fs == NULL)
        return NULL;
    fs->root = strdup(root_dir != NULL && root_dir[0] != '\0' ? root_dir : ".");
    if (fs->root == NULL) {
        free(fs);
        return NULL;
    }
    fs->base.ops = &posix_ops;
    return &fs->base;
}
