/*
 * fuzz/fuzzlib.c - the helpers every fuzz target shares (fuzz/fuzz.h).
 *
 * Contract: fuzz.h.  The checks here are the shape rules of
 * spec/contract.md (READ-1, READ-2, READ-4, WRITE-1, HOST-1, HOST-3,
 * INFO-2) that hold for any image, hostile or not; the targets add the rules
 * that depend on what they know about the data.  Statuses returned are the
 * backend's own (fuzz_read, fuzz_write) or the fs's (fuzz_put_image:
 * VINF_SUCCESS, VERR_NO_MEMORY, VERR_DISK_FULL, VERR_INVALID_PARAMETER).
 */
#include "fuzz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../harness/host/vd.h"

/* The memory fs of the last env finished, emptied by vdc_fs_mem_clear (no
 * files, clock restarted: as new): the next env takes it rather than
 * building one, so the pages the last input freed serve the next. */
static vdc_fs *spare_fs;

bool fuzz_env_init(fuzz_env *env, const VDCACHEBACKEND *be)
{
    memset(env, 0, sizeof(*env));
    env->be = be;
    env->fs = spare_fs;
    spare_fs = NULL;
    if (env->fs == NULL)
        env->fs = vdc_fs_mem_new(FUZZ_FS_MAX_BYTES, FUZZ_FS_MAX_FILE_SIZE);
    if (env->fs == NULL)
        return false;
    env->host = vdc_host_new(env->fs);
    if (env->host == NULL)
        goto out_destroy_fs;
    return true;

out_destroy_fs:
    vdc_fs_destroy(env->fs);
    env->fs = NULL;
    return false;
}

void fuzz_env_fini(fuzz_env *env)
{
    if (env->host != NULL)
        vdc_host_free(env->host);
    if (env->fs != NULL && spare_fs == NULL && RT_SUCCESS(vdc_fs_mem_clear(env->fs)))
        spare_fs = env->fs;
    else
        vdc_fs_destroy(env->fs);
    memset(env, 0, sizeof(*env));
}

void fuzz_fail(const fuzz_env *env, const char *clause, const char *fmt, ...)
{
    va_list va;
    fprintf(stderr, "fuzz: contract violation [%s]: ", clause);
    va_start(va, fmt);
    vfprintf(stderr, fmt, va);
    va_end(va);
    fputc('\n', stderr);
    if (env != NULL && env->host != NULL) {
        const char *log = vdc_host_log(env->host);
        size_t len = strlen(log);
        /* The tail is what led up to the failure; 4 KiB of it is plenty. */
        if (len > 4096)
            log += len - 4096;
        if (*log != '\0')
            fprintf(stderr, "fuzz: host log (tail):\n%s\n", log);
    }
    fflush(stderr);
    abort();
}

void fuzz_check_misuse(const fuzz_env *env, const char *when)
{
    const vdc_host_stats *st = vdc_host_get_stats(env->host);
    if (st->misuse != 0)
        fuzz_fail(env, "HOST-1", "%s: the backend misused the host %llu time(s)", when,
                  (unsigned long long)st->misuse);
}

void fuzz_check_no_storage(const fuzz_env *env, const char *when)
{
    const vdc_host_stats *st = vdc_host_get_stats(env->host);
    if (st->open_storages != 0)
        fuzz_fail(env, "HOST-3", "%s: %u storage handle(s) still open", when, st->open_storages);
}

bool fuzz_is_io_error(int rc)
{
    switch (rc) {
    case VERR_FILE_IO_ERROR:
    case VERR_READ_ERROR:
    case VERR_WRITE_ERROR:
    case VERR_DISK_IO_ERROR:
    case VERR_DISK_FULL:
        return true;
    default:
        return false;
    }
}

/* Aborts with the clause the driver found broken in io (fuzz.h). */
static void fuzz_judge(const fuzz_env *env, const vdc_vd_io *io)
{
    const char *what = io->write ? "write" : "read";
    const char *kind = io->write ? "" : vdc_vd_is_hit(io) ? " hit" : " miss";
    unsigned long long off = io->off;
    size_t n = io->count == VDC_VD_SENTINEL ? 0 : io->count;

    switch (io->rule) {
    case VDC_VD_RULE_NONE:
        return;
    case VDC_VD_RULE_ASYNC:
        fuzz_fail(env, io->clause, "%s(%llu, %zu) went asynchronous on a synchronous context", what, off, io->asked);
    case VDC_VD_RULE_MISS_MOVED:
        fuzz_fail(env, io->clause, "%s(%llu, %zu) miss moved %zu bytes", what, off, io->asked, io->moved);
    case VDC_VD_RULE_MOVED:
        fuzz_fail(env, io->clause, "%s(%llu, %zu)%s reports %zu bytes but %s %zu", what, off, io->asked, kind, n,
                  io->write ? "took" : "moved", io->moved);
    default:
        fuzz_fail(env, io->clause, "%s(%llu, %zu)%s reports %zu bytes%s", what, off, io->asked, kind, n,
                  io->write ? " processed" : "");
    }
}

