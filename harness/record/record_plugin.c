/*
 * harness/record/record_plugin.c - VDPluginVdccRecord.so, a VirtualBox plugin that
 * records another plugin's cache backends (record.h, plugin form).
 *
 * VDPluginLoad reads these environment variables:
 *   VDCC_RECORD_PLUGIN  the plugin whose cache backends are recorded
 *   VDCC_RECORD_OUT     where the trace goes: a directory (an existing one,
 *                       or any path ending in '/'), which gets one file per
 *                       process named vdcc-YYYYMMDDTHHMMSSZ-PID.trace; or a
 *                       file name, in which every "%p" becomes the pid
 *   VDCC_RECORD_IMAGES  none, meta (default) or full: how much of an image
 *                       that predates the recording is kept (record.h)
 * It loads the plugin (dlopen RTLD_NOW | RTLD_LOCAL), collects its cache
 * backends exactly as VD would (collect.h), and registers a recording copy
 * of each, under the same name, with the host.  Load only this plugin, not
 * the wrapped one as well, or VD may pick the unwrapped backend by name.
 *
 * One trace per process: VirtualBox loads plugins in every process that
 * opens media, so the trace file is created only when the process makes
 * its first cache call (a process that never does leaves no file), with
 * O_EXCL: an existing file is never appended to or replaced.  In a
 * directory the next free name is taken (-2, -3, ...); a named file that
 * exists is refused with a message on stderr (the calls still reach the
 * backend, unrecorded).  The trace's first comment names the process, the
 * wrapped plugin and its backends (spec/trace-format.md section 12.1).
 * The trace is flushed after every record, so it survives a VM that dies;
 * images kept by VDCC_RECORD_IMAGES go to sidecar files next to it.
 *
 * When the plugin is unloaded (dlclose, or the process ends) a destructor
 * finishes the trace, closes the file and unloads the wrapped plugin.
 *
 * Returns VINF_SUCCESS, VERR_INVALID_PARAMETER (a variable unset or
 * invalid), VERR_FILE_NOT_FOUND (the plugin does not load),
 * VERR_SYMBOL_NOT_FOUND (no VDPluginLoad in it), VERR_NOT_FOUND (it
 * registered no cache backend), VERR_NO_MEMORY, VERR_INVALID_STATE (called
 * twice), or the wrapped plugin's or the host's registration status.
 * Messages go to stderr.
 */
#include "record_plugin.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness/collect.h"
#include "record.h"

#define OUT_MAX 4096

/* One recording per loaded plugin: VD loads a plugin once. */
static vdc_recorder *g_rec;
static void *g_inner;
static char g_outspec[OUT_MAX];  /* VDCC_RECORD_OUT as given */
static char g_comment[2048];     /* the provenance comment */

static void record_plugin_unload(void) __attribute__((destructor));
static void record_plugin_unload(void)
{
    if (g_rec != NULL) {
        vdc_recorder_finish(g_rec);
        vdc_recorder_free(g_rec); /* closes the trace it opened */
    }
    if (g_inner != NULL)
        dlclose(g_inner);
    g_rec = NULL;
    g_inner = NULL;
}

/* spec with every "%p" replaced by pid, into out[0..cb); false when too long. */
static bool expand_pid(const char *spec, long pid, char *out, size_t cb)
{
    size_t o = 0;
    for (const char *p = spec; *p != '\0'; p++) {
        int n;
        if (p[0] == '%' && p[1] == 'p') {
            n = snprintf(out + o, cb - o, "%ld", pid);
            p++;
        } else {
            n = snprintf(out + o, cb - o, "%c", *p);
        }
        if (n < 0 || (size_t)n >= cb - o)
            return false;
        o += (size_t)n;
    }
    return true;
}

static FILE *create_excl(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "w");
    if (f == NULL)
        close(fd);
    return f;
}

/* The recorder's open_out: creates this process's trace (never an existing
 * file) and says where it is. */
static FILE *open_trace(void *user, char *path, size_t cb)
{
    (void)user;
    long pid = (long)getpid();
    size_t n = strlen(g_outspec);
    struct stat st;
    bool dir = (n > 0 && g_outspec[n - 1] == '/') || (stat(g_outspec, &st) == 0 && S_ISDIR(st.st_mode));
    if (!dir) {
        FILE *f = NULL;
        if (!expand_pid(g_outspec, pid, path, cb))
            fprintf(stderr, "VDPluginVdccRecord: VDCC_RECORD_OUT is too long\n");
        else if ((f = create_excl(path)) == NULL && errno == EEXIST)
            fprintf(stderr,
                    "VDPluginVdccRecord: %s exists, and a recording never appends to a trace: this process "
                    "(pid %ld) is not recorded.  Remove the file, or set VDCC_RECORD_OUT to a directory or to "
                    "a name with %%p (the pid)\n",
                    path, pid);
        else if (f == NULL)
            fprintf(stderr, "VDPluginVdccRecord: cannot create %s: %s\n", path, strerror(errno));
        return f;
    }
    if (mkdir(g_outspec, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "VDPluginVdccRecord: cannot create the directory %s: %s\n", g_outspec, strerror(errno));
        return NULL;
    }
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm) == NULL || strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm) == 0)
        snprintf(stamp, sizeof stamp, "t%lld", (long long)now);
    while (n > 1 && g_outspec[n - 1] == '/')
        n--;
    for (unsigned k = 1; k <= 100; k++) {
        char sfx[16] = "";
        if (k > 1)
            snprintf(sfx, sizeof sfx, "-%u", k);
        int w = snprintf(path, cb, "%.*s/vdcc-%s-%ld%s.trace", (int)n, g_outspec, stamp, pid, sfx);
        if (w < 0 || (size_t)w >= cb) {
            fprintf(stderr, "VDPluginVdccRecord: VDCC_RECORD_OUT is too long\n");
            return NULL;
        }
        FILE *f = create_excl(path);
        if (f != NULL || errno != EEXIST) {
            if (f == NULL)
                fprintf(stderr, "VDPluginVdccRecord: cannot create %s: %s\n", path, strerror(errno));
            return f;
        }
    }
    fprintf(stderr, "VDPluginVdccRecord: no free trace name in %s\n", g_outspec);
    return NULL;
}

