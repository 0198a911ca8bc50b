/*
 * harness/host/host.c - VD's side of the cache-backend ABI, checked.
 *
 * Contract: host.h (spec/contract.md, section HOST); the facts behind each
 * member are spec/vbox-behaviour.md sections 1-2 and 7.  Statuses the IOINT
 * members return, beyond whatever the vdc_fs passes up (fs.h):
 *   VERR_INVALID_HANDLE    NULL, unknown or closed storage handle (misuse);
 *   VERR_INVALID_POINTER   NULL output pointer or string, invalid I/O
 *                          context, completion arguments with a NULL
 *                          context (misuse); also a pvUser that is not a
 *                          host (not counted: there is no host to count in);
 *   VERR_INVALID_PARAMETER open without an access mode, a transfer larger
 *                          than the context allows, SetAllocationSize flags
 *                          or percent range, a bad progress interface,
 *                          progress over 100 (misuse);
 *   VERR_EOF               ReadMeta/ReadUser past the end (not misuse);
 *   VERR_INVALID_STATE     a probe trap (misuse);
 *   VERR_CFGM_VALUE_NOT_FOUND, VERR_CFGM_NOT_ENOUGH_SPACE, VERR_NO_MEMORY
 *                          from the config interface.
 *
 * Storage handles are host-allocated `struct VDIOSTORAGE`s.  A handle a
 * backend passes is looked up by address in the table of open handles
 * before it is ever dereferenced, so garbage, stale and foreign handles are
 * reported, not followed.  The last HOST_CLOSED_KEPT closed wrappers stay
 * allocated (and are reused for later opens, oldest first), so a handle
 * used after close is reported as closed rather than mistaken for a new
 * one, unless that many opens have happened since.
 *
 * Everything is synchronous: no completion callback is ever called, every
 * transfer is done when its call returns, and ReadMeta's *ppMetaXfer is
 * NULL.  Only the host's own pointers and the I/O contexts (which the
 * harness creates) are dereferenced without a table check.
 */
#include "host.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"

#define HOST_MAGIC       0x76646368u /* "vdch" */
#define STORAGE_MAGIC    0x76647374u /* "vdst" */
#define HOST_CLOSED_KEPT 32
/* Kept log lines stop this far below the cap, so the truncation line that
 * follows them fits inside VDC_HOST_LOG_MAX. */
#define LOG_TRAILER_ROOM 64
#define LOG_CONTENT_MAX  (VDC_HOST_LOG_MAX - LOG_TRAILER_ROOM)

struct VDIOSTORAGE {
    uint32_t  magic;  /* STORAGE_MAGIC while open, 0 once closed */
    vdc_file *file;
    uint32_t  fOpen;
    unsigned  tag;      /* the host's tag when it was opened (vdc_host_set_tag) */
    char      name[80]; /* for messages; truncated */
};

typedef struct cfg_entry {
    char *key;
    char *value;
} cfg_entry;

struct vdc_host {
    uint32_t magic;
    vdc_fs  *fs;
    VDINTERFACEERROR    if_error;
    VDINTERFACECONFIG   if_config;
    VDINTERFACEIOINT    if_ioint;
    VDINTERFACEIOINT    if_probe;
    VDINTERFACEPROGRESS if_progress;
    vdc_host_stats stats;
    size_t data_unit;
    vdc_host_ifs_mode ifs_mode;

    struct VDIOSTORAGE **open; /* open handles, unordered */
    size_t nopen, capopen;
    unsigned tag;              /* given to the storages opened from now on */
    struct VDIOSTORAGE *closed[HOST_CLOSED_KEPT]; /* ring, oldest at closed_head */
    unsigned nclosed, closed_head;

    cfg_entry *cfg;
    size_t ncfg, capcfg;

    char    *log;  /* NUL-terminated; the truncation line follows loglen */
    size_t   loglen, logcap;
    uint64_t log_dropped;
    unsigned misuse_described;
};

/* --- the log ---------------------------------------------------------- */

static bool log_reserve(vdc_host *h, size_t cb)
{
    if (cb <= h->logcap)
        return true;
    size_t cap = h->logcap ? h->logcap : 4096;
    while (cap < cb)
        cap *= 2;
    if (cap > VDC_HOST_LOG_MAX)
        cap = VDC_HOST_LOG_MAX;
    if (cap < cb)
        return false;
    char *grown = realloc(h->log, cap);
    if (grown == NULL)
        return false;
    h->log = grown;
    h->logcap = cap;
    return true;
}

/* Appends prefix + text (trailing newlines folded into one) as a line,
 * or counts it as dropped once the log is full: the log keeps its head. */
static void log_append(vdc_host *h, const char *prefix, const char *text)
{
    size_t cp = strlen(prefix), ct = strlen(text);
    while (ct > 0 && text[ct - 1] == '\n')
        ct--;
    size_t line = cp + ct + 1;
    if (h->log_dropped == 0 && h->loglen + line <= LOG_CONTENT_MAX
        && log_reserve(h, h->loglen + line + 1)) {
        memcpy(h->log + h->loglen, prefix, cp);
        memcpy(h->log + h->loglen + cp, text, ct);
        h->loglen += line;
        h->log[h->loglen - 1] = '\n';
        h->log[h->loglen] = '\0';
        return;
    }
    h->log_dropped += line;
    if (log_reserve(h, VDC_HOST_LOG_MAX))
        snprintf(h->log + h->loglen, h->logcap - h->loglen, "[log truncated: %llu bytes dropped]\n",
                 (unsigned long long)h->log_dropped);
}

static void log_vformat(vdc_host *h, const char *prefix, const char *fmt, va_list va)
{
    char small[512];
    va_list again;
    va_copy(again, va);
    int n = vsnprintf(small, sizeof small, fmt, va);
    if (n < 0) {
        log_append(h, prefix, "(message could not be formatted)");
    } else if ((size_t)n < sizeof small) {
        log_append(h, prefix, small);
    } else {
        char *big = malloc((size_t)n + 1);
        if (big != NULL && vsnprintf(big, (size_t)n + 1, fmt, again) >= 0)
            log_append(h, prefix, big);
        else
            log_append(h, prefix, small); /* what fitted */
        free(big);
    }
    va_end(again);
}