fuzz_io fuzz_read(const fuzz_env *env, void *bd, uint64_t off, void *buf, size_t cb)
{
    vdc_vd vd = { env->be, bd, NULL, NULL, NULL, NULL };
    vdc_vd_io r = vdc_vd_read(&vd, off, buf, cb);
    fuzz_io io = { r.rc, r.count == VDC_VD_SENTINEL ? 0 : r.count };

    fuzz_judge(env, &r);
    return io;
}

fuzz_io fuzz_write(const fuzz_env *env, void *bd, uint64_t off, const void *buf, size_t cb)
{
    vdc_vd vd = { env->be, bd, NULL, NULL, NULL, NULL };
    vdc_vd_io r = vdc_vd_write(&vd, off, buf, cb);
    fuzz_io io = { r.rc, r.count == VDC_VD_SENTINEL ? 0 : r.count };

    fuzz_judge(env, &r);
    return io;
}

/* Writes the sparse encoding (fuzz.h) of data into f; literal records are
 * written where they fall and zero runs only move the position. */
static int put_sparse(vdc_file *f, const uint8_t *p, size_t size)
{
    const uint8_t *end = p + size;
    uint64_t pos = 0;
    int rc;

    while (p < end && pos < FUZZ_SPARSE_MAX) {
        uint8_t tag = *p++;
        size_t avail = (size_t)(end - p);
        if ((tag & 1) == 0) {
            size_t n;
            if (avail < 2) {
                n = avail;
                p += avail;
                continue;
            }
            n = fuzz_le16(p);
            p += 2;
            avail -= 2;
            if (n > avail)
                n = avail;
            if (n > FUZZ_SPARSE_MAX - pos)
                n = (size_t)(FUZZ_SPARSE_MAX - pos);
            if (n != 0) {
                rc = f->fs->ops->write(f, pos, p, n);
                if (RT_FAILURE(rc))
                    return rc;
            }
            p += n;
            pos += n;
        } else {
            uint8_t le[4] = { 0, 0, 0, 0 };
            uint64_t n;
            memcpy(le, p, avail < 4 ? avail : 4);
            p += avail < 4 ? avail : 4;
            n = fuzz_le32(le);
            pos = n > FUZZ_SPARSE_MAX - pos ? FUZZ_SPARSE_MAX : pos + n;
        }
    }
    return f->fs->ops->set_size(f, pos);
}

int fuzz_put_image(const fuzz_env *env, const char *name, const uint8_t *data, size_t size)
{
    vdc_file *f;
    int rc, rc2;

    if (size < 4 || memcmp(data, FUZZ_SPARSE_MAGIC, 4) != 0)
        return vdc_fs_mem_put(env->fs, name, data, size);
    rc = env->fs->ops->open(env->fs, name,
                            RTFILE_O_READWRITE | RTFILE_O_CREATE_REPLACE | RTFILE_O_DENY_NONE, &f);
    if (RT_FAILURE(rc))
        return rc;
    rc = put_sparse(f, data + 4, size - 4);
    rc2 = f->fs->ops->close(f);
    return RT_FAILURE(rc) ? rc : rc2;
}

/* Length of the zero run starting at img[i] (0 when img[i] is not zero). */
static size_t zero_run(const uint8_t *img, size_t n, size_t i)
{
    size_t j = i;
    while (j < n && img[j] == 0)
        j++;
    return j - i;
}

