/*
 * harness/backend.h - finding the VDCACHEBACKEND a vdcc command works on.
 *
 * A backend SPEC is one of:
 *   NAME          a backend built into vdcc (builtin.h): "ref", "toy";
 *   PATH.so       a VirtualBox plugin: dlopen(RTLD_NOW | RTLD_LOCAL), resolve
 *                 VDPluginLoad and call it with vdcc's VDBACKENDREGISTER; the
 *                 cache backends it registers are collected (image and filter
 *                 registrations are accepted and ignored) and one is chosen:
 *                 the only one, or the one named by `name` (case-insensitive,
 *                 as VD matches names);
 *   PATH.so:SYM   dlsym(SYM) in that shared object, taken as a VDCACHEBACKEND.
 * A SPEC containing '/' or ending in ".so" (before an optional ":SYM") is a
 * path; a path without '/' is looked up in the current directory.
 *
 * The registration callback behaves like VD's (collect.h): it accepts a
 * cache backend when VD_VERSION_ARE_COMPATIBLE(VD_CACHEBACKEND_VERSION,
 * be->u32Version) and keeps the pointer (no copy); otherwise it answers
 * VERR_IGNORED.
 *
 * Trial load: before a PATH.so or PATH.so:SYM is loaded into vdcc, a forked
 * child (its own process group, stdin/stdout on /dev/null, stderr captured)
 * dlopens it and resolves SYM or calls VDPluginLoad.  When that child dies
 * from a signal, reports a sanitizer error (e.g. "AddressSanitizer: SEGV"),
 * exits unexpectedly, or has not finished within the load timeout (then its
 * process group is killed), the backend is refused with a message such as
 *   PATH: the plugin crashed while loading (SIGSEGV)
 *   PATH: the plugin hung while loading (killed after 10 s)
 * and vdcc lives on.  Only after a clean trial (whether VDPluginLoad
 * succeeded or failed cleanly) is the plugin loaded in-process; a clean
 * failure is then reported exactly as it is in-process.  A plugin that
 * behaves differently on the second load is beyond this promise.
 *
 * Environment: VDCC_LOAD_TIMEOUT=SECONDS (whole seconds, 1..3600; default
 * 10) bounds the trial load.  (Documented here because the --help text,
 * vdc_backend_help, lives in cmd_lint.c.)
 *
 * Errors are reported as text, never by crashing.
 */
#ifndef VDCC_HARNESS_BACKEND_H
#define VDCC_HARNESS_BACKEND_H

#include <stddef.h>

#include "../spec/vdcache.h"
#include "collect.h"

typedef struct vdc_backend {
    const VDCACHEBACKEND *be;   /* the chosen backend */
    void                 *dl;   /* dlopen handle, or NULL for a built-in */
    char                  spec[1024]; /* the SPEC as given (for messages, rerun commands) */
} vdc_backend;

/*
 * Loads spec into *out.  name: choose among several plugin backends (NULL:
 * there must be exactly one); for built-ins and :SYM it must match the
 * backend's name when given.  On failure *out is left empty, err holds one
 * or more lines explaining why, and the status is one of:
 *   VERR_INVALID_PARAMETER  empty or over-long spec, bad :SYM
 *   VERR_NOT_FOUND          unknown built-in, no backend called `name`,
 *                           several backends and no name, none registered
 *   VERR_FILE_NOT_FOUND     dlopen failed (err has dlerror's text)
 *   VERR_SYMBOL_NOT_FOUND   VDPluginLoad or SYM missing
 *   VERR_VERSION_MISMATCH   every cache backend registered had an
 *                           incompatible version
 *   VERR_GENERAL_FAILURE    the trial load crashed, hung, exited with an
 *                           unexpected status, or could not be forked
 *   VERR_INVALID_PARAMETER  also: VDCC_LOAD_TIMEOUT is not 1..3600
 *   any failure VDPluginLoad returned.
 * Returns VINF_SUCCESS on success.
 */
int vdc_backend_load(const char *spec, const char *name, vdc_backend *out, char *err, size_t cb_err);

/* Forgets the backend; dlcloses a plugin (do not use b->be afterwards). */
void vdc_backend_unload(vdc_backend *b);

#endif /* VDCC_HARNESS_BACKEND_H */
