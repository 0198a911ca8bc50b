/*
 * harness/backend.c - loads the backend a SPEC names: built-in, plugin, or
 * plugin symbol.  Contract and status codes: backend.h; plugins are called
 * through collect.h, whose callbacks behave as VD's do (vbox-vd-facts.md
 * section 6).  The only state is the caller's vdc_backend.
 */
#include "backend.h"

#include <ctype.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "builtin.h"
#include "host/status.h"
#include "peek.h"

static void errf(char *err, size_t cb, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t cb, const char *fmt, ...)
{
    if (err == NULL || cb == 0)
        return;
    va_list va;
    va_start(va, fmt);
    vsnprintf(err, cb, fmt, va);
    va_end(va);
}

/* Appends to err (which holds a string already). */
static void errcat(char *err, size_t cb, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void errcat(char *err, size_t cb, const char *fmt, ...)
{
    if (err == NULL || cb == 0)
        return;
    size_t n = strnlen(err, cb);
    if (n + 1 >= cb)
        return;
    va_list va;
    va_start(va, fmt);
    vsnprintf(err + n, cb - n, fmt, va);
    va_end(va);
}

static const char *rcname(int rc)
{
    const char *n = vdc_status_name(rc);
    return n != NULL ? n : "unknown status";
}

/* The backend's name, read safely, for messages. */
static void safe_name(const VDCACHEBACKEND *be, char *buf, size_t cb)
{
    vdc_peek pk;
    snprintf(buf, cb, "(unreadable name)");
    if (!vdc_peek_open(&pk))
        return;
    const char *p = NULL;
    if (vdc_peek_bytes(&pk, &be->pszBackendName, &p, sizeof p) && p != NULL)
        vdc_peek_string(&pk, p, buf, cb, NULL);
    else if (p == NULL)
        snprintf(buf, cb, "(NULL name)");
    vdc_peek_close(&pk);
    for (char *c = buf; *c; c++)
        if (!isprint((unsigned char)*c))
            *c = '?';
}

/* ---- spec parsing ------------------------------------------------------------ */

static bool ends_with_so(const char *s, size_t len)
{
    return len >= 3 && memcmp(s + len - 3, ".so", 3) == 0;
}

static bool is_identifier(const char *s)
{
    if (!(isalpha((unsigned char)*s) || *s == '_'))
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_'))
            return false;
    return true;
}

static int choose_named(const vdc_backend *b, const char *name, char *err, size_t cb_err)
{
    if (name == NULL)
        return VINF_SUCCESS;
    char have[80];
    safe_name(b->be, have, sizeof have);
    if (strcasecmp(have, name) != 0) {
        errf(err, cb_err, "backend '%s' is called '%s', not '%s'", b->spec, have, name);
        return VERR_NOT_FOUND;
    }
    return VINF_SUCCESS;
}

static int load_builtin(const char *spec, const char *name, vdc_backend *out, char *err, size_t cb_err)
{
    out->be = vdc_builtin_find(spec);
    if (out->be == NULL) {
        errf(err, cb_err, "'%s' is not a built-in backend (built-ins:", spec);
        for (size_t i = 0; vdc_builtin_at(i) != NULL; i++)
            errcat(err, cb_err, " %s", vdc_builtin_at(i)->name);
        errcat(err, cb_err, "); a plugin is given as PATH.so or PATH.so:SYMBOL");
        return VERR_NOT_FOUND;
    }
    return choose_named(out, name, err, cb_err);
}

static int load_symbol(void *dl, const char *path, const char *sym, const char *name, vdc_backend *out,
                       char *err, size_t cb_err)
{
    dlerror();
    void *p = dlsym(dl, sym);
    const char *de = dlerror();
    if (de != NULL || p == NULL) {
        errf(err, cb_err, "%s: no symbol '%s' (%s)", path, sym, de != NULL ? de : "it is NULL");
        return VERR_SYMBOL_NOT_FOUND;
    }
    out->be = p;
    return choose_named(out, name, err, cb_err);
}

static int load_plugin(void *dl, const char *path, const char *name, vdc_backend *out, char *err,
                       size_t cb_err)
{
    dlerror();
    void *p = dlsym(dl, VD_PLUGIN_LOAD_NAME);
    const char *de = dlerror();
    if (de != NULL || p == NULL) {
        errf(err, cb_err, "%s: not a VirtualBox plugin: no '%s' entry point (%s)", path, VD_PLUGIN_LOAD_NAME,
             de != NULL ? de : "it is NULL");
        return VERR_SYMBOL_NOT_FOUND;
    }
    PFNVDPLUGINLOAD pfn;
    memcpy(&pfn, &p, sizeof pfn); /* object pointer to function pointer, as dlsym requires */
    vdc_plugin_collect c;
    int rc = vdc_plugin_collect_run(pfn, &c);
    if (RT_FAILURE(rc)) {
        errf(err, cb_err, "%s: %s failed with %s (%d)", path, VD_PLUGIN_LOAD_NAME, rcname(rc), rc);
        return rc;
    }
    if (c.n == 0) {
        if (c.ignored > 0) {
            errf(err, cb_err,
                 "%s: the plugin registered %u cache backend(s) with an incompatible version (last 0x%08x; "
                 "vdcc accepts 0x%08x)",
                 path, c.ignored, (unsigned)c.ignored_version, (unsigned)VD_CACHEBACKEND_VERSION);
            return VERR_VERSION_MISMATCH;
        }
        errf(err, cb_err, "%s: the plugin registered no cache backend (%u image, %u filter backends ignored)", path,
             c.images, c.filters);
        return VERR_NOT_FOUND;
    }
    char nm[80];
    if (name == NULL) {
        if (c.n == 1) {
            out->be = c.be[0];
            return VINF_SUCCESS;
        }
        errf(err, cb_err, "%s: the plugin registered %u cache backends; choose one with --name:", path, c.n);
        for (unsigned i = 0; i < c.n; i++) {
            safe_name(c.be[i], nm, sizeof nm);
            errcat(err, cb_err, " %s", nm);
        }
        return VERR_NOT_FOUND;
    }
    for (unsigned i = 0; i < c.n; i++) {
        safe_name(c.be[i], nm, sizeof nm);
        if (strcasecmp(nm, name) == 0) {
            out->be = c.be[i];
            return VINF_SUCCESS;
        }
    }
    errf(err, cb_err, "%s: no cache backend called '%s' (registered:", path, name);
    for (unsigned i = 0; i < c.n; i++) {
        safe_name(c.be[i], nm, sizeof nm);
        errcat(err, cb_err, " %s", nm);
    }
    errcat(err, cb_err, ")");
    return VERR_NOT_FOUND;
}

int vdc_backend_load(const char *spec, const char *name, vdc_backend *out, char *err, size_t cb_err)
{
    memset(out, 0, sizeof *out);
    if (err != NULL && cb_err > 0)
        err[0] = '\0';
    if (spec == NULL || *spec == '\0') {
        errf(err, cb_err, "empty backend spec");
        return VERR_INVALID_PARAMETER;
    }
    size_t len = strlen(spec);
    if (len >= sizeof out->spec - 2) {
        errf(err, cb_err, "backend spec is too long (%zu bytes)", len);
        return VERR_INVALID_PARAMETER;
    }
    snprintf(out->spec, sizeof out->spec, "%s", spec);

    /* PATH.so:SYM?  The colon must follow a ".so" path. */
    char path[sizeof out->spec];
    const char *sym = NULL;
    const char *colon = strrchr(spec, ':');
    if (colon != NULL && ends_with_so(spec, (size_t)(colon - spec))) {
        sym = colon + 1;
        len = (size_t)(colon - spec);
        if (!is_identifier(sym)) {
            errf(err, cb_err, "'%s': '%s' is not a C symbol name", spec, sym);
            memset(out, 0, sizeof *out);
            return VERR_INVALID_PARAMETER;
        }
    }
    bool is_path = memchr(spec, '/', len) != NULL || ends_with_so(spec, len);
    if (!is_path) {
        int rc = load_builtin(spec, name, out, err, cb_err);
        if (RT_FAILURE(rc))
            memset(out, 0, sizeof *out);
        return rc;
    }
    /* dlopen searches the library path for names without '/': make it local. */
    snprintf(path, sizeof path, "%s%.*s", memchr(spec, '/', len) != NULL ? "" : "./", (int)len, spec);

    dlerror();
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (dl == NULL) {
        const char *de = dlerror();
        errf(err, cb_err, "cannot load '%s': %s", path, de != NULL ? de : "dlopen failed");
        memset(out, 0, sizeof *out);
        return VERR_FILE_NOT_FOUND;
    }
    int rc = sym != NULL ? load_symbol(dl, path, sym, name, out, err, cb_err)
                         : load_plugin(dl, path, name, out, err, cb_err);
    if (RT_FAILURE(rc)) {
        dlclose(dl);
        memset(out, 0, sizeof *out);
        return rc;
    }
    out->dl = dl;
    return VINF_SUCCESS;
}

void vdc_backend_unload(vdc_backend *b)
{
    if (b == NULL)
        return;
    if (b->dl != NULL)
        dlclose(b->dl);
    memset(b, 0, sizeof *b);
}