uint8_t *fuzz_sparse_encode(const uint8_t *img, size_t n, size_t *out_len)
{
    /* Worst case: every literal record costs 3 bytes per 65535 of data. */
    size_t cap = 4 + n + 3 * (n / 65535 + 1) + 8, len = 0, i = 0;
    uint8_t *out = malloc(cap);

    if (out == NULL)
        return NULL;
    memcpy(out, FUZZ_SPARSE_MAGIC, 4);
    len = 4;
    while (i < n) {
        size_t z = zero_run(img, n, i);
        if (z >= FUZZ_SPARSE_MIN_RUN || (z > 0 && i + z == n)) {
            /* Zero runs of at most 4 GiB - 1 each. */
            uint32_t cnt = z > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)z;
            out[len++] = 1;
            for (unsigned k = 0; k < 4; k++)
                out[len++] = (uint8_t)(cnt >> (8 * k));
            i += cnt;
        } else {
            /* A literal up to the next long zero run (or 65535 bytes). */
            size_t start = i, lit;
            while (i < n && i - start < 65535) {
                z = zero_run(img, n, i);
                if (z >= FUZZ_SPARSE_MIN_RUN)
                    break;
                i += z > 0 ? z : 1;
            }
            if (i - start > 65535)
                i = start + 65535;
            lit = i - start;
            out[len++] = 0;
            out[len++] = (uint8_t)lit;
            out[len++] = (uint8_t)(lit >> 8);
            memcpy(out + len, img + start, lit);
            len += lit;
        }
    }
    *out_len = len;
    return out;
}

bool fuzz_file_size(const fuzz_env *env, const char *name, uint64_t *pcb)
{
    vdc_file *f;
    int rc = env->fs->ops->open(env->fs, name, RTFILE_O_READ | RTFILE_O_OPEN | RTFILE_O_DENY_NONE, &f);
    if (RT_FAILURE(rc))
        return false;
    rc = f->fs->ops->get_size(f, pcb);
    f->fs->ops->close(f);
    return RT_SUCCESS(rc);
}

bool fuzz_file_stamp(const fuzz_env *env, const char *name, int64_t *stamp)
{
    return RT_SUCCESS(env->fs->ops->mtime(env->fs, name, stamp));
}

bool fuzz_config_if_known(const fuzz_env *env, const char *key, const char *value)
{
    const VDCONFIGINFO *ci = env->be->paConfigInfo;
    for (unsigned i = 0; ci != NULL && ci[i].pszKey != NULL && i < 256; i++)
        if (strcmp(ci[i].pszKey, key) == 0)
            return RT_SUCCESS(vdc_host_config_set(env->host, key, value));
    return false;
}

void fuzz_small_caches(const fuzz_env *env)
{
    (void)fuzz_config_if_known(env, "NodeCacheSize", "32");
    (void)fuzz_config_if_known(env, "BitmapCacheSize", "4");
}

void fuzz_call_getters(const fuzz_env *env, void *bd, unsigned expect_flags, bool dump)
{
    const VDCACHEBACKEND *be = env->be;
    char comment[256];
    RTUUID uuid;
    unsigned flags;

    if (be->pfnGetVersion != NULL)
        (void)be->pfnGetVersion(bd);
    if (be->pfnGetSize != NULL)
        (void)be->pfnGetSize(bd);
    if (be->pfnGetFileSize != NULL)
        (void)be->pfnGetFileSize(bd);
    if (be->pfnGetImageFlags != NULL)
        (void)be->pfnGetImageFlags(bd);
    if (be->pfnGetOpenFlags != NULL) {
        flags = be->pfnGetOpenFlags(bd);
        if (flags != expect_flags)
            fuzz_fail(env, "INFO-2", "GetOpenFlags returned %#x, the instance has %#x", flags,
                      expect_flags);
    }
    if (be->pfnGetComment != NULL) {
        int rc;
        /* Filled first, so a backend that claims success without writing
         * is caught here rather than reported as uninitialised memory. */
        memset(comment, 0x7f, sizeof(comment));
        rc = be->pfnGetComment(bd, comment, sizeof(comment));
        if (RT_SUCCESS(rc) && memchr(comment, '\0', sizeof(comment)) == NULL)
            fuzz_fail(env, "INFO-4", "GetComment succeeded without terminating the string");
        /* A one-byte buffer holds only the empty comment. */
        comment[0] = 0x7f;
        rc = be->pfnGetComment(bd, comment, 1);
        if (RT_SUCCESS(rc) && comment[0] != '\0')
            fuzz_fail(env, "INFO-4", "GetComment into 1 byte succeeded with a non-empty string");
    }
    if (be->pfnGetUuid != NULL)
        (void)be->pfnGetUuid(bd, &uuid);
    if (be->pfnGetModificationUuid != NULL)
        (void)be->pfnGetModificationUuid(bd, &uuid);
    if (dump && be->pfnDump != NULL)
        be->pfnDump(bd);
}
