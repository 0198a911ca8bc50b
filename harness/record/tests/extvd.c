/*
 * harness/record/tests/extvd.c - a stand-in for VirtualBox, written apart
 * from vdcc's host code: it includes only spec/vdcache.h and links only libc
 * and libdl, loads a VD plugin with dlopen, calls VDPluginLoad with its own
 * registration callbacks, and drives a cache backend the way VD does (its
 * own IOINT over POSIX files, its own I/O contexts, VD's read and write
 * loops), checking every byte it reads.  tests/suites/record_vbox.sh uses it
 * to record sessions through VDPluginVdccRecord.so and replay them.
 *
 *   extvd PLUGIN mkimage IMAGE
 *       creates a 64 MiB cache at IMAGE with data at 0 (64 KiB), 1 MiB
 *       (128 KiB) and 8 MiB (4 KiB), pattern = f(offset, 1)
 *   extvd PLUGIN session IMAGE...
 *       one process per IMAGE, all at once (fork after the parent loaded
 *       nothing; each loads the plugin itself, as every VirtualBox process
 *       does): probe a foreign file and IMAGE, open IMAGE, read its old data
 *       (hits must hold pattern 1) and a range never written (a miss),
 *       write 64 KiB at 2 MiB, read it back, flush, close, reopen read-only
 *       and read it again
 * Exit status: 0 every check held, 1 a check failed (stderr says which), 2
 * usage or the plugin does not load.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spec/vdcache.h"

/* ---- the host: files and I/O contexts ------------------------------------ */

struct VDIOSTORAGE {
    int fd;
};

struct VDIOCTX {
    uint8_t *buf;
    size_t   len, pos;
};

static int errno_status(int e)
{
    switch (e) {
    case ENOENT: return VERR_FILE_NOT_FOUND;
    case EEXIST: return VERR_ALREADY_EXISTS;
    case EACCES: case EPERM: return VERR_ACCESS_DENIED;
    case ENOSPC: return VERR_DISK_FULL;
    default: return VERR_FILE_IO_ERROR;
    }
}