/* Counts one misuse and describes the first VDC_HOST_MISUSE_DESCRIBED. */
__attribute__((format(printf, 2, 3)))
static void misuse(vdc_host *h, const char *fmt, ...)
{
    h->stats.misuse++;
    if (h->misuse_described > VDC_HOST_MISUSE_DESCRIBED)
        return;
    if (h->misuse_described++ == VDC_HOST_MISUSE_DESCRIBED) {
        log_append(h, "misuse: ", "further misuse is counted, not described");
        return;
    }
    va_list va;
    va_start(va, fmt);
    log_vformat(h, "misuse: ", fmt, va);
    va_end(va);
}

const char *vdc_host_log(const vdc_host *host)
{
    return host->log != NULL ? host->log : "";
}

void vdc_host_log_clear(vdc_host *host)
{
    host->loglen = 0;
    host->log_dropped = 0;
    host->misuse_described = 0;
    if (host->log != NULL)
        host->log[0] = '\0';
}

/* --- helpers for the callbacks ------------------------------------------ */

static vdc_host *host_of(void *pvUser)
{
    vdc_host *h = pvUser;
    return h != NULL && h->magic == HOST_MAGIC ? h : NULL;
}

/* The open storage behind handle s, found by address before any
 * dereference; NULL (misuse counted) when s is not an open handle. */
static struct VDIOSTORAGE *storage_get(vdc_host *h, PVDIOSTORAGE s, const char *who)
{
    if (s == NULL) {
        misuse(h, "%s: NULL storage handle", who);
        return NULL;
    }
    for (size_t i = 0; i < h->nopen; i++)
        if (h->open[i] == s)
            return s;
    for (unsigned i = 0; i < h->nclosed; i++) {
        if (h->closed[(h->closed_head + i) % HOST_CLOSED_KEPT] == s) {
            misuse(h, "%s: storage handle %p ('%s') was closed", who, (void *)s, s->name);
            return NULL;
        }
    }
    misuse(h, "%s: unknown storage handle %p", who, (void *)s);
    return NULL;
}

static bool ctx_ok(vdc_host *h, PVDIOCTX ctx, const char *who)
{
    if (vdc_ioctx_valid(ctx))
        return true;
    misuse(h, "%s: %s I/O context %p", who, ctx == NULL ? "NULL" : "invalid", (void *)ctx);
    return false;
}

/* For ReadMeta, WriteMeta and Flush: a NULL context means synchronous, and
 * then the completion arguments must be NULL too (VD insists). */
static int meta_ctx_ok(vdc_host *h, PVDIOCTX ctx, bool extra, const char *who)
{
    if (ctx == NULL) {
        if (extra) {
            misuse(h, "%s: NULL pIoCtx (synchronous) with non-NULL completion arguments", who);
            return VERR_INVALID_POINTER;
        }
        return VINF_SUCCESS;
    }
    return ctx_ok(h, ctx, who) ? VINF_SUCCESS : VERR_INVALID_POINTER;
}

/* --- IOINT: files --------------------------------------------------------- */

static struct VDIOSTORAGE *storage_alloc(vdc_host *h)
{
    if (h->nclosed == HOST_CLOSED_KEPT) {
        struct VDIOSTORAGE *s = h->closed[h->closed_head];
        h->closed_head = (h->closed_head + 1) % HOST_CLOSED_KEPT;
        h->nclosed--;
        return s;
    }
    return malloc(sizeof(struct VDIOSTORAGE));
}

static void storage_retire(vdc_host *h, struct VDIOSTORAGE *s)
{
    s->magic = 0;
    s->file = NULL;
    if (h->nclosed == HOST_CLOSED_KEPT) {
        free(h->closed[h->closed_head]);
        h->closed_head = (h->closed_head + 1) % HOST_CLOSED_KEPT;
        h->nclosed--;
    }
    h->closed[(h->closed_head + h->nclosed) % HOST_CLOSED_KEPT] = s;
    h->nclosed++;
}

static int io_open(void *pvUser, const char *pszLocation, uint32_t fOpen, PPVDIOSTORAGE ppStorage)
{
    vdc_host *h = host_of(pvUser);
    struct VDIOSTORAGE *s;
    vdc_file *file;
    int rc;

    if (h == NULL)
        return VERR_INVALID_POINTER;
    if (ppStorage == NULL) {
        misuse(h, "pfnOpen: NULL ppStorage");
        return VERR_INVALID_POINTER;
    }
    *ppStorage = NULL;
    if (pszLocation == NULL) {
        misuse(h, "pfnOpen: NULL location");
        return VERR_INVALID_POINTER;
    }
    if ((fOpen & RTFILE_O_ACCESS_MASK) == 0) {
        misuse(h, "pfnOpen('%s'): fOpen %#x has no access mode", pszLocation, (unsigned)fOpen);
        return VERR_INVALID_PARAMETER;
    }
    if (h->nopen == h->capopen) {
        size_t cap = h->capopen ? h->capopen * 2 : 4;
        struct VDIOSTORAGE **grown = realloc(h->open, cap * sizeof *grown);
        if (grown == NULL)
            return VERR_NO_MEMORY;
        h->open = grown;
        h->capopen = cap;
    }
    rc = h->fs->ops->open(h->fs, pszLocation, fOpen, &file);
    if (RT_FAILURE(rc))
        return rc;
    s = storage_alloc(h);
    if (s == NULL) {
        rc = VERR_NO_MEMORY;
        goto out_close_file;
    }
    s->magic = STORAGE_MAGIC;
    s->file = file;
    s->fOpen = fOpen;
    s->tag = h->tag;
    snprintf(s->name, sizeof s->name, "%s", pszLocation);
    h->open[h->nopen++] = s;
    h->stats.opens++;
    h->stats.open_storages++;
    *ppStorage = s;
    return VINF_SUCCESS;

out_close_file:
    h->fs->ops->close(file);
    return rc;
}

