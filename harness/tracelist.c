/*
 * harness/tracelist.c - the traces a command line names.  Contract:
 * tracelist.h.  No status codes: true, or false after a message.
 */
#include "tracelist.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static bool list_add(vdc_trace_list *l, const char *s, size_t len)
{
    if (l->n == VDC_TRACE_LIST_MAX)
        return false;
    if (l->n == l->cap) {
        unsigned cap = l->cap ? l->cap * 2 : 64;
        char **v = realloc(l->v, (size_t)cap * sizeof *v);
        if (v == NULL)
            return false;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n] = strndup(s, len);
    if (l->v[l->n] == NULL)
        return false;
    l->n++;
    return true;
}

void vdc_trace_list_free(vdc_trace_list *l)
{
    for (unsigned i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_suffix(const char *s, const char *suf)
{
    size_t ls = strlen(s), lf = strlen(suf);
    return ls > lf && strcmp(s + ls - lf, suf) == 0;
}

bool vdc_trace_list_collect(vdc_trace_list *l, const char *path, const char *cmd)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        vdc_error(cmd, "%s: %s", path, strerror(errno));
        return false;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (list_add(l, path, strlen(path)))
            return true;
        vdc_error(cmd, "too many traces or out of memory");
        return false;
    }
    DIR *d = opendir(path);
    if (d == NULL) {
        vdc_error(cmd, "%s: %s", path, strerror(errno));
        return false;
    }
    unsigned first = l->n;
    bool ok = true;
    size_t plen = strlen(path);
    while (plen > 1 && path[plen - 1] == '/')
        plen--;
    for (struct dirent *e; ok && (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.' || !has_suffix(e->d_name, ".trace"))
            continue;
        char full[4096];
        int n = snprintf(full, sizeof full, "%.*s/%s", (int)plen, path, e->d_name);
        ok = n > 0 && (size_t)n < sizeof full && list_add(l, full, (size_t)n);
        if (!ok)
            vdc_error(cmd, "%s: path too long, too many traces or out of memory", path);
    }
    closedir(d);
    if (ok && l->n > first)
        qsort(l->v + first, l->n - first, sizeof *l->v, cmp_str);
    return ok;
}
