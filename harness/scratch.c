/*
 * harness/scratch.c - mkdtemp-based scratch directories and their removal.
 * Contract and status codes: scratch.h.
 */
#include "scratch.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../spec/vdcache.h"

int vdc_scratch_make(const char *parent, const char *prefix, char *buf, size_t cb)
{
    if (parent == NULL) {
        parent = getenv("TMPDIR");
        if (parent == NULL || *parent == '\0')
            parent = "/tmp";
    }
    int n = snprintf(buf, cb, "%s/%s.XXXXXX", parent, prefix != NULL ? prefix : "vdcc");
    if (n < 0 || (size_t)n >= cb)
        return VERR_BUFFER_OVERFLOW;
    if (mkdtemp(buf) == NULL)
        return errno == ENOENT || errno == ENOTDIR ? VERR_PATH_NOT_FOUND : VERR_FILE_IO_ERROR;
    return VINF_SUCCESS;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    /* Keep going on errors; the caller learns of them from the final rmdir. */
    remove(path);
    return 0;
}

int vdc_scratch_remove(const char *path)
{
    if (path == NULL || *path == '\0')
        return VERR_FILE_IO_ERROR;
    nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    return access(path, F_OK) == 0 ? VERR_FILE_IO_ERROR : VINF_SUCCESS;
}