static int io_close(void *pvUser, PVDIOSTORAGE pStorage)
{
    vdc_host *h = host_of(pvUser);
    if (h == NULL)
        return VERR_INVALID_POINTER;
    struct VDIOSTORAGE *s = storage_get(h, pStorage, "pfnClose");
    if (s == NULL)
        return VERR_INVALID_HANDLE;
    int rc = h->fs->ops->close(s->file);
    for (size_t i = 0; i < h->nopen; i++) {
        if (h->open[i] == s) {
            h->open[i] = h->open[--h->nopen];
            break;
        }
    }
    storage_retire(h, s);
    h->stats.closes++;
    h->stats.open_storages--;
    return rc;
}

static int io_delete(void *pvUser, const char *pcszFilename)
{
    vdc_host *h = host_of(pvUser);
    if (h == NULL)
        return VERR_INVALID_POINTER;
    if (pcszFilename == NULL) {
        misuse(h, "pfnDelete: NULL file name");
        return VERR_INVALID_POINTER;
    }
    return h->fs->ops->remove(h->fs, pcszFilename);
}

static int io_move(void *pvUser, const char *pcszSrc, const char *pcszDst, unsigned fMove)
{
    vdc_host *h = host_of(pvUser);
    if (h == NULL)
        return VERR_INVALID_POINTER;
    if (pcszSrc == NULL || pcszDst == NULL) {
        misuse(h, "pfnMove: NULL file name");
        return VERR_INVALID_POINTER;
    }
    return h->fs->ops->rename(h->fs, pcszSrc, pcszDst, fMove);
}

static int io_get_free_space(void *pvUser, const char *pcszFilename, int64_t *pcbFreeSpace)
{
    vdc_host *h = host_of(pvUser);
    if (h == NULL)
        return VERR_INVALID_POINTER;
    if (pcszFilename == NULL || pcbFreeSpace == NULL) {
        misuse(h, "pfnGetFreeSpace: NULL %s", pcszFilename == NULL ? "file name" : "output pointer");
        return VERR_INVALID_POINTER;
    }
    return h->fs->ops->free_space(h->fs, pcszFilename, pcbFreeSpace);
}

static int io_get_modification_time(void *pvUser, const char *pcszFilename, PRTTIMESPEC pTime)
{
    vdc_host *h = host_of(pvUser);
    if (h == NULL)
        return VERR_INVALID_POINTER;
    if (pcszFilename == NULL || pTime == NULL) {
        misuse(h, "pfnGetModificationTime: NULL %s", pcszFilename == NULL ? "file name" : "output pointer");
        return VERR_INVALID_POINTER;
    }
    int64_t ns;
    int rc = h->fs->ops->mtime(h->fs, pcszFilename, &ns);
    if (RT_SUCCESS(rc))
        pTime->i64NanosecondsRelativeToUnixEpoch = ns;
    return rc;
}

static int io_get_size(void *pvUser, PVDIOSTORAGE pStorage, uint64_t *pcbSize)
{
    vdc_host *h = host_of(pvUser);
    if (h == NULL)
        return VERR_INVALID_POINTER;
    struct VDIOSTORAGE *s = storage_get(h, pStorage, "pfnGetSize");
    if (s == NULL)
        return VERR_INVALID_HANDLE;
    if (pcbSize == NULL) {
        misuse(h, "pfnGetSize: NULL output pointer");
        return VERR_INVALID_POINTER;
    }
    return h->fs->ops->get_size(s->file, pcbSize);
}

static int io_set_size(void *pvUser, PVDIOSTORAGE pStorage, uint64_t cbSize)
{
    vdc_host *h = host_of(pvUser);
    if (h == NULL)
        return VERR_INVALID_POINTER;
    struct VDIOSTORAGE *s = storage_get(h, pStorage, "pfnSetSize");
    if (s == NULL)
        return VERR_INVALID_HANDLE;
    return h->fs->ops->set_size(s->file, cbSize);
}

static bool progress_if_ok(PVDINTERFACEPROGRESS p)
{
    return p->Core.u32Magic == VDINTERFACE_MAGIC && p->Core.enmInterface == VDINTERFACETYPE_PROGRESS
        && p->Core.cbSize == sizeof(VDINTERFACEPROGRESS) && p->pfnProgress != NULL;
}

static int io_set_allocation_size(void *pvUser, PVDIOSTORAGE pStorage, uint64_t cbSize, uint32_t fFlags,
                                  PVDINTERFACEPROGRESS pIfProgress, unsigned uPercentStart,
                                  unsigned uPercentSpan)
{
    vdc_host *h = host_of(pvUser);
    int rc;
    if (h == NULL)
        return VERR_INVALID_POINTER;
    struct VDIOSTORAGE *s = storage_get(h, pStorage, "pfnSetAllocationSize");
    if (s == NULL)
        return VERR_INVALID_HANDLE;
    if (fFlags != 0) {
        misuse(h, "pfnSetAllocationSize: fFlags %#x, must be 0", (unsigned)fFlags);
        return VERR_INVALID_PARAMETER;
    }
    if (pIfProgress != NULL && !progress_if_ok(pIfProgress)) {
        misuse(h, "pfnSetAllocationSize: %p is not a progress interface", (void *)pIfProgress);
        return VERR_INVALID_PARAMETER;
    }
    if ((uint64_t)uPercentStart + uPercentSpan > 100) {
        misuse(h, "pfnSetAllocationSize: percent range %u+%u passes 100", uPercentStart, uPercentSpan);
        return VERR_INVALID_PARAMETER;
    }
    if (h->ifs_mode == VDC_HOST_IFS_NOPREALLOC)
        return VERR_NOT_SUPPORTED; /* as RTFileSetAllocationSize where the file system cannot */
    if (pIfProgress != NULL) {
        rc = pIfProgress->pfnProgress(pIfProgress->Core.pvUser, uPercentStart);
        if (RT_FAILURE(rc))
            return rc;
    }
    rc = h->fs->ops->allocate(s->file, cbSize);
    if (RT_SUCCESS(rc) && pIfProgress != NULL)
        rc = pIfProgress->pfnProgress(pIfProgress->Core.pvUser, uPercentStart + uPercentSpan);
    return rc;
}

