/*
 * harness/backend.c - loads the backend a SPEC names: built-in, plugin, or
 * plugin symbol.  Contract and status codes: backend.h; plugins are called
 * through collect.h, whose callbacks behave as VD's do (spec/vbox-behaviour.md
 * section 6).  The only state is the caller's vdc_backend.
 *
 * A plugin is first loaded in a forked child (trial_load, through
 * harness/core/isolate.h): dlopen, resolve, call VDPluginLoad, exit.  Only when that child exits cleanly is the plugin
 * loaded into vdcc itself, so a plugin whose constructor or entry point
 * crashes or hangs is refused (VERR_GENERAL_FAILURE) instead of taking vdcc
 * down.  The child's stderr is captured: under a sanitizer a SEGV becomes a
 * report and a non-zero exit, which is classified as a crash too.
 */
#include "backend.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "builtin.h"
#include "core/isolate.h"
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

/* ---- trial load in a child ---------------------------------------------------- */

#define TRIAL_DEFAULT_TIMEOUT 10u   /* seconds */
#define TRIAL_MAX_TIMEOUT     3600u
#define TRIAL_EXIT_OK         0     /* loaded, entry point returned */
#define TRIAL_EXIT_CLEAN_FAIL 3     /* dlopen/dlsym failed or VDPluginLoad failed */
#define TRIAL_ERR_KEEP        4096u /* bytes of the child's stderr kept */

/* VDCC_LOAD_TIMEOUT: whole seconds in [1, TRIAL_MAX_TIMEOUT]; default 10. */
static int trial_timeout(unsigned *secs, char *err, size_t cb_err)
{
    const char *e = getenv("VDCC_LOAD_TIMEOUT");
    *secs = TRIAL_DEFAULT_TIMEOUT;
    if (e == NULL || *e == '\0')
        return VINF_SUCCESS;
    unsigned long v = 0;
    const char *c = e;
    for (; *c >= '0' && *c <= '9' && v <= TRIAL_MAX_TIMEOUT; c++)
        v = v * 10 + (unsigned long)(*c - '0');
    if (*c != '\0' || v == 0 || v > TRIAL_MAX_TIMEOUT) {
        errf(err, cb_err, "VDCC_LOAD_TIMEOUT='%.40s': wanted whole seconds from 1 to %u", e, TRIAL_MAX_TIMEOUT);
        return VERR_INVALID_PARAMETER;
    }
    *secs = (unsigned)v;
    return VINF_SUCCESS;
}

typedef struct trial_ctx {
    const char *path, *sym;
} trial_ctx;

/* The child (harness/core/isolate.h runs it with stdout and stderr captured):
 * returns its exit status.  Only stderr is wanted: stdout and stdin are
 * /dev/null. */
static int trial_child(void *p)
{
    const trial_ctx *t = p;
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
        dup2(devnull, 0);
        dup2(devnull, 1);
        close(devnull);
    }
    void *dl = dlopen(t->path, RTLD_NOW | RTLD_LOCAL);
    if (dl == NULL)
        return TRIAL_EXIT_CLEAN_FAIL;
    void *sp = dlsym(dl, t->sym != NULL ? t->sym : VD_PLUGIN_LOAD_NAME);
    if (sp == NULL)
        return TRIAL_EXIT_CLEAN_FAIL;
    if (t->sym != NULL)
        return TRIAL_EXIT_OK;
    PFNVDPLUGINLOAD pfn;
    memcpy(&pfn, &sp, sizeof pfn);
    vdc_plugin_collect c;
    return RT_FAILURE(vdc_plugin_collect_run(pfn, &c)) ? TRIAL_EXIT_CLEAN_FAIL : TRIAL_EXIT_OK;
}

/*
 * The first line of buf (NUL-terminated) holding needle, into line[0..cb),
 * from the needle on (from_needle) or whole.
 */