/* The provenance comment (spec/trace-format.md section 12.1). */
static void make_comment(const char *inner, const vdc_plugin_collect *c, const char *images)
{
    char exe[1024];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[k > 0 ? (size_t)k : 0] = '\0';
    size_t o = 0;
    int n = snprintf(g_comment, sizeof g_comment, "recorded-by VDPluginVdccRecord pid=%ld exe=%s plugin=%s images=%s backends=",
                     (long)getpid(), k > 0 ? exe : "?", inner, images);
    o = n > 0 && (size_t)n < sizeof g_comment ? (size_t)n : 0;
    for (unsigned i = 0; i < c->n && o < sizeof g_comment; i++) {
        const char *name = c->be[i]->pszBackendName != NULL ? c->be[i]->pszBackendName : "?";
        n = snprintf(g_comment + o, sizeof g_comment - o, "%s%.64s", i > 0 ? "," : "", name);
        if (n < 0 || (size_t)n >= sizeof g_comment - o)
            break;
        o += (size_t)n;
    }
}

int VDPluginLoad(void *pvUser, PVDBACKENDREGISTER pReg)
{
    const char *inner = getenv("VDCC_RECORD_PLUGIN");
    const char *outp = getenv("VDCC_RECORD_OUT");
    const char *images = getenv("VDCC_RECORD_IMAGES");
    if (pReg == NULL || pReg->pfnRegisterCache == NULL)
        return VERR_INVALID_PARAMETER;
    if (g_rec != NULL) {
        fprintf(stderr, "VDPluginVdccRecord: already loaded\n");
        return VERR_INVALID_STATE;
    }
    if (inner == NULL || *inner == '\0' || outp == NULL || *outp == '\0') {
        fprintf(stderr, "VDPluginVdccRecord: set VDCC_RECORD_PLUGIN and VDCC_RECORD_OUT\n");
        return VERR_INVALID_PARAMETER;
    }
    if (strlen(outp) >= sizeof g_outspec - 64) {
        fprintf(stderr, "VDPluginVdccRecord: VDCC_RECORD_OUT is too long\n");
        return VERR_INVALID_PARAMETER;
    }
    vdc_record_images mode = VDC_RECORD_IMAGES_META;
    if (images != NULL && *images != '\0' && vdc_record_images_parse(images, &mode) < 0) {
        fprintf(stderr, "VDPluginVdccRecord: VDCC_RECORD_IMAGES='%s': wanted none, meta or full\n", images);
        return VERR_INVALID_PARAMETER;
    }
    void *dl = dlopen(inner, RTLD_NOW | RTLD_LOCAL);
    if (dl == NULL) {
        const char *e = dlerror();
        fprintf(stderr, "VDPluginVdccRecord: cannot load %s: %s\n", inner, e != NULL ? e : "?");
        return VERR_FILE_NOT_FOUND;
    }
    void *sym = dlsym(dl, VD_PLUGIN_LOAD_NAME);
    if (sym == NULL) {
        fprintf(stderr, "VDPluginVdccRecord: %s has no %s\n", inner, VD_PLUGIN_LOAD_NAME);
        dlclose(dl);
        return VERR_SYMBOL_NOT_FOUND;
    }
    PFNVDPLUGINLOAD load;
    memcpy(&load, &sym, sizeof load);
    vdc_plugin_collect c;
    int rc = vdc_plugin_collect_run(load, &c);
    if (rc < 0 || c.n == 0) {
        fprintf(stderr, "VDPluginVdccRecord: %s registered no usable cache backend (status %d)\n", inner, rc);
        dlclose(dl);
        return rc < 0 ? rc : VERR_NOT_FOUND;
    }
    memcpy(g_outspec, outp, strlen(outp) + 1);
    make_comment(inner, &c, vdc_record_images_name(mode));
    vdc_recorder_opts ro = {
        .open_out = open_trace, .name = "vbox-recording", .comment = g_comment, .images = mode,
    };
    vdc_recorder *rec = NULL;
    rc = vdc_recorder_start(&ro, &rec);
    if (rc < 0) {
        dlclose(dl);
        return rc;
    }
    /* From here on the plugin and the recorder live until this plugin is
     * unloaded: VD keeps pointers to the registered vtables. */
    g_rec = rec;
    g_inner = dl;
    unsigned registered = 0;
    for (unsigned i = 0; i < c.n; i++) {
        const VDCACHEBACKEND *w = NULL;
        rc = vdc_recorder_wrap(rec, c.be[i], &w);
        if (rc >= 0)
            rc = pReg->pfnRegisterCache(pvUser, w);
        if (rc >= 0)
            registered++;
        else
            fprintf(stderr, "VDPluginVdccRecord: backend %u of %s not registered (status %d)\n", i, inner, rc);
    }
    return registered > 0 ? VINF_SUCCESS : rc;
}