/* --- IOINT: transfers ----------------------------------------------------- */

/* Moves cb bytes between the file at off and the context's cursor, segment
 * by segment.  On failure the cursor is put back (for a write, the file may
 * hold part of the data). */
static int user_transfer(vdc_host *h, struct VDIOSTORAGE *s, uint64_t off, PVDIOCTX ctx, size_t cb,
                         bool write)
{
    unsigned iseg = ctx->iseg;
    size_t segoff = ctx->segoff, left = ctx->left, done = 0;
    int rc = VINF_SUCCESS;

    while (done < cb) {
        RTSGSEG segs[16];
        unsigned n = 16;
        size_t got = vdc_ioctx_seg_array(ctx, segs, &n, cb - done);
        if (got == 0) {
            rc = VERR_INVALID_PARAMETER; /* fewer bytes in the segments than `left` claimed */
            goto out_rewind;
        }
        for (unsigned i = 0; i < n; i++) {
            rc = write ? h->fs->ops->write(s->file, off + done, segs[i].pvSeg, segs[i].cbSeg)
                       : h->fs->ops->read(s->file, off + done, segs[i].pvSeg, segs[i].cbSeg);
            if (RT_FAILURE(rc))
                goto out_rewind;
            done += segs[i].cbSeg;
        }
    }
    return VINF_SUCCESS;

out_rewind:
    ctx->iseg = iseg;
    ctx->segoff = segoff;
    ctx->left = left;
    return rc;
}

static int user_io(vdc_host *h, PVDIOSTORAGE pStorage, uint64_t off, PVDIOCTX ctx, size_t cb, bool write)
{
    const char *who = write ? "pfnWriteUser" : "pfnReadUser";
    struct VDIOSTORAGE *s = storage_get(h, pStorage, who);
    int rc;
    if (s == NULL)
        return VERR_INVALID_HANDLE;
    if (!ctx_ok(h, ctx, who))
        return VERR_INVALID_POINTER;
    if (cb > ctx->left) {
        misuse(h, "%s: %zu bytes, but the I/O context allows only %zu", who, cb, ctx->left);
        return VERR_INVALID_PARAMETER;
    }
    /* A read past the end fails in the fs with VERR_EOF; user_transfer
     * then rewinds the context, so nothing counts as transferred (the bytes
     * before the end may already be in the caller's buffers). */
    rc = user_transfer(h, s, off, ctx, cb, write);
    if (RT_FAILURE(rc))
        return rc;
    if (write) {
        h->stats.user_writes++;
        h->stats.bytes_written += cb;
    } else {
        h->stats.user_reads++;
        h->stats.bytes_read += cb;
    }
    return VINF_SUCCESS;
}

static int io_read_user(void *pvUser, PVDIOSTORAGE pStorage, uint64_t uOffset, PVDIOCTX pIoCtx, size_t cbRead)
{
    vdc_host *h = host_of(pvUser);
    if (h == NULL)
        return VERR_INVALID_POINTER;
    return user_io(h, pStorage, uOffset, pIoCtx, cbRead, false);
}

/* pfnComplete is never called: the write is done when this returns. */
static int io_write_user(void *pvUser, PVDIOSTORAGE pStorage, uint64_t uOffset, PVDIOCTX pIoCtx,
                         size_t cbWrite, PFNVDXFERCOMPLETED pfnComplete, void *pvCompleteUser)
{
    vdc_host *h = host_of(pvUser);
    (void)pfnComplete;
    (void)pvCompleteUser;
    if (h == NULL)
        return VERR_INVALID_POINTER;
    return user_io(h, pStorage, uOffset, pIoCtx, cbWrite, true);
}

static int io_read_meta(void *pvUser, PVDIOSTORAGE pStorage, uint64_t uOffset, void *pvBuffer, size_t cbBuffer,
                        PVDIOCTX pIoCtx, PPVDMETAXFER ppMetaXfer, PFNVDXFERCOMPLETED pfnComplete,
                        void *pvCompleteUser)
{
    vdc_host *h = host_of(pvUser);
    if (h == NULL)
        return VERR_INVALID_POINTER;
    if (ppMetaXfer != NULL)
        *ppMetaXfer = NULL;
    struct VDIOSTORAGE *s = storage_get(h, pStorage, "pfnReadMeta");
    if (s == NULL)
        return VERR_INVALID_HANDLE;
    int rc = meta_ctx_ok(h, pIoCtx, ppMetaXfer != NULL || pfnComplete != NULL || pvCompleteUser != NULL,
                         "pfnReadMeta");
    if (RT_FAILURE(rc))
        return rc;
    if (pvBuffer == NULL && cbBuffer != 0) {
        misuse(h, "pfnReadMeta: NULL buffer for %zu bytes", cbBuffer);
        return VERR_INVALID_POINTER;
    }
    rc = h->fs->ops->read(s->file, uOffset, pvBuffer, cbBuffer);
    if (RT_SUCCESS(rc)) {
        h->stats.meta_reads++;
        h->stats.bytes_read += cbBuffer;
    }
    return rc;
}

static int io_write_meta(void *pvUser, PVDIOSTORAGE pStorage, uint64_t uOffset, const void *pvBuffer,
                         size_t cbBuffer, PVDIOCTX pIoCtx, PFNVDXFERCOMPLETED pfnComplete, void *pvCompleteUser)
{
    vdc_host *h = host_of(pvUser);
    if (h == NULL)
        return VERR_INVALID_POINTER;
    struct VDIOSTORAGE *s = storage_get(h, pStorage, "pfnWriteMeta");
    if (s == NULL)
        return VERR_INVALID_HANDLE;
    int rc = meta_ctx_ok(h, pIoCtx, pfnComplete != NULL || pvCompleteUser != NULL, "pfnWriteMeta");
    if (RT_FAILURE(rc))
        return rc;
    if (pvBuffer == NULL && cbBuffer != 0) {
        misuse(h, "pfnWriteMeta: NULL buffer for %zu bytes", cbBuffer);
        return VERR_INVALID_POINTER;
    }
    rc = h->fs->ops->write(s->file, uOffset, pvBuffer, cbBuffer);
    if (RT_SUCCESS(rc)) {
        h->stats.meta_writes++;
        h->stats.bytes_written += cbBuffer;
    }
    return rc;
}