static int io_open(void *u, const char *loc, uint32_t f, PPVDIOSTORAGE pp)
{
    (void)u;
    int fl = (f & RTFILE_O_ACCESS_MASK) == RTFILE_O_READ ? O_RDONLY
           : (f & RTFILE_O_ACCESS_MASK) == RTFILE_O_WRITE ? O_WRONLY : O_RDWR;
    switch (f & RTFILE_O_ACTION_MASK) {
    case RTFILE_O_CREATE: fl |= O_CREAT | O_EXCL; break;
    case RTFILE_O_CREATE_REPLACE: fl |= O_CREAT | O_TRUNC; break;
    case RTFILE_O_OPEN_CREATE: fl |= O_CREAT; break;
    default: break;
    }
    if (f & RTFILE_O_TRUNCATE)
        fl |= O_TRUNC;
    struct VDIOSTORAGE *s = malloc(sizeof *s);
    if (s == NULL)
        return VERR_NO_MEMORY;
    s->fd = open(loc, fl | O_CLOEXEC, 0644);
    if (s->fd < 0) {
        int rc = errno_status(errno);
        free(s);
        return rc;
    }
    *pp = s;
    return VINF_SUCCESS;
}
static int io_close(void *u, PVDIOSTORAGE s)
{
    (void)u;
    int rc = close(s->fd) == 0 ? VINF_SUCCESS : VERR_FILE_IO_ERROR;
    free(s);
    return rc;
}
static int io_delete(void *u, const char *f)
{
    (void)u;
    return unlink(f) == 0 ? VINF_SUCCESS : errno_status(errno);
}
static int io_move(void *u, const char *a, const char *b, unsigned f)
{
    (void)u;
    (void)f;
    return rename(a, b) == 0 ? VINF_SUCCESS : errno_status(errno);
}
static int io_free_space(void *u, const char *f, int64_t *pcb)
{
    (void)u;
    struct statvfs v;
    if (statvfs(f, &v) != 0)
        return errno_status(errno);
    *pcb = (int64_t)(v.f_bavail * v.f_frsize);
    return VINF_SUCCESS;
}
static int io_mtime(void *u, const char *f, PRTTIMESPEC t)
{
    (void)u;
    struct stat st;
    if (stat(f, &st) != 0)
        return errno_status(errno);
    t->i64NanosecondsRelativeToUnixEpoch = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    return VINF_SUCCESS;
}
static int io_get_size(void *u, PVDIOSTORAGE s, uint64_t *pcb)
{
    (void)u;
    struct stat st;
    if (fstat(s->fd, &st) != 0)
        return errno_status(errno);
    *pcb = (uint64_t)st.st_size;
    return VINF_SUCCESS;
}
static int io_set_size(void *u, PVDIOSTORAGE s, uint64_t cb)
{
    (void)u;
    return ftruncate(s->fd, (off_t)cb) == 0 ? VINF_SUCCESS : errno_status(errno);
}
static int io_set_alloc(void *u, PVDIOSTORAGE s, uint64_t cb, uint32_t fl, PVDINTERFACEPROGRESS p, unsigned a,
                        unsigned b)
{
    (void)fl;
    (void)p;
    (void)a;
    (void)b;
    return io_set_size(u, s, cb);
}
static int xfer(int fd, uint64_t off, void *buf, size_t cb, bool write)
{
    for (size_t done = 0; done < cb;) {
        ssize_t n = write ? pwrite(fd, (uint8_t *)buf + done, cb - done, (off_t)(off + done))
                          : pread(fd, (uint8_t *)buf + done, cb - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno_status(errno);
        if (n == 0) { /* past the end: zeros, as VD's file layer reads a sparse tail */
            memset((uint8_t *)buf + done, 0, cb - done);
            return write ? VERR_DISK_FULL : VINF_SUCCESS;
        }
        done += (size_t)n;
    }
    return VINF_SUCCESS;
}
static int ctx_xfer(PVDIOSTORAGE s, uint64_t off, PVDIOCTX ctx, size_t cb, bool write)
{
    if (cb > ctx->len - ctx->pos)
        return VERR_INVALID_PARAMETER;
    int rc = xfer(s->fd, off, ctx->buf + ctx->pos, cb, write);
    if (rc == VINF_SUCCESS)
        ctx->pos += cb;
    return rc;
}
static int io_read_user(void *u, PVDIOSTORAGE s, uint64_t off, PVDIOCTX ctx, size_t cb)
{
    (void)u;
    return ctx_xfer(s, off, ctx, cb, false);
}
static int io_write_user(void *u, PVDIOSTORAGE s, uint64_t off, PVDIOCTX ctx, size_t cb, PFNVDXFERCOMPLETED fn,
                         void *cu)
{
    (void)u;
    (void)fn;
    (void)cu;
    return ctx_xfer(s, off, ctx, cb, true);
}
static int io_read_meta(void *u, PVDIOSTORAGE s, uint64_t off, void *buf, size_t cb, PVDIOCTX ctx,
                        PPVDMETAXFER mx, PFNVDXFERCOMPLETED fn, void *cu)
{
    (void)u;
    (void)ctx;
    (void)fn;
    (void)cu;
    if (mx != NULL)
        *mx = NULL;
    return xfer(s->fd, off, buf, cb, false);
}
static int io_write_meta(void *u, PVDIOSTORAGE s, uint64_t off, const void *buf, size_t cb, PVDIOCTX ctx,
                         PFNVDXFERCOMPLETED fn, void *cu)
{
    (void)u;
    (void)ctx;
    (void)fn;
    (void)cu;
    return xfer(s->fd, off, (void *)(uintptr_t)buf, cb, true);
}
static void io_meta_release(void *u, PVDMETAXFER mx)
{
    (void)u;
    (void)mx;
}
static int io_flush(void *u, PVDIOSTORAGE s, PVDIOCTX ctx, PFNVDXFERCOMPLETED fn, void *cu)
{
    (void)u;
    (void)ctx;
    (void)fn;
    (void)cu;
    return fsync(s->fd) == 0 ? VINF_SUCCESS : errno_status(errno);
}
static size_t ctx_left(PVDIOCTX c, size_t cb)
{
    return cb < c->len - c->pos ? cb : c->len - c->pos;
}
static size_t io_copy_to(void *u, PVDIOCTX c, const void *buf, size_t cb)
{
    (void)u;
    size_t n = ctx_left(c, cb);
    memcpy(c->buf + c->pos, buf, n);
    c->pos += n;
    return n;
}
static size_t io_copy_from(void *u, PVDIOCTX c, void *buf, size_t cb)
{
    (void)u;
    size_t n = ctx_left(c, cb);
    memcpy(buf, c->buf + c->pos, n);
    c->pos += n;
    return n;
}
static size_t io_set(void *u, PVDIOCTX c, int ch, size_t cb)
{
    (void)u;
    size_t n = ctx_left(c, cb);
    memset(c->buf + c->pos, ch, n);
    c->pos += n;
    return n;
}
static size_t io_seg_array(void *u, PVDIOCTX c, PRTSGSEG segs, unsigned *pc, size_t cb)
{
    (void)u;
    size_t n = ctx_left(c, cb);
    if (segs == NULL) { /* how many segments it would take: one */
        *pc = n > 0 ? 1 : 0;
        return n;
    }
    if (*pc < 1 || n == 0) {
        *pc = 0;
        return 0;
    }
    segs[0].pvSeg = c->buf + c->pos;
    segs[0].cbSeg = n;
    *pc = 1;
    c->pos += n;
    return n;
}
static void io_completed(void *u, PVDIOCTX c, int rc, size_t cb)
{
    (void)u;
    (void)c;
    (void)rc;
    (void)cb;
}
static bool io_is_sync(void *u, PVDIOCTX c)
{
    (void)u;
    (void)c;
    return true;
}
static bool io_is_zero(void *u, PVDIOCTX c, size_t cb, bool adv)
{
    (void)u;
    if (cb > c->len - c->pos)
        return false;
    for (size_t i = 0; i < cb; i++)
        if (c->buf[c->pos + i] != 0)
            return false;
    if (adv)
        c->pos += cb;
    return true;
}
static size_t io_unit(void *u, PVDIOCTX c)
{
    (void)u;
    (void)c;
    return 512;
}

static int err_message(void *u, const char *fmt, va_list va)
{
    (void)u;
    (void)fmt;
    (void)va;
    return VINF_SUCCESS;
}
static void err_error(void *u, int rc, const char *file, unsigned line, const char *fn, const char *fmt, va_list va)
{
    (void)u;
    (void)rc;
    (void)file;
    (void)line;
    (void)fn;
    (void)fmt;
    (void)va;
}

static VDINTERFACEIOINT g_io;
static VDINTERFACEERROR g_err;

static void host_init(void)
{
    memset(&g_io, 0, sizeof g_io);
    g_io.Core = (VDINTERFACE){ VDINTERFACE_MAGIC, "extvd-ioint", NULL, VDINTERFACETYPE_IOINT, sizeof g_io, NULL };
    g_io.pfnOpen = io_open;
    g_io.pfnClose = io_close;
    g_io.pfnDelete = io_delete;
    g_io.pfnMove = io_move;
    g_io.pfnGetFreeSpace = io_free_space;
    g_io.pfnGetModificationTime = io_mtime;
    g_io.pfnGetSize = io_get_size;
    g_io.pfnSetSize = io_set_size;
    g_io.pfnSetAllocationSize = io_set_alloc;
    g_io.pfnReadUser = io_read_user;
    g_io.pfnWriteUser = io_write_user;
    g_io.pfnReadMeta = io_read_meta;
    g_io.pfnWriteMeta = io_write_meta;
    g_io.pfnMetaXferRelease = io_meta_release;
    g_io.pfnFlush = io_flush;
    g_io.pfnIoCtxCopyTo = io_copy_to;
    g_io.pfnIoCtxCopyFrom = io_copy_from;
    g_io.pfnIoCtxSet = io_set;
    g_io.pfnIoCtxSegArrayCreate = io_seg_array;
    g_io.pfnIoCtxCompleted = io_completed;
    g_io.pfnIoCtxIsSynchronous = io_is_sync;
    g_io.pfnIoCtxIsZero = io_is_zero;
    g_io.pfnIoCtxGetDataUnitSize = io_unit;
    memset(&g_err, 0, sizeof g_err);
    g_err.Core = (VDINTERFACE){ VDINTERFACE_MAGIC, "extvd-error", NULL, VDINTERFACETYPE_ERROR, sizeof g_err, NULL };
    g_err.pfnError = err_error;
    g_err.pfnMessage = err_message;
}

/* ---- the plugin ------------------------------------------------------------ */

static const VDCACHEBACKEND *g_be;

static int reg_image(void *u, const VDIMAGEBACKEND *b)
{
    (void)u;
    (void)b;
    return VINF_SUCCESS;
}
static int reg_filter(void *u, const VDFILTERBACKEND *b)
{
    (void)u;
    (void)b;
    return VINF_SUCCESS;
}
static int reg_cache(void *u, const VDCACHEBACKEND *b)
{
    (void)u;
    if (g_be == NULL)
        g_be = b;
    return VINF_SUCCESS;
}

static bool load_plugin(const char *path)
{
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (dl == NULL) {
        fprintf(stderr, "extvd: %s\n", dlerror());
        return false;
    }
    void *sym = dlsym(dl, VD_PLUGIN_LOAD_NAME);
    PFNVDPLUGINLOAD load;
    if (sym == NULL)
        return false;
    memcpy(&load, &sym, sizeof load);
    VDBACKENDREGISTER reg = { VD_BACKENDREG_CB_VERSION, reg_image, reg_cache, reg_filter };
    int rc = load(NULL, &reg);
    if (rc < 0 || g_be == NULL) {
        fprintf(stderr, "extvd: %s: VDPluginLoad returned %d\n", path, rc);
        return false;
    }
    return true; /* the plugin stays loaded until exit, as in VirtualBox */
}

/* ---- VD's loops, checked --------------------------------------------------- */

static int g_failed;

static void check(bool ok, const char *what, int rc)
{
    if (!ok) {
        fprintf(stderr, "extvd[%ld]: %s (status %d)\n", (long)getpid(), what, rc);
        g_failed = 1;
    }
}

static uint8_t pat(uint64_t x, unsigned seed)
{
    uint64_t v = (x >> 3) * 0x9e3779b97f4a7c15ull + seed * 0xbf58476d1ce4e5b9ull;
    v ^= v >> 29;
    return (uint8_t)(v >> (8 * (x & 7)));
}

static void fill(uint8_t *b, uint64_t off, size_t cb, unsigned seed)
{
    for (size_t i = 0; i < cb; i++)
        b[i] = pat(off + i, seed);
}

/* VD's cache-write loop. */
static int vd_write(void *bd, uint64_t off, const uint8_t *src, size_t cb)
{
    struct VDIOCTX ctx = { (uint8_t *)(uintptr_t)src, cb, 0 };
    while (ctx.pos < cb) {
        size_t done = 0, before = ctx.pos;
        int rc = g_be->pfnWrite(bd, off + before, cb - before, &ctx, &done);
        if (rc < 0)
            return rc;
        if (done == 0 || done > cb - before)
            return VERR_INVALID_PARAMETER;
        ctx.pos = before + done;
    }
    return VINF_SUCCESS;
}

/* VD's cache-read loop: counts the bytes served as hits, and checks them
 * against seed (0: must all miss). */
static int vd_read(void *bd, uint64_t off, size_t cb, unsigned seed, size_t *hits)
{
    uint8_t *buf = malloc(cb), *want = malloc(cb);
    int rc = VINF_SUCCESS;
    *hits = 0;
    if (buf == NULL || want == NULL) {
        rc = VERR_NO_MEMORY;
        goto out;
    }
    fill(want, off, cb, seed);
    for (size_t pos = 0; pos < cb;) {
        struct VDIOCTX ctx = { buf + pos, cb - pos, 0 };
        size_t done = 0;
        rc = g_be->pfnRead(bd, off + pos, cb - pos, &ctx, &done);
        if (rc < 0 && rc != VERR_VD_BLOCK_FREE)
            goto out;
        if (done == 0 || done > cb - pos) {
            rc = VERR_INVALID_PARAMETER;
            goto out;
        }
        if (rc >= 0) {
            if (seed == 0 || memcmp(buf + pos, want + pos, done) != 0) {
                rc = VERR_INVALID_STATE; /* a hit with the wrong bytes */
                goto out;
            }
            *hits += done;
        }
        pos += done;
    }
    rc = VINF_SUCCESS;
out:
    free(buf);
    free(want);
    return rc;
}

static void mkimage(const char *path)
{
    PVDINTERFACE disk = &g_err.Core, image = &g_io.Core;
    void *bd = NULL;
    RTUUID u;
    memset(&u, 0x42, sizeof u);
    int rc = g_be->pfnCreate(path, 64u << 20, VD_IMAGE_FLAGS_NONE, "extvd", &u, VD_OPEN_FLAGS_NORMAL, 0, 99, disk,
                             image, NULL, &bd);
    check(rc >= 0, "create", rc);
    if (rc < 0)
        return;
    static const struct { uint64_t off; size_t cb; } parts[] = { { 0, 64u << 10 }, { 1u << 20, 128u << 10 },
                                                                 { 8u << 20, 4u << 10 } };
    for (unsigned i = 0; i < 3; i++) {
        uint8_t *b = malloc(parts[i].cb);
        if (b == NULL)
            break;
        fill(b, parts[i].off, parts[i].cb, 1);
        rc = vd_write(bd, parts[i].off, b, parts[i].cb);
        check(rc >= 0, "write of the image's data", rc);
        free(b);
    }
    rc = g_be->pfnClose(bd, false);
    check(rc >= 0, "close", rc);
}

static void session(const char *path)
{
    PVDINTERFACE disk = &g_err.Core, image = &g_io.Core;
    char junk[4096 + 16];
    snprintf(junk, sizeof junk, "%s.junk", path);
    int fd = open(junk, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    uint8_t jb[4096];
    fill(jb, 0, sizeof jb, 3);
    check(fd >= 0 && write(fd, jb, sizeof jb) == (ssize_t)sizeof jb && close(fd) == 0, "writing a foreign file", 0);
    int rc = g_be->pfnProbe(junk, disk, image);
    check(rc < 0, "probe of a foreign file succeeded", rc);
    rc = g_be->pfnProbe(path, disk, image);
    check(rc >= 0, "probe of the image", rc);
    void *bd = NULL;
    rc = g_be->pfnOpen(path, VD_OPEN_FLAGS_NORMAL, disk, image, &bd);
    check(rc >= 0 && bd != NULL, "open", rc);
    if (rc < 0 || bd == NULL)
        return;
    check(g_be->pfnGetSize(bd) == 64u << 20, "get-size", 0);
    size_t hits = 0;
    rc = vd_read(bd, 0, 64u << 10, 1, &hits);
    check(rc >= 0 && hits > 0, "the image's old data at 0", rc);
    rc = vd_read(bd, (1u << 20) + 4096, 16u << 10, 1, &hits);
    check(rc >= 0, "the image's old data at 1 MiB", rc);
    rc = vd_read(bd, 32u << 20, 64u << 10, 0, &hits);
    check(rc >= 0 && hits == 0, "a range never written misses", rc);
    uint8_t *b = malloc(64u << 10);
    if (b != NULL) {
        fill(b, 2u << 20, 64u << 10, 2);
        rc = vd_write(bd, 2u << 20, b, 64u << 10);
        check(rc >= 0, "write at 2 MiB", rc);
        free(b);
    }
    rc = vd_read(bd, 2u << 20, 64u << 10, 2, &hits);
    check(rc >= 0, "read back at 2 MiB", rc);
    struct VDIOCTX none = { NULL, 0, 0 };
    rc = g_be->pfnFlush(bd, &none);
    check(rc >= 0, "flush", rc);
    rc = g_be->pfnClose(bd, false);
    check(rc >= 0, "close", rc);
    bd = NULL;
    rc = g_be->pfnOpen(path, VD_OPEN_FLAGS_READONLY, disk, image, &bd);
    check(rc >= 0 && bd != NULL, "reopen read-only", rc);
    if (rc < 0 || bd == NULL)
        return;
    rc = vd_read(bd, 2u << 20, 64u << 10, 2, &hits);
    check(rc >= 0, "read after the reopen", rc);
    rc = g_be->pfnClose(bd, false);
    check(rc >= 0, "close after the reopen", rc);
}

int main(int argc, char **argv)
{
    if (argc < 4 || (strcmp(argv[2], "mkimage") != 0 && strcmp(argv[2], "session") != 0)) {
        fprintf(stderr, "usage: extvd PLUGIN mkimage IMAGE | extvd PLUGIN session IMAGE...\n");
        return 2;
    }
    host_init();
    if (strcmp(argv[2], "mkimage") == 0) {
        if (!load_plugin(argv[1]))
            return 2;
        mkimage(argv[3]);
        return g_failed;
    }
    /* One process per image, all running at once. */
    pid_t kids[16];
    int nk = 0;
    for (int i = 4; i < argc && nk < 16; i++) {
        fflush(NULL);
        pid_t p = fork();
        if (p == 0) {
            if (!load_plugin(argv[1]))
                _exit(2);
            session(argv[i]);
            exit(g_failed);
        }
        if (p > 0)
            kids[nk++] = p;
    }
    if (!load_plugin(argv[1]))
        return 2;
    session(argv[3]);
    for (int i = 0; i < nk; i++) {
        int st = 0;
        if (waitpid(kids[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            g_failed = 1;
    }
    return g_failed;
}