static bool find_line(const char *buf, const char *needle, bool from_needle, char *line, size_t cb)
{
    const char *hit = strstr(buf, needle);
    if (hit == NULL)
        return false;
    const char *start = hit;
    while (!from_needle && start > buf && start[-1] != '\n')
        start--;
    size_t n = strcspn(start, "\n");
    if (n >= cb)
        n = cb - 1;
    memcpy(line, start, n);
    line[n] = '\0';
    for (char *c = line; *c; c++)
        if (!isprint((unsigned char)*c))
            *c = '?';
    return true;
}

/* A sanitizer's report of a fatal error in buf, as one line. */
static bool sanitizer_report(const char *buf, char *line, size_t cb)
{
    /* "AddressSanitizer:DEADLYSIGNAL" comes first; the report line has a space. */
    static const char *const reports[] = { "AddressSanitizer: ", "MemorySanitizer: ", "LeakSanitizer: ",
                                           "UndefinedBehaviorSanitizer: " };
    for (size_t i = 0; i < sizeof reports / sizeof reports[0]; i++)
        if (find_line(buf, reports[i], true, line, cb))
            return true;
    return find_line(buf, "runtime error: ", false, line, cb);
}

/*
 * Loads path (and sym, or calls VDPluginLoad) in a forked child with a time
 * limit.  Returns VINF_SUCCESS when the child exited with TRIAL_EXIT_OK or
 * TRIAL_EXIT_CLEAN_FAIL (a clean failure is reproduced, and explained, by
 * the in-process load); VERR_GENERAL_FAILURE (err says why) when it crashed,
 * hung, exited otherwise, or could not be started; VERR_INVALID_PARAMETER
 * for a bad VDCC_LOAD_TIMEOUT.
 */
static int trial_load(const char *path, const char *sym, char *err, size_t cb_err)
{
    unsigned secs;
    int rc = trial_timeout(&secs, err, cb_err);
    if (RT_FAILURE(rc))
        return rc;
    char buf[TRIAL_ERR_KEEP + 1];
    trial_ctx tc = { path, sym };
    vdc_iso_opts io = { .flags = VDC_ISO_PDEATHSIG, /* vdcc killed: the trial goes too */
                        .deadline_ms = (uint64_t)secs * 1000u, .capture = buf, .cb_capture = sizeof buf };
    vdc_iso_result ir;
    if (vdc_iso_run(trial_child, &tc, &io, &ir) != VINF_SUCCESS) {
        errf(err, cb_err, "%s: cannot try the plugin in a child: %s", path, strerror(errno));
        return VERR_GENERAL_FAILURE;
    }
    if (ir.end == VDC_ISO_TIMEOUT) {
        errf(err, cb_err, "%s: the plugin hung while loading (killed after %u s)", path, secs);
        return VERR_GENERAL_FAILURE;
    }
    int status = ir.status;

    char line[200];
    if (WIFSIGNALED(status)) {
        const char *abbrev = sigabbrev_np(WTERMSIG(status));
        if (abbrev != NULL)
            errf(err, cb_err, "%s: the plugin crashed while loading (SIG%s)", path, abbrev);
        else
            errf(err, cb_err, "%s: the plugin crashed while loading (signal %d)", path, WTERMSIG(status));
        return VERR_GENERAL_FAILURE;
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (code == TRIAL_EXIT_OK || code == TRIAL_EXIT_CLEAN_FAIL)
        return VINF_SUCCESS;
    if (sanitizer_report(buf, line, sizeof line)) {
        errf(err, cb_err, "%s: the plugin crashed while loading (%s)", path, line);
        return VERR_GENERAL_FAILURE;
    }
    errf(err, cb_err, "%s: the plugin exited with status %d while loading", path, code);
    return VERR_GENERAL_FAILURE;
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

    int rc = trial_load(path, sym, err, cb_err);
    if (RT_FAILURE(rc)) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    dlerror();
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (dl == NULL) {
        const char *de = dlerror();
        errf(err, cb_err, "cannot load '%s': %s", path, de != NULL ? de : "dlopen failed");
        memset(out, 0, sizeof *out);
        return VERR_FILE_NOT_FOUND;
    }
    rc = sym != NULL ? load_symbol(dl, path, sym, name, out, err, cb_err)
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