/* The host hands out only NULL transfers, so NULL is the one valid value. */
static void io_meta_xfer_release(void *pvUser, PVDMETAXFER pMetaXfer)
{
    vdc_host *h = host_of(pvUser);
    if (h != NULL && pMetaXfer != NULL)
        misuse(h, "pfnMetaXferRelease: %p was never handed out", (void *)pMetaXfer);
}

static int io_flush(void *pvUser, PVDIOSTORAGE pStorage, PVDIOCTX pIoCtx, PFNVDXFERCOMPLETED pfnComplete,
                    void *pvCompleteUser)
{
    vdc_host *h = host_of(pvUser);
    if (h == NULL)
        return VERR_INVALID_POINTER;
    struct VDIOSTORAGE *s = storage_get(h, pStorage, "pfnFlush");
    if (s == NULL)
        return VERR_INVALID_HANDLE;
    int rc = meta_ctx_ok(h, pIoCtx, pfnComplete != NULL || pvCompleteUser != NULL, "pfnFlush");
    if (RT_FAILURE(rc))
        return rc;
    rc = h->fs->ops->flush(s->file);
    if (RT_SUCCESS(rc))
        h->stats.flushes++;
    return rc;
}

/* --- IOINT: I/O context helpers ----------------------------------------- */

/* Shared checks of CopyTo/CopyFrom/Set: asking for more than `left` is
 * misuse (VD asserts), answered by moving what is left. */
static bool ctx_move_ok(vdc_host *h, PVDIOCTX ctx, const void *buf, size_t cb, const char *who)
{
    if (!ctx_ok(h, ctx, who))
        return false;
    if (buf == NULL && cb != 0) {
        misuse(h, "%s: NULL buffer for %zu bytes", who, cb);
        return false;
    }
    if (cb > ctx->left)
        misuse(h, "%s: %zu bytes, but the I/O context has only %zu left", who, cb, ctx->left);
    return true;
}

static size_t io_ctx_copy_to(void *pvUser, PVDIOCTX pIoCtx, const void *pvBuffer, size_t cbBuffer)
{
    vdc_host *h = host_of(pvUser);
    if (h == NULL || !ctx_move_ok(h, pIoCtx, pvBuffer, cbBuffer, "pfnIoCtxCopyTo"))
        return 0;
    return vdc_ioctx_copy_to(pIoCtx, pvBuffer, cbBuffer);
}

static size_t io_ctx_copy_from(void *pvUser, PVDIOCTX pIoCtx, void *pvBuffer, size_t cbBuffer)
{
    vdc_host *h = host_of(pvUser);
    if (h == NULL || !ctx_move_ok(h, pIoCtx, pvBuffer, cbBuffer, "pfnIoCtxCopyFrom"))
        return 0;
    return vdc_ioctx_copy_from(pIoCtx, pvBuffer, cbBuffer);
}

static size_t io_ctx_set(void *pvUser, PVDIOCTX pIoCtx, int ch, size_t cbSet)
{
    vdc_host *h = host_of(pvUser);
    if (h == NULL || !ctx_move_ok(h, pIoCtx, "", cbSet, "pfnIoCtxSet"))
        return 0;
    return vdc_ioctx_set(pIoCtx, ch, cbSet);
}

static size_t io_ctx_seg_array_create(void *pvUser, PVDIOCTX pIoCtx, PRTSGSEG paSeg, unsigned *pcSeg,
                                      size_t cbData)
{
    vdc_host *h = host_of(pvUser);
    if (h == NULL || !ctx_ok(h, pIoCtx, "pfnIoCtxSegArrayCreate"))
        return 0;
    if (pcSeg == NULL) {
        misuse(h, "pfnIoCtxSegArrayCreate: NULL pcSeg");
        return 0;
    }
    if (cbData > pIoCtx->left)
        misuse(h, "pfnIoCtxSegArrayCreate: %zu bytes, but the I/O context has only %zu left", cbData,
               pIoCtx->left);
    return vdc_ioctx_seg_array(pIoCtx, paSeg, pcSeg, cbData);
}

static void io_ctx_completed(void *pvUser, PVDIOCTX pIoCtx, int rcReq, size_t cbCompleted)
{
    vdc_host *h = host_of(pvUser);
    if (h == NULL || !ctx_ok(h, pIoCtx, "pfnIoCtxCompleted"))
        return;
    pIoCtx->completions++;
    if (pIoCtx->rc_completed == VINF_SUCCESS)
        pIoCtx->rc_completed = rcReq; /* the first failure sticks, as in VD */
    pIoCtx->cb_completed += cbCompleted;
}

static bool io_ctx_is_synchronous(void *pvUser, PVDIOCTX pIoCtx)
{
    vdc_host *h = host_of(pvUser);
    if (h == NULL || !ctx_ok(h, pIoCtx, "pfnIoCtxIsSynchronous"))
        return true; /* the host is synchronous whatever the context */
    return pIoCtx->sync;
}

static bool io_ctx_is_zero(void *pvUser, PVDIOCTX pIoCtx, size_t cbCheck, bool fAdvance)
{
    vdc_host *h = host_of(pvUser);
    if (h == NULL || !ctx_ok(h, pIoCtx, "pfnIoCtxIsZero"))
        return false;
    return vdc_ioctx_is_zero(pIoCtx, cbCheck, fAdvance);
}

static size_t io_ctx_get_data_unit_size(void *pvUser, PVDIOCTX pIoCtx)
{
    vdc_host *h = host_of(pvUser);
    if (h == NULL || !ctx_ok(h, pIoCtx, "pfnIoCtxGetDataUnitSize"))
        return 0;
    return pIoCtx->data_unit;
}

/* --- the probe IOINT's traps ---------------------------------------------- */
/* VD's probe interface leaves these members uninitialised (stack garbage);
 * a backend that calls one during probe would crash or worse in VD. */

