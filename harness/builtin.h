/*
 * harness/builtin.h - the cache backends linked into vdcc.
 *
 * "ref" (the reference VCI backend, ref/ref.h) when the build provides it
 * (VDCC_HAVE_REF), and "toy" (harness/tests/backends/toy.c), a second, much
 * simpler correct backend.  The table is constant.
 */
#ifndef VDCC_HARNESS_BUILTIN_H
#define VDCC_HARNESS_BUILTIN_H

#include <stddef.h>

#include "../spec/vdcache.h"

typedef struct vdc_builtin {
    const char           *name; /* what --backend accepts */
    const VDCACHEBACKEND *be;
} vdc_builtin;

/* Entry i (0-based), or NULL past the end. */
const vdc_builtin *vdc_builtin_at(size_t i);
/* The built-in called name (exact match), or NULL. */
const VDCACHEBACKEND *vdc_builtin_find(const char *name);

#endif /* VDCC_HARNESS_BUILTIN_H */
