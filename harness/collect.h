/*
 * harness/collect.h - what vdcc collects before it runs: the cache backends
 * a plugin registers, and the trace files named on a command line.
 *
 * Plugins: calling a plugin's entry point the way VD does.
 *
 * vdc_plugin_collect_run calls a plugin's VDPluginLoad with a
 * VDBACKENDREGISTER (version VD_BACKENDREG_CB_VERSION) whose pvUser is *c.
 * Its cache callback behaves like VD's (spec/vbox-behaviour.md section 6): a
 * backend whose u32Version VD_VERSION_ARE_COMPATIBLE accepts is kept by
 * pointer (no copy) and answered VINF_SUCCESS, even when the table is full
 * (then counted in `dropped`); an incompatible one is answered VERR_IGNORED;
 * a NULL or unreadable pointer VERR_INVALID_POINTER.  Image and filter
 * registrations are counted and answered VINF_SUCCESS.  Used by
 * backend.c (vdcc --backend PATH.so) and by the recording plugin.
 */
#ifndef VDCC_HARNESS_COLLECT_H
#define VDCC_HARNESS_COLLECT_H

#include "../spec/vdcache.h"

#define VDC_PLUGIN_MAX_CACHE 32 /* cache backends one plugin may register */

typedef struct vdc_plugin_collect {
    const VDCACHEBACKEND *be[VDC_PLUGIN_MAX_CACHE];
    unsigned              n;
    unsigned              ignored;         /* incompatible versions */
    uint32_t              ignored_version; /* the last one seen */
    unsigned              dropped;         /* beyond VDC_PLUGIN_MAX_CACHE, or NULL */
    unsigned              images, filters; /* other registrations, ignored */
} vdc_plugin_collect;

/* Returns VDPluginLoad's status; *c is reset first. */
int vdc_plugin_collect_run(PFNVDPLUGINLOAD pfnLoad, vdc_plugin_collect *c);

/*
 * Traces: every command that takes TRACE operands (conform, replay) takes
 * directories too, through vdc_trace_list_add: a file is taken as it is, a
 * directory contributes its *.trace files (not starting with '.'), sorted
 * by name.  At most VDC_TRACE_LIST_MAX paths.
 */
#define VDC_TRACE_LIST_MAX 1000000u

typedef struct vdc_trace_list {
    char   **v;
    unsigned n, cap;
} vdc_trace_list;

/* Adds path (or its directory's traces) to l.  On failure writes
 * "PATH: reason" (missing, an unreadable directory, a directory without
 * traces, a path too long, too many traces, out of memory) into err[0..cb)
 * and returns false. */
bool vdc_trace_list_add(vdc_trace_list *l, const char *path, char *err, size_t cb);
void vdc_trace_list_free(vdc_trace_list *l);

#endif /* VDCC_HARNESS_COLLECT_H */