#define TRAP(h, member) misuse((h), "probe called " member ", which VD leaves uninitialised")

static int trap_set_allocation_size(void *pvUser, PVDIOSTORAGE pStorage, uint64_t cbSize, uint32_t fFlags,
                                    PVDINTERFACEPROGRESS pIfProgress, unsigned uPercentStart,
                                    unsigned uPercentSpan)
{
    vdc_host *h = host_of(pvUser);
    (void)pStorage, (void)cbSize, (void)fFlags, (void)pIfProgress, (void)uPercentStart, (void)uPercentSpan;
    if (h != NULL)
        TRAP(h, "pfnSetAllocationSize");
    return VERR_INVALID_STATE;
}

static void trap_meta_xfer_release(void *pvUser, PVDMETAXFER pMetaXfer)
{
    vdc_host *h = host_of(pvUser);
    (void)pMetaXfer;
    if (h != NULL)
        TRAP(h, "pfnMetaXferRelease");
}

static size_t trap_copy_to(void *pvUser, PVDIOCTX pIoCtx, const void *pvBuffer, size_t cbBuffer)
{
    vdc_host *h = host_of(pvUser);
    (void)pIoCtx, (void)pvBuffer, (void)cbBuffer;
    if (h != NULL)
        TRAP(h, "pfnIoCtxCopyTo");
    return 0;
}

static size_t trap_copy_from(void *pvUser, PVDIOCTX pIoCtx, void *pvBuffer, size_t cbBuffer)
{
    vdc_host *h = host_of(pvUser);
    (void)pIoCtx, (void)pvBuffer, (void)cbBuffer;
    if (h != NULL)
        TRAP(h, "pfnIoCtxCopyFrom");
    return 0;
}

static size_t trap_set(void *pvUser, PVDIOCTX pIoCtx, int ch, size_t cbSet)
{
    vdc_host *h = host_of(pvUser);
    (void)pIoCtx, (void)ch, (void)cbSet;
    if (h != NULL)
        TRAP(h, "pfnIoCtxSet");
    return 0;
}

static size_t trap_seg_array_create(void *pvUser, PVDIOCTX pIoCtx, PRTSGSEG paSeg, unsigned *pcSeg,
                                    size_t cbData)
{
    vdc_host *h = host_of(pvUser);
    (void)pIoCtx, (void)paSeg, (void)pcSeg, (void)cbData;
    if (h != NULL)
        TRAP(h, "pfnIoCtxSegArrayCreate");
    return 0;
}

static void trap_completed(void *pvUser, PVDIOCTX pIoCtx, int rcReq, size_t cbCompleted)
{
    vdc_host *h = host_of(pvUser);
    (void)pIoCtx, (void)rcReq, (void)cbCompleted;
    if (h != NULL)
        TRAP(h, "pfnIoCtxCompleted");
}

static bool trap_is_synchronous(void *pvUser, PVDIOCTX pIoCtx)
{
    vdc_host *h = host_of(pvUser);
    (void)pIoCtx;
    if (h != NULL)
        TRAP(h, "pfnIoCtxIsSynchronous");
    return false;
}

static bool trap_is_zero(void *pvUser, PVDIOCTX pIoCtx, size_t cbCheck, bool fAdvance)
{
    vdc_host *h = host_of(pvUser);
    (void)pIoCtx, (void)cbCheck, (void)fAdvance;
    if (h != NULL)
        TRAP(h, "pfnIoCtxIsZero");
    return false;
}

static size_t trap_get_data_unit_size(void *pvUser, PVDIOCTX pIoCtx)
{
    vdc_host *h = host_of(pvUser);
    (void)pIoCtx;
    if (h != NULL)
        TRAP(h, "pfnIoCtxGetDataUnitSize");
    return 0;
}

/* --- ERROR and PROGRESS --------------------------------------------------- */

static void if_error(void *pvUser, int rc, const char *pszFile, unsigned iLine, const char *pszFunction,
                     const char *pszFormat, va_list va)
{
    vdc_host *h = host_of(pvUser);
    char prefix[512];
    const char *name = vdc_status_name(rc);
    if (h == NULL)
        return;
    h->stats.errors_reported++;
    snprintf(prefix, sizeof prefix, "error: rc=%d (%s) at %s:%u %s: ", rc, name != NULL ? name : "?",
             pszFile != NULL ? pszFile : "?", iLine, pszFunction != NULL ? pszFunction : "?");
    if (pszFormat == NULL) {
        misuse(h, "pfnError: NULL format");
        log_append(h, prefix, "(no message)");
        return;
    }
    log_vformat(h, prefix, pszFormat, va);
}

static int if_message(void *pvUser, const char *pszFormat, va_list va)
{
    vdc_host *h = host_of(pvUser);
    if (h == NULL)
        return VERR_INVALID_POINTER;
    h->stats.messages++;
    if (pszFormat == NULL) {
        misuse(h, "pfnMessage: NULL format");
        return VERR_INVALID_POINTER;
    }
    log_vformat(h, "message: ", pszFormat, va);
    return VINF_SUCCESS;
}

static int if_progress(void *pvUser, unsigned uPercentage)
{
    vdc_host *h = host_of(pvUser);
    if (h == NULL)
        return VERR_INVALID_POINTER;
    h->stats.progress_calls++;
    if (uPercentage > 100) {
        misuse(h, "pfnProgress: %u%% is over 100", uPercentage);
        return VERR_INVALID_PARAMETER;
    }
    h->stats.last_progress = uPercentage;
    return VINF_SUCCESS;
}

/* --- CONFIG ----------------------------------------------------------------- */

static cfg_entry *cfg_find(const vdc_host *h, const char *key)
{
    for (size_t i = 0; i < h->ncfg; i++)
        if (strcmp(h->cfg[i].key, key) == 0)
            return &h->cfg[i];
    return NULL;
}

/* Sets key to value: replaces an existing key; adds a new one only when
 * create.  VINF_SUCCESS, VERR_CFGM_VALUE_NOT_FOUND or VERR_NO_MEMORY. */
