/*
 * harness/record/record_plugin.c - VDPluginVdccRecord.so, a VirtualBox plugin that
 * records another plugin's cache backends (record.h, plugin form).
 *
 * VDPluginLoad reads two environment variables:
 *   VDCC_RECORD_PLUGIN  the plugin whose cache backends are recorded
 *   VDCC_RECORD_OUT     the trace file to write (created or truncated)
 * It loads the plugin (dlopen RTLD_NOW | RTLD_LOCAL), collects its cache
 * backends exactly as VD would (backend.h), and registers a recording copy
 * of each, under the same name, with the host.  The trace is flushed after
 * every record, so it survives a VM that dies.  Load only this plugin, not
 * the wrapped one as well, or VD may pick the unwrapped backend by name.
 *
 * When the plugin is unloaded (dlclose, or the process ends) a destructor
 * finishes the trace, closes the file and unloads the wrapped plugin.
 *
 * Returns VINF_SUCCESS, VERR_INVALID_PARAMETER (a variable unset),
 * VERR_FILE_NOT_FOUND (the plugin does not load), VERR_SYMBOL_NOT_FOUND (no
 * VDPluginLoad in it), VERR_NOT_FOUND (it registered no cache backend),
 * VERR_WRITE_ERROR (the output cannot be opened), VERR_NO_MEMORY,
 * VERR_INVALID_STATE (called twice), or the
 * wrapped plugin's or the host's registration status.  Messages go to stderr.
 */
#include "record_plugin.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/backend.h"
#include "record.h"

/* One recording per loaded plugin: VD loads a plugin once. */
static vdc_recorder *g_rec;
static FILE *g_out;
static void *g_inner;

static void record_plugin_unload(void) __attribute__((destructor));
static void record_plugin_unload(void)
{
    if (g_rec != NULL) {
        vdc_recorder_finish(g_rec);
        vdc_recorder_free(g_rec);
    }
    if (g_out != NULL)
        fclose(g_out);
    if (g_inner != NULL)
        dlclose(g_inner);
    g_rec = NULL;
    g_out = NULL;
    g_inner = NULL;
}

int VDPluginLoad(void *pvUser, PVDBACKENDREGISTER pReg)
{
    const char *inner = getenv("VDCC_RECORD_PLUGIN");
    const char *outp = getenv("VDCC_RECORD_OUT");
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
    FILE *out = fopen(outp, "w");
    if (out == NULL) {
        fprintf(stderr, "VDPluginVdccRecord: cannot write %s\n", outp);
        dlclose(dl);
        return VERR_WRITE_ERROR;
    }
    char comment[1024];
    snprintf(comment, sizeof comment, "recorded inside VirtualBox by VDPluginVdccRecord from %s", inner);
    vdc_recorder_opts ro = { .out = out, .name = "vbox-recording", .comment = comment };
    vdc_recorder *rec = NULL;
    rc = vdc_recorder_start(&ro, &rec);
    if (rc < 0) {
        fclose(out);
        dlclose(dl);
        return rc;
    }
    /* From here on the plugin, the recorder and the file live until this
     * plugin is unloaded: VD keeps pointers to the registered vtables. */
    g_rec = rec;
    g_out = out;
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
