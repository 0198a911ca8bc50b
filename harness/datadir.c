/*
 * harness/datadir.c - finds vdcc's data directory (datadir.h).  Reads only
 * the environment and the file system; nothing is cached, so every call
 * sees VDCC_DATADIR as it is now.
 */
#include "datadir.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define MAX_CANDIDATES 2
#define SOURCE_LEVELS  3   /* build/vdcc, build/asan/vdcc, deeper fuzz builds */

typedef struct candidates {
    char dir[MAX_CANDIDATES][PATH_MAX];
    unsigned n;
} candidates;

static bool exists(const char *dir, const char *rel)
{
    char p[PATH_MAX];
    struct stat sb;
    int n = snprintf(p, sizeof p, "%s/%s", dir, rel);
    return n > 0 && (size_t)n < sizeof p && stat(p, &sb) == 0;
}

static bool same_dir(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void add(candidates *c, const char *dir)
{
    if (c->n < MAX_CANDIDATES && strlen(dir) < PATH_MAX) {
        strcpy(c->dir[c->n], dir);
        c->n++;
    }
}

/* The installed data directory and the source tree around the executable,
 * in that order (datadir.h); none when /proc/self/exe cannot be read. */
static void from_exe(candidates *c)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash == NULL)
        return;
    *slash = '\0';
    char share[PATH_MAX];
    int m = snprintf(share, sizeof share, "%s/../share/vdcc", exe);
    if (m > 0 && (size_t)m < sizeof share)
        add(c, share);
    for (unsigned level = 0; level < SOURCE_LEVELS; level++) {
        slash = strrchr(exe, '/');
        if (slash == NULL || slash == exe)
            return;
        *slash = '\0';
        if (exists(exe, "build.ninja") && exists(exe, "spec/vdcache.h")) {
            add(c, exe);
            return;
        }
    }
}

bool vdc_datadir_find(const char *cmd, const char *rel, const char *what, char *buf, size_t cb)
{
    candidates c = { .n = 0 };
    const char *env = getenv("VDCC_DATADIR");
    if (env != NULL && env[0] != '\0')
        add(&c, env);
    else
        from_exe(&c);
    for (unsigned i = 0; i < c.n; i++) {
        if (!exists(c.dir[i], rel))
            continue;
        char real[PATH_MAX];
        int n;
        if (same_dir(c.dir[i], "."))
            n = snprintf(buf, cb, "%s", rel);
        else
            n = snprintf(buf, cb, "%s/%s", realpath(c.dir[i], real) != NULL ? real : c.dir[i], rel);
        if (n > 0 && (size_t)n < cb)
            return true;
        vdc_error(cmd, "the path of %s (%s) is too long", rel, what);
        return false;
    }
    char searched[MAX_CANDIDATES * (PATH_MAX + 2) + 64] = "";
    for (unsigned i = 0; i < c.n; i++) {
        strcat(searched, i > 0 ? ", " : "");
        strcat(searched, c.dir[i]);
    }
    vdc_error(cmd, "cannot find %s (%s); searched %s%s; set VDCC_DATADIR to the directory holding corpus/ and spec/ "
              "(<prefix>/share/vdcc once installed)",
              rel, what, env != NULL && env[0] != '\0' ? "VDCC_DATADIR=" : "", c.n > 0 ? searched : "nothing (no /proc/self/exe)");
    return false;
}