static int cfg_set(vdc_host *h, const char *key, const char *value, bool create)
{
    cfg_entry *e = cfg_find(h, key);
    char *v;
    if (e == NULL && !create)
        return VERR_CFGM_VALUE_NOT_FOUND;
    v = strdup(value);
    if (v == NULL)
        return VERR_NO_MEMORY;
    if (e != NULL) {
        free(e->value);
        e->value = v;
        return VINF_SUCCESS;
    }
    if (h->ncfg == h->capcfg) {
        size_t cap = h->capcfg ? h->capcfg * 2 : 8;
        cfg_entry *grown = realloc(h->cfg, cap * sizeof *grown);
        if (grown == NULL)
            goto out_free_value;
        h->cfg = grown;
        h->capcfg = cap;
    }
    e = &h->cfg[h->ncfg];
    e->key = strdup(key);
    if (e->key == NULL)
        goto out_free_value;
    e->value = v;
    h->ncfg++;
    return VINF_SUCCESS;

out_free_value:
    free(v);
    return VERR_NO_MEMORY;
}

static bool cfg_are_keys_valid(void *pvUser, const char *pszzValid)
{
    vdc_host *h = host_of(pvUser);
    if (h == NULL)
        return false;
    if (pszzValid == NULL) {
        misuse(h, "pfnAreKeysValid: NULL list");
        return false;
    }
    for (size_t i = 0; i < h->ncfg; i++) {
        bool found = false;
        for (const char *p = pszzValid; *p != '\0' && !found; p += strlen(p) + 1)
            found = strcmp(p, h->cfg[i].key) == 0;
        if (!found)
            return false;
    }
    return true;
}

static int cfg_query_size(void *pvUser, const char *pszName, size_t *pcb)
{
    vdc_host *h = host_of(pvUser);
    if (h == NULL)
        return VERR_INVALID_POINTER;
    if (pszName == NULL || pcb == NULL) {
        misuse(h, "pfnQuerySize: NULL %s", pszName == NULL ? "name" : "output pointer");
        return VERR_INVALID_POINTER;
    }
    cfg_entry *e = cfg_find(h, pszName);
    if (e == NULL)
        return VERR_CFGM_VALUE_NOT_FOUND;
    *pcb = strlen(e->value) + 1;
    return VINF_SUCCESS;
}

static int cfg_query(void *pvUser, const char *pszName, char *pszString, size_t cchString)
{
    vdc_host *h = host_of(pvUser);
    if (h == NULL)
        return VERR_INVALID_POINTER;
    if (pszName == NULL || (pszString == NULL && cchString != 0)) {
        misuse(h, "pfnQuery: NULL %s", pszName == NULL ? "name" : "buffer");
        return VERR_INVALID_POINTER;
    }
    cfg_entry *e = cfg_find(h, pszName);
    if (e == NULL)
        return VERR_CFGM_VALUE_NOT_FOUND;
    size_t cb = strlen(e->value) + 1;
    if (cb > cchString)
        return VERR_CFGM_NOT_ENOUGH_SPACE;
    memcpy(pszString, e->value, cb);
    return VINF_SUCCESS;
}

/* The value's bytes without the NUL; any room beyond them is zeroed, so a
 * buffer sized by pfnQuerySize comes back NUL-terminated. */
static int cfg_query_bytes(void *pvUser, const char *pszName, void *ppvData, size_t cbData)
{
    vdc_host *h = host_of(pvUser);
    if (h == NULL)
        return VERR_INVALID_POINTER;
    if (pszName == NULL || (ppvData == NULL && cbData != 0)) {
        misuse(h, "pfnQueryBytes: NULL %s", pszName == NULL ? "name" : "buffer");
        return VERR_INVALID_POINTER;
    }
    cfg_entry *e = cfg_find(h, pszName);
    if (e == NULL)
        return VERR_CFGM_VALUE_NOT_FOUND;
    size_t cb = strlen(e->value);
    if (cb > cbData)
        return VERR_CFGM_NOT_ENOUGH_SPACE;
    memcpy(ppvData, e->value, cb);
    memset((char *)ppvData + cb, 0, cbData - cb);
    return VINF_SUCCESS;
}

static int cfg_update(void *pvUser, bool fCreate, const char *pszName, const char *pszValue)
{
    vdc_host *h = host_of(pvUser);
    if (h == NULL)
        return VERR_INVALID_POINTER;
    if (pszName == NULL || pszValue == NULL) {
        misuse(h, "pfnUpdate: NULL %s", pszName == NULL ? "name" : "value");
        return VERR_INVALID_POINTER;
    }
    return cfg_set(h, pszName, pszValue, fCreate);
}

/* --- the host ----------------------------------------------------------- */

static void core_init(VDINTERFACE *core, const char *name, VDINTERFACETYPE type, size_t cb, vdc_host *h,
                      VDINTERFACE *next)
{
    core->u32Magic = VDINTERFACE_MAGIC;
    core->pszInterfaceName = name;
    core->pNext = next;
    core->enmInterface = type;
    core->cbSize = cb;
    core->pvUser = h;
}

