/*
 * harness/collect.c - VD's plugin registration callbacks, collecting cache
 * backends; and the trace files of a command line.  Contract and statuses:
 * collect.h.  No state but the caller's vdc_plugin_collect or
 * vdc_trace_list.
 */
#include "collect.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "peek.h"

static int reg_image(void *pvUser, const VDIMAGEBACKEND *pBackend)
{
    vdc_plugin_collect *c = pvUser;
    (void)pBackend;
    c->images++;
    return VINF_SUCCESS;
}

static int reg_filter(void *pvUser, const VDFILTERBACKEND *pBackend)
{
    vdc_plugin_collect *c = pvUser;
    (void)pBackend;
    c->filters++;
    return VINF_SUCCESS;
}

static int reg_cache(void *pvUser, const VDCACHEBACKEND *pBackend)
{
    vdc_plugin_collect *c = pvUser;
    if (pBackend == NULL) {
        c->dropped++;
        return VERR_INVALID_POINTER;
    }
    uint32_t version;
    vdc_peek pk;
    bool readable = vdc_peek_open(&pk);
    readable = readable && vdc_peek_bytes(&pk, &pBackend->u32Version, &version, sizeof version);
    vdc_peek_close(&pk);
    if (!readable) {
        c->dropped++;
        return VERR_INVALID_POINTER;
    }
    if (!VD_VERSION_ARE_COMPATIBLE(VD_CACHEBACKEND_VERSION, version)) {
        c->ignored++;
        c->ignored_version = version;
        return VERR_IGNORED;
    }
    /* As VD: success even when the table is full. */
    if (c->n < VDC_PLUGIN_MAX_CACHE)
        c->be[c->n++] = pBackend;
    else
        c->dropped++;
    return VINF_SUCCESS;
}

int vdc_plugin_collect_run(PFNVDPLUGINLOAD pfnLoad, vdc_plugin_collect *c)
{
    memset(c, 0, sizeof *c);
    VDBACKENDREGISTER reg = {
        .u32Version = VD_BACKENDREG_CB_VERSION,
        .pfnRegisterImage = reg_image,
        .pfnRegisterCache = reg_cache,
        .pfnRegisterFilter = reg_filter,
    };
    return pfnLoad(c, &reg);
}


/* ---- trace files --------------------------------------------------------- */

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
    memset(l, 0, sizeof *l);
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

bool vdc_trace_list_add(vdc_trace_list *l, const char *path, char *err, size_t cb)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, cb, "%s: %s", path, strerror(errno));
        return false;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (list_add(l, path, strlen(path)))
            return true;
        snprintf(err, cb, "%s: too many traces or out of memory", path);
        return false;
    }
    DIR *d = opendir(path);
    if (d == NULL) {
        snprintf(err, cb, "%s: %s", path, strerror(errno));
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
            snprintf(err, cb, "%s: path too long, too many traces or out of memory", path);
    }
    closedir(d);
    if (ok && l->n == first) {
        snprintf(err, cb, "%s: no traces found (directories are scanned for *.trace)", path);
        return false;
    }
    if (ok)
        qsort(l->v + first, l->n - first, sizeof *l->v, cmp_str);
    return ok;
}