vdc_host *vdc_host_new(vdc_fs *fs)
{
    if (fs == NULL)
        return NULL;
    vdc_host *h = calloc(1, sizeof *h);
    if (h == NULL)
        return NULL;
    h->magic = HOST_MAGIC;
    h->fs = fs;
    h->data_unit = 512;

    core_init(&h->if_config.Core, "VD_CONFIG", VDINTERFACETYPE_CONFIG, sizeof h->if_config, h, NULL);
    h->if_config.pfnAreKeysValid = cfg_are_keys_valid;
    h->if_config.pfnQuerySize = cfg_query_size;
    h->if_config.pfnQuery = cfg_query;
    h->if_config.pfnQueryBytes = cfg_query_bytes;
    h->if_config.pfnUpdate = cfg_update;

    core_init(&h->if_error.Core, "VD_ERROR", VDINTERFACETYPE_ERROR, sizeof h->if_error, h, &h->if_config.Core);
    h->if_error.pfnError = if_error;
    h->if_error.pfnMessage = if_message;

    core_init(&h->if_progress.Core, "VD_PROGRESS", VDINTERFACETYPE_PROGRESS, sizeof h->if_progress, h, NULL);
    h->if_progress.pfnProgress = if_progress;

    core_init(&h->if_ioint.Core, "VD_IOINT", VDINTERFACETYPE_IOINT, sizeof h->if_ioint, h, &h->if_config.Core);
    h->if_ioint.pfnOpen = io_open;
    h->if_ioint.pfnClose = io_close;
    h->if_ioint.pfnDelete = io_delete;
    h->if_ioint.pfnMove = io_move;
    h->if_ioint.pfnGetFreeSpace = io_get_free_space;
    h->if_ioint.pfnGetModificationTime = io_get_modification_time;
    h->if_ioint.pfnGetSize = io_get_size;
    h->if_ioint.pfnSetSize = io_set_size;
    h->if_ioint.pfnSetAllocationSize = io_set_allocation_size;
    h->if_ioint.pfnReadUser = io_read_user;
    h->if_ioint.pfnWriteUser = io_write_user;
    h->if_ioint.pfnReadMeta = io_read_meta;
    h->if_ioint.pfnWriteMeta = io_write_meta;
    h->if_ioint.pfnMetaXferRelease = io_meta_xfer_release;
    h->if_ioint.pfnFlush = io_flush;
    h->if_ioint.pfnIoCtxCopyTo = io_ctx_copy_to;
    h->if_ioint.pfnIoCtxCopyFrom = io_ctx_copy_from;
    h->if_ioint.pfnIoCtxSet = io_ctx_set;
    h->if_ioint.pfnIoCtxSegArrayCreate = io_ctx_seg_array_create;
    h->if_ioint.pfnIoCtxCompleted = io_ctx_completed;
    h->if_ioint.pfnIoCtxIsSynchronous = io_ctx_is_synchronous;
    h->if_ioint.pfnIoCtxIsZero = io_ctx_is_zero;
    h->if_ioint.pfnIoCtxGetDataUnitSize = io_ctx_get_data_unit_size;

    /* The probe list: the 13 members VD fills are the real ones. */
    h->if_probe = h->if_ioint;
    h->if_probe.pfnSetAllocationSize = trap_set_allocation_size;
    h->if_probe.pfnMetaXferRelease = trap_meta_xfer_release;
    h->if_probe.pfnIoCtxCopyTo = trap_copy_to;
    h->if_probe.pfnIoCtxCopyFrom = trap_copy_from;
    h->if_probe.pfnIoCtxSet = trap_set;
    h->if_probe.pfnIoCtxSegArrayCreate = trap_seg_array_create;
    h->if_probe.pfnIoCtxCompleted = trap_completed;
    h->if_probe.pfnIoCtxIsSynchronous = trap_is_synchronous;
    h->if_probe.pfnIoCtxIsZero = trap_is_zero;
    h->if_probe.pfnIoCtxGetDataUnitSize = trap_get_data_unit_size;
    return h;
}

void vdc_host_free(vdc_host *host)
{
    if (host == NULL)
        return;
    while (host->nopen > 0) {
        struct VDIOSTORAGE *s = host->open[host->nopen - 1];
        misuse(host, "storage '%s' still open when the host is freed", s->name);
        io_close(host, s);
    }
    for (unsigned i = 0; i < host->nclosed; i++)
        free(host->closed[(host->closed_head + i) % HOST_CLOSED_KEPT]);
    for (size_t i = 0; i < host->ncfg; i++) {
        free(host->cfg[i].key);
        free(host->cfg[i].value);
    }
    free(host->cfg);
    free(host->open);
    free(host->log);
    host->magic = 0;
    free(host);
}

PVDINTERFACE vdc_host_disk_ifs(vdc_host *host)
{
    return host->ifs_mode == VDC_HOST_IFS_BARE ? NULL : &host->if_error.Core;
}

PVDINTERFACE vdc_host_image_ifs(vdc_host *host)
{
    return &host->if_ioint.Core;
}

PVDINTERFACE vdc_host_op_ifs(vdc_host *host)
{
    return host->ifs_mode == VDC_HOST_IFS_BARE ? NULL : &host->if_progress.Core;
}

void vdc_host_set_ifs(vdc_host *host, vdc_host_ifs_mode mode)
{
    VDINTERFACE *cfg = mode == VDC_HOST_IFS_BARE ? NULL : &host->if_config.Core;
    host->ifs_mode = mode;
    host->if_ioint.Core.pNext = cfg;
    host->if_probe.Core.pNext = cfg;
    host->if_error.pfnMessage = mode == VDC_HOST_IFS_NOMESSAGE ? NULL : if_message;
}

PVDINTERFACE vdc_host_probe_ifs(vdc_host *host)
{
    return &host->if_probe.Core;
}

PVDINTERFACEIOINT vdc_host_ioint(vdc_host *host)
{
    return &host->if_ioint;
}

int vdc_host_config_set(vdc_host *host, const char *key, const char *value)
{
    if (key == NULL || value == NULL)
        return VERR_INVALID_PARAMETER;
    return cfg_set(host, key, value, true);
}

void vdc_host_set_data_unit(vdc_host *host, size_t cb)
{
    host->data_unit = cb;
}

void vdc_host_ioctx_init(vdc_host *host, struct VDIOCTX *ctx, const RTSGSEG *segs, unsigned nsegs)
{
    vdc_ioctx_init(ctx, segs, nsegs);
    ctx->data_unit = host->data_unit;
}

const vdc_host_stats *vdc_host_get_stats(const vdc_host *host)
{
    return &host->stats;
}

void vdc_host_set_tag(vdc_host *host, unsigned tag)
{
    host->tag = tag;
}

unsigned vdc_host_open_tags(const vdc_host *host, unsigned *tags, unsigned max)
{
    for (size_t i = 0; i < host->nopen && i < max; i++)
        tags[i] = host->open[i]->tag;
    return (unsigned)host->nopen;
}

vdc_fs *vdc_host_fs(vdc_host *host)
{
    return host->fs;
}
